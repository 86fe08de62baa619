/* Platform pieces that run without the device: prefix coverage for
 * routes, paths, the batched UDP socket over loopback (v4-mapped sources
 * come back as sockaddr_in, a pqonly-sized datagram goes as one), TSO
 * super-packet splitting and checksums against a plain reference, TCP
 * coalescing for the TUN (and back through the splitter), and the
 * control socket's framing (several requests per connection, the line
 * bound). The control-socket test needs root for /var/run/wireguard. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "platform/ctlsock.h"
#include "platform/ifconfig.h"
#include "platform/paths.h"
#include "platform/tun_gro.h"
#include "platform/tun_gso.h"
#include "platform/udp.h"
#include "t.h"

static struct dv_cidr cidr(const char *s)
{
	struct dv_cidr c;
	char err[128];

	memset(&c, 0, sizeof(c));
	if (dv_cidr_parse(s, &c, DV_CIDR_HOST_BITS_OK, err, sizeof(err)) < 0)
		fprintf(stderr, "bad cidr %s: %s\n", s, err);
	return c;
}

static void test_covers(void)
{
	struct dv_cidr a = cidr("10.99.0.1/24"), b = cidr("10.99.0.2/32");
	struct dv_cidr c = cidr("10.99.1.2/32"), d = cidr("10.0.0.0/8");
	struct dv_cidr e = cidr("fd99::1/64"), f = cidr("fd99::2/128");
	struct dv_cidr g = cidr("fd98::2/128"), z = cidr("0.0.0.0/0");
	struct dv_cidr h = cidr("10.99.0.128/25");

	T_CHECK(dv_cidr_covers(&a, &b));
	T_CHECK(!dv_cidr_covers(&a, &c));
	T_CHECK(!dv_cidr_covers(&a, &d)); /* wider than the address prefix */
	T_CHECK(dv_cidr_covers(&d, &a));
	T_CHECK(dv_cidr_covers(&e, &f));
	T_CHECK(!dv_cidr_covers(&e, &g));
	T_CHECK(!dv_cidr_covers(&a, &f)); /* families differ */
	T_CHECK(dv_cidr_covers(&z, &c));
	T_CHECK(dv_cidr_covers(&a, &h)); /* a /25 inside the /24 */
	T_CHECK(!dv_cidr_covers(&h, &b)); /* .2 is in the lower half */
}

static void test_paths(void)
{
	char buf[DV_PATH_MAX];

	T_CHECK(dv_path_sock(buf, sizeof(buf), "dvpn0") == 0);
	T_CHECK(!strcmp(buf, "/var/run/wireguard/dvpn0.sock"));
	T_CHECK(dv_path_pid(buf, sizeof(buf), "dvpn0") == 0);
	T_CHECK(!strcmp(buf, "/run/dybervpn/dvpn0.pid"));
	T_CHECK(dv_path_sock(buf, sizeof(buf), "a/b") < 0);
	T_CHECK(dv_path_sock(buf, sizeof(buf), "..") < 0);
	T_CHECK(dv_path_sock(buf, sizeof(buf), "") < 0);
}

/* `up NAME` and `check NAME`: names go to the config directory, paths
 * stay paths (made absolute), -c is always a path. */
