#include "platform/ctlsock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "platform/log.h"
#include "util/wipe.h"

/* Bytes read from one client per wake-up, so one client cannot hold the
 * loop for long (the level-triggered loop comes back for the rest). */
#define CTL_READ_BUDGET (64u << 10)

static const char ctl_einval[] = "errno=22\n\n";

struct dv_ctl_conn {
	struct dv_ev ev;
	struct dv_ctl *ctl;
	unsigned slot;
	char *in;
	size_t in_len, in_cap, scanned;
	char *out;
	size_t out_len, out_off;
	uint64_t active_ns; /* CLOCK_MONOTONIC of the last byte in or out */
	int eof;     /* the client closed its side */
	int closing; /* close once the output is written */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_close(struct dv_ctl_conn *c)
{
	dv_ev_del(c->ctl->epfd, &c->ev);
	close(c->ev.fd);
	c->ctl->conns[c->slot] = NULL;
	/* Requests carry private_key= and preshared_key= lines, get=1
	 * responses the private key: both buffers are wiped. */
	dv_wipe_free(c->in, c->in_cap);
	dv_wipe_free(c->out, c->out_len);
	free(c);
}

/* Writes pending output. Returns 1 when all is written, 0 when the socket
 * is full, -1 when the connection died. */
static int conn_flush(struct dv_ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->ev.fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		c->out_off += (size_t)n;
		c->active_ns = mono_ns();
	}
	dv_wipe_free(c->out, c->out_len);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 1;
}

/* Length of the first complete request in the input (through its blank
 * line), or 0 if none yet. */
static size_t conn_request_len(struct dv_ctl_conn *c)
{
	size_t i = c->scanned ? c->scanned - 1 : 0;

	if (c->in_len && c->in[0] == '\n')
		return 1; /* a blank line alone: an empty request */
	for (; i + 1 < c->in_len; i++)
		if (c->in[i] == '\n' && c->in[i + 1] == '\n')
			return i + 2;
	c->scanned = c->in_len;
	return 0;
}

static int conn_append(struct dv_ctl_conn *c, const char *s, size_t n)
{
	char *p = dv_wipe_realloc(c->out, c->out_len, c->out_len + n);

	if (!p)
		return -1;
	memcpy(p + c->out_len, s, n);
	c->out = p;
	c->out_len += n;
	return 0;
}

/* Answers the buffered requests one at a time, each response written
 * before the next request is looked at, so a client that sends without
 * reading holds at most one response in memory. */
static void conn_process(struct dv_ctl_conn *c)
{
	for (;;) {
		size_t len;
		int r = conn_flush(c);

		if (r < 0)
			goto close;
		if (r == 0) {
			if (dv_ev_mod(c->ctl->epfd, &c->ev, EPOLLOUT) < 0)
				goto close;
			return;
		}
		if (c->closing)
			goto close;
		len = conn_request_len(c);
		if (len) {
			if (c->ctl->handler(c->ctl->arg, c->in, len, &c->out,
					    &c->out_len) < 0)
				goto close;
			memmove(c->in, c->in + len, c->in_len - len);
			c->in_len -= len;
			ct_wipe(c->in + c->in_len, len); /* the request answered */
			c->scanned = 0;
			continue;
		}
		if (c->eof)
			goto close;
		if (c->in_len < DV_CTL_MAX_REQUEST)
			break;
		/* Too long to be a request of ours: refuse, then hang up. */
		c->closing = 1;
		if (conn_append(c, ctl_einval, sizeof(ctl_einval) - 1) < 0)
			goto close;
	}
	if (dv_ev_mod(c->ctl->epfd, &c->ev, EPOLLIN) < 0)
		goto close;
	return;
close:
	conn_close(c);
}

