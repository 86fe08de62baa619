/* Four SHAKE instances side by side in AVX2 (one 64-bit lane of each
 * vector per instance) for the bulk sampling of ML-DSA: ExpandA (30
 * SHAKE128 streams, Algorithm 32) and ExpandMask (5 SHAKE256 streams,
 * Algorithm 34). Keccak-f[1600] is FIPS 202, Section 3; the outputs are the
 * same bytes the scalar keccak.c gives (the vectors, run with and without
 * DYBERVPN_NO_AVX2, check the whole chain), and the
 * coefficient parsing is shared with mldsa_sample.c. Selected at run time
 * by mldsa_sample.c, like the AVX2 NTT. */
#include "crypto/mldsa_poly.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"

/* Round constants (FIPS 202, Algorithm 6). The rotation offsets of rho
 * (Section 3.2.2) are written into mldsa_x4_permute. */
static const uint64_t mldsa_x4_rc[24] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

struct mldsa_x4 {
	__m256i s[25];
};

#define X4_XOR(x, y) _mm256_xor_si256((x), (y))
#define X4_XOR5(v, w, x, y, z) X4_XOR(X4_XOR(X4_XOR(v, w), X4_XOR(x, y)), z)
#define X4_ANDN(x, y) _mm256_andnot_si256((x), (y)) /* ~x & y */
#define X4_ROL(x, n) _mm256_or_si256(_mm256_slli_epi64((x), (n)), _mm256_srli_epi64((x), 64 - (n)))

/* Keccak-f[1600]: theta, rho and pi, chi, iota (FIPS 202, Algorithms 1-5),
 * written out with constant rotations so the state stays in registers. */
