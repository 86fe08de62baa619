/* Noise IKpsk2 in three modes (docs/PROTOCOL.md; WireGuard whitepaper
 * 5.4.2-5.4.4). The pattern, with the post-quantum tokens in brackets:
 *
 *   IKpsk2:
 *     <- s
 *     ...
 *     -> e, [ekem], es, s, ss, {t}, [{sig}]
 *     <- e, ee, se, [ct, kem], psk, [{sig}], {}
 *
 * [ekem]: the ephemeral ML-KEM-768 encapsulation key, sent in the clear and
 * mixed into H (hybrid and pqonly). [ct, kem]: the ciphertext is mixed into
 * H, the shared secret into C (PQNoise's MixHash/MixKey). [{sig}]: pqonly
 * only, an ML-DSA-65 signature over H, encrypted under the key of the
 * preceding AEAD with counter 1.
 *
 * Every function builds the new state in a local copy, commits it to the
 * peer only when every step succeeded, and leaves through one `out:` label
 * that wipes every secret on the stack. */
#include "noise/noise.h"

#include "protocol.h"

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/ct.h"
#include "crypto/backend.h"

#include <string.h>

_Static_assert(NOISE_MLDSA_PK_LEN == MLDSA65_PK_LEN, "ML-DSA-65 pk size");
_Static_assert(NOISE_MLDSA_SK_LEN == MLDSA65_SK_LEN, "ML-DSA-65 sk size");
_Static_assert(DV_MLDSA_SIG_LEN == MLDSA65_SIG_LEN, "ML-DSA-65 signature size");
_Static_assert(DV_MLKEM_EK_LEN == MLKEM768_PK_LEN, "ML-KEM-768 ek size");
_Static_assert(DV_MLKEM_CT_LEN == MLKEM768_CT_LEN, "ML-KEM-768 ct size");
_Static_assert(NOISE_MLKEM_DK_LEN == MLKEM768_SK_LEN, "ML-KEM-768 dk size");

/* ML-DSA context strings (docs/PROTOCOL.md §4): ASCII, no terminating NUL. */
static const char noise_ctx_initiation[] = "DyberVPN v1 initiation";
static const char noise_ctx_response[] = "DyberVPN v1 response";

/* Initiations accepted per peer: one per 1 s / 50 (whitepaper 6.1). */
#define NOISE_INITIATION_INTERVAL_NS (DV_NSEC_PER_SEC / DV_INITIATIONS_PER_SECOND)

const char *noise_strerror(int rc)
{
	switch (rc) {
	case NOISE_OK: return "ok";
	case NOISE_ERR_LENGTH: return "bad length or reserved bytes";
	case NOISE_ERR_DECRYPT: return "decryption failed";
	case NOISE_ERR_UNKNOWN_PEER: return "unknown peer";
	case NOISE_ERR_MODE: return "mode mismatch";
	case NOISE_ERR_REPLAY: return "replayed initiation";
	case NOISE_ERR_RATELIMIT: return "initiation rate limit";
	case NOISE_ERR_MLKEM_KEY: return "ML-KEM key fails the input check";
	case NOISE_ERR_SIGNATURE: return "bad ML-DSA signature";
	case NOISE_ERR_STATE: return "no matching handshake";
	case NOISE_ERR_BUFFER: return "buffer too small";
	case NOISE_ERR_CONFIG: return "configuration";
	case NOISE_ERR_INTERNAL: return "internal error";
	}
	return "unknown error";
}

size_t noise_msg_len(uint8_t type)
{
	const struct dv_msg_desc *md = dv_msg_desc(type);

	return md ? md->len : 0;
}

uint8_t noise_initiation_type(enum dv_mode m)
{
	const struct dv_msg_desc *md = dv_mode_msg(m, DV_KIND_INITIATION);

	return md ? md->type : 0;
}

uint8_t noise_response_type(enum dv_mode m)
{
	const struct dv_msg_desc *md = dv_mode_msg(m, DV_KIND_RESPONSE);

	return md ? md->type : 0;
}

