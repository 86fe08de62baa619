/* Four-way Keccak-f[1600] on AVX2 (one instance per 64-bit element of
 * each __m256i lane vector) and what ML-KEM-768 runs on it: SampleNTT of
 * four matrix entries at once, with a vector rejection parser; four
 * SamplePolyCBD noise polynomials at once (FIPS 203, Algorithms 7 and 8);
 * and the two long hashes of Decaps, H(ek) and J(z || c), side by side.
 * The outputs are the same bytes as the scalar code's. Built with -mavx2;
 * called only when mlkem_use_avx2() says so. */
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
	ct_wipe_bulk(blk, sizeof(blk));
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

/* mlkem_rej_idx[m]: byte j is the index of the j-th set bit of m (the
 * unused bytes are 0): the lanes to keep, packed to the front, for an
 * acceptance mask m of eight 16-bit candidates. */
static const uint64_t mlkem_rej_idx[256] = {
	0x0000000000000000, 0x0000000000000000, 0x0000000000000001, 0x0000000000000100,
	0x0000000000000002, 0x0000000000000200, 0x0000000000000201, 0x0000000000020100,
	0x0000000000000003, 0x0000000000000300, 0x0000000000000301, 0x0000000000030100,
	0x0000000000000302, 0x0000000000030200, 0x0000000000030201, 0x0000000003020100,
	0x0000000000000004, 0x0000000000000400, 0x0000000000000401, 0x0000000000040100,
	0x0000000000000402, 0x0000000000040200, 0x0000000000040201, 0x0000000004020100,
	0x0000000000000403, 0x0000000000040300, 0x0000000000040301, 0x0000000004030100,
	0x0000000000040302, 0x0000000004030200, 0x0000000004030201, 0x0000000403020100,
	0x0000000000000005, 0x0000000000000500, 0x0000000000000501, 0x0000000000050100,
	0x0000000000000502, 0x0000000000050200, 0x0000000000050201, 0x0000000005020100,
	0x0000000000000503, 0x0000000000050300, 0x0000000000050301, 0x0000000005030100,
	0x0000000000050302, 0x0000000005030200, 0x0000000005030201, 0x0000000503020100,
	0x0000000000000504, 0x0000000000050400, 0x0000000000050401, 0x0000000005040100,
	0x0000000000050402, 0x0000000005040200, 0x0000000005040201, 0x0000000504020100,
	0x0000000000050403, 0x0000000005040300, 0x0000000005040301, 0x0000000504030100,
	0x0000000005040302, 0x0000000504030200, 0x0000000504030201, 0x0000050403020100,
	0x0000000000000006, 0x0000000000000600, 0x0000000000000601, 0x0000000000060100,
	0x0000000000000602, 0x0000000000060200, 0x0000000000060201, 0x0000000006020100,
	0x0000000000000603, 0x0000000000060300, 0x0000000000060301, 0x0000000006030100,
	0x0000000000060302, 0x0000000006030200, 0x0000000006030201, 0x0000000603020100,
	0x0000000000000604, 0x0000000000060400, 0x0000000000060401, 0x0000000006040100,
	0x0000000000060402, 0x0000000006040200, 0x0000000006040201, 0x0000000604020100,
	0x0000000000060403, 0x0000000006040300, 0x0000000006040301, 0x0000000604030100,
	0x0000000006040302, 0x0000000604030200, 0x0000000604030201, 0x0000060403020100,
	0x0000000000000605, 0x0000000000060500, 0x0000000000060501, 0x0000000006050100,
	0x0000000000060502, 0x0000000006050200, 0x0000000006050201, 0x0000000605020100,
	0x0000000000060503, 0x0000000006050300, 0x0000000006050301, 0x0000000605030100,
	0x0000000006050302, 0x0000000605030200, 0x0000000605030201, 0x0000060503020100,
	0x0000000000060504, 0x0000000006050400, 0x0000000006050401, 0x0000000605040100,
	0x0000000006050402, 0x0000000605040200, 0x0000000605040201, 0x0000060504020100,
	0x0000000006050403, 0x0000000605040300, 0x0000000605040301, 0x0000060504030100,
	0x0000000605040302, 0x0000060504030200, 0x0000060504030201, 0x0006050403020100,
	0x0000000000000007, 0x0000000000000700, 0x0000000000000701, 0x0000000000070100,
	0x0000000000000702, 0x0000000000070200, 0x0000000000070201, 0x0000000007020100,
	0x0000000000000703, 0x0000000000070300, 0x0000000000070301, 0x0000000007030100,
	0x0000000000070302, 0x0000000007030200, 0x0000000007030201, 0x0000000703020100,
	0x0000000000000704, 0x0000000000070400, 0x0000000000070401, 0x0000000007040100,
	0x0000000000070402, 0x0000000007040200, 0x0000000007040201, 0x0000000704020100,
	0x0000000000070403, 0x0000000007040300, 0x0000000007040301, 0x0000000704030100,
	0x0000000007040302, 0x0000000704030200, 0x0000000704030201, 0x0000070403020100,
	0x0000000000000705, 0x0000000000070500, 0x0000000000070501, 0x0000000007050100,
	0x0000000000070502, 0x0000000007050200, 0x0000000007050201, 0x0000000705020100,
	0x0000000000070503, 0x0000000007050300, 0x0000000007050301, 0x0000000705030100,
	0x0000000007050302, 0x0000000705030200, 0x0000000705030201, 0x0000070503020100,
	0x0000000000070504, 0x0000000007050400, 0x0000000007050401, 0x0000000705040100,
	0x0000000007050402, 0x0000000705040200, 0x0000000705040201, 0x0000070504020100,
	0x0000000007050403, 0x0000000705040300, 0x0000000705040301, 0x0000070504030100,
	0x0000000705040302, 0x0000070504030200, 0x0000070504030201, 0x0007050403020100,
	0x0000000000000706, 0x0000000000070600, 0x0000000000070601, 0x0000000007060100,
	0x0000000000070602, 0x0000000007060200, 0x0000000007060201, 0x0000000706020100,
	0x0000000000070603, 0x0000000007060300, 0x0000000007060301, 0x0000000706030100,
	0x0000000007060302, 0x0000000706030200, 0x0000000706030201, 0x0000070603020100,
	0x0000000000070604, 0x0000000007060400, 0x0000000007060401, 0x0000000706040100,
	0x0000000007060402, 0x0000000706040200, 0x0000000706040201, 0x0000070604020100,
	0x0000000007060403, 0x0000000706040300, 0x0000000706040301, 0x0000070604030100,
	0x0000000706040302, 0x0000070604030200, 0x0000070604030201, 0x0007060403020100,
	0x0000000000070605, 0x0000000007060500, 0x0000000007060501, 0x0000000706050100,
	0x0000000007060502, 0x0000000706050200, 0x0000000706050201, 0x0000070605020100,
	0x0000000007060503, 0x0000000706050300, 0x0000000706050301, 0x0000070605030100,
	0x0000000706050302, 0x0000070605030200, 0x0000070605030201, 0x0007060503020100,
	0x0000000007060504, 0x0000000706050400, 0x0000000706050401, 0x0000070605040100,
	0x0000000706050402, 0x0000070605040200, 0x0000070605040201, 0x0007060504020100,
	0x0000000706050403, 0x0000070605040300, 0x0000070605040301, 0x0007060504030100,
	0x0000070605040302, 0x0007060504030200, 0x0007060504030201, 0x0706050403020100,
};