static void mldsa_x4_permute(struct mldsa_x4 *st)
{
	__m256i a0 = st->s[0], a1 = st->s[1], a2 = st->s[2], a3 = st->s[3], a4 = st->s[4];
	__m256i a5 = st->s[5], a6 = st->s[6], a7 = st->s[7], a8 = st->s[8], a9 = st->s[9];
	__m256i a10 = st->s[10], a11 = st->s[11], a12 = st->s[12], a13 = st->s[13], a14 = st->s[14];
	__m256i a15 = st->s[15], a16 = st->s[16], a17 = st->s[17], a18 = st->s[18], a19 = st->s[19];
	__m256i a20 = st->s[20], a21 = st->s[21], a22 = st->s[22], a23 = st->s[23], a24 = st->s[24];

	for (unsigned round = 0; round < 24; round++) {
		__m256i c0 = X4_XOR5(a0, a5, a10, a15, a20);
		__m256i c1 = X4_XOR5(a1, a6, a11, a16, a21);
		__m256i c2 = X4_XOR5(a2, a7, a12, a17, a22);
		__m256i c3 = X4_XOR5(a3, a8, a13, a18, a23);
		__m256i c4 = X4_XOR5(a4, a9, a14, a19, a24);
		__m256i d0 = X4_XOR(c4, X4_ROL(c1, 1));
		__m256i d1 = X4_XOR(c0, X4_ROL(c2, 1));
		__m256i d2 = X4_XOR(c1, X4_ROL(c3, 1));
		__m256i d3 = X4_XOR(c2, X4_ROL(c4, 1));
		__m256i d4 = X4_XOR(c3, X4_ROL(c0, 1));
		__m256i b0 = X4_XOR(a0, d0);
		__m256i b1 = X4_ROL(X4_XOR(a6, d1), 44);
		__m256i b2 = X4_ROL(X4_XOR(a12, d2), 43);
		__m256i b3 = X4_ROL(X4_XOR(a18, d3), 21);
		__m256i b4 = X4_ROL(X4_XOR(a24, d4), 14);
		__m256i b5 = X4_ROL(X4_XOR(a3, d3), 28);
		__m256i b6 = X4_ROL(X4_XOR(a9, d4), 20);
		__m256i b7 = X4_ROL(X4_XOR(a10, d0), 3);
		__m256i b8 = X4_ROL(X4_XOR(a16, d1), 45);
		__m256i b9 = X4_ROL(X4_XOR(a22, d2), 61);
		__m256i b10 = X4_ROL(X4_XOR(a1, d1), 1);
		__m256i b11 = X4_ROL(X4_XOR(a7, d2), 6);
		__m256i b12 = X4_ROL(X4_XOR(a13, d3), 25);
		__m256i b13 = X4_ROL(X4_XOR(a19, d4), 8);
		__m256i b14 = X4_ROL(X4_XOR(a20, d0), 18);
		__m256i b15 = X4_ROL(X4_XOR(a4, d4), 27);
		__m256i b16 = X4_ROL(X4_XOR(a5, d0), 36);
		__m256i b17 = X4_ROL(X4_XOR(a11, d1), 10);
		__m256i b18 = X4_ROL(X4_XOR(a17, d2), 15);
		__m256i b19 = X4_ROL(X4_XOR(a23, d3), 56);
		__m256i b20 = X4_ROL(X4_XOR(a2, d2), 62);
		__m256i b21 = X4_ROL(X4_XOR(a8, d3), 55);
		__m256i b22 = X4_ROL(X4_XOR(a14, d4), 39);
		__m256i b23 = X4_ROL(X4_XOR(a15, d0), 41);
		__m256i b24 = X4_ROL(X4_XOR(a21, d1), 2);
		a0 = X4_XOR(b0, X4_ANDN(b1, b2));
		a1 = X4_XOR(b1, X4_ANDN(b2, b3));
		a2 = X4_XOR(b2, X4_ANDN(b3, b4));
		a3 = X4_XOR(b3, X4_ANDN(b4, b0));
		a4 = X4_XOR(b4, X4_ANDN(b0, b1));
		a5 = X4_XOR(b5, X4_ANDN(b6, b7));
		a6 = X4_XOR(b6, X4_ANDN(b7, b8));
		a7 = X4_XOR(b7, X4_ANDN(b8, b9));
		a8 = X4_XOR(b8, X4_ANDN(b9, b5));
		a9 = X4_XOR(b9, X4_ANDN(b5, b6));
		a10 = X4_XOR(b10, X4_ANDN(b11, b12));
		a11 = X4_XOR(b11, X4_ANDN(b12, b13));
		a12 = X4_XOR(b12, X4_ANDN(b13, b14));
		a13 = X4_XOR(b13, X4_ANDN(b14, b10));
		a14 = X4_XOR(b14, X4_ANDN(b10, b11));
		a15 = X4_XOR(b15, X4_ANDN(b16, b17));
		a16 = X4_XOR(b16, X4_ANDN(b17, b18));
		a17 = X4_XOR(b17, X4_ANDN(b18, b19));
		a18 = X4_XOR(b18, X4_ANDN(b19, b15));
		a19 = X4_XOR(b19, X4_ANDN(b15, b16));
		a20 = X4_XOR(b20, X4_ANDN(b21, b22));
		a21 = X4_XOR(b21, X4_ANDN(b22, b23));
		a22 = X4_XOR(b22, X4_ANDN(b23, b24));
		a23 = X4_XOR(b23, X4_ANDN(b24, b20));
		a24 = X4_XOR(b24, X4_ANDN(b20, b21));
		a0 = X4_XOR(a0, _mm256_set1_epi64x((long long)mldsa_x4_rc[round]));
	}
	st->s[0] = a0;
	st->s[1] = a1;
	st->s[2] = a2;
	st->s[3] = a3;
	st->s[4] = a4;
	st->s[5] = a5;
	st->s[6] = a6;
	st->s[7] = a7;
	st->s[8] = a8;
	st->s[9] = a9;
	st->s[10] = a10;
	st->s[11] = a11;
	st->s[12] = a12;
	st->s[13] = a13;
	st->s[14] = a14;
	st->s[15] = a15;
	st->s[16] = a16;
	st->s[17] = a17;
	st->s[18] = a18;
	st->s[19] = a19;
	st->s[20] = a20;
	st->s[21] = a21;
	st->s[22] = a22;
	st->s[23] = a23;
	st->s[24] = a24;
}

static uint64_t mldsa_x4_load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Absorbs prefix || in[i] (the same lengths for all four, fitting in one
 * block) into instance i with SHAKE padding (0x1f ... 0x80) and runs the
 * first permutation. */
static void mldsa_x4_absorb(struct mldsa_x4 *st, unsigned rate, const uint8_t *prefix,
			    size_t plen, const uint8_t in[4][2])
{
	uint8_t blk[4][SHAKE128_RATE] = { { 0 } };

	for (unsigned i = 0; i < 4; i++) {
		for (size_t j = 0; j < plen; j++)
			blk[i][j] = prefix[j];
		blk[i][plen] = in[i][0];
		blk[i][plen + 1] = in[i][1];
		blk[i][plen + 2] = 0x1f;
		blk[i][rate - 1] |= 0x80;
	}
	for (unsigned j = 0; j < 25; j++)
		st->s[j] = _mm256_setzero_si256();
	for (unsigned j = 0; j < rate / 8; j++)
		st->s[j] = _mm256_set_epi64x((long long)mldsa_x4_load64(blk[3] + 8 * j),
					     (long long)mldsa_x4_load64(blk[2] + 8 * j),
					     (long long)mldsa_x4_load64(blk[1] + 8 * j),
					     (long long)mldsa_x4_load64(blk[0] + 8 * j));
	mldsa_x4_permute(st);
	ct_wipe_bulk(blk, sizeof(blk));
}