int noise_type_mode(uint8_t type, enum dv_mode *m)
{
	const struct dv_msg_desc *md = dv_msg_desc(type);

	if (!md || (md->kind != DV_KIND_INITIATION && md->kind != DV_KIND_RESPONSE))
		return -1;
	*m = md->mode;
	return 0;
}

static void noise_rng_fill(const struct noise_rng *rng, uint8_t *out, size_t len)
{
	if (rng && rng->fill)
		rng->fill(rng->arg, out, len);
	else
		dv_random(out, len);
}

/* C = HASH(CONSTRUCTION); H = HASH(C || IDENTIFIER); H = HASH(H || Sr_pub). */
static void noise_hs_start(uint8_t ck[DV_HASH_LEN], uint8_t h[DV_HASH_LEN],
			   const struct dv_mode_desc *md,
			   const uint8_t responder_pub[DV_KEY_LEN])
{
	dv_hash2(ck, (const uint8_t *)md->construction, strlen(md->construction),
		 NULL, 0);
	dv_hash2(h, ck, DV_HASH_LEN, (const uint8_t *)md->identifier,
		 strlen(md->identifier));
	dv_hash2(h, h, DV_HASH_LEN, responder_pub, DV_KEY_LEN);
}

/* MixHash: H = HASH(H || in). */
static void noise_mix_hash(uint8_t h[DV_HASH_LEN], const uint8_t *in, size_t len)
{
	dv_hash2(h, h, DV_HASH_LEN, in, len);
}

/* MixKey: C = KDF1(C, in). */
static void noise_mix_key(uint8_t ck[DV_HASH_LEN], const uint8_t *in, size_t len)
{
	dv_kdf(ck, NULL, NULL, ck, in, len);
}

/* (C, k) = KDF2(C, DH(priv, pub)), or C = KDF1(C, DH) when key is NULL.
 * Fails when the DH is zero (a low-order point). */
static int noise_mix_dh(uint8_t ck[DV_HASH_LEN], uint8_t key[DV_KEY_LEN],
			const uint8_t priv[DV_KEY_LEN], const uint8_t pub[DV_KEY_LEN])
{
	uint8_t dh[DV_KEY_LEN];

	if (dv_x25519(dh, priv, pub))
		return -1;
	dv_kdf(ck, key, NULL, ck, dh, sizeof(dh));
	ct_wipe(dh, sizeof(dh));
	return 0;
}

/* Whether the TAI64N a is greater than b (big-endian bytes), without a
 * branch or early exit on either: both came out of AEADs under secret
 * keys (the timestamp is encrypted to hide the sender's clock). Only the
 * verdict is public: we answer a fresh initiation and drop a replay. */
static bool noise_timestamp_newer(const uint8_t a[DV_TAI64N_LEN],
				  const uint8_t b[DV_TAI64N_LEN])
{
	uint32_t gt = 0, eq = 1;

	for (size_t i = 0; i < DV_TAI64N_LEN; i++) {
		uint32_t x = a[i], y = b[i];

		gt |= eq & ((y - x) >> 31);     /* first differing byte: x > y */
		eq &= ((x ^ y) - 1) >> 31;      /* still equal so far */
		eq = ct_barrier_u32(eq);
	}
	ct_declassify(&gt, sizeof(gt));
	return gt != 0;
}

/* dst = AEAD(key, counter, src, H); H = HASH(H || dst). */
static int noise_encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
				  const uint8_t key[DV_KEY_LEN], uint64_t counter,
				  uint8_t h[DV_HASH_LEN])
{
	if (dv_aead_seal(dst, src, len, h, DV_HASH_LEN, counter, key))
		return -1;
	noise_mix_hash(h, dst, len + DV_TAG_LEN);
	return 0;
}

/* dst = AEAD-open(key, counter, src, H); H = HASH(H || src). len is the
 * ciphertext length (tag included); dst receives len - 16 bytes. */
static int noise_decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
				  const uint8_t key[DV_KEY_LEN], uint64_t counter,
				  uint8_t h[DV_HASH_LEN])
{
	if (dv_aead_open(dst, src, len, h, DV_HASH_LEN, counter, key))
		return -1;
	noise_mix_hash(h, src, len);
	return 0;
}

