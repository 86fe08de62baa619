#include "platform/reresolve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/addr.h"
#include "config/config.h"
#include "device/device.h"
#include "platform/log.h"

/* Shared by the loop and the helper thread; the last of the two to let
 * go frees it (and closes the eventfd), so neither waits for the other. */
struct dv_rr_job {
	atomic_int refs;
	int efd;
	size_t peer;
	char endpoint[300];
	struct sockaddr_storage ss;
	socklen_t sslen;
	int ok;
	char why[160];
};

static void job_put(struct dv_rr_job *j)
{
	if (atomic_fetch_sub(&j->refs, 1) == 1) {
		close(j->efd);
		free(j);
	}
}

static void *worker(void *arg)
{
	struct dv_rr_job *j = arg;
	uint64_t one = 1;

	j->ok = dv_endpoint_parse(j->endpoint, 0, &j->ss, &j->sslen, j->why,
				  sizeof(j->why)) == 0 && j->sslen > 0;
	if (write(j->efd, &one, sizeof(one)) < 0) {
		/* Nothing to do: the loop may be gone already. */
	}
	job_put(j);
	return NULL;
}

static void on_done(struct dv_ev *ev, uint32_t events)
{
	struct dv_reresolve *rr = DV_CONTAINER_OF(ev, struct dv_reresolve, ev);
	struct dv_rr_job *j = rr->job;
	struct dv_rr_peer *p;
	uint64_t v;

	if (!j || read(ev->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	p = &rr->peers[j->peer];
	dv_ev_del(rr->epfd, &rr->ev);
	rr->job = NULL;
	if (!j->ok) {
		dv_log(LOG_WARNING, "re-resolving endpoint %s: %s", p->endpoint, j->why);
	} else if (dv_device_peer_set_endpoint(rr->dev, p->pub, (struct sockaddr *)&j->ss,
					       j->sslen) == 1) {
		rr->changes++;
		dv_log(LOG_INFO, "endpoint %s resolved to a new address", p->endpoint);
	}
	job_put(j);
}

int dv_reresolve_init(struct dv_reresolve *rr, struct dv_device *dev, int epfd,
		      const struct dv_config *cfg)
{
	memset(rr, 0, sizeof(*rr));
	rr->dev = dev;
	rr->epfd = epfd;
	rr->ev.fd = -1;
	rr->ev.fn = on_done;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct dv_peer_config *pc = &cfg->peers[i];
		struct sockaddr_storage ss;
		socklen_t len;
		char why[160];
		struct dv_rr_peer *np;

		/* A numeric endpoint parses without DNS; a name gives len 0. */
		if (!pc->has_endpoint || !pc->reresolve ||
		    dv_endpoint_parse(pc->endpoint_str, 1, &ss, &len, why, sizeof(why)) < 0 ||
		    len)
			continue;
		np = realloc(rr->peers, (rr->n_peers + 1) * sizeof(*np));
		if (!np)
			return -1;
		rr->peers = np;
		np = &rr->peers[rr->n_peers++];
		memset(np, 0, sizeof(*np));
		memcpy(np->pub, pc->public_key, sizeof(np->pub));
		/* The string only: the config allocates it to its length. */
		memcpy(np->endpoint, pc->endpoint_str,
		       strnlen(pc->endpoint_str, sizeof(np->endpoint) - 1));
	}
	return 0;
}

static void start(struct dv_reresolve *rr, size_t i)
{
	struct dv_rr_job *j = calloc(1, sizeof(*j));
	pthread_attr_t attr;
	pthread_t t;

	if (!j)
		return;
	atomic_init(&j->refs, 2);
	j->peer = i;
	memcpy(j->endpoint, rr->peers[i].endpoint, sizeof(j->endpoint));
	j->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->efd < 0) {
		dv_log(LOG_WARNING, "re-resolve: eventfd: %s", strerror(errno));
		free(j);
		return;
	}
	rr->ev.fd = j->efd;
	if (dv_ev_add(rr->epfd, &rr->ev, EPOLLIN) < 0) {
		dv_log(LOG_WARNING, "re-resolve: epoll: %s", strerror(errno));
		close(j->efd);
		free(j);
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker, j) != 0) {
		dv_log(LOG_WARNING, "re-resolve: cannot start a thread");
		dv_ev_del(rr->epfd, &rr->ev);
		close(j->efd);
		free(j);
		pthread_attr_destroy(&attr);
		return;
	}
	pthread_attr_destroy(&attr);
	rr->job = j;
	rr->lookups++;
	dv_log(LOG_INFO, "handshakes with %s keep failing: resolving it again",
	       rr->peers[i].endpoint);
}

void dv_reresolve_tick(struct dv_reresolve *rr, uint64_t now_ns)
{
	const uint64_t interval = DV_RERESOLVE_INTERVAL_SEC * 1000000000ull;

	if (rr->job)
		return;
	for (size_t i = 0; i < rr->n_peers; i++) {
		struct dv_rr_peer *p = &rr->peers[i];

		if (p->last_ns && now_ns - p->last_ns < interval)
			continue;
		if (dv_device_peer_attempts(rr->dev, p->pub) < DV_RERESOLVE_ATTEMPTS)
			continue;
		p->last_ns = now_ns;
		start(rr, i);
		return;
	}
}

void dv_reresolve_free(struct dv_reresolve *rr)
{
	if (rr->job) {
		dv_ev_del(rr->epfd, &rr->ev);
		job_put(rr->job);
	}
	free(rr->peers);
	memset(rr, 0, sizeof(*rr));
}
