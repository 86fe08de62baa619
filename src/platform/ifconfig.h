/* Configures the tunnel interface from the config, as wg-quick would:
 * MTU, addresses, link up, then a route through the interface for each
 * peer's allowed IPs, except those the interface's own address prefixes
 * already cover (the kernel adds those prefix routes with the address).
 *
 * A peer endpoint that those routes would capture (allowed IPs of
 * 0.0.0.0/0, installed as 0/1 + 128/1) gets a host route through the path
 * it had before, so the encrypted packets do not loop into the tunnel.
 * Those bypass routes live on other interfaces: dv_ifconfig_undo removes
 * them; everything else goes with the TUN device.
 *
 * The state records what is installed (addresses, routes, bypass routes,
 * MTU), so a reload applies only the difference to a new config
 * (dv_ifconfig_update) and a failure half-way leaves a true record. */
#ifndef DV_PLATFORM_IFCONFIG_H
#define DV_PLATFORM_IFCONFIG_H

#include <net/if.h>
#include <stddef.h>

#include "config/addr.h"
#include "platform/netlink.h"

struct dv_config;

struct dv_ifconfig {
	struct dv_nl *nl;
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
	unsigned mtu;
	struct dv_cidr *addrs; /* interface addresses we added */
	size_t n_addrs;
	struct dv_cidr *routes; /* routes through the interface we added */
	size_t n_routes;
	struct dv_cidr *bypass; /* endpoint host routes we added */
	struct dv_nl_hop *bypass_hop;
	size_t n_bypass;
};

/* What changed in one dv_ifconfig_update, for the log. */
struct dv_ifconfig_delta {
	unsigned addrs_added, addrs_removed, routes_added, routes_removed;
	int mtu_changed;
};

/* 0, or -1 with the first failure in err (what was installed so far
 * stays recorded in st for dv_ifconfig_undo). */
int dv_ifconfig_apply(struct dv_ifconfig *st, struct dv_nl *nl, unsigned ifindex,
		      const char *ifname, const struct dv_config *cfg, char *err,
		      size_t errlen);
/* Brings the interface from what st records to what cfg asks: new
 * addresses, bypass routes and routes first, then the old ones that cfg
 * no longer has go (so traffic that stays routed never loses its path);
 * the MTU goes up first or down last. 0, or -1 with the first failure in
 * err; st records what is installed either way. d may be NULL. */
int dv_ifconfig_update(struct dv_ifconfig *st, const struct dv_config *cfg,
		       struct dv_ifconfig_delta *d, char *err, size_t errlen);
/* Removes the bypass routes and frees the record; safe on a zeroed st. */
void dv_ifconfig_undo(struct dv_ifconfig *st);

/* The routes cfg wants through the interface: every peer's allowed IPs
 * without host bits, once each, minus those an interface address prefix
 * covers, a default route as its two halves. *out is malloc'd (NULL when
 * *n is 0). 0, or -1 when memory ran out. */
int dv_ifconfig_routes(const struct dv_config *cfg, struct dv_cidr **out, size_t *n);

/* 1 if every address of inner lies in outer's prefix (same family). */
int dv_cidr_covers(const struct dv_cidr *outer, const struct dv_cidr *inner);
/* 1 if a and b are the same address and prefix (host bits count). */
int dv_cidr_equal(const struct dv_cidr *a, const struct dv_cidr *b);

#endif
