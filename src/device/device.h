/* The device core: peers, keypairs, cryptokey routing, timers, transport
 * data and the cross-platform control protocol (UAPI), as pure logic.
 *
 * The core owns no socket, TUN, event loop or clock (WireGuard's
 * peer.c/send.c/receive.c/timers.c split, minus the I/O): the platform feeds
 * it datagrams, IP packets and time through the calls below and receives
 * every output through struct dv_io callbacks.
 *
 * Threading: a device is not internally locked. All calls on one device
 * (including dv_uapi_handle) must be serialised by the caller, e.g. one
 * event-loop thread. Callbacks are invoked synchronously from inside those
 * calls, on the caller's thread, and must not call back into the device.
 * Inside a batch call the device may spread the AEAD of its packets over
 * worker threads (dv_device_start_workers); they touch nothing else.
 */
#ifndef DV_DEVICE_DEVICE_H
#define DV_DEVICE_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mode.h"

struct dv_config;
struct dv_device;

struct dv_io {
	void *arg;
	/* Queue one datagram. The platform may batch (sendmmsg) and flush
	 * after each batch of input; buf is only valid during the call. */
	void (*udp_send)(void *arg, const struct sockaddr *to, socklen_t tolen,
			 const uint8_t *buf, size_t len);
	/* One decrypted IP packet for the TUN; pkt is only valid during the
	 * call. */
	void (*tun_write)(void *arg, const uint8_t *pkt, size_t len);
	uint64_t (*now_ns)(void *arg);  /* CLOCK_MONOTONIC */
	uint64_t (*wall_ns)(void *arg); /* CLOCK_REALTIME, for TAI64N */
	/* prio is a syslog priority (LOG_ERR ... LOG_DEBUG). Never receives
	 * key material. May be NULL. */
	void (*log)(void *arg, int prio, const char *msg);
	/* `wg set ... listen-port N` (UAPI listen_port=N): rebind the UDP
	 * socket and return 0, or a negative errno to refuse (the device then
	 * keeps its old port and the UAPI request gets that errno). port 0
	 * means "pick one"; *bound receives the port actually bound. May be
	 * NULL: the device then just records the new port. */
	int (*set_listen_port)(void *arg, uint16_t port, uint16_t *bound);
	/* UAPI fwmark=N: set SO_MARK on the socket; 0 or negative errno.
	 * May be NULL (the value is then only recorded). */
	int (*set_fwmark)(void *arg, uint32_t mark);
};

/* Bytes the platform leaves free before (header) and after (padding to 16
 * and the 16-byte tag) each packet given to dv_device_tun_rx, so a packet
 * is encrypted in place and sent without a copy (WireGuard message type 4:
 * 16-byte header, payload, 16-byte tag). */
#define DV_HEADROOM 16
#define DV_TAILROOM 32

/* Creates a device from a parsed config (its peers, keys, modes). The
 * config is copied; the caller may free it. Reads the test knob
 * DYBERVPN_TEST_REKEY_AFTER (see timers.h). NULL on failure, with a
 * reason in err. */
struct dv_device *dv_device_new(const struct dv_config *cfg,
				const struct dv_io *io, char *err,
				size_t errlen);
/* Frees the device and wipes every key it held. NULL is allowed. */
void dv_device_free(struct dv_device *d);

/* One datagram received on the UDP socket. buf may be modified (transport
 * data is decrypted in place); any reply goes out through io.udp_send and
 * decrypted packets through io.tun_write before this returns. */
void dv_device_udp_rx(struct dv_device *d, uint8_t *buf, size_t len,
		      const struct sockaddr *from, socklen_t fromlen);

/* The same for n datagrams received together, in order: transport data
 * is opened by the workers in parallel, everything else is taken alone in
 * its place. */
struct dv_datagram {
	uint8_t *buf;
	size_t len;
	const struct sockaddr *from;
	socklen_t fromlen;
};
void dv_device_udp_rx_batch(struct dv_device *d, const struct dv_datagram *dg,
			    size_t n);

/* One IP packet read from the TUN, at pkt, with DV_HEADROOM writable bytes
 * before it and DV_TAILROOM after it. The packet is encrypted in place. */
void dv_device_tun_rx(struct dv_device *d, uint8_t *pkt, size_t len);
/* The same for n packets read in one batch (each with its own head- and
 * tailroom). */
void dv_device_tun_rx_batch(struct dv_device *d, uint8_t *const *pkts,
			    const size_t *lens, size_t n);

/* Starts threads - 1 worker threads that share the AEAD of each batch
 * with the caller (0: one thread per CPU this process may use, at most
 * 64). Replaces the workers running before. Returns the number of threads
 * now sharing the work, or a negative errno (the device then keeps its
 * old workers). The daemon starts them once its sandbox is in place, as
 * threads inherit it. */
int dv_device_start_workers(struct dv_device *d, unsigned threads);
/* d's batches use from's workers (d's own, if any, stop): devices driven
 * by one thread, one after the other (the in-process benchmark), share
 * the process's threads. from must outlive d's use of them, and get its
 * workers replaced only after d shares again. */
void dv_device_share_workers(struct dv_device *d, struct dv_device *from);
/* What threads = 0 means: the CPUs this process may run on (at most 64). */
unsigned dv_device_default_threads(void);