int noise_local_init(struct noise_local *l, const uint8_t priv[DV_KEY_LEN])
{
	memset(l, 0, sizeof(*l));
	memcpy(l->priv, priv, DV_KEY_LEN);
	if (dv_x25519_base(l->pub, l->priv)) {
		noise_local_clear(l);
		return NOISE_ERR_CONFIG;
	}
	return NOISE_OK;
}

int noise_local_set_mldsa_seed(struct noise_local *l, const uint8_t xi[32])
{
	if (dv_crypto()->sig_keypair(l->mldsa_pk, l->mldsa_sk, xi)) {
		l->has_mldsa = l->has_mldsa_pk = false;
		return NOISE_ERR_CONFIG;
	}
	/* Our public key: peers hold it in their configuration. */
	ct_declassify(l->mldsa_pk, NOISE_MLDSA_PK_LEN);
	l->has_mldsa = l->has_mldsa_pk = true;
	return NOISE_OK;
}

int noise_local_set_mldsa_sk(struct noise_local *l,
			     const uint8_t sk[NOISE_MLDSA_SK_LEN])
{
	l->has_mldsa = l->has_mldsa_pk = false;
	if (dv_crypto()->sig_pk_from_sk(l->mldsa_pk, sk))
		return NOISE_ERR_CONFIG;
	ct_declassify(l->mldsa_pk, NOISE_MLDSA_PK_LEN); /* our public key */
	memcpy(l->mldsa_sk, sk, NOISE_MLDSA_SK_LEN);
	l->has_mldsa = l->has_mldsa_pk = true;
	return NOISE_OK;
}

void noise_local_clear(struct noise_local *l)
{
	ct_wipe(l, sizeof(*l));
}

int noise_peer_init(struct noise_peer *p, const struct noise_local *l,
		    enum dv_mode mode, const uint8_t remote_pub[DV_KEY_LEN],
		    const uint8_t psk[DV_KEY_LEN])
{
	struct noise_handshake *hs = p->hs;
	void *user = p->user;

	noise_peer_clear(p);
	p->user = user;
	p->hs = hs;
	if (!dv_mode_desc(mode))
		return NOISE_ERR_CONFIG;
	p->mode = mode;
	memcpy(p->remote_static, remote_pub, DV_KEY_LEN);
	if (psk)
		memcpy(p->psk, psk, DV_KEY_LEN);
	/* The static-static DH never changes: compute it once (whitepaper
	 * 5.4.2 uses it in every initiation). Zero means a low-order key. */
	if (dv_x25519(p->static_static, l->priv, remote_pub))
		return NOISE_ERR_CONFIG;
	return NOISE_OK;
}

void noise_peer_set_mldsa_pk(struct noise_peer *p,
			     const uint8_t pk[NOISE_MLDSA_PK_LEN])
{
	p->mldsa_pk = pk;
	p->has_mldsa_pk = true;
}

void noise_handshake_clear(struct noise_handshake *hs)
{
	ct_wipe(hs, sizeof(*hs));
}

void noise_peer_clear(struct noise_peer *p)
{
	if (p->hs)
		noise_handshake_clear(p->hs);
	ct_wipe(p, sizeof(*p));
}

/* The message both sides sign in pqonly mode is the 32-byte H. */
static int noise_sign(uint8_t sig[DV_MLDSA_SIG_LEN], const uint8_t h[DV_HASH_LEN],
		      const char *ctx, const struct noise_local *l,
		      const struct noise_rng *rng)
{
	uint8_t rnd[MLDSA65_RND_LEN];
	int ret;

	/* Hedged signing (FIPS 204, 3.4): fresh rnd for every signature. */
	noise_rng_fill(rng, rnd, sizeof(rnd));
	ret = dv_crypto()->sign(sig, h, DV_HASH_LEN, (const uint8_t *)ctx, strlen(ctx),
			   l->mldsa_sk, rnd);
	ct_wipe(rnd, sizeof(rnd));
	return ret;
}

/* The peer's ML-DSA-65 signature over H: NOISE_OK, NOISE_ERR_CONFIG when
 * no public key is configured, NOISE_ERR_SIGNATURE when it does not verify. */
