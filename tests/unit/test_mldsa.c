/* ML-DSA-65 unit tests: the rounding functions against the FIPS 204
 * definitions over every input, the NTT against schoolbook negacyclic
 * multiplication, and sign/verify round trips with every kind of
 * tampering the verifier must catch. The official vectors live in
 * tests/vectors/tv_mldsa.c. */
#include "t.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mldsa.h"
#include "crypto/mldsa_poly.h"

/* Algorithm 36 as written: r0 = r mod+- 2gamma2, special case r - r0 = q-1. */
static int32_t ref_decompose(int32_t *r0, int32_t r)
{
	int32_t m = 2 * MLDSA_GAMMA2, lo = r % m;

	if (lo > m / 2)
		lo -= m;
	if (r - lo == MLDSA_Q - 1) {
		*r0 = lo - 1;
		return 0;
	}
	*r0 = lo;
	return (r - lo) / m;
}

static void test_decompose_exhaustive(void)
{
	unsigned bad = 0;

	for (int32_t a = 0; a < MLDSA_Q; a++) {
		int32_t r0, e0, r1 = mldsa_decompose(&r0, a), e1 = ref_decompose(&e0, a);

		bad += r1 != e1 || r0 != e0;
	}
	T_CHECK(bad == 0);
}

static void test_power2round_exhaustive(void)
{
	static struct mldsa_poly a, a1, a0;
	unsigned bad = 0;

	for (int32_t base = 0; base < MLDSA_Q; base += MLDSA_N) {
		for (unsigned i = 0; i < MLDSA_N; i++)
			a.c[i] = base + (int32_t)i < MLDSA_Q ? base + (int32_t)i : 0;
		mldsa_poly_power2round(&a1, &a0, &a);
		for (unsigned i = 0; i < MLDSA_N; i++) {
			int32_t lo = a.c[i] & ((1 << MLDSA_D) - 1);

			if (lo > 1 << (MLDSA_D - 1))
				lo -= 1 << MLDSA_D;
			bad += a0.c[i] != lo || a1.c[i] != (a.c[i] - lo) >> MLDSA_D;
		}
	}
	T_CHECK(bad == 0);
}

static int32_t modq(int64_t x)
{
	x %= MLDSA_Q;
	return (int32_t)(x < 0 ? x + MLDSA_Q : x);
}

static void test_ntt_multiply(void)
{
	static struct mldsa_poly a, b, c;
	static struct mldsa_polyvecl ah, bh;
	int64_t ref[MLDSA_N] = { 0 };
	unsigned bad = 0;

	srand(1);
	for (unsigned i = 0; i < MLDSA_N; i++) {
		a.c[i] = rand() % MLDSA_Q - MLDSA_Q / 2;
		b.c[i] = rand() % MLDSA_Q - MLDSA_Q / 2;
	}
	/* Schoolbook product in Z_q[X] / (X^256 + 1). */
	for (unsigned i = 0; i < MLDSA_N; i++)
		for (unsigned j = 0; j < MLDSA_N; j++) {
			int64_t p = modq((int64_t)a.c[i] * b.c[j]);
			unsigned k = (i + j) % MLDSA_N;

			ref[k] = modq(i + j < MLDSA_N ? ref[k] + p : ref[k] - p);
		}
	/* A dot product whose other terms are zero is a plain product. */
	ah.v[0] = a;
	bh.v[0] = b;
	mldsa_ntt(&bh.v[0]);
	mldsa_ntt(&ah.v[0]);
	mldsa_poly_freeze(&ah.v[0]);
	mldsa_polyvecl_dot(&c, &ah, &bh);
	mldsa_invntt_tomont(&c);
	mldsa_poly_freeze(&c);
	for (unsigned i = 0; i < MLDSA_N; i++)
		bad += c.c[i] != ref[i];
	T_CHECK(bad == 0);
}

/* The sparse challenge product against exact schoolbook multiplication in
 * Z[X] / (X^256 + 1), on both extremes of the t0 range (whichever of the
 * portable / AVX2 paths is active; run with DYBERVPN_NO_AVX2=1 too). */
