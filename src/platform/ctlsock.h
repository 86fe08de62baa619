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

/* A request is handed to its handler line by line as it arrives, so it
 * may be of any size (the handler bounds what it stages); a connection
 * holds one partial line, and a line longer than this gets errno=22 and
 * the connection is closed. The longest line of the protocol is an
 * ML-DSA-65 public key in hex, about 3.9 KB. */
#define DV_CTL_MAX_LINE (16u << 10)
#define DV_CTL_MAX_CONNS 32
/* A connection that neither sends a byte nor takes one of its response
 * for this long is closed (dv_ctl_expire), so idle clients cannot hold the
 * DV_CTL_MAX_CONNS slots. `wg` and `dybervpn status` take milliseconds. */
#define DV_CTL_IDLE_SEC 10

/* The handler of requests, line by line (dv_uapi_req_* has this shape):
 * req_new makes the state of one connection's requests (NULL: out of
 * memory); req_line takes one line without its '\n' (len 0: the blank
 * line ending a request) and returns 0, 1 when the request is complete,
 * -1 when memory ran out; req_output then appends the response to *out
 * (malloc'd, may be NULL) a part at a time, returning 1 while more is to
 * come, 0 once complete, -1 when memory ran out; req_free ends it. */
struct dv_ctl_ops {
	void *(*req_new)(void *arg);
	int (*req_line)(void *req, const char *line, size_t len);
	int (*req_output)(void *req, char **out, size_t *outlen);
	void (*req_free)(void *req);
};

struct dv_ctl_conn;

struct dv_ctl {
	struct dv_ev ev; /* the listening socket */
	int epfd;
	char path[DV_PATH_MAX];
	const struct dv_ctl_ops *ops;
	void *arg;
	struct dv_ctl_conn *conns[DV_CTL_MAX_CONNS];
};

/* Creates the socket for iface (mode 0600, its directory 0755) and
 * registers it with epfd. A stale socket file (nobody answers) is
 * replaced; a live one is an error. 0, or -1 with a message in err. */
int dv_ctl_open(struct dv_ctl *c, const char *iface, int epfd,
		const struct dv_ctl_ops *ops, void *arg, char *err,
		size_t errlen);
/* Closes the connections idle for DV_CTL_IDLE_SEC or more at now_ns
 * (CLOCK_MONOTONIC); the daemon calls it after every wake-up. Returns how
 * many it closed. */
unsigned dv_ctl_expire(struct dv_ctl *c, uint64_t now_ns);
/* Closes every connection and removes the socket file. */
void dv_ctl_close(struct dv_ctl *c);
/* Removes iface's control socket file when no process accepts on it any
 * more (its daemon has stopped; a sandboxed one cannot remove it itself).
 * 1 if removed, 0 if none or still served. */
int dv_ctl_remove_stale(const char *iface);

#endif
