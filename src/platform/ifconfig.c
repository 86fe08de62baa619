#include "platform/ifconfig.h"

#include <errno.h>
#include <netinet/in.h>
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

static int same_route(const struct dv_cidr *a, const struct dv_cidr *b)
{
	return a->prefix == b->prefix && dv_cidr_covers(a, b);
}

/* 1 if the route to r is already there: covered by an interface address
 * prefix, or an earlier peer's identical allowed IP. */
static int route_redundant(const struct dv_config *cfg, size_t peer, size_t idx)
{
	const struct dv_cidr *r = &cfg->peers[peer].allowed_ips[idx];

	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (dv_cidr_covers(&cfg->addresses[i], r))
			return 1;
	for (size_t p = 0; p <= peer; p++) {
		size_t n = p == peer ? idx : cfg->peers[p].n_allowed_ips;

		for (size_t j = 0; j < n; j++)
			if (same_route(&cfg->peers[p].allowed_ips[j], r))
				return 1;
	}
	return 0;
}

static int add_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		     const struct dv_cidr *r, char *err, size_t errlen)
{
	struct dv_cidr half = *r;

	if (r->prefix)
		return dv_nl_add_route(nl, ifindex, ifname, r, err, errlen);
	/* A default route becomes two halves (0/1 and 128/1, ::/1 and
	 * 8000::/1): more specific than the existing default route, which
	 * stays in place for when the tunnel goes, and which the kernel
	 * would otherwise refuse to duplicate. */
	memset(half.addr, 0, sizeof(half.addr));
	half.prefix = 1;
	if (dv_nl_add_route(nl, ifindex, ifname, &half, err, errlen) < 0)
		return -1;
	half.addr[0] = 0x80;
	return dv_nl_add_route(nl, ifindex, ifname, &half, err, errlen);
}

/* 1 if one of the routes dv_ifconfig_apply adds covers host. */
static int routed_through_us(const struct dv_config *cfg, const struct dv_cidr *host)
{
	for (size_t p = 0; p < cfg->n_peers; p++)
		for (size_t j = 0; j < cfg->peers[p].n_allowed_ips; j++)
			if (!route_redundant(cfg, p, j) &&
			    dv_cidr_covers(&cfg->peers[p].allowed_ips[j], host))
				return 1;
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

/* Pins each captured endpoint to the path it has now. A failure here is
 * logged, not fatal: the tunnel may still work (e.g. the endpoint is
 * reached through a more specific route added later by hand). */
static void add_bypass_routes(struct dv_ifconfig *st, unsigned ifindex,
			      const struct dv_config *cfg)
{
	char err[256], text[DV_CIDR_STRLEN];

	st->bypass = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*st->bypass));
	st->bypass_hop = calloc(cfg->n_peers ? cfg->n_peers : 1, sizeof(*st->bypass_hop));
	if (!st->bypass || !st->bypass_hop)
		return;
	for (size_t p = 0; p < cfg->n_peers; p++) {
		struct dv_cidr host;
		struct dv_nl_hop hop;

		if (endpoint_host(&cfg->peers[p], &host) < 0 || !routed_through_us(cfg, &host))
			continue;
		dv_cidr_format(&host, text, sizeof(text));
		if (dv_nl_get_route(st->nl, &host, &hop) < 0 || hop.oif == ifindex) {
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
		st->bypass[st->n_bypass] = host;
		st->bypass_hop[st->n_bypass++] = hop;
	}
}

void dv_ifconfig_undo(struct dv_ifconfig *st)
{
	char err[256];

	for (size_t i = 0; i < st->n_bypass; i++)
		if (dv_nl_host_route(st->nl, 0, &st->bypass[i], &st->bypass_hop[i], err,
				     sizeof(err)) < 0 && errno != ESRCH)
			dv_log(LOG_WARNING, "%s", err);
	free(st->bypass);
	free(st->bypass_hop);
	st->bypass = NULL;
	st->bypass_hop = NULL;
	st->n_bypass = 0;
}

int dv_ifconfig_apply(struct dv_ifconfig *st, struct dv_nl *nl, unsigned ifindex,
		      const char *ifname, const struct dv_config *cfg, char *err,
		      size_t errlen)
{
	memset(st, 0, sizeof(*st));
	st->nl = nl;
	if (dv_nl_set_mtu(nl, ifindex, ifname, cfg->mtu, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (dv_nl_add_addr(nl, ifindex, ifname, &cfg->addresses[i], err, errlen) < 0)
			return -1;
	/* Routes through a link that is down are refused (IPv4). */
	if (dv_nl_set_up(nl, ifindex, ifname, err, errlen) < 0)
		return -1;
	add_bypass_routes(st, ifindex, cfg);
	for (size_t p = 0; p < cfg->n_peers; p++) {
		const struct dv_peer_config *pc = &cfg->peers[p];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			if (route_redundant(cfg, p, j))
				continue;
			if (add_route(nl, ifindex, ifname, &pc->allowed_ips[j], err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}
