/* ML-DSA-65 key generation, signing and verification (FIPS 204,
 * Algorithms 1-3 and 6-8) on top of the arithmetic, sampling and encoding
 * of mldsa_ntt.c, mldsa_poly.c, mldsa_sample.c and mldsa_pack.c.
 *
 * Constant time: the secret key parts (K, s1, s2, t0), the seed xi, rnd and
 * everything derived from them (rho', rho'', y, w, z, cs2, ct0) only meet
 * branch-free code. What is public by design is declassified explicitly
 * (ct_declassify): rho (it is in the public key), the challenge ctilde (see
 * mldsa_sample_in_ball), and the accept/reject verdict of each signing
 * attempt (rejected candidates are discarded, never output). Every secret
 * workspace is wiped before return. */
#include "crypto/mldsa.h"

#include "crypto/classic.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/mldsa_poly.h"

#include <string.h>

static void mldsa_polyvecl_ntt(struct mldsa_polyvecl *v)
{
	for (unsigned i = 0; i < MLDSA_L; i++)
		mldsa_ntt(&v->v[i]);
}

/* H(tr || pre || ctx || msg, 64): mu of Algorithm 7 line 6 / Algorithm 8
 * line 7, where pre || ctx || msg is M' (Algorithm 2 line 10). */
static void mldsa_mu(uint8_t mu[MLDSA65_MU_LEN], const uint8_t tr[MLDSA_TR_LEN],
		     const uint8_t *pre, size_t prelen, const uint8_t *ctx, size_t ctxlen,
		     const uint8_t *msg, size_t msglen)
{
	struct keccak_state st;

	shake256_init(&st);
	keccak_absorb(&st, tr, MLDSA_TR_LEN);
	keccak_absorb(&st, pre, prelen);
	keccak_absorb(&st, ctx, ctxlen);
	keccak_absorb(&st, msg, msglen);
	keccak_squeeze(&st, mu, MLDSA65_MU_LEN);
}

/* Algorithm 6, KeyGen_internal. */
int mldsa65_keypair_from_seed(uint8_t pk[MLDSA65_PK_LEN], uint8_t sk[MLDSA65_SK_LEN],
			      const uint8_t xi[MLDSA65_SEED_LEN])
{
	struct {
		uint8_t seeds[128]; /* rho || rho' || K */
		struct mldsa_polyvecl s1, s1hat;
		struct mldsa_polyveck s2, t, t0;
	} ws;
	struct mldsa_matrix a;
	struct mldsa_polyveck t1;
	uint8_t tr[MLDSA_TR_LEN];
	const uint8_t kl[2] = { MLDSA_K, MLDSA_L };
	struct keccak_state st;

	shake256_init(&st);
	keccak_absorb(&st, xi, MLDSA65_SEED_LEN);
	keccak_absorb(&st, kl, sizeof(kl));
	keccak_squeeze(&st, ws.seeds, sizeof(ws.seeds));
	ct_wipe(&st, sizeof(st));
	ct_declassify(ws.seeds, 32); /* rho goes into pk */

	mldsa_expand_s(&ws.s1, &ws.s2, ws.seeds + 32);
	ws.s1hat = ws.s1;
	mldsa_polyvecl_ntt(&ws.s1hat);
	/* t = NTT^-1(A-hat o NTT(s1)) + s2. */
	mldsa_expand_a(&a, ws.seeds);
	for (unsigned i = 0; i < MLDSA_K; i++) {
		struct mldsa_poly *t = &ws.t.v[i];

		mldsa_polyvecl_dot(t, &a.row[i], &ws.s1hat);
		mldsa_invntt_tomont(t);
		mldsa_poly_add(t, t, &ws.s2.v[i]);
		mldsa_poly_freeze(t);
		mldsa_poly_power2round(&t1.v[i], &ws.t0.v[i], t);
	}
	mldsa_pk_encode(pk, ws.seeds, &t1);
	shake256(tr, sizeof(tr), pk, MLDSA65_PK_LEN);
	mldsa_sk_encode(sk, ws.seeds, ws.seeds + 96, tr, &ws.s1, &ws.s2, &ws.t0);
	ct_wipe(&ws, sizeof(ws));
	return 0;
}