static void test_mul_challenge(void)
{
	static struct mldsa_poly c, s, r;
	static struct mldsa_poly_ext ext;
	struct mldsa_challenge ch;
	unsigned bad = 0;
	uint8_t ctilde[MLDSA_CTILDE_LEN];

	srand(3);
	for (unsigned round = 0; round < 20; round++) {
		int64_t ref[MLDSA_N] = { 0 };

		for (unsigned i = 0; i < sizeof(ctilde); i++)
			ctilde[i] = (uint8_t)rand();
		mldsa_sample_in_ball(&c, ctilde);
		for (unsigned i = 0; i < MLDSA_N; i++)
			s.c[i] = round & 1 ? (rand() & 1 ? 4096 : -4095) : rand() % 8191 - 4095;
		for (unsigned i = 0; i < MLDSA_N; i++)
			for (unsigned j = 0; j < MLDSA_N; j++) {
				int64_t p = (int64_t)c.c[i] * s.c[j];

				ref[(i + j) % MLDSA_N] += i + j < MLDSA_N ? p : -p;
			}
		mldsa_challenge_prepare(&ch, &c);
		mldsa_poly_mul_challenge(&r, &ch, &s, &ext);
		for (unsigned i = 0; i < MLDSA_N; i++)
			bad += r.c[i] != ref[i];
	}
	T_CHECK(bad == 0);
	/* SampleInBall gives exactly tau = 49 coefficients +-1. */
	{
		unsigned nz = 0;

		for (unsigned i = 0; i < MLDSA_N; i++)
			nz += c.c[i] != 0 && (c.c[i] == 1 || c.c[i] == -1);
		T_CHECK(nz == MLDSA_TAU);
	}
}

/* The 16-bit products of the portable path (mldsa_poly_mul_challenge_small
 * for s1/s2, mldsa_poly_mul_challenge_t1 for c * t1 * 2^d) against exact
 * schoolbook multiplication, at both ends of their input ranges. */
static void test_mul_challenge_small(void)
{
	static struct mldsa_poly c, s, t1, r;
	static struct mldsa_poly_ext ext;
	static struct mldsa_poly_ext16 s16;
	struct mldsa_challenge ch;
	unsigned bad = 0;
	uint8_t ctilde[MLDSA_CTILDE_LEN];

	srand(4);
	for (unsigned round = 0; round < 20; round++) {
		int64_t ref_s[MLDSA_N] = { 0 }, ref_t[MLDSA_N] = { 0 };

		for (unsigned i = 0; i < sizeof(ctilde); i++)
			ctilde[i] = (uint8_t)rand();
		mldsa_sample_in_ball(&c, ctilde);
		for (unsigned i = 0; i < MLDSA_N; i++) {
			s.c[i] = round & 1 ? (rand() & 1 ? MLDSA_ETA : -MLDSA_ETA) :
					     rand() % (2 * MLDSA_ETA + 1) - MLDSA_ETA;
			t1.c[i] = round & 1 ? (rand() & 1 ? 1023 : 0) : rand() % 1024;
		}
		for (unsigned i = 0; i < MLDSA_N; i++)
			for (unsigned j = 0; j < MLDSA_N; j++) {
				int64_t ps = (int64_t)c.c[i] * s.c[j];
				int64_t pt = (int64_t)c.c[i] * t1.c[j] * (1 << MLDSA_D);

				ref_s[(i + j) % MLDSA_N] += i + j < MLDSA_N ? ps : -ps;
				ref_t[(i + j) % MLDSA_N] += i + j < MLDSA_N ? pt : -pt;
			}
		mldsa_challenge_prepare(&ch, &c);
		mldsa_poly_ext16(&s16, &s);
		mldsa_poly_mul_challenge_small(&r, &ch, &s, &s16, &ext);
		for (unsigned i = 0; i < MLDSA_N; i++)
			bad += r.c[i] != ref_s[i];
		mldsa_poly_mul_challenge_t1(&r, &ch, &t1, &ext);
		for (unsigned i = 0; i < MLDSA_N; i++)
			bad += r.c[i] != ref_t[i];
	}
	T_CHECK(bad == 0);
}

