#include "platform/netlink.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* libmnl's MNL_SOCKET_BUFFER_SIZE is a run-time value (a VLA under
 * -Wvla); 8 KiB is its upper bound, and requests are far smaller. */
#define NL_RECV_BUF 8192
#define NL_MSG_BUF 512

int dv_nl_open(struct dv_nl *nl, char *err, size_t errlen)
{
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock) {
		snprintf(err, errlen, "netlink: open: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "netlink: bind: %s", strerror(errno));
		mnl_socket_close(nl->sock);
		nl->sock = NULL;
		return -1;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	return 0;
}

void dv_nl_close(struct dv_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

/* Sends one request with NLM_F_ACK and waits for its acknowledgement;
 * replies before it go to cb. Returns 0 or -1 with errno set to the
 * kernel's error. */
static int nl_talk_cb(struct dv_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[NL_RECV_BUF];
	uint32_t seq = ++nl->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -1;
		/* mnl_cb_run returns -1 with errno from an NLMSG_ERROR ack,
		 * MNL_CB_STOP (0) on a zero ack. */
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret;
	}
}

static int nl_talk(struct dv_nl *nl, struct nlmsghdr *nlh)
{
	return nl_talk_cb(nl, nlh, NULL, NULL);
}

static int fail(char *err, size_t errlen, const char *what, const char *ifname)
{
	snprintf(err, errlen, "netlink: %s %s: %s", what, ifname, strerror(errno));
	return -1;
}

static struct nlmsghdr *link_msg(char *buf, unsigned ifindex,
				 unsigned flags, unsigned change)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	return nlh;
}

int dv_nl_set_mtu(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		  unsigned mtu, char *err, size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = link_msg(buf, ifindex, 0, 0);
	char what[48];

	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (nl_talk(nl, nlh) < 0) {
		snprintf(what, sizeof(what), "set MTU %u on", mtu);
		return fail(err, errlen, what, ifname);
	}
	return 0;
}

int dv_nl_set_up(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		 char *err, size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = link_msg(buf, ifindex, IFF_UP, IFF_UP);

	if (nl_talk(nl, nlh) < 0)
		return fail(err, errlen, "set link up", ifname);
	return 0;
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int addr_msg(struct dv_nl *nl, int add, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *addr, char *err, size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	char text[DV_CIDR_STRLEN], what[DV_CIDR_STRLEN + 32];

	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)addr->family;
	ifa->ifa_prefixlen = addr->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = ifindex;
	/* A point-to-point tunnel has no neighbours to collide with: skip
	 * IPv6 duplicate address detection so the address is usable now. */
	if (addr->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(addr->family), addr->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(addr->family), addr->addr);
	if (nl_talk(nl, nlh) < 0) {
		dv_cidr_format(addr, text, sizeof(text));
		snprintf(what, sizeof(what), "%s address %s %s", add ? "add" : "delete",
			 text, add ? "to" : "from");
		return fail(err, errlen, what, ifname);
	}
	return 0;
}

int dv_nl_add_addr(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		   const struct dv_cidr *addr, char *err, size_t errlen)
{
	return addr_msg(nl, 1, ifindex, ifname, addr, err, errlen);
}

int dv_nl_del_addr(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		   const struct dv_cidr *addr, char *err, size_t errlen)
{
	return addr_msg(nl, 0, ifindex, ifname, addr, err, errlen);
}

static int route_msg(struct dv_nl *nl, int add, unsigned ifindex, const char *ifname,
		     const struct dv_cidr *dst, uint32_t table, char *err, size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	struct dv_cidr net = *dst;
	char text[DV_CIDR_STRLEN], what[DV_CIDR_STRLEN + 32];

	/* The kernel refuses a destination with host bits set. */
	for (unsigned i = 0; i < addr_len(net.family) * 8; i++)
		if (i >= net.prefix)
			net.addr[i / 8] &= (uint8_t)~(0x80u >> (i % 8));

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)net.family;
	rtm->rtm_dst_len = net.prefix;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	/* On delete the protocol matches only the routes added here, never
	 * the kernel's prefix route of an address. */
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = add ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	rtm->rtm_type = RTN_UNICAST;
	if (net.prefix)
		mnl_attr_put(nlh, RTA_DST, addr_len(net.family), net.addr);
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	mnl_attr_put_u32(nlh, RTA_OIF, ifindex);
	if (nl_talk(nl, nlh) < 0) {
		dv_cidr_format(&net, text, sizeof(text));
		if (table == RT_TABLE_MAIN)
			snprintf(what, sizeof(what), "%s route %s via", add ? "add" : "delete",
				 text);
		else
			snprintf(what, sizeof(what), "%s route %s (table %u) via",
				 add ? "add" : "delete", text, table);
		return fail(err, errlen, what, ifname);
	}
	return 0;
}

