/* The protocol's modes and message types as data (docs/PROTOCOL.md §3): one row per
 * mode (names, Noise strings, which optional tokens it carries) and one row
 * per message type (name, kind, mode, length, field offsets). The handshake,
 * the receive path, the configuration, the control socket and the CLI read
 * these rows instead of comparing modes or types, so that a new mode or
 * message type is a new row in protocol.c (and its type number in
 * noise/messages.h), nothing else. */
#ifndef DV_PROTOCOL_H
#define DV_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"
#include "noise/messages.h"

/* What a message is for; the receive path dispatches on this. */
enum dv_msg_kind {
	DV_KIND_INITIATION = 1,
	DV_KIND_RESPONSE,
	DV_KIND_COOKIE_REPLY,
	DV_KIND_DATA,
	DV_KIND_FRAGMENT,     /* a piece of a fragmentable handshake message */
};

struct dv_mode_desc {
	enum dv_mode mode;
	const char *name;         /* config files, UAPI mode=, logs */
	const char *alias;        /* also accepted by dv_mode_parse, or NULL */
	const char *construction; /* Noise protocol name: C = HASH(construction) */
	const char *identifier;   /* H = HASH(C || identifier) */
	bool needs_kem;           /* [ekem] in the initiation, [ct, kem] in the response */
	bool needs_mldsa;         /* [{sig}] both ways: both sides' ML-DSA-65 keys */
};

/* Offsets of the fields of one message type. 0 means the type has no such
 * field (offset 0 is always the type byte). Handshake messages end with
 * mac1 and mac2. */
struct dv_msg_desc {
	uint8_t type;
	const char *name;
	enum dv_msg_kind kind;
	enum dv_mode mode;     /* initiations and responses: the mode they run in */
	size_t len;            /* exact length; data: 0 (variable) */
	size_t min_len;        /* the shortest acceptable: len, or data's header + tag */
	bool fragmentable;     /* may travel as handshake fragments (protocol 1.1) */
	uint16_t off_sender;   /* handshakes: the sender's index */
	uint16_t off_receiver; /* responses, cookie replies, data */
	uint16_t off_ephemeral;
	uint16_t off_kem;      /* ML-KEM ek (initiation) or ciphertext (response) */
	uint16_t off_static;   /* initiation: encrypted static key */
	uint16_t off_timestamp;/* initiation: encrypted TAI64N */
	uint16_t off_sig;      /* encrypted ML-DSA-65 signature */
	uint16_t off_empty;    /* response: encrypted empty payload */
	uint16_t off_mac1, off_mac2;
	uint16_t off_nonce, off_cookie; /* cookie reply */
	uint16_t off_counter;  /* data */
};

/* The row of a mode; NULL when m is out of range. */
const struct dv_mode_desc *dv_mode_desc(enum dv_mode m);
/* The row of a message type; NULL for a type the protocol does not have. */
const struct dv_msg_desc *dv_msg_desc(uint8_t type);
/* The initiation or response type of a mode; NULL when there is none. */
const struct dv_msg_desc *dv_mode_msg(enum dv_mode m, enum dv_msg_kind kind);
/* Whether mode m signs with ML-DSA-65 (both sides' keys needed); false
 * for a mode out of range. */
bool dv_mode_needs_mldsa(enum dv_mode m);
/* The row of a received message: its type's, when the reserved bytes are
 * zero and the length is acceptable for the type; else NULL. */
const struct dv_msg_desc *dv_msg_classify(const uint8_t *msg, size_t len);

#endif
