/* ML-DSA-65 vectors (FIPS 204): ACVP keyGen / sigGen / sigVer and the
 * Wycheproof sign (seed and expanded key) and verify files. A record is
 * classified by its fields, not its file name, so any file in the format
 * of tests/data/README.md works:
 *   seed + pk + sk, no sig      key generation (Algorithm 6)
 *   seed or sk, with sig        signing; a seed key is expanded first
 *   pk + sig, no seed or sk     verification
 * Signing mode: `mode` (external / internal / external_mu) when present,
 * else external when `msg` is present and external-mu otherwise. A record
 * without `result` is valid. Invalid signing records must fail to sign;
 * valid ones must give exactly `sig`, which is then verified with the pk
 * (given or derived). A given `mu` is compared with a recomputed one. */
#include "vectors/tv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mldsa.h"

enum tv_mldsa_field { F_SEED, F_PK, F_SK, F_SIG, F_MSG, F_CTX, F_MPRIME, F_MU, F_RND, F_N };

static const char *const tv_mldsa_names[F_N] = {
	"seed", "pk", "sk", "sig", "msg", "ctx", "mprime", "mu", "rnd",
};

struct tv_mldsa {
	uint8_t *b[F_N];
	size_t len[F_N];
	int has[F_N];
};

enum tv_mldsa_mode { MODE_EXTERNAL, MODE_INTERNAL, MODE_MU, MODE_UNKNOWN };

static enum tv_mldsa_mode tv_mldsa_mode(const struct tv_rec *r, const struct tv_mldsa *f)
{
	const char *m = tv_get(r, "mode");

	if (!m)
		return f->has[F_MSG] ? MODE_EXTERNAL : MODE_MU;
	if (!strcmp(m, "external"))
		return MODE_EXTERNAL;
	if (!strcmp(m, "internal"))
		return MODE_INTERNAL;
	if (!strcmp(m, "external_mu"))
		return MODE_MU;
	return MODE_UNKNOWN;
}

/* Verification of sig under pk in the given mode; 0 = valid. Wrong
 * lengths are rejections, as an API with fixed-size arrays demands. */
static int tv_mldsa_verify(const struct tv_mldsa *f, enum tv_mldsa_mode mode,
			   const uint8_t *sig, size_t siglen, const uint8_t *pk, size_t pklen)
{
	if (siglen != MLDSA65_SIG_LEN || pklen != MLDSA65_PK_LEN)
		return -1;
	switch (mode) {
	case MODE_EXTERNAL:
		return mldsa65_verify(sig, f->b[F_MSG], f->len[F_MSG], f->b[F_CTX],
				      f->len[F_CTX], pk);
	case MODE_INTERNAL:
		return mldsa65_verify_internal(sig, f->b[F_MPRIME], f->len[F_MPRIME], pk);
	case MODE_MU:
		if (f->len[F_MU] != MLDSA65_MU_LEN)
			return -1;
		return mldsa65_verify_mu(sig, f->b[F_MU], pk);
	default:
		return -1;
	}
}

static int tv_mldsa_keygen(const struct tv_mldsa *f, char *msg, size_t msglen)
{
	uint8_t pk[MLDSA65_PK_LEN], sk[MLDSA65_SK_LEN];

	if (f->len[F_SEED] != MLDSA65_SEED_LEN || f->len[F_PK] != MLDSA65_PK_LEN ||
	    f->len[F_SK] != MLDSA65_SK_LEN) {
		snprintf(msg, msglen, "bad seed/pk/sk length");
		return 1;
	}
	if (mldsa65_keypair_from_seed(pk, sk, f->b[F_SEED])) {
		snprintf(msg, msglen, "keypair_from_seed failed");
		return 1;
	}
	if (memcmp(pk, f->b[F_PK], sizeof(pk)) || memcmp(sk, f->b[F_SK], sizeof(sk))) {
		snprintf(msg, msglen, "pk or sk differs");
		return 1;
	}
	return 0;
}

/* mu = H(tr || M', 64), with tr taken from the expanded key. */
static void tv_mldsa_mu(uint8_t mu[MLDSA65_MU_LEN], const struct tv_mldsa *f,
			enum tv_mldsa_mode mode, const uint8_t *sk)
{
	struct keccak_state st;
	uint8_t pre[2] = { 0, (uint8_t)f->len[F_CTX] };

	shake256_init(&st);
	keccak_absorb(&st, sk + 64, 64);
	if (mode == MODE_EXTERNAL) {
		keccak_absorb(&st, pre, sizeof(pre));
		keccak_absorb(&st, f->b[F_CTX], f->len[F_CTX]);
		keccak_absorb(&st, f->b[F_MSG], f->len[F_MSG]);
	} else {
		keccak_absorb(&st, f->b[F_MPRIME], f->len[F_MPRIME]);
	}
	keccak_squeeze(&st, mu, MLDSA65_MU_LEN);
}

