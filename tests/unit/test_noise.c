/* The handshake's rejections (docs/PROTOCOL.md §8): each
 * check returns its own code, a failed consume leaves the peer byte for
 * byte as it was, and tampering with any field flips the outcome. */
#include "t.h"

#include "crypto/aead.h"
#include "crypto/backend.h"
#include "crypto/classic.h"
#include "crypto/mldsa.h"
#include "noise/noise.h"
#include "noise/selftest.h"

#include <stdlib.h>

#define MS 1000000ULL

struct side {
	struct noise_local local;
	struct noise_peer peer;
	struct noise_handshake hs; /* the peer's handshake storage */
	struct noise_keypair kp;
	uint8_t msg[DV_MAX_HANDSHAKE_LEN];
	size_t len;
};

/* Global: the structs are several kilobytes each. */
static struct side I, R;
static struct noise_peer snap;
static struct noise_handshake snap_hs;
static uint64_t ts_sec = 1000;

static struct noise_peer *lookup_r(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	(void)arg;
	return memcmp(R.peer.remote_static, pub, DV_KEY_LEN) ? NULL : &R.peer;
}

static struct noise_peer *lookup_none(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	(void)arg;
	(void)pub;
	return NULL;
}

static void identity(struct side *s)
{
	uint8_t k[32];

	dv_random(k, sizeof(k));
	dv_x25519_clamp(k);
	T_CHECK(noise_local_init(&s->local, k) == NOISE_OK);
	dv_random(k, sizeof(k));
	T_CHECK(noise_local_set_mldsa_seed(&s->local, k) == NOISE_OK);
}

/* Fresh identities; each side knows the other in mode mi (initiator's
 * configuration) and mr (responder's). */
static void setup2(enum dv_mode mi, enum dv_mode mr)
{
	memset(&I, 0, sizeof(I));
	memset(&R, 0, sizeof(R));
	identity(&I);
	identity(&R);
	I.peer.hs = &I.hs;
	R.peer.hs = &R.hs;
	T_CHECK(noise_peer_init(&I.peer, &I.local, mi, R.local.pub, NULL) == 0);
	T_CHECK(noise_peer_init(&R.peer, &R.local, mr, I.local.pub, NULL) == 0);
	noise_peer_set_mldsa_pk(&I.peer, R.local.mldsa_pk);
	noise_peer_set_mldsa_pk(&R.peer, I.local.mldsa_pk);
}

static void setup(enum dv_mode m)
{
	setup2(m, m);
}

static int create_init(void)
{
	uint8_t ts[DV_TAI64N_LEN];

	dv_tai64n(ts, ts_sec++, 0);
	I.len = sizeof(I.msg);
	return noise_create_initiation(&I.local, &I.peer, 11, ts, NULL, I.msg, &I.len);
}

static int consume_init(const uint8_t *msg, size_t len, uint64_t now)
{
	struct noise_peer *found;

	return noise_consume_initiation(&R.local, msg, len, lookup_r, NULL, now,
					&found);
}

static int create_resp(void)
{
	R.len = sizeof(R.msg);
	return noise_create_response(&R.local, &R.peer, 22, NULL, R.msg, &R.len);
}

/* A consume that must fail with `want` and leave the peer untouched. */
static void expect_init_fail(const uint8_t *msg, size_t len, uint64_t now, int want)
{
	int rc;

	memcpy(&snap, &R.peer, sizeof(snap));
	memcpy(&snap_hs, &R.hs, sizeof(snap_hs));
	rc = consume_init(msg, len, now);
	T_CHECK(rc == want);
	if (rc != want)
		fprintf(stderr, "  got %d (%s), want %d\n", rc, noise_strerror(rc), want);
	/* What a refusal may record, so that its replays cost nothing more:
	 * a failed signature takes the rate-limit slot and leaves its
	 * timestamp; a mode refusal leaves its timestamp. Nothing else. */
	if (want == NOISE_ERR_SIGNATURE) {
		snap.last_initiation_ns = R.peer.last_initiation_ns;
		snap.has_last_initiation = R.peer.has_last_initiation;
		memcpy(snap.failed_sig_timestamp, R.peer.failed_sig_timestamp, DV_TAI64N_LEN);
	}
	if (want == NOISE_ERR_MODE)
		memcpy(snap.refused_mode_timestamp, R.peer.refused_mode_timestamp,
		       DV_TAI64N_LEN);
	T_CHECK(memcmp(&snap, &R.peer, sizeof(snap)) == 0);
	T_CHECK(memcmp(&snap_hs, &R.hs, sizeof(snap_hs)) == 0);
}

