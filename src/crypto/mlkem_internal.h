/* ML-KEM-768 internals shared by the mlkem*.c files: parameters (FIPS 203,
 * section 8, Table 2), the polynomial types, modular reduction and the
 * per-concern entry points (NTT, encodings, sampling, K-PKE). */
#ifndef DV_CRYPTO_MLKEM_INTERNAL_H
#define DV_CRYPTO_MLKEM_INTERNAL_H

#include <stdint.h>

#include "crypto/mlkem.h"

#define MLKEM_N 256
#define MLKEM_Q 3329
#define MLKEM_K 3
#define MLKEM_ETA 2 /* eta1 = eta2 = 2 for ML-KEM-768 */
#define MLKEM_DU 10
#define MLKEM_DV 4
#define MLKEM_SYMBYTES 32

#define MLKEM_POLYBYTES 384                          /* ByteEncode_12 */
#define MLKEM_POLYVECBYTES (MLKEM_K * MLKEM_POLYBYTES) /* 1152 */
#define MLKEM_C1BYTES (MLKEM_K * 32 * MLKEM_DU)      /* 960 */
#define MLKEM_C2BYTES (32 * MLKEM_DV)                /* 128 */

/* dk = dk_PKE || ek || H(ek) || z (FIPS 203, Algorithm 16, line 3). */
#define MLKEM_SK_EK_OFF MLKEM_POLYVECBYTES
#define MLKEM_SK_H_OFF (MLKEM_SK_EK_OFF + MLKEM768_PK_LEN)
#define MLKEM_SK_Z_OFF (MLKEM_SK_H_OFF + MLKEM_SYMBYTES)

_Static_assert(MLKEM768_PK_LEN == MLKEM_POLYVECBYTES + MLKEM_SYMBYTES, "ek size");
_Static_assert(MLKEM768_SK_LEN == MLKEM_SK_Z_OFF + MLKEM_SYMBYTES, "dk size");
_Static_assert(MLKEM768_CT_LEN == MLKEM_C1BYTES + MLKEM_C2BYTES, "c size");

/* Coefficients are signed 16-bit representatives of Z_q; each function
 * states the range it accepts and returns. */
struct mlkem_poly {
	int16_t c[MLKEM_N];
};

struct mlkem_polyvec {
	struct mlkem_poly p[MLKEM_K];
};

#define MLKEM_QINV (-3327) /* q^-1 mod 2^16, signed */

/* The arithmetic is written with 16-bit high and low products only, the
 * shape of SSE2's pmulhw / pmullw, so the compiler vectorizes the loops
 * over coefficients. Truncations to int16_t wrap (GCC and Clang). */
static inline int16_t mlkem_mulhi(int16_t a, int16_t b)
{
	return (int16_t)(((int32_t)a * b) >> 16);
}

static inline int16_t mlkem_mullo(int16_t a, int16_t b)
{
	return (int16_t)((int32_t)a * b);
}

/* Montgomery multiplication a * b * 2^-16 mod q, |result| < q for |b| <=
 * q/2 (or |a * b| < q * 2^15), with bqinv = b * q^-1 mod 2^16 given: a*b
 * and t*q, t = a * bqinv, agree in their low 16 bits, so their difference
 * is the difference of the high halves. */
static inline int16_t mlkem_fqmul_pre(int16_t a, int16_t b, int16_t bqinv)
{
	int16_t t = mlkem_mullo(a, bqinv);

	return (int16_t)(mlkem_mulhi(a, b) - mlkem_mulhi(t, MLKEM_Q));
}

static inline int16_t mlkem_fqmul(int16_t a, int16_t b)
{
	return mlkem_fqmul_pre(a, b, mlkem_mullo(b, MLKEM_QINV));
}

/* a mod q in [-(q-1)/2, (q-1)/2] for any int16 a: 20159 = round(2^26 / q),
 * and ((a * 20159 >> 16) + 2^9) >> 10 = (a * 20159 + 2^25) >> 26. */
static inline int16_t mlkem_barrett_reduce(int16_t a)
{
	int16_t t = (int16_t)((mlkem_mulhi(a, 20159) + (1 << 9)) >> 10);

	return (int16_t)(a - mlkem_mullo(t, MLKEM_Q));
}

/* mlkem_ntt.c: FIPS 203 Algorithms 9-12 with Montgomery arithmetic. */
/* |coefficients| <= q in, |.| <= (q-1)/2 out, bit-reversed NTT domain. */
void mlkem_ntt(struct mlkem_poly *p);
/* |coefficients| < q in (< 2q tolerated); out: NTT^-1(p) * 2^16, |.| < q. */
void mlkem_invntt_tomont(struct mlkem_poly *p);
/* r = sum_i a_i o b_i * 2^-16 (MultiplyNTTs), |r| <= (q-1)/2; a must be
 * below 4096 in magnitude, b at most (q-1)/2 (an NTT output). */
void mlkem_polyvec_basemul_acc(struct mlkem_poly *restrict r,
			       const struct mlkem_polyvec *restrict a,
			       const struct mlkem_polyvec *restrict b);

