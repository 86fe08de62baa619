/* Run-time choice between the portable and the AVX2 code of the crypto
 * (ML-KEM, ML-DSA and the four-way Keccak they share). */
#ifndef DV_CRYPTO_CPU_H
#define DV_CRYPTO_CPU_H

#include <stdbool.h>

/* true when the *_avx2.c code may run: the CPU has AVX2, BMI2 and POPCNT
 * (those files are built with -mavx2 -mbmi2 -mpopcnt) and the OS saves
 * the ymm registers, and DYBERVPN_NO_AVX2 is unset or "0" (any other
 * value forces the portable code, so the tests can run both on one
 * machine). Decided once per process. */
bool dv_cpu_avx2(void);

#endif