static void test_config_locate(void)
{
	char buf[4096], cwd[4096], want[4200], err[256];
	int is_name = -1;

	T_CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	T_CHECK(setenv(DV_CONFIG_DIR_ENV, "/srv/dv conf", 1) == 0);
	T_CHECK(dv_config_locate("gw0", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	T_CHECK(is_name == 1 && !strcmp(buf, "/srv/dv conf/gw0.toml"));
	T_CHECK(dv_config_locate("gw0", 1, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	snprintf(want, sizeof(want), "%s/gw0", cwd);
	T_CHECK(is_name == 0 && !strcmp(buf, want));
	T_CHECK(dv_config_locate("gw0.toml", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	snprintf(want, sizeof(want), "%s/gw0.toml", cwd);
	T_CHECK(is_name == 0 && !strcmp(buf, want));
	T_CHECK(dv_config_locate("/a/b.conf", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	T_CHECK(is_name == 0 && !strcmp(buf, "/a/b.conf"));
	T_CHECK(dv_config_locate("sub/x", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	snprintf(want, sizeof(want), "%s/sub/x", cwd);
	T_CHECK(is_name == 0 && !strcmp(buf, want));
	/* Not an interface name, not a path: refused with a reason. */
	T_CHECK(dv_config_locate("a-name-far-too-long", 0, buf, sizeof(buf),
				 &is_name, err, sizeof(err)) < 0 && strstr(err, "15"));
	T_CHECK(dv_config_locate("sp ace", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) < 0);
	T_CHECK(dv_config_locate("..", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) < 0);
	T_CHECK(dv_config_locate("", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) < 0);
	T_CHECK(setenv(DV_CONFIG_DIR_ENV, "relative/dir", 1) == 0);
	T_CHECK(dv_config_locate("gw0", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) < 0 && strstr(err, DV_CONFIG_DIR_ENV));
	T_CHECK(unsetenv(DV_CONFIG_DIR_ENV) == 0);
	T_CHECK(dv_config_locate("gw0", 0, buf, sizeof(buf), &is_name, err,
				 sizeof(err)) == 0);
	T_CHECK(!strcmp(buf, DV_CONFIG_DIR "/gw0.toml"));
}

/* One received datagram, GRO buffers split by their segment size. */
struct dgram {
	const uint8_t *p;
	size_t len;
	struct sockaddr_storage from;
	socklen_t fromlen;
};

/* Receives from queue q until want datagrams (or 2 s); returns how many. */
static unsigned recv_q(struct dv_udp *u, int q, struct dgram *out, unsigned want)
{
	struct dv_udp_rxq *rq = &u->q[q];
	unsigned got = 0;

	for (int i = 0; i < 100 && got < want; i++) {
		struct pollfd p = { .fd = rq->fd, .events = POLLIN };
		unsigned n;

		poll(&p, 1, 20);
		n = dv_udp_recv(u, q, DV_UDP_BATCH);
		for (unsigned j = 0; j < n; j++)
			for (size_t off = 0; off < rq->rx[j].len && got < want; off += rq->rx[j].seg) {
				out[got].p = rq->rx[j].buf + off;
				out[got].len = rq->rx[j].len - off < rq->rx[j].seg
						       ? rq->rx[j].len - off : rq->rx[j].seg;
				out[got].from = rq->rx[j].from;
				out[got].fromlen = rq->rx[j].fromlen;
				got++;
			}
	}
	return got;
}

/* Datagrams of the tests below that are not type 4: the handshake queue
 * when the kernel steers, else the one socket. */
static unsigned recv_wait(struct dv_udp *u, struct dgram *out, unsigned want)
{
	return recv_q(u, u->q[DV_UDP_HS].fd >= 0 ? DV_UDP_HS : DV_UDP_DATA, out, want);
}

/* Waits up to 20 ms for a datagram on queue q; 1 when one came. */
static int queue_has(struct dv_udp *u, int q)
{
	struct pollfd p = { .fd = u->q[q].fd, .events = POLLIN };

	return u->q[q].fd >= 0 && poll(&p, 1, 20) == 1;
}

/* Steering by the first byte, over IPv4 and IPv6 to the dual-stack pair:
 * type 4 reaches the data socket only, every other type the handshake
 * socket only; after a rebind too; a second pair cannot take a port in
 * use. */
static void steer_one(struct dv_udp *a, struct dv_udp *b, const struct sockaddr *to,
		      socklen_t tolen, const char *what)
{
	static struct dgram dg[8];
	uint8_t msg[148] = { 0 };
	static const uint8_t types[] = { 1, 2, 3, 5, 6, 7, 9, 0, 255 };

	for (size_t i = 0; i < sizeof(types); i++) {
		unsigned n;
		int ok;

		msg[0] = types[i];
		dv_udp_queue(a, to, tolen, msg, sizeof(msg));
		dv_udp_flush(a);
		n = recv_q(b, DV_UDP_HS, dg, 1);
		ok = n == 1 && dg[0].len == sizeof(msg) && dg[0].p[0] == types[i] &&
		     !queue_has(b, DV_UDP_DATA);
		if (!ok) {
			fprintf(stderr, "%s: type %u not on the handshake socket alone\n",
				what, types[i]);
			dv_udp_recv(b, DV_UDP_DATA, DV_UDP_BATCH);
		}
		T_CHECK(ok);
	}
	msg[0] = 4;
	dv_udp_queue(a, to, tolen, msg, sizeof(msg));
	dv_udp_flush(a);
	T_CHECK(recv_q(b, DV_UDP_DATA, dg, 1) == 1 && dg[0].p[0] == 4 && !queue_has(b, DV_UDP_HS));
}

static void test_udp_steering(void)
{
	struct dv_udp a, b, c;
	struct sockaddr_in to4 = { .sin_family = AF_INET };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char err[256];

	T_CHECK(dv_udp_open(&a, 0, err, sizeof(err)) == 0);
	T_CHECK(dv_udp_open(&b, 0, err, sizeof(err)) == 0);
	printf("udp steering: %s\n", b.q[DV_UDP_HS].fd >= 0 ? "on" : "off (one socket)");
	/* The kernels this project supports (5.x and later) all take it. */
	T_CHECK(b.q[DV_UDP_HS].fd >= 0);
	if (b.q[DV_UDP_HS].fd < 0)
		goto out;
	to4.sin_port = htons(b.port);
	to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	steer_one(&a, &b, (struct sockaddr *)&to4, sizeof(to4), "IPv4");
	if (b.family == AF_INET6) {
		to6.sin6_port = htons(b.port);
		steer_one(&a, &b, (struct sockaddr *)&to6, sizeof(to6), "IPv6");
	}
	/* A port in use stays in use: no pair joins another's group. */
	T_CHECK(dv_udp_open(&c, b.port, err, sizeof(err)) < 0);
	T_CHECK(strstr(err, "in use") != NULL);
	/* A listen-port change steers on the new port. */
	T_CHECK(dv_udp_rebind(&b, 0) == 0 && b.q[DV_UDP_HS].fd >= 0);
	to4.sin_port = htons(b.port);
	steer_one(&a, &b, (struct sockaddr *)&to4, sizeof(to4), "IPv4 after rebind");
out:
	dv_udp_close(&a);
	dv_udp_close(&b);
}

/* Without the steering program (DYBERVPN_TEST_NO_STEERING stands for a
 * kernel that refuses it): one socket receives every type, and a second
 * one cannot share its port. */
static void test_udp_no_steering(void)
{
	static struct dgram dg[8];
	struct dv_udp a, b, c;
	struct sockaddr_in to4 = { .sin_family = AF_INET };
	uint8_t msg[148] = { 0 };
	char err[256];

	setenv("DYBERVPN_TEST_NO_STEERING", "1", 1);
	T_CHECK(dv_udp_open(&a, 0, err, sizeof(err)) == 0);
	T_CHECK(dv_udp_open(&b, 0, err, sizeof(err)) == 0);
	T_CHECK(b.q[DV_UDP_HS].fd < 0 && b.fd >= 0 && b.fd == b.q[DV_UDP_DATA].fd);
	T_CHECK(dv_udp_recv(&b, DV_UDP_HS, DV_UDP_BATCH) == 0);
	to4.sin_port = htons(b.port);
	to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	msg[0] = 1;
	dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), msg, sizeof(msg));
	msg[0] = 4;
	dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), msg, sizeof(msg));
	dv_udp_flush(&a);
	T_CHECK(recv_q(&b, DV_UDP_DATA, dg, 2) == 2 && dg[0].p[0] == 1 && dg[1].p[0] == 4);
	T_CHECK(dv_udp_open(&c, b.port, err, sizeof(err)) < 0);
	T_CHECK(dv_udp_rebind(&b, 0) == 0 && b.q[DV_UDP_HS].fd < 0);
	unsetenv("DYBERVPN_TEST_NO_STEERING");
	dv_udp_close(&a);
	dv_udp_close(&b);
}

static void test_udp(void)
{
	static uint8_t big[4657], stable[256];
	static struct dgram dg[128];
	struct dv_udp a, b;
	struct sockaddr_in to4 = { .sin_family = AF_INET };
	struct sockaddr_in6 to6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	char err[256];
	unsigned n;

	T_CHECK(dv_udp_open(&a, 0, err, sizeof(err)) == 0);
	T_CHECK(dv_udp_open(&b, 0, err, sizeof(err)) == 0);
	T_CHECK(a.port && b.port && a.port != b.port);
	printf("udp offloads: GSO %s, GRO %s\n", a.gso ? "on" : "off", a.gro ? "on" : "off");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	memset(stable, 0x5a, sizeof(stable));
	dv_udp_set_stable(&a, stable, sizeof(stable));

	to4.sin_port = htons(b.port);
	to4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), (const uint8_t *)"one", 3);
	dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), big, sizeof(big));
	dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), stable, sizeof(stable));
	T_CHECK(a.n_tx == 3);
	dv_udp_flush(&a);
	T_CHECK(a.n_tx == 0 && a.tx_dropped == 0);
	n = recv_wait(&b, dg, 3);
	T_CHECK(n == 3);
	if (n == 3) {
		struct sockaddr_in *f = (struct sockaddr_in *)&dg[0].from;

		T_CHECK(dg[0].len == 3 && !memcmp(dg[0].p, "one", 3));
		T_CHECK(dg[1].len == sizeof(big));
		T_EQ_MEM(dg[1].p, big, sizeof(big));
		T_CHECK(dg[2].len == sizeof(stable));
		T_EQ_MEM(dg[2].p, stable, sizeof(stable));
		/* An IPv4 peer reaches the device as a plain sockaddr_in. */
		T_CHECK(f->sin_family == AF_INET && dg[0].fromlen == sizeof(*f));
		T_CHECK(f->sin_addr.s_addr == htonl(INADDR_LOOPBACK));
		T_CHECK(ntohs(f->sin_port) == a.port);
	}

	/* A full queue flushes itself: 100 datagrams, none lost, in order
	 * (with GSO and GRO they travel as a few coalesced sends). */
	for (unsigned i = 0; i < 100; i++)
		dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), (uint8_t *)&i, sizeof(i));
	dv_udp_flush(&a);
	n = recv_wait(&b, dg, 100);
	T_CHECK(n == 100);
	for (unsigned i = 0; i < n; i++)
		T_CHECK(dg[i].len == sizeof(i) && !memcmp(dg[i].p, &i, sizeof(i)));

	/* Sizes that differ break a GSO run; the receiver still sees each. */
	for (unsigned i = 0; i < 10; i++)
		dv_udp_queue(&a, (struct sockaddr *)&to4, sizeof(to4), big, 100 + (i % 3) * 50);
	dv_udp_flush(&a);
	n = recv_wait(&b, dg, 10);
	T_CHECK(n == 10);
	for (unsigned i = 0; i < n; i++)
		T_CHECK(dg[i].len == 100 + (i % 3) * 50 && !memcmp(dg[i].p, big, dg[i].len));

	if (a.family == AF_INET6) {
		to6.sin6_port = htons(b.port);
		dv_udp_queue(&a, (struct sockaddr *)&to6, sizeof(to6), (const uint8_t *)"six", 3);
		dv_udp_flush(&a);
		n = recv_wait(&b, dg, 1);
		T_CHECK(n == 1 && dg[0].from.ss_family == AF_INET6);
	}

	T_CHECK(dv_udp_rebind(&b, 0) == 0 && b.fd >= 0 && b.fd == b.q[DV_UDP_DATA].fd);
	dv_udp_close(&a);
	dv_udp_close(&b);
}

