/* Reload: the request that takes a device from one config to the next
 * (platform/reload.c), applied to a real device through its control
 * protocol, and the routes a config asks for (platform/ifconfig.c). */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "device/device.h"
#include "platform/ifconfig.h"
#include "platform/reload.h"
#include "t.h"
#include "util/wipe.h"

#define PRIV1 "MDWpUu0lj3hWuad9xehcnfpq4Um9iTpmFE+L+bo27nc="
#define PUB2 "hfnIs8ZxN1pKHpkRk2BK7pbQ05okpZAd6vq9DiffWBY="
#define PUB3 "g2gHLeigQoWSRjiSJCgOtlxzuEK274a7cL2a496Se2s="
#define PUB4 "R/5OYfARiF1hTFi+w3cw+RD3aBjH4VgatxwNxCz1lCk="

static const char old_text[] =
	"[interface]\n"
	"name = \"dvr0\"\n"
	"private_key = \"" PRIV1 "\"\n"
	"listen_port = 51820\n"
	"address = [\"10.0.0.1/24\"]\n"
	"[[peer]]\n"
	"public_key = \"" PUB2 "\"\n"
	"allowed_ips = [\"10.0.0.2/32\", \"192.168.5.0/24\"]\n"
	"endpoint = \"192.0.2.2:51821\"\n"
	"persistent_keepalive = 25\n"
	"[[peer]]\n"
	"public_key = \"" PUB3 "\"\n"
	"allowed_ips = [\"0.0.0.0/0\", \"192.168.5.0/24\"]\n"
	"endpoint = \"192.0.2.3:1\"\n";

/* PUB2 gets another prefix, PUB3 goes, PUB4 comes. */
static const char new_text[] =
	"[interface]\n"
	"private_key = \"" PRIV1 "\"\n"
	"listen_port = 51820\n"
	"address = [\"10.0.0.1/24\"]\n"
	"[[peer]]\n"
	"public_key = \"" PUB2 "\"\n"
	"allowed_ips = [\"10.0.0.2/32\", \"192.168.6.0/24\"]\n"
	"endpoint = \"192.0.2.2:51821\"\n"
	"persistent_keepalive = 25\n"
	"[[peer]]\n"
	"public_key = \"" PUB4 "\"\n"
	"allowed_ips = [\"10.0.0.4/32\"]\n"
	"endpoint = \"192.0.2.4:51824\"\n"
	"mode = \"classic\"\n";

static int parse(const char *text, struct dv_config *cfg)
{
	char err[512];
	int r = dv_config_parse_ex("t.toml", text, strlen(text), cfg, err, sizeof(err),
				   NULL, NULL, DV_CONFIG_NO_RESOLVE);

	if (r)
		fprintf(stderr, "parse: %s\n", err);
	return r;
}

static void hex_of(const char *b64, char out[65])
{
	struct dv_config c;
	char text[512];

	/* The config decodes base64: borrow it for the peer key. */
	snprintf(text, sizeof(text),
		 "[interface]\nprivate_key = \"" PRIV1 "\"\n[[peer]]\npublic_key = \"%s\"\n",
		 b64);
	out[0] = 0;
	if (parse(text, &c))
		return;
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", c.peers[0].public_key[i]);
	dv_config_free(&c);
}

static int has_route(const struct dv_cidr *r, size_t n, const char *text)
{
	char buf[DV_CIDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		dv_cidr_format(&r[i], buf, sizeof(buf));
		if (!strcmp(buf, text))
			return 1;
	}
	return 0;
}

