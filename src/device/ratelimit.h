/* Per-source limit on handshake messages while under load (WireGuard's
 * ratelimiter.c): once a message's mac2 proves its source address is
 * real, that address (an IPv4 address, or an IPv6 /64: a host owns a /64)
 * may still cost us a DH only DV_RATELIMIT_PER_SECOND times a second, with
 * bursts of DV_RATELIMIT_BURST.
 *
 * A fixed table, allocated once: a secret hash key picks one bucket of
 * DV_RATELIMIT_WAYS entries. The table (addresses and credit, no secret)
 * is a mapping of its own, apart from the locked key memory the device
 * lives in, and only the buckets sources fall into are ever touched: an
 * idle daemon keeps none of its 256 KiB resident. An entry idle for a second is free again
 * (its bucket would have refilled by then). The table fails closed, as
 * WireGuard's does once full: a new source whose bucket has no free entry
 * is refused, never given a fresh burst by evicting another source, so
 * colliding sources, or more sources in rotation than the table holds,
 * are still limited. */
#ifndef DV_DEVICE_RATELIMIT_H
#define DV_DEVICE_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DV_RATELIMIT_PER_SECOND 20
#define DV_RATELIMIT_BURST 5
#define DV_RATELIMIT_BUCKETS 1024
#define DV_RATELIMIT_WAYS 8 /* 8192 sources at once, WireGuard's bound */

struct dv_ratelimit_entry {
	uint8_t key[8];   /* IPv4 address, or IPv6 /64 */
	uint8_t keylen;   /* 0: free */
	uint64_t last_ns;
	uint64_t tokens;  /* in ns of credit */
};

struct dv_ratelimit {
	uint8_t hash_key[16];
	struct dv_ratelimit_entry (*slot)[DV_RATELIMIT_WAYS]; /* BUCKETS of them */
	uint64_t refused_full; /* new sources refused: their bucket was full */
};

/* 0, or -1 when the table cannot be mapped. */
int dv_ratelimit_init(struct dv_ratelimit *r);
/* Releases the table and wipes the hash key (NULL table allowed). */
void dv_ratelimit_free(struct dv_ratelimit *r);
/* family AF_INET (addr 4 bytes) or AF_INET6 (16 bytes); true when a
 * message from addr may proceed now. */
bool dv_ratelimit_allow(struct dv_ratelimit *r, int family,
			const uint8_t *addr, uint64_t now_ns);
/* The bucket addr falls in (tests use it to make sources collide). */
size_t dv_ratelimit_bucket(const struct dv_ratelimit *r, int family,
			   const uint8_t *addr);

#endif