static int noise_verify(const struct noise_peer *p, const uint8_t sig[DV_MLDSA_SIG_LEN],
			const uint8_t h[DV_HASH_LEN], const char *ctx)
{
	int bad;

	if (!p->has_mldsa_pk || !p->mldsa_pk)
		return NOISE_ERR_CONFIG;
	/* A signature holds no secret (FIPS 204 verification is variable-time
	 * in it by design): it is encrypted only to hide whose it is. */
	ct_declassify(sig, DV_MLDSA_SIG_LEN);
	bad = dv_crypto()->verify(sig, h, DV_HASH_LEN, (const uint8_t *)ctx,
				  strlen(ctx), p->mldsa_pk);
	/* The verdict is public (we answer or drop); H, the message, is not
	 * once the psk went into it (tau), so the verdict must be let go. */
	ct_declassify(&bad, sizeof(bad));
	return bad ? NOISE_ERR_SIGNATURE : NOISE_OK;
}

int noise_create_initiation(const struct noise_local *l, struct noise_peer *p,
			    uint32_t local_index,
			    const uint8_t tai64n[DV_TAI64N_LEN],
			    const struct noise_rng *rng, uint8_t *out,
			    size_t *outlen)
{
	const struct dv_mode_desc *md = dv_mode_desc(p->mode);
	const struct dv_msg_desc *td = dv_mode_msg(p->mode, DV_KIND_INITIATION);
	struct noise_handshake hs;
	uint8_t key[DV_KEY_LEN], coins[64], sig[DV_MLDSA_SIG_LEN];
	int ret;

	memset(&hs, 0, sizeof(hs));
	if (!md || !td || (md->needs_mldsa && (!l->has_mldsa || !p->has_mldsa_pk || !p->mldsa_pk))) {
		ret = NOISE_ERR_CONFIG;
		goto out;
	}
	if (!p->hs) {
		ret = NOISE_ERR_STATE;
		goto out;
	}
	if (*outlen < td->len) {
		ret = NOISE_ERR_BUFFER;
		goto out;
	}
	memset(out, 0, td->len);
	out[DV_OFF_TYPE] = td->type;
	dv_le32_put(out + td->off_sender, local_index);
	noise_hs_start(hs.ck, hs.h, md, p->remote_static);

	/* e */
	noise_rng_fill(rng, hs.e_priv, DV_KEY_LEN);
	ret = NOISE_ERR_INTERNAL;
	if (dv_x25519_base(out + td->off_ephemeral, hs.e_priv))
		goto out;
	noise_mix_key(hs.ck, out + td->off_ephemeral, DV_KEY_LEN);
	noise_mix_hash(hs.h, out + td->off_ephemeral, DV_KEY_LEN);

	/* [ekem]: KeyGen draws d then z (FIPS 203, Algorithm 19). */
	if (md->needs_kem) {
		noise_rng_fill(rng, coins, sizeof(coins));
		if (dv_crypto()->kem_keypair(out + td->off_kem, hs.mlkem_dk, coins))
			goto out;
		/* ek is a public key and goes on the wire. */
		ct_declassify(out + td->off_kem, DV_MLKEM_EK_LEN);
		noise_mix_hash(hs.h, out + td->off_kem, DV_MLKEM_EK_LEN);
	}

	/* es */
	ret = NOISE_ERR_CONFIG;
	if (noise_mix_dh(hs.ck, key, hs.e_priv, p->remote_static))
		goto out;

	/* s */
	ret = NOISE_ERR_INTERNAL;
	if (noise_encrypt_and_hash(out + td->off_static, l->pub,
				   DV_KEY_LEN, key, 0, hs.h))
		goto out;

	/* ss: the precomputed DH(Si, Sr) */
	dv_kdf(hs.ck, key, NULL, hs.ck, p->static_static, DV_KEY_LEN);

	/* {t} */
	if (noise_encrypt_and_hash(out + td->off_timestamp, tai64n,
				   DV_TAI64N_LEN, key, 0, hs.h))
		goto out;

	/* [{sig}]: ML-DSA over H, context "DyberVPN v1 initiation" */
	if (md->needs_mldsa) {
		if (noise_sign(sig, hs.h, noise_ctx_initiation, l, rng) ||
		    noise_encrypt_and_hash(out + td->off_sig, sig,
					   DV_MLDSA_SIG_LEN, key, 1, hs.h))
			goto out;
	}

	hs.state = NOISE_HS_CREATED_INITIATION;
	hs.mode = p->mode;
	hs.local_index = local_index;
	memcpy(p->hs, &hs, sizeof(hs));
	*outlen = td->len;
	ret = NOISE_OK;
out:
	if (ret && td && *outlen >= td->len)
		ct_wipe(out, td->len);
	ct_wipe(&hs, sizeof(hs));
	ct_wipe(key, sizeof(key));
	ct_wipe(coins, sizeof(coins));
	ct_wipe(sig, sizeof(sig));
	return ret;
}