/* The AVX2 transforms must agree with the portable ones mod q (they pick
 * different representatives), on inputs at the edges of their bounds (|c|
 * < q in, as the callers give), with outputs within the bounds the callers
 * rely on: |c| < 9q after the forward, |c| < q after the inverse one. */
static void test_ntt_avx2_matches(void)
{
#if defined(__x86_64__)
	static struct mldsa_poly a, b;
	unsigned bad = 0;

	if (!__builtin_cpu_supports("avx2"))
		return;
	srand(2);
	for (unsigned round = 0; round < 200; round++) {
		for (unsigned i = 0; i < MLDSA_N; i++) {
			int32_t v = rand() % MLDSA_Q;

			a.c[i] = round == 0 ? MLDSA_Q - 1 : round == 1 ? -(MLDSA_Q - 1) :
				 rand() & 1 ? v : -v;
		}
		b = a;
		mldsa_ntt_c(&a);
		mldsa_ntt_avx2(&b);
		for (unsigned i = 0; i < MLDSA_N; i++) {
			bad += a.c[i] <= -9 * MLDSA_Q || a.c[i] >= 9 * MLDSA_Q ||
			       b.c[i] <= -9 * MLDSA_Q || b.c[i] >= 9 * MLDSA_Q;
			a.c[i] = mldsa_reduce32(a.c[i]);
			bad += modq(a.c[i]) != modq(mldsa_reduce32(b.c[i]));
		}
		b = a;
		mldsa_invntt_tomont_c(&a);
		mldsa_invntt_tomont_avx2(&b);
		for (unsigned i = 0; i < MLDSA_N; i++)
			bad += a.c[i] <= -MLDSA_Q || a.c[i] >= MLDSA_Q ||
			       b.c[i] <= -MLDSA_Q || b.c[i] >= MLDSA_Q;
		mldsa_poly_freeze(&a);
		mldsa_poly_freeze(&b);
		bad += memcmp(&a, &b, sizeof(a)) != 0;
	}
	T_CHECK(bad == 0);
#endif
}

static uint8_t pk[MLDSA65_PK_LEN], sk[MLDSA65_SK_LEN], sig[MLDSA65_SIG_LEN];
static uint8_t ctx[256], msg[100];
static const uint8_t zero_rnd[MLDSA65_RND_LEN];

static void setup_key(void)
{
	uint8_t xi[MLDSA65_SEED_LEN];

	for (unsigned i = 0; i < sizeof(xi); i++)
		xi[i] = (uint8_t)(7 * i + 1);
	for (unsigned i = 0; i < sizeof(ctx); i++)
		ctx[i] = (uint8_t)(i ^ 0x5a);
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	T_CHECK(mldsa65_keypair_from_seed(pk, sk, xi) == 0);
}

static void test_roundtrip_contexts(void)
{
	static const size_t lens[] = { 0, 1, 255 };

	for (unsigned n = 0; n < sizeof(lens) / sizeof(*lens); n++) {
		size_t cl = lens[n];

		T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), ctx, cl, sk, zero_rnd) == 0);
		T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), ctx, cl, pk) == 0);
		/* Another context length is another M'. */
		T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), ctx, cl ? cl - 1 : 1, pk) != 0);
	}
	T_CHECK(mldsa65_sign(sig, NULL, 0, NULL, 0, sk, zero_rnd) == 0);
	T_CHECK(mldsa65_verify(sig, NULL, 0, NULL, 0, pk) == 0);
}

static void test_ctx_too_long(void)
{
	uint8_t zero[MLDSA65_SIG_LEN] = { 0 };

	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), ctx, 255, sk, zero_rnd) == 0);
	T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), ctx, 256, pk) != 0);
	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), ctx, 256, sk, zero_rnd) != 0);
	T_EQ_MEM(sig, zero, sizeof(zero));
	T_CHECK(mldsa65_sign_randomized(sig, msg, sizeof(msg), ctx, 256, sk) != 0);
}

/* Every single-bit flip in a sample of positions of sig, msg, ctx and pk
 * must be rejected. */
