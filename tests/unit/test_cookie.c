/* Cookies (whitepaper 5.4.7): mac1 keyed with the receiver's key, mac2
 * from a cookie reply, the reply round trip, secret rotation, stale
 * cookies, and messages of every handshake size. */
#include "t.h"

#include "crypto/classic.h"
#include "noise/cookie.h"

#define SEC 1000000000ULL

static uint8_t pub_r[32], pub_other[32];
static const uint8_t src_a[6] = { 192, 0, 2, 1, 0x1f, 0x90 };
static const uint8_t src_b[6] = { 192, 0, 2, 2, 0x1f, 0x90 };

static void keys(void)
{
	uint8_t k[32];

	dv_random(k, 32);
	T_CHECK(dv_x25519_base(pub_r, k) == 0);
	dv_random(k, 32);
	T_CHECK(dv_x25519_base(pub_other, k) == 0);
}

/* A handshake-shaped message of len bytes with sender index 0x01020304. */
static void fake_msg(uint8_t *msg, size_t len)
{
	dv_random(msg, len);
	msg[0] = DV_MSG_HYBRID_INITIATION;
	msg[1] = msg[2] = msg[3] = 0;
	dv_le32_put(msg + DV_OFF_SENDER, 0x01020304);
}

static void test_mac1(void)
{
	static const size_t sizes[] = { 148, 92, 1332, 1180, 4657, 4505 };
	static uint8_t msg[DV_MAX_HANDSHAKE_LEN];
	struct cookie_checker c, wrong;
	struct cookie_maker m;
	uint8_t mac[16];

	cookie_checker_init(&c, pub_r);
	cookie_checker_init(&wrong, pub_other);
	cookie_maker_init(&m, pub_r);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];

		fake_msg(msg, n);
		cookie_add_macs(&m, msg, n, 1);
		/* mac1 = MAC(HASH("mac1----" || receiver pub), bytes before it) */
		dv_mac(mac, c.mac1_key, 32, msg, n - 32);
		T_EQ_MEM(mac, msg + n - 32, 16);
		T_EQ_MEM(m.last_mac1, msg + n - 32, 16);
		for (size_t j = 0; j < 16; j++)
			T_CHECK(msg[n - 16 + j] == 0); /* no cookie: mac2 zero */
		T_CHECK(cookie_check(&c, msg, n, src_a, 6, 1, false) ==
			COOKIE_MAC_VALID_NO_COOKIE);
		T_CHECK(cookie_check(&c, msg, n, src_a, 6, 1, true) ==
			COOKIE_MAC_VALID_NO_COOKIE);
		T_CHECK(cookie_check(&wrong, msg, n, src_a, 6, 1, false) ==
			COOKIE_MAC_INVALID);
		msg[n / 2] ^= 1;
		T_CHECK(cookie_check(&c, msg, n, src_a, 6, 1, false) ==
			COOKIE_MAC_INVALID);
		msg[n / 2] ^= 1;
		msg[n - 20] ^= 1; /* mac1 itself */
		T_CHECK(cookie_check(&c, msg, n, src_a, 6, 1, false) ==
			COOKIE_MAC_INVALID);
	}
	T_CHECK(cookie_check(&c, msg, 32, src_a, 6, 1, false) == COOKIE_MAC_INVALID);
	T_CHECK(cookie_check(&c, msg, 0, src_a, 6, 1, false) == COOKIE_MAC_INVALID);
}