/* A test handler: answers each request with its length in bytes; a
 * request whose first line is "parts" is answered in three parts. */
struct echo_req {
	size_t len, parts;
	int first;
};

static int echo_reqs; /* live echo_req objects */

static void *echo_new(void *arg)
{
	struct echo_req *r = calloc(1, sizeof(*r));

	(void)arg;
	if (r) {
		r->first = 1;
		echo_reqs++;
	}
	return r;
}

static int echo_line(void *req, const char *line, size_t len)
{
	struct echo_req *r = req;

	if (r->first && len == 5 && !memcmp(line, "parts", 5))
		r->parts = 3;
	r->first = 0;
	r->len += len + 1;
	return len == 0;
}

static int echo_append(char **out, size_t *outlen, const char *s, size_t n)
{
	char *p = realloc(*out, *outlen + n);

	if (!p)
		return -1;
	memcpy(p + *outlen, s, n);
	*out = p;
	*outlen += n;
	return 0;
}

static int echo_output(void *req, char **out, size_t *outlen)
{
	struct echo_req *r = req;
	char line[64];
	int n;

	if (r->parts) {
		r->parts--;
		return echo_append(out, outlen, "part\n", 5) < 0 ? -1 : 1;
	}
	n = snprintf(line, sizeof(line), "len=%zu\nerrno=0\n\n", r->len);
	r->len = 0;
	r->first = 1;
	return echo_append(out, outlen, line, (size_t)n);
}

