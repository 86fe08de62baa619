/* AVX2 sampling for ML-KEM-768: Keccak-f[1600] four times in parallel
 * (one instance per 64-bit element of each __m256i lane vector), used for
 * SampleNTT of four matrix entries at once and for four SamplePolyCBD
 * noise polynomials at once (FIPS 203, Algorithms 7 and 8). The outputs
 * are the same bytes as four scalar SHAKE calls; parsing is shared with
 * mlkem_sample.c. Built with -mavx2; called only when the CPU has AVX2. */
#include "crypto/mlkem_internal.h"

#include <immintrin.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"

#define XOR(a, b) _mm256_xor_si256((a), (b))
#define ANDN(a, b) _mm256_andnot_si256((a), (b)) /* ~a & b */
#define ROL(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))

/* The round of keccak.c (theta, rho, pi, chi, iota; FIPS 202, 3.3) on
 * four states at once. */
#define KX4_ROUND(A, E, rc) \
	do { \
		c0 = XOR(XOR(XOR(A[0], A[5]), XOR(A[10], A[15])), A[20]); \
		c1 = XOR(XOR(XOR(A[1], A[6]), XOR(A[11], A[16])), A[21]); \
		c2 = XOR(XOR(XOR(A[2], A[7]), XOR(A[12], A[17])), A[22]); \
		c3 = XOR(XOR(XOR(A[3], A[8]), XOR(A[13], A[18])), A[23]); \
		c4 = XOR(XOR(XOR(A[4], A[9]), XOR(A[14], A[19])), A[24]); \
		d0 = XOR(c4, ROL(c1, 1)); \
		d1 = XOR(c0, ROL(c2, 1)); \
		d2 = XOR(c1, ROL(c3, 1)); \
		d3 = XOR(c2, ROL(c4, 1)); \
		d4 = XOR(c3, ROL(c0, 1)); \
		b0 = XOR(A[0], d0); \
		b1 = ROL(XOR(A[6], d1), 44); \
		b2 = ROL(XOR(A[12], d2), 43); \
		b3 = ROL(XOR(A[18], d3), 21); \
		b4 = ROL(XOR(A[24], d4), 14); \
		E[0] = XOR(XOR(b0, ANDN(b1, b2)), (rc)); \
		E[1] = XOR(b1, ANDN(b2, b3)); \
		E[2] = XOR(b2, ANDN(b3, b4)); \
		E[3] = XOR(b3, ANDN(b4, b0)); \
		E[4] = XOR(b4, ANDN(b0, b1)); \
		b0 = ROL(XOR(A[3], d3), 28); \
		b1 = ROL(XOR(A[9], d4), 20); \
		b2 = ROL(XOR(A[10], d0), 3); \
		b3 = ROL(XOR(A[16], d1), 45); \
		b4 = ROL(XOR(A[22], d2), 61); \
		E[5] = XOR(b0, ANDN(b1, b2)); \
		E[6] = XOR(b1, ANDN(b2, b3)); \
		E[7] = XOR(b2, ANDN(b3, b4)); \
		E[8] = XOR(b3, ANDN(b4, b0)); \
		E[9] = XOR(b4, ANDN(b0, b1)); \
		b0 = ROL(XOR(A[1], d1), 1); \
		b1 = ROL(XOR(A[7], d2), 6); \
		b2 = ROL(XOR(A[13], d3), 25); \
		b3 = ROL(XOR(A[19], d4), 8); \
		b4 = ROL(XOR(A[20], d0), 18); \
		E[10] = XOR(b0, ANDN(b1, b2)); \
		E[11] = XOR(b1, ANDN(b2, b3)); \
		E[12] = XOR(b2, ANDN(b3, b4)); \
		E[13] = XOR(b3, ANDN(b4, b0)); \
		E[14] = XOR(b4, ANDN(b0, b1)); \
		b0 = ROL(XOR(A[4], d4), 27); \
		b1 = ROL(XOR(A[5], d0), 36); \
		b2 = ROL(XOR(A[11], d1), 10); \
		b3 = ROL(XOR(A[17], d2), 15); \
		b4 = ROL(XOR(A[23], d3), 56); \
		E[15] = XOR(b0, ANDN(b1, b2)); \
		E[16] = XOR(b1, ANDN(b2, b3)); \
		E[17] = XOR(b2, ANDN(b3, b4)); \
		E[18] = XOR(b3, ANDN(b4, b0)); \
		E[19] = XOR(b4, ANDN(b0, b1)); \
		b0 = ROL(XOR(A[2], d2), 62); \
		b1 = ROL(XOR(A[8], d3), 55); \
		b2 = ROL(XOR(A[14], d4), 39); \
		b3 = ROL(XOR(A[15], d0), 41); \
		b4 = ROL(XOR(A[21], d1), 2); \
		E[20] = XOR(b0, ANDN(b1, b2)); \
		E[21] = XOR(b1, ANDN(b2, b3)); \
		E[22] = XOR(b2, ANDN(b3, b4)); \
		E[23] = XOR(b3, ANDN(b4, b0)); \
		E[24] = XOR(b4, ANDN(b0, b1)); \
	} while (0)

