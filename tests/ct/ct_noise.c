/* Constant-time check of the handshake (all three modes), the data-plane
 * AEAD and the cookies under valgrind memcheck. Secret (undefined to
 * memcheck, CT_SECRET): both static X25519 keys, the psk, both ML-DSA
 * seeds, every byte the RNG hands out (ephemerals, ML-KEM coins and m,
 * ML-DSA rnd), the transport keys, the cookie secret and a held cookie.
 * What is public by design (wire messages, public keys, the verdict of an
 * AEAD, a MAC or a zero DH, the peer a decrypted static key names) is
 * declassified inside the library with ct_declassify at the point it
 * becomes public; anything else that reaches a branch or an index makes
 * `make ct` fail. Third-party reports are suppressed narrowly in
 * tests/ct/valgrind.supp. */
#include <string.h>

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/ct.h"
#include "noise/cookie.h"
#include "noise/noise.h"
#include "t.h"

/* A deterministic RNG whose every output byte is secret. */
static void ct_rng_fill(void *arg, uint8_t *out, size_t len)
{
	uint32_t *s = arg;

	for (size_t i = 0; i < len; i++) {
		*s = *s * 1103515245u + 12345u;
		out[i] = (uint8_t)(*s >> 16);
	}
	CT_SECRET(out, len);
}

/* What goes on the wire must be wholly public, as sendto would require:
 * memcheck reports the first secret-dependent byte. */
static void ct_wire(const void *p, size_t n)
{
	T_CHECK(VALGRIND_CHECK_MEM_IS_DEFINED(p, n) == 0);
}

static uint32_t ct_rng_state = 1;
static const struct noise_rng ct_rng = { ct_rng_fill, &ct_rng_state };

/* Initiator i, responder r; pi is i's record of r, pr r's record of i. */
static struct noise_local li, lr;
static struct noise_peer pi, pr;
static struct noise_handshake hs_i, hs_r;
static uint8_t msg_i[DV_MAX_HANDSHAKE_LEN], msg_r[DV_MAX_HANDSHAKE_LEN];

static struct noise_peer *ct_lookup(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	struct noise_peer *p = arg;

	return ct_memcmp(p->remote_static, pub, DV_KEY_LEN) ? NULL : p;
}

static void ct_secret_bytes(uint8_t *b, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed + 37 * i);
	CT_SECRET(b, n);
}

static void ct_setup(enum dv_mode m)
{
	uint8_t priv_i[DV_KEY_LEN], priv_r[DV_KEY_LEN], psk[DV_KEY_LEN];
	uint8_t xi[32];

	ct_secret_bytes(priv_i, sizeof(priv_i), 0x11);
	ct_secret_bytes(priv_r, sizeof(priv_r), 0x22);
	ct_secret_bytes(psk, sizeof(psk), 0x33);
	T_CHECK(noise_local_init(&li, priv_i) == 0);
	T_CHECK(noise_local_init(&lr, priv_r) == 0);
	if (m == DV_MODE_PQONLY) {
		ct_secret_bytes(xi, sizeof(xi), 0x44);
		T_CHECK(noise_local_set_mldsa_seed(&li, xi) == 0);
		ct_secret_bytes(xi, sizeof(xi), 0x55);
		T_CHECK(noise_local_set_mldsa_seed(&lr, xi) == 0);
	}
	pi.hs = &hs_i;
	pr.hs = &hs_r;
	T_CHECK(noise_peer_init(&pi, &li, m, lr.pub, psk) == 0);
	T_CHECK(noise_peer_init(&pr, &lr, m, li.pub, psk) == 0);
	if (m == DV_MODE_PQONLY) {
		noise_peer_set_mldsa_pk(&pi, lr.mldsa_pk);
		noise_peer_set_mldsa_pk(&pr, li.mldsa_pk);
	}
}

/* One handshake at time sec; the transport keys land in ki and kr. */
static int ct_handshake(uint64_t sec, struct noise_keypair *ki,
			struct noise_keypair *kr)
{
	uint8_t ts[DV_TAI64N_LEN];
	struct noise_peer *found;
	size_t li_len = sizeof(msg_i), lr_len = sizeof(msg_r);
	int ret;

	dv_tai64n(ts, sec, 0);
	if ((ret = noise_create_initiation(&li, &pi, 1, ts, &ct_rng, msg_i, &li_len)))
		return ret;
	ct_wire(msg_i, li_len);
	if ((ret = noise_consume_initiation(&lr, msg_i, li_len, ct_lookup, &pr,
					    sec * DV_NSEC_PER_SEC, &found)) ||
	    (ret = noise_create_response(&lr, found, 2, &ct_rng, msg_r, &lr_len)))
		return ret;
	ct_wire(msg_r, lr_len);
	if ((ret = noise_consume_response(&li, &pi, msg_r, lr_len)) ||
	    (ret = noise_derive_keys(&pi, ki)) ||
	    (ret = noise_derive_keys(&pr, kr)))
		return ret;
	return 0;
}

/* Data plane: seal with one side's send key, open with the other's recv
 * key; then a forged tag must fail. */