static void test_flips(void)
{
	unsigned accepted = 0;

	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), ctx, 17, sk, zero_rnd) == 0);
	T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk) == 0);
	for (unsigned i = 0; i < MLDSA65_SIG_LEN; i += 97) {
		sig[i] ^= (uint8_t)(1u << (i % 8));
		accepted += !mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk);
		sig[i] ^= (uint8_t)(1u << (i % 8));
	}
	/* The last byte holds the final hint count. */
	sig[MLDSA65_SIG_LEN - 1] ^= 1;
	accepted += !mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk);
	sig[MLDSA65_SIG_LEN - 1] ^= 1;
	for (unsigned i = 0; i < sizeof(msg); i += 13) {
		msg[i] ^= 0x80;
		accepted += !mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk);
		msg[i] ^= 0x80;
	}
	for (unsigned i = 0; i < 17; i++) {
		ctx[i] ^= 1;
		accepted += !mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk);
		ctx[i] ^= 1;
	}
	for (unsigned i = 0; i < MLDSA65_PK_LEN; i += 61) {
		pk[i] ^= 4;
		accepted += !mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk);
		pk[i] ^= 4;
	}
	T_CHECK(accepted == 0);
	T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), ctx, 17, pk) == 0);
}

/* The three signing interfaces agree: Sign(msg, ctx) equals Sign_internal
 * on M' and Sign_mu on H(tr || M'), and hedged signing differs but
 * verifies. */
static void test_interfaces(void)
{
	static uint8_t sig2[MLDSA65_SIG_LEN], mprime[2 + 5 + sizeof(msg)];
	uint8_t rnd[MLDSA65_RND_LEN];

	mprime[0] = 0;
	mprime[1] = 5;
	memcpy(mprime + 2, ctx, 5);
	memcpy(mprime + 7, msg, sizeof(msg));
	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), ctx, 5, sk, zero_rnd) == 0);
	T_CHECK(mldsa65_sign_internal(sig2, mprime, sizeof(mprime), sk, zero_rnd) == 0);
	T_EQ_MEM(sig, sig2, sizeof(sig));
	T_CHECK(mldsa65_verify_internal(sig, mprime, sizeof(mprime), pk) == 0);
	T_CHECK(mldsa65_verify_internal(sig, mprime, sizeof(mprime) - 1, pk) != 0);

	memset(rnd, 0xa5, sizeof(rnd));
	T_CHECK(mldsa65_sign(sig2, msg, sizeof(msg), ctx, 5, sk, rnd) == 0);
	T_CHECK(memcmp(sig, sig2, sizeof(sig)) != 0);
	T_CHECK(mldsa65_verify(sig2, msg, sizeof(msg), ctx, 5, pk) == 0);
	T_CHECK(mldsa65_sign_randomized(sig2, msg, sizeof(msg), ctx, 5, sk) == 0);
	T_CHECK(mldsa65_verify(sig2, msg, sizeof(msg), ctx, 5, pk) == 0);
}

static void test_random_keypair(void)
{
	static uint8_t pk2[MLDSA65_PK_LEN], sk2[MLDSA65_SK_LEN];

	T_CHECK(mldsa65_keypair(pk2, sk2) == 0);
	T_CHECK(mldsa65_check_sk(sk2) == 0);
	T_CHECK(mldsa65_sign_randomized(sig, msg, sizeof(msg), NULL, 0, sk2) == 0);
	T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), NULL, 0, pk2) == 0);
	T_CHECK(mldsa65_verify(sig, msg, sizeof(msg), NULL, 0, pk) != 0);
}

/* An s1 or s2 field above 2 * eta is refused by check_sk and by signing;
 * t0 fields have no invalid value. */
static void test_check_sk(void)
{
	static uint8_t bad[MLDSA65_SK_LEN];
	const unsigned s1 = 128, s2 = 128 + 5 * 128, t0 = 128 + 11 * 128;

	T_CHECK(mldsa65_check_sk(sk) == 0);
	memcpy(bad, sk, sizeof(bad));
	bad[s1 + 3] = (uint8_t)((bad[s1 + 3] & 0x0f) | 0x90);
	T_CHECK(mldsa65_check_sk(bad) != 0);
	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), NULL, 0, bad, zero_rnd) != 0);
	memcpy(bad, sk, sizeof(bad));
	bad[s2 + 700] = (uint8_t)((bad[s2 + 700] & 0xf0) | 0x0f);
	T_CHECK(mldsa65_check_sk(bad) != 0);
	memcpy(bad, sk, sizeof(bad));
	bad[t0 + 5] = 0xff;
	T_CHECK(mldsa65_check_sk(bad) == 0);
}

