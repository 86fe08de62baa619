/* ML-DSA-65 internals shared by the mldsa_*.c files: parameters, the
 * polynomial types, arithmetic (mldsa_ntt.c, mldsa_poly.c), sampling
 * (mldsa_sample.c) and encodings (mldsa_pack.c). Not a public API. */
#ifndef DV_CRYPTO_MLDSA_POLY_H
#define DV_CRYPTO_MLDSA_POLY_H

#include <stddef.h>
#include <stdint.h>

/* FIPS 204, Table 1 (ML-DSA-65) and Section 2.5. */
#define MLDSA_N 256
#define MLDSA_Q 8380417
#define MLDSA_D 13
#define MLDSA_K 6
#define MLDSA_L 5
#define MLDSA_ETA 4
#define MLDSA_TAU 49
#define MLDSA_BETA (MLDSA_TAU * MLDSA_ETA)
#define MLDSA_GAMMA1 (1 << 19)
#define MLDSA_GAMMA2 ((MLDSA_Q - 1) / 32)
#define MLDSA_OMEGA 55
#define MLDSA_CTILDE_LEN 48 /* lambda / 4 */
#define MLDSA_TR_LEN 64

/* Encoded sizes in bytes (FIPS 204, Section 7.2). */
#define MLDSA_T1_POLY_LEN 320   /* 10 bits per coefficient */
#define MLDSA_T0_POLY_LEN 416   /* 13 bits */
#define MLDSA_ETA_POLY_LEN 128  /* 4 bits */
#define MLDSA_Z_POLY_LEN 640    /* 20 bits */
#define MLDSA_W1_POLY_LEN 128   /* 4 bits */
#define MLDSA_W1_LEN (MLDSA_K * MLDSA_W1_POLY_LEN)
#define MLDSA_MASK_BYTES MLDSA_Z_POLY_LEN

struct mldsa_poly {
	int32_t c[MLDSA_N];
};

struct mldsa_polyvecl {
	struct mldsa_poly v[MLDSA_L];
};

struct mldsa_polyveck {
	struct mldsa_poly v[MLDSA_K];
};

/* The matrix A, kept in the NTT domain (A-hat). */
struct mldsa_matrix {
	struct mldsa_polyvecl row[MLDSA_K];
};

#define MLDSA_QINV 58728449 /* q^-1 mod 2^32 */

/* For |a| < 2^31 * q, returns r = a * 2^-32 mod q with |r| < q. */
static inline int32_t mldsa_mont_reduce(int64_t a)
{
	int32_t t = (int32_t)(uint32_t)((uint64_t)a * (uint32_t)MLDSA_QINV);

	return (int32_t)((a - (int64_t)t * MLDSA_Q) >> 32);
}

/* For a <= 2^31 - 2^22 - 1, returns r = a mod q in [-6283009, 6283007]. */
static inline int32_t mldsa_reduce32(int32_t a)
{
	int32_t t = (a + (1 << 22)) >> 23;

	return a - t * MLDSA_Q;
}

/* mldsa_ntt.c: the transforms, with Montgomery factor 2^32. mldsa_ntt and
 * mldsa_invntt_tomont use the AVX2 versions (mldsa_avx2.c) when
 * dv_cpu_avx2() (crypto/cpu.h). Both paths give the same values mod q
 * within the same bounds (the portable ones may pick other representatives)
 * and every later step reduces, so keys and signatures are identical. */
extern const int32_t mldsa_zetas[MLDSA_N];
void mldsa_ntt(struct mldsa_poly *p);
void mldsa_invntt_tomont(struct mldsa_poly *p);
void mldsa_ntt_c(struct mldsa_poly *p);
void mldsa_invntt_tomont_c(struct mldsa_poly *p);
#if defined(__x86_64__)
void mldsa_ntt_avx2(struct mldsa_poly *p);
void mldsa_invntt_tomont_avx2(struct mldsa_poly *p);
#endif

/* mldsa_poly.c: coefficient-wise operations, all constant time. */
void mldsa_poly_add(struct mldsa_poly *r, const struct mldsa_poly *a,
		    const struct mldsa_poly *b);
void mldsa_poly_sub(struct mldsa_poly *r, const struct mldsa_poly *a,
		    const struct mldsa_poly *b);
void mldsa_poly_shiftl(struct mldsa_poly *p);
void mldsa_poly_reduce(struct mldsa_poly *p);
/* Maps every coefficient to its representative in [0, q). */
void mldsa_poly_freeze(struct mldsa_poly *p);
/* r = sum_j a[j] o b[j] * 2^-32 (NTT domain), a in [0, q), |b| < 9q. */
void mldsa_polyvecl_dot(struct mldsa_poly *r, const struct mldsa_polyvecl *a,
			const struct mldsa_polyvecl *b);
/* s extended negacyclically: c[i] = -s[i], c[N + i] = s[i], so that
 * X^p * s = the 256 entries from N - p on. Scratch for the product below. */
struct mldsa_poly_ext {
	union {
		int32_t c[2 * MLDSA_N];
		struct { /* the 16-bit form of the small products */
			int16_t h[2 * MLDSA_N];
			int16_t acc[MLDSA_N];
		};
	};
};

/* The challenge c (public) as the offsets N - p of its nonzero positions
 * p into a mldsa_poly_ext: off[0, nplus) where c_p = 1, off[nplus, n)
 * where c_p = -1. */
struct mldsa_challenge {
	uint16_t off[MLDSA_TAU + 1]; /* one spare for the branch-free scan */
	unsigned nplus, n;
};

void mldsa_challenge_prepare(struct mldsa_challenge *ch, const struct mldsa_poly *c);
/* r = c * s in Z[X] / (X^256 + 1), exact (no reduction). s may be secret
 * (its copy in `ext` is then secret too, for the caller to wipe). */