static void ct_transport(const struct noise_keypair *ki,
			 const struct noise_keypair *kr)
{
	uint8_t pt[64], pkt[sizeof(pt) + DV_AEAD_TAG_LEN], out[sizeof(pt)];
	uint8_t ad[DV_DATA_HEADER_LEN];

	memset(pt, 0x5a, sizeof(pt));
	memset(ad, 0x01, sizeof(ad));
	T_CHECK(dv_aead_seal(pkt, pt, sizeof(pt), ad, sizeof(ad), 7, ki->send) == 0);
	ct_wire(pkt, sizeof(pkt));
	T_CHECK(dv_aead_open(out, pkt, sizeof(pkt), ad, sizeof(ad), 7, kr->recv) == 0);
	CT_PUBLIC(out, sizeof(out)); /* the test's own comparison */
	T_EQ_MEM(out, pt, sizeof(pt));
	pkt[sizeof(pkt) - 1] ^= 1;
	T_CHECK(dv_aead_open(out, pkt, sizeof(pkt), ad, sizeof(ad), 7, kr->recv) == -1);
	T_CHECK(dv_aead_open(out, pkt, sizeof(pkt), ad, sizeof(ad), 8, kr->recv) == -1);
}

static void ct_mode(enum dv_mode m)
{
	struct noise_keypair ki, kr;
	struct noise_peer *found;

	ct_setup(m);
	/* Twice: the second replay check compares against a timestamp that
	 * came out of an AEAD under secret keys. */
	for (uint64_t sec = 1000; sec < 1002; sec++) {
		T_CHECK(ct_handshake(sec, &ki, &kr) == 0);
		ct_transport(&ki, &kr);
		ct_transport(&kr, &ki);
		CT_PUBLIC(&ki, sizeof(ki));
		CT_PUBLIC(&kr, sizeof(kr));
		T_EQ_MEM(ki.send, kr.recv, DV_KEY_LEN);
		T_EQ_MEM(ki.recv, kr.send, DV_KEY_LEN);
	}
	/* The last initiation again: every AEAD verifies, the replay check
	 * rejects it. */
	T_CHECK(noise_consume_initiation(&lr, msg_i, noise_msg_len(msg_i[0]),
					 ct_lookup, &pr, 2000 * DV_NSEC_PER_SEC,
					 &found) == NOISE_ERR_REPLAY);
	/* A forged response: the final AEAD fails. */
	{
		uint8_t ts[DV_TAI64N_LEN];
		size_t len = sizeof(msg_i);

		dv_tai64n(ts, 3000, 0);
		T_CHECK(noise_create_initiation(&li, &pi, 3, ts, &ct_rng, msg_i, &len) == 0);
		msg_r[DV_RESP_OFF_RECEIVER] = 3;
		msg_r[DV_RESP_OFF_EMPTY(noise_msg_len(msg_r[0]))] ^= 1;
		T_CHECK(noise_consume_response(&li, &pi, msg_r,
					       noise_msg_len(msg_r[0])) == NOISE_ERR_DECRYPT);
	}
	noise_local_clear(&li);
	noise_local_clear(&lr);
	noise_peer_clear(&pi);
	noise_peer_clear(&pr);
}

/* The responder's checker with a secret, the initiator's maker with the
 * cookie it was sent; mac2 is checked under load. */
static void ct_cookies(void)
{
	static struct cookie_checker chk;
	static struct cookie_maker mk;
	uint8_t pub_r[DV_KEY_LEN], msg[DV_INITIATION_LEN], reply[DV_COOKIE_REPLY_LEN];
	uint8_t src[18];
	uint64_t now = 5 * DV_NSEC_PER_SEC;

	memset(pub_r, 0x77, sizeof(pub_r));
	memset(src, 0x0a, sizeof(src));
	memset(msg, 0, sizeof(msg));
	msg[0] = DV_MSG_INITIATION;
	cookie_checker_init(&chk, pub_r);
	cookie_maker_init(&mk, pub_r);

	cookie_add_macs(&mk, msg, sizeof(msg), now);
	T_CHECK(cookie_check(&chk, msg, sizeof(msg), src, sizeof(src), now, false) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	/* The first use makes the secret; from then on it is secret. */
	T_CHECK(cookie_check(&chk, msg, sizeof(msg), src, sizeof(src), now, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	CT_SECRET(chk.secret, sizeof(chk.secret));

	T_CHECK(cookie_create_reply(&chk, reply, msg, sizeof(msg), src, sizeof(src),
				    now) == 0);
	ct_wire(reply, sizeof(reply));
	T_CHECK(cookie_consume_reply(&mk, reply, sizeof(reply), now) == 0);
	CT_SECRET(mk.cookie, sizeof(mk.cookie));

	cookie_add_macs(&mk, msg, sizeof(msg), now);
	ct_wire(msg, sizeof(msg));
	T_CHECK(cookie_check(&chk, msg, sizeof(msg), src, sizeof(src), now, true) ==
		COOKIE_MAC_VALID_COOKIE);
	/* Another source address: mac2 does not verify. */
	src[0] ^= 1;
	T_CHECK(cookie_check(&chk, msg, sizeof(msg), src, sizeof(src), now, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	cookie_checker_clear(&chk);
	cookie_maker_clear(&mk);
}

int main(void)
{
	ct_mode(DV_MODE_CLASSIC);
	ct_mode(DV_MODE_HYBRID);
	ct_mode(DV_MODE_PQONLY);
	ct_cookies();
	return t_done();
}
