#include "platform/ifconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config/config.h"
#include "platform/log.h"

int dv_cidr_covers(const struct dv_cidr *outer, const struct dv_cidr *inner)
{
	unsigned bits = outer->prefix;

	if (outer->family != inner->family || inner->prefix < outer->prefix)
		return 0;
	for (unsigned i = 0; i < bits / 8; i++)
		if (outer->addr[i] != inner->addr[i])
			return 0;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xff00u >> (bits % 8));

		if ((outer->addr[bits / 8] ^ inner->addr[bits / 8]) & mask)
			return 0;
	}
	return 1;
}

int dv_cidr_equal(const struct dv_cidr *a, const struct dv_cidr *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16);
}

static int find(const struct dv_cidr *set, size_t n, const struct dv_cidr *c)
{
	for (size_t i = 0; i < n; i++)
		if (dv_cidr_equal(&set[i], c))
			return (int)i;
	return -1;
}

/* Appends c to *set (n entries, grown one by one: these lists are short). */
static int push(struct dv_cidr **set, size_t *n, const struct dv_cidr *c)
{
	struct dv_cidr *ns = realloc(*set, (*n + 1) * sizeof(**set));

	if (!ns)
		return -1;
	ns[(*n)++] = *c;
	*set = ns;
	return 0;
}

static void drop(struct dv_cidr *set, size_t *n, size_t i)
{
	memmove(&set[i], &set[i + 1], (*n - i - 1) * sizeof(*set));
	(*n)--;
}

static struct dv_cidr network(const struct dv_cidr *c)
{
	struct dv_cidr net;
	unsigned bits = c->family == AF_INET ? 32 : 128;

	memset(&net, 0, sizeof(net));
	net.family = c->family;
	net.prefix = c->prefix;
	memcpy(net.addr, c->addr, bits / 8);
	for (unsigned i = c->prefix; i < bits; i++)
		net.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return net;
}

int dv_ifconfig_routes(const struct dv_config *cfg, struct dv_cidr **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	for (size_t p = 0; p < cfg->n_peers; p++) {
		const struct dv_peer_config *pc = &cfg->peers[p];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			struct dv_cidr r = network(&pc->allowed_ips[j]);
			int covered = 0;

			for (size_t i = 0; i < cfg->n_addresses && !covered; i++)
				covered = dv_cidr_covers(&cfg->addresses[i], &r);
			if (covered)
				continue;
			/* A default route becomes two halves (0/1 and 128/1,
			 * ::/1 and 8000::/1): more specific than the existing
			 * default route, which stays in place for when the
			 * tunnel goes, and which the kernel would otherwise
			 * refuse to duplicate. */
			for (int half = 0; half < (r.prefix ? 1 : 2); half++) {
				struct dv_cidr h = r;

				if (!r.prefix) {
					h.prefix = 1;
					h.addr[0] = half ? 0x80 : 0;
				}
				if (find(*out, *n, &h) >= 0)
					continue;
				if (push(out, n, &h) < 0) {
					free(*out);
					*out = NULL;
					*n = 0;
					return -1;
				}
			}
		}
	}
	return 0;
}