/* The public key of an expanded secret key: rho || t1 with t1 from
 * t = NTT^-1(A-hat o NTT(s1)) + s2, as KeyGen_internal (Algorithm 6, lines
 * 5-8) computes it. The key is accepted only when it is consistent: s1/s2
 * in range, the recomputed t0 equal to the one stored, and tr = H(pk). */
int mldsa65_pk_from_sk(uint8_t pk[MLDSA65_PK_LEN], const uint8_t sk[MLDSA65_SK_LEN])
{
	struct {
		uint8_t rho[32], key[32], tr[MLDSA_TR_LEN], tr2[MLDSA_TR_LEN];
		struct mldsa_polyvecl s1;
		struct mldsa_polyveck s2, t0, t0_2;
		struct mldsa_poly t;
		uint8_t sk2[MLDSA65_SK_LEN];
	} ws;
	struct mldsa_matrix a;
	struct mldsa_polyveck t1;
	int bad;

	if (mldsa65_check_sk(sk)) {
		memset(pk, 0, MLDSA65_PK_LEN);
		return -1;
	}
	mldsa_sk_decode(ws.rho, ws.key, ws.tr, &ws.s1, &ws.s2, &ws.t0, sk);
	ct_declassify(ws.rho, sizeof(ws.rho)); /* rho is part of pk */
	mldsa_polyvecl_ntt(&ws.s1);
	mldsa_expand_a(&a, ws.rho);
	for (unsigned i = 0; i < MLDSA_K; i++) {
		mldsa_polyvecl_dot(&ws.t, &a.row[i], &ws.s1);
		mldsa_invntt_tomont(&ws.t);
		mldsa_poly_add(&ws.t, &ws.t, &ws.s2.v[i]);
		mldsa_poly_freeze(&ws.t);
		mldsa_poly_power2round(&t1.v[i], &ws.t0_2.v[i], &ws.t);
	}
	mldsa_pk_encode(pk, ws.rho, &t1);
	shake256(ws.tr2, sizeof(ws.tr2), pk, MLDSA65_PK_LEN);
	/* Re-encode with the recomputed t0 and tr: equal iff consistent. s1
	 * went through the NTT above, so take s1/s2 from a fresh decode. */
	mldsa_sk_decode(ws.rho, ws.key, ws.tr, &ws.s1, &ws.s2, &ws.t0, sk);
	mldsa_sk_encode(ws.sk2, ws.rho, ws.key, ws.tr2, &ws.s1, &ws.s2, &ws.t0_2);
	bad = ct_memcmp(ws.sk2, sk, MLDSA65_SK_LEN);
	ct_declassify(&bad, sizeof(bad)); /* the verdict is public */
	ct_wipe(&ws, sizeof(ws));
	if (bad) {
		memset(pk, 0, MLDSA65_PK_LEN);
		return -1;
	}
	return 0;
}

/* Algorithm 1, KeyGen. */
int mldsa65_keypair(uint8_t pk[MLDSA65_PK_LEN], uint8_t sk[MLDSA65_SK_LEN])
{
	uint8_t xi[MLDSA65_SEED_LEN];
	int ret;

	dv_random(xi, sizeof(xi));
	ret = mldsa65_keypair_from_seed(pk, sk, xi);
	ct_wipe(xi, sizeof(xi));
	return ret;
}

/* The verdict of a signing attempt is public (see the top of this file). */
static int mldsa_rejected(uint32_t bad)
{
	ct_declassify(&bad, sizeof(bad));
	return bad != 0;
}

/* Algorithm 7, Sign_internal, from line 7 on (mu given). The products
 * c * s1, c * s2 and c * t0 are computed exactly by sparse multiplication
 * (mldsa_poly_mul_challenge, and its 16-bit form _small for s1 and s2)
 * instead of through the NTT; the result is the same, as those products
 * are small integers. The checks of lines 23 and 28 run in the order that
 * rejects soonest (the r0 bound fails most often), which changes no
 * output: an attempt is kept only if all pass. */
