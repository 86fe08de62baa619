/* Handshake records of tests/data/protocol-vectors (classic, hybrid,
 * pqonly): both sides are configured from the INPUT fields, the RANDOM
 * fields are injected through the RNG hook, and every message, every
 * intermediate value the code exposes (the chaining key and hash kept in
 * the handshake state, the DHs and mac1 keys recomputed with the same
 * primitives), the transport keys and both data messages are compared byte
 * for byte. Each role runs on the record's bytes, not on our own output, so
 * initiator and responder are checked independently. */
#include "vectors/tv.h"

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/mldsa.h"
#include "crypto/mlkem.h"
#include "noise/cookie.h"
#include "noise/noise.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TV_MTU 1420

/* Serves rng_stream in order. In a pqonly record with deterministic
 * signing, the third draw of each create call (ML-DSA rnd) is zero and not
 * taken from the stream. */
struct tv_rng {
	const uint8_t *buf;
	size_t len, pos;
	unsigned call, zero_call;
	int overrun;
};

static void tv_rng_fill(void *arg, uint8_t *out, size_t len)
{
	struct tv_rng *r = arg;

	if (++r->call == r->zero_call) {
		memset(out, 0, len);
		return;
	}
	if (r->len - r->pos < len) {
		r->overrun = 1;
		memset(out, 0, len);
		return;
	}
	memcpy(out, r->buf + r->pos, len);
	r->pos += len;
}

struct tv_ctx {
	const struct tv_rec *r;
	char *msg;
	size_t msglen;
};

static int tv_fail(struct tv_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int tv_fail(struct tv_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, c->msglen, fmt, ap);
	va_end(ap);
	return 1;
}

/* Loads a fixed-size field. */
static int tv_need(struct tv_ctx *c, const char *key, uint8_t *buf, size_t len)
{
	if (tv_hex_fixed(c->r, key, buf, len))
		return tv_fail(c, "field %s missing or not %zu bytes", key, len);
	return 0;
}

/* Compares got with the field `key` (any length). */
static int tv_cmp(struct tv_ctx *c, const char *key, const uint8_t *got, size_t len)
{
	uint8_t *want;
	size_t n;
	int bad;

	if (tv_hex(c->r, key, &want, &n))
		return tv_fail(c, "field %s missing", key);
	bad = n != len || memcmp(want, got, len);
	if (bad) {
		size_t i = 0;

		while (i < len && i < n && want[i] == got[i])
			i++;
		tv_fail(c, "%s differs (len %zu vs %zu, first at byte %zu)", key,
			len, n, i);
	}
	free(want);
	return bad;
}

static int tv_u32(struct tv_ctx *c, const char *key, uint32_t *v)
{
	const char *s = tv_get(c->r, key);
	char *end;
	unsigned long long x;

	if (!s || !*s)
		return tv_fail(c, "field %s missing", key);
	x = strtoull(s, &end, 10);
	if (*end || x > UINT32_MAX)
		return tv_fail(c, "field %s not a uint32", key);
	*v = (uint32_t)x;
	return 0;
}

static struct noise_peer *tv_lookup(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	struct noise_peer *p = arg;

	return memcmp(p->remote_static, pub, DV_KEY_LEN) ? NULL : p;
}

/* One side of the handshake. */
struct tv_side {
	struct noise_local local;
	struct noise_peer peer;
	struct noise_handshake hs;     /* the peer's handshake storage */
	uint8_t peer_mldsa_pk[NOISE_MLDSA_PK_LEN];
	struct cookie_checker checker; /* keyed with our public key */
	struct cookie_maker maker;     /* keyed with the peer's */
	struct noise_keypair kp;
	uint8_t priv[32], pub[32];
	uint32_t index;
};

