/* Endpoint host names resolved again when handshakes keep failing (the
 * idea of wireguard-tools' reresolve-dns): a peer whose endpoint was
 * written as a name, with `reresolve` on (the default), is looked up again
 * once DV_RERESOLVE_ATTEMPTS initiations (5 s apart) have gone unanswered
 * since its last handshake, and then at most every DV_RERESOLVE_INTERVAL_SEC seconds while it
 * keeps failing. getaddrinfo blocks, so the lookup runs in a helper thread,
 * one at a time, started only when needed (after the sandbox is applied:
 * it inherits it); its result comes back through an eventfd in the epoll
 * loop, which sets the new endpoint when it differs. */
#ifndef DV_PLATFORM_RERESOLVE_H
#define DV_PLATFORM_RERESOLVE_H

#include <stddef.h>
#include <stdint.h>

#include "platform/event.h"

#define DV_RERESOLVE_ATTEMPTS 3
#define DV_RERESOLVE_INTERVAL_SEC 30

struct dv_config;
struct dv_device;
struct dv_rr_job;

struct dv_rr_peer {
	uint8_t pub[32];
	char endpoint[300]; /* "host:port" as written */
	uint64_t last_ns;   /* last lookup started, 0 = never */
};

struct dv_reresolve {
	struct dv_device *dev;
	int epfd;
	struct dv_rr_peer *peers;
	size_t n_peers;
	struct dv_rr_job *job; /* the lookup in flight, or NULL */
	struct dv_ev ev;       /* its eventfd while in flight */
	uint64_t lookups, changes;
};

/* Records the peers of cfg that qualify. 0, or -1 (out of memory). */
int dv_reresolve_init(struct dv_reresolve *rr, struct dv_device *dev, int epfd,
		      const struct dv_config *cfg);
/* Called from the loop's timer pass: starts a lookup when a peer is due. */
void dv_reresolve_tick(struct dv_reresolve *rr, uint64_t now_ns);
/* Frees; a lookup still in flight finishes on its own and frees itself. */
void dv_reresolve_free(struct dv_reresolve *rr);

#endif