/* mlkem_rej_uniform, 16 candidates (24 bytes) per step. The two 12-byte
 * groups are spread over the two 128-bit halves, split into 16-bit lanes
 * by a byte shuffle (even candidates: low 12 bits of bytes 3j, 3j+1; odd
 * ones: bytes 3j+1, 3j+2 shifted right by 4), compared with q, and the
 * accepted lanes packed with a table-driven shuffle. Stores write 8 lanes
 * at r + ctr, so the vector steps stop 16 short of MLKEM_N and the scalar
 * parser finishes; loads read 32 bytes, so they stop 32 short of buflen.
 * rho is public: the counts may drive branches and addresses. */
static unsigned mlkem_rej_uniform_avx2(int16_t r[MLKEM_N + 1], unsigned ctr,
				       const uint8_t *buf, unsigned buflen)
{
	const __m256i q = _mm256_set1_epi16(MLKEM_Q);
	const __m256i mask12 = _mm256_set1_epi16(0xfff);
	const __m256i split = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11,
					       4, 5, 5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 14, 15);
	const __m128i pair = _mm_set1_epi16(0x0100);
	unsigned i = 0;

	for (; ctr + 16 <= MLKEM_N && i + 32 <= buflen; i += 24) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(buf + i));
		__m256i ok;
		unsigned m;

		/* qwords 0, 1 | 1, 2: bytes 0..15 and 8..23 */
		v = _mm256_permute4x64_epi64(v, 0x94);
		v = _mm256_shuffle_epi8(v, split);
		v = _mm256_blend_epi16(_mm256_and_si256(v, mask12), _mm256_srli_epi16(v, 4), 0xaa);
		ok = _mm256_cmpgt_epi16(q, v);
		m = (unsigned)_mm256_movemask_epi8(_mm256_packs_epi16(ok, _mm256_setzero_si256()));

		for (unsigned h = 0; h < 2; h++) {
			unsigned mh = (m >> (16 * h)) & 0xff;
			__m128i idx = _mm_cvtsi64_si128((long long)mlkem_rej_idx[mh]);
			__m128i half = h ? _mm256_extracti128_si256(v, 1) : _mm256_castsi256_si128(v);

			/* lane index k -> byte indices 2k, 2k + 1 */
			idx = _mm_unpacklo_epi8(idx, idx);
			idx = _mm_add_epi8(_mm_add_epi8(idx, idx), pair);
			_mm_storeu_si128((__m128i *)(r + ctr), _mm_shuffle_epi8(half, idx));
			ctr += (unsigned)__builtin_popcount(mh);
		}
	}
	return mlkem_rej_uniform(r, ctr, buf + i, buflen - i);
}