int dv_nl_add_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, uint32_t table, char *err, size_t errlen)
{
	return route_msg(nl, 1, ifindex, ifname, dst, table, err, errlen);
}

int dv_nl_del_route(struct dv_nl *nl, unsigned ifindex, const char *ifname,
		    const struct dv_cidr *dst, uint32_t table, char *err, size_t errlen)
{
	return route_msg(nl, 0, ifindex, ifname, dst, table, err, errlen);
}

static int metric_attr(const struct nlattr *a, void *data)
{
	struct dv_nl_hop *hop = data;

	if (mnl_attr_get_type(a) == RTAX_MTU && mnl_attr_get_payload_len(a) == 4)
		hop->mtu = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int route_attr(const struct nlattr *a, void *data)
{
	struct dv_nl_hop *hop = data;
	uint16_t len = mnl_attr_get_payload_len(a);

	switch (mnl_attr_get_type(a)) {
	case RTA_METRICS:
		mnl_attr_parse_nested(a, metric_attr, hop);
		break;
	case RTA_OIF:
		if (len == 4)
			hop->oif = mnl_attr_get_u32(a);
		break;
	case RTA_GATEWAY:
		if (len == 4 || len == 16) {
			memcpy(hop->gateway, mnl_attr_get_payload(a), len);
			hop->has_gateway = 1;
		}
		break;
	}
	return MNL_CB_OK;
}

static int route_reply(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr, data);
	return MNL_CB_OK;
}

int dv_nl_get_route(struct dv_nl *nl, const struct dv_cidr *host, struct dv_nl_hop *hop)
{
	return dv_nl_get_route_mark(nl, host, 0, hop);
}

int dv_nl_get_route_mark(struct dv_nl *nl, const struct dv_cidr *host, uint32_t mark,
			 struct dv_nl_hop *hop)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	memset(hop, 0, sizeof(*hop));
	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)host->family;
	rtm->rtm_dst_len = (uint8_t)(addr_len(host->family) * 8);
	mnl_attr_put(nlh, RTA_DST, addr_len(host->family), host->addr);
	if (mark)
		mnl_attr_put_u32(nlh, RTA_MARK, mark);
	if (nl_talk_cb(nl, nlh, route_reply, hop) < 0)
		return -1;
	if (!hop->oif) {
		errno = ENETUNREACH;
		return -1;
	}
	return 0;
}

int dv_nl_host_route(struct dv_nl *nl, int add, const struct dv_cidr *host,
		     const struct dv_nl_hop *hop, char *err, size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;
	char text[DV_CIDR_STRLEN], dev[IF_NAMESIZE] = "?";
	int e;

	nlh->nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	nlh->nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)host->family;
	rtm->rtm_dst_len = (uint8_t)(addr_len(host->family) * 8);
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = hop->has_gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, addr_len(host->family), host->addr);
	if (hop->has_gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, addr_len(host->family), hop->gateway);
	mnl_attr_put_u32(nlh, RTA_OIF, hop->oif);
	if (nl_talk(nl, nlh) == 0)
		return 0;
	e = errno;
	dv_cidr_format(host, text, sizeof(text));
	if_indextoname(hop->oif, dev);
	snprintf(err, errlen, "netlink: %s route %s via %s: %s", add ? "add" : "delete",
		 text, dev, strerror(e));
	errno = e;
	return -1;
}

/* Sends a dump request and hands every reply to cb until NLMSG_DONE. */
static int nl_dump(struct dv_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	char buf[NL_RECV_BUF];
	uint32_t seq = ++nl->seq;
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
		if (n < 0)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, nl->portid, cb, data);
		if (ret <= MNL_CB_STOP)
			return ret;
	}
}

static int link_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_MTU && mnl_attr_get_payload_len(a) == 4)
		*(unsigned *)data = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int link_reply(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWLINK)
		mnl_attr_parse(nlh, sizeof(struct ifinfomsg), link_attr, data);
	return MNL_CB_OK;
}

int dv_nl_link_mtu(struct dv_nl *nl, unsigned ifindex, unsigned *mtu)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	*mtu = 0;
	nlh->nlmsg_type = RTM_GETLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	if (nl_talk_cb(nl, nlh, link_reply, mtu) < 0)
		return -1;
	if (!*mtu) {
		errno = ENODEV;
		return -1;
	}
	return 0;
}