static int tv_side_init(struct tv_ctx *c, struct tv_side *s, const char *who,
			const struct tv_side *other, enum dv_mode mode,
			const uint8_t psk[32])
{
	char key[32];
	uint8_t seed[32], *pk = s->peer_mldsa_pk;

	if (noise_local_init(&s->local, s->priv))
		return tv_fail(c, "%s: noise_local_init failed", who);
	snprintf(key, sizeof(key), "%s_static_pub", who);
	if (tv_cmp(c, key, s->local.pub, 32))
		return 1;
	s->peer.hs = &s->hs;
	if (noise_peer_init(&s->peer, &s->local, mode, other->pub, psk))
		return tv_fail(c, "%s: noise_peer_init failed", who);
	cookie_checker_init(&s->checker, s->pub);
	cookie_maker_init(&s->maker, other->pub);
	if (mode != DV_MODE_PQONLY)
		return 0;

	snprintf(key, sizeof(key), "%s_mldsa_seed", who);
	if (tv_need(c, key, seed, sizeof(seed)))
		return 1;
	if (noise_local_set_mldsa_seed(&s->local, seed))
		return tv_fail(c, "%s: ML-DSA key generation failed", who);
	snprintf(key, sizeof(key), "%s_mldsa_pk", who);
	if (tv_cmp(c, key, s->local.mldsa_pk, NOISE_MLDSA_PK_LEN))
		return 1;
	/* the peer's ML-DSA public key, as configured */
	snprintf(key, sizeof(key), "%s_mldsa_pk", who[0] == 'i' ? "r" : "i");
	if (tv_need(c, key, pk, NOISE_MLDSA_PK_LEN))
		return 1;
	noise_peer_set_mldsa_pk(&s->peer, pk);
	return 0;
}

/* The values the primitives give from the inputs alone. */
static int tv_check_fixed(struct tv_ctx *c, enum dv_mode mode,
			  const struct tv_side *i, const struct tv_side *r)
{
	uint8_t cons[128], ident[128], ck[32], h[32], k[32];
	uint8_t ei[32], er[32], ei_pub[32], er_pub[32], dh[32];
	uint8_t *b;
	size_t consn, identn;

	if (tv_hex(c->r, "construction", &b, &consn) || consn > sizeof(cons))
		return free(b), tv_fail(c, "construction missing or too long");
	memcpy(cons, b, consn);
	free(b);
	if (tv_hex(c->r, "identifier", &b, &identn) || identn > sizeof(ident))
		return free(b), tv_fail(c, "identifier missing or too long");
	memcpy(ident, b, identn);
	free(b);

	dv_hash2(ck, cons, consn, NULL, 0);
	dv_hash2(h, ck, 32, ident, identn);
	dv_hash2(h, h, 32, r->pub, 32);
	if (tv_cmp(c, "init_ck_0", ck, 32) || tv_cmp(c, "init_h_0", h, 32))
		return 1;
	dv_hash2(k, (const uint8_t *)"mac1----", 8, r->pub, 32);
	if (tv_cmp(c, "mac1_key_r", k, 32))
		return 1;
	dv_hash2(k, (const uint8_t *)"mac1----", 8, i->pub, 32);
	if (tv_cmp(c, "mac1_key_i", k, 32))
		return 1;

	if (tv_need(c, "ei_priv", ei, 32) || tv_need(c, "er_priv", er, 32))
		return 1;
	if (dv_x25519_base(ei_pub, ei) || tv_cmp(c, "ei_pub", ei_pub, 32) ||
	    dv_x25519_base(er_pub, er) || tv_cmp(c, "er_pub", er_pub, 32))
		return 1;
	if (dv_x25519(dh, ei, r->pub) || tv_cmp(c, "dh_es", dh, 32) ||
	    dv_x25519(dh, i->priv, r->pub) || tv_cmp(c, "dh_ss", dh, 32) ||
	    dv_x25519(dh, er, ei_pub) || tv_cmp(c, "dh_ee", dh, 32) ||
	    dv_x25519(dh, er, i->pub) || tv_cmp(c, "dh_se", dh, 32))
		return 1;
	/* the static-static DH each side precomputed */
	if (tv_cmp(c, "dh_ss", i->peer.static_static, 32) ||
	    tv_cmp(c, "dh_ss", r->peer.static_static, 32))
		return 1;
	return 0;
}

/* Transport data message: type 4, receiver, LE64 counter 0, then the
 * plaintext zero-padded to a multiple of 16 (never past the MTU), sealed. */