int noise_consume_initiation(const struct noise_local *l, const uint8_t *msg,
			     size_t len,
			     struct noise_peer *(*lookup)(void *arg,
							  const uint8_t pub[DV_KEY_LEN]),
			     void *arg, uint64_t now_ns,
			     struct noise_peer **peer_out)
{
	const struct dv_mode_desc *md;
	const struct dv_msg_desc *td;
	struct noise_handshake hs;
	struct noise_peer *p;
	uint8_t key[DV_KEY_LEN], spub[DV_KEY_LEN], ts[DV_TAI64N_LEN];
	uint8_t sig[DV_MLDSA_SIG_LEN], h_signed[DV_HASH_LEN];
	int ret;

	*peer_out = NULL;
	memset(&hs, 0, sizeof(hs));

	/* 1. length and reserved bytes */
	ret = NOISE_ERR_LENGTH;
	td = dv_msg_classify(msg, len);
	if (!td || td->kind != DV_KIND_INITIATION)
		goto out;
	md = dv_mode_desc(td->mode);

	/* 3. the DHs and AEADs, under the transcript of the message's mode */
	noise_hs_start(hs.ck, hs.h, md, l->pub);

	/* e */
	memcpy(hs.remote_e, msg + td->off_ephemeral, DV_KEY_LEN);
	noise_mix_key(hs.ck, hs.remote_e, DV_KEY_LEN);
	noise_mix_hash(hs.h, hs.remote_e, DV_KEY_LEN);

	/* [ekem]: hashed now, checked (step 6) once the sender is known */
	if (md->needs_kem) {
		memcpy(hs.mlkem_ek, msg + td->off_kem, DV_MLKEM_EK_LEN);
		noise_mix_hash(hs.h, hs.mlkem_ek, DV_MLKEM_EK_LEN);
	}

	/* es */
	ret = NOISE_ERR_DECRYPT;
	if (noise_mix_dh(hs.ck, key, l->priv, hs.remote_e))
		goto out;

	/* s */
	if (noise_decrypt_and_hash(spub, msg + td->off_static,
				   DV_ENC_STATIC_LEN, key, 0, hs.h))
		goto out;
	/* A public key, encrypted only to hide who is talking: which peer it
	 * names is public once we answer (or not). */
	ct_declassify(spub, sizeof(spub));
	p = lookup(arg, spub);
	if (!p) {
		ret = NOISE_ERR_UNKNOWN_PEER;
		goto out;
	}

	/* ss */
	dv_kdf(hs.ck, key, NULL, hs.ck, p->static_static, DV_KEY_LEN);

	/* {t} */
	if (noise_decrypt_and_hash(ts, msg + td->off_timestamp,
				   DV_ENC_TIMESTAMP_LEN, key, 0, hs.h))
		goto out;

	/* [{sig}]: decrypted now, verified last (step 7) */
	if (md->needs_mldsa) {
		memcpy(h_signed, hs.h, DV_HASH_LEN);
		if (noise_decrypt_and_hash(sig, msg + td->off_sig,
					   DV_ENC_SIG_LEN, key, 1, hs.h))
			goto out;
	}
	*peer_out = p;