static int tv_mldsa_sign(const struct tv_rec *r, const struct tv_mldsa *f, int valid,
			 char *msg, size_t msglen)
{
	static uint8_t sk[MLDSA65_SK_LEN], pk[MLDSA65_PK_LEN], sig[MLDSA65_SIG_LEN];
	enum tv_mldsa_mode mode = tv_mldsa_mode(r, f);
	const uint8_t *vpk = NULL;
	size_t vpklen = 0;
	uint8_t rnd[MLDSA65_RND_LEN] = { 0 };
	int key_ok, ret;

	if (mode == MODE_UNKNOWN) {
		snprintf(msg, msglen, "unknown mode");
		return 1;
	}
	if (f->has[F_RND]) {
		if (f->len[F_RND] != sizeof(rnd)) {
			snprintf(msg, msglen, "bad rnd length");
			return 1;
		}
		memcpy(rnd, f->b[F_RND], sizeof(rnd));
	}
	if (f->has[F_SEED]) {
		key_ok = f->len[F_SEED] == MLDSA65_SEED_LEN &&
			 !mldsa65_keypair_from_seed(pk, sk, f->b[F_SEED]);
		if (key_ok) {
			vpk = pk;
			vpklen = sizeof(pk);
			if (f->has[F_PK] && (f->len[F_PK] != sizeof(pk) ||
					     memcmp(pk, f->b[F_PK], sizeof(pk)))) {
				snprintf(msg, msglen, "pk derived from seed differs");
				return 1;
			}
		}
	} else {
		key_ok = f->len[F_SK] == MLDSA65_SK_LEN;
		if (key_ok)
			memcpy(sk, f->b[F_SK], sizeof(sk));
		if (f->has[F_PK]) {
			vpk = f->b[F_PK];
			vpklen = f->len[F_PK];
		}
	}

	/* A key of the wrong length cannot reach the fixed-size API: that
	 * is the rejection such records ask for. */
	ret = -1;
	if (key_ok) {
		switch (mode) {
		case MODE_EXTERNAL:
			ret = mldsa65_sign(sig, f->b[F_MSG], f->len[F_MSG], f->b[F_CTX],
					   f->len[F_CTX], sk, rnd);
			break;
		case MODE_INTERNAL:
			ret = mldsa65_sign_internal(sig, f->b[F_MPRIME], f->len[F_MPRIME],
						    sk, rnd);
			break;
		default:
			if (f->len[F_MU] == MLDSA65_MU_LEN)
				ret = mldsa65_sign_mu(sig, f->b[F_MU], sk, rnd);
			break;
		}
	}
	if (!valid) {
		if (ret == 0) {
			snprintf(msg, msglen, "invalid record was signed");
			return 1;
		}
		return 0;
	}
	if (ret) {
		snprintf(msg, msglen, "signing failed");
		return 1;
	}
	if (f->len[F_SIG] != sizeof(sig) || memcmp(sig, f->b[F_SIG], sizeof(sig))) {
		snprintf(msg, msglen, "signature differs");
		return 1;
	}
	if (f->has[F_MU] && mode != MODE_MU) {
		uint8_t mu[MLDSA65_MU_LEN];

		tv_mldsa_mu(mu, f, mode, sk);
		if (f->len[F_MU] != sizeof(mu) || memcmp(mu, f->b[F_MU], sizeof(mu))) {
			snprintf(msg, msglen, "mu differs");
			return 1;
		}
	}
	if (vpk && tv_mldsa_verify(f, mode, sig, sizeof(sig), vpk, vpklen)) {
		snprintf(msg, msglen, "produced signature does not verify");
		return 1;
	}
	return 0;
}

int tv_mldsa(const struct tv_rec *r, char *msg, size_t msglen)
{
	struct tv_mldsa f = { 0 };
	int valid = !tv_get(r, "result") || tv_is(r, "result", "valid");
	int ret = 1;

	if (tv_get(r, "result") && !valid && !tv_is(r, "result", "invalid")) {
		snprintf(msg, msglen, "unknown result");
		return 1;
	}
	for (int i = 0; i < F_N; i++) {
		if (!tv_get(r, tv_mldsa_names[i]))
			continue;
		if (tv_hex(r, tv_mldsa_names[i], &f.b[i], &f.len[i])) {
			snprintf(msg, msglen, "bad hex in %s", tv_mldsa_names[i]);
			goto out;
		}
		f.has[i] = 1;
	}
	if (f.has[F_SEED] && f.has[F_PK] && f.has[F_SK] && !f.has[F_SIG]) {
		ret = tv_mldsa_keygen(&f, msg, msglen);
	} else if ((f.has[F_SEED] || f.has[F_SK]) && f.has[F_SIG]) {
		ret = tv_mldsa_sign(r, &f, valid, msg, msglen);
	} else if (f.has[F_PK] && f.has[F_SIG]) {
		enum tv_mldsa_mode mode = tv_mldsa_mode(r, &f);
		int ok = !tv_mldsa_verify(&f, mode, f.b[F_SIG], f.len[F_SIG], f.b[F_PK],
					  f.len[F_PK]);

		ret = ok != valid;
		if (ret)
			snprintf(msg, msglen, "verification %s, expected %s",
				 ok ? "accepted" : "rejected", valid ? "valid" : "invalid");
	} else {
		snprintf(msg, msglen, "record of no known ML-DSA kind");
	}
out:
	for (int i = 0; i < F_N; i++)
		free(f.b[i]);
	return ret;
}