static void expect_resp_fail(const uint8_t *msg, size_t len, int want)
{
	int rc;

	memcpy(&snap, &I.peer, sizeof(snap));
	memcpy(&snap_hs, &I.hs, sizeof(snap_hs));
	rc = noise_consume_response(&I.local, &I.peer, msg, len);
	T_CHECK(rc == want);
	if (rc != want)
		fprintf(stderr, "  got %d (%s), want %d\n", rc, noise_strerror(rc), want);
	T_CHECK(memcmp(&snap, &I.peer, sizeof(snap)) == 0);
	T_CHECK(memcmp(&snap_hs, &I.hs, sizeof(snap_hs)) == 0);
}

static void test_full_handshakes(void)
{
	for (int m = DV_MODE_CLASSIC; m <= DV_MODE_PQONLY; m++) {
		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		T_CHECK(I.len == noise_msg_len(noise_initiation_type((enum dv_mode)m)));
		T_CHECK(consume_init(I.msg, I.len, 1) == 0);
		T_CHECK(create_resp() == 0);
		T_CHECK(R.len == noise_msg_len(noise_response_type((enum dv_mode)m)));
		T_CHECK(noise_consume_response(&I.local, &I.peer, R.msg, R.len) == 0);
		T_CHECK(noise_derive_keys(&I.peer, &I.kp) == 0);
		T_CHECK(noise_derive_keys(&R.peer, &R.kp) == 0);
		T_EQ_MEM(I.kp.send, R.kp.recv, 32);
		T_EQ_MEM(I.kp.recv, R.kp.send, 32);
		T_CHECK(I.kp.initiator && !R.kp.initiator);
		T_CHECK(I.kp.remote_index == 22 && R.kp.remote_index == 11);
		/* derive wiped the handshake: a second derive has no state */
		T_CHECK(noise_derive_keys(&I.peer, &I.kp) == NOISE_ERR_STATE);
		static struct noise_selftest st;
		T_CHECK(noise_selftest_init(&st, (enum dv_mode)m) == 0);
		T_CHECK(noise_selftest_run(&st) == 0);
		T_CHECK(noise_selftest_run(&st) == 0); /* again: newer timestamp */
		noise_selftest_clear(&st);
	}
}

static void test_sizes(void)
{
	T_CHECK(noise_msg_len(1) == 148 && noise_msg_len(2) == 92);
	T_CHECK(noise_msg_len(3) == 64 && noise_msg_len(4) == 0);
	T_CHECK(noise_msg_len(5) == 1332 && noise_msg_len(6) == 1180);
	T_CHECK(noise_msg_len(7) == 4657 && noise_msg_len(8) == 4505);
	T_CHECK(noise_msg_len(0) == 0 && noise_msg_len(9) == 0);
}

/* Wrong length, reserved bytes, unknown type: all NOISE_ERR_LENGTH. */
static void test_lengths(void)
{
	static uint8_t big[DV_MAX_HANDSHAKE_LEN + 1];

	for (int m = DV_MODE_CLASSIC; m <= DV_MODE_PQONLY; m++) {
		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		memcpy(big, I.msg, I.len);
		expect_init_fail(big, I.len - 1, 1, NOISE_ERR_LENGTH);
		expect_init_fail(big, I.len + 1, 1, NOISE_ERR_LENGTH);
		expect_init_fail(big, 0, 1, NOISE_ERR_LENGTH);
		expect_init_fail(big, 3, 1, NOISE_ERR_LENGTH);
		big[2] = 1;
		expect_init_fail(big, I.len, 1, NOISE_ERR_LENGTH);
		big[2] = 0;
		big[0] = 9;
		expect_init_fail(big, I.len, 1, NOISE_ERR_LENGTH);
		big[0] = (uint8_t)noise_response_type((enum dv_mode)m);
		expect_init_fail(big, I.len, 1, NOISE_ERR_LENGTH);

		T_CHECK(consume_init(I.msg, I.len, 1) == 0);
		T_CHECK(create_resp() == 0);
		memcpy(big, R.msg, R.len);
		expect_resp_fail(big, R.len - 1, NOISE_ERR_LENGTH);
		expect_resp_fail(big, R.len + 1, NOISE_ERR_LENGTH);
		big[3] = 0x80;
		expect_resp_fail(big, R.len, NOISE_ERR_LENGTH);
		big[3] = 0;
		T_CHECK(noise_consume_response(&I.local, &I.peer, big, R.len) == 0);
	}
}