static void mlkem_keccakx4_f1600(__m256i s[25])
{
	__m256i a[25], e[25];
	__m256i b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

	memcpy(a, s, sizeof(a));
	for (unsigned i = 0; i < 24; i += 2) {
		KX4_ROUND(a, e, _mm256_set1_epi64x((long long)keccak_round_constants[i]));
		KX4_ROUND(e, a, _mm256_set1_epi64x((long long)keccak_round_constants[i + 1]));
	}
	memcpy(s, a, sizeof(a));
}

/* Absorb four inputs of inlen < rate bytes each as one padded block
 * (FIPS 202 pad10*1 with the SHAKE domain bits 1111); the permutation
 * runs at the start of each squeezed block. */
static void mlkem_keccakx4_absorb_once(__m256i s[25], unsigned rate,
				       const uint8_t *const in[4], size_t inlen)
{
	uint64_t blk[4][SHAKE128_RATE / 8];

	for (unsigned j = 0; j < 4; j++) {
		uint8_t *b = (uint8_t *)blk[j];

		memset(b, 0, rate);
		memcpy(b, in[j], inlen);
		b[inlen] ^= 0x1f;
		b[rate - 1] ^= 0x80;
	}
	for (unsigned i = 0; i < 25; i++)
		s[i] = _mm256_setzero_si256();
	for (unsigned i = 0; i < rate / 8; i++)
		s[i] = _mm256_set_epi64x((long long)blk[3][i], (long long)blk[2][i],
					 (long long)blk[1][i], (long long)blk[0][i]);
	ct_wipe(blk, sizeof(blk));
}

/* Permute, then write the block of each instance out (little-endian
 * lanes, as x86 is). */
static void mlkem_keccakx4_squeezeblock(__m256i s[25], unsigned rate, uint8_t *const out[4])
{
	mlkem_keccakx4_f1600(s);
	for (unsigned i = 0; i < rate / 8; i++) {
		uint64_t t[4];

		_mm256_storeu_si256((__m256i *)t, s[i]);
		for (unsigned j = 0; j < 4; j++)
			memcpy(out[j] + 8 * i, &t[j], 8);
	}
}

/* Four SampleNTT(rho || x_j || y_j) at once; an entry that needs more
 * than three blocks (rare: 256 of 336 candidates must pass) keeps
 * squeezing all four states. */
