/* Platform pieces that run without the device: prefix coverage for
 * routes, paths, the batched UDP socket over loopback (v4-mapped sources
 * come back as sockaddr_in, a pqonly-sized datagram goes as one), and the
 * control socket's framing (several requests per connection, the 1 MiB
 * bound). The control-socket test needs root for /var/run/wireguard. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/ctlsock.h"
#include "platform/ifconfig.h"
#include "platform/paths.h"
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

/* One received datagram, GRO buffers split by their segment size. */
struct dgram {
	const uint8_t *p;
	size_t len;
	struct sockaddr_storage from;
	socklen_t fromlen;
};

/* Receives until want datagrams (or 2 s); returns how many. */
static unsigned recv_wait(struct dv_udp *u, struct dgram *out, unsigned want)
{
	unsigned got = 0;

	for (int i = 0; i < 100 && got < want; i++) {
		struct pollfd p = { .fd = u->fd, .events = POLLIN };
		unsigned n;

		poll(&p, 1, 20);
		n = dv_udp_recv(u);
		for (unsigned j = 0; j < n; j++)
			for (size_t off = 0; off < u->rx[j].len && got < want; off += u->rx[j].seg) {
				out[got].p = u->rx[j].buf + off;
				out[got].len = u->rx[j].len - off < u->rx[j].seg
						       ? u->rx[j].len - off : u->rx[j].seg;
				out[got].from = u->rx[j].from;
				out[got].fromlen = u->rx[j].fromlen;
				got++;
			}
	}
	return got;
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

	T_CHECK(dv_udp_rebind(&b, 0) == 0 && b.fd >= 0);
	dv_udp_close(&a);
	dv_udp_close(&b);
}

static int echo_handler(void *arg, const char *req, size_t len, char **out, size_t *outlen)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "len=%zu\nerrno=0\n\n", len);
	char *p = realloc(*out, *outlen + (size_t)n);

	(void)arg;
	(void)req;
	if (!p)
		return -1;
	memcpy(p + *outlen, line, (size_t)n);
	*out = p;
	*outlen += (size_t)n;
	return 0;
}

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
	T_CHECK(dv_ctl_open(&ctl, iface, epfd, echo_handler, NULL, err, sizeof(err)) == 0);
	T_CHECK(stat(ctl.path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		(st.st_mode & 0777) == 0600);
	memcpy(sa.sun_path, ctl.path, strlen(ctl.path) + 1);

	/* A second server on the same name is refused while this one lives. */
	{
		struct dv_ctl other;

		T_CHECK(dv_ctl_open(&other, iface, epfd, echo_handler, NULL, err,
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

	/* More than 1 MiB without a blank line: errno=22, then closed. */
	huge = malloc(DV_CTL_MAX_REQUEST + 16);
	memset(huge, 'a', DV_CTL_MAX_REQUEST + 16);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	T_CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	{
		size_t off = 0;
		int closed = 0;

		got = 0;
		for (int i = 0; i < 2000 && !closed; i++) {
			ssize_t r;

			if (off < DV_CTL_MAX_REQUEST + 16) {
				r = send(fd, huge + off, DV_CTL_MAX_REQUEST + 16 - off,
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

	dv_ctl_close(&ctl);
	T_CHECK(access(sa.sun_path, F_OK) < 0 && errno == ENOENT);
	close(epfd);
}

int main(void)
{
	T_RUN(test_covers);
	T_RUN(test_paths);
	T_RUN(test_udp);
	T_RUN(test_ctlsock);
	return t_done();
}