/* mlkem_poly.c: arithmetic and the encodings of FIPS 203 section 4.2.1. */
void mlkem_poly_tomont(struct mlkem_poly *p);
void mlkem_poly_add(struct mlkem_poly *r, const struct mlkem_poly *a);
void mlkem_poly_sub(struct mlkem_poly *r, const struct mlkem_poly *a);
/* ByteEncode_12 of p mod q (any int16 coefficients); ByteDecode_12 leaves
 * values up to 4095 as they are: mlkem_bytes_check12 tells them apart. */
void mlkem_poly_tobytes(uint8_t r[MLKEM_POLYBYTES], const struct mlkem_poly *p);
void mlkem_poly_frombytes(struct mlkem_poly *p, const uint8_t a[MLKEM_POLYBYTES]);
/* 0 when every ByteDecode_12 value of a is below q, else 1; constant time. */
unsigned mlkem_bytes_check12(const uint8_t *a, unsigned nbytes);
/* Compress_du / Compress_dv of p mod q then ByteEncode, and back. */
void mlkem_poly_compress_du(uint8_t r[32 * MLKEM_DU], const struct mlkem_poly *p);
void mlkem_poly_decompress_du(struct mlkem_poly *p, const uint8_t a[32 * MLKEM_DU]);
void mlkem_poly_compress_dv(uint8_t r[MLKEM_C2BYTES], const struct mlkem_poly *p);
void mlkem_poly_decompress_dv(struct mlkem_poly *p, const uint8_t a[MLKEM_C2BYTES]);
/* Decompress_1(ByteDecode_1(m)) and ByteEncode_1(Compress_1(p)). */
void mlkem_poly_frommsg(struct mlkem_poly *p, const uint8_t m[MLKEM_SYMBYTES]);
void mlkem_poly_tomsg(uint8_t m[MLKEM_SYMBYTES], const struct mlkem_poly *p);

/* mlkem_sample.c: SampleNTT (Algorithm 7) and SamplePolyCBD (Algorithm 8). */
#define MLKEM_NOISEBYTES (MLKEM_ETA * MLKEM_N / 4) /* PRF_2 output, 128 */
/* SHAKE128 blocks squeezed first for SampleNTT: 504 bytes, 336 candidates,
 * give the 256 coefficients in almost every case; more follow one block
 * at a time. */
#define MLKEM_GEN_BLOCKS 3
/* Append the 12-bit candidates of buf that are below q to r[ctr..]; r has
 * one slot of slack. Returns the new count, at most MLKEM_N. The AVX2
 * sampler has a vector twin with the same results. */
typedef unsigned mlkem_rej_fn(int16_t r[MLKEM_N + 1], unsigned ctr, const uint8_t *buf,
			      unsigned buflen);
mlkem_rej_fn mlkem_rej_uniform;
/* p = SampleNTT(rho || x || y), the candidates parsed by rej. */
void mlkem_sample_ntt(struct mlkem_poly *p, const uint8_t rho[MLKEM_SYMBYTES], uint8_t x,
		      uint8_t y, mlkem_rej_fn *rej);
/* a[i].p[j] = SampleNTT(rho || j || i), or rho || i || j when transposed. */
void mlkem_gen_matrix(struct mlkem_polyvec a[MLKEM_K], const uint8_t rho[MLKEM_SYMBYTES],
		      int transposed);
void mlkem_cbd2(struct mlkem_poly *restrict p, const uint8_t buf[restrict MLKEM_NOISEBYTES]);
/* p[i] = SamplePolyCBD_2(PRF_2(sigma, n0 + i)), i < count. */
void mlkem_getnoise(struct mlkem_poly *const *p, unsigned count,
		    const uint8_t sigma[MLKEM_SYMBYTES], uint8_t n0);

/* mlkem_sample_avx2.c: the same on the four-way Keccak (keccak_x4.h),
 * and Decaps' H(ek) and J(z || c) computed together. Only when
 * dv_cpu_avx2() (crypto/cpu.h). */
void mlkem_gen_matrix_avx2(struct mlkem_polyvec a[MLKEM_K], const uint8_t rho[MLKEM_SYMBYTES],
			   int transposed);
void mlkem_getnoise_x4_avx2(struct mlkem_poly *const p[4], const uint8_t sigma[MLKEM_SYMBYTES],
			    const uint8_t n[4]);
void mlkem_hash_h_j_avx2(uint8_t h[MLKEM_SYMBYTES], uint8_t kbar[MLKEM768_SS_LEN],
			 const uint8_t ek[MLKEM768_PK_LEN], const uint8_t z[MLKEM_SYMBYTES],
			 const uint8_t c[MLKEM768_CT_LEN]);

/* mlkem_indcpa.c: K-PKE (Algorithms 13-15). */
void mlkem_indcpa_keypair(uint8_t ek[MLKEM768_PK_LEN], uint8_t dk[MLKEM_POLYVECBYTES],
			  const uint8_t d[MLKEM_SYMBYTES]);
void mlkem_indcpa_enc(uint8_t c[MLKEM768_CT_LEN], const uint8_t ek[MLKEM768_PK_LEN],
		      const uint8_t m[MLKEM_SYMBYTES], const uint8_t r[MLKEM_SYMBYTES]);
void mlkem_indcpa_dec(uint8_t m[MLKEM_SYMBYTES], const uint8_t c[MLKEM768_CT_LEN],
		      const uint8_t dk[MLKEM_POLYVECBYTES]);

#endif
