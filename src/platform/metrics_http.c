#include "platform/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "platform/log.h"

struct dv_mhttp_conn {
	struct dv_ev ev;
	struct dv_mhttp *h;
	unsigned slot;
	char in[DV_MHTTP_MAX_REQUEST];
	size_t in_len;
	char *out; /* the whole response, head and body */
	size_t out_len, out_off;
	uint64_t active_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void conn_close(struct dv_mhttp_conn *c)
{
	dv_ev_del(c->h->epfd, &c->ev);
	close(c->ev.fd);
	c->h->conns[c->slot] = NULL;
	free(c->out);
	free(c);
}

/* The response: status line, head, and body (omitted for HEAD). */
static int respond(struct dv_mhttp_conn *c, int status, const char *reason,
		   const char *type, const char *body, size_t body_len, int head_only)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, reason, type, body_len);

	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -1;
	if (head_only)
		body_len = 0;
	c->out = malloc((size_t)n + body_len);
	if (!c->out)
		return -1;
	memcpy(c->out, hdr, (size_t)n);
	if (body_len)
		memcpy(c->out + n, body, body_len);
	c->out_len = (size_t)n + body_len;
	c->out_off = 0;
	return 0;
}

static int respond_error(struct dv_mhttp_conn *c, int status, const char *reason)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason);

	return respond(c, status, reason, "text/plain; charset=utf-8", body, (size_t)n, 0);
}

/* The end of the request head ("\r\n\r\n" or "\n\n"), or NULL. */
static const char *head_end(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (s[i] == '\n' && s[i + 1] == '\n')
			return s + i + 2;
		if (i + 3 < len && !memcmp(s + i, "\r\n\r\n", 4))
			return s + i + 4;
	}
	return NULL;
}

int dv_mhttp_classify(const char *req, size_t len, int *head_only)
{
	char method[8], target[256], version[16];
	const char *sp1, *sp2, *eol;
	size_t ml, tl, vl;

	*head_only = 0;
	eol = memchr(req, '\n', len);
	if (!eol)
		return 400;
	if (eol > req && eol[-1] == '\r')
		eol--;
	sp1 = memchr(req, ' ', (size_t)(eol - req));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (!sp1 || !sp2)
		return 400;
	ml = (size_t)(sp1 - req);
	tl = (size_t)(sp2 - sp1 - 1);
	vl = (size_t)(eol - sp2 - 1);
	if (!ml || ml >= sizeof(method) || !tl || tl >= sizeof(target) ||
	    vl >= sizeof(version))
		return 400;
	memcpy(method, req, ml);
	method[ml] = 0;
	memcpy(target, sp1 + 1, tl);
	target[tl] = 0;
	memcpy(version, sp2 + 1, vl);
	version[vl] = 0;
	if (vl != 8 || strncmp(version, "HTTP/1.", 7) ||
	    (version[7] != '0' && version[7] != '1') || target[0] != '/' ||
	    strspn(method, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ml)
		return 400;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)target[i] <= ' ' || (unsigned char)target[i] >= 0x7f)
			return 400;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return 405;
	target[strcspn(target, "?")] = 0;
	if (strcmp(target, "/metrics"))
		return 404;
	*head_only = !strcmp(method, "HEAD");
	return 200;
}

/* Answers the complete request head in c->in. */
static int handle(struct dv_mhttp_conn *c)
{
	char *body = NULL;
	size_t body_len = 0;
	int head_only, r;

	switch (dv_mhttp_classify(c->in, c->in_len, &head_only)) {
	case 200:
		break;
	case 404:
		return respond_error(c, 404, "Not Found");
	case 405:
		return respond_error(c, 405, "Method Not Allowed");
	default:
		return respond_error(c, 400, "Bad Request");
	}
	if (c->h->render(c->h->arg, &body, &body_len) < 0)
		return respond_error(c, 500, "Internal Server Error");
	r = respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body, body_len,
		    head_only);
	free(body);
	return r;
}

/* Writes what is pending; 1 when all is out, 0 when the socket is full,
 * -1 when the connection died. */
static int conn_flush(struct dv_mhttp_conn *c)
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
	return 1;
}