static void test_buffers_and_state(void)
{
	uint8_t small[100];
	size_t n = sizeof(small);
	uint8_t ts[12] = { 0 };

	setup(DV_MODE_HYBRID);
	T_CHECK(noise_create_initiation(&I.local, &I.peer, 1, ts, NULL, small,
					&n) == NOISE_ERR_BUFFER);
	T_CHECK(I.peer.hs->state == NOISE_HS_ZEROED);
	/* no consumed initiation: no response; no initiation: no keys */
	T_CHECK(create_resp() == NOISE_ERR_STATE);
	T_CHECK(noise_derive_keys(&R.peer, &R.kp) == NOISE_ERR_STATE);
	T_CHECK(create_init() == 0);
	T_CHECK(noise_derive_keys(&I.peer, &I.kp) == NOISE_ERR_STATE);
	T_CHECK(consume_init(I.msg, I.len, 1) == 0);
	T_CHECK(create_resp() == 0);
	/* a response naming another index */
	R.msg[DV_RESP_OFF_RECEIVER] ^= 1;
	expect_resp_fail(R.msg, R.len, NOISE_ERR_STATE);
	R.msg[DV_RESP_OFF_RECEIVER] ^= 1;
	T_CHECK(noise_consume_response(&I.local, &I.peer, R.msg, R.len) == 0);
	/* the same response again: the pending handshake is gone */
	expect_resp_fail(R.msg, R.len, NOISE_ERR_STATE);
}

/* The peer's configured mode decides: no silent downgrade (check 4). */
static void test_mode_mismatch(void)
{
	static uint8_t fake[DV_HYBRID_RESPONSE_LEN];
	struct noise_peer *found = NULL;

	setup2(DV_MODE_CLASSIC, DV_MODE_HYBRID);
	T_CHECK(create_init() == 0 && I.msg[0] == DV_MSG_INITIATION);
	memcpy(&snap, &R.peer, sizeof(snap));
	T_CHECK(noise_consume_initiation(&R.local, I.msg, I.len, lookup_r, NULL,
					 1, &found) == NOISE_ERR_MODE);
	T_CHECK(found == &R.peer); /* known once the AEADs verified: countable */
	/* Only its timestamp is kept, so that a replay is not counted again. */
	memcpy(snap.refused_mode_timestamp, R.peer.refused_mode_timestamp, DV_TAI64N_LEN);
	T_CHECK(memcmp(&snap, &R.peer, sizeof(snap)) == 0);
	expect_init_fail(I.msg, I.len, 2, NOISE_ERR_REPLAY);

	setup2(DV_MODE_PQONLY, DV_MODE_HYBRID);
	T_CHECK(create_init() == 0);
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_MODE);
	setup2(DV_MODE_HYBRID, DV_MODE_CLASSIC);
	T_CHECK(create_init() == 0);
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_MODE);

	/* a hybrid response to a pending classic initiation */
	setup(DV_MODE_CLASSIC);
	T_CHECK(create_init() == 0);
	fake[0] = DV_MSG_HYBRID_RESPONSE;
	dv_le32_put(fake + DV_RESP_OFF_RECEIVER, 11);
	expect_resp_fail(fake, sizeof(fake), NOISE_ERR_MODE);
}

