#include "platform/ifconfig.h"

#include <string.h>
#include <sys/socket.h>

#include "config/config.h"

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

int dv_ifconfig_apply(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		      const struct dv_config *cfg, char *err, size_t errlen)
{
	if (dv_nl_set_mtu(nl, ifindex, ifname, cfg->mtu, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (dv_nl_add_addr(nl, ifindex, ifname, &cfg->addresses[i], err, errlen) < 0)
			return -1;
	/* Routes through a link that is down are refused (IPv4). */
	if (dv_nl_set_up(nl, ifindex, ifname, err, errlen) < 0)
		return -1;
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