static void test_routes(void)
{
	struct dv_config c;
	struct dv_cidr *r;
	size_t n;

	T_CHECK(parse(old_text, &c) == 0);
	T_CHECK(dv_ifconfig_routes(&c, &r, &n) == 0);
	/* 10.0.0.2/32 is the address prefix's; 192.168.5.0/24 once; the
	 * default route whole: it makes IPv4 a full tunnel, whose routes go
	 * to a table of their own. */
	T_CHECK(n == 2);
	T_CHECK(has_route(r, n, "192.168.5.0/24"));
	T_CHECK(has_route(r, n, "0.0.0.0/0"));
	T_CHECK(!has_route(r, n, "10.0.0.2/32"));
	T_CHECK(dv_ifconfig_full_families(&c) == DV_FULL_V4);
	c.table = 51820;
	T_CHECK(dv_ifconfig_table(&c, AF_INET) == 51820);
	T_CHECK(dv_ifconfig_table(&c, AF_INET6) == 254);
	free(r);
	dv_config_free(&c);
	T_CHECK(parse(new_text, &c) == 0);
	T_CHECK(dv_ifconfig_routes(&c, &r, &n) == 0);
	T_CHECK(n == 1 && has_route(r, n, "192.168.6.0/24"));
	T_CHECK(dv_ifconfig_full_families(&c) == 0);
	T_CHECK(dv_ifconfig_table(&c, AF_INET) == 254);
	free(r);
	dv_config_free(&c);
	/* table = "off": no routes; table = N: all there, no full tunnel. */
	T_CHECK(parse("[interface]\nprivate_key = \"" PRIV1 "\"\n"
		      "table = \"off\"\n[[peer]]\npublic_key = "
		      "\"" PUB2 "\"\n"
		      "allowed_ips = [\"0.0.0.0/0\"]\n", &c) == 0);
	T_CHECK(dv_ifconfig_routes(&c, &r, &n) == 0 && n == 0);
	T_CHECK(dv_ifconfig_full_families(&c) == 0);
	free(r);
	dv_config_free(&c);
	T_CHECK(parse("[interface]\nprivate_key = \"" PRIV1 "\"\n"
		      "table = 1234\n[[peer]]\npublic_key = "
		      "\"" PUB2 "\"\n"
		      "allowed_ips = [\"0.0.0.0/0\", \"::/0\"]\n", &c) == 0);
	T_CHECK(dv_ifconfig_routes(&c, &r, &n) == 0 && n == 2);
	T_CHECK(dv_ifconfig_full_families(&c) == 0);
	T_CHECK(dv_ifconfig_table(&c, AF_INET6) == 1234);
	free(r);
	dv_config_free(&c);
}

static uint64_t now_ns(void *arg)
{
	return 1000000000ull;
}

static void udp_send(void *arg, const struct sockaddr *to, socklen_t tolen,
		     const uint8_t *buf, size_t len)
{
}

static void tun_write(void *arg, const uint8_t *pkt, size_t len)
{
}

