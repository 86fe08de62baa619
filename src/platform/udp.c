#include "platform/udp.h"

#include <errno.h>
#include <linux/filter.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "platform/log.h"

/* Socket buffers big enough to absorb a burst of a few thousand packets
 * (wireguard-go asks for 7 MiB); as root SO_*BUFFORCE passes the sysctl
 * limits rmem_max/wmem_max. */
#define UDP_SOCKBUF (8 << 20)
/* How long a full send buffer may stall the loop before we drop. */
#define UDP_SEND_WAIT_MS 10
/* Limits of one GSO send: UDP_MAX_SEGMENTS of older kernels, and the
 * 16-bit UDP length. */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_BYTES 65000

static void set_bufsize(int fd, int force, int plain)
{
	int v = UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, plain, &v, sizeof(v));
}

/* The steering program, run by the kernel on each datagram's UDP payload
 * to pick a socket of the port's SO_REUSEPORT group by its index (the
 * order the sockets were bound): transport data (type 4) to socket 0,
 * everything else to socket 1. An empty datagram fails the load and
 * returns 0. A returned index with no socket behind it (the handshake
 * socket could not be bound) falls back to the kernel's hash. */
static const struct sock_filter steer_prog[] = {
	BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4 /* DV_MSG_DATA */, 0, 1),
	BPF_STMT(BPF_RET | BPF_K, DV_UDP_DATA),
	BPF_STMT(BPF_RET | BPF_K, DV_UDP_HS),
};

/* A new non-blocking socket with our options, not bound; or a negative
 * errno. *family may change from AF_INET6 to AF_INET when the host has no
 * IPv6. *gso and *gro say which offloads the kernel accepted. */
static int new_socket(int *family, int *gso, int *gro)
{
	int fd, zero = 0, v;

	fd = socket(*family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && errno == EAFNOSUPPORT && *family == AF_INET6) {
		*family = AF_INET; /* IPv6 disabled on this host */
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0)
		return -errno;
	if (*family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0) {
		v = -errno;
		close(fd);
		return v;
	}
	set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	/* pqonly handshakes (4.6 KB) exceed a 1500-byte path and travel as IP
	 * fragments (docs/PROTOCOL.md §13): never set DF, and
	 * let the kernel fragment locally whatever the cached path MTU. */
	v = IP_PMTUDISC_DONT;
	setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v, sizeof(v));
	if (*family == AF_INET6) {
		v = IPV6_PMTUDISC_DONT;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof(v));
		setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &zero, sizeof(zero));
	}
	/* Offloads are optional: a kernel without them (before 4.18 and
	 * 5.0) refuses the option and we send and receive one by one. Both
	 * sockets of a steered pair ask for GRO: the kernel decides to
	 * coalesce before it runs the steering program. */
	v = 1;
	*gro = setsockopt(fd, SOL_UDP, UDP_GRO, &v, sizeof(v)) == 0;
	*gso = setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof(zero)) == 0;
	return fd;
}

static int bind_port(int fd, int family, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (family == AF_INET6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
			       : bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
		return -errno;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return -errno;
	*bound = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						: ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* SO_REUSEPORT and the steering program on the first socket, before it
 * is bound: a socket that already carries a program is not let into
 * another's group, so binding still fails on a port in use, and port 0
 * still picks a free one. */
static int attach_steering(int fd)
{
	struct sock_fprog prog = { .len = sizeof(steer_prog) / sizeof(steer_prog[0]),
				   .filter = (struct sock_filter *)steer_prog };
	int one = 1, zero = 0, e;

	/* Test knob: stand for a kernel without the program (the fallback). */
	if (getenv("DYBERVPN_TEST_NO_STEERING"))
		return -ENOPROTOOPT;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0) {
		e = -errno;
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero));
		return e;
	}
	return 0;
}

/* The bound sockets: fds[DV_UDP_DATA], and fds[DV_UDP_HS] (-1 without
 * steering); 0 or a negative errno. Why steering is off goes to *why. */
static int udp_sockets(uint16_t port, int fds[DV_UDP_NQ], int *family, uint16_t *bound,
		       int *gso, int *gro, int *why)
{
	int steer, r, g2, s2, fam2;

	fds[DV_UDP_DATA] = fds[DV_UDP_HS] = -1;
	*why = 0;
	*family = AF_INET6;
	r = new_socket(family, gso, gro);
	if (r < 0)
		return r;
	fds[DV_UDP_DATA] = r;
	steer = attach_steering(r);
	if (steer < 0)
		*why = -steer;
	r = bind_port(fds[DV_UDP_DATA], *family, port, bound);
	if (r < 0)
		goto fail;
	if (steer < 0)
		return 0;
	fam2 = *family;
	r = new_socket(&fam2, &s2, &g2);
	if (r >= 0) {
		int one = 1, fd = r;

		r = 0;
		if (fam2 != *family ||
		    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0 ||
		    (r = bind_port(fd, fam2, *bound, &(uint16_t){ 0 })) < 0) {
			*why = r < 0 ? -r : errno ? errno : EAFNOSUPPORT;
			close(fd);
		} else {
			fds[DV_UDP_HS] = fd;
		}
	} else {
		*why = -r;
	}
	return 0;
fail:
	close(fds[DV_UDP_DATA]);
	fds[DV_UDP_DATA] = -1;
	return r;
}