static void echo_free(void *req)
{
	echo_reqs--;
	free(req);
}

static const struct dv_ctl_ops echo_ops = {
	.req_new = echo_new,
	.req_line = echo_line,
	.req_output = echo_output,
	.req_free = echo_free,
};

static void pump(int epfd)
{
	struct epoll_event evs[8];
	int n = epoll_wait(epfd, evs, 8, 20);

	for (int i = 0; i < n; i++) {
		struct dv_ev *ev = evs[i].data.ptr;

		ev->fn(ev, evs[i].events);
	}
}

/* Reads from fd (pumping the server) until want bytes or EOF. */
static size_t client_read(int epfd, int fd, char *buf, size_t cap, size_t want)
{
	size_t got = 0;

	for (int i = 0; i < 400 && got < want; i++) {
		ssize_t r;

		pump(epfd);
		r = recv(fd, buf + got, cap - got, MSG_DONTWAIT);
		if (r == 0)
			break;
		if (r > 0)
			got += (size_t)r;
	}
	return got;
}

static void test_ctlsock(void)
{
	struct dv_ctl ctl;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char iface[16], err[256], buf[256];
	struct stat st;
	size_t got;
	int epfd, fd;
	char *huge;

	if (geteuid() != 0) {
		printf("skipping the control socket test (needs root)\n");
		return;
	}
	snprintf(iface, sizeof(iface), "dvut%d", (int)getpid() % 100000);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	T_CHECK(dv_ctl_open(&ctl, iface, epfd, &echo_ops, NULL, err, sizeof(err)) == 0);
	T_CHECK(stat(ctl.path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		(st.st_mode & 0777) == 0600);
	memcpy(sa.sun_path, ctl.path, strlen(ctl.path) + 1);

	/* A second server on the same name is refused while this one lives. */
	{
		struct dv_ctl other;

		T_CHECK(dv_ctl_open(&other, iface, epfd, &echo_ops, NULL, err,
				    sizeof(err)) < 0);
	}

	/* Two requests in one write, a third split in two writes. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	T_CHECK(write(fd, "get=1\n\nset=1\nx=1\n\nget", 21) == 21);
	got = client_read(epfd, fd, buf, sizeof(buf), 31);
	T_CHECK(got == 31 && !memcmp(buf, "len=7\nerrno=0\n\nlen=11\nerrno=0\n\n", 31));
	T_CHECK(write(fd, "=1\n\n", 4) == 4);
	got = client_read(epfd, fd, buf, sizeof(buf), 15);
	T_CHECK(got == 15 && !memcmp(buf, "len=7\nerrno=0\n\n", 15));
	close(fd);
	pump(epfd);

	/* A response in parts; then a request of 8 MiB (far more than any
	 * buffer the server has), line by line, its length counted. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	T_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	T_CHECK(write(fd, "parts\n\n", 7) == 7);
	got = client_read(epfd, fd, buf, sizeof(buf), 30);
	T_CHECK(got == 30 &&
		!memcmp(buf, "part\npart\npart\nlen=7\nerrno=0\n\n", 30));
	{
		const size_t big = 8u << 20;
		size_t off = 0;
		char want[64];
		int wl;

		huge = malloc(big);
		T_CHECK(huge != NULL);
		for (size_t i = 0; huge && i < big; i++)
			huge[i] = i % 100 == 99 ? '\n' : 'x';
		if (huge)
			huge[big - 1] = huge[big - 2] = '\n';
		wl = snprintf(want, sizeof(want), "len=%zu\nerrno=0\n\n", big);
		got = 0;
		for (int i = 0; huge && i < 20000 && got < (size_t)wl; i++) {
			ssize_t r;

			if (off < big) {
				r = send(fd, huge + off, big - off, MSG_NOSIGNAL);
				if (r > 0)
					off += (size_t)r;
			}
			pump(epfd);
			r = recv(fd, buf + got, sizeof(buf) - got, 0);
			if (r > 0)
				got += (size_t)r;
		}
		T_CHECK(got == (size_t)wl && !memcmp(buf, want, got));
		free(huge);
	}
	close(fd);
	pump(epfd);
	T_CHECK(echo_reqs == 0); /* the closed connection freed its state */

	/* A line longer than DV_CTL_MAX_LINE: errno=22, then closed. */
	huge = malloc(DV_CTL_MAX_LINE + 16);
	memset(huge, 'a', DV_CTL_MAX_LINE + 16);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	T_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	{
		size_t off = 0;
		int closed = 0;

		got = 0;
		for (int i = 0; i < 2000 && !closed; i++) {
			ssize_t r;

			if (off < DV_CTL_MAX_LINE + 16) {
				r = send(fd, huge + off, DV_CTL_MAX_LINE + 16 - off,
					 MSG_NOSIGNAL);
				if (r > 0)
					off += (size_t)r;
			}
			pump(epfd);
			r = recv(fd, buf + got, sizeof(buf) - got, 0);
			if (r > 0)
				got += (size_t)r;
			else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				closed = 1;
		}
		T_CHECK(closed);
		T_CHECK(got == 10 && !memcmp(buf, "errno=22\n\n", 10));
	}
	close(fd);
	free(huge);

	/* An idle connection is closed after DV_CTL_IDLE_SEC, not before. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	pump(epfd);
	{
		struct timespec ts;
		uint64_t now;
		ssize_t r;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		T_CHECK(dv_ctl_expire(&ctl, now + 1000000000ull) == 0);
		T_CHECK(dv_ctl_expire(&ctl, now + (DV_CTL_IDLE_SEC + 1) * 1000000000ull) == 1);
		r = recv(fd, buf, sizeof(buf), 0);
		T_CHECK(r == 0); /* the daemon hung up */
	}
	close(fd);

	dv_ctl_close(&ctl);
	T_CHECK(access(sa.sun_path, F_OK) < 0 && errno == ENOENT);
	close(epfd);
}