	/* 4. no silent downgrade: the peer's mode decides. A mismatch counts
	 * once per fresh timestamp (newer than the last accepted and the last
	 * refused for its mode); a replay of it is only a replay. */
	if (p->mode != td->mode) {
		ret = NOISE_ERR_REPLAY;
		if (!noise_timestamp_newer(ts, p->latest_timestamp) ||
		    !noise_timestamp_newer(ts, p->refused_mode_timestamp))
			goto out;
		memcpy(p->refused_mode_timestamp, ts, DV_TAI64N_LEN);
		ret = NOISE_ERR_MODE;
		goto out;
	}

	/* 5. replay (TAI64N compares as big-endian bytes), then rate limit */
	ret = NOISE_ERR_REPLAY;
	if (!noise_timestamp_newer(ts, p->latest_timestamp))
		goto out;
	if (md->needs_mldsa) {
		/* Both timestamps are secret; only the verdict is public. */
		int same = !ct_memcmp(ts, p->failed_sig_timestamp, DV_TAI64N_LEN);

		ct_declassify(&same, sizeof(same));
		if (same)
			goto out;
	}
	ret = NOISE_ERR_RATELIMIT;
	if (p->has_last_initiation &&
	    p->last_initiation_ns + NOISE_INITIATION_INTERVAL_NS > now_ns)
		goto out;

	/* 6. FIPS 203, 7.2: every coefficient of ek below q */
	ret = NOISE_ERR_MLKEM_KEY;
	if (md->needs_kem && dv_crypto()->kem_check_pk(hs.mlkem_ek))
		goto out;

	/* 7. the expensive check; Encaps follows in noise_create_response.
	 * The rate-limit slot is taken before Verify, and a failed
	 * signature's timestamp is remembered: at most one Verify per fresh
	 * timestamp, and per NOISE_INITIATION_INTERVAL_NS. */
	if (md->needs_mldsa) {
		ret = NOISE_ERR_CONFIG; /* no key to verify with: no Verify */
		if (!p->has_mldsa_pk)
			goto out;
		p->last_initiation_ns = now_ns;
		p->has_last_initiation = true;
		ret = noise_verify(p, sig, h_signed, noise_ctx_initiation);
		if (ret) {
			memcpy(p->failed_sig_timestamp, ts, DV_TAI64N_LEN);
			goto out;
		}
	}

	ret = NOISE_ERR_STATE;
	if (!p->hs)
		goto out;
	hs.state = NOISE_HS_CONSUMED_INITIATION;
	hs.mode = td->mode;
	hs.remote_index = dv_le32_get(msg + td->off_sender);
	memcpy(p->hs, &hs, sizeof(hs));
	memcpy(p->latest_timestamp, ts, DV_TAI64N_LEN);
	p->last_initiation_ns = now_ns;
	p->has_last_initiation = true;
	ret = NOISE_OK;
out:
	ct_wipe(&hs, sizeof(hs));
	ct_wipe(key, sizeof(key));
	ct_wipe(spub, sizeof(spub));
	ct_wipe(ts, sizeof(ts));
	ct_wipe(sig, sizeof(sig));
	ct_wipe(h_signed, sizeof(h_signed));
	return ret;
}