static int mldsa_sign_core(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t mu[MLDSA65_MU_LEN],
			   const uint8_t sk[MLDSA65_SK_LEN], const uint8_t rnd[MLDSA65_RND_LEN])
{
	struct mldsa_matrix a;
	struct {
		uint8_t rho[32], key[32], tr[MLDSA_TR_LEN], rhopp[64];
		struct mldsa_polyvecl s1, y, z;
		struct mldsa_polyveck s2, t0, w, h;
		struct mldsa_poly hi, lo, tmp;
		struct mldsa_poly_ext ext;
		struct mldsa_poly_ext16 s1e[MLDSA_L], s2e[MLDSA_K];
		uint8_t w1enc[MLDSA_W1_LEN];
		struct keccak_state st;
	} ws;
	struct mldsa_poly cp;
	struct mldsa_challenge ch;
	uint8_t ctilde[MLDSA_CTILDE_LEN];
	uint16_t kappa = 0;

	if (mldsa65_check_sk(sk)) {
		memset(sig, 0, MLDSA65_SIG_LEN);
		return -1;
	}
	mldsa_sk_decode(ws.rho, ws.key, ws.tr, &ws.s1, &ws.s2, &ws.t0, sk);
	ct_declassify(ws.rho, sizeof(ws.rho)); /* rho is part of pk */
	mldsa_expand_a(&a, ws.rho);
	for (unsigned i = 0; i < MLDSA_L; i++)
		mldsa_poly_ext16(&ws.s1e[i], &ws.s1.v[i]);
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_poly_ext16(&ws.s2e[i], &ws.s2.v[i]);

	/* Line 7: rho'' = H(K || rnd || mu, 64). */
	shake256_init(&ws.st);
	keccak_absorb(&ws.st, ws.key, sizeof(ws.key));
	keccak_absorb(&ws.st, rnd, MLDSA65_RND_LEN);
	keccak_absorb(&ws.st, mu, MLDSA65_MU_LEN);
	keccak_squeeze(&ws.st, ws.rhopp, sizeof(ws.rhopp));

	for (;; kappa = (uint16_t)(kappa + MLDSA_L)) {
		uint32_t bad = 0;
		unsigned hints = 0;

		/* Lines 11-15: y, w = NTT^-1(A-hat o NTT(y)), w1 = HighBits(w),
		 * ctilde = H(mu || w1Encode(w1), 48). */
		mldsa_expand_mask(&ws.y, ws.rhopp, kappa);
		ws.z = ws.y;
		mldsa_polyvecl_ntt(&ws.z);
		for (unsigned i = 0; i < MLDSA_K; i++) {
			struct mldsa_poly *w = &ws.w.v[i];

			mldsa_polyvecl_dot(w, &a.row[i], &ws.z);
			mldsa_invntt_tomont(w);
			mldsa_poly_freeze(w);
			mldsa_poly_decompose(&ws.h.v[i], &ws.lo, w);
		}
		mldsa_w1_encode(ws.w1enc, &ws.h);
		shake256_init(&ws.st);
		keccak_absorb(&ws.st, mu, MLDSA65_MU_LEN);
		keccak_absorb(&ws.st, ws.w1enc, sizeof(ws.w1enc));
		keccak_squeeze(&ws.st, ctilde, sizeof(ctilde));
		ct_declassify(ctilde, sizeof(ctilde));
		mldsa_sample_in_ball(&cp, ctilde); /* line 16 */
		mldsa_challenge_prepare(&ch, &cp);

		/* Lines 19, 21, 23: r0 = LowBits(w - cs2) must stay below
		 * gamma2 - beta. w keeps w - cs2 from here on. */
		for (unsigned i = 0; i < MLDSA_K; i++) {
			struct mldsa_poly *w = &ws.w.v[i];

			mldsa_poly_mul_challenge_small(&ws.tmp, &ch, &ws.s2.v[i], &ws.s2e[i], &ws.ext);
			mldsa_poly_sub(w, w, &ws.tmp);
			mldsa_poly_freeze(w);
			mldsa_poly_decompose(&ws.hi, &ws.lo, w);
			bad |= mldsa_poly_exceeds(&ws.lo, MLDSA_GAMMA2 - MLDSA_BETA);
		}
		if (mldsa_rejected(bad))
			continue;
		/* Lines 18, 20, 23: z = y + cs1 must stay below gamma1 - beta. */
		for (unsigned i = 0; i < MLDSA_L; i++) {
			struct mldsa_poly *z = &ws.z.v[i];

			mldsa_poly_mul_challenge_small(z, &ch, &ws.s1.v[i], &ws.s1e[i], &ws.ext);
			mldsa_poly_add(z, z, &ws.y.v[i]);
			bad |= mldsa_poly_exceeds(z, MLDSA_GAMMA1 - MLDSA_BETA);
		}
		if (mldsa_rejected(bad))
			continue;
		/* Lines 25-28: ct0 below gamma2, h = MakeHint(-ct0, w - cs2 +
		 * ct0) (Algorithm 39: HighBits(w - cs2 + ct0) != HighBits(w -
		 * cs2)) with at most omega ones. */
		for (unsigned i = 0; i < MLDSA_K; i++) {
			struct mldsa_poly *h = &ws.h.v[i];

			mldsa_poly_mul_challenge(&ws.tmp, &ch, &ws.t0.v[i], &ws.ext);
			bad |= mldsa_poly_exceeds(&ws.tmp, MLDSA_GAMMA2);
			mldsa_poly_add(&ws.tmp, &ws.tmp, &ws.w.v[i]);
			mldsa_poly_freeze(&ws.tmp);
			mldsa_poly_decompose(&ws.hi, &ws.lo, &ws.w.v[i]);
			mldsa_poly_decompose(h, &ws.lo, &ws.tmp);
			for (unsigned j = 0; j < MLDSA_N; j++) {
				uint32_t d = (uint32_t)(h->c[j] ^ ws.hi.c[j]);

				h->c[j] = (int32_t)((d | (0u - d)) >> 31);
				hints += (unsigned)h->c[j];
			}
		}
		bad |= (uint32_t)(MLDSA_OMEGA - (int32_t)hints) >> 31;
		if (!mldsa_rejected(bad))
			break;
	}
	/* The accepted z and h are the signature: public from here. */
	ct_declassify(&ws.z, sizeof(ws.z));
	ct_declassify(&ws.h, sizeof(ws.h));
	mldsa_sig_encode(sig, ctilde, &ws.z, &ws.h);
	ct_wipe(&ws, sizeof(ws));
	return 0;
}