/* A plain big-endian RFC 1071 sum, independent of tun_gso.c's. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t ref_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* 1 if the TCP checksum of the IP packet p verifies. */
static int tcp_ok(const uint8_t *p, size_t len)
{
	int v6 = p[0] >> 4 == 6;
	size_t ihl = v6 ? 40 : (size_t)(p[0] & 0xf) * 4, tl = len - ihl;
	uint8_t ph[4] = { 0, 6, (uint8_t)(tl >> 8), (uint8_t)tl };
	uint32_t sum = v6 ? ref_sum(0, p + 8, 32) : ref_sum(0, p + 12, 8);

	sum = ref_sum(sum, ph, 4);
	return ref_fold(ref_sum(sum, p + ihl, tl)) == 0xffff;
}

/* A TCP super-packet: IP header, 20-byte TCP header (seq 1000, flags
 * CWR|PSH|FIN|ACK), then payload bytes i & 0xff. */
static size_t make_super(uint8_t *p, int v6, size_t payload)
{
	size_t ihl = v6 ? 40 : 20, len = ihl + 20 + payload;
	uint8_t *t = p + ihl;

	memset(p, 0, ihl + 20);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12;
		p[5] = 0x34;
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, "\x0a\x63\x00\x01\x0a\x63\x00\x02", 8);
	}
	t[0] = 0x13;
	t[1] = 0x88;
	t[2] = 0xc0;
	t[3] = 0x01;
	t[6] = 0x03;
	t[7] = 0xe8; /* seq 1000 */
	t[12] = 0x50;
	t[13] = 0x80 | 0x10 | 0x08 | 0x01;
	for (size_t i = 0; i < payload; i++)
		t[20 + i] = (uint8_t)i;
	return len;
}

