/* What ML-KEM-768 runs on the four-way Keccak (keccak_x4.h): SampleNTT of
 * four matrix entries at once, with a vector rejection parser; four
 * SamplePolyCBD noise polynomials at once (FIPS 203, Algorithms 7 and 8);
 * and the two long hashes of Decaps, H(ek) and J(z || c), side by side.
 * The outputs are the same bytes as the scalar code's. Built with -mavx2;
 * called only when dv_cpu_avx2() says so. */
#include "crypto/mlkem_internal.h"

#include <immintrin.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"

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
	uint8_t *const out[4] = { buf[0], buf[1], buf[2], buf[3] };
	unsigned ctr[4];
	struct keccak_x4 st;

	for (unsigned j = 0; j < 4; j++) {
		memcpy(seed[j], rho, MLKEM_SYMBYTES);
		seed[j][MLKEM_SYMBYTES] = x[j];
		seed[j][MLKEM_SYMBYTES + 1] = y[j];
		in[j] = seed[j];
	}
	keccak_x4_absorb(&st, SHAKE128_RATE, in, sizeof(seed[0]), KECCAK_DSEP_SHAKE);
	keccak_x4_squeezeblocks(&st, SHAKE128_RATE, out, MLKEM_GEN_BLOCKS);
	for (unsigned j = 0; j < 4; j++)
		ctr[j] = mlkem_rej_uniform_avx2(coeffs[j], 0, buf[j], sizeof(buf[j]));
	while (ctr[0] < MLKEM_N || ctr[1] < MLKEM_N || ctr[2] < MLKEM_N || ctr[3] < MLKEM_N) {
		keccak_x4_squeezeblocks(&st, SHAKE128_RATE, out, 1);
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
	mlkem_sample_ntt(&a[MLKEM_K - 1].p[MLKEM_K - 1], rho, MLKEM_K - 1, MLKEM_K - 1,
			 mlkem_rej_uniform_avx2);
}

/* Four SamplePolyCBD_2(PRF_2(sigma, n_j)): PRF output (128 bytes) fits in
 * one SHAKE256 block. */
void mlkem_getnoise_x4_avx2(struct mlkem_poly *const p[4], const uint8_t sigma[MLKEM_SYMBYTES],
			    const uint8_t n[4])
{
	uint8_t seed[4][MLKEM_SYMBYTES + 1];
	uint8_t buf[4][SHAKE256_RATE];
	const uint8_t *in[4];
	uint8_t *const out[4] = { buf[0], buf[1], buf[2], buf[3] };
	struct keccak_x4 st;

	for (unsigned j = 0; j < 4; j++) {
		memcpy(seed[j], sigma, MLKEM_SYMBYTES);
		seed[j][MLKEM_SYMBYTES] = n[j];
		in[j] = seed[j];
	}
	keccak_x4_absorb(&st, SHAKE256_RATE, in, sizeof(seed[0]), KECCAK_DSEP_SHAKE);
	keccak_x4_squeezeblocks(&st, SHAKE256_RATE, out, 1);
	for (unsigned j = 0; j < 4; j++)
		mlkem_cbd2(p[j], buf[j]);
	ct_wipe(seed, sizeof(seed));
	ct_wipe(buf, sizeof(buf));
	ct_wipe(&st, sizeof(st));
}

/* H(ek) = SHA3-256(ek) and J(z || c) = SHAKE256(z || c, 32) in two lanes
 * (FIPS 203, Algorithm 18 lines 3 and 7 with the 7.3 hash check). Both
 * have rate 136 and, padded, nine blocks: 1184 = 8 * 136 + 96 and
 * 1120 = 8 * 136 + 32. */
void mlkem_hash_h_j_avx2(uint8_t h[MLKEM_SYMBYTES], uint8_t kbar[MLKEM768_SS_LEN],
			 const uint8_t ek[MLKEM768_PK_LEN], const uint8_t z[MLKEM_SYMBYTES],
			 const uint8_t c[MLKEM768_CT_LEN])
{
	enum { RATE = SHA3_256_RATE, NFULL = MLKEM768_PK_LEN / RATE };
	uint8_t zc[MLKEM_SYMBYTES + MLKEM768_CT_LEN];
	const uint8_t *const msg[2] = { ek, zc };
	const size_t len[2] = { MLKEM768_PK_LEN, sizeof(zc) };
	const uint8_t dsep[2] = { KECCAK_DSEP_SHA3, KECCAK_DSEP_SHAKE };
	uint8_t last[2][RATE];
	uint8_t out[4][RATE]; /* lanes 2 and 3 idle: they repeat lanes 0 and 1 */
	uint8_t *const outp[4] = { out[0], out[1], out[2], out[3] };
	const uint8_t *blk[4];
	struct keccak_x4 st;

	_Static_assert(SHA3_256_RATE == SHAKE256_RATE, "one rate for both lanes");
	_Static_assert(MLKEM768_PK_LEN / SHA3_256_RATE == (MLKEM_SYMBYTES + MLKEM768_CT_LEN) /
		       SHA3_256_RATE, "same number of blocks in both lanes");
	memcpy(zc, z, MLKEM_SYMBYTES);
	memcpy(zc + MLKEM_SYMBYTES, c, MLKEM768_CT_LEN);
	memset(&st, 0, sizeof(st));
	for (unsigned b = 0; b < NFULL; b++) {
		blk[0] = blk[2] = msg[0] + b * RATE;
		blk[1] = blk[3] = msg[1] + b * RATE;
		keccak_x4_xor_block(&st, RATE, blk);
		keccak_x4_permute(&st);
	}
	for (unsigned j = 0; j < 2; j++) { /* pad10*1 after the domain bits */
		size_t n = len[j] - NFULL * RATE;

		memcpy(last[j], msg[j] + NFULL * RATE, n);
		memset(last[j] + n, 0, RATE - n);
		last[j][n] ^= dsep[j];
		last[j][RATE - 1] ^= 0x80;
	}
	blk[0] = blk[2] = last[0];
	blk[1] = blk[3] = last[1];
	keccak_x4_xor_block(&st, RATE, blk);
	keccak_x4_squeezeblocks(&st, RATE, outp, 1);
	memcpy(h, out[0], MLKEM_SYMBYTES);
	memcpy(kbar, out[1], MLKEM768_SS_LEN);

	ct_wipe(zc, sizeof(zc));
	ct_wipe(last, sizeof(last));
	ct_wipe(out, sizeof(out));
	ct_wipe(&st, sizeof(st));
}
