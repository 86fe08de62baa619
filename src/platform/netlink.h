/* Interface configuration over rtnetlink (libmnl): MTU, link state,
 * addresses and routes, each request acknowledged and its error reported
 * in words ("netlink: add address 10.0.0.1/24 to dvpn0: File exists").
 * Everything added here belongs to the interface, so it goes away with
 * the TUN device: there is nothing to undo by hand. */
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
/* A route to the prefix (host bits ignored) through the interface, in the
 * main table, scope link; dv_nl_del_route removes one added so. */
int dv_nl_add_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, char *err, size_t errlen);
int dv_nl_del_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, char *err, size_t errlen);

/* Where the kernel sends packets for one address now. */
struct dv_nl_hop {
	unsigned oif;
	int has_gateway;
	uint8_t gateway[16];
};

/* Looks up the route to host (a /32 or /128); 0, or -1 with errno set
 * (ENETUNREACH when there is none). */
int dv_nl_get_route(struct dv_nl *nl, const struct dv_cidr *host, struct dv_nl_hop *hop);
/* Adds (NLM_F_EXCL) or deletes the route host -> hop in the main table.
 * 0, or -1 with a message in err (errno kept: EEXIST on add if a route to
 * host already exists). */
int dv_nl_host_route(struct dv_nl *nl, int add, const struct dv_cidr *host,
		     const struct dv_nl_hop *hop, char *err, size_t errlen);

#endif
