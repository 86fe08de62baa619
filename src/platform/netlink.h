/* Interface configuration over rtnetlink (libmnl): MTU, link state,
 * addresses and routes, each request acknowledged and its error reported
 * in words ("netlink: add address 10.0.0.1/24 to dvpn0: File exists").
 * Addresses and routes belong to the interface and go away with the TUN
 * device; policy rules (dv_nl_rule) do not and are removed by hand. */
#ifndef DV_PLATFORM_NETLINK_H
#define DV_PLATFORM_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#include "config/addr.h"

struct mnl_socket;

struct dv_nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
};

int dv_nl_open(struct dv_nl *nl, char *err, size_t errlen);
void dv_nl_close(struct dv_nl *nl);

/* Each returns 0, or -1 with a message naming the operation, the
 * interface and the kernel's reason in err. ifname is for messages. */
int dv_nl_set_mtu(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		  unsigned mtu, char *err, size_t errlen);
int dv_nl_set_up(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		 char *err, size_t errlen);
int dv_nl_add_addr(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		   const struct dv_cidr *addr, char *err, size_t errlen);
int dv_nl_del_addr(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		   const struct dv_cidr *addr, char *err, size_t errlen);
/* A route to the prefix (host bits ignored) through the interface, in
 * table (RT_TABLE_MAIN = 254: the main table), scope link;
 * dv_nl_del_route removes one added so. */
int dv_nl_add_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, uint32_t table, char *err, size_t errlen);
int dv_nl_del_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, uint32_t table, char *err, size_t errlen);

/* Where the kernel sends packets for one address now. */
struct dv_nl_hop {
	unsigned oif;
	int has_gateway;
	uint8_t gateway[16];
	unsigned mtu; /* the route's own mtu metric, 0 if none */
};

/* Looks up the route to host (a /32 or /128); 0, or -1 with errno set
 * (ENETUNREACH when there is none). */
int dv_nl_get_route(struct dv_nl *nl, const struct dv_cidr *host, struct dv_nl_hop *hop);
/* The same for a packet carrying fwmark mark (0: none). */
int dv_nl_get_route_mark(struct dv_nl *nl, const struct dv_cidr *host, uint32_t mark,
			 struct dv_nl_hop *hop);
/* Adds (NLM_F_EXCL) or deletes the route host -> hop in the main table.
 * 0, or -1 with a message in err (errno kept: EEXIST on add if a route to
 * host already exists). */
int dv_nl_host_route(struct dv_nl *nl, int add, const struct dv_cidr *host,
		     const struct dv_nl_hop *hop, char *err, size_t errlen);

/* The MTU of a link; 0, or -1 with errno. */
int dv_nl_link_mtu(struct dv_nl *nl, unsigned ifindex, unsigned *mtu);
/* The MTU on the way to host for a packet with fwmark mark (0: none):
 * the route's mtu metric, else its output link's MTU. 0, or -1 with errno. */
int dv_nl_path_mtu(struct dv_nl *nl, const struct dv_cidr *host, uint32_t mark,
		   unsigned *mtu);
/* 1 if some IPv4 or IPv6 route lies in table, 0 if none, -1 on error. */
int dv_nl_table_used(struct dv_nl *nl, uint32_t table);
/* The output link of the main table's default route for family; 0, or -1
 * (errno ENETUNREACH when there is none). */
int dv_nl_default_oif(struct dv_nl *nl, int family, unsigned *oif);

/* A policy routing rule: "[not] fwmark M lookup T" or "lookup T
 * suppress_prefixlength N". fwmark 0 = no fwmark match; priority 0 = let
 * the kernel choose (add) or any (delete); protocol 0 = none/any. */
struct dv_nl_rule {
	int family;
	uint32_t table;
	uint32_t fwmark;
	int invert;
	int suppress_prefixlen; /* -1 = none */
	uint32_t priority;
	uint8_t protocol;
};

/* Adds (a duplicate is allowed) or deletes the first rule matching r. 0,
 * or -1 with a message in err and errno kept (ENOENT on delete: no such
 * rule). */
int dv_nl_rule(struct dv_nl *nl, int add, const struct dv_nl_rule *r, char *err,
	       size_t errlen);

#endif