/* Algorithm 21: hint indices must increase strictly within a polynomial,
 * counts must not decrease nor pass omega, and unused slots must be 0. */
/* The public key recomputed from an expanded key equals keygen's; a key
 * whose t0 or tr does not belong to its s1/s2/rho is refused. */
static void test_pk_from_sk(void)
{
	static uint8_t kpk[MLDSA65_PK_LEN], pk2[MLDSA65_PK_LEN], ksk[MLDSA65_SK_LEN];
	uint8_t xi[32];

	for (int k = 0; k < 4; k++) {
		for (int i = 0; i < 32; i++)
			xi[i] = (uint8_t)(rand() ^ k);
		T_CHECK(mldsa65_keypair_from_seed(kpk, ksk, xi) == 0);
		T_CHECK(mldsa65_pk_from_sk(pk2, ksk) == 0);
		T_EQ_MEM(kpk, pk2, sizeof(kpk));
	}
	ksk[MLDSA65_SK_LEN - 1] ^= 1; /* the last byte is t0 */
	T_CHECK(mldsa65_pk_from_sk(pk2, ksk) != 0);
	ksk[MLDSA65_SK_LEN - 1] ^= 1;
	ksk[64] ^= 1; /* tr */
	T_CHECK(mldsa65_pk_from_sk(pk2, ksk) != 0);
	ksk[64] ^= 1;
	ksk[0] ^= 1; /* rho: t1, t0 and tr all change */
	T_CHECK(mldsa65_pk_from_sk(pk2, ksk) != 0);
	ksk[0] ^= 1;
	T_CHECK(mldsa65_pk_from_sk(pk2, ksk) == 0);
}

static void test_hint_encoding(void)
{
	static uint8_t s2[MLDSA65_SIG_LEN];
	uint8_t *y = s2 + MLDSA65_SIG_LEN - (MLDSA_OMEGA + MLDSA_K);
	unsigned total;

	T_CHECK(mldsa65_sign(sig, msg, sizeof(msg), NULL, 0, sk, zero_rnd) == 0);
	total = sig[MLDSA65_SIG_LEN - 1];
	T_CHECK(total >= 2 && total < MLDSA_OMEGA);

	memcpy(s2, sig, sizeof(s2));
	y[total] = 1; /* a nonzero unused slot */
	T_CHECK(mldsa65_verify(s2, msg, sizeof(msg), NULL, 0, pk) != 0);

	memcpy(s2, sig, sizeof(s2));
	y[MLDSA_OMEGA + MLDSA_K - 1] = MLDSA_OMEGA + 1; /* count above omega */
	T_CHECK(mldsa65_verify(s2, msg, sizeof(msg), NULL, 0, pk) != 0);

	memcpy(s2, sig, sizeof(s2));
	for (unsigned i = 0; i + 1 < MLDSA_K; i++) /* decreasing counts */
		if (y[MLDSA_OMEGA + i] > 0) {
			y[MLDSA_OMEGA + i + 1] = (uint8_t)(y[MLDSA_OMEGA + i] - 1);
			break;
		}
	T_CHECK(mldsa65_verify(s2, msg, sizeof(msg), NULL, 0, pk) != 0);
}

int main(void)
{
	T_RUN(test_decompose_exhaustive);
	T_RUN(test_power2round_exhaustive);
	T_RUN(test_ntt_multiply);
	T_RUN(test_ntt_avx2_matches);
	T_RUN(test_mul_challenge);
	T_RUN(test_mul_challenge_small);
	T_RUN(setup_key);
	T_RUN(test_roundtrip_contexts);
	T_RUN(test_ctx_too_long);
	T_RUN(test_flips);
	T_RUN(test_interfaces);
	T_RUN(test_random_keypair);
	T_RUN(test_check_sk);
	T_RUN(test_hint_encoding);
	T_RUN(test_pk_from_sk);
	return t_done();
}
