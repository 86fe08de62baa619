/* The UDP sockets: dual-stack IPv6 (IPv4 peers appear as v4-mapped
 * addresses on the wire and as plain sockaddr_in to the device), batched
 * both ways: recvmmsg fills DV_UDP_BATCH preallocated buffers per
 * call, and datagrams the device sends are queued and flushed with
 * sendmmsg after each batch of input (docs/DATAPATH.md). Nothing is
 * allocated per packet.
 *
 * Offloads, where the kernel has them: runs of equal-sized datagrams to
 * one destination leave as one UDP GSO send (UDP_SEGMENT), and with UDP_GRO
 * the kernel may hand over several datagrams of one sender coalesced in
 * one buffer, split here by their segment size.
 *
 * Two sockets share the port (SO_REUSEPORT) and the kernel steers each
 * datagram by its first byte (a classic BPF program attached with
 * SO_ATTACH_REUSEPORT_CBPF): transport data (type 4) to the data socket,
 * every other type (handshake messages, cookie replies, fragments, junk)
 * to the handshake socket. Each has its own receive buffer, so a flood of
 * handshake messages fills only its own queue and the kernel drops there,
 * while the data socket's queue stays free for the tunnel. The daemon
 * serves data first and handshakes within a budget per turn of its loop.
 * A kernel that refuses the program leaves one socket for everything (the
 * test knob DYBERVPN_TEST_NO_STEERING in the environment does the same). */
#ifndef DV_PLATFORM_UDP_H
#define DV_PLATFORM_UDP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DV_UDP_BATCH 64
/* Largest UDP payload; pqonly handshakes (4657 bytes) and transport data
 * of any MTU fit. */
#define DV_UDP_MAX 65536

struct dv_udp_rx {
	uint8_t *buf;
	size_t len;
	size_t seg; /* datagram size: len, or the GRO segment size */
	struct sockaddr_storage from; /* AF_INET for IPv4 peers */
	socklen_t fromlen;
};

/* The receive queues: q[DV_UDP_DATA] is the socket everything is sent
 * from; q[DV_UDP_HS].fd is -1 when the kernel did not take the steering
 * program (then the data socket receives every type). */
enum { DV_UDP_DATA = 0, DV_UDP_HS = 1, DV_UDP_NQ = 2 };

/* One socket's receive side: rx[i] valid for i < the count dv_udp_recv
 * returned, until the next dv_udp_recv on this queue. */
struct dv_udp_rxq {
	int fd;
	struct dv_udp_rx rx[DV_UDP_BATCH];
	struct mmsghdr msgs[DV_UDP_BATCH];
	struct iovec iov[DV_UDP_BATCH];
	uint8_t *arena;
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cmsg[DV_UDP_BATCH];
};

struct dv_udp {
	int fd;        /* the data socket: q[DV_UDP_DATA].fd; sends go here */
	int family;    /* AF_INET6 (dual-stack), or AF_INET without IPv6 */
	uint16_t port; /* bound port, host order */
	uint32_t fwmark;

	struct dv_udp_rxq q[DV_UDP_NQ];
	int gro; /* UDP_GRO enabled */

	/* Send queue. A datagram whose bytes lie in a stable region (see
	 * dv_udp_set_stable) is sent from where it is; any other is copied
	 * into its slot of tx_arena. */
	struct iovec tx_iov[DV_UDP_BATCH];
	struct sockaddr_in6 tx_to[DV_UDP_BATCH];
	socklen_t tx_tolen[DV_UDP_BATCH];
	uint8_t *tx_arena;
	unsigned n_tx;
	/* One sendmmsg entry per run of datagrams (one GSO send each). */
	struct mmsghdr tx_msgs[DV_UDP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} tx_cmsg[DV_UDP_BATCH];
	int gso; /* UDP_SEGMENT usable: cleared when the device cannot do it */
	size_t gso_max_seg; /* runs of larger datagrams failed: sent singly */
	const uint8_t *stable;
	size_t stable_len;

	uint64_t tx_dropped; /* datagrams the kernel refused (buffer full, no route) */
	uint64_t last_err_log_ns;
};

/* Opens and binds the sockets on port (0: the kernel picks one; u->port
 * tells which). Returns 0, or -1 with a message in err. Without the
 * steering program (an old kernel) one socket is opened and a line
 * logged. */
int dv_udp_open(struct dv_udp *u, uint16_t port, char *err, size_t errlen);
void dv_udp_close(struct dv_udp *u);

/* Binds new sockets on port and, on success, swaps them in for the old
 * ones (whose fds are closed: the caller re-registers q[].fd with its
 * loop). On failure returns a negative errno and keeps the old sockets. */
int dv_udp_rebind(struct dv_udp *u, uint16_t port);
/* SO_MARK on the socket (needs CAP_NET_ADMIN); 0 or a negative errno. */
int dv_udp_set_fwmark(struct dv_udp *u, uint32_t mark);

/* Datagrams whose bytes lie in [p, p + len) stay valid until the next
 * dv_udp_flush, so they are queued without a copy. */
void dv_udp_set_stable(struct dv_udp *u, const uint8_t *p, size_t len);

/* Receives up to max (at most DV_UDP_BATCH) buffers from queue q into
 * u->q[q].rx; returns how many (0 when none is waiting). Each holds len
 * bytes: one datagram, or with GRO several of seg bytes each (the last
 * may be shorter), all from one sender. */
unsigned dv_udp_recv(struct dv_udp *u, int q, unsigned max);

/* Queues one datagram; flushes first when the queue is full. */
void dv_udp_queue(struct dv_udp *u, const struct sockaddr *to,
		  socklen_t tolen, const uint8_t *buf, size_t len);
/* Sends everything queued (sendmmsg); datagrams the kernel refuses are
 * counted in tx_dropped and the error logged, rate-limited. */
void dv_udp_flush(struct dv_udp *u);

#endif
