#include "platform/ifconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "platform/log.h"

#define SRC_VALID_MARK "/proc/sys/net/ipv4/conf/all/src_valid_mark"

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

static int family_bit(int family)
{
	return family == AF_INET ? DV_FULL_V4 : DV_FULL_V6;
}

int dv_ifconfig_full_families(const struct dv_config *cfg)
{
	int full = 0;

	if (cfg->table_mode != DV_TABLE_AUTO)
		return 0;
	for (size_t p = 0; p < cfg->n_peers; p++)
		for (size_t j = 0; j < cfg->peers[p].n_allowed_ips; j++)
			if (!cfg->peers[p].allowed_ips[j].prefix)
				full |= family_bit(cfg->peers[p].allowed_ips[j].family);
	return full;
}

uint32_t dv_ifconfig_table(const struct dv_config *cfg, int family)
{
	if (cfg->table_mode == DV_TABLE_OFF)
		return 0;
	if (cfg->table_mode == DV_TABLE_ID)
		return cfg->table;
	return (dv_ifconfig_full_families(cfg) & family_bit(family)) ? cfg->table
								   : RT_TABLE_MAIN;
}

static int cmp_cidr(const void *x, const void *y)
{
	const struct dv_cidr *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	return memcmp(a->addr, b->addr, sizeof(a->addr));
}

/* A sorted copy of set, for in_set (NULL when memory ran out). */
static struct dv_cidr *sorted_copy(const struct dv_cidr *set, size_t n)
{
	struct dv_cidr *c = malloc((n ? n : 1) * sizeof(*c));

	if (c) {
		if (n)
			memcpy(c, set, n * sizeof(*c));
		qsort(c, n, sizeof(*c), cmp_cidr);
	}
	return c;
}

static int in_set(const struct dv_cidr *sorted, size_t n, const struct dv_cidr *c)
{
	return n && bsearch(c, sorted, n, sizeof(*c), cmp_cidr) != NULL;
}

static const struct dv_cidr *sort_routes;

static int cmp_route_at(const void *x, const void *y)
{
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	int r = cmp_cidr(&sort_routes[i], &sort_routes[j]);

	return r ? r : (i > j) - (i < j);
}

/* Drops the repeats from list (n entries, each prefix its network),
 * keeping each first one in place, by sorting: a gateway of 2^20 peers
 * takes O(n log n). 0, or -1 when memory ran out. */
static int unique_routes(struct dv_cidr *list, size_t *n)
{
	size_t *order = malloc((*n ? *n : 1) * sizeof(*order));
	uint8_t *dup = calloc(*n ? *n : 1, 1);
	size_t k = 0;

	if (!order || !dup) {
		free(order);
		free(dup);
		return -1;
	}
	for (size_t i = 0; i < *n; i++)
		order[i] = i;
	sort_routes = list;
	qsort(order, *n, sizeof(*order), cmp_route_at);
	sort_routes = NULL;
	for (size_t i = 1; i < *n; i++)
		if (!cmp_cidr(&list[order[i - 1]], &list[order[i]]))
			dup[order[i]] = 1;
	for (size_t i = 0; i < *n; i++)
		if (!dup[i])
			list[k++] = list[i];
	*n = k;
	free(order);
	free(dup);
	return 0;
}

