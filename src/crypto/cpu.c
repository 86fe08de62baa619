/* CPU feature detection for crypto/cpu.h. */
#include "crypto/cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

bool dv_cpu_avx2(void)
{
	/* -1 until decided; a race between first callers only decides twice,
	 * the same way. */
	static atomic_int use = -1;
	int v = atomic_load_explicit(&use, memory_order_relaxed);

	if (v < 0) {
		const char *off = getenv("DYBERVPN_NO_AVX2");

		v = 0;
#if defined(__x86_64__)
		/* __builtin_cpu_supports("avx2") also checks that the OS
		 * enabled the ymm state (OSXSAVE/XGETBV). */
		v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi2") &&
		    __builtin_cpu_supports("popcnt");
#endif
		v = v && !(off && strcmp(off, "0"));
		atomic_store_explicit(&use, v, memory_order_relaxed);
	}
	return v;
}