static void conn_event(struct dv_ev *ev, uint32_t events)
{
	struct dv_ctl_conn *c = (struct dv_ctl_conn *)ev;
	size_t budget = CTL_READ_BUDGET;

	if (events & EPOLLERR) {
		conn_close(c);
		return;
	}
	while ((events & (EPOLLIN | EPOLLHUP)) && !c->eof && budget &&
	       c->in_len < DV_CTL_MAX_REQUEST) {
		size_t want;
		ssize_t n;

		if (c->in_len == c->in_cap) {
			size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
			char *p;

			if (cap > DV_CTL_MAX_REQUEST)
				cap = DV_CTL_MAX_REQUEST;
			p = dv_wipe_realloc(c->in, c->in_cap, cap);
			if (!p) {
				conn_close(c);
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		want = c->in_cap - c->in_len;
		if (want > budget)
			want = budget;
		n = recv(c->ev.fd, c->in + c->in_len, want, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* The client is done sending: answer the requests
			 * already complete, then close. */
			c->eof = 1;
			break;
		}
		c->in_len += (size_t)n;
		budget -= (size_t)n;
		c->active_ns = mono_ns();
	}
	conn_process(c);
}

static void ctl_accept(struct dv_ev *ev, uint32_t events)
{
	struct dv_ctl *ctl = (struct dv_ctl *)ev;

	for (;;) {
		int fd = accept4(ctl->ev.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct dv_ctl_conn *c = NULL;
		unsigned slot;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of fds: the loop retries */
		}
		for (slot = 0; slot < DV_CTL_MAX_CONNS; slot++)
			if (!ctl->conns[slot])
				break;
		if (slot < DV_CTL_MAX_CONNS)
			c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd); /* too many clients at once */
			continue;
		}
		c->ev.fd = fd;
		c->ev.fn = conn_event;
		c->ctl = ctl;
		c->slot = slot;
		c->active_ns = mono_ns();
		if (dv_ev_add(ctl->epfd, &c->ev, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		ctl->conns[slot] = c;
	}
}

/* 1 if some process accepts connections on path. */
static int ctl_path_live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int live;

	if (fd < 0)
		return 0;
	live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return live;
}

int dv_ctl_open(struct dv_ctl *c, const char *iface, int epfd,
		dv_ctl_handler handler, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->ev.fd = -1;
	c->epfd = epfd;
	c->handler = handler;
	c->arg = arg;
	if (dv_path_sock(c->path, sizeof(c->path), iface) < 0) {
		snprintf(err, errlen, "control socket: bad interface name '%s'", iface);
		return -1;
	}
	if (dv_rundir_prepare(DV_SOCK_DIR, err, errlen) < 0) {
		size_t n = strlen(err);
		static const char pre[] = "control socket: ";

		if (n + sizeof(pre) <= errlen) {
			memmove(err + sizeof(pre) - 1, err, n + 1);
			memcpy(err, pre, sizeof(pre) - 1);
		}
		goto fail;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	if (ctl_path_live(&sa)) {
		snprintf(err, errlen, "control socket %s is served by another process "
			 "(is %s already up, maybe in another network namespace?)",
			 c->path, iface);
		goto fail;
	}
	unlink(c->path); /* stale: its daemon died without cleaning up */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		goto fail;
	}
	c->ev.fd = fd;
	c->ev.fn = ctl_accept;
	/* The socket hands out the private key (get=1): owner only, from the
	 * moment it exists. */
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old_mask);
	if (r < 0) {
		snprintf(err, errlen, "control socket: bind %s: %s", c->path, strerror(errno));
		close(fd);
		c->ev.fd = -1;
		goto fail;
	}
	if (listen(fd, 16) < 0 || dv_ev_add(epfd, &c->ev, EPOLLIN) < 0) {
		snprintf(err, errlen, "control socket: listen %s: %s", c->path, strerror(errno));
		dv_ctl_close(c);
		return -1;
	}
	return 0;
fail:
	c->path[0] = 0;
	return -1;
}

unsigned dv_ctl_expire(struct dv_ctl *c, uint64_t now_ns)
{
	unsigned closed = 0;

	for (unsigned i = 0; i < DV_CTL_MAX_CONNS; i++) {
		struct dv_ctl_conn *k = c->conns[i];

		if (k && now_ns - k->active_ns >= (uint64_t)DV_CTL_IDLE_SEC * 1000000000ull) {
			conn_close(k);
			closed++;
		}
	}
	return closed;
}

void dv_ctl_close(struct dv_ctl *c)
{
	for (unsigned i = 0; i < DV_CTL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_close(c->conns[i]);
	if (c->ev.fd >= 0) {
		dv_ev_del(c->epfd, &c->ev);
		close(c->ev.fd);
		c->ev.fd = -1;
		if (c->path[0])
			unlink(c->path);
	}
	c->path[0] = 0;
}