static void test_unknown_peer(void)
{
	struct noise_peer *found = (struct noise_peer *)&found;

	setup(DV_MODE_HYBRID);
	T_CHECK(create_init() == 0);
	T_CHECK(noise_consume_initiation(&R.local, I.msg, I.len, lookup_none,
					 NULL, 1, &found) == NOISE_ERR_UNKNOWN_PEER);
	T_CHECK(found == NULL);
}

/* One flipped bit in any field of either message is rejected. */
static void test_tamper(void)
{
	for (int m = DV_MODE_CLASSIC; m <= DV_MODE_PQONLY; m++) {
		size_t init_fields[] = {
			DV_OFF_SENDER + 4,           /* ephemeral */
			m ? DV_INIT_OFF_PQ_EK + 100 : DV_INIT_OFF_STATIC(0) + 40, /* ek; classic: static tag */
			DV_INIT_OFF_STATIC(m != 0) + 5,
			DV_INIT_OFF_TIMESTAMP(m != 0) + 3,
			DV_INIT_OFF_TIMESTAMP(m != 0) + DV_ENC_TIMESTAMP_LEN - 1, /* tag */
			DV_INIT_OFF_SIG + 1000,      /* signature (pqonly) */
			DV_PQ_INITIATION_LEN - 33,   /* signature tag (pqonly) */
		};
		size_t resp_fields[] = {
			DV_RESP_OFF_EPHEMERAL + 7,
			m ? DV_RESP_OFF_PQ_CT + 500 : DV_RESP_OFF_EMPTY(DV_RESPONSE_LEN), /* ct; classic: empty */
			DV_RESP_OFF_SIG + 2000,      /* signature (pqonly) */
			0,                           /* empty: set below */
		};
		size_t nf = m == DV_MODE_PQONLY ? 7 : 5;

		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		for (size_t f = 0; f < nf; f++) {
			I.msg[init_fields[f]] ^= 0x10;
			expect_init_fail(I.msg, I.len, 1, NOISE_ERR_DECRYPT);
			I.msg[init_fields[f]] ^= 0x10;
		}
		T_CHECK(consume_init(I.msg, I.len, 1) == 0);
		T_CHECK(create_resp() == 0);
		resp_fields[3] = DV_RESP_OFF_EMPTY(R.len) + 2;
		for (size_t f = 0; f < 4; f++) {
			if (m != DV_MODE_PQONLY && f == 2)
				continue;
			R.msg[resp_fields[f]] ^= 0x04;
			expect_resp_fail(R.msg, R.len, NOISE_ERR_DECRYPT);
			R.msg[resp_fields[f]] ^= 0x04;
		}
		/* macs are the cookie module's: not covered by the handshake */
		R.msg[R.len - 1] ^= 1;
		T_CHECK(noise_consume_response(&I.local, &I.peer, R.msg, R.len) == 0);
	}
}

static void test_replay_and_rate(void)
{
	static uint8_t first[DV_MAX_HANDSHAKE_LEN];
	size_t n;

	for (int m = DV_MODE_CLASSIC; m <= DV_MODE_PQONLY; m++) {
		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		memcpy(first, I.msg, I.len);
		n = I.len;
		T_CHECK(consume_init(I.msg, I.len, 1000 * MS) == 0);
		/* the same message later: replay */
		expect_init_fail(first, n, 5000 * MS, NOISE_ERR_REPLAY);
		/* newer timestamp, 10 ms after the last one: rate-limited */
		T_CHECK(create_init() == 0);
		expect_init_fail(I.msg, I.len, 1010 * MS, NOISE_ERR_RATELIMIT);
		/* 20 ms after: accepted (50 per second) */
		T_CHECK(consume_init(I.msg, I.len, 1020 * MS) == 0);
		/* an older timestamp than the last accepted: replay */
		expect_init_fail(first, n, 9000 * MS, NOISE_ERR_REPLAY);
	}
}

/* Builds an initiation by the letter of docs/PROTOCOL.md §6 from chosen inputs,
 * independently of noise.c, so that a well-formed message can carry an ek
 * that fails FIPS 203 7.2, or a signature by some other key. */
