/* dybervpn metrics: the running interfaces' counters in Prometheus text
 * exposition format (src/platform/metrics.h lists the families), read
 * over their control sockets as `dybervpn status` does. For node_exporter's
 * textfile collector, or anything else that scrapes text. */
#include "cli/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/metrics.h"
#include "platform/paths.h"
#include "platform/uapi_client.h"

static void metrics_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn metrics [IFACE]\n\n"
		"Print the counters of a running interface (default: every interface\n"
		"dybervpn runs) in Prometheus text exposition format: bytes sent and\n"
		"received and the latest handshake per peer (the names of\n"
		"prometheus_wireguard_exporter), each peer's mode, handshakes\n"
		"completed and refused, packets dropped by reason, cookie replies.\n"
		"For node_exporter's textfile collector, write a temporary file and\n"
		"rename it, so that no scrape sees half a file:\n\n"
		"  dybervpn metrics > DIR/dybervpn.prom.tmp && mv DIR/dybervpn.prom.tmp DIR/dybervpn.prom\n\n"
		"Exit status 1 when an interface could not be read (the others are\n"
		"still printed).\n\n"
		"  -h, --help  this help\n");
}

int metrics_main(int argc, char **argv)
{
	struct dv_metrics m = { 0 };
	const char *iface = NULL;
	char **names = NULL, err[512], *text = NULL;
	size_t textlen = 0;
	int n, r = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			metrics_usage(stdout);
			return 0;
		} else if (argv[i][0] != '-' && !iface) {
			iface = argv[i];
		} else {
			metrics_usage(stderr);
			return 2;
		}
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "dybervpn metrics: libsodium failed to initialise\n");
		return 1;
	}
	if (iface) {
		n = 1;
	} else {
		n = dv_uapi_list(&names);
		if (n < 0) {
			perror("dybervpn metrics: " DV_SOCK_DIR);
			return 1;
		}
	}
	for (int i = 0; i < n; i++) {
		const char *name = iface ? iface : names[i];
		char *resp;

		if (dv_uapi_query(name, "get=1\n\n", &resp, err, sizeof(err)) < 0) {
			fprintf(stderr, "dybervpn metrics: %s\n", err);
			r = 1;
			continue;
		}
		if (dv_metrics_add(&m, name, resp, err, sizeof(err)) < 0) {
			fprintf(stderr, "dybervpn metrics: %s: %s\n", name, err);
			r = 1;
		}
		sodium_memzero(resp, strlen(resp)); /* it held the private key */
		free(resp);
	}
	dv_uapi_list_free(names, iface ? 0 : n);
	if (dv_metrics_render(&m, &text, &textlen) < 0) {
		fprintf(stderr, "dybervpn metrics: out of memory\n");
		r = 1;
	} else if (fwrite(text, 1, textlen, stdout) != textlen || fflush(stdout) != 0) {
		perror("dybervpn metrics: stdout");
		r = 1;
	}
	free(text);
	dv_metrics_free(&m);
	return r;
}
