/* Choice between the portable and the AVX2 code of ML-KEM, made once per
 * process: AVX2 when the CPU has it (and the OS saves ymm state, which
 * __builtin_cpu_supports checks), unless DYBERVPN_NO_AVX2 is set, which
 * lets the tests run the portable path on the same machine. The *_avx2.c
 * files are built with -mavx2 -mbmi2 -mpopcnt, so all three are required. */
#include "crypto/mlkem_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

int mlkem_use_avx2(void)
{
	/* -1 until decided; a race only decides twice, the same way. */
	static atomic_int use = -1;
	int v = atomic_load_explicit(&use, memory_order_relaxed);

	if (v < 0) {
		const char *off = getenv("DYBERVPN_NO_AVX2");

		v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
		    __builtin_cpu_supports("popcnt") && !(off && strcmp(off, "0"));
		atomic_store_explicit(&use, v, memory_order_relaxed);
	}
	return v;
}