static void log_steering(int why)
{
	if (why)
		dv_log(LOG_WARNING, "udp: no separate handshake socket (%s): data and "
		       "handshakes share one receive queue", strerror(why));
}

static void rxq_close(struct dv_udp_rxq *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	if (q->arena)
		munmap(q->arena, (size_t)DV_UDP_BATCH * DV_UDP_MAX);
	q->arena = NULL;
}

/* Anonymous mappings: only the pages packets touch become resident. */
static int rxq_init(struct dv_udp_rxq *q)
{
	q->arena = mmap(NULL, (size_t)DV_UDP_BATCH * DV_UDP_MAX, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->arena == MAP_FAILED) {
		q->arena = NULL;
		return -1;
	}
	for (unsigned i = 0; i < DV_UDP_BATCH; i++) {
		q->rx[i].buf = q->arena + (size_t)i * DV_UDP_MAX;
		q->iov[i].iov_base = q->rx[i].buf;
		q->iov[i].iov_len = DV_UDP_MAX;
	}
	return 0;
}

int dv_udp_open(struct dv_udp *u, uint16_t port, char *err, size_t errlen)
{
	size_t arena = (size_t)DV_UDP_BATCH * DV_UDP_MAX;
	int fds[DV_UDP_NQ], r, why;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	for (int i = 0; i < DV_UDP_NQ; i++)
		u->q[i].fd = -1;
	r = udp_sockets(port, fds, &u->family, &u->port, &u->gso, &u->gro, &why);
	if (r < 0) {
		if (port)
			snprintf(err, errlen, "udp: bind port %u: %s", port, strerror(-r));
		else
			snprintf(err, errlen, "udp: socket: %s", strerror(-r));
		return -1;
	}
	log_steering(why);
	for (int i = 0; i < DV_UDP_NQ; i++)
		u->q[i].fd = fds[i];
	u->fd = fds[DV_UDP_DATA];
	u->gso_max_seg = DV_UDP_MAX;
	u->tx_arena = mmap(NULL, arena, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->tx_arena == MAP_FAILED)
		u->tx_arena = NULL;
	if (!u->tx_arena || rxq_init(&u->q[DV_UDP_DATA]) < 0 ||
	    (u->q[DV_UDP_HS].fd >= 0 && rxq_init(&u->q[DV_UDP_HS]) < 0)) {
		snprintf(err, errlen, "udp: buffers: %s", strerror(errno));
		dv_udp_close(u);
		return -1;
	}
	return 0;
}

void dv_udp_close(struct dv_udp *u)
{
	size_t arena = (size_t)DV_UDP_BATCH * DV_UDP_MAX;

	for (int i = 0; i < DV_UDP_NQ; i++)
		rxq_close(&u->q[i]);
	u->fd = -1;
	if (u->tx_arena)
		munmap(u->tx_arena, arena);
	u->tx_arena = NULL;
}