/* Under load: mac1 only -> reply; reply -> cookie -> mac2 accepted. */
static void test_reply_round_trip(void)
{
	static uint8_t msg[DV_HYBRID_INITIATION_LEN];
	uint8_t reply[DV_COOKIE_REPLY_LEN], reply2[DV_COOKIE_REPLY_LEN];
	struct cookie_checker c;
	struct cookie_maker m;
	const size_t n = sizeof(msg);
	uint64_t t = 1000 * SEC;

	cookie_checker_init(&c, pub_r);
	cookie_maker_init(&m, pub_r);
	fake_msg(msg, n);
	/* a reply before any message was sent is refused */
	T_CHECK(cookie_create_reply(&c, reply, msg, n, src_a, 6, t) == 0);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == -1);

	cookie_add_macs(&m, msg, n, t);
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	T_CHECK(cookie_create_reply(&c, reply, msg, n, src_a, 6, t) == 0);
	T_CHECK(reply[0] == DV_MSG_COOKIE_REPLY && !reply[1] && !reply[2] && !reply[3]);
	T_CHECK(dv_le32_get(reply + DV_COOKIE_OFF_RECEIVER) == 0x01020304);

	/* tampered or wrong-length replies are refused, m unchanged */
	memcpy(reply2, reply, sizeof(reply));
	reply2[40] ^= 1;
	T_CHECK(cookie_consume_reply(&m, reply2, sizeof(reply2), t) == -1);
	reply2[40] ^= 1;
	reply2[10] ^= 1; /* nonce */
	T_CHECK(cookie_consume_reply(&m, reply2, sizeof(reply2), t) == -1);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply) - 1, t) == -1);
	T_CHECK(!m.has_cookie);

	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == 0);
	T_CHECK(m.has_cookie);
	/* one reply per message: the same reply again is refused */
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == -1);

	cookie_add_macs(&m, msg, n, t + SEC);
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t + SEC, true) ==
		COOKIE_MAC_VALID_COOKIE);
	/* the cookie is bound to the source address */
	T_CHECK(cookie_check(&c, msg, n, src_b, 6, t + SEC, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	/* a tampered mac2 is just "no cookie" */
	msg[n - 1] ^= 1;
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t + SEC, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	msg[n - 1] ^= 1;
	/* mac2 alone, as the receive path checks it once mac1 passed: the
	 * same verdicts; a zero mac2 (no cookie held) is no cookie. */
	T_CHECK(cookie_check_mac2(&c, msg, n, src_a, 6, t + SEC));
	T_CHECK(!cookie_check_mac2(&c, msg, n, src_b, 6, t + SEC));
	msg[n - 1] ^= 1;
	T_CHECK(!cookie_check_mac2(&c, msg, n, src_a, 6, t + SEC));
	msg[n - 1] ^= 1;
	{
		uint8_t keep[16];

		memcpy(keep, msg + n - 16, 16);
		memset(msg + n - 16, 0, 16);
		T_CHECK(!cookie_check_mac2(&c, msg, n, src_a, 6, t + SEC));
		memcpy(msg + n - 16, keep, 16);
	}
	T_CHECK(!cookie_check_mac2(&c, msg, 32, src_a, 6, t + SEC));

	/* a reply made for another mac1 does not decrypt */
	cookie_add_macs(&m, msg, n, t + SEC);
	T_CHECK(cookie_create_reply(&c, reply, msg, n, src_a, 6, t) == 0);
	msg[8] ^= 1;
	cookie_add_macs(&m, msg, n, t + SEC); /* new mac1 */
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == -1);
	cookie_checker_clear(&c);
	cookie_maker_clear(&m);
}

/* A message sent in fragments (protocol 1.1): a reply may answer fragment
 * 0's mac1 or the whole message's; not another fragment's, and not a
 * fragment 0 of an earlier message. Fragments carry mac2 once a cookie is
 * held. */
