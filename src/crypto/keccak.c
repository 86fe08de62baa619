/* Keccak-f[1600] and the sponge construction of FIPS 202: SHA3-256,
 * SHA3-512, SHAKE128 and SHAKE256.
 *
 * The state is 25 64-bit lanes, lane (x, y) at index x + 5y; bytes are
 * mapped to lanes little-endian (FIPS 202, section 3.1.2 and B.1). */
#include "crypto/keccak.h"

#include <string.h>

#include "crypto/ct.h"

#define KECCAK_ROUNDS 24

/* Round constants of the iota step (FIPS 202, Algorithm 5 and 6). */
const uint64_t keccak_round_constants[KECCAK_ROUNDS] = {
	0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
	0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
	0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
	0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
	0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
	0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
	0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
	0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

/* One round, Rnd = iota . chi . pi . rho . theta (FIPS 202, section 3.3),
 * reading lanes A0..A24 and writing E0..E24. theta's column parities are
 * c, its per-column masks d; rho and pi are folded into which lane lands
 * in b0..b4 (pi: lane (x, y) moves to (y, 2x + 3y)) with its rho offset;
 * chi then works on one output row b0..b4 at a time.
 *
 * The lanes are held "complemented" (the lane complementing transform of
 * the Keccak team's implementation overview): lanes 1, 2, 8, 12, 17 and 20
 * are stored as their bitwise NOT. theta, rho and pi are linear, so they
 * carry the complements through as known constants (c0..c3 come out
 * complemented, hence d0, d3 and the b lanes they feed), and each chi
 * output b ^ (~b' & b'') can be written with AND or OR of the stored
 * lanes so that it lands in the same complemented layout: by De Morgan,
 * ~x & y = ~(x | ~y), and a complement on the result moves into the
 * complement status of the lane. That leaves one NOT per row instead of
 * five (x86-64 without BMI1 has no and-not). The formulas below were
 * derived from that status bookkeeping and are checked by the FIPS 202
 * known answers. */
#define KECCAK_ROUND(A, E, rc) \
	do { \
		c0 = A##0 ^ A##5 ^ A##10 ^ A##15 ^ A##20; \
		c1 = A##1 ^ A##6 ^ A##11 ^ A##16 ^ A##21; \
		c2 = A##2 ^ A##7 ^ A##12 ^ A##17 ^ A##22; \
		c3 = A##3 ^ A##8 ^ A##13 ^ A##18 ^ A##23; \
		c4 = A##4 ^ A##9 ^ A##14 ^ A##19 ^ A##24; \
		d0 = c4 ^ ROL64(c1, 1); \
		d1 = c0 ^ ROL64(c2, 1); \
		d2 = c1 ^ ROL64(c3, 1); \
		d3 = c2 ^ ROL64(c4, 1); \
		d4 = c3 ^ ROL64(c0, 1); \
		b0 = A##0 ^ d0; \
		b1 = ROL64(A##6 ^ d1, 44); \
		b2 = ROL64(A##12 ^ d2, 43); \
		b3 = ROL64(A##18 ^ d3, 21); \
		b4 = ROL64(A##24 ^ d4, 14); \
		E##0 = b0 ^ (b1 | b2) ^ (rc); \
		E##1 = b1 ^ (~b2 | b3); \
		E##2 = b2 ^ (b3 & b4); \
		E##3 = b3 ^ (b4 | b0); \
		E##4 = b4 ^ (b0 & b1); \
		b0 = ROL64(A##3 ^ d3, 28); \
		b1 = ROL64(A##9 ^ d4, 20); \
		b2 = ROL64(A##10 ^ d0, 3); \
		b3 = ROL64(A##16 ^ d1, 45); \
		b4 = ROL64(A##22 ^ d2, 61); \
		E##5 = b0 ^ (b1 | b2); \
		E##6 = b1 ^ (b2 & b3); \
		E##7 = b2 ^ (b3 | ~b4); \
		E##8 = b3 ^ (b4 | b0); \
		E##9 = b4 ^ (b0 & b1); \
		b0 = ROL64(A##1 ^ d1, 1); \
		b1 = ROL64(A##7 ^ d2, 6); \
		b2 = ROL64(A##13 ^ d3, 25); \
		b3 = ROL64(A##19 ^ d4, 8); \
		b4 = ROL64(A##20 ^ d0, 18); \
		E##10 = b0 ^ (b1 | b2); \
		E##11 = b1 ^ (b2 & b3); \
		b3 = ~b3; \
		E##12 = b2 ^ (b3 & b4); \
		E##13 = b3 ^ (b4 | b0); \
		E##14 = b4 ^ (b0 & b1); \
		b0 = ROL64(A##4 ^ d4, 27); \
		b1 = ROL64(A##5 ^ d0, 36); \
		b2 = ROL64(A##11 ^ d1, 10); \
		b3 = ROL64(A##17 ^ d2, 15); \
		b4 = ROL64(A##23 ^ d3, 56); \
		E##15 = b0 ^ (b1 & b2); \
		E##16 = b1 ^ (b2 | b3); \
		b3 = ~b3; \
		E##17 = b2 ^ (b3 | b4); \
		E##18 = b3 ^ (b4 & b0); \
		E##19 = b4 ^ (b0 | b1); \
		b0 = ROL64(A##2 ^ d2, 62); \
		b1 = ROL64(A##8 ^ d3, 55); \
		b2 = ROL64(A##14 ^ d4, 39); \
		b3 = ROL64(A##15 ^ d0, 41); \
		b4 = ROL64(A##21 ^ d1, 2); \
		E##20 = b0 ^ (~b1 & b2); \
		E##21 = ~b1 ^ (b2 | b3); \
		E##22 = b2 ^ (b3 & b4); \
		E##23 = b3 ^ (b4 | b0); \
		E##24 = b4 ^ (b0 & b1); \
	} while (0)

void keccak_f1600(uint64_t s[25])
{
	/* Into the complemented layout (see KECCAK_ROUND). */
	uint64_t a0 = s[0], a1 = ~s[1], a2 = ~s[2], a3 = s[3], a4 = s[4],
		 a5 = s[5], a6 = s[6], a7 = s[7], a8 = ~s[8], a9 = s[9],
		 a10 = s[10], a11 = s[11], a12 = ~s[12], a13 = s[13],
		 a14 = s[14], a15 = s[15], a16 = s[16], a17 = ~s[17],
		 a18 = s[18], a19 = s[19], a20 = ~s[20], a21 = s[21],
		 a22 = s[22], a23 = s[23], a24 = s[24];
	uint64_t e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13,
		 e14, e15, e16, e17, e18, e19, e20, e21, e22, e23, e24;
	uint64_t b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4;

	/* Two rounds per iteration so the lanes ping-pong between a and e
	 * without copies; unrolling all 24 measured slower (code size). */
	for (unsigned i = 0; i < KECCAK_ROUNDS; i += 2) {
		KECCAK_ROUND(a, e, keccak_round_constants[i]);
		KECCAK_ROUND(e, a, keccak_round_constants[i + 1]);
	}
	s[0] = a0;
	s[1] = ~a1;
	s[2] = ~a2;
	s[3] = a3;
	s[4] = a4;
	s[5] = a5;
	s[6] = a6;
	s[7] = a7;
	s[8] = ~a8;
	s[9] = a9;
	s[10] = a10;
	s[11] = a11;
	s[12] = ~a12;
	s[13] = a13;
	s[14] = a14;
	s[15] = a15;
	s[16] = a16;
	s[17] = ~a17;
	s[18] = a18;
	s[19] = a19;
	s[20] = ~a20;
	s[21] = a21;
	s[22] = a22;
	s[23] = a23;
	s[24] = a24;
}

/* Sponge bytes map to lanes little-endian. On a little-endian machine that
 * is the lanes' own memory layout, so a lane is one memcpy and the state can
 * be read out as bytes; elsewhere the bytes are assembled by shifts.
 * Building with -DKECCAK_LITTLE_ENDIAN=0 forces the shifting path (to test
 * it on a little-endian machine). */
#ifndef KECCAK_LITTLE_ENDIAN
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
	__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define KECCAK_LITTLE_ENDIAN 1
#else
#define KECCAK_LITTLE_ENDIAN 0
#endif
#endif

static inline uint64_t keccak_load64(const uint8_t *p)
{
#if KECCAK_LITTLE_ENDIAN
	uint64_t r;

	memcpy(&r, p, sizeof(r));
	return r;
#else
	uint64_t r = 0;

	for (unsigned i = 0; i < 8; i++)
		r |= (uint64_t)p[i] << (8 * i);
	return r;
#endif
}

static void keccak_init(struct keccak_state *st, unsigned rate, uint8_t dsep)
{
	memset(st->s, 0, sizeof(st->s));
	st->pos = 0;
	st->rate = rate;
	st->dsep = dsep;
	st->squeezing = 0;
}

/* Domain separation (FIPS 202, section 6): SHA3-d appends the bits 01 and
 * SHAKE the bits 1111 before the pad10*1 padding; with the first padding
 * bit that is the byte 0x06 or 0x1f. */
void shake128_init(struct keccak_state *st)
{
	keccak_init(st, SHAKE128_RATE, 0x1f);
}

void shake256_init(struct keccak_state *st)
{
	keccak_init(st, SHAKE256_RATE, 0x1f);
}

void sha3_256_init(struct keccak_state *st)
{
	keccak_init(st, SHA3_256_RATE, 0x06);
}

void sha3_512_init(struct keccak_state *st)
{
	keccak_init(st, SHA3_512_RATE, 0x06);
}

/* XOR bytes into the state from byte offset pos (pos + len <= rate):
 * single bytes up to a lane boundary, whole lanes, then the tail. */
static void keccak_xor_bytes(uint64_t s[25], unsigned pos, const uint8_t *in,
			     size_t len)
{
	for (; len && pos % 8; len--, pos++)
		s[pos / 8] ^= (uint64_t)*in++ << (8 * (pos % 8));
	for (; len >= 8; len -= 8, pos += 8, in += 8)
		s[pos / 8] ^= keccak_load64(in);
	for (; len; len--, pos++)
		s[pos / 8] ^= (uint64_t)*in++ << (8 * (pos % 8));
}

/* A whole block of `rate` bytes (a multiple of 8) into lanes 0..rate/8-1. */
static void keccak_xor_block(uint64_t s[25], const uint8_t *in, unsigned rate)
{
	for (unsigned i = 0; i < rate / 8; i++)
		s[i] ^= keccak_load64(in + 8 * i);
}

/* The converse of keccak_xor_bytes: copy len bytes of the state from byte
 * offset pos out. */
static void keccak_extract_bytes(const uint64_t s[25], unsigned pos, uint8_t *out,
				 size_t len)
{
#if KECCAK_LITTLE_ENDIAN
	memcpy(out, (const uint8_t *)s + pos, len);
#else
	for (; len; len--, pos++)
		*out++ = (uint8_t)(s[pos / 8] >> (8 * (pos % 8)));
#endif
}

void keccak_absorb(struct keccak_state *st, const uint8_t *in, size_t len)
{
	unsigned rate = st->rate;

	if (!len)
		return;
	if (st->pos) {
		size_t n = rate - st->pos;

		if (n > len)
			n = len;
		keccak_xor_bytes(st->s, st->pos, in, n);
		st->pos += (unsigned)n;
		in += n;
		len -= n;
		if (st->pos < rate)
			return;
		keccak_f1600(st->s);
		st->pos = 0;
	}
	for (; len >= rate; in += rate, len -= rate) {
		keccak_xor_block(st->s, in, rate);
		keccak_f1600(st->s);
	}
	keccak_xor_bytes(st->s, 0, in, len);
	st->pos = (unsigned)len;
}

/* pad10*1 (FIPS 202, Algorithm 9) merged with the domain bits, then the
 * first output block is computed; pos counts the bytes of it handed out. */
void keccak_finalize(struct keccak_state *st)
{
	if (st->squeezing)
		return;
	st->s[st->pos / 8] ^= (uint64_t)st->dsep << (8 * (st->pos % 8));
	st->s[(st->rate - 1) / 8] ^= 0x80ULL << (8 * ((st->rate - 1) % 8));
	keccak_f1600(st->s);
	st->pos = 0;
	st->squeezing = 1;
}

void keccak_squeeze(struct keccak_state *st, uint8_t *out, size_t len)
{
	unsigned rate = st->rate;

	keccak_finalize(st);
	while (len) {
		size_t n;

		if (st->pos == rate) {
			keccak_f1600(st->s);
			st->pos = 0;
		}
		n = rate - st->pos;
		if (n > len)
			n = len;
		keccak_extract_bytes(st->s, st->pos, out, n);
		st->pos += (unsigned)n;
		out += n;
		len -= n;
	}
}

void keccak_squeezeblocks(struct keccak_state *st, uint8_t *out, size_t nblocks)
{
	keccak_squeeze(st, out, nblocks * st->rate);
}

static void keccak_oneshot(void (*init)(struct keccak_state *), uint8_t *out,
			   size_t outlen, const uint8_t *in, size_t len)
{
	struct keccak_state st;

	init(&st);
	keccak_absorb(&st, in, len);
	keccak_squeeze(&st, out, outlen);
	/* The input may be a secret (e.g. G(d || k) in ML-KEM). */
	ct_wipe(&st, sizeof(st));
}

void sha3_256(uint8_t out[32], const uint8_t *in, size_t len)
{
	keccak_oneshot(sha3_256_init, out, 32, in, len);
}

void sha3_512(uint8_t out[64], const uint8_t *in, size_t len)
{
	keccak_oneshot(sha3_512_init, out, 64, in, len);
}

void shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	keccak_oneshot(shake128_init, out, outlen, in, len);
}

void shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	keccak_oneshot(shake256_init, out, outlen, in, len);
}