int dv_udp_rebind(struct dv_udp *u, uint16_t port)
{
	int family, gso, gro, why, fds[DV_UDP_NQ];
	uint16_t bound;
	int r = udp_sockets(port, fds, &family, &bound, &gso, &gro, &why);

	if (r < 0)
		return r;
	for (int i = 0; i < DV_UDP_NQ && u->fwmark; i++) {
		if (fds[i] >= 0 &&
		    setsockopt(fds[i], SOL_SOCKET, SO_MARK, &u->fwmark, sizeof(u->fwmark)) < 0) {
			int e = -errno;

			for (int j = 0; j < DV_UDP_NQ; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			return e;
		}
	}
	/* The handshake socket's buffers are made before anything is
	 * swapped: on failure the old sockets stay. */
	if (fds[DV_UDP_HS] >= 0 && !u->q[DV_UDP_HS].arena &&
	    rxq_init(&u->q[DV_UDP_HS]) < 0) {
		r = -errno;
		for (int j = 0; j < DV_UDP_NQ; j++)
			if (fds[j] >= 0)
				close(fds[j]);
		return r;
	}
	log_steering(why);
	dv_udp_flush(u);
	for (int i = 0; i < DV_UDP_NQ; i++) {
		if (u->q[i].fd >= 0)
			close(u->q[i].fd);
		u->q[i].fd = fds[i];
	}
	u->fd = fds[DV_UDP_DATA];
	u->family = family;
	u->port = bound;
	u->gso = gso;
	u->gro = gro;
	return 0;
}

int dv_udp_set_fwmark(struct dv_udp *u, uint32_t mark)
{
	for (int i = 0; i < DV_UDP_NQ; i++)
		if (u->q[i].fd >= 0 &&
		    setsockopt(u->q[i].fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0)
			return -errno;
	u->fwmark = mark;
	return 0;
}

void dv_udp_set_stable(struct dv_udp *u, const uint8_t *p, size_t len)
{
	u->stable = p;
	u->stable_len = len;
}

/* A v4-mapped IPv6 source becomes a plain sockaddr_in, so endpoints look
 * the same whichever socket family carried them. */
static void unmap_v4(struct dv_udp_rx *r)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&r->from;
	struct sockaddr_in s4 = { .sin_family = AF_INET };

	if (s6->sin6_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return;
	s4.sin_port = s6->sin6_port;
	memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	memset(&r->from, 0, sizeof(r->from));
	memcpy(&r->from, &s4, sizeof(s4));
	r->fromlen = sizeof(s4);
}

unsigned dv_udp_recv(struct dv_udp *u, int qi, unsigned max)
{
	struct dv_udp_rxq *q = &u->q[qi];
	int n;

	if (q->fd < 0 || !max)
		return 0;
	if (max > DV_UDP_BATCH)
		max = DV_UDP_BATCH;
	for (unsigned i = 0; i < max; i++) {
		struct msghdr *h = &q->msgs[i].msg_hdr;

		h->msg_name = &q->rx[i].from;
		h->msg_namelen = sizeof(q->rx[i].from);
		h->msg_iov = &q->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = q->cmsg[i].buf;
		h->msg_controllen = sizeof(q->cmsg[i].buf);
		h->msg_flags = 0;
	}
	do
		n = recvmmsg(q->fd, q->msgs, max, MSG_DONTWAIT, NULL);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0; /* EAGAIN; ICMP errors (ECONNREFUSED) are not ours to act on */
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &q->msgs[i].msg_hdr;
		struct cmsghdr *c;

		q->rx[i].len = q->msgs[i].msg_len;
		q->rx[i].seg = q->rx[i].len;
		q->rx[i].fromlen = h->msg_namelen;
		for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
			int seg;

			if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO)
				continue;
			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			if (seg > 0 && (size_t)seg < q->rx[i].len)
				q->rx[i].seg = (size_t)seg;
		}
		unmap_v4(&q->rx[i]);
	}
	return (unsigned)n;
}

/* Fills *dst (sized for sockaddr_in6) in the socket's family; 0 when the
 * address cannot be reached through this socket. */
static socklen_t to_sock_addr(const struct dv_udp *u, const struct sockaddr *to,
			      socklen_t tolen, struct sockaddr_in6 *dst)
{
	memset(dst, 0, sizeof(*dst));
	if (to->sa_family == AF_INET && tolen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)to;

		if (u->family == AF_INET) {
			memcpy(dst, s4, sizeof(*s4));
			return sizeof(*s4);
		}
		dst->sin6_family = AF_INET6;
		dst->sin6_port = s4->sin_port;
		dst->sin6_addr.s6_addr[10] = 0xff;
		dst->sin6_addr.s6_addr[11] = 0xff;
		memcpy(&dst->sin6_addr.s6_addr[12], &s4->sin_addr, 4);
		return sizeof(*dst);
	}
	if (to->sa_family == AF_INET6 && tolen >= sizeof(struct sockaddr_in6) &&
	    u->family == AF_INET6) {
		memcpy(dst, to, sizeof(*dst));
		return sizeof(*dst);
	}
	return 0;
}

static void log_drop(struct dv_udp *u, int e, uint64_t n)
{
	struct timespec ts;
	uint64_t now;

	u->tx_dropped += n;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	/* Drops follow from outside conditions (unreachable peers, a full
	 * buffer): log at most one line a second. */
	if (u->last_err_log_ns && now - u->last_err_log_ns < 1000000000u)
		return;
	u->last_err_log_ns = now;
	dv_log(LOG_WARNING, "udp: send: %s (%llu datagrams dropped so far)",
	       e ? strerror(e) : "address family not reachable on this socket",
	       (unsigned long long)u->tx_dropped);
}

