/* The optional metrics listener (config key metrics_listen, off by
 * default): plain HTTP/1.0 on a TCP address, answering GET /metrics with
 * the Prometheus text of this interface (platform/metrics.h), one request
 * per connection, then close. Hostile clients are bounded: at most
 * DV_MHTTP_MAX_CONNS connections (more are closed at once), a request
 * head of at most DV_MHTTP_MAX_REQUEST bytes (more gets 400), a
 * connection with no progress for DV_MHTTP_IDLE_SEC is closed; every
 * socket is non-blocking, so the data path never waits on a scraper. A
 * malformed request gets 400, a method other than GET or HEAD 405,
 * another path 404, each followed by a close. */
#ifndef DV_PLATFORM_METRICS_HTTP_H
#define DV_PLATFORM_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "platform/event.h"

#define DV_MHTTP_MAX_CONNS 8
#define DV_MHTTP_MAX_REQUEST 2048
#define DV_MHTTP_IDLE_SEC 5

/* Builds the body for GET /metrics: malloc'd text in *out and its length
 * in *outlen; 0, or -1 (the client gets 500). */
typedef int (*dv_mhttp_render)(void *arg, char **out, size_t *outlen);

struct dv_mhttp_conn;

struct dv_mhttp {
	struct dv_ev ev; /* the listening socket; fd -1 when off */
	int epfd;
	dv_mhttp_render render;
	void *arg;
	struct dv_mhttp_conn *conns[DV_MHTTP_MAX_CONNS];
};

/* The answer to a request head of len bytes (any bytes; it need not be
 * NUL-terminated): 200 for GET or HEAD /metrics (with or without a
 * query; *head_only set for HEAD), 404 for another path, 405 for another
 * method, 400 for anything malformed. Pure: no I/O, no allocation. */
int dv_mhttp_classify(const char *req, size_t len, int *head_only);

/* Listens on addr and registers with epfd. 0, or -1 with a message in
 * err. */
int dv_mhttp_open(struct dv_mhttp *h, const struct sockaddr *addr, socklen_t addrlen,
		  int epfd, dv_mhttp_render render, void *arg, char *err, size_t errlen);
/* Closes the connections idle for DV_MHTTP_IDLE_SEC or more at now_ns
 * (CLOCK_MONOTONIC); returns how many. */
unsigned dv_mhttp_expire(struct dv_mhttp *h, uint64_t now_ns);
/* 1 when a connection is open (the caller then wakes at least once a
 * second to expire it). */
int dv_mhttp_busy(const struct dv_mhttp *h);
/* Closes everything; safe on a listener never opened (ev.fd -1). */
void dv_mhttp_close(struct dv_mhttp *h);

#endif