static int tv_check_data(struct tv_ctx *c, const char *key, const char *plainkey,
			 const struct noise_keypair *from,
			 const struct noise_keypair *to)
{
	uint8_t *plain, *pkt, *back;
	size_t n, padded;
	int bad = 1;

	if (tv_hex(c->r, plainkey, &plain, &n) || n > TV_MTU) {
		free(plain);
		return tv_fail(c, "field %s missing or too long", plainkey);
	}
	padded = (n + DV_DATA_PADDING - 1) / DV_DATA_PADDING * DV_DATA_PADDING;
	if (padded > TV_MTU)
		padded = TV_MTU;
	pkt = calloc(1, DV_DATA_HEADER_LEN + padded + DV_TAG_LEN);
	back = calloc(1, padded + 1);
	if (!pkt || !back) {
		tv_fail(c, "out of memory");
		goto out;
	}
	pkt[0] = DV_MSG_DATA;
	dv_le32_put(pkt + DV_DATA_OFF_RECEIVER, from->remote_index);
	dv_le64_put(pkt + DV_DATA_OFF_COUNTER, 0);
	memcpy(pkt + DV_DATA_HEADER_LEN, plain, n);
	if (dv_aead_seal(pkt + DV_DATA_HEADER_LEN, pkt + DV_DATA_HEADER_LEN,
			 padded, NULL, 0, 0, from->send)) {
		tv_fail(c, "%s: seal failed", key);
		goto out;
	}
	if (tv_cmp(c, key, pkt, DV_DATA_HEADER_LEN + padded + DV_TAG_LEN))
		goto out;
	/* and the receiver opens it with its own key */
	if (dv_le32_get(pkt + DV_DATA_OFF_RECEIVER) != to->local_index ||
	    dv_aead_open(back, pkt + DV_DATA_HEADER_LEN, padded + DV_TAG_LEN,
			 NULL, 0, 0, to->recv) || memcmp(back, plain, n)) {
		tv_fail(c, "%s: the receiver cannot open it", key);
		goto out;
	}
	bad = 0;
out:
	free(plain);
	free(pkt);
	free(back);
	return bad;
}

/* ML-DSA-65 by the record: the signature is Sign(seed key, H, ctx, rnd)
 * (rnd zero when deterministic) and verifies with the configured pk. */
static int tv_check_sig(struct tv_ctx *c, const struct tv_side *signer,
			const char *sigkey, const char *rndkey,
			const uint8_t h[32], const char *ctx)
{
	uint8_t sig[MLDSA65_SIG_LEN], want[MLDSA65_SIG_LEN], rnd[32] = { 0 };

	if (tv_need(c, sigkey, want, sizeof(want)) ||
	    (!tv_is(c->r, "mldsa_deterministic", "true") &&
	     tv_need(c, rndkey, rnd, sizeof(rnd))))
		return 1;
	if (mldsa65_sign(sig, h, 32, (const uint8_t *)ctx, strlen(ctx),
			 signer->local.mldsa_sk, rnd) ||
	    tv_cmp(c, sigkey, sig, sizeof(sig)))
		return tv_fail(c, "%s: signing does not reproduce it", sigkey);
	if (mldsa65_verify(want, h, 32, (const uint8_t *)ctx, strlen(ctx),
			   signer->local.mldsa_pk))
		return tv_fail(c, "%s does not verify", sigkey);
	return 0;
}

/* Replays the transcript step by step with the primitives, from the
 * record's values, and compares every intermediate field: this locates a
 * mismatch that the whole-message comparison only detects. */
