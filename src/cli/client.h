/* What `up` and `down` do around the daemon, as root, for a client as
 * wg-quick would: hooks, DNS, the nftables anti-spoofing table of a full
 * tunnel, and a state file that lets `down` (and the next `up`, after a
 * crash) undo all of it.
 *
 * The state file DV_PID_DIR/IFACE.state (mode 0600) records what was set
 * up: the full tunnel's table and families, whether the nftables table
 * dybervpn-IFACE was added, the DNS backend used, the supervising process
 * of `up -f` if any, and the pre_down/post_down commands (so `down IFACE`
 * runs those of the config that went up). */
#ifndef DV_CLI_CLIENT_H
#define DV_CLI_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"

enum dv_dns_backend { DV_DNS_NONE, DV_DNS_RESOLVCONF, DV_DNS_RESOLVECTL };

struct dv_client_state {
	uint32_t table;
	int full;  /* DV_FULL_V4 | DV_FULL_V6 */
	int nft;   /* the nftables table was added */
	enum dv_dns_backend dns;
	pid_t owner; /* the supervising `up -f`, 0 if none */
	char **hooks[2]; /* pre_down, post_down */
	size_t n_hooks[2];
};

/* 1 if the config needs the steps around the daemon (hooks, DNS, a full
 * tunnel). */
int dv_client_needed(const struct dv_config *cfg);

/* The DNS backend the machine offers for cfg's `dns` (none if cfg has no
 * `dns`); -1 with a message saying what to install when it has none. */
int dv_client_dns_backend(const struct dv_config *cfg, enum dv_dns_backend *out,
			  char *err, size_t errlen);

/* Runs the commands of hook h with %i expanded, one by one through
 * /bin/sh -c, echoing each ("[#] cmd") to stderr; stops at the first
 * that fails. 0, or -1. */
int dv_client_hooks(char *const *cmds, size_t n, const char *ifname);

/* Before the daemon: the state file, then the nftables table of a full
 * tunnel (a missing `nft` is a warning). 0, or -1 with err. */
int dv_client_pre(const struct dv_config *cfg, const char *ifname,
		  enum dv_dns_backend dns, pid_t owner, char *err, size_t errlen);
/* Once the interface is up: DNS. 0, or -1 with err. */
int dv_client_dns_set(const struct dv_config *cfg, const char *ifname,
		      enum dv_dns_backend dns, char *err, size_t errlen);

/* Reads the state file; 0, or -1 if there is none (st zeroed). */
int dv_client_state_read(const char *ifname, struct dv_client_state *st);
void dv_client_state_free(struct dv_client_state *st);
/* Undoes what the state says (DNS, nftables table, leftover rules) and
 * removes the state file; without state, removes a leftover nftables
 * table dybervpn-IFACE. Never runs hooks. */
void dv_client_teardown(const char *ifname, const struct dv_client_state *st);

/* Waits (at most ms) until pid is gone (dybervpn_only: until it is no
 * longer a running dybervpn process). 0, or -1 on time-out. */
int dv_client_wait_gone(pid_t pid, int dybervpn_only, int ms);

#endif