int noise_create_response(const struct noise_local *l, struct noise_peer *p,
			  uint32_t local_index, const struct noise_rng *rng,
			  uint8_t *out, size_t *outlen)
{
	const struct dv_msg_desc *td = NULL;
	const struct dv_mode_desc *md;
	struct noise_handshake hs;
	uint8_t key[DV_KEY_LEN], tau[DV_HASH_LEN], m[32], ss[32];
	uint8_t sig[DV_MLDSA_SIG_LEN];
	uint8_t *e_out;
	int ret;

	if (p->hs)
		memcpy(&hs, p->hs, sizeof(hs));
	else
		memset(&hs, 0, sizeof(hs));
	ret = NOISE_ERR_STATE;
	if (hs.state != NOISE_HS_CONSUMED_INITIATION)
		goto out;
	md = dv_mode_desc(hs.mode);
	td = dv_mode_msg(hs.mode, DV_KIND_RESPONSE);
	ret = NOISE_ERR_CONFIG;
	if (!md || !td || (md->needs_mldsa && !l->has_mldsa))
		goto out;
	ret = NOISE_ERR_BUFFER;
	if (*outlen < td->len)
		goto out;
	memset(out, 0, td->len);
	e_out = out + td->off_ephemeral;
	out[DV_OFF_TYPE] = td->type;
	dv_le32_put(out + td->off_sender, local_index);
	dv_le32_put(out + td->off_receiver, hs.remote_index);

	/* e */
	ret = NOISE_ERR_INTERNAL;
	noise_rng_fill(rng, hs.e_priv, DV_KEY_LEN);
	if (dv_x25519_base(e_out, hs.e_priv))
		goto out;
	noise_mix_key(hs.ck, e_out, DV_KEY_LEN);
	noise_mix_hash(hs.h, e_out, DV_KEY_LEN);

	/* ee, se */
	ret = NOISE_ERR_DECRYPT;
	if (noise_mix_dh(hs.ck, NULL, hs.e_priv, hs.remote_e) ||
	    noise_mix_dh(hs.ck, NULL, hs.e_priv, p->remote_static))
		goto out;

	/* [ct, kem]: Encaps to the ek checked in noise_consume_initiation */
	if (md->needs_kem) {
		noise_rng_fill(rng, m, sizeof(m));
		ret = NOISE_ERR_MLKEM_KEY;
		if (dv_crypto()->kem_encaps(out + td->off_kem, ss, hs.mlkem_ek, m))
			goto out;
		/* The ciphertext goes on the wire. */
		ct_declassify(out + td->off_kem, DV_MLKEM_CT_LEN);
		noise_mix_hash(hs.h, out + td->off_kem, DV_MLKEM_CT_LEN);
		noise_mix_key(hs.ck, ss, sizeof(ss));
	}

	/* psk: (C, tau, k) = KDF3(C, Q); H = HASH(H || tau) */
	dv_kdf(hs.ck, tau, key, hs.ck, p->psk, DV_KEY_LEN);
	noise_mix_hash(hs.h, tau, sizeof(tau));

	/* [{sig}]: ML-DSA over H, context "DyberVPN v1 response" */
	ret = NOISE_ERR_INTERNAL;
	if (md->needs_mldsa) {
		if (noise_sign(sig, hs.h, noise_ctx_response, l, rng) ||
		    noise_encrypt_and_hash(out + td->off_sig, sig,
					   DV_MLDSA_SIG_LEN, key, 1, hs.h))
			goto out;
	}

	/* {} */
	if (noise_encrypt_and_hash(out + td->off_empty, NULL,
				   0, key, 0, hs.h))
		goto out;

	hs.state = NOISE_HS_CREATED_RESPONSE;
	hs.local_index = local_index;
	memcpy(p->hs, &hs, sizeof(hs));
	*outlen = td->len;
	ret = NOISE_OK;
out:
	if (ret && td && *outlen >= td->len)
		ct_wipe(out, td->len);
	ct_wipe(&hs, sizeof(hs));
	ct_wipe(key, sizeof(key));
	ct_wipe(tau, sizeof(tau));
	ct_wipe(m, sizeof(m));
	ct_wipe(ss, sizeof(ss));
	ct_wipe(sig, sizeof(sig));
	return ret;
}

