/* Four-way Keccak-f[1600] on AVX2 (keccak_x4.h): each __m256i holds one
 * lane of the four states. The round is keccak.c's (theta, rho, pi, chi,
 * iota; FIPS 202, Section 3.3), written out with constant rotations over
 * two state arrays used in turn, which measured fewer instructions than
 * keeping the 25 lanes in named variables. Blocks move between the four
 * byte strings and the interleaved state with 4 x 4 transposes of 64-bit
 * elements (x86 is little-endian, so a lane's bytes are in order). */
#include "crypto/keccak_x4.h"

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

void keccak_x4_permute(struct keccak_x4 *st)
{
	/* The alignment told lets the copies in and out become vector moves
	 * that the compiler then keeps in registers. */
	__m256i *s = __builtin_assume_aligned(&st->s[0], 32);
	__m256i a[25], e[25];
	__m256i b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

	memcpy(a, s, sizeof(a));
	for (unsigned i = 0; i < 24; i += 2) {
		KX4_ROUND(a, e, _mm256_set1_epi64x((long long)keccak_round_constants[i]));
		KX4_ROUND(e, a, _mm256_set1_epi64x((long long)keccak_round_constants[i + 1]));
	}
	memcpy(s, a, sizeof(a));
}

/* v[k] = element k of each of r[0..3]: the 4 x 4 transpose, its own
 * inverse. */
static inline void keccak_x4_transpose(__m256i v[4], const __m256i r[4])
{
	__m256i t0 = _mm256_unpacklo_epi64(r[0], r[1]);
	__m256i t1 = _mm256_unpackhi_epi64(r[0], r[1]);
	__m256i t2 = _mm256_unpacklo_epi64(r[2], r[3]);
	__m256i t3 = _mm256_unpackhi_epi64(r[2], r[3]);

	v[0] = _mm256_permute2x128_si256(t0, t2, 0x20);
	v[1] = _mm256_permute2x128_si256(t1, t3, 0x20);
	v[2] = _mm256_permute2x128_si256(t0, t2, 0x31);
	v[3] = _mm256_permute2x128_si256(t1, t3, 0x31);
}

void keccak_x4_xor_block(struct keccak_x4 *st, unsigned rate, const uint8_t *const blk[4])
{
	unsigned i = 0;

	for (; 8 * i + 32 <= rate; i += 4) {
		__m256i r[4], v[4];

		for (unsigned j = 0; j < 4; j++)
			r[j] = _mm256_loadu_si256((const __m256i *)(blk[j] + 8 * i));
		keccak_x4_transpose(v, r);
		for (unsigned k = 0; k < 4; k++)
			st->s[i + k] = XOR(st->s[i + k], v[k]);
	}
	for (; 8 * i < rate; i++) {
		uint64_t w[4];

		for (unsigned j = 0; j < 4; j++)
			memcpy(&w[j], blk[j] + 8 * i, 8);
		st->s[i] = XOR(st->s[i], _mm256_loadu_si256((const __m256i *)w));
	}
}

void keccak_x4_absorb(struct keccak_x4 *st, unsigned rate, const uint8_t *const in[4],
		      size_t inlen, uint8_t dsep)
{
	uint8_t last[4][SHAKE128_RATE];
	const uint8_t *p[4];
	size_t off = 0, tail;

	memset(st, 0, sizeof(*st));
	for (; inlen - off >= rate; off += rate) {
		for (unsigned j = 0; j < 4; j++)
			p[j] = in[j] + off;
		keccak_x4_xor_block(st, rate, p);
		keccak_x4_permute(st);
	}
	tail = inlen - off;
	for (unsigned j = 0; j < 4; j++) {
		memcpy(last[j], in[j] + off, tail);
		memset(last[j] + tail, 0, rate - tail);
		last[j][tail] ^= dsep;
		last[j][rate - 1] ^= 0x80;
		p[j] = last[j];
	}
	keccak_x4_xor_block(st, rate, p);
	ct_wipe(last, sizeof(last));
}

void keccak_x4_squeezeblocks(struct keccak_x4 *st, unsigned rate, uint8_t *const out[4],
			     size_t nblocks)
{
	for (size_t b = 0; b < nblocks; b++) {
		size_t off = b * rate;
		unsigned i = 0;

		keccak_x4_permute(st);
		for (; 8 * i + 32 <= rate; i += 4) {
			__m256i v[4];

			keccak_x4_transpose(v, &st->s[i]);
			for (unsigned j = 0; j < 4; j++)
				_mm256_storeu_si256((__m256i *)(out[j] + off + 8 * i), v[j]);
		}
		for (; 8 * i < rate; i++) {
			uint64_t w[4];

			_mm256_storeu_si256((__m256i *)w, st->s[i]);
			for (unsigned j = 0; j < 4; j++)
				memcpy(out[j] + off + 8 * i, &w[j], 8);
		}
	}
}