void mldsa_poly_mul_challenge(struct mldsa_poly *restrict r, const struct mldsa_challenge *c,
			      const struct mldsa_poly *s, struct mldsa_poly_ext *restrict ext);
/* The same for |s| <= 512 (s1, s2), in 16-bit lanes on the portable path,
 * from s16 = the 16-bit extension of s made once by mldsa_poly_ext16 (on
 * the AVX2 path that is skipped and s is used); ext is scratch. */
struct mldsa_poly_ext16 {
	int16_t h[2 * MLDSA_N];
};

void mldsa_poly_ext16(struct mldsa_poly_ext16 *s16, const struct mldsa_poly *s);
void mldsa_poly_mul_challenge_small(struct mldsa_poly *restrict r,
				    const struct mldsa_challenge *c, const struct mldsa_poly *s,
				    const struct mldsa_poly_ext16 *s16,
				    struct mldsa_poly_ext *restrict ext);
/* r = c * t1 * 2^d for t1 in [0, 1023] (Algorithm 8, line 9); t1 is
 * clobbered. */
void mldsa_poly_mul_challenge_t1(struct mldsa_poly *restrict r, const struct mldsa_challenge *c,
				 struct mldsa_poly *t1, struct mldsa_poly_ext *restrict ext);
#if defined(__x86_64__)
void mldsa_polyvecl_dot_avx2(struct mldsa_poly *r, const struct mldsa_polyvecl *a,
			     const struct mldsa_polyvecl *b);
void mldsa_poly_mul_challenge_avx2(struct mldsa_poly *restrict r,
				   const struct mldsa_challenge *c, const struct mldsa_poly *s,
				   struct mldsa_poly_ext *restrict ext);
#endif
/* 1 when some coefficient (as a signed integer) has |c| >= bound, else 0;
 * no early exit, no branch. */
uint32_t mldsa_poly_exceeds(const struct mldsa_poly *p, int32_t bound);
/* FIPS 204, Algorithm 35: input in [0, q); t1 in a1, t0 (centered) in a0. */
void mldsa_poly_power2round(struct mldsa_poly *a1, struct mldsa_poly *a0,
			    const struct mldsa_poly *a);
/* FIPS 204, Algorithm 36 on coefficients in [0, q). */
int32_t mldsa_decompose(int32_t *a0, int32_t a);
void mldsa_poly_decompose(struct mldsa_poly *a1, struct mldsa_poly *a0,
			  const struct mldsa_poly *a);
/* FIPS 204, Algorithm 40 (public data). */
void mldsa_poly_use_hint(struct mldsa_poly *r, const struct mldsa_poly *a,
			 const struct mldsa_poly *h);

/* mldsa_sample.c: FIPS 204, Section 7.3. */
void mldsa_expand_a(struct mldsa_matrix *a, const uint8_t rho[32]);
void mldsa_expand_s(struct mldsa_polyvecl *s1, struct mldsa_polyveck *s2,
		    const uint8_t rhoprime[64]);
void mldsa_expand_mask(struct mldsa_polyvecl *y, const uint8_t rhopp[64], uint16_t kappa);
/* Pieces shared with the four-way AVX2 sampler (mldsa_sample_avx2.c). */
unsigned mldsa_rej_uniform(struct mldsa_poly *a, unsigned ctr, const uint8_t *buf, size_t len);
void mldsa_mask_unpack(struct mldsa_poly *p, const uint8_t *buf);
void mldsa_expand_mask_poly(struct mldsa_poly *p, const uint8_t rhopp[64], uint16_t nonce);
#if defined(__x86_64__)
void mldsa_expand_a_avx2(struct mldsa_matrix *a, const uint8_t rho[32]);
void mldsa_expand_mask_avx2(struct mldsa_polyvecl *y, const uint8_t rhopp[64], uint16_t kappa);
#endif
void mldsa_sample_in_ball(struct mldsa_poly *c, const uint8_t ctilde[MLDSA_CTILDE_LEN]);

/* mldsa_pack.c: FIPS 204, Section 7.2 (Algorithms 22-28). */
void mldsa_pk_encode(uint8_t *pk, const uint8_t rho[32], const struct mldsa_polyveck *t1);
void mldsa_pk_decode(uint8_t rho[32], struct mldsa_polyveck *t1, const uint8_t *pk);
void mldsa_sk_encode(uint8_t *sk, const uint8_t rho[32], const uint8_t key[32],
		     const uint8_t tr[MLDSA_TR_LEN], const struct mldsa_polyvecl *s1,
		     const struct mldsa_polyveck *s2, const struct mldsa_polyveck *t0);
void mldsa_sk_decode(uint8_t rho[32], uint8_t key[32], uint8_t tr[MLDSA_TR_LEN],
		     struct mldsa_polyvecl *s1, struct mldsa_polyveck *s2,
		     struct mldsa_polyveck *t0, const uint8_t *sk);
/* sig = ctilde || BitPack(z) || HintBitPack(h); z centered, h in {0, 1}. */
void mldsa_sig_encode(uint8_t *sig, const uint8_t ctilde[MLDSA_CTILDE_LEN],
		      const struct mldsa_polyvecl *z, const struct mldsa_polyveck *h);
/* -1 when the hint encoding is malformed (Algorithm 21 returns bottom). */
int mldsa_sig_decode(uint8_t ctilde[MLDSA_CTILDE_LEN], struct mldsa_polyvecl *z,
		     struct mldsa_polyveck *h, const uint8_t *sig);
void mldsa_w1_encode(uint8_t out[MLDSA_W1_LEN], const struct mldsa_polyveck *w1);

#endif