static void test_request(void)
{
	struct dv_config old, neu;
	struct dv_io io = { .udp_send = udp_send, .tun_write = tun_write,
			    .now_ns = now_ns, .wall_ns = now_ns };
	struct dv_reload_summary sum;
	struct dv_device *d;
	uint8_t (*live)[32];
	size_t n_live, len, outlen = 0;
	char err[512], *req, *out = NULL, h2[65], h3[65], h4[65], line[128];

	hex_of(PUB2, h2);
	hex_of(PUB3, h3);
	hex_of(PUB4, h4);
	T_CHECK(parse(old_text, &old) == 0 && parse(new_text, &neu) == 0);
	d = dv_device_new(&old, &io, err, sizeof(err));
	T_CHECK(d != NULL);
	if (!d)
		return;
	T_CHECK(dv_device_peer_keys(d, &live, &n_live) == 0 && n_live == 2);
	dv_reload_forget_secrets(&old); /* as the daemon keeps it */
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) == 0);
	T_CHECK(sum.peers_added == 1 && sum.peers_removed == 1 && sum.peers_kept == 1);
	T_CHECK(!sum.port_changed && !strstr(req, "listen_port="));
	snprintf(line, sizeof(line), "public_key=%s\nremove=true\n", h3);
	T_CHECK(strstr(req, line) != NULL);
	/* The kept peer's endpoint did not change in the file: not sent, so
	 * an endpoint it roamed to stays; the new peer's is. */
	T_CHECK(strstr(req, "endpoint=192.0.2.2:51821") == NULL);
	T_CHECK(strstr(req, "endpoint=192.0.2.4:51824\n") != NULL);
	T_CHECK(strstr(req, "allowed_ip=192.168.6.0/24\n") != NULL);
	T_CHECK(strstr(req, "mode=classic\n") != NULL);
	T_CHECK(len == strlen(req) && len > 2 && !strcmp(req + len - 2, "\n\n"));

	/* Through the device's own control path: the result is the file. */
	T_CHECK(dv_uapi_handle(d, req, len, &out, &outlen) == 0);
	dv_wipe_free(req, len + 1);
	free(out);
	out = NULL;
	outlen = 0;
	T_CHECK(dv_uapi_handle(d, "get=1\n\n", 7, &out, &outlen) == 0);
	if (out) {
		out = realloc(out, outlen + 1);
		out[outlen] = 0;
		snprintf(line, sizeof(line), "public_key=%s\n", h3);
		T_CHECK(strstr(out, line) == NULL);
		snprintf(line, sizeof(line), "public_key=%s\n", h4);
		T_CHECK(strstr(out, line) != NULL);
		snprintf(line, sizeof(line), "public_key=%s\n", h2);
		T_CHECK(strstr(out, line) != NULL);
		T_CHECK(strstr(out, "allowed_ip=192.168.6.0/24\n") != NULL);
		T_CHECK(strstr(out, "allowed_ip=192.168.5.0/24\n") == NULL);
		T_CHECK(strstr(out, "allowed_ip=0.0.0.0/0\n") == NULL);
		T_CHECK(strstr(out, "endpoint=192.0.2.4:51824\n") != NULL);
		T_CHECK(strstr(out, "listen_port=51820\n") != NULL);
		dv_wipe_free(out, outlen + 1);
	}
	free(live);

	/* A changed endpoint and port are sent; nothing to remove any more. */
	T_CHECK(dv_device_peer_keys(d, &live, &n_live) == 0 && n_live == 2);
	neu.peers[0].endpoint.ss_family = AF_INET;
	((struct sockaddr_in *)&neu.peers[0].endpoint)->sin_port = htons(6000);
	neu.listen_port = 51830;
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) == 0);
	T_CHECK(sum.port_changed && strstr(req, "listen_port=51830\n"));
	T_CHECK(strstr(req, "endpoint=192.0.2.2:6000\n") != NULL);
	T_CHECK(strstr(req, "remove=true") == NULL);
	dv_wipe_free(req, len + 1);

	/* The handshake datagram budget goes through set=1 as well. */
	neu.handshake_datagram_max = old.handshake_datagram_max + 100;
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) == 0);
	snprintf(line, sizeof(line), "handshake_datagram_max=%u\n",
		 neu.handshake_datagram_max);
	T_CHECK(strstr(req, line) != NULL);
	dv_wipe_free(req, len + 1);

	/* A new metrics listener needs a restart. */
	neu.metrics_listen.ss_family = AF_INET;
	neu.metrics_listen_len = sizeof(struct sockaddr_in);
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) < 0);
	T_CHECK(strstr(err, "key 'metrics_listen'") && req == NULL);
	T_CHECK(!strncmp(err, "t.toml:1: key 'metrics_listen'", 30)); /* [interface] */
	neu.metrics_listen_len = 0;

	/* A new interface name cannot be applied live. */
	snprintf(neu.name, sizeof(neu.name), "other0");
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) < 0);
	T_CHECK(strstr(err, "key 'name'") && strstr(err, "restart") && req == NULL);
	/* The file's line is named: the new file had no name line here, so
	 * test the format with one. */
	neu.line_name = 3;
	T_CHECK(dv_reload_request(&old, &neu, (const uint8_t(*)[32])live, n_live, "dvr0",
				  &req, &len, &sum, err, sizeof(err)) < 0);
	T_CHECK(!strncmp(err, "t.toml:3: key 'name'", 20));
	free(live);
	dv_device_free(d);
	dv_config_free(&old);
	dv_config_free(&neu);
}

/* ML-DSA private key: the one in use is "same", another or none is not. */
static void test_mldsa_same(void)
{
	struct dv_config a, b;
	struct dv_io io = { .udp_send = udp_send, .tun_write = tun_write,
			    .now_ns = now_ns, .wall_ns = now_ns };
	struct dv_device *d;
	char err[256];

	T_CHECK(parse(old_text, &a) == 0 && parse(old_text, &b) == 0);
	d = dv_device_new(&a, &io, err, sizeof(err));
	T_CHECK(d && dv_device_mldsa_same(d, &b) == 1);
	b.has_mldsa_private_key = 1;
	b.mldsa_key_len = DV_MLDSA_SEED_LEN;
	memset(b.mldsa_seed_or_sk, 7, DV_MLDSA_SEED_LEN);
	T_CHECK(dv_device_mldsa_same(d, &b) == 0);
	dv_device_free(d);
	a.has_mldsa_private_key = 1;
	a.mldsa_key_len = DV_MLDSA_SEED_LEN;
	memset(a.mldsa_seed_or_sk, 7, DV_MLDSA_SEED_LEN);
	d = dv_device_new(&a, &io, err, sizeof(err));
	T_CHECK(d && dv_device_mldsa_same(d, &b) == 1);
	b.mldsa_seed_or_sk[0] ^= 1;
	T_CHECK(d && dv_device_mldsa_same(d, &b) == 0);
	b.has_mldsa_private_key = 0;
	T_CHECK(d && dv_device_mldsa_same(d, &b) == 0);
	dv_device_free(d);
	dv_config_free(&a);
	dv_config_free(&b);
}

int main(void)
{
	T_RUN(test_routes);
	T_RUN(test_request);
	T_RUN(test_mldsa_same);
	return t_done();
}
