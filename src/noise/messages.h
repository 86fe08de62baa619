/* The DyberVPN v1 wire protocol on one page (docs/PROTOCOL.md decides):
 * message types, the size and field offsets of every message, and the timer
 * and limit constants of the WireGuard whitepaper (section 6). All integers
 * on the wire are little-endian; every handshake message ends with mac1 and
 * mac2 (16 bytes each), so the cookie code finds them at len - 32. */
#ifndef DV_NOISE_MESSAGES_H
#define DV_NOISE_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

/* Message types: the first byte, followed by three zero bytes. */
enum dv_msg_type {
	DV_MSG_INITIATION = 1,        /* classic (WireGuard) */
	DV_MSG_RESPONSE = 2,          /* classic (WireGuard) */
	DV_MSG_COOKIE_REPLY = 3,      /* every mode */
	DV_MSG_DATA = 4,              /* every mode */
	DV_MSG_HYBRID_INITIATION = 5, /* X25519 + ML-KEM-768 */
	DV_MSG_HYBRID_RESPONSE = 6,
	DV_MSG_PQ_INITIATION = 7,     /* hybrid + ML-DSA-65 */
	DV_MSG_PQ_RESPONSE = 8,
	DV_MSG_FRAGMENT = 9,          /* a piece of types 5-8 (protocol 1.1) */
};

/* Primitive sizes that appear on the wire. */
#define DV_KEY_LEN          32   /* X25519 keys, symmetric keys, psk */
#define DV_HASH_LEN         32   /* BLAKE2s-256 */
#define DV_TAG_LEN          16   /* Poly1305 */
#define DV_MAC_LEN          16   /* keyed BLAKE2s-128 */
#define DV_COOKIE_LEN       16
#define DV_COOKIE_NONCE_LEN 24   /* XChaCha20 */
#define DV_TAI64N_LEN       12
#define DV_MLKEM_EK_LEN     1184 /* FIPS 203, ML-KEM-768 */
#define DV_MLKEM_CT_LEN     1088
#define DV_MLDSA_SIG_LEN    3309 /* FIPS 204, ML-DSA-65 */

/* Encrypted field sizes: plaintext + tag. */
#define DV_ENC_STATIC_LEN    (DV_KEY_LEN + DV_TAG_LEN)       /* 48 */
#define DV_ENC_TIMESTAMP_LEN (DV_TAI64N_LEN + DV_TAG_LEN)    /* 28 */
#define DV_ENC_SIG_LEN       (DV_MLDSA_SIG_LEN + DV_TAG_LEN) /* 3325 */
#define DV_ENC_EMPTY_LEN     DV_TAG_LEN                      /* 16 */
#define DV_MACS_LEN          (2 * DV_MAC_LEN)

/* Common header of every message. */
#define DV_OFF_TYPE   0 /* 1 byte type, 3 reserved zero bytes */
#define DV_OFF_SENDER 4 /* handshake messages: sender index */

/* Initiation (types 1, 5, 7). The pq ephemeral key is absent in type 1,
 * the encrypted signature present only in type 7. */
#define DV_INIT_OFF_EPHEMERAL 8
#define DV_INIT_OFF_PQ_EK     40                                           /* 5, 7 */
#define DV_INIT_OFF_STATIC(pq)    (40 + ((pq) ? DV_MLKEM_EK_LEN : 0))
#define DV_INIT_OFF_TIMESTAMP(pq) (DV_INIT_OFF_STATIC(pq) + DV_ENC_STATIC_LEN)
#define DV_INIT_OFF_SIG           (DV_INIT_OFF_TIMESTAMP(1) + DV_ENC_TIMESTAMP_LEN) /* 7 */

#define DV_INITIATION_LEN        148
#define DV_HYBRID_INITIATION_LEN 1332
#define DV_PQ_INITIATION_LEN     4657

/* Response (types 2, 6, 8). The pq ciphertext is absent in type 2, the
 * encrypted signature present only in type 8; `empty` precedes the macs. */
#define DV_RESP_OFF_RECEIVER  8
#define DV_RESP_OFF_EPHEMERAL 12
#define DV_RESP_OFF_PQ_CT     44                                            /* 6, 8 */
#define DV_RESP_OFF_SIG       (DV_RESP_OFF_PQ_CT + DV_MLKEM_CT_LEN)        /* 8 */
#define DV_RESP_OFF_EMPTY(len) ((len) - DV_MACS_LEN - DV_ENC_EMPTY_LEN)

#define DV_RESPONSE_LEN        92
#define DV_HYBRID_RESPONSE_LEN 1180
#define DV_PQ_RESPONSE_LEN     4505

/* mac1 and mac2: the last 32 bytes of every handshake message. */
#define DV_OFF_MAC1(len) ((len) - DV_MACS_LEN)
#define DV_OFF_MAC2(len) ((len) - DV_MAC_LEN)

