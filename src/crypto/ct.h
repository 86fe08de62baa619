/* Constant-time helpers and secret marking, shared by all crypto code.
 * No function here branches on or indexes by its secret arguments. */
#ifndef DV_CRYPTO_CT_H
#define DV_CRYPTO_CT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef DV_CT_CHECK
#include <valgrind/memcheck.h>
/* In the constant-time check build, secrets are "undefined" to memcheck, so
 * a branch or a table index that depends on them is reported. */
#define CT_SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define CT_PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#else
#define CT_SECRET(p, n) ((void)(p), (void)(n))
#define CT_PUBLIC(p, n) ((void)(p), (void)(n))
#endif

/* Declassify, from inside library code, a value that is public by
 * construction although computed from secrets (ML-KEM's rho, the ek inside
 * a dk, the result of a key check). The library is not rebuilt for the
 * constant-time check (only the tests/ct programs get DV_CT_CHECK), so
 * this always issues memcheck's client request when the header exists:
 * outside valgrind that is a few no-op instructions. */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DV_CT_HAVE_MEMCHECK 1
#endif
#endif

static inline void ct_declassify(const void *p, size_t n)
{
#ifdef DV_CT_HAVE_MEMCHECK
	(void)VALGRIND_MAKE_MEM_DEFINED(p, n);
#else
	(void)p;
	(void)n;
#endif
}

/* Hide a value from the optimiser so it cannot turn masks back into branches. */
static inline uint32_t ct_barrier_u32(uint32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* 0 when equal, 1 otherwise. */
static inline int ct_memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	uint32_t d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (uint32_t)(x[i] ^ y[i]);
	return (int)((ct_barrier_u32(d) + 0xffu) >> 8 & 1);
}

/* r = b ? x : r, for b in {0, 1}. */
static inline void ct_cmov(uint8_t *r, const uint8_t *x, size_t n, uint8_t b)
{
	uint8_t m = (uint8_t)-(uint8_t)ct_barrier_u32(b);

	for (size_t i = 0; i < n; i++)
		r[i] ^= m & (r[i] ^ x[i]);
}

/* Wipe memory in a way the compiler may not elide (as Linux's
 * memzero_explicit): memset at full speed, then a barrier that makes the
 * zeroed memory observable, so the stores cannot be dropped as dead. */
static inline void ct_wipe(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

#endif