static size_t forge_initiation(enum dv_mode m, const uint8_t ek[DV_MLKEM_EK_LEN],
			       const uint8_t *sign_sk, uint8_t *out)
{
	static const char *cons[] = {
		"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
		"DyberVPN_IKpsk2_25519+MLKEM768_ChaChaPoly_BLAKE2s",
		"DyberVPN_IKpsk2_25519+MLKEM768+MLDSA65_ChaChaPoly_BLAKE2s",
	};
	const char *ident = m ? "DyberVPN v1" : "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t ck[32], h[32], k[32], e[32], dh[32], ts[12], rnd[32] = { 0 };
	static uint8_t sig[DV_MLDSA_SIG_LEN];
	size_t len = noise_msg_len(noise_initiation_type(m));
	int pq = m != DV_MODE_CLASSIC;

	memset(out, 0, len);
	out[0] = noise_initiation_type(m);
	dv_le32_put(out + 4, 77);
	dv_hash2(ck, (const uint8_t *)cons[m], strlen(cons[m]), NULL, 0);
	dv_hash2(h, ck, 32, (const uint8_t *)ident, strlen(ident));
	dv_hash2(h, h, 32, R.local.pub, 32);
	dv_random(e, 32);
	T_CHECK(dv_x25519_base(out + 8, e) == 0);
	dv_kdf(ck, NULL, NULL, ck, out + 8, 32);
	dv_hash2(h, h, 32, out + 8, 32);
	if (pq) {
		memcpy(out + DV_INIT_OFF_PQ_EK, ek, DV_MLKEM_EK_LEN);
		dv_hash2(h, h, 32, ek, DV_MLKEM_EK_LEN);
	}
	T_CHECK(dv_x25519(dh, e, R.local.pub) == 0);
	dv_kdf(ck, k, NULL, ck, dh, 32);
	dv_aead_seal(out + DV_INIT_OFF_STATIC(pq), I.local.pub, 32, h, 32, 0, k);
	dv_hash2(h, h, 32, out + DV_INIT_OFF_STATIC(pq), DV_ENC_STATIC_LEN);
	T_CHECK(dv_x25519(dh, I.local.priv, R.local.pub) == 0);
	dv_kdf(ck, k, NULL, ck, dh, 32);
	dv_tai64n(ts, ts_sec++, 0);
	dv_aead_seal(out + DV_INIT_OFF_TIMESTAMP(pq), ts, 12, h, 32, 0, k);
	dv_hash2(h, h, 32, out + DV_INIT_OFF_TIMESTAMP(pq), DV_ENC_TIMESTAMP_LEN);
	if (m == DV_MODE_PQONLY) {
		T_CHECK(mldsa65_sign(sig, h, 32, (const uint8_t *)"DyberVPN v1 initiation",
				     22, sign_sk, rnd) == 0);
		dv_aead_seal(out + DV_INIT_OFF_SIG, sig, DV_MLDSA_SIG_LEN, h, 32, 1, k);
	}
	return len;
}

