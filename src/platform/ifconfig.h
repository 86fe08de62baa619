/* Configures the tunnel interface from the config, as wg-quick would:
 * MTU, addresses, link up, then a route through the interface for each
 * peer's allowed IPs, except those the interface's own address prefixes
 * already cover (the kernel adds those prefix routes with the address).
 *
 * A peer endpoint that those routes would capture (allowed IPs of
 * 0.0.0.0/0, installed as 0/1 + 128/1) gets a host route through the path
 * it had before, so the encrypted packets do not loop into the tunnel.
 * Those bypass routes live on other interfaces: dv_ifconfig_undo removes
 * them; everything else goes with the TUN device. */
#ifndef DV_PLATFORM_IFCONFIG_H
#define DV_PLATFORM_IFCONFIG_H

#include <stddef.h>

#include "config/addr.h"
#include "platform/netlink.h"

struct dv_config;

struct dv_ifconfig {
	struct dv_nl *nl;
	struct dv_cidr *bypass; /* endpoint host routes we added */
	struct dv_nl_hop *bypass_hop;
	size_t n_bypass;
};

/* 0, or -1 with the first failure in err (the bypass routes added so far
 * stay recorded in st for dv_ifconfig_undo). */
int dv_ifconfig_apply(struct dv_ifconfig *st, struct dv_nl *nl, unsigned ifindex,
		      const char *ifname, const struct dv_config *cfg, char *err,
		      size_t errlen);
/* Removes the bypass routes; safe on a zeroed st. */
void dv_ifconfig_undo(struct dv_ifconfig *st);

/* 1 if every address of inner lies in outer's prefix (same family). */
int dv_cidr_covers(const struct dv_cidr *outer, const struct dv_cidr *inner);

#endif
