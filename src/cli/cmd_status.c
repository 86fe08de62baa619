/* dybervpn status: ask each running interface's control socket (UAPI
 * get=1) and show it for people, or as JSON. Besides WireGuard's keys the
 * device answers `mode=`, `refused_handshakes=` and (when set) `name=`
 * per peer; unknown keys are skipped, as wg does. */
#include "cli/cli.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/paths.h"
#include "platform/uapi_client.h"

#define B64_KEY_LEN 45 /* 32 bytes in base64 with padding, and the NUL */

struct st_peer {
	char public_key[B64_KEY_LEN];
	char name[64];
	char mode[16];
	char endpoint[64];
	char (*allowed)[64];
	size_t n_allowed;
	int has_psk;
	uint64_t hs_sec, rx, tx, refused;
	unsigned keepalive;
};

struct st_iface {
	const char *name;
	char public_key[B64_KEY_LEN];
	unsigned listen_port;
	unsigned fwmark;
	/* Device counters (handshakes dropped, cookie replies). */
	uint64_t bad_mac, cookie_sent, cookie_limited, ratelimited;
	struct st_peer *peers;
	size_t n_peers;
};

static void status_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn status [IFACE] [--json]\n\n"
		"Show a running interface (default: every interface dybervpn runs):\n"
		"its public key and listening port, and for each peer its name, mode,\n"
		"endpoint, allowed IPs, latest handshake, transfer and refused\n"
		"handshakes (of another mode than the peer's, with a bad ML-DSA\n"
		"signature, or with an ML-KEM key failing the FIPS 203 check).\n\n"
		"  --json      one JSON object: {\"interfaces\": [...]}\n"
		"  -h, --help  this help\n");
}

/* A 64-hex-digit key as base64; "" if malformed. For the private key the
 * public key is shown instead, derived here: UAPI carries only the
 * private one for the interface. */
static void hex_key_to_b64(const char *hex, int derive_public, char out[B64_KEY_LEN])
{
	unsigned char k[32], pub[32];
	size_t n = 0;

	out[0] = 0;
	if (strlen(hex) != 64 || sodium_hex2bin(k, sizeof(k), hex, 64, NULL, &n, NULL) ||
	    n != 32)
		return;
	if (derive_public) {
		if (crypto_scalarmult_base(pub, k) == 0)
			sodium_bin2base64(out, B64_KEY_LEN, pub, 32,
					  sodium_base64_VARIANT_ORIGINAL);
	} else {
		sodium_bin2base64(out, B64_KEY_LEN, k, 32, sodium_base64_VARIANT_ORIGINAL);
	}
	sodium_memzero(k, sizeof(k));
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 10);
}

/* Parses a get=1 response. Returns 0, or -1 with a message in err. */
static int parse_get(char *resp, struct st_iface *ifc, char *err, size_t errlen)
{
	struct st_peer *p = NULL;
	char *save = NULL;

	for (char *line = strtok_r(resp, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "errno")) {
			if (num(v)) {
				snprintf(err, errlen, "the daemon answered errno=%s", v);
				return -1;
			}
		} else if (!strcmp(line, "public_key")) {
			struct st_peer *np = realloc(ifc->peers, sizeof(*np) * (ifc->n_peers + 1));

			if (!np) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			ifc->peers = np;
			p = &np[ifc->n_peers++];
			memset(p, 0, sizeof(*p));
			hex_key_to_b64(v, 0, p->public_key);
		} else if (!p) {
			if (!strcmp(line, "private_key"))
				hex_key_to_b64(v, 1, ifc->public_key);
			else if (!strcmp(line, "listen_port"))
				ifc->listen_port = (unsigned)num(v);
			else if (!strcmp(line, "fwmark"))
				ifc->fwmark = (unsigned)num(v);
			else if (!strcmp(line, "dropped_bad_mac"))
				ifc->bad_mac = num(v);
			else if (!strcmp(line, "cookie_replies_sent"))
				ifc->cookie_sent = num(v);
			else if (!strcmp(line, "dropped_cookie_limited"))
				ifc->cookie_limited = num(v);
			else if (!strcmp(line, "dropped_ratelimited"))
				ifc->ratelimited = num(v);
		} else if (!strcmp(line, "endpoint")) {
			snprintf(p->endpoint, sizeof(p->endpoint), "%s", v);
		} else if (!strcmp(line, "allowed_ip")) {
			char(*na)[64] = realloc(p->allowed, sizeof(*na) * (p->n_allowed + 1));

			if (!na) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			p->allowed = na;
			snprintf(na[p->n_allowed++], sizeof(*na), "%s", v);
		} else if (!strcmp(line, "preshared_key")) {
			p->has_psk = strspn(v, "0") != strlen(v);
		} else if (!strcmp(line, "last_handshake_time_sec")) {
			p->hs_sec = num(v);
		} else if (!strcmp(line, "rx_bytes")) {
			p->rx = num(v);
		} else if (!strcmp(line, "tx_bytes")) {
			p->tx = num(v);
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			p->keepalive = (unsigned)num(v);
		} else if (!strcmp(line, "mode")) {
			snprintf(p->mode, sizeof(p->mode), "%s", v);
		} else if (!strcmp(line, "refused_handshakes")) {
			p->refused = num(v);
		} else if (!strcmp(line, "name")) {
			snprintf(p->name, sizeof(p->name), "%s", v);
		}
	}
	return 0;
}