static void on_conn(struct dv_ev *ev, uint32_t events)
{
	struct dv_mhttp_conn *c = DV_CONTAINER_OF(ev, struct dv_mhttp_conn, ev);
	int r;

	if (!c->out) {
		/* Reading the request head. */
		for (;;) {
			ssize_t n;

			if (c->in_len == sizeof(c->in)) {
				if (respond_error(c, 400, "Bad Request") < 0)
					goto close;
				break;
			}
			n = recv(ev->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
				 MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				return;
			if (n <= 0)
				goto close; /* gone before a whole request */
			c->in_len += (size_t)n;
			c->active_ns = mono_ns();
			if (head_end(c->in, c->in_len)) {
				if (handle(c) < 0)
					goto close;
				break;
			}
		}
	}
	r = conn_flush(c);
	if (r < 0)
		goto close;
	if (r == 0) {
		if (dv_ev_mod(c->h->epfd, &c->ev, EPOLLOUT) < 0)
			goto close;
		return;
	}
	/* All written: HTTP/1.0, one request per connection. Whatever the
	 * client sent beyond its request is never read; a shutdown first
	 * lets the response reach it before the close. */
	shutdown(ev->fd, SHUT_WR);
close:
	conn_close(c);
}

static void on_listen(struct dv_ev *ev, uint32_t events)
{
	struct dv_mhttp *h = DV_CONTAINER_OF(ev, struct dv_mhttp, ev);

	for (int i = 0; i < 16; i++) {
		struct dv_mhttp_conn *c;
		unsigned slot = 0;
		int fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				dv_log(LOG_WARNING, "metrics: accept: %s", strerror(errno));
			return;
		}
		while (slot < DV_MHTTP_MAX_CONNS && h->conns[slot])
			slot++;
		c = slot < DV_MHTTP_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {
			close(fd); /* full: the scraper retries */
			continue;
		}
		c->ev.fd = fd;
		c->ev.fn = on_conn;
		c->h = h;
		c->slot = slot;
		c->active_ns = mono_ns();
		if (dv_ev_add(h->epfd, &c->ev, EPOLLIN) < 0) {
			close(fd);
			free(c);
			continue;
		}
		h->conns[slot] = c;
	}
}

int dv_mhttp_open(struct dv_mhttp *h, const struct sockaddr *addr, socklen_t addrlen,
		  int epfd, dv_mhttp_render render, void *arg, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	int one = 1;

	memset(h, 0, sizeof(*h));
	h->epfd = epfd;
	h->render = render;
	h->arg = arg;
	h->ev.fn = on_listen;
	if (addr->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)addr;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		port = ntohs(s->sin_port);
	} else if (addr->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)addr;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		port = ntohs(s->sin6_port);
	}
	h->ev.fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->ev.fd < 0 ||
	    setsockopt(h->ev.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (addr->sa_family == AF_INET6 &&
	     setsockopt(h->ev.fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
	    bind(h->ev.fd, addr, addrlen) < 0 || listen(h->ev.fd, 16) < 0 ||
	    dv_ev_add(epfd, &h->ev, EPOLLIN) < 0) {
		snprintf(err, errlen, "metrics_listen %s%s%s:%u: %s",
			 addr->sa_family == AF_INET6 ? "[" : "", host,
			 addr->sa_family == AF_INET6 ? "]" : "", port, strerror(errno));
		if (h->ev.fd >= 0)
			close(h->ev.fd);
		h->ev.fd = -1;
		return -1;
	}
	dv_log(LOG_INFO, "metrics: serving http://%s%s%s:%u/metrics",
	       addr->sa_family == AF_INET6 ? "[" : "", host,
	       addr->sa_family == AF_INET6 ? "]" : "", port);
	return 0;
}

unsigned dv_mhttp_expire(struct dv_mhttp *h, uint64_t now_ns)
{
	unsigned n = 0;

	for (unsigned i = 0; i < DV_MHTTP_MAX_CONNS; i++) {
		struct dv_mhttp_conn *c = h->conns[i];

		if (c && now_ns - c->active_ns >= DV_MHTTP_IDLE_SEC * 1000000000ull) {
			conn_close(c);
			n++;
		}
	}
	return n;
}

int dv_mhttp_busy(const struct dv_mhttp *h)
{
	for (unsigned i = 0; i < DV_MHTTP_MAX_CONNS; i++)
		if (h->conns[i])
			return 1;
	return 0;
}

void dv_mhttp_close(struct dv_mhttp *h)
{
	for (unsigned i = 0; i < DV_MHTTP_MAX_CONNS; i++)
		if (h->conns[i])
			conn_close(h->conns[i]);
	if (h->ev.fd >= 0) {
		dv_ev_del(h->epfd, &h->ev);
		close(h->ev.fd);
	}
	h->ev.fd = -1;
}