static void test_forged(void)
{
	static uint8_t ek[DV_MLKEM_EK_LEN], msg[DV_MAX_HANDSHAKE_LEN];
	static struct noise_local other;
	uint8_t seed[32];
	size_t n;

	/* the forger itself is right: its messages are accepted */
	for (int m = DV_MODE_CLASSIC; m <= DV_MODE_PQONLY; m++) {
		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		memcpy(ek, I.msg + DV_INIT_OFF_PQ_EK, sizeof(ek));
		n = forge_initiation((enum dv_mode)m, ek, I.local.mldsa_sk, msg);
		T_CHECK(consume_init(msg, n, 1) == 0);
	}

	/* ek with a coefficient >= q (FIPS 203 7.2): dropped at check 6,
	 * before any Encaps; in pqonly before the signature (a bad one here) */
	for (int m = DV_MODE_HYBRID; m <= DV_MODE_PQONLY; m++) {
		setup((enum dv_mode)m);
		T_CHECK(create_init() == 0);
		memcpy(ek, I.msg + DV_INIT_OFF_PQ_EK, sizeof(ek));
		ek[0] = 0xff;
		ek[1] |= 0x0f; /* first 12-bit coefficient = 4095 */
		n = forge_initiation((enum dv_mode)m, ek, R.local.mldsa_sk, msg);
		expect_init_fail(msg, n, 1, NOISE_ERR_MLKEM_KEY);
		T_CHECK(create_resp() == NOISE_ERR_STATE);
		/* the same ek changed in place, nothing recomputed: the
		 * transcript no longer matches, dropped at the AEAD */
		memcpy(msg, I.msg, I.len);
		msg[DV_INIT_OFF_PQ_EK] = 0xff;
		msg[DV_INIT_OFF_PQ_EK + 1] |= 0x0f;
		expect_init_fail(msg, I.len, 1, NOISE_ERR_DECRYPT);
	}

	/* pqonly: signed by a key that is not the configured one */
	setup(DV_MODE_PQONLY);
	T_CHECK(create_init() == 0);
	memcpy(ek, I.msg + DV_INIT_OFF_PQ_EK, sizeof(ek));
	dv_random(seed, sizeof(seed));
	T_CHECK(noise_local_set_mldsa_seed(&other, seed) == 0);
	n = forge_initiation(DV_MODE_PQONLY, ek, other.mldsa_sk, msg);
	expect_init_fail(msg, n, 1, NOISE_ERR_SIGNATURE);
	/* replayed after a bad signature: still accepted when genuine, so a
	 * bad signature did not advance the timestamp (20 ms later: the
	 * failed Verify took the rate-limit slot) */
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_RATELIMIT);
	T_CHECK(consume_init(I.msg, I.len, 1 + 20 * MS) == 0);
	noise_local_clear(&other);
}

static unsigned n_verify;

static int counting_verify(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg,
			   size_t msglen, const uint8_t *ctx, size_t ctxlen,
			   const uint8_t pk[MLDSA65_PK_LEN])
{
	n_verify++;
	return dv_crypto_software.verify(sig, msg, msglen, ctx, ctxlen, pk);
}

/* pqonly: an initiation with genuine X25519 parts and a forged signature,
 * replayed, costs one ML-DSA Verify in all; a fresh forgery within the
 * rate-limit interval costs none; the genuine peer still gets through. */
static void test_one_verify_per_timestamp(void)
{
	static struct dv_crypto_backend counting;
	static uint8_t ek[DV_MLKEM_EK_LEN], msg[DV_MAX_HANDSHAKE_LEN];
	static struct noise_local other;
	uint8_t seed[32];
	size_t n;

	counting = dv_crypto_software;
	counting.verify = counting_verify;
	setup(DV_MODE_PQONLY);
	dv_random(seed, sizeof(seed));
	T_CHECK(noise_local_set_mldsa_seed(&other, seed) == 0);
	T_CHECK(create_init() == 0);
	memcpy(ek, I.msg + DV_INIT_OFF_PQ_EK, sizeof(ek));
	n = forge_initiation(DV_MODE_PQONLY, ek, other.mldsa_sk, msg);
	dv_crypto_set_backend(&counting);
	n_verify = 0;
	expect_init_fail(msg, n, 1000 * MS, NOISE_ERR_SIGNATURE);
	for (uint64_t i = 1; i <= 300; i++)
		expect_init_fail(msg, n, 1000 * MS + i * 100 * MS, NOISE_ERR_REPLAY);
	T_CHECK(n_verify == 1);
	/* A fresh forgery 10 ms after a Verify: rate-limited, no Verify. */
	n = forge_initiation(DV_MODE_PQONLY, ek, other.mldsa_sk, msg);
	expect_init_fail(msg, n, 40000 * MS, NOISE_ERR_SIGNATURE);
	n = forge_initiation(DV_MODE_PQONLY, ek, other.mldsa_sk, msg);
	expect_init_fail(msg, n, 40010 * MS, NOISE_ERR_RATELIMIT);
	T_CHECK(n_verify == 2);
	/* The genuine initiation (older timestamp than the forgeries, but
	 * newer than any accepted) is still accepted. */
	T_CHECK(consume_init(I.msg, I.len, 50000 * MS) == 0);
	T_CHECK(n_verify == 3);
	dv_crypto_set_backend(NULL);
	noise_local_clear(&other);
}

