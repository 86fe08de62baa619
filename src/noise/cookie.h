/* WireGuard's cookies (whitepaper 5.4.4 and 5.4.7), the same in every mode.
 *
 * Every handshake message ends with mac1 and mac2 (its last 32 bytes):
 *   mac1 = MAC(HASH("mac1----" || receiver's static pub), bytes before mac1)
 *   mac2 = MAC(cookie, bytes before mac2), or zero without a fresh cookie
 * A responder under load answers a message whose mac2 is not valid with a
 * cookie reply (type 3) instead of doing any DH; the cookie is
 *   MAC(secret, source address), the secret random and renewed every 120 s,
 * sent as XAEAD(HASH("cookie--" || its static pub), nonce, cookie, mac1).
 *
 * The checker is the receiving side (one per device, keyed with our public
 * key); a maker is the sending side (one per peer, keyed with the peer's).
 * Clocks are the caller's monotonic nanoseconds; the source address is
 * opaque bytes (the device uses IP address || port). Not thread-safe: the
 * caller serialises access to each object. */
#ifndef DV_NOISE_COOKIE_H
#define DV_NOISE_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise/messages.h"

struct cookie_checker {
	uint8_t mac1_key[DV_HASH_LEN];   /* HASH("mac1----" || our pub) */
	uint8_t cookie_key[DV_HASH_LEN]; /* HASH("cookie--" || our pub) */
	uint8_t secret[DV_HASH_LEN];     /* renewed every COOKIE_SECRET_MAX_AGE */
	uint64_t secret_birth_ns;
	bool has_secret;
};

struct cookie_maker {
	uint8_t mac1_key[DV_HASH_LEN];   /* HASH("mac1----" || peer's pub) */
	uint8_t cookie_key[DV_HASH_LEN]; /* HASH("cookie--" || peer's pub) */
	uint8_t cookie[DV_COOKIE_LEN];   /* last cookie the peer sent us */
	uint64_t cookie_birth_ns;
	bool has_cookie;
	uint8_t last_mac1[DV_MAC_LEN];   /* mac1 of our last message: the AD of the reply */
	bool has_sent_mac1;
	/* mac1 of fragment 0 of that message, when it left in fragments
	 * (protocol 1.1): a receiver under load answers that fragment. */
	uint8_t last_frag_mac1[DV_MAC_LEN];
	bool has_sent_frag_mac1;
};

enum cookie_mac_state {
	COOKIE_MAC_INVALID = 0,     /* drop the message */
	COOKIE_MAC_VALID_NO_COOKIE, /* mac1 good; mac2 absent, wrong or not checked */
	COOKIE_MAC_VALID_COOKIE,    /* mac1 and mac2 good: proceed even under load */
};

/* Keys from our static public key; the secret is made on first use. */
void cookie_checker_init(struct cookie_checker *c, const uint8_t our_pub[DV_KEY_LEN]);
/* Checks mac1 of a handshake message (len > 32) and, when check_mac2 (we
 * are under load), mac2 against the cookie of src. Constant-time compares. */
enum cookie_mac_state cookie_check(struct cookie_checker *c, const uint8_t *msg,
				   size_t len, const uint8_t *src, size_t srclen,
				   uint64_t now_ns, bool check_mac2);
/* mac2 only, of a message whose mac1 cookie_check found valid: true when
 * it matches the cookie of src. A mac2 of 16 zero bytes (the sender holds
 * no cookie, docs/PROTOCOL.md §9.1) is refused without hashing, so a flood
 * of cookie-less messages costs one hash each, not two. */
bool cookie_check_mac2(struct cookie_checker *c, const uint8_t *msg, size_t len,
		       const uint8_t *src, size_t srclen, uint64_t now_ns);
/* Writes the type-3 reply to msg (whose mac1 was valid) into out: receiver
 * index = msg's sender index. Returns 0, or -1 when msg is too short. */
int cookie_create_reply(struct cookie_checker *c,
			uint8_t out[DV_COOKIE_REPLY_LEN], const uint8_t *msg,
			size_t len, const uint8_t *src, size_t srclen,
			uint64_t now_ns);
void cookie_checker_clear(struct cookie_checker *c);

/* Keys from the peer's static public key; no cookie held. */
void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_pub[DV_KEY_LEN]);
/* Fills mac1 and mac2 (the last 32 bytes of msg, len > 32) for a message
 * to this peer, and remembers mac1 for a cookie reply. mac2 is zero unless
 * we hold a cookie younger than COOKIE_SECRET_MAX_AGE - COOKIE_SECRET_LATENCY. */
void cookie_add_macs(struct cookie_maker *m, uint8_t *msg, size_t len,
		     uint64_t now_ns);
/* Fills mac1 and mac2 of one handshake fragment (type 9, len > 32) of the
 * message last given to cookie_add_macs, keyed as for a whole message.
 * When first (fragment 0) its mac1 is remembered too: a cookie reply may
 * answer either that or the whole message's mac1. */
void cookie_add_frag_macs(struct cookie_maker *m, uint8_t *frag, size_t len,
			  uint64_t now_ns, bool first);
/* Takes a cookie reply (the caller found m by its receiver index): it must
 * answer our last mac1 (or that of fragment 0 of our last message). Returns 0 and stores the cookie, or -1 (wrong
 * length or type, no message sent, or the AEAD fails); m unchanged then. */
int cookie_consume_reply(struct cookie_maker *m, const uint8_t *msg, size_t len,
			 uint64_t now_ns);
void cookie_maker_clear(struct cookie_maker *m);

#endif
