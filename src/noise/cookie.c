/* WireGuard cookies (whitepaper 5.4.7): mac1 on every handshake message,
 * mac2 and the type-3 cookie reply for a responder under load. */
#include "noise/cookie.h"

#include "crypto/classic.h"
#include "crypto/ct.h"

#include <string.h>

static const char cookie_label_mac1[] = "mac1----";
static const char cookie_label_cookie[] = "cookie--";

#define COOKIE_SECRET_MAX_AGE_NS (DV_COOKIE_SECRET_MAX_AGE * DV_NSEC_PER_SEC)
/* The initiator lets its cookie expire a little early, so it never sends a
 * mac2 made from a secret the responder has just renewed. */
#define COOKIE_MAKER_MAX_AGE_NS \
	((DV_COOKIE_SECRET_MAX_AGE - DV_COOKIE_SECRET_LATENCY) * DV_NSEC_PER_SEC)

/* HASH(label || pub): the mac1 key and the cookie-encryption key. */
static void cookie_derive_keys(uint8_t mac1_key[DV_HASH_LEN],
			       uint8_t cookie_key[DV_HASH_LEN],
			       const uint8_t pub[DV_KEY_LEN])
{
	dv_hash2(mac1_key, (const uint8_t *)cookie_label_mac1,
		 strlen(cookie_label_mac1), pub, DV_KEY_LEN);
	dv_hash2(cookie_key, (const uint8_t *)cookie_label_cookie,
		 strlen(cookie_label_cookie), pub, DV_KEY_LEN);
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t our_pub[DV_KEY_LEN])
{
	memset(c, 0, sizeof(*c));
	cookie_derive_keys(c->mac1_key, c->cookie_key, our_pub);
}

void cookie_checker_clear(struct cookie_checker *c)
{
	ct_wipe(c, sizeof(*c));
}

/* cookie = MAC(secret, src), the secret renewed when older than 120 s. */
static void cookie_make(struct cookie_checker *c, uint8_t cookie[DV_COOKIE_LEN],
			const uint8_t *src, size_t srclen, uint64_t now_ns)
{
	if (!c->has_secret || now_ns - c->secret_birth_ns >= COOKIE_SECRET_MAX_AGE_NS ||
	    now_ns < c->secret_birth_ns) {
		dv_random(c->secret, sizeof(c->secret));
		c->secret_birth_ns = now_ns;
		c->has_secret = true;
	}
	dv_mac(cookie, c->secret, sizeof(c->secret), src, srclen);
}

bool cookie_check_mac2(struct cookie_checker *c, const uint8_t *msg, size_t len,
		       const uint8_t *src, size_t srclen, uint64_t now_ns)
{
	static const uint8_t zero[DV_MAC_LEN];
	uint8_t mac[DV_MAC_LEN], cookie[DV_COOKIE_LEN];
	int bad;

	/* mac2 is public: a zero one says "no cookie", checked first. */
	if (len <= DV_MACS_LEN || !memcmp(msg + DV_OFF_MAC2(len), zero, DV_MAC_LEN))
		return false;
	cookie_make(c, cookie, src, srclen, now_ns);
	dv_mac(mac, cookie, sizeof(cookie), msg, DV_OFF_MAC2(len));
	bad = ct_memcmp(mac, msg + DV_OFF_MAC2(len), DV_MAC_LEN);
	ct_declassify(&bad, sizeof(bad));
	ct_wipe(mac, sizeof(mac));
	ct_wipe(cookie, sizeof(cookie));
	return !bad;
}

enum cookie_mac_state cookie_check(struct cookie_checker *c, const uint8_t *msg,
				   size_t len, const uint8_t *src, size_t srclen,
				   uint64_t now_ns, bool check_mac2)
{
	uint8_t mac[DV_MAC_LEN], cookie[DV_COOKIE_LEN];
	enum cookie_mac_state ret = COOKIE_MAC_INVALID;
	int bad;

	if (len <= DV_MACS_LEN)
		return COOKIE_MAC_INVALID;
	dv_mac(mac, c->mac1_key, DV_HASH_LEN, msg, DV_OFF_MAC1(len));
	if (ct_memcmp(mac, msg + DV_OFF_MAC1(len), DV_MAC_LEN))
		goto out;
	ret = COOKIE_MAC_VALID_NO_COOKIE;
	if (!check_mac2)
		goto out;
	cookie_make(c, cookie, src, srclen, now_ns);
	dv_mac(mac, cookie, sizeof(cookie), msg, DV_OFF_MAC2(len));
	bad = ct_memcmp(mac, msg + DV_OFF_MAC2(len), DV_MAC_LEN);
	/* Whether mac2 verified is public (the message is handled or gets a
	 * cookie reply); the expected mac2 comes from the secret. */
	ct_declassify(&bad, sizeof(bad));
	if (!bad)
		ret = COOKIE_MAC_VALID_COOKIE;
out:
	ct_wipe(mac, sizeof(mac));
	ct_wipe(cookie, sizeof(cookie));
	return ret;
}

