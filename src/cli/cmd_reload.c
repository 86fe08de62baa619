/* dybervpn reload: ask a running daemon to re-read its config file and
 * apply the difference, and report what it said. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/paths.h"
#include "platform/uapi_client.h"

/* The daemon reads the file and resolves its host names before it
 * answers; the resolver's own time-outs (5 s a try by default) bound it. */
#define RELOAD_WAIT_MS 60000

static void reload_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn reload IFACE\n\n"
		"Make the daemon running IFACE re-read the config file it was started\n"
		"from (as SIGHUP does) and apply the difference without dropping\n"
		"sessions: peers added and removed, allowed IPs, endpoints, keepalives,\n"
		"preshared keys, per-peer modes and ML-DSA public keys, the private key,\n"
		"the listen port, addresses, MTU and routes. The whole file is checked\n"
		"first: a bad file changes nothing. A new interface name or ML-DSA\n"
		"private key needs a restart and is refused.\n"
		"Prints the daemon's answer; exit status 0 when it was applied, 1 when\n"
		"not (the message names file:line:key), 2 usage.\n");
}

/* The value of "key=" in a control response, up to its line end, copied
 * into buf; "" if absent. */
static void response_value(const char *resp, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key);
	const char *p = resp;

	buf[0] = 0;
	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			const char *v = p + kl + 1, *e = strchr(v, '\n');
			size_t n = e ? (size_t)(e - v) : strlen(v);

			if (n >= len)
				n = len - 1;
			memcpy(buf, v, n);
			buf[n] = 0;
			return;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
}

int reload_main(int argc, char **argv)
{
	char err[512], msg[2048], num[16], *out = NULL;
	int e;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		reload_usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		reload_usage(stderr);
		return 2;
	}
	if (dv_uapi_query_wait(argv[1], "reload=1\n\n", RELOAD_WAIT_MS, &out, err,
			       sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn reload: %s\n", err);
		return 1;
	}
	response_value(out, "reload_message", msg, sizeof(msg));
	response_value(out, "errno", num, sizeof(num));
	free(out);
	e = atoi(num);
	if (!msg[0]) {
		/* A daemon without reload answers the unknown request EINVAL. */
		fprintf(stderr, "dybervpn reload: %s did not reload (errno=%s): does "
			"its daemon know reload?\n", argv[1], num[0] ? num : "?");
		return 1;
	}
	if (e) {
		fprintf(stderr, "dybervpn reload: %s\n", msg);
		return 1;
	}
	printf("%s\n", msg);
	return 0;
}
