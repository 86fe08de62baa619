/* dybervpn check: load a config as `up` would and say what it means,
 * without touching the system and without printing any key. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>

#include "config/config.h"
#include "platform/paths.h"
#include "protocol.h"

static void check_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn check NAME|FILE\n"
		"       dybervpn check -c FILE\n\n"
		"Load and validate a config file (TOML), print its warnings and a\n"
		"summary: the interface, its mode, addresses and listen port, and\n"
		"each peer with its mode, allowed IPs and endpoint. No key is\n"
		"printed. Endpoint host names are resolved, as `up` would.\n"
		"Exit status: 0 valid, 1 invalid (the message names file, line\n"
		"and key), 2 usage.\n\n"
		"NAME (no '/', not ending in .toml) means " DV_CONFIG_DIR "/NAME.toml\n"
		"(the directory is $" DV_CONFIG_DIR_ENV " if set), as for `up`.\n\n"
		"  -c, --config FILE  the config file, always a path\n"
		"  -h, --help         this help\n");
}

static void print_warning(void *arg, const char *msg)
{
	unsigned *n = arg;

	(*n)++;
	fprintf(stderr, "warning: %s\n", msg);
}

static void print_cidrs(const char *label, const struct dv_cidr *c, size_t n)
{
	char buf[DV_CIDR_STRLEN];

	printf("  %s:", label);
	if (!n)
		printf(" (none)");
	for (size_t i = 0; i < n; i++) {
		dv_cidr_format(&c[i], buf, sizeof(buf));
		printf("%s %s", i ? "," : "", buf);
	}
	printf("\n");
}

static void print_peer(const struct dv_config *cfg, size_t i)
{
	const struct dv_peer_config *p = &cfg->peers[i];

	printf("peer %zu (line %u)%s%s%s\n", i + 1, p->line,
	       p->name[0] ? " \"" : "", p->name, p->name[0] ? "\"" : "");
	printf("  mode: %s%s\n", dv_mode_name(p->mode),
	       p->mode == cfg->mode ? "" : " (its own)");
	print_cidrs("allowed ips", p->allowed_ips, p->n_allowed_ips);
	if (p->has_endpoint) {
		char host[NI_MAXHOST], serv[NI_MAXSERV];

		if (getnameinfo((const struct sockaddr *)&p->endpoint,
				p->endpoint_len, host, sizeof(host), serv,
				sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV))
			printf("  endpoint: %s\n", p->endpoint_str);
		else
			printf("  endpoint: %s (%s%s%s:%s)\n", p->endpoint_str,
			       p->endpoint.ss_family == AF_INET6 ? "[" : "", host,
			       p->endpoint.ss_family == AF_INET6 ? "]" : "", serv);
	} else {
		printf("  endpoint: (none: waits for the peer to connect)\n");
	}
	if (p->persistent_keepalive)
		printf("  persistent keepalive: every %u s\n",
		       p->persistent_keepalive);
	printf("  preshared key: %s\n", p->has_psk ? "yes" : "no");
	if (dv_mode_needs_mldsa(p->mode) || p->has_mldsa_public_key)
		printf("  ML-DSA-65 public key: %s\n",
		       p->has_mldsa_public_key ? "yes" : "no");
}

static void print_summary(const struct dv_config *cfg)
{
	printf("interface %s\n", cfg->name[0] ? cfg->name : "(no name: chosen by up)");
	printf("  mode: %s\n", dv_mode_name(cfg->mode));
	print_cidrs("addresses", cfg->addresses, cfg->n_addresses);
	if (cfg->listen_port)
		printf("  listen port: %u\n", cfg->listen_port);
	else
		printf("  listen port: random\n");
	if (cfg->mtu)
		printf("  mtu: %u\n", cfg->mtu);
	else
		printf("  mtu: automatic (lowest path MTU to the endpoints, minus "
		       "60 for IPv4, 80 for IPv6)\n");
	if (cfg->table_mode == DV_TABLE_OFF)
		printf("  table: off (no routes)\n");
	else if (cfg->table_mode == DV_TABLE_ID)
		printf("  table: %u\n", cfg->table);
	if (cfg->fwmark)
		printf("  fwmark: 0x%x\n", cfg->fwmark);
	for (size_t i = 0; i < cfg->n_dns; i++)
		printf("  dns server: %s\n", cfg->dns[i]);
	for (size_t i = 0; i < cfg->n_dns_search; i++)
		printf("  dns search: %s\n", cfg->dns_search[i]);
	for (int h = 0; h < DV_HOOK_COUNT; h++)
		for (size_t i = 0; i < cfg->n_hooks[h]; i++)
			printf("  %s: %s\n", dv_hook_key((enum dv_hook)h), cfg->hooks[h][i]);
	printf("  handshake_datagram_max: %u\n", cfg->handshake_datagram_max);
	if (cfg->threads)
		printf("  threads: %u\n", cfg->threads);
	else
		printf("  threads: one per CPU\n");
	printf("  ML-DSA-65 private key: %s\n",
	       !cfg->has_mldsa_private_key ? "no" :
	       cfg->mldsa_key_len == DV_MLDSA_SEED_LEN ? "yes (seed)" :
							 "yes (expanded)");
	printf("  peers: %zu\n", cfg->n_peers);
	for (size_t i = 0; i < cfg->n_peers; i++)
		print_peer(cfg, i);
}

int check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct dv_config cfg;
	const char *path = NULL, *name = NULL;
	unsigned warnings = 0;
	char err[1024], file[4096];
	int c, path_only = 0, is_name;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			path_only = 1;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return 2;
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (!path || optind != argc) {
		check_usage(stderr);
		return 2;
	}
	if (dv_config_locate(path, path_only, file, sizeof(file), &is_name, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	if (is_name) {
		name = path;
		path = file; /* a path keeps its form in the messages */
	}
	if (dv_config_load(path, &cfg, err, sizeof(err), print_warning,
			   &warnings)) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	if (is_name && !cfg.name[0]) /* as `up NAME` names it */
		snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	printf("%s: valid%s\n", path, warnings ? " (see the warnings)" : "");
	print_summary(&cfg);
	dv_config_free(&cfg);
	return 0;
}