static void test_gso_split(int v6)
{
	static uint8_t super[70000], seg[4][2000];
	uint8_t *out[4] = { seg[0], seg[1], seg[2], seg[3] };
	size_t lens[4], ihl = v6 ? 40 : 20;
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = 1000,
	};
	size_t len = make_super(super, v6, 3001);

	T_CHECK(dv_tun_gso_count(&h, super, len) == 4);
	/* In two calls, as the daemon does when its slots run out. */
	T_CHECK(dv_tun_gso_split(&h, super, len, 0, out, lens, 3, sizeof(seg[0])) == 0);
	T_CHECK(dv_tun_gso_split(&h, super, len, 3, out + 3, lens + 3, 1, sizeof(seg[0])) == 0);
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *p = seg[i], *t = p + ihl;
		size_t pl = i < 3 ? 1000 : 1;
		uint32_t seq = (uint32_t)t[4] << 24 | t[5] << 16 | t[6] << 8 | t[7];

		T_CHECK(lens[i] == ihl + 20 + pl);
		if (v6) {
			T_CHECK((size_t)(p[4] << 8 | p[5]) == 20 + pl);
		} else {
			T_CHECK((size_t)(p[2] << 8 | p[3]) == lens[i]);
			T_CHECK((p[4] << 8 | p[5]) == 0x1234 + (int)i);
			T_CHECK(ref_fold(ref_sum(0, p, 20)) == 0xffff); /* header checksum */
		}
		T_CHECK(seq == 1000 + 1000 * i);
		T_CHECK(!!(t[13] & 0x80) == (i == 0)); /* CWR on the first only */
		T_CHECK(!!(t[13] & 0x09) == (i == 3)); /* FIN, PSH on the last only */
		T_CHECK(t[13] & 0x10);                 /* ACK on all */
		T_CHECK(tcp_ok(p, lens[i]));
		T_CHECK(t[20] == (uint8_t)(i * 1000));
	}
	/* A segment that does not fit is refused, not truncated. */
	T_CHECK(dv_tun_gso_split(&h, super, len, 0, out, lens, 1, 500) < 0);
	/* UDP or unknown GSO types are not ours to split. */
	h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	T_CHECK(dv_tun_gso_count(&h, super, len) == 0);
}