int dv_ifconfig_routes(const struct dv_config *cfg, struct dv_cidr **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (cfg->table_mode == DV_TABLE_OFF)
		return 0;
	for (size_t p = 0; p < cfg->n_peers; p++)
		cap += cfg->peers[p].n_allowed_ips;
	*out = malloc((cap ? cap : 1) * sizeof(**out));
	if (!*out)
		return -1;
	for (size_t p = 0; p < cfg->n_peers; p++) {
		const struct dv_peer_config *pc = &cfg->peers[p];

		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			struct dv_cidr r = network(&pc->allowed_ips[j]);
			int covered = 0;

			/* The kernel's prefix route of an address (main
			 * table) serves these; a full tunnel's rules look in
			 * main first. */
			for (size_t i = 0; i < cfg->n_addresses && !covered; i++)
				covered = dv_cidr_covers(&cfg->addresses[i], &r);
			if (!covered)
				(*out)[(*n)++] = r;
		}
	}
	if (unique_routes(*out, n) < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
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

int dv_ifconfig_plan(struct dv_nl *nl, struct dv_config *cfg, char *err, size_t errlen)
{
	uint32_t t;

	if (!dv_ifconfig_full_families(cfg))
		return 0;
	if (cfg->fwmark) {
		cfg->table = cfg->fwmark;
		return 0;
	}
	for (t = DV_TABLE_FIRST; t < DV_TABLE_FIRST + 4096; t++) {
		int used = dv_nl_table_used(nl, t);

		if (used < 0) {
			snprintf(err, errlen, "netlink: list routes: %s", strerror(errno));
			return -1;
		}
		if (!used) {
			cfg->table = cfg->fwmark = t;
			return 0;
		}
	}
	snprintf(err, errlen, "no free routing table in %u..%u: set `fwmark`",
		 DV_TABLE_FIRST, t - 1);
	return -1;
}


unsigned dv_ifconfig_auto_mtu(struct dv_nl *nl, const struct dv_config *cfg)
{
	unsigned best = 0, link, oif, floor = DV_CONFIG_MTU_MIN;

	for (size_t p = 0; p < cfg->n_peers; p++) {
		struct dv_cidr host;
		unsigned over;

		if (endpoint_host(&cfg->peers[p], &host) < 0 ||
		    dv_nl_path_mtu(nl, &host, cfg->fwmark, &link) < 0)
			continue;
		/* Outer IP header, UDP header, our 32 bytes of transport
		 * header and tag: 20 + 8 + 32 for IPv4, 40 + 8 + 32 for IPv6. */
		over = host.family == AF_INET ? 60 : 80;
		if (link > over && (!best || link - over < best))
			best = link - over;
	}
	if (!best && ((dv_nl_default_oif(nl, AF_INET, &oif) == 0 ||
		       dv_nl_default_oif(nl, AF_INET6, &oif) == 0) &&
		      dv_nl_link_mtu(nl, oif, &link) == 0 && link > 80))
		best = link - 80;
	if (!best)
		best = DV_CONFIG_MTU_DEFAULT;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (cfg->addresses[i].family == AF_INET6)
			floor = DV_CONFIG_MTU_MIN_IPV6;
	if (best < floor) {
		dv_log(LOG_WARNING, "automatic MTU %u raised to %u (the minimum for %s): "
		       "the outer packets will be fragmented; set `mtu` or drop the "
		       "IPv6 addresses", best, floor,
		       floor == DV_CONFIG_MTU_MIN_IPV6 ? "IPv6" : "IPv4");
		best = floor;
	}
	if (best > DV_CONFIG_MTU_MAX)
		best = DV_CONFIG_MTU_MAX;
	return best;
}

static void rules_of(struct dv_nl_rule r[2], int family, uint32_t table)
{
	memset(r, 0, 2 * sizeof(*r));
	/* In this order, as wg-quick: the kernel gives the later rule the
	 * lower priority, so the suppress rule is looked at first. */
	r[0].family = family;
	r[0].table = table;
	r[0].fwmark = table;
	r[0].invert = 1;
	r[0].suppress_prefixlen = -1;
	r[0].protocol = DV_RULE_PROTO;
	r[1].family = family;
	r[1].table = RT_TABLE_MAIN;
	r[1].suppress_prefixlen = 0;
	r[1].protocol = DV_RULE_PROTO;
}

static void set_src_valid_mark(void)
{
	char c = 0;
	int fd = open(SRC_VALID_MARK, O_RDWR | O_CLOEXEC);

	if (fd < 0 || read(fd, &c, 1) != 1 || c == '1' ||
	    lseek(fd, 0, SEEK_SET) < 0 || write(fd, "1\n", 2) != 2) {
		if (c != '1')
			dv_log(LOG_WARNING, "%s: %s (reverse-path filtering may drop the "
			       "tunnel's replies)", SRC_VALID_MARK, strerror(errno));
	} else {
		dv_log(LOG_INFO, "net.ipv4.conf.all.src_valid_mark set to 1");
	}
	if (fd >= 0)
		close(fd);
}

static int rules_add(struct dv_ifconfig *st, int family, uint32_t table, char *err,
		     size_t errlen)
{
	struct dv_nl_rule r[2];

	if (family == AF_INET)
		set_src_valid_mark();
	rules_of(r, family, table);
	/* Recorded first: a half-added pair is removed by undo. */
	st->full |= family_bit(family);
	st->rule_table = table;
	for (int i = 0; i < 2; i++)
		if (dv_nl_rule(st->nl, 1, &r[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* Deletes our rule pair for family and table: the "not fwmark" rule,
 * and only if it was there, one suppress rule (there may be one per full
 * tunnel, all alike). How many were deleted. */
static int rules_del(struct dv_nl *nl, int family, uint32_t table)
{
	struct dv_nl_rule r[2];
	char err[256];

	rules_of(r, family, table);
	for (int i = 0; i < 2; i++)
		if (dv_nl_rule(nl, 0, &r[i], err, sizeof(err)) < 0) {
			if (errno != ENOENT)
				dv_log(LOG_WARNING, "%s", err);
			return i;
		}
	return 2;
}

int dv_ifconfig_remove_rules(struct dv_nl *nl, uint32_t table, int full)
{
	int n = 0;

	if (full & DV_FULL_V4)
		n += rules_del(nl, AF_INET, table);
	if (full & DV_FULL_V6)
		n += rules_del(nl, AF_INET6, table);
	return n;
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
	if (st->nl && st->full)
		dv_ifconfig_remove_rules(st->nl, st->rule_table, st->full);
	st->full = 0;
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
	struct dv_cidr *routes, *main_routes = NULL, *old_bypass = NULL;
	struct dv_nl_hop *old_hop = NULL;
	size_t n_routes, n_main = 0, n_old = 0;
	uint32_t t4 = dv_ifconfig_table(cfg, AF_INET), t6 = dv_ifconfig_table(cfg, AF_INET6);
	int full = dv_ifconfig_full_families(cfg), r = -1;

	if (!delta)
		delta = &scratch;
	memset(delta, 0, sizeof(*delta));
	if (dv_ifconfig_routes(cfg, &routes, &n_routes) < 0)
		return oom(err, errlen);
	/* Only routes in the main table can capture an endpoint: a full
	 * tunnel's table is not looked at for the socket's marked packets. */
	for (size_t i = 0; i < n_routes; i++)
		if ((routes[i].family == AF_INET ? t4 : t6) == RT_TABLE_MAIN &&
		    push(&main_routes, &n_main, &routes[i]) < 0) {
			oom(err, errlen);
			goto out;
		}
	/* A family whose routes change table: out of the old one first. */
	for (size_t i = st->n_routes; i-- > 0;) {
		int v4 = st->routes[i].family == AF_INET;
		uint32_t was = v4 ? st->table4 : st->table6;

		if (was == (v4 ? t4 : t6))
			continue;
		if (dv_nl_del_route(st->nl, st->ifindex, st->ifname, &st->routes[i], was,
				    err, errlen) < 0 && errno != ESRCH)
			goto out;
		drop(st->routes, &st->n_routes, i);
		delta->routes_removed++;
	}
	st->table4 = t4;
	st->table6 = t6;
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
	if (update_bypass(st, cfg, main_routes, n_main, &old_bypass, &old_hop, &n_old) < 0) {
		oom(err, errlen);
		goto out;
	}
	/* Set membership by sorted copies and binary search: a gateway of
	 * 2^20 routes is updated in O(n log n). */
	{
		size_t n_had = st->n_routes, k = 0;
		struct dv_cidr *had = sorted_copy(st->routes, n_had);
		struct dv_cidr *want = sorted_copy(routes, n_routes);
		int failed = !had || !want;

		if (failed)
			oom(err, errlen);
		for (size_t i = 0; i < n_routes && !failed; i++) {
			if (in_set(had, n_had, &routes[i]))
				continue;
			if (dv_nl_add_route(st->nl, st->ifindex, st->ifname, &routes[i],
					    routes[i].family == AF_INET ? t4 : t6, err,
					    errlen) < 0) {
				failed = 1;
				break;
			}
			if (push(&st->routes, &st->n_routes, &routes[i]) < 0) {
				oom(err, errlen);
				failed = 1;
				break;
			}
			delta->routes_added++;
		}
		/* The routes no longer wanted go; the rest stay, in order. */
		for (size_t i = 0; i < st->n_routes; i++) {
			if (!failed && !in_set(want, n_routes, &st->routes[i])) {
				/* ESRCH: gone already (deleted by hand, or
				 * with an address). */
				if (dv_nl_del_route(st->nl, st->ifindex, st->ifname,
						    &st->routes[i],
						    st->routes[i].family == AF_INET ? t4 : t6,
						    err, errlen) < 0 &&
				    errno != ESRCH) {
					failed = 1;
				} else {
					delta->routes_removed++;
					continue;
				}
			}
			st->routes[k++] = st->routes[i];
		}
		st->n_routes = k;
		free(had);
		free(want);
		if (failed)
			goto out;
	}
	/* The rules, once the table has its routes (the table is chosen at
	 * start and kept). */
	for (int f = AF_INET; f; f = f == AF_INET ? AF_INET6 : 0) {
		int bit = family_bit(f);

		if ((st->full & bit) && !(full & bit)) {
			rules_del(st->nl, f, st->rule_table);
			st->full &= ~bit;
		} else if (!(st->full & bit) && (full & bit)) {
			if (rules_add(st, f, cfg->table, err, errlen) < 0)
				goto out;
			dv_log(LOG_INFO, "full tunnel (%s): routes in table %u, fwmark 0x%x",
			       f == AF_INET ? "IPv4" : "IPv6", cfg->table, cfg->fwmark);
		}
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
	free(main_routes);
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