int cookie_create_reply(struct cookie_checker *c,
			uint8_t out[DV_COOKIE_REPLY_LEN], const uint8_t *msg,
			size_t len, const uint8_t *src, size_t srclen,
			uint64_t now_ns)
{
	uint8_t cookie[DV_COOKIE_LEN];

	if (len <= DV_MACS_LEN || len < DV_OFF_SENDER + 4)
		return -1;
	memset(out, 0, DV_COOKIE_REPLY_LEN);
	out[DV_OFF_TYPE] = DV_MSG_COOKIE_REPLY;
	/* The reply goes to the sender index of the message it answers. */
	memcpy(out + DV_COOKIE_OFF_RECEIVER, msg + DV_OFF_SENDER, 4);
	dv_random(out + DV_COOKIE_OFF_NONCE, DV_COOKIE_NONCE_LEN);
	cookie_make(c, cookie, src, srclen, now_ns);
	/* The AD is the message's mac1: only its sender can use the reply. */
	dv_xaead_seal(out + DV_COOKIE_OFF_COOKIE, cookie, sizeof(cookie),
		      msg + DV_OFF_MAC1(len), DV_MAC_LEN,
		      out + DV_COOKIE_OFF_NONCE, c->cookie_key);
	/* The reply goes on the wire; the cookie in it is safe by the AEAD. */
	ct_declassify(out, DV_COOKIE_REPLY_LEN);
	ct_wipe(cookie, sizeof(cookie));
	return 0;
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_pub[DV_KEY_LEN])
{
	memset(m, 0, sizeof(*m));
	cookie_derive_keys(m->mac1_key, m->cookie_key, peer_pub);
}

void cookie_maker_clear(struct cookie_maker *m)
{
	ct_wipe(m, sizeof(*m));
}

/* mac1 and mac2 of one message or fragment; nothing remembered. */
static void fill_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		      uint64_t now_ns)
{
	dv_mac(msg + DV_OFF_MAC1(len), m->mac1_key, DV_HASH_LEN, msg,
	       DV_OFF_MAC1(len));
	if (m->has_cookie && now_ns >= m->cookie_birth_ns &&
	    now_ns - m->cookie_birth_ns < COOKIE_MAKER_MAX_AGE_NS) {
		dv_mac(msg + DV_OFF_MAC2(len), m->cookie, DV_COOKIE_LEN, msg,
		       DV_OFF_MAC2(len));
		/* mac2 goes on the wire; the cookie it is keyed with does not. */
		ct_declassify(msg + DV_OFF_MAC2(len), DV_MAC_LEN);
	} else {
		memset(msg + DV_OFF_MAC2(len), 0, DV_MAC_LEN);
	}
}

void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		     uint64_t now_ns)
{
	if (len <= DV_MACS_LEN)
		return;
	fill_macs(m, msg, len, now_ns);
	memcpy(m->last_mac1, msg + DV_OFF_MAC1(len), DV_MAC_LEN);
	m->has_sent_mac1 = true;
	m->has_sent_frag_mac1 = false;
}

void cookie_add_frag_macs(struct cookie_maker *m, uint8_t *frag, size_t len,
			  uint64_t now_ns, bool first)
{
	if (len <= DV_MACS_LEN)
		return;
	fill_macs(m, frag, len, now_ns);
	if (first) {
		memcpy(m->last_frag_mac1, frag + DV_OFF_MAC1(len), DV_MAC_LEN);
		m->has_sent_frag_mac1 = true;
	}
}

int cookie_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len,
			 uint64_t now_ns)
{
	uint8_t cookie[DV_COOKIE_LEN];

	if (len != DV_COOKIE_REPLY_LEN ||
	    dv_msg_type(msg, len) != DV_MSG_COOKIE_REPLY || !m->has_sent_mac1)
		return -1;
	if (dv_xaead_open(cookie, msg + DV_COOKIE_OFF_COOKIE,
			  DV_COOKIE_LEN + DV_TAG_LEN, m->last_mac1, DV_MAC_LEN,
			  msg + DV_COOKIE_OFF_NONCE, m->cookie_key) &&
	    (!m->has_sent_frag_mac1 ||
	     dv_xaead_open(cookie, msg + DV_COOKIE_OFF_COOKIE,
			   DV_COOKIE_LEN + DV_TAG_LEN, m->last_frag_mac1,
			   DV_MAC_LEN, msg + DV_COOKIE_OFF_NONCE,
			   m->cookie_key)))
		return -1;
	memcpy(m->cookie, cookie, sizeof(cookie));
	m->cookie_birth_ns = now_ns;
	m->has_cookie = true;
	/* One reply per message sent (Linux does the same). */
	m->has_sent_mac1 = false;
	m->has_sent_frag_mac1 = false;
	ct_wipe(cookie, sizeof(cookie));
	return 0;
}