static void test_gso(void)
{
	static uint8_t p[1500];
	struct virtio_net_hdr h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM };
	size_t len = make_super(p, 0, 999);
	uint8_t ph[12];
	uint16_t seed;

	test_gso_split(0);
	test_gso_split(1);

	/* A partial checksum: the field holds the pseudo-header sum. */
	memcpy(ph, p + 12, 8);
	ph[8] = 0;
	ph[9] = 6;
	ph[10] = (uint8_t)((len - 20) >> 8);
	ph[11] = (uint8_t)(len - 20);
	seed = ref_fold(ref_sum(0, ph, 12));
	p[36] = (uint8_t)(seed >> 8);
	p[37] = (uint8_t)seed;
	h.csum_start = 20;
	h.csum_offset = 16;
	T_CHECK(!tcp_ok(p, len));
	T_CHECK(dv_tun_csum_finish(&h, p, len) == 0);
	T_CHECK(tcp_ok(p, len));
	h.csum_start = (uint16_t)len;
	T_CHECK(dv_tun_csum_finish(&h, p, len) < 0);
	{
		/* The IPv4 header of the usual worked example: 0xb861. */
		static const uint8_t ip[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11,
						0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
		uint16_t c = dv_inet_csum(ip, sizeof(ip));
		uint8_t b[2];

		memcpy(b, &c, 2);
		T_CHECK(b[0] == 0xb8 && b[1] == 0x61);
	}
}

/* What the GRO layer wrote to the "TUN". */
static struct {
	struct virtio_net_hdr h;
	uint8_t p[70000];
	size_t len;
} gro_out[8];
static unsigned gro_n;

static void gro_capture(void *arg, const struct virtio_net_hdr *h, const uint8_t *pkt,
			size_t len)
{
	(void)arg;
	if (gro_n < 8 && len <= sizeof(gro_out[0].p)) {
		gro_out[gro_n].h = *h;
		memcpy(gro_out[gro_n].p, pkt, len);
		gro_out[gro_n++].len = len;
	}
}

