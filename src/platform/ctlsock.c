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
/* The input buffer starts small and grows, up to this, only while a line
 * does not fit: memory follows what the client sends. */
#define CTL_IN_MAX (DV_CTL_MAX_LINE + 4096)

static const char ctl_einval[] = "errno=22\n\n";

struct dv_ctl_conn {
	struct dv_ev ev;
	struct dv_ctl *ctl;
	unsigned slot;
	void *req;      /* the handler's state, made on the first line */
	char *in;       /* unprocessed input: in[in_off, in_len) */
	size_t in_off, in_len, in_cap;
	char *out;
	size_t out_len, out_off;
	uint64_t active_ns; /* CLOCK_MONOTONIC of the last byte in or out */
	int responding; /* a request is complete: its response is being made */
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
	if (c->req)
		c->ctl->ops->req_free(c->req);
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

/* Hands the buffered lines to the handler and writes the responses, each
 * written before the next request is looked at (and a get response a part
 * at a time, as the client takes it), so a client that sends without
 * reading holds at most one part of a response in memory. Returns 1 to
 * wait for input, 0 to wait for output, -1 to close. */
static int conn_run(struct dv_ctl_conn *c)
{
	const struct dv_ctl_ops *ops = c->ctl->ops;

	for (;;) {
		char *nl;
		size_t ll;
		int r = conn_flush(c);

		if (r <= 0)
			return r < 0 ? -1 : 0;
		if (c->closing)
			return -1;
		if (c->responding) {
			r = ops->req_output(c->req, &c->out, &c->out_len);
			if (r < 0)
				return -1;
			c->responding = r;
			continue;
		}
		nl = memchr(c->in + c->in_off, '\n', c->in_len - c->in_off);
		if (nl) {
			ll = (size_t)(nl - (c->in + c->in_off));
			if (!c->req && !(c->req = ops->req_new(c->ctl->arg)))
				return -1;
			r = ops->req_line(c->req, c->in + c->in_off, ll);
			/* The line is handled: wipe it (keys pass here). */
			ct_wipe(c->in + c->in_off, ll + 1);
			c->in_off += ll + 1;
			if (r < 0)
				return -1;
			c->responding = r;
			continue;
		}
		if (c->eof)
			return -1; /* the last request is answered */
		if (c->in_len - c->in_off <= DV_CTL_MAX_LINE)
			return 1;
		/* Too long to be a line of ours: refuse, then hang up. */
		c->closing = 1;
		if (conn_append(c, ctl_einval, sizeof(ctl_einval) - 1) < 0)
			return -1;
	}
}

/* Waits for what conn_run said (r), or closes. */
static void conn_wait(struct dv_ctl_conn *c, int r)
{
	if (r < 0 ||
	    dv_ev_mod(c->ctl->epfd, &c->ev, r ? EPOLLIN : EPOLLOUT) < 0)
		conn_close(c);
}

/* Room for more input: the handled lines are dropped (the rest moves to
 * the front) and the buffer grows while a line does not fit. 0, or -1
 * when memory ran out. */
static int conn_in_room(struct dv_ctl_conn *c)
{
	size_t rest = c->in_len - c->in_off;

	if (c->in_off) {
		memmove(c->in, c->in + c->in_off, rest);
		ct_wipe(c->in + rest, c->in_len - rest);
		c->in_off = 0;
		c->in_len = rest;
	}
	if (c->in_len == c->in_cap && c->in_cap < CTL_IN_MAX) {
		size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
		char *p;

		if (cap > CTL_IN_MAX)
			cap = CTL_IN_MAX;
		p = dv_wipe_realloc(c->in, c->in_cap, cap);
		if (!p)
			return -1;
		c->in = p;
		c->in_cap = cap;
	}
	return 0;
}

static void conn_event(struct dv_ev *ev, uint32_t events)
{
	struct dv_ctl_conn *c = (struct dv_ctl_conn *)ev;
	size_t budget = CTL_READ_BUDGET;
	int r;

	if (events & EPOLLERR) {
		conn_close(c);
		return;
	}
	/* Input is read only while no response is pending, so a client
	 * that does not read its responses stops being read. */
	while ((events & (EPOLLIN | EPOLLHUP)) && !c->eof && budget &&
	       !c->responding && !c->out_len && !c->closing) {
		size_t want;
		ssize_t n;

		if (conn_in_room(c) < 0) {
			conn_close(c);
			return;
		}
		want = c->in_cap - c->in_len;
		if (want == 0)
			break; /* a line too long: conn_run refuses it */
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
		/* Hand over the complete lines before reading on, so the
		 * buffer holds at most a partial line. */
		r = conn_run(c);
		if (r != 1) {
			conn_wait(c, r);
			return;
		}
	}
	conn_wait(c, conn_run(c));
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

int dv_ctl_remove_stale(const char *iface)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[DV_PATH_MAX];
	struct stat st;

	if (dv_path_sock(path, sizeof(path), iface) < 0 || lstat(path, &st) < 0 ||
	    !S_ISSOCK(st.st_mode))
		return 0;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (ctl_path_live(&sa))
		return 0;
	return unlink(path) == 0;
}

int dv_ctl_open(struct dv_ctl *c, const char *iface, int epfd,
		const struct dv_ctl_ops *ops, void *arg, char *err,
		size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int fd, r;

	memset(c, 0, sizeof(*c));
	c->ev.fd = -1;
	c->epfd = epfd;
	c->ops = ops;
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