/* Writes the current output block of every instance (rate bytes each) at
 * out[i] + off, then permutes for the next one. */
static void mldsa_x4_squeeze(struct mldsa_x4 *st, unsigned rate, uint8_t *out[4], size_t off)
{
	for (unsigned j = 0; j < rate / 8; j++) {
		uint64_t lane[4];

		_mm256_storeu_si256((__m256i *)lane, st->s[j]);
		/* x86 is little-endian: a lane's bytes are already in order. */
		for (unsigned i = 0; i < 4; i++)
			memcpy(out[i] + off + 8 * j, &lane[i], 8);
	}
	mldsa_x4_permute(st);
}

/* Algorithm 32 four entries at a time; entry e = 5r + s, the last batch
 * padded with a repeat of entry 29 into scratch. Five blocks (280
 * candidates) almost always give 256 coefficients; otherwise all four
 * streams are squeezed further. */
void mldsa_expand_a_avx2(struct mldsa_matrix *a, const uint8_t rho[32])
{
	enum { NB = 5 };
	uint8_t buf[4][NB * SHAKE128_RATE];
	uint8_t *out[4] = { buf[0], buf[1], buf[2], buf[3] };
	struct mldsa_poly scratch;
	struct mldsa_x4 st;

	for (unsigned e0 = 0; e0 < MLDSA_K * MLDSA_L; e0 += 4) {
		struct mldsa_poly *p[4];
		uint8_t idx[4][2];
		unsigned ctr[4], done;

		for (unsigned i = 0; i < 4; i++) {
			unsigned e = e0 + i < MLDSA_K * MLDSA_L ? e0 + i : MLDSA_K * MLDSA_L - 1;

			p[i] = e0 + i == e ? &a->row[e / MLDSA_L].v[e % MLDSA_L] : &scratch;
			idx[i][0] = (uint8_t)(e % MLDSA_L); /* column first */
			idx[i][1] = (uint8_t)(e / MLDSA_L);
		}
		mldsa_x4_absorb(&st, SHAKE128_RATE, rho, 32, idx);
		for (unsigned b = 0; b < NB; b++)
			mldsa_x4_squeeze(&st, SHAKE128_RATE, out, b * SHAKE128_RATE);
		done = 0;
		for (unsigned i = 0; i < 4; i++) {
			ctr[i] = mldsa_rej_uniform(p[i], 0, buf[i], sizeof(buf[i]));
			done += ctr[i] == MLDSA_N;
		}
		while (done < 4) {
			mldsa_x4_squeeze(&st, SHAKE128_RATE, out, 0);
			done = 0;
			for (unsigned i = 0; i < 4; i++) {
				ctr[i] = mldsa_rej_uniform(p[i], ctr[i], buf[i], SHAKE128_RATE);
				done += ctr[i] == MLDSA_N;
			}
		}
	}
}

/* Algorithm 34: y[0..3] four at a time, y[4] by the scalar code. */
void mldsa_expand_mask_avx2(struct mldsa_polyvecl *y, const uint8_t rhopp[64], uint16_t kappa)
{
	enum { NB = (MLDSA_MASK_BYTES + SHAKE256_RATE - 1) / SHAKE256_RATE };
	uint8_t buf[4][NB * SHAKE256_RATE];
	uint8_t *out[4] = { buf[0], buf[1], buf[2], buf[3] };
	uint8_t nonce[4][2];
	struct mldsa_x4 st;

	for (unsigned i = 0; i < 4; i++) {
		uint16_t n = (uint16_t)(kappa + i);

		nonce[i][0] = (uint8_t)n;
		nonce[i][1] = (uint8_t)(n >> 8);
	}
	mldsa_x4_absorb(&st, SHAKE256_RATE, rhopp, 64, nonce);
	for (unsigned b = 0; b < NB; b++)
		mldsa_x4_squeeze(&st, SHAKE256_RATE, out, b * SHAKE256_RATE);
	for (unsigned i = 0; i < 4; i++)
		mldsa_mask_unpack(&y->v[i], buf[i]);
	mldsa_expand_mask_poly(&y->v[4], rhopp, (uint16_t)(kappa + 4));
	ct_wipe_bulk(buf, sizeof(buf));
	ct_wipe_bulk(&st, sizeof(st));
}

#endif