static int tv_check_transcript(struct tv_ctx *c, enum dv_mode mode,
			       const struct tv_side *i, const struct tv_side *r,
			       const uint8_t *init, size_t initn,
			       const uint8_t *resp, size_t respn)
{
	static uint8_t ek[MLKEM768_PK_LEN], dk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ck[32], h[32], k[32], tau[32], v[32], coins[64], ss[32], mac[16];
	int pq = mode != DV_MODE_CLASSIC;
	const uint8_t *e;

	if (tv_need(c, "init_ck_0", ck, 32) || tv_need(c, "init_h_0", h, 32))
		return 1;
	if (initn != noise_msg_len(noise_initiation_type(mode)) ||
	    respn != noise_msg_len(noise_response_type(mode)))
		return tv_fail(c, "message sizes wrong for mode");

	/* -> e, [ekem], es, s, ss, {t}, [{sig}] */
	e = init + DV_INIT_OFF_EPHEMERAL;
	dv_kdf(ck, NULL, NULL, ck, e, 32);
	dv_hash2(h, h, 32, e, 32);
	if (tv_cmp(c, "ei_pub", e, 32) || tv_cmp(c, "init_ck_e", ck, 32) ||
	    tv_cmp(c, "init_h_e", h, 32))
		return 1;
	if (pq) {
		if (tv_need(c, "mlkem_d", coins, 32) ||
		    tv_need(c, "mlkem_z", coins + 32, 32))
			return 1;
		if (mlkem768_keypair_derand(ek, dk, coins) ||
		    tv_cmp(c, "mlkem_ek", ek, sizeof(ek)) ||
		    tv_cmp(c, "mlkem_ek", init + DV_INIT_OFF_PQ_EK, sizeof(ek)))
			return 1;
		dv_hash2(h, h, 32, ek, sizeof(ek));
		if (tv_cmp(c, "init_h_ek", h, 32))
			return 1;
	}
	if (tv_need(c, "dh_es", v, 32))
		return 1;
	dv_kdf(ck, k, NULL, ck, v, 32);
	if (tv_cmp(c, "init_ck_es", ck, 32) || tv_cmp(c, "init_k_static", k, 32))
		return 1;
	dv_hash2(h, h, 32, init + DV_INIT_OFF_STATIC(pq), DV_ENC_STATIC_LEN);
	if (tv_cmp(c, "init_h_static", h, 32) || tv_need(c, "dh_ss", v, 32))
		return 1;
	dv_kdf(ck, k, NULL, ck, v, 32);
	if (tv_cmp(c, "init_ck_ss", ck, 32) || tv_cmp(c, "init_k_timestamp", k, 32))
		return 1;
	dv_hash2(h, h, 32, init + DV_INIT_OFF_TIMESTAMP(pq), DV_ENC_TIMESTAMP_LEN);
	if (tv_cmp(c, "init_h_timestamp", h, 32))
		return 1;
	if (mode == DV_MODE_PQONLY) {
		if (tv_check_sig(c, i, "i_sig", "mldsa_rnd_i", h,
				 "DyberVPN v1 initiation"))
			return 1;
		dv_hash2(h, h, 32, init + DV_INIT_OFF_SIG, DV_ENC_SIG_LEN);
		if (tv_cmp(c, "init_h_sig", h, 32))
			return 1;
	}
	if (tv_cmp(c, "init_ck", ck, 32) || tv_cmp(c, "init_h", h, 32) ||
	    tv_need(c, "mac1_key_r", k, 32))
		return 1;
	dv_mac(mac, k, 32, init, DV_OFF_MAC1(initn));
	if (memcmp(mac, init + DV_OFF_MAC1(initn), 16))
		return tv_fail(c, "initiation mac1 is not MAC(mac1_key_r, ...)");

	/* <- e, ee, se, [ct, kem], psk, [{sig}], {} */
	e = resp + DV_RESP_OFF_EPHEMERAL;
	dv_kdf(ck, NULL, NULL, ck, e, 32);
	dv_hash2(h, h, 32, e, 32);
	if (tv_cmp(c, "er_pub", e, 32) || tv_cmp(c, "resp_ck_e", ck, 32) ||
	    tv_cmp(c, "resp_h_e", h, 32) || tv_need(c, "dh_ee", v, 32))
		return 1;
	dv_kdf(ck, NULL, NULL, ck, v, 32);
	if (tv_cmp(c, "resp_ck_ee", ck, 32) || tv_need(c, "dh_se", v, 32))
		return 1;
	dv_kdf(ck, NULL, NULL, ck, v, 32);
	if (tv_cmp(c, "resp_ck_se", ck, 32))
		return 1;
	if (pq) {
		if (tv_need(c, "mlkem_m", v, 32) ||
		    mlkem768_enc_derand(ct, ss, ek, v) ||
		    tv_cmp(c, "mlkem_ct", ct, sizeof(ct)) ||
		    tv_cmp(c, "mlkem_ct", resp + DV_RESP_OFF_PQ_CT, sizeof(ct)) ||
		    tv_cmp(c, "mlkem_ss", ss, 32))
			return 1;
		if (mlkem768_dec(v, ct, dk) || memcmp(v, ss, 32))
			return tv_fail(c, "Decaps does not give mlkem_ss");
		dv_hash2(h, h, 32, ct, sizeof(ct));
		dv_kdf(ck, NULL, NULL, ck, ss, 32);
		if (tv_cmp(c, "resp_h_ct", h, 32) || tv_cmp(c, "resp_ck_kem", ck, 32))
			return 1;
	}
	if (tv_need(c, "psk", v, 32))
		return 1;
	dv_kdf(ck, tau, k, ck, v, 32);
	dv_hash2(h, h, 32, tau, 32);
	if (tv_cmp(c, "resp_ck_psk", ck, 32) || tv_cmp(c, "resp_tau", tau, 32) ||
	    tv_cmp(c, "resp_k", k, 32) || tv_cmp(c, "resp_h_psk", h, 32))
		return 1;
	if (mode == DV_MODE_PQONLY) {
		if (tv_check_sig(c, r, "r_sig", "mldsa_rnd_r", h,
				 "DyberVPN v1 response"))
			return 1;
		dv_hash2(h, h, 32, resp + DV_RESP_OFF_SIG, DV_ENC_SIG_LEN);
		if (tv_cmp(c, "resp_h_sig", h, 32))
			return 1;
	}
	dv_hash2(h, h, 32, resp + DV_RESP_OFF_EMPTY(respn), DV_ENC_EMPTY_LEN);
	if (tv_cmp(c, "resp_ck", ck, 32) || tv_cmp(c, "resp_h", h, 32) ||
	    tv_need(c, "mac1_key_i", k, 32))
		return 1;
	dv_mac(mac, k, 32, resp, DV_OFF_MAC1(respn));
	if (memcmp(mac, resp + DV_OFF_MAC1(respn), 16))
		return tv_fail(c, "response mac1 is not MAC(mac1_key_i, ...)");
	/* T_send_i, T_recv_i = KDF2(C, empty) */
	dv_kdf(k, v, NULL, ck, NULL, 0);
	if (tv_cmp(c, "t_send_i", k, 32) || tv_cmp(c, "t_recv_i", v, 32))
		return 1;
	return 0;
}

