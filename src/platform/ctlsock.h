/* The control socket: /var/run/wireguard/<iface>.sock, where Debian's
 * `wg` and `dybervpn status` speak the cross-platform userspace protocol
 * (wireguard.com/xplatform). A request is text lines ending with a blank
 * line; each gets one response; a connection may carry several requests
 * until the client closes it. Every client socket is non-blocking and
 * bounded, so a slow or hostile client never stalls the data path. */
#ifndef DV_PLATFORM_CTLSOCK_H
#define DV_PLATFORM_CTLSOCK_H

#include <stddef.h>
#include <stdint.h>

#include "platform/event.h"
#include "platform/paths.h"

/* A request longer than this without its blank line gets errno=22 and the
 * connection is closed. */
#define DV_CTL_MAX_REQUEST (1u << 20)
#define DV_CTL_MAX_CONNS 32
/* A connection that neither sends a byte nor takes one of its response
 * for this long is closed (dv_ctl_expire), so idle clients cannot hold the
 * DV_CTL_MAX_CONNS slots. `wg` and `dybervpn status` take milliseconds. */
#define DV_CTL_IDLE_SEC 10

/* Answers one complete request of len bytes (ending "\n\n") by appending
 * the response to *out (malloc'd, may be NULL); returns -1 only when
 * memory ran out. dv_uapi_handle has this shape. */
typedef int (*dv_ctl_handler)(void *arg, const char *req, size_t len,
			      char **out, size_t *outlen);

struct dv_ctl_conn;

struct dv_ctl {
	struct dv_ev ev; /* the listening socket */
	int epfd;
	char path[DV_PATH_MAX];
	dv_ctl_handler handler;
	void *arg;
	struct dv_ctl_conn *conns[DV_CTL_MAX_CONNS];
};

/* Creates the socket for iface (mode 0600, its directory 0755) and
 * registers it with epfd. A stale socket file (nobody answers) is
 * replaced; a live one is an error. 0, or -1 with a message in err. */
int dv_ctl_open(struct dv_ctl *c, const char *iface, int epfd,
		dv_ctl_handler handler, void *arg, char *err, size_t errlen);
/* Closes the connections idle for DV_CTL_IDLE_SEC or more at now_ns
 * (CLOCK_MONOTONIC); the daemon calls it after every wake-up. Returns how
 * many it closed. */
unsigned dv_ctl_expire(struct dv_ctl *c, uint64_t now_ns);
/* Closes every connection and removes the socket file. */
void dv_ctl_close(struct dv_ctl *c);

#endif