/* pqonly: the configured ML-DSA key of the other side is wrong or absent. */
static void test_unknown_mldsa_key(void)
{
	static struct noise_local other;
	uint8_t seed[32];

	dv_random(seed, sizeof(seed));
	T_CHECK(noise_local_set_mldsa_seed(&other, seed) == 0);

	setup(DV_MODE_PQONLY);
	noise_peer_set_mldsa_pk(&R.peer, other.mldsa_pk);
	T_CHECK(create_init() == 0);
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_SIGNATURE);

	setup(DV_MODE_PQONLY);
	noise_peer_set_mldsa_pk(&I.peer, other.mldsa_pk);
	T_CHECK(create_init() == 0);
	T_CHECK(consume_init(I.msg, I.len, 1) == 0);
	T_CHECK(create_resp() == 0);
	expect_resp_fail(R.msg, R.len, NOISE_ERR_SIGNATURE);

	setup(DV_MODE_PQONLY);
	R.peer.has_mldsa_pk = false;
	T_CHECK(create_init() == 0);
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_CONFIG);
	I.peer.has_mldsa_pk = false;
	T_CHECK(create_init() == NOISE_ERR_CONFIG);
	I.peer.has_mldsa_pk = true;
	I.local.has_mldsa = false;
	T_CHECK(create_init() == NOISE_ERR_CONFIG);
	noise_local_clear(&other);
}

/* A failed consume during an established session changes nothing: the
 * pending initiation still completes afterwards. */
static void test_state_survives(void)
{
	static uint8_t junk[DV_HYBRID_INITIATION_LEN];

	setup(DV_MODE_HYBRID);
	T_CHECK(create_init() == 0);
	T_CHECK(consume_init(I.msg, I.len, 1) == 0);
	T_CHECK(create_resp() == 0);
	memcpy(junk, R.msg, R.len);
	junk[DV_RESP_OFF_PQ_CT] ^= 1;
	expect_resp_fail(junk, R.len, NOISE_ERR_DECRYPT);
	T_CHECK(noise_consume_response(&I.local, &I.peer, R.msg, R.len) == 0);
	/* the responder's session-to-be survives a bad initiation */
	memcpy(junk, I.msg, DV_HYBRID_INITIATION_LEN);
	junk[DV_INIT_OFF_TIMESTAMP(1)] ^= 1;
	expect_init_fail(junk, DV_HYBRID_INITIATION_LEN, 1000 * MS, NOISE_ERR_DECRYPT);
	T_CHECK(R.peer.hs->state == NOISE_HS_CREATED_RESPONSE);
	T_CHECK(noise_derive_keys(&I.peer, &I.kp) == 0);
	T_CHECK(noise_derive_keys(&R.peer, &R.kp) == 0);
	T_EQ_MEM(I.kp.send, R.kp.recv, 32);
}

static void test_low_order_key(void)
{
	/* X25519 point of order 8 (RFC 7748 / libsodium blocklist): DH = 0 */
	static const uint8_t bad[32] = { 0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8,
		0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a, 0xda, 0x09,
		0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f,
		0x49, 0xb8, 0x00 };
	struct noise_peer p = { 0 };

	setup(DV_MODE_CLASSIC);
	T_CHECK(noise_peer_init(&p, &I.local, DV_MODE_CLASSIC, bad, NULL) ==
		NOISE_ERR_CONFIG);
	/* an initiation whose ephemeral is of low order: es = 0 */
	T_CHECK(create_init() == 0);
	memcpy(I.msg + DV_INIT_OFF_EPHEMERAL, bad, 32);
	expect_init_fail(I.msg, I.len, 1, NOISE_ERR_DECRYPT);
}

int main(void)
{
	T_RUN(test_sizes);
	T_RUN(test_full_handshakes);
	T_RUN(test_lengths);
	T_RUN(test_buffers_and_state);
	T_RUN(test_mode_mismatch);
	T_RUN(test_unknown_peer);
	T_RUN(test_tamper);
	T_RUN(test_replay_and_rate);
	T_RUN(test_forged);
	T_RUN(test_one_verify_per_timestamp);
	T_RUN(test_unknown_mldsa_key);
	T_RUN(test_state_survives);
	T_RUN(test_low_order_key);
	return t_done();
}