static int tv_run(struct tv_ctx *c, struct tv_side *i, struct tv_side *r)
{
	const struct tv_rec *rec = c->r;
	enum dv_mode mode;
	struct tv_rng rng = { 0 };
	struct noise_rng nrng = { tv_rng_fill, &rng };
	struct noise_peer *found;
	uint8_t psk[32], ts[12], cookie[16], buf[DV_MAX_HANDSHAKE_LEN];
	uint8_t *stream = NULL, *init = NULL, *resp = NULL;
	size_t len, initn, respn;
	int ret = 1, rc;

	if (!tv_get(rec, "mode") || dv_mode_parse(tv_get(rec, "mode"), &mode))
		return tv_fail(c, "bad mode");
	if (tv_need(c, "i_static_priv", i->priv, 32) ||
	    tv_need(c, "i_static_pub", i->pub, 32) ||
	    tv_need(c, "r_static_priv", r->priv, 32) ||
	    tv_need(c, "r_static_pub", r->pub, 32) ||
	    tv_need(c, "psk", psk, 32) || tv_need(c, "timestamp", ts, 12) ||
	    tv_u32(c, "i_index", &i->index) || tv_u32(c, "r_index", &r->index))
		return 1;
	if (tv_side_init(c, i, "i", r, mode, psk) ||
	    tv_side_init(c, r, "r", i, mode, psk) ||
	    tv_check_fixed(c, mode, i, r))
		return 1;
	if (tv_hex(rec, "rng_stream", &stream, &rng.len) ||
	    tv_hex(rec, "initiation", &init, &initn) ||
	    tv_hex(rec, "response", &resp, &respn)) {
		tv_fail(c, "rng_stream, initiation or response missing");
		goto out;
	}
	rng.buf = stream;
	if (tv_check_transcript(c, mode, i, r, init, initn, resp, respn))
		goto out;
	if (mode == DV_MODE_PQONLY && tv_is(rec, "mldsa_deterministic", "true"))
		rng.zero_call = 3;

	/* Initiator: create, macs (mac2 from cookie_i when given), compare. */
	if (tv_get(rec, "cookie_i")) {
		if (tv_need(c, "cookie_i", cookie, 16))
			goto out;
		memcpy(i->maker.cookie, cookie, 16);
		i->maker.has_cookie = true;
		i->maker.cookie_birth_ns = 1;
	}
	len = sizeof(buf);
	rc = noise_create_initiation(&i->local, &i->peer, i->index, ts, &nrng,
				     buf, &len);
	if (rc) {
		tv_fail(c, "create_initiation: %s", noise_strerror(rc));
		goto out;
	}
	cookie_add_macs(&i->maker, buf, len, 2);
	if (tv_cmp(c, "initiation", buf, len) ||
	    tv_cmp(c, "init_ck", i->peer.hs->ck, 32) ||
	    tv_cmp(c, "init_h", i->peer.hs->h, 32))
		goto out;
	if (noise_msg_len(buf[0]) != len) {
		tv_fail(c, "noise_msg_len(%u) != %zu", buf[0], len);
		goto out;
	}

	/* Responder, on the record's initiation. */
	if (cookie_check(&r->checker, init, initn, NULL, 0, 0, false) !=
	    COOKIE_MAC_VALID_NO_COOKIE) {
		tv_fail(c, "responder: initiation mac1 does not verify");
		goto out;
	}
	rc = noise_consume_initiation(&r->local, init, initn, tv_lookup, &r->peer,
				      1, &found);
	if (rc || found != &r->peer) {
		tv_fail(c, "consume_initiation: %s", noise_strerror(rc));
		goto out;
	}
	if (tv_cmp(c, "init_ck", r->peer.hs->ck, 32) ||
	    tv_cmp(c, "init_h", r->peer.hs->h, 32) ||
	    tv_cmp(c, "timestamp", r->peer.latest_timestamp, 12))
		goto out;
	rng.call = 0;
	len = sizeof(buf);
	rc = noise_create_response(&r->local, &r->peer, r->index, &nrng, buf, &len);
	if (rc) {
		tv_fail(c, "create_response: %s", noise_strerror(rc));
		goto out;
	}
	cookie_add_macs(&r->maker, buf, len, 2);
	if (tv_cmp(c, "response", buf, len) ||
	    tv_cmp(c, "resp_ck", r->peer.hs->ck, 32) ||
	    tv_cmp(c, "resp_h", r->peer.hs->h, 32))
		goto out;
	if (rng.overrun || rng.pos != rng.len) {
		tv_fail(c, "rng: %zu of %zu bytes drawn%s", rng.pos, rng.len,
			rng.overrun ? ", overrun" : "");
		goto out;
	}

	/* Initiator, on the record's response. */
	if (cookie_check(&i->checker, resp, respn, NULL, 0, 0, false) !=
	    COOKIE_MAC_VALID_NO_COOKIE) {
		tv_fail(c, "initiator: response mac1 does not verify");
		goto out;
	}
	rc = noise_consume_response(&i->local, &i->peer, resp, respn);
	if (rc) {
		tv_fail(c, "consume_response: %s", noise_strerror(rc));
		goto out;
	}
	if (tv_cmp(c, "resp_ck", i->peer.hs->ck, 32) ||
	    tv_cmp(c, "resp_h", i->peer.hs->h, 32))
		goto out;

	/* Transport keys and data, both ways. */
	if (noise_derive_keys(&i->peer, &i->kp) ||
	    noise_derive_keys(&r->peer, &r->kp)) {
		tv_fail(c, "derive_keys failed");
		goto out;
	}
	if (tv_cmp(c, "t_send_i", i->kp.send, 32) ||
	    tv_cmp(c, "t_recv_i", i->kp.recv, 32) ||
	    tv_cmp(c, "t_send_i", r->kp.recv, 32) ||
	    tv_cmp(c, "t_recv_i", r->kp.send, 32))
		goto out;
	if (!i->kp.initiator || r->kp.initiator ||
	    i->kp.local_index != i->index || i->kp.remote_index != r->index ||
	    r->kp.local_index != r->index || r->kp.remote_index != i->index) {
		tv_fail(c, "keypair indices or roles wrong");
		goto out;
	}
	if (i->peer.hs->state != NOISE_HS_ZEROED || r->peer.hs->state != NOISE_HS_ZEROED) {
		tv_fail(c, "handshake state not wiped after derive_keys");
		goto out;
	}
	if (tv_check_data(c, "data_i2r", "data_i2r_plain", &i->kp, &r->kp) ||
	    tv_check_data(c, "data_r2i", "data_r2i_plain", &r->kp, &i->kp))
		goto out;
	ret = 0;
out:
	free(stream);
	free(init);
	free(resp);
	return ret;
}

int tv_handshake(const struct tv_rec *r, char *msg, size_t msglen)
{
	struct tv_ctx c = { r, msg, msglen };
	struct tv_side *sides = calloc(2, sizeof(*sides));
	int ret;

	if (!sides) {
		snprintf(msg, msglen, "out of memory");
		return 1;
	}
	ret = tv_run(&c, &sides[0], &sides[1]);
	free(sides);
	return ret;
}