int noise_consume_response(const struct noise_local *l, struct noise_peer *p,
			   const uint8_t *msg, size_t len)
{
	const struct dv_mode_desc *md;
	const struct dv_msg_desc *td;
	struct noise_handshake hs;
	uint8_t key[DV_KEY_LEN], tau[DV_HASH_LEN], ss[32], empty[1];
	uint8_t sig[DV_MLDSA_SIG_LEN], h_signed[DV_HASH_LEN];
	const uint8_t *e_in;
	int ret;

	if (p->hs)
		memcpy(&hs, p->hs, sizeof(hs));
	else
		memset(&hs, 0, sizeof(hs));

	/* 1. length and reserved bytes */
	ret = NOISE_ERR_LENGTH;
	td = dv_msg_classify(msg, len);
	if (!td || td->kind != DV_KIND_RESPONSE)
		goto out;
	md = dv_mode_desc(td->mode);

	/* 2. our pending initiation, in this message's mode */
	ret = NOISE_ERR_STATE;
	if (hs.state != NOISE_HS_CREATED_INITIATION ||
	    dv_le32_get(msg + td->off_receiver) != hs.local_index)
		goto out;
	ret = NOISE_ERR_MODE;
	if (hs.mode != td->mode)
		goto out;

	/* 3. e, ee, se */
	e_in = msg + td->off_ephemeral;
	memcpy(hs.remote_e, e_in, DV_KEY_LEN);
	noise_mix_key(hs.ck, e_in, DV_KEY_LEN);
	noise_mix_hash(hs.h, e_in, DV_KEY_LEN);
	ret = NOISE_ERR_DECRYPT;
	if (noise_mix_dh(hs.ck, NULL, hs.e_priv, e_in) ||
	    noise_mix_dh(hs.ck, NULL, l->priv, e_in))
		goto out;

	/* [ct, kem]: implicit rejection gives a wrong ss for a bad ct, and
	 * then the AEAD of `empty` below fails */
	if (md->needs_kem) {
		ret = NOISE_ERR_INTERNAL;
		if (dv_crypto()->kem_decaps(ss, msg + td->off_kem, hs.mlkem_dk))
			goto out;
		noise_mix_hash(hs.h, msg + td->off_kem, DV_MLKEM_CT_LEN);
		noise_mix_key(hs.ck, ss, sizeof(ss));
	}

	/* psk */
	dv_kdf(hs.ck, tau, key, hs.ck, p->psk, DV_KEY_LEN);
	noise_mix_hash(hs.h, tau, sizeof(tau));

	/* [{sig}], then {} */
	ret = NOISE_ERR_DECRYPT;
	if (md->needs_mldsa) {
		memcpy(h_signed, hs.h, DV_HASH_LEN);
		if (noise_decrypt_and_hash(sig, msg + td->off_sig,
					   DV_ENC_SIG_LEN, key, 1, hs.h))
			goto out;
	}
	if (noise_decrypt_and_hash(empty, msg + td->off_empty,
				   DV_ENC_EMPTY_LEN, key, 0, hs.h))
		goto out;

	/* 4. only now the signature */
	if (md->needs_mldsa &&
	    (ret = noise_verify(p, sig, h_signed, noise_ctx_response)))
		goto out;

	/* The ML-KEM dk has done its work: docs/PROTOCOL.md §7.3 erases it now. */
	ct_wipe(hs.mlkem_dk, sizeof(hs.mlkem_dk));
	hs.remote_index = dv_le32_get(msg + td->off_sender);
	hs.state = NOISE_HS_CONSUMED_RESPONSE;
	memcpy(p->hs, &hs, sizeof(hs));
	ret = NOISE_OK;
out:
	ct_wipe(&hs, sizeof(hs));
	ct_wipe(key, sizeof(key));
	ct_wipe(tau, sizeof(tau));
	ct_wipe(ss, sizeof(ss));
	ct_wipe(sig, sizeof(sig));
	ct_wipe(h_signed, sizeof(h_signed));
	return ret;
}

int noise_derive_keys(struct noise_peer *p, struct noise_keypair *kp)
{
	struct noise_handshake *hs = p->hs;
	uint8_t t1[DV_KEY_LEN], t2[DV_KEY_LEN];
	bool initiator;

	if (!hs)
		return NOISE_ERR_STATE;
	if (hs->state == NOISE_HS_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs->state == NOISE_HS_CREATED_RESPONSE)
		initiator = false;
	else
		return NOISE_ERR_STATE;

	/* (T_send_i = T_recv_r, T_recv_i = T_send_r) = KDF2(C, empty) */
	dv_kdf(t1, t2, NULL, hs->ck, NULL, 0);
	memcpy(kp->send, initiator ? t1 : t2, DV_KEY_LEN);
	memcpy(kp->recv, initiator ? t2 : t1, DV_KEY_LEN);
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->initiator = initiator;
	kp->mode = hs->mode;
	ct_wipe(t1, sizeof(t1));
	ct_wipe(t2, sizeof(t2));
	noise_handshake_clear(hs);
	return NOISE_OK;
}