int mldsa65_sign_mu(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t mu[MLDSA65_MU_LEN],
		    const uint8_t sk[MLDSA65_SK_LEN], const uint8_t rnd[MLDSA65_RND_LEN])
{
	return mldsa_sign_core(sig, mu, sk, rnd);
}

/* Algorithm 7; tr is read from sk (bytes 64..127, Algorithm 24). */
int mldsa65_sign_internal(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *mprime,
			  size_t mprimelen, const uint8_t sk[MLDSA65_SK_LEN],
			  const uint8_t rnd[MLDSA65_RND_LEN])
{
	uint8_t mu[MLDSA65_MU_LEN];
	int ret;

	mldsa_mu(mu, sk + 64, NULL, 0, NULL, 0, mprime, mprimelen);
	ret = mldsa_sign_core(sig, mu, sk, rnd);
	ct_wipe(mu, sizeof(mu));
	return ret;
}

/* Algorithm 2: M' = IntegerToBytes(0, 1) || IntegerToBytes(|ctx|, 1) ||
 * ctx || M. */
int mldsa65_sign(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		 const uint8_t *ctx, size_t ctxlen, const uint8_t sk[MLDSA65_SK_LEN],
		 const uint8_t rnd[MLDSA65_RND_LEN])
{
	uint8_t mu[MLDSA65_MU_LEN], pre[2];
	int ret;

	if (ctxlen > MLDSA65_CTX_MAX) {
		memset(sig, 0, MLDSA65_SIG_LEN);
		return -1;
	}
	pre[0] = 0;
	pre[1] = (uint8_t)ctxlen;
	mldsa_mu(mu, sk + 64, pre, sizeof(pre), ctx, ctxlen, msg, msglen);
	ret = mldsa_sign_core(sig, mu, sk, rnd);
	ct_wipe(mu, sizeof(mu));
	return ret;
}

int mldsa65_sign_randomized(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
			    const uint8_t *ctx, size_t ctxlen, const uint8_t sk[MLDSA65_SK_LEN])
{
	uint8_t rnd[MLDSA65_RND_LEN];
	int ret;

	dv_random(rnd, sizeof(rnd));
	ret = mldsa65_sign(sig, msg, msglen, ctx, ctxlen, sk, rnd);
	ct_wipe(rnd, sizeof(rnd));
	return ret;
}