int dv_nl_path_mtu(struct dv_nl *nl, const struct dv_cidr *host, uint32_t mark,
		    unsigned *mtu)
{
	struct dv_nl_hop hop;

	if (dv_nl_get_route_mark(nl, host, mark, &hop) < 0)
		return -1;
	if (hop.mtu) {
		*mtu = hop.mtu;
		return 0;
	}
	return dv_nl_link_mtu(nl, hop.oif, mtu);
}

struct route_scan {
	uint32_t table; /* tables_used: the table looked for */
	int found;
	int family;     /* default_oif: the family asked */
	unsigned oif;
};

struct route_info {
	uint32_t table;
	unsigned oif;
};

static int scan_attr(const struct nlattr *a, void *data)
{
	struct route_info *ri = data;

	if (mnl_attr_get_payload_len(a) != 4)
		return MNL_CB_OK;
	if (mnl_attr_get_type(a) == RTA_TABLE)
		ri->table = mnl_attr_get_u32(a);
	else if (mnl_attr_get_type(a) == RTA_OIF)
		ri->oif = mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int scan_reply(const struct nlmsghdr *nlh, void *data)
{
	struct route_scan *sc = data;
	const struct rtmsg *rtm;
	struct route_info ri;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return MNL_CB_OK;
	rtm = mnl_nlmsg_get_payload(nlh);
	ri.table = rtm->rtm_table;
	ri.oif = 0;
	mnl_attr_parse(nlh, sizeof(*rtm), scan_attr, &ri);
	if (sc->table && ri.table == sc->table)
		sc->found = 1;
	if (sc->family && ri.table == RT_TABLE_MAIN && rtm->rtm_dst_len == 0 &&
	    rtm->rtm_type == RTN_UNICAST && ri.oif && !sc->oif)
		sc->oif = ri.oif;
	return MNL_CB_OK;
}

static int route_dump(struct dv_nl *nl, int family, struct route_scan *sc)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm;

	nlh->nlmsg_type = RTM_GETROUTE;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	return nl_dump(nl, nlh, scan_reply, sc);
}

int dv_nl_table_used(struct dv_nl *nl, uint32_t table)
{
	struct route_scan sc = { .table = table };

	if (route_dump(nl, AF_INET, &sc) < 0 || route_dump(nl, AF_INET6, &sc) < 0)
		return -1;
	return sc.found;
}

int dv_nl_default_oif(struct dv_nl *nl, int family, unsigned *oif)
{
	struct route_scan sc = { .family = family };

	if (route_dump(nl, family, &sc) < 0)
		return -1;
	if (!sc.oif) {
		errno = ENETUNREACH;
		return -1;
	}
	*oif = sc.oif;
	return 0;
}

int dv_nl_rule(struct dv_nl *nl, int add, const struct dv_nl_rule *r, char *err,
	       size_t errlen)
{
	char buf[NL_MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct fib_rule_hdr *frh;
	int e;

	/* No NLM_F_EXCL: two full tunnels each add (and remove) their own
	 * copy of the suppress_prefixlength rule, as wg-quick does. */
	nlh->nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	nlh->nlmsg_flags = add ? NLM_F_CREATE : 0;
	frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
	frh->family = (uint8_t)r->family;
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (r->invert)
		frh->flags |= FIB_RULE_INVERT;
	mnl_attr_put_u32(nlh, FRA_TABLE, r->table);
	if (r->fwmark) {
		mnl_attr_put_u32(nlh, FRA_FWMARK, r->fwmark);
		mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffffu);
	}
	if (r->suppress_prefixlen >= 0)
		mnl_attr_put_u32(nlh, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_prefixlen);
	if (r->priority)
		mnl_attr_put_u32(nlh, FRA_PRIORITY, r->priority);
	if (r->protocol)
		mnl_attr_put_u8(nlh, FRA_PROTOCOL, r->protocol);
	if (nl_talk(nl, nlh) == 0)
		return 0;
	e = errno;
	snprintf(err, errlen, "netlink: %s %s rule%s%s lookup %u%s: %s", add ? "add" : "delete",
		 r->family == AF_INET ? "IPv4" : "IPv6", r->fwmark && r->invert ? " not" : "",
		 r->fwmark ? " fwmark" : "", r->table,
		 r->suppress_prefixlen >= 0 ? " suppress_prefixlength" : "", strerror(e));
	errno = e;
	return -1;
}