void dv_udp_queue(struct dv_udp *u, const struct sockaddr *to,
		  socklen_t tolen, const uint8_t *buf, size_t len)
{
	unsigned i;
	socklen_t sl;

	if (len > DV_UDP_MAX) {
		log_drop(u, EMSGSIZE, 1);
		return;
	}
	if (u->n_tx == DV_UDP_BATCH)
		dv_udp_flush(u);
	i = u->n_tx;
	sl = to_sock_addr(u, to, tolen, &u->tx_to[i]);
	if (!sl) {
		log_drop(u, 0, 1);
		return;
	}
	u->tx_tolen[i] = sl;
	if ((uintptr_t)buf >= (uintptr_t)u->stable &&
	    (uintptr_t)buf + len <= (uintptr_t)u->stable + u->stable_len) {
		u->tx_iov[i].iov_base = (void *)buf;
	} else {
		u->tx_iov[i].iov_base = u->tx_arena + (size_t)i * DV_UDP_MAX;
		memcpy(u->tx_iov[i].iov_base, buf, len);
	}
	u->tx_iov[i].iov_len = len;
	u->n_tx++;
}

/* Groups the queued datagrams from first on into sendmmsg entries: with
 * GSO, a run to one destination whose datagrams all have the first one's
 * size (the last may be shorter) becomes one entry with a UDP_SEGMENT
 * cmsg; else one entry per datagram. Returns the number of entries. */
static unsigned build_sends(struct dv_udp *u, unsigned first)
{
	unsigned n = 0;

	for (unsigned i = first, j; i < u->n_tx; i = j) {
		size_t seg = u->tx_iov[i].iov_len, total = seg;
		struct msghdr *h = &u->tx_msgs[n++].msg_hdr;

		for (j = i + 1; u->gso && seg <= u->gso_max_seg && j < u->n_tx &&
			    j - i < UDP_GSO_MAX_SEGS; j++) {
			size_t len = u->tx_iov[j].iov_len;

			if (len > seg || total + len > UDP_GSO_MAX_BYTES ||
			    u->tx_tolen[j] != u->tx_tolen[i] ||
			    memcmp(&u->tx_to[j], &u->tx_to[i], u->tx_tolen[i]))
				break;
			total += len;
			if (len < seg) {
				j++; /* a shorter datagram ends the run */
				break;
			}
		}
		memset(h, 0, sizeof(*h));
		h->msg_name = &u->tx_to[i];
		h->msg_namelen = u->tx_tolen[i];
		h->msg_iov = &u->tx_iov[i];
		h->msg_iovlen = j - i;
		if (j - i > 1) {
			struct cmsghdr *c;
			uint16_t s16 = (uint16_t)seg;

			h->msg_control = u->tx_cmsg[n - 1].buf;
			h->msg_controllen = sizeof(u->tx_cmsg[n - 1].buf);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(s16));
			memcpy(CMSG_DATA(c), &s16, sizeof(s16));
		}
	}
	return n;
}

void dv_udp_flush(struct dv_udp *u)
{
	unsigned first = 0;
	int waited = 0;

	while (first < u->n_tx) {
		unsigned n = build_sends(u, first), k = 0;

		first = u->n_tx; /* done, unless GSO must be turned off below */
		while (k < n) {
			int r = sendmmsg(u->fd, &u->tx_msgs[k], n - k, MSG_DONTWAIT);
			int e = errno;
			struct msghdr *h = &u->tx_msgs[k].msg_hdr;

			if (r > 0) {
				k += (unsigned)r;
				continue;
			}
			if (e == EINTR)
				continue;
			if (e == EAGAIN || e == EWOULDBLOCK) {
				/* The send buffer is full: a short stall is
				 * gentler on the tunnelled flows than a burst
				 * of drops. */
				struct pollfd p = { .fd = u->fd, .events = POLLOUT };
				uint64_t lost = 0;

				if (!waited++ && poll(&p, 1, UDP_SEND_WAIT_MS) > 0)
					continue;
				for (; k < n; k++)
					lost += u->tx_msgs[k].msg_hdr.msg_iovlen;
				log_drop(u, e, lost);
				break;
			}
			if (h->msg_iovlen > 1 && (e == EIO || e == EINVAL || e == EMSGSIZE)) {
				size_t seg = h->msg_iov[0].iov_len;

				if (e == EIO) {
					/* The route's device cannot checksum
					 * for us: no GSO from here on. */
					dv_log(LOG_INFO, "udp: GSO refused (%s); sending "
					       "datagrams singly", strerror(e));
					u->gso = 0;
				} else {
					/* Segments larger than the path MTU (pqonly
					 * handshakes, which rely on IP fragmentation)
					 * cannot be GSO'd: send those singly. */
					u->gso_max_seg = seg - 1;
				}
				first = (unsigned)(h->msg_iov - u->tx_iov);
				break;
			}
			/* This send failed (no route, message too long, ICMP
			 * error reported late): drop it and send the rest. */
			log_drop(u, e, h->msg_iovlen);
			k++;
		}
	}
	u->n_tx = 0;
}