static void mlkem_sample_ntt_x4(struct mlkem_poly *const p[4], const uint8_t rho[MLKEM_SYMBYTES],
				const uint8_t x[4], const uint8_t y[4])
{
	uint8_t seed[4][MLKEM_SYMBYTES + 2];
	uint8_t buf[4][MLKEM_GEN_BLOCKS * SHAKE128_RATE];
	int16_t coeffs[4][MLKEM_N + 1];
	const uint8_t *in[4];
	uint8_t *out[4];
	unsigned ctr[4];
	__m256i s[25];

	for (unsigned j = 0; j < 4; j++) {
		memcpy(seed[j], rho, MLKEM_SYMBYTES);
		seed[j][MLKEM_SYMBYTES] = x[j];
		seed[j][MLKEM_SYMBYTES + 1] = y[j];
		in[j] = seed[j];
	}
	mlkem_keccakx4_absorb_once(s, SHAKE128_RATE, in, sizeof(seed[0]));
	for (unsigned b = 0; b < MLKEM_GEN_BLOCKS; b++) {
		for (unsigned j = 0; j < 4; j++)
			out[j] = buf[j] + b * SHAKE128_RATE;
		mlkem_keccakx4_squeezeblock(s, SHAKE128_RATE, out);
	}
	for (unsigned j = 0; j < 4; j++)
		ctr[j] = mlkem_rej_uniform(coeffs[j], 0, buf[j], sizeof(buf[j]));
	while (ctr[0] < MLKEM_N || ctr[1] < MLKEM_N || ctr[2] < MLKEM_N || ctr[3] < MLKEM_N) {
		for (unsigned j = 0; j < 4; j++)
			out[j] = buf[j];
		mlkem_keccakx4_squeezeblock(s, SHAKE128_RATE, out);
		for (unsigned j = 0; j < 4; j++)
			ctr[j] = mlkem_rej_uniform(coeffs[j], ctr[j], buf[j], SHAKE128_RATE);
	}
	for (unsigned j = 0; j < 4; j++)
		memcpy(p[j]->c, coeffs[j], sizeof(p[j]->c));
}

void mlkem_gen_matrix_avx2(struct mlkem_polyvec a[MLKEM_K], const uint8_t rho[MLKEM_SYMBYTES],
			   int transposed)
{
	struct mlkem_poly *p[4];
	uint8_t x[4], y[4];
	unsigned n = 0;

	/* Entries in row-major order; eight go four at a time, the ninth
	 * through the scalar sampler. */
	for (unsigned e = 0; e + 4 <= MLKEM_K * MLKEM_K; e += 4) {
		for (unsigned j = 0; j < 4; j++, n++) {
			uint8_t row = (uint8_t)(n / MLKEM_K), col = (uint8_t)(n % MLKEM_K);

			p[j] = &a[row].p[col];
			x[j] = transposed ? row : col;
			y[j] = transposed ? col : row;
		}
		mlkem_sample_ntt_x4(p, rho, x, y);
	}
	mlkem_sample_ntt(&a[MLKEM_K - 1].p[MLKEM_K - 1], rho, MLKEM_K - 1, MLKEM_K - 1);
}

/* Four SamplePolyCBD_2(PRF_2(sigma, n_j)): PRF output (128 bytes) fits in
 * one SHAKE256 block. */
void mlkem_getnoise_x4_avx2(struct mlkem_poly *const p[4], const uint8_t sigma[MLKEM_SYMBYTES],
			    const uint8_t n[4])
{
	uint8_t seed[4][MLKEM_SYMBYTES + 1];
	uint8_t buf[4][SHAKE256_RATE];
	const uint8_t *in[4];
	uint8_t *out[4];
	__m256i s[25];

	for (unsigned j = 0; j < 4; j++) {
		memcpy(seed[j], sigma, MLKEM_SYMBYTES);
		seed[j][MLKEM_SYMBYTES] = n[j];
		in[j] = seed[j];
		out[j] = buf[j];
	}
	mlkem_keccakx4_absorb_once(s, SHAKE256_RATE, in, sizeof(seed[0]));
	mlkem_keccakx4_squeezeblock(s, SHAKE256_RATE, out);
	for (unsigned j = 0; j < 4; j++)
		mlkem_cbd2(p[j], buf[j]);
	ct_wipe(seed, sizeof(seed));
	ct_wipe(buf, sizeof(buf));
	ct_wipe(s, sizeof(s));
}