static int endpoint_host(const struct dv_peer_config *pc, struct dv_cidr *host)
{
	memset(host, 0, sizeof(*host));
	if (pc->endpoint_len && pc->endpoint.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&pc->endpoint;

		host->family = AF_INET;
		host->prefix = 32;
		memcpy(host->addr, &s4->sin_addr, 4);
		return 0;
	}
	if (pc->endpoint_len && pc->endpoint.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&pc->endpoint;

		host->family = AF_INET6;
		host->prefix = 128;
		memcpy(host->addr, &s6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

static int covered_by(const struct dv_cidr *routes, size_t n, const struct dv_cidr *host)
{
	for (size_t i = 0; i < n; i++)
		if (dv_cidr_covers(&routes[i], host))
			return 1;
	return 0;
}

/* Pins each endpoint that the routes would capture to the path it has
 * now, keeping the bypass routes already in st that are still wanted.
 * A failure here is logged, not fatal: the tunnel may still work (e.g.
 * the endpoint is reached through a more specific route added by hand).
 * On return st->bypass lists the routes kept and added; those no longer
 * wanted are in *old (n_old), for the caller to delete once the new
 * routes are in. -1 only when memory ran out (st unchanged). */
static int update_bypass(struct dv_ifconfig *st, const struct dv_config *cfg,
			 const struct dv_cidr *routes, size_t n_routes,
			 struct dv_cidr **old, struct dv_nl_hop **old_hop, size_t *n_old)
{
	size_t cap = cfg->n_peers + 1, n = 0;
	struct dv_cidr *nb = calloc(cap, sizeof(*nb));
	struct dv_nl_hop *nh = calloc(cap, sizeof(*nh));
	char err[256], text[DV_CIDR_STRLEN];

	if (!nb || !nh) {
		free(nb);
		free(nh);
		return -1;
	}
	for (size_t p = 0; p < cfg->n_peers; p++) {
		struct dv_cidr host;
		struct dv_nl_hop hop;
		int k;

		if (endpoint_host(&cfg->peers[p], &host) < 0 ||
		    !covered_by(routes, n_routes, &host) || find(nb, n, &host) >= 0)
			continue;
		k = find(st->bypass, st->n_bypass, &host);
		if (k >= 0) { /* already pinned: keep it */
			nb[n] = host;
			nh[n++] = st->bypass_hop[k];
			memmove(&st->bypass_hop[k], &st->bypass_hop[k + 1],
				(st->n_bypass - (size_t)k - 1) * sizeof(*nh));
			drop(st->bypass, &st->n_bypass, (size_t)k);
			continue;
		}
		dv_cidr_format(&host, text, sizeof(text));
		if (dv_nl_get_route(st->nl, &host, &hop) < 0 || hop.oif == st->ifindex) {
			dv_log(LOG_WARNING, "endpoint %s is captured by the tunnel's routes "
			       "and has no other route: its packets would loop", text);
			continue;
		}
		if (dv_nl_host_route(st->nl, 1, &host, &hop, err, sizeof(err)) < 0) {
			if (errno != EEXIST) /* EEXIST: a host route is already there */
				dv_log(LOG_WARNING, "%s", err);
			continue;
		}
		dv_log(LOG_INFO, "endpoint %s kept off the tunnel by a host route", text);
		nb[n] = host;
		nh[n++] = hop;
	}
	*old = st->bypass;
	*old_hop = st->bypass_hop;
	*n_old = st->n_bypass;
	st->bypass = nb;
	st->bypass_hop = nh;
	st->n_bypass = n;
	return 0;
}

static void del_bypass(struct dv_ifconfig *st, struct dv_cidr *b, struct dv_nl_hop *hop,
		       size_t n)
{
	char err[256];

	for (size_t i = 0; i < n; i++)
		if (dv_nl_host_route(st->nl, 0, &b[i], &hop[i], err, sizeof(err)) < 0 &&
		    errno != ESRCH)
			dv_log(LOG_WARNING, "%s", err);
	free(b);
	free(hop);
}

void dv_ifconfig_undo(struct dv_ifconfig *st)
{
	if (st->nl)
		del_bypass(st, st->bypass, st->bypass_hop, st->n_bypass);
	else {
		free(st->bypass);
		free(st->bypass_hop);
	}
	free(st->addrs);
	free(st->routes);
	st->bypass = NULL;
	st->bypass_hop = NULL;
	st->addrs = st->routes = NULL;
	st->n_bypass = st->n_addrs = st->n_routes = 0;
}

static int oom(char *err, size_t errlen)
{
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int set_mtu(struct dv_ifconfig *st, unsigned mtu, struct dv_ifconfig_delta *d,
		   char *err, size_t errlen)
{
	if (dv_nl_set_mtu(st->nl, st->ifindex, st->ifname, mtu, err, errlen) < 0)
		return -1;
	st->mtu = mtu;
	d->mtu_changed = 1;
	return 0;
}

int dv_ifconfig_update(struct dv_ifconfig *st, const struct dv_config *cfg,
		       struct dv_ifconfig_delta *delta, char *err, size_t errlen)
{
	struct dv_ifconfig_delta scratch;
	struct dv_cidr *routes, *old_bypass = NULL;
	struct dv_nl_hop *old_hop = NULL;
	size_t n_routes, n_old = 0;
	int r = -1;

	if (!delta)
		delta = &scratch;
	memset(delta, 0, sizeof(*delta));
	if (dv_ifconfig_routes(cfg, &routes, &n_routes) < 0)
		return oom(err, errlen);
	if (cfg->mtu > st->mtu && set_mtu(st, cfg->mtu, delta, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		if (find(st->addrs, st->n_addrs, &cfg->addresses[i]) >= 0)
			continue;
		if (dv_nl_add_addr(st->nl, st->ifindex, st->ifname, &cfg->addresses[i],
				   err, errlen) < 0)
			goto out;
		if (push(&st->addrs, &st->n_addrs, &cfg->addresses[i]) < 0) {
			oom(err, errlen);
			goto out;
		}
		delta->addrs_added++;
	}
	/* Before any new route: an endpoint is pinned while its path is
	 * still the one it had without the tunnel. */
	if (update_bypass(st, cfg, routes, n_routes, &old_bypass, &old_hop, &n_old) < 0) {
		oom(err, errlen);
		goto out;
	}
	for (size_t i = 0; i < n_routes; i++) {
		if (find(st->routes, st->n_routes, &routes[i]) >= 0)
			continue;
		if (dv_nl_add_route(st->nl, st->ifindex, st->ifname, &routes[i], err,
				    errlen) < 0)
			goto out;
		if (push(&st->routes, &st->n_routes, &routes[i]) < 0) {
			oom(err, errlen);
			goto out;
		}
		delta->routes_added++;
	}
	for (size_t i = st->n_routes; i-- > 0;) {
		if (find(routes, n_routes, &st->routes[i]) >= 0)
			continue;
		/* ESRCH: gone already (deleted by hand, or with an address). */
		if (dv_nl_del_route(st->nl, st->ifindex, st->ifname, &st->routes[i], err,
				    errlen) < 0 && errno != ESRCH)
			goto out;
		drop(st->routes, &st->n_routes, i);
		delta->routes_removed++;
	}
	del_bypass(st, old_bypass, old_hop, n_old);
	old_bypass = NULL;
	old_hop = NULL;
	n_old = 0;
	for (size_t i = st->n_addrs; i-- > 0;) {
		int keep = 0;

		for (size_t j = 0; j < cfg->n_addresses && !keep; j++)
			keep = dv_cidr_equal(&cfg->addresses[j], &st->addrs[i]);
		if (keep)
			continue;
		if (dv_nl_del_addr(st->nl, st->ifindex, st->ifname, &st->addrs[i], err,
				   errlen) < 0 && errno != EADDRNOTAVAIL)
			goto out;
		drop(st->addrs, &st->n_addrs, i);
		delta->addrs_removed++;
	}
	if (cfg->mtu < st->mtu && set_mtu(st, cfg->mtu, delta, err, errlen) < 0)
		goto out;
	r = 0;
out:
	if (n_old) {
		/* Failed before the old bypass routes could go: keep them
		 * recorded, for the next update or dv_ifconfig_undo. */
		for (size_t i = 0; i < n_old; i++) {
			struct dv_cidr *nb = realloc(st->bypass, (st->n_bypass + 1) *
							sizeof(*nb));
			struct dv_nl_hop *nh = nb ? realloc(st->bypass_hop,
							   (st->n_bypass + 1) *
								   sizeof(*nh))
						  : NULL;

			if (nb)
				st->bypass = nb;
			if (!nb || !nh) {
				dv_log(LOG_WARNING, "out of memory: a bypass route "
				       "is left behind");
				continue;
			}
			st->bypass_hop = nh;
			st->bypass[st->n_bypass] = old_bypass[i];
			st->bypass_hop[st->n_bypass++] = old_hop[i];
		}
	}
	if (old_bypass || old_hop) {
		free(old_bypass);
		free(old_hop);
	}
	free(routes);
	return r;
}

int dv_ifconfig_apply(struct dv_ifconfig *st, struct dv_nl *nl, unsigned ifindex,
		      const char *ifname, const struct dv_config *cfg, char *err,
		      size_t errlen)
{
	struct dv_ifconfig_delta d;

	memset(st, 0, sizeof(*st));
	st->nl = nl;
	st->ifindex = ifindex;
	snprintf(st->ifname, sizeof(st->ifname), "%s", ifname);
	if (set_mtu(st, cfg->mtu, &d, err, errlen) < 0)
		return -1;
	/* Routes through a link that is down are refused (IPv4): the link
	 * goes up before update adds addresses and routes. */
	if (dv_nl_set_up(nl, ifindex, ifname, err, errlen) < 0)
		return -1;
	return dv_ifconfig_update(st, cfg, &d, err, errlen);
}