static void free_iface(struct st_iface *ifc)
{
	for (size_t i = 0; i < ifc->n_peers; i++)
		free(ifc->peers[i].allowed);
	free(ifc->peers);
}

static void print_bytes(uint64_t b)
{
	static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		printf("%" PRIu64 " B", b);
		return;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	printf("%.2f %s", v, unit[u]);
}

static void print_text(const struct st_iface *ifc, int first)
{
	uint64_t now = (uint64_t)time(NULL);

	printf("%sinterface: %s\n", first ? "" : "\n", ifc->name);
	printf("  public key: %s\n", ifc->public_key);
	printf("  listening port: %u\n", ifc->listen_port);
	if (ifc->fwmark)
		printf("  fwmark: 0x%x\n", ifc->fwmark);
	if (ifc->bad_mac || ifc->cookie_sent || ifc->cookie_limited || ifc->ratelimited)
		printf("  handshakes dropped: %" PRIu64 " with a bad mac1, %" PRIu64
		       " over the per-source limit\n  cookie replies: %" PRIu64
		       " sent, %" PRIu64 " withheld (over their bound)\n",
		       ifc->bad_mac, ifc->ratelimited, ifc->cookie_sent, ifc->cookie_limited);
	for (size_t i = 0; i < ifc->n_peers; i++) {
		const struct st_peer *p = &ifc->peers[i];

		printf("\npeer: %s\n", p->name[0] ? p->name : p->public_key);
		if (p->name[0])
			printf("  public key: %s\n", p->public_key);
		printf("  mode: %s\n", p->mode[0] ? p->mode : "unknown");
		if (p->endpoint[0])
			printf("  endpoint: %s\n", p->endpoint);
		printf("  allowed ips: ");
		for (size_t j = 0; j < p->n_allowed; j++)
			printf("%s%s", j ? ", " : "", p->allowed[j]);
		printf("%s\n", p->n_allowed ? "" : "(none)");
		if (p->hs_sec) {
			uint64_t ago = now > p->hs_sec ? now - p->hs_sec : 0;

			printf("  latest handshake: %" PRIu64 " second%s ago\n", ago,
			       ago == 1 ? "" : "s");
		} else {
			printf("  latest handshake: never\n");
		}
		printf("  transfer: ");
		print_bytes(p->rx);
		printf(" received, ");
		print_bytes(p->tx);
		printf(" sent\n");
		printf("  refused handshakes: %" PRIu64 "\n", p->refused);
		if (p->has_psk)
			printf("  preshared key: (set)\n");
		if (p->keepalive)
			printf("  persistent keepalive: every %u seconds\n", p->keepalive);
	}
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_str_or_null(const char *s)
{
	if (*s)
		json_str(s);
	else
		printf("null");
}

static void print_json(const struct st_iface *ifc, int first)
{
	uint64_t now = (uint64_t)time(NULL);

	printf("%s\n    {\n      \"name\": ", first ? "" : ",");
	json_str(ifc->name);
	printf(",\n      \"public_key\": ");
	json_str_or_null(ifc->public_key);
	printf(",\n      \"listen_port\": %u,\n      \"fwmark\": %u", ifc->listen_port,
	       ifc->fwmark);
	printf(",\n      \"handshakes_bad_mac\": %" PRIu64
	       ",\n      \"handshakes_ratelimited\": %" PRIu64
	       ",\n      \"cookie_replies_sent\": %" PRIu64
	       ",\n      \"cookie_replies_limited\": %" PRIu64 ",\n      \"peers\": [",
	       ifc->bad_mac, ifc->ratelimited, ifc->cookie_sent, ifc->cookie_limited);
	for (size_t i = 0; i < ifc->n_peers; i++) {
		const struct st_peer *p = &ifc->peers[i];

		printf("%s\n        {\n          \"name\": ", i ? "," : "");
		json_str_or_null(p->name);
		printf(",\n          \"public_key\": ");
		json_str(p->public_key);
		printf(",\n          \"mode\": ");
		json_str_or_null(p->mode);
		printf(",\n          \"endpoint\": ");
		json_str_or_null(p->endpoint);
		printf(",\n          \"allowed_ips\": [");
		for (size_t j = 0; j < p->n_allowed; j++) {
			printf("%s", j ? ", " : "");
			json_str(p->allowed[j]);
		}
		printf("],\n          \"latest_handshake\": %" PRIu64, p->hs_sec);
		if (p->hs_sec)
			printf(",\n          \"latest_handshake_seconds_ago\": %" PRIu64,
			       now > p->hs_sec ? now - p->hs_sec : 0);
		else
			printf(",\n          \"latest_handshake_seconds_ago\": null");
		printf(",\n          \"rx_bytes\": %" PRIu64 ",\n          \"tx_bytes\": %" PRIu64
		       ",\n          \"refused_handshakes\": %" PRIu64
		       ",\n          \"preshared_key\": %s"
		       ",\n          \"persistent_keepalive\": %u\n        }",
		       p->rx, p->tx, p->refused, p->has_psk ? "true" : "false", p->keepalive);
	}
	printf("%s]\n    }", ifc->n_peers ? "\n      " : "");
}

/* Queries and prints one interface; 0 or 1 (error printed). */
static int show(const char *name, int json, int first)
{
	struct st_iface ifc = { .name = name };
	char err[512], *resp;
	int r = 0;

	if (dv_uapi_query(name, "get=1\n\n", &resp, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn status: %s\n", err);
		return 1;
	}
	if (parse_get(resp, &ifc, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn status: %s: %s\n", name, err);
		r = 1;
	} else if (json) {
		print_json(&ifc, first);
	} else {
		print_text(&ifc, first);
	}
	sodium_memzero(resp, strlen(resp)); /* it held the private key */
	free(resp);
	free_iface(&ifc);
	return r;
}

int status_main(int argc, char **argv)
{
	const char *iface = NULL;
	char **names = NULL;
	int json = 0, n, r = 0, shown = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			status_usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !iface) {
			iface = argv[i];
		} else {
			status_usage(stderr);
			return 2;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "dybervpn status: libsodium failed to initialise\n");
		return 1;
	}
	if (iface) {
		n = 1;
	} else {
		n = dv_uapi_list(&names);
		if (n < 0) {
			perror("dybervpn status: " DV_SOCK_DIR);
			return 1;
		}
	}
	if (json)
		printf("{\n  \"interfaces\": [");
	for (int i = 0; i < n; i++) {
		int failed = show(iface ? iface : names[i], json, !shown);

		r |= failed;
		shown += !failed;
	}
	if (json)
		printf("%s]\n}\n", shown ? "\n  " : "");
	else if (!n)
		printf("no dybervpn interface is running\n");
	dv_uapi_list_free(names, iface ? 0 : n);
	return r;
}
