/* Configures the tunnel interface from the config, as wg-quick would:
 * MTU, addresses, link up, then a route through the interface for each
 * peer's allowed IPs, except those the interface's own address prefixes
 * already cover (the kernel adds those prefix routes with the address).
 *
 * Where the routes go (`table`): "off", none; a number, that table; "auto"
 * (the default), the main table, unless an allowed IP is a default route
 * (0.0.0.0/0 or ::/0): then that family is a full tunnel by policy
 * routing. Its routes go to a table of their own, T, the UDP socket's
 * packets carry the fwmark T, and two rules send everything else there:
 *
 *     lookup main suppress_prefixlength 0   (the LAN's own routes first)
 *     not fwmark T lookup T                 (all but the tunnel's packets)
 *
 * so the encrypted packets follow whatever default route the machine has
 * now, even after it changes network. Both rules carry the protocol
 * DV_RULE_PROTO, so that removing them never removes another program's
 * identical rule. With an IPv4 full tunnel, net.ipv4.conf.all.src_valid_mark
 * is set to 1 (in the daemon's network namespace), as wg-quick does, so
 * that reverse-path filtering considers the mark.
 *
 * A peer endpoint that routes in the main table would capture (allowed
 * IPs covering it, without a full tunnel) gets a host route through the
 * path it had before, so the encrypted packets do not loop into the
 * tunnel. Those bypass routes and the rules live outside the interface:
 * dv_ifconfig_undo removes them; everything else goes with the TUN device.
 *
 * The state records what is installed (addresses, routes, bypass routes,
 * MTU), so a reload applies only the difference to a new config
 * (dv_ifconfig_update) and a failure half-way leaves a true record. */
#ifndef DV_PLATFORM_IFCONFIG_H
#define DV_PLATFORM_IFCONFIG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "config/addr.h"
#include "platform/netlink.h"

struct dv_config;

#define DV_RULE_PROTO 0x64    /* the protocol our rules carry (`ip rule`: "proto 100") */
#define DV_TABLE_FIRST 51820u /* first table tried for a full tunnel, as wg-quick */
#define DV_FULL_V4 1
#define DV_FULL_V6 2

struct dv_ifconfig {
	struct dv_nl *nl;
	unsigned ifindex;
	char ifname[IF_NAMESIZE];
	unsigned mtu;
	struct dv_cidr *addrs; /* interface addresses we added */
	size_t n_addrs;
	struct dv_cidr *routes; /* routes through the interface we added */
	size_t n_routes;
	uint32_t table4, table6; /* the table each family's routes are in (0: none) */
	uint32_t rule_table;     /* the full tunnel's table, 0 if none yet */
	int full;                /* DV_FULL_V4 | DV_FULL_V6: rules installed */
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
 * the MTU goes up first or down last. A family whose table changes (a
 * full tunnel turned on or off) has its routes moved: removed first, then
 * added. The full-tunnel rules follow cfg (its table: cfg->table, as
 * dv_ifconfig_plan set it). cfg->mtu must be set. 0, or -1 with the first
 * failure in err; st records what is installed either way. d may be NULL. */
int dv_ifconfig_update(struct dv_ifconfig *st, const struct dv_config *cfg,
		       struct dv_ifconfig_delta *d, char *err, size_t errlen);
/* Removes the bypass routes and the rules, and frees the record; safe on
 * a zeroed st. */
void dv_ifconfig_undo(struct dv_ifconfig *st);

/* The routes cfg wants through the interface: every peer's allowed IPs
 * without host bits, once each, minus those an interface address prefix
 * covers (none with table "off"); each goes to dv_ifconfig_table(cfg,
 * family). *out is malloc'd (NULL when *n is 0). 0, or -1 when memory ran
 * out. */
int dv_ifconfig_routes(const struct dv_config *cfg, struct dv_cidr **out, size_t *n);

/* DV_FULL_V4 | DV_FULL_V6: the families cfg makes full tunnels (table
 * auto and an allowed IP /0 of that family). */
int dv_ifconfig_full_families(const struct dv_config *cfg);
/* The table the routes of family go to: 0 (table off), cfg->table (a
 * number, or a full tunnel), or the main table (254). */
uint32_t dv_ifconfig_table(const struct dv_config *cfg, int family);

/* For a full tunnel, decides the table and the fwmark (into cfg->table
 * and cfg->fwmark), as wg-quick: the fwmark if the config sets one, else
 * the first table from DV_TABLE_FIRST with no route in it; the fwmark is
 * then the table. Nothing to do otherwise. 0, or -1 with err. */
int dv_ifconfig_plan(struct dv_nl *nl, struct dv_config *cfg, char *err, size_t errlen);

/* The automatic MTU (config without `mtu`): for each peer endpoint, the
 * MTU of the route to it (for a packet with cfg->fwmark) minus 60 (IPv4)
 * or 80 (IPv6), the lowest of them; without endpoints, the default
 * route's link MTU minus 80; else DV_CONFIG_MTU_DEFAULT. Never below 576,
 * nor below 1280 when the config has IPv6 addresses (logged). */
unsigned dv_ifconfig_auto_mtu(struct dv_nl *nl, const struct dv_config *cfg);

/* Removes our rule pair for table of each family in full (the "not fwmark"
 * rule, and one suppress rule only if that one was there), as left by a
 * daemon that did not stop cleanly. How many rules were removed. */
int dv_ifconfig_remove_rules(struct dv_nl *nl, uint32_t table, int full);

/* 1 if every address of inner lies in outer's prefix (same family). */
int dv_cidr_covers(const struct dv_cidr *outer, const struct dv_cidr *inner);
/* 1 if a and b are the same address and prefix (host bits count). */
int dv_cidr_equal(const struct dv_cidr *a, const struct dv_cidr *b);

#endif