/* Cookie reply (type 3), WireGuard whitepaper 5.4.7. */
#define DV_COOKIE_OFF_RECEIVER 4
#define DV_COOKIE_OFF_NONCE    8
#define DV_COOKIE_OFF_COOKIE   32 /* XAEAD(cookie key, nonce, cookie, mac1) */
#define DV_COOKIE_REPLY_LEN    64

/* Transport data (type 4): header, padded ciphertext, tag. */
#define DV_DATA_OFF_RECEIVER  4
#define DV_DATA_OFF_COUNTER   8
#define DV_DATA_HEADER_LEN    16
#define DV_DATA_MIN_LEN       (DV_DATA_HEADER_LEN + DV_TAG_LEN) /* keepalive */
#define DV_DATA_PADDING       16 /* plaintext padded to a multiple of this */

/* The largest handshake message (pqonly initiation). */
#define DV_MAX_HANDSHAKE_LEN DV_PQ_INITIATION_LEN

/* Timers and limits (whitepaper section 6; docs/PROTOCOL.md §11). */
#define DV_REKEY_AFTER_MESSAGES  (1ULL << 60)
#define DV_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))     /* 2^64 - 2^13 - 1 */
#define DV_REKEY_AFTER_TIME      120 /* s */
#define DV_REJECT_AFTER_TIME     180 /* s */
#define DV_REKEY_ATTEMPT_TIME    90  /* s */
#define DV_REKEY_TIMEOUT         5   /* s */
#define DV_REKEY_TIMEOUT_JITTER_MS 333 /* up to a third of a second, added */
#define DV_KEEPALIVE_TIMEOUT     10  /* s */
#define DV_COOKIE_SECRET_MAX_AGE 120 /* s: the responder's cookie secret */
#define DV_COOKIE_SECRET_LATENCY 5   /* s: the initiator's cookie ages faster */
#define DV_INITIATIONS_PER_SECOND 50 /* per peer, every mode */
#define DV_MAX_TIMER_HANDSHAKES  (DV_REKEY_ATTEMPT_TIME / DV_REKEY_TIMEOUT)
#define DV_NSEC_PER_SEC          1000000000ULL

_Static_assert(DV_INIT_OFF_TIMESTAMP(0) + DV_ENC_TIMESTAMP_LEN + DV_MACS_LEN ==
	       DV_INITIATION_LEN, "classic initiation is WireGuard's 148 bytes");
_Static_assert(DV_INIT_OFF_TIMESTAMP(1) + DV_ENC_TIMESTAMP_LEN + DV_MACS_LEN ==
	       DV_HYBRID_INITIATION_LEN, "hybrid initiation layout");
_Static_assert(DV_INIT_OFF_SIG + DV_ENC_SIG_LEN + DV_MACS_LEN ==
	       DV_PQ_INITIATION_LEN, "pqonly initiation layout");
_Static_assert(DV_RESP_OFF_PQ_CT + DV_ENC_EMPTY_LEN + DV_MACS_LEN ==
	       DV_RESPONSE_LEN, "classic response is WireGuard's 92 bytes");
_Static_assert(DV_RESP_OFF_PQ_CT + DV_MLKEM_CT_LEN + DV_ENC_EMPTY_LEN +
	       DV_MACS_LEN == DV_HYBRID_RESPONSE_LEN, "hybrid response layout");
_Static_assert(DV_RESP_OFF_SIG + DV_ENC_SIG_LEN + DV_ENC_EMPTY_LEN +
	       DV_MACS_LEN == DV_PQ_RESPONSE_LEN, "pqonly response layout");
_Static_assert(DV_COOKIE_OFF_COOKIE + DV_COOKIE_LEN + DV_TAG_LEN ==
	       DV_COOKIE_REPLY_LEN, "cookie reply is WireGuard's 64 bytes");
_Static_assert(DV_HYBRID_INITIATION_LEN + 28 <= 1500,
	       "a hybrid initiation fits one IPv4 datagram on a 1500 path");

static inline uint32_t dv_le32_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void dv_le32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint64_t dv_le64_get(const uint8_t *p)
{
	return (uint64_t)dv_le32_get(p) | (uint64_t)dv_le32_get(p + 4) << 32;
}

static inline void dv_le64_put(uint8_t *p, uint64_t v)
{
	dv_le32_put(p, (uint32_t)v);
	dv_le32_put(p + 4, (uint32_t)(v >> 32));
}

/* The type of a message, or 0 when the three reserved bytes are not zero
 * or the message is shorter than its header. */
static inline uint8_t dv_msg_type(const uint8_t *msg, size_t len)
{
	if (len < 4 || msg[1] || msg[2] || msg[3])
		return 0;
	return msg[0];
}

#endif
