/* Configures the tunnel interface from the config, as wg-quick would:
 * MTU, addresses, link up, then a route through the interface for each
 * peer's allowed IPs, except those the interface's own address prefixes
 * already cover (the kernel adds those prefix routes with the address). */
#ifndef DV_PLATFORM_IFCONFIG_H
#define DV_PLATFORM_IFCONFIG_H

#include <stddef.h>

#include "config/addr.h"
#include "platform/netlink.h"

struct dv_config;

/* 0, or -1 with the first failure in err. */
int dv_ifconfig_apply(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		      const struct dv_config *cfg, char *err, size_t errlen);

/* 1 if every address of inner lies in outer's prefix (same family). */
int dv_cidr_covers(const struct dv_cidr *outer, const struct dv_cidr *inner);

#endif