/* One SampleNTT(rho || x || y) with the vector parser. */
static void mlkem_sample_ntt_avx2(struct mlkem_poly *p, const uint8_t rho[MLKEM_SYMBYTES],
				  uint8_t x, uint8_t y)
{
	uint8_t buf[MLKEM_GEN_BLOCKS * SHAKE128_RATE];
	uint8_t seed[MLKEM_SYMBYTES + 2];
	int16_t coeffs[MLKEM_N + 1];
	struct keccak_state st;
	unsigned ctr;

	memcpy(seed, rho, MLKEM_SYMBYTES);
	seed[MLKEM_SYMBYTES] = x;
	seed[MLKEM_SYMBYTES + 1] = y;
	shake128_init(&st);
	keccak_absorb(&st, seed, sizeof(seed));
	keccak_squeezeblocks(&st, buf, MLKEM_GEN_BLOCKS);
	ctr = mlkem_rej_uniform_avx2(coeffs, 0, buf, sizeof(buf));
	while (ctr < MLKEM_N) {
		keccak_squeezeblocks(&st, buf, 1);
		ctr = mlkem_rej_uniform_avx2(coeffs, ctr, buf, SHAKE128_RATE);
	}
	memcpy(p->c, coeffs, sizeof(p->c));
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
		ctr[j] = mlkem_rej_uniform_avx2(coeffs[j], 0, buf[j], sizeof(buf[j]));
	while (ctr[0] < MLKEM_N || ctr[1] < MLKEM_N || ctr[2] < MLKEM_N || ctr[3] < MLKEM_N) {
		for (unsigned j = 0; j < 4; j++)
			out[j] = buf[j];
		mlkem_keccakx4_squeezeblock(s, SHAKE128_RATE, out);
		for (unsigned j = 0; j < 4; j++)
			ctr[j] = mlkem_rej_uniform_avx2(coeffs[j], ctr[j], buf[j], SHAKE128_RATE);
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
	 * alone. */
	for (unsigned e = 0; e + 4 <= MLKEM_K * MLKEM_K; e += 4) {
		for (unsigned j = 0; j < 4; j++, n++) {
			uint8_t row = (uint8_t)(n / MLKEM_K), col = (uint8_t)(n % MLKEM_K);

			p[j] = &a[row].p[col];
			x[j] = transposed ? row : col;
			y[j] = transposed ? col : row;
		}
		mlkem_sample_ntt_x4(p, rho, x, y);
	}
	mlkem_sample_ntt_avx2(&a[MLKEM_K - 1].p[MLKEM_K - 1], rho, MLKEM_K - 1, MLKEM_K - 1);
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
	ct_wipe_bulk(buf, sizeof(buf));
	ct_wipe_bulk(s, sizeof(s));
}

/* H(ek) = SHA3-256(ek) and J(z || c) = SHAKE256(z || c, 32) in two lanes
 * (FIPS 203, Algorithm 18 lines 3 and 7 with the 7.3 hash check). Both
 * have rate 136 and, padded, nine blocks: 1184 = 8 * 136 + 96 and
 * 1120 = 8 * 136 + 32. */
void mlkem_hash_h_j_avx2(uint8_t h[MLKEM_SYMBYTES], uint8_t kbar[MLKEM768_SS_LEN],
			 const uint8_t ek[MLKEM768_PK_LEN], const uint8_t z[MLKEM_SYMBYTES],
			 const uint8_t c[MLKEM768_CT_LEN])
{
	enum { RATE = SHA3_256_RATE, NBLOCKS = MLKEM768_PK_LEN / RATE + 1 };
	uint8_t zc[MLKEM_SYMBYTES + MLKEM768_CT_LEN];
	const uint8_t *msg[2] = { ek, zc };
	const size_t len[2] = { MLKEM768_PK_LEN, sizeof(zc) };
	const uint8_t dsep[2] = { 0x06, 0x1f }; /* SHA-3, SHAKE (FIPS 202, 6) */
	uint64_t blk[2][RATE / 8];
	uint8_t out[4][RATE]; /* lanes 2 and 3 idle */
	uint8_t *outp[4] = { out[0], out[1], out[2], out[3] };
	__m256i s[25];

	_Static_assert(SHA3_256_RATE == SHAKE256_RATE, "one rate for both lanes");
	_Static_assert(MLKEM768_PK_LEN / SHA3_256_RATE == (MLKEM_SYMBYTES + MLKEM768_CT_LEN) /
		       SHA3_256_RATE, "same number of blocks in both lanes");
	memcpy(zc, z, MLKEM_SYMBYTES);
	memcpy(zc + MLKEM_SYMBYTES, c, MLKEM768_CT_LEN);
	for (unsigned i = 0; i < 25; i++)
		s[i] = _mm256_setzero_si256();

	for (unsigned b = 0; b < NBLOCKS; b++) {
		for (unsigned j = 0; j < 2; j++) {
			uint8_t *p = (uint8_t *)blk[j];
			size_t off = (size_t)b * RATE, n = len[j] - off < RATE ? len[j] - off : RATE;

			memset(p, 0, RATE);
			memcpy(p, msg[j] + off, n);
			if (b == NBLOCKS - 1) { /* pad10*1 after the domain bits */
				p[n] ^= dsep[j];
				p[RATE - 1] ^= 0x80;
			}
		}
		if (b)
			mlkem_keccakx4_f1600(s);
		for (unsigned i = 0; i < RATE / 8; i++)
			s[i] = XOR(s[i], _mm256_set_epi64x(0, 0, (long long)blk[1][i],
							   (long long)blk[0][i]));
	}
	mlkem_keccakx4_squeezeblock(s, RATE, outp);
	memcpy(h, out[0], MLKEM_SYMBYTES);
	memcpy(kbar, out[1], MLKEM768_SS_LEN);

	ct_wipe_bulk(zc, sizeof(zc));
	ct_wipe_bulk(blk, sizeof(blk));
	ct_wipe_bulk(out, sizeof(out));
	ct_wipe_bulk(s, sizeof(s));
}
