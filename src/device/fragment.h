/* Handshake fragments (docs/PROTOCOL.md §16 and docs/PROTOCOL-fragments.md, protocol 1.1 draft):
 * cutting a handshake message into type-9 fragments under a datagram
 * budget, the stateless checks of one fragment, and a bounded reassembly
 * table. Pure code: no sockets, no clocks (now_ns is the caller's), no
 * allocation. mac1/mac2 are the cookie module's: dv_frag_make leaves them
 * zero, and the caller checks them before dv_frag_add. The send path
 * (device/send.c) cuts with it, the receive path (device/receive.c) checks
 * and reassembles with it. */
#ifndef DV_DEVICE_FRAGMENT_H
#define DV_DEVICE_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise/messages.h"

#define DV_FRAG_HEADER_LEN     16
#define DV_FRAG_OVERHEAD       (DV_FRAG_HEADER_LEN + DV_MACS_LEN) /* 48 */
#define DV_FRAG_BUDGET_DEFAULT 1232 /* UDP payload of a 1280-byte IPv6 packet */
#define DV_FRAG_BUDGET_MIN     548  /* of a 576-byte IPv4 datagram */
#define DV_FRAG_COUNT_MAX      16
#define DV_FRAG_PER_SOURCE     2    /* partial messages per source group */
#define DV_FRAG_SLOTS          64   /* partial messages in total */

/* One fragment, as dv_frag_parse found it. */
struct dv_frag {
	uint32_t sender;
	uint8_t inner, number, count;
	uint16_t total, offset;
	uint16_t n;              /* payload length */
	const uint8_t *payload;
};

/* Stateless checks 1 and 2 of the draft; 0 and *f filled, or -1. */
int dv_frag_parse(const uint8_t *msg, size_t len, struct dv_frag *f);

/* Fragments needed to send a len-byte message of this type under budget:
 * 1 when it goes whole (it fits, or the type is not fragmentable), 0 when
 * the budget is below DV_FRAG_BUDGET_MIN. */
unsigned dv_frag_count(uint8_t type, size_t len, size_t budget);
/* Writes fragment `number` of msg to out (capacity >= budget); returns its
 * length, 0 when number is out of range. macs left zero. */
size_t dv_frag_make(uint8_t *out, const uint8_t *msg, size_t len,
		    size_t budget, unsigned number);

struct dv_frag_slot {
	bool used, proven;        /* proven: admitted with a valid mac2 */
	uint8_t src[18];          /* address and port, as the cookie binds */
	uint8_t srclen;
	uint32_t sender;
	uint8_t inner, count;
	uint16_t total, l;        /* l: payload length of non-last fragments */
	uint16_t have;            /* bitmap of received fragments */
	uint64_t first_ns;
	uint8_t buf[DV_MAX_HANDSHAKE_LEN];
};

struct dv_frag_stats {
	uint64_t duplicate, mismatch, source_full, table_full, expired,
		replaced, source_replaced, completed;
};

struct dv_frag_table {
	struct dv_frag_slot slot[DV_FRAG_SLOTS];
	struct dv_frag_stats stats;
};

enum dv_frag_result {
	DV_FRAG_COMPLETE = 1,     /* *out holds the whole message */
	DV_FRAG_PENDING = 0,      /* kept, more to come */
	DV_FRAG_DUPLICATE = -1,
	DV_FRAG_MISMATCH = -2,    /* contradicts the partial message */
	DV_FRAG_SOURCE_FULL = -3, /* its source holds 2, proven, and this is not */
	DV_FRAG_TABLE_FULL = -4,
};

/* Adds a parsed fragment whose macs passed, from the source src (6 bytes
 * for IPv4, 18 for IPv6, as the cookie binds). Expires partial messages
 * older than REKEY_TIMEOUT first. On DV_FRAG_COMPLETE the message (total
 * bytes) is copied to out (capacity DV_MAX_HANDSHAKE_LEN) and the slot
 * wiped. */
int dv_frag_add(struct dv_frag_table *t, const struct dv_frag *f,
		const uint8_t *src, size_t srclen, bool proven,
		uint64_t now_ns, uint8_t *out, size_t *outlen);
void dv_frag_expire(struct dv_frag_table *t, uint64_t now_ns);
/* Whether f from src would join a partial message already held (false:
 * it would open a new one). The receive path charges the load count and
 * the rate limit once per message: for the fragment that opens it. */
bool dv_frag_joins(const struct dv_frag_table *t, const struct dv_frag *f,
		   const uint8_t *src, size_t srclen);
/* When the oldest partial message expires (ns on the caller's clock), or
 * 0 when none is held. */
uint64_t dv_frag_next_expiry(const struct dv_frag_table *t);
/* Partial messages held (for tests and status). */
unsigned dv_frag_partials(const struct dv_frag_table *t);
void dv_frag_clear(struct dv_frag_table *t);

#endif