static void test_fragment_replies(void)
{
	static uint8_t msg[DV_HYBRID_INITIATION_LEN];
	uint8_t f0[600], f1[600], reply[DV_COOKIE_REPLY_LEN];
	struct cookie_checker c;
	struct cookie_maker m;
	uint64_t t = 1000 * SEC;

	cookie_checker_init(&c, pub_r);
	cookie_maker_init(&m, pub_r);
	fake_msg(msg, sizeof(msg));
	dv_random(f0, sizeof(f0));
	dv_random(f1, sizeof(f1));
	cookie_add_macs(&m, msg, sizeof(msg), t);
	cookie_add_frag_macs(&m, f0, sizeof(f0), t, true);
	cookie_add_frag_macs(&m, f1, sizeof(f1), t, false);
	T_CHECK(cookie_check(&c, f0, sizeof(f0), src_a, 6, t, false) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	T_CHECK(cookie_check(&c, f1, sizeof(f1), src_a, 6, t, false) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	/* another fragment's mac1: refused */
	T_CHECK(cookie_create_reply(&c, reply, f1, sizeof(f1), src_a, 6, t) == 0);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == -1);
	/* fragment 0's: taken */
	T_CHECK(cookie_create_reply(&c, reply, f0, sizeof(f0), src_a, 6, t) == 0);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == 0);
	T_CHECK(m.has_cookie);
	/* now fragments carry mac2 */
	cookie_add_macs(&m, msg, sizeof(msg), t + SEC);
	cookie_add_frag_macs(&m, f1, sizeof(f1), t + SEC, false);
	T_CHECK(cookie_check(&c, f1, sizeof(f1), src_a, 6, t + SEC, true) ==
		COOKIE_MAC_VALID_COOKIE);
	/* the whole message's mac1: taken too */
	T_CHECK(cookie_create_reply(&c, reply, msg, sizeof(msg), src_a, 6, t) == 0);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t + SEC) == 0);
	/* a new whole message forgets the old fragment 0 */
	cookie_add_macs(&m, msg, sizeof(msg), t + SEC);
	cookie_add_frag_macs(&m, f0, sizeof(f0), t + SEC, true);
	T_CHECK(cookie_create_reply(&c, reply, f0, sizeof(f0), src_a, 6, t) == 0);
	msg[9] ^= 1;
	cookie_add_macs(&m, msg, sizeof(msg), t + SEC);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t + SEC) == -1);
	cookie_checker_clear(&c);
	cookie_maker_clear(&m);
}

/* The responder's secret lives 120 s: cookies made from it stop working. */
static void test_rotation(void)
{
	static uint8_t msg[DV_INITIATION_LEN];
	uint8_t reply[DV_COOKIE_REPLY_LEN], old[32];
	struct cookie_checker c;
	struct cookie_maker m;
	const size_t n = sizeof(msg);
	uint64_t t = 50 * SEC;

	cookie_checker_init(&c, pub_r);
	cookie_maker_init(&m, pub_r);
	fake_msg(msg, n);
	cookie_add_macs(&m, msg, n, t);
	T_CHECK(cookie_create_reply(&c, reply, msg, n, src_a, 6, t) == 0);
	memcpy(old, c.secret, 32);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == 0);

	/* 100 s later, the maker's cookie is fresh and the secret unchanged */
	cookie_add_macs(&m, msg, n, t + 100 * SEC);
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t + 100 * SEC, true) ==
		COOKIE_MAC_VALID_COOKIE);
	T_EQ_MEM(old, c.secret, 32);
	/* at 120 s the secret is renewed: the same mac2 no longer passes */
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t + 120 * SEC, true) ==
		COOKIE_MAC_VALID_NO_COOKIE);
	T_CHECK(memcmp(old, c.secret, 32) != 0);
	T_CHECK(c.secret_birth_ns == t + 120 * SEC);
}

/* The initiator drops its cookie after 120 - 5 s. */
static void test_stale_cookie(void)
{
	static uint8_t msg[DV_RESPONSE_LEN];
	uint8_t reply[DV_COOKIE_REPLY_LEN], zero[16] = { 0 };
	struct cookie_checker c;
	struct cookie_maker m;
	const size_t n = sizeof(msg);
	uint64_t t = 7 * SEC;

	cookie_checker_init(&c, pub_r);
	cookie_maker_init(&m, pub_r);
	fake_msg(msg, n);
	cookie_add_macs(&m, msg, n, t);
	T_CHECK(cookie_create_reply(&c, reply, msg, n, src_a, 6, t) == 0);
	T_CHECK(cookie_consume_reply(&m, reply, sizeof(reply), t) == 0);
	cookie_add_macs(&m, msg, n, t + 114 * SEC);
	T_CHECK(memcmp(msg + n - 16, zero, 16) != 0);
	cookie_add_macs(&m, msg, n, t + 115 * SEC);
	T_EQ_MEM(msg + n - 16, zero, 16);
	/* mac1 is still right */
	T_CHECK(cookie_check(&c, msg, n, src_a, 6, t + 115 * SEC, false) ==
		COOKIE_MAC_VALID_NO_COOKIE);
}

int main(void)
{
	keys();
	T_RUN(test_mac1);
	T_RUN(test_reply_round_trip);
	T_RUN(test_fragment_replies);
	T_RUN(test_rotation);
	T_RUN(test_stale_cookie);
	return t_done();
}