/* Algorithm 8, Verify_internal, from line 8 on (mu given). Public data
 * only, so it may branch freely. */
int mldsa65_verify_mu(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t mu[MLDSA65_MU_LEN],
		      const uint8_t pk[MLDSA65_PK_LEN])
{
	uint8_t rho[32], ctilde[MLDSA_CTILDE_LEN], ctilde2[MLDSA_CTILDE_LEN];
	uint8_t w1enc[MLDSA_W1_LEN];
	struct mldsa_polyveck t1, h, w1;
	struct mldsa_matrix a;
	struct mldsa_polyvecl z;
	struct mldsa_poly cp, w, ct1;
	struct mldsa_challenge ch;
	struct mldsa_poly_ext ext;
	struct keccak_state st;

	/* Lines 2-4 and 13: a malformed hint (bottom) or ||z|| >= gamma1 -
	 * beta rejects before any heavy work. */
	if (mldsa_sig_decode(ctilde, &z, &h, sig))
		return -1;
	for (unsigned i = 0; i < MLDSA_L; i++)
		if (mldsa_poly_exceeds(&z.v[i], MLDSA_GAMMA1 - MLDSA_BETA))
			return -1;
	mldsa_pk_decode(rho, &t1, pk);
	mldsa_sample_in_ball(&cp, ctilde);
	mldsa_challenge_prepare(&ch, &cp);
	mldsa_expand_a(&a, rho);
	mldsa_polyvecl_ntt(&z);
	/* Line 9: w'approx = NTT^-1(A-hat o NTT(z)) - c * t1 * 2^d, the latter
	 * by exact sparse multiplication (|c t1 2^d| < 49 * 2^23), and A
	 * generated one entry at a time; line 10: w1' = UseHint(h, w'). */
	for (unsigned i = 0; i < MLDSA_K; i++) {
		mldsa_polyvecl_dot(&w, &a.row[i], &z);
		mldsa_invntt_tomont(&w);
		mldsa_poly_mul_challenge_t1(&ct1, &ch, &t1.v[i], &ext);
		mldsa_poly_sub(&w, &w, &ct1);
		mldsa_poly_freeze(&w);
		mldsa_poly_use_hint(&w1.v[i], &w, &h.v[i]);
	}
	/* Lines 12-13: ctilde' = H(mu || w1Encode(w1'), 48) must equal ctilde. */
	mldsa_w1_encode(w1enc, &w1);
	shake256_init(&st);
	keccak_absorb(&st, mu, MLDSA65_MU_LEN);
	keccak_absorb(&st, w1enc, sizeof(w1enc));
	keccak_squeeze(&st, ctilde2, sizeof(ctilde2));
	return ct_memcmp(ctilde, ctilde2, sizeof(ctilde)) ? -1 : 0;
}

/* Algorithm 8 with tr = H(pk, 64) (line 6). */
int mldsa65_verify_internal(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *mprime,
			    size_t mprimelen, const uint8_t pk[MLDSA65_PK_LEN])
{
	uint8_t tr[MLDSA_TR_LEN], mu[MLDSA65_MU_LEN];

	shake256(tr, sizeof(tr), pk, MLDSA65_PK_LEN);
	mldsa_mu(mu, tr, NULL, 0, NULL, 0, mprime, mprimelen);
	return mldsa65_verify_mu(sig, mu, pk);
}

/* Algorithm 3: M' as in Algorithm 2; a context over 255 bytes fails. */
int mldsa65_verify(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		   const uint8_t *ctx, size_t ctxlen, const uint8_t pk[MLDSA65_PK_LEN])
{
	uint8_t tr[MLDSA_TR_LEN], mu[MLDSA65_MU_LEN], pre[2];

	if (ctxlen > MLDSA65_CTX_MAX)
		return -1;
	pre[0] = 0;
	pre[1] = (uint8_t)ctxlen;
	shake256(tr, sizeof(tr), pk, MLDSA65_PK_LEN);
	mldsa_mu(mu, tr, pre, sizeof(pre), ctx, ctxlen, msg, msglen);
	return mldsa65_verify_mu(sig, mu, pk);
}