static void test_gro_flow(int v6)
{
	static uint8_t super[70000], seg[4][2000], back[4][2000];
	uint8_t *out[4] = { seg[0], seg[1], seg[2], seg[3] };
	uint8_t *outb[4] = { back[0], back[1], back[2], back[3] };
	size_t lens[4], lensb[4], ihl = v6 ? 40 : 20;
	struct virtio_net_hdr h = {
		.gso_type = v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4,
		.gso_size = 1000,
	};
	size_t len = make_super(super, v6, 3001);
	struct dv_gro g;

	super[ihl + 13] = 0x10; /* ACK only: a bulk-data run */
	T_CHECK(dv_tun_gso_split(&h, super, len, 0, out, lens, 4, sizeof(seg[0])) == 0);
	T_CHECK(dv_gro_init(&g, gro_capture, NULL) == 0);
	gro_n = 0;
	for (int i = 0; i < 4; i++)
		dv_gro_add(&g, seg[i], lens[i]);
	T_CHECK(gro_n == 0); /* held until the end of the batch */
	dv_gro_flush(&g);
	T_CHECK(gro_n == 1);
	T_CHECK(gro_out[0].len == len);
	T_CHECK(gro_out[0].h.gso_type == h.gso_type && gro_out[0].h.gso_size == 1000);
	T_CHECK(gro_out[0].h.flags == VIRTIO_NET_HDR_F_NEEDS_CSUM);
	T_CHECK(gro_out[0].h.csum_start == ihl && gro_out[0].h.csum_offset == 16);
	T_EQ_MEM(gro_out[0].p + ihl + 20, super + ihl + 20, 3001);
	/* What the kernel's TSO would do with it: the original segments. */
	T_CHECK(dv_tun_gso_split(&gro_out[0].h, gro_out[0].p, gro_out[0].len, 0, outb, lensb,
				 4, sizeof(back[0])) == 0);
	for (int i = 0; i < 4; i++) {
		T_CHECK(lensb[i] == lens[i]);
		T_EQ_MEM(back[i] + ihl + 4, seg[i] + ihl + 4, lens[i] - ihl - 4);
		T_CHECK(tcp_ok(back[i], lensb[i]));
	}

	/* A gap in the sequence numbers starts a new run; a FIN segment of
	 * the flow goes after the run before it; UDP goes straight through. */
	gro_n = 0;
	dv_gro_add(&g, seg[0], lens[0]);
	dv_gro_add(&g, seg[2], lens[2]);
	T_CHECK(gro_n == 1 && gro_out[0].len == lens[0]);
	seg[3][ihl + 13] |= 0x01; /* FIN */
	dv_gro_add(&g, seg[3], lens[3]);
	T_CHECK(gro_n == 3 && gro_out[1].len == lens[2] && gro_out[2].len == lens[3]);
	seg[3][ihl + 13] &= (uint8_t)~0x01;
	seg[1][v6 ? 6 : 9] = 17; /* now "UDP" */
	dv_gro_add(&g, seg[1], lens[1]);
	T_CHECK(gro_n == 4 && gro_out[3].h.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	dv_gro_flush(&g);
	T_CHECK(gro_n == 4);
	dv_gro_free(&g);
}

/* An IPv6 TCP packet longer than a run's buffer (payload length up to
 * 65535 plus the 40-byte header) passes through whole instead of being
 * copied into a run: it overflowed the run buffer (seen under ASan
 * through tests/fuzz/fuzz_tun_gro.c, seed v6-oversize). */
static void test_gro_oversize(void)
{
	static uint8_t big[65536 + 40];
	size_t len = make_super(big, 1, 65535 - 20);
	struct dv_gro g;

	big[40 + 13] = 0x10; /* ACK only: joinable but for its size */
	T_CHECK(len == 65575);
	T_CHECK(dv_gro_init(&g, gro_capture, NULL) == 0);
	gro_n = 0;
	dv_gro_add(&g, big, len);
	dv_gro_flush(&g);
	T_CHECK(gro_n == 1 && gro_out[0].len == len);
	T_CHECK(gro_out[0].h.gso_type == VIRTIO_NET_HDR_GSO_NONE);
	T_EQ_MEM(gro_out[0].p, big, len);
	dv_gro_free(&g);
}

static void test_gro(void)
{
	test_gro_flow(0);
	test_gro_flow(1);
	test_gro_oversize();
}

/* The run directories are created 0755, and refused when they are a
 * symbolic link, not a directory, or writable by group or others. */
static void test_rundir(void)
{
	char base[] = "/tmp/dv-rundir-XXXXXX", d[64], l[64], f[64], err[256];
	struct stat st;

	T_CHECK(mkdtemp(base) != NULL);
	snprintf(d, sizeof(d), "%s/run", base);
	snprintf(l, sizeof(l), "%s/link", base);
	snprintf(f, sizeof(f), "%s/file", base);
	T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) == 0);
	T_CHECK(stat(d, &st) == 0 && S_ISDIR(st.st_mode) &&
		!(st.st_mode & 022));
	T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) == 0); /* exists: fine */
	T_CHECK(symlink(d, l) == 0);
	T_CHECK(dv_rundir_prepare(l, err, sizeof(err)) < 0 && strstr(err, "symbolic link"));
	T_CHECK(chmod(d, 0777) == 0);
	T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) < 0 && strstr(err, "writable"));
	T_CHECK(chmod(d, 0775) == 0);
	T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) < 0 && strstr(err, "writable"));
	T_CHECK(chmod(d, 0700) == 0);
	T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) == 0);
	if (geteuid() == 0) {
		T_CHECK(chown(d, 65534, 65534) == 0);
		T_CHECK(dv_rundir_prepare(d, err, sizeof(err)) < 0 && strstr(err, "owned by"));
	}
	T_CHECK(close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0);
	T_CHECK(dv_rundir_prepare(f, err, sizeof(err)) < 0);
	unlink(f);
	unlink(l);
	rmdir(d);
	rmdir(base);
}

int main(void)
{
	T_RUN(test_covers);
	T_RUN(test_paths);
	T_RUN(test_config_locate);
	T_RUN(test_udp);
	T_RUN(test_udp_steering);
	T_RUN(test_udp_no_steering);
	T_RUN(test_gso);
	T_RUN(test_gro);
	T_RUN(test_ctlsock);
	T_RUN(test_rundir);
	return t_done();
}