/* Runs every due timer (retransmit, rekey, keepalive, key zeroing) and
 * returns how many ns until it wants to be called again. Cheap when
 * nothing is due; calling it early is harmless. */
uint64_t dv_device_timers(struct dv_device *d);

/* The cross-platform userspace control protocol ("get=1\n\n" or
 * "set=1\n...\n\n", wireguard.com/xplatform). req holds one complete
 * request of len bytes; the response (ending "errno=N\n\n") is appended
 * to *out, which is malloc'd or realloc'd (*out may be NULL, *outlen 0).
 * Returns 0 on success, or the positive errno also written in the
 * response (e.g. EINVAL for a malformed set, in which case nothing of the
 * request was applied); -1 only if memory ran out (*out, *outlen then
 * hold what fitted, still to be freed by the caller). */
int dv_uapi_handle(struct dv_device *d, const char *req, size_t len,
		   char **out, size_t *outlen);

/* For a reload (the daemon applies the rest through dv_uapi_handle): the
 * MTU the padding rounds to, the mode UAPI-added peers get, the public
 * keys of the peers now configured (*keys malloc'd, 0 or -1 when memory
 * ran out), and whether cfg's ML-DSA private key is the one in use (1
 * yes, 0 no, -1 unusable key or no memory; no key on either side: 1 if
 * neither has one). */
void dv_device_set_mtu(struct dv_device *d, size_t mtu);
void dv_device_set_mode(struct dv_device *d, enum dv_mode mode);
int dv_device_peer_keys(const struct dv_device *d, uint8_t (**keys)[32], size_t *n);
int dv_device_mldsa_same(const struct dv_device *d, const struct dv_config *cfg);

/* The same request fed line by line, as the control socket receives it,
 * so a request of any size needs no buffer of its size: a set is staged
 * compactly (about 150 bytes per peer entry) and applied whole at its
 * blank line, or refused whole; a get is answered GET_CHUNK peers at a
 * time. Limits per set request: */
#define DV_UAPI_PEERS_MAX (1u << 20) /* peer entries (public_key= lines) */
#define DV_UAPI_AIPS_MAX (1u << 22)  /* allowed_ip= lines */
struct dv_uapi_req;
/* NULL when memory ran out. The device must outlive the request. */
struct dv_uapi_req *dv_uapi_req_new(struct dv_device *d);
/* One line, without its '\n' (len 0: the blank line that ends the
 * request). Returns 0 (send the next line), 1 (the request is complete:
 * call dv_uapi_req_output until it returns 0 before the next line), or
 * -1 when memory ran out. */
int dv_uapi_req_line(struct dv_uapi_req *r, const char *line, size_t len);
/* Appends the next part of the response to *out (malloc'd or
 * realloc'd, as dv_uapi_handle): 1 when more is to come, 0 when the
 * response is complete (the request object is ready for the next
 * request), -1 when memory ran out. */
int dv_uapi_req_output(struct dv_uapi_req *r, char **out, size_t *outlen);
/* Frees the request and wipes what it staged (keys). NULL is allowed. */
void dv_uapi_req_free(struct dv_uapi_req *r);

uint16_t dv_device_listen_port(const struct dv_device *d);
uint32_t dv_device_fwmark(const struct dv_device *d);
/* Handshake initiations sent to the peer since the last handshake that
 * completed (0 if no such peer). */
unsigned dv_device_peer_attempts(struct dv_device *d, const uint8_t pub[32]);
/* Points the peer at a new endpoint (as UAPI endpoint=): 1 if it changed,
 * 0 if it was that already, -1 if there is no such peer. */
int dv_device_peer_set_endpoint(struct dv_device *d, const uint8_t pub[32],
				const struct sockaddr *sa, socklen_t len);
size_t dv_device_mtu(const struct dv_device *d);

/* Global counters of input dropped before it reached a peer, for status
 * output and tests (per-peer counters are in the UAPI get response). */
struct dv_device_stats {
	uint64_t rx_malformed;     /* bad length, reserved bytes, type */
	uint64_t rx_bad_mac;       /* mac1 wrong */
	uint64_t rx_cookie_sent;   /* under load: answered with type 3 */
	uint64_t rx_handshake_bad; /* AEAD/DH failed, unknown peer, replay */
	uint64_t rx_unknown_index; /* type 2/3/4 naming no live index */
	uint64_t rx_data_bad;      /* transport tag or replay failure */
	uint64_t rx_bad_source;    /* inner source not in the peer's allowed IPs */
	uint64_t tx_no_route;      /* TUN packet whose destination has no peer */
	uint64_t tx_staged_dropped; /* staged queue full, or handshake gave up */
	uint64_t rx_ratelimited;   /* under load: over the per-source limit */
	uint64_t rx_cookie_limited; /* under load: no cookie reply, over its bound */
	/* Handshake fragments (type 9) whose macs passed: kept for
	 * reassembly, refused by it (a duplicate, one that contradicts its
	 * partial message, its source or the table full), and whole
	 * messages reassembled. Malformed ones count in rx_malformed, bad
	 * mac1 in rx_bad_mac. */
	uint64_t rx_fragments;
	uint64_t rx_fragment_refused;
	uint64_t rx_reassembled;
	uint64_t tx_fragments;     /* handshake fragments sent */
};
void dv_device_get_stats(const struct dv_device *d,
			 struct dv_device_stats *st);

#endif
