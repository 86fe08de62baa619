/* The cross-platform control protocol: get=1 keys and their format, set=1
 * round trips (device keys, adding, updating and removing peers, allowed
 * IPs, replace_peers, private key change), and malformed requests refused
 * with errno=22 and no change at all. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "device/internal.h"
#include "fake_io.h"
#include "t.h"

static uint64_t clk;
static struct fake A, B;

static void hex(char out[65], const uint8_t k[32])
{
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", k[i]);
}

/* Runs one request; returns the response (static, NUL-terminated). */
static char *req(const char *r, int *rc)
{
	static char resp[65536];
	char *out = NULL;
	size_t outlen = 0;

	*rc = dv_uapi_handle(A.dev, r, strlen(r), &out, &outlen);
	snprintf(resp, sizeof(resp), "%.*s", (int)outlen, out ? out : "");
	free(out);
	return resp;
}

static char *get(void)
{
	int rc;
	char *r = req("get=1\n\n", &rc);

	T_CHECK(rc == 0);
	return r;
}

static int has_line(const char *resp, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = resp; (p = strstr(p, line)); p++)
		if ((p == resp || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void setup(void)
{
	struct fake *pb = &B;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, DV_MODE_HYBRID, &pb, NULL, 1) != NULL);
}

static void teardown(void)
{
	fake_stop(&A);
	free(B.sent);
	free(B.tun);
}

static void test_get(void)
{
	char h[65], line[128], *r;

	setup();
	r = get();
	hex(h, A.priv);
	snprintf(line, sizeof(line), "private_key=%s", h);
	T_CHECK(has_line(r, line));
	T_CHECK(has_line(r, "listen_port=1"));
	T_CHECK(!strstr(r, "fwmark="));
	hex(h, B.pub);
	snprintf(line, sizeof(line), "public_key=%s", h);
	T_CHECK(has_line(r, line));
	T_CHECK(has_line(r, "preshared_key=0000000000000000000000000000000000000000000000000000000000000000"));
	T_CHECK(has_line(r, "protocol_version=1"));
	T_CHECK(has_line(r, "endpoint=127.0.0.1:2"));
	T_CHECK(has_line(r, "last_handshake_time_sec=0"));
	T_CHECK(has_line(r, "last_handshake_time_nsec=0"));
	T_CHECK(has_line(r, "tx_bytes=0"));
	T_CHECK(has_line(r, "rx_bytes=0"));
	T_CHECK(has_line(r, "persistent_keepalive_interval=0"));
	T_CHECK(has_line(r, "allowed_ip=10.0.0.2/32"));
	T_CHECK(has_line(r, "allowed_ip=fd00::2/128"));
	T_CHECK(has_line(r, "mode=hybrid"));
	T_CHECK(has_line(r, "refused_handshakes=0"));
	/* The extension keys come after the standard ones of their peer. */
	T_CHECK(strstr(r, "mode=hybrid") > strstr(r, "allowed_ip=fd00::2/128"));
	T_CHECK(strlen(r) > 10 && !strcmp(r + strlen(r) - 10, "\nerrno=0\n\n"));
	teardown();
}

static void test_set_round_trip(void)
{
	uint8_t cpub[32], cpriv[32];
	char hc[65], hb[65], r[2048], line[128], *g;
	int rc;

	setup();
	dv_random(cpriv, 32);
	dv_x25519_base(cpub, cpriv);
	hex(hc, cpub);
	hex(hb, B.pub);
	snprintf(r, sizeof(r),
		 "set=1\nlisten_port=5555\nfwmark=7\n"
		 "public_key=%s\npreshared_key=%s\nendpoint=[2001:db8::1]:51820\n"
		 "persistent_keepalive_interval=0\nallowed_ip=192.168.7.0/24\n"
		 "allowed_ip=2001:db8:7::/48\nprotocol_version=1\n"
		 "public_key=%s\nreplace_allowed_ips=true\nallowed_ip=10.9.0.0/16\n"
		 "endpoint=10.1.2.3:4567\n\n",
		 hc, hb, hb);
	g = req(r, &rc);
	T_CHECK(rc == 0 && !strcmp(g, "errno=0\n\n"));
	T_CHECK(dv_device_listen_port(A.dev) == 5555);
	T_CHECK(dv_device_fwmark(A.dev) == 7);
	g = get();
	T_CHECK(has_line(g, "listen_port=5555"));
	T_CHECK(has_line(g, "fwmark=7"));
	snprintf(line, sizeof(line), "public_key=%s", hc);
	T_CHECK(has_line(g, line));
	snprintf(line, sizeof(line), "preshared_key=%s", hb);
	T_CHECK(has_line(g, line));
	T_CHECK(has_line(g, "endpoint=[2001:db8::1]:51820"));
	T_CHECK(has_line(g, "allowed_ip=192.168.7.0/24"));
	T_CHECK(has_line(g, "allowed_ip=2001:db8:7::/48"));
	/* B's allowed IPs were replaced, its endpoint moved. */
	T_CHECK(!has_line(g, "allowed_ip=10.0.0.2/32"));
	T_CHECK(has_line(g, "allowed_ip=10.9.0.0/16"));
	T_CHECK(has_line(g, "endpoint=10.1.2.3:4567"));
	/* A peer added by set gets the interface's mode. */
	T_CHECK(dv_peer_by_key(A.dev, cpub)->np.mode == DV_MODE_HYBRID);
	T_CHECK(A.dev->n_peers == 2);

	/* A link-local endpoint keeps its scope. */
	snprintf(r, sizeof(r), "set=1\npublic_key=%s\nendpoint=[fe80::1%%7]:9\n\n", hb);
	req(r, &rc);
	T_CHECK(rc == 0 && has_line(get(), "endpoint=[fe80::1%7]:9"));

	/* update_only does not create; remove removes. */
	dv_random(cpriv, 32);
	dv_x25519_base(cpub, cpriv);
	hex(hc, cpub);
	snprintf(r, sizeof(r), "set=1\npublic_key=%s\nupdate_only=true\nallowed_ip=1.1.1.1/32\n\n", hc);
	req(r, &rc);
	T_CHECK(rc == 0 && A.dev->n_peers == 2 && !dv_peer_by_key(A.dev, cpub));
	snprintf(r, sizeof(r), "set=1\npublic_key=%s\nremove=true\n\n", hb);
	req(r, &rc);
	T_CHECK(rc == 0 && A.dev->n_peers == 1 && !dv_peer_by_key(A.dev, B.pub));
	T_CHECK(!has_line(get(), "allowed_ip=10.9.0.0/16"));

	/* replace_peers, then a new private key. */
	snprintf(r, sizeof(r), "set=1\nreplace_peers=true\npublic_key=%s\nallowed_ip=10.0.0.2/32\n\n", hb);
	req(r, &rc);
	T_CHECK(rc == 0 && A.dev->n_peers == 1 && dv_peer_by_key(A.dev, B.pub));
	hex(hc, cpriv);
	snprintf(r, sizeof(r), "set=1\nprivate_key=%s\n\n", hc);
	req(r, &rc);
	T_CHECK(rc == 0 && !memcmp(A.dev->local.pub, cpub, 32));
	snprintf(line, sizeof(line), "private_key=%s", hc);
	T_CHECK(has_line(get(), line));
	/* A peer naming our own key is skipped, as wireguard-go does. */
	hex(hc, cpub);
	snprintf(r, sizeof(r), "set=1\npublic_key=%s\nallowed_ip=10.5.0.0/16\n\n", hc);
	req(r, &rc);
	T_CHECK(rc == 0 && A.dev->n_peers == 1);
	teardown();
}

static int fake_port_busy(void *arg, uint16_t port, uint16_t *bound)
{
	(void)arg;
	(void)port;
	(void)bound;
	return -EADDRINUSE;
}

static void test_malformed(void)
{
	static const char *bad[] = {
		"listen_port=70000", "listen_port=", "listen_port=-1",
		"listen_port=12a", "fwmark=4294967296", "fwmark=x",
		"private_key=zz", "private_key=00", "replace_peers=false",
		"public_key=1234", "allowed_ip=10.0.0.0/33", "allowed_ip=1.2.3.4",
		"allowed_ip=fd00::/129", "allowed_ip=nonsense/8",
		"endpoint=1.2.3.4", "endpoint=[::1]:0", "endpoint=[::1]51820",
		"endpoint=host.example:51820", "protocol_version=2",
		"remove=yes", "update_only=1", "replace_allowed_ips=false",
		"persistent_keepalive_interval=65536", "foo=bar", "no equals sign",
		"listen_port=1234", /* a device key after a peer */
		"public_key=0000000000000000000000000000000000000000000000000000000000000000",
		"preshared_key=0g00000000000000000000000000000000000000000000000000000000000000",
	};
	char hb[65], r[1024], before[65536], *g;
	int rc;

	setup();
	hex(hb, B.pub);
	snprintf(before, sizeof(before), "%s", get());
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* Valid changes first, the bad line last: nothing may apply. */
		snprintf(r, sizeof(r),
			 "set=1\nlisten_port=777\nfwmark=3\npublic_key=%s\n"
			 "allowed_ip=172.16.0.0/12\nendpoint=9.9.9.9:9\n%s\n\n",
			 hb, bad[i]);
		g = req(r, &rc);
		T_CHECK(rc == EINVAL && !strcmp(g, "errno=22\n\n"));
		if (rc != EINVAL)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
		T_CHECK(!strcmp(get(), before));
	}
	/* Framing: no final blank line, junk after it, unknown operation. */
	req("set=1\nlisten_port=5\n", &rc);
	T_CHECK(rc == EINVAL);
	req("set=1\nlisten_port=5\n\nlisten_port=6\n", &rc);
	T_CHECK(rc == EINVAL);
	req("get=2\n\n", &rc);
	T_CHECK(rc == EINVAL);
	req("", &rc);
	T_CHECK(rc == EINVAL);
	T_CHECK(!strcmp(get(), before));
	/* The platform refusing the port: its errno, nothing applied. */
	A.dev->io.set_listen_port = fake_port_busy;
	g = req("set=1\nlisten_port=80\nfwmark=5\n\n", &rc);
	T_CHECK(rc == EADDRINUSE && !strcmp(g, "errno=98\n\n"));
	T_CHECK(!strcmp(get(), before));
	/* An empty set is fine. */
	req("set=1\n\n", &rc);
	T_CHECK(rc == 0);
	teardown();
}

static unsigned port_calls;
static uint32_t socket_mark;

static int fake_port_ok(void *arg, uint16_t port, uint16_t *bound)
{
	(void)arg;
	*bound = port;
	port_calls++;
	return 0;
}

static int fake_mark_refused(void *arg, uint32_t mark)
{
	(void)arg;
	(void)mark;
	return -EPERM;
}

static int fake_mark_ok(void *arg, uint32_t mark)
{
	(void)arg;
	socket_mark = mark;
	return 0;
}

/* The platform may refuse the port or the fwmark (SO_MARK needs
 * CAP_NET_ADMIN): either way the request answers that errno and the
 * socket and the device keep their old port and mark. */
static void test_platform_refusal_atomic(void)
{
	char before[4096];
	int rc;

	setup();
	snprintf(before, sizeof(before), "%s", get());
	A.dev->io.set_listen_port = fake_port_ok;
	A.dev->io.set_fwmark = fake_mark_refused;
	port_calls = 0;
	req("set=1\nlisten_port=81\nfwmark=5\n\n", &rc);
	T_CHECK(rc == EPERM);
	T_CHECK(port_calls == 0); /* the socket was not rebound */
	T_CHECK(!strcmp(get(), before));
	A.dev->io.set_listen_port = fake_port_busy;
	A.dev->io.set_fwmark = fake_mark_ok;
	socket_mark = 0;
	req("set=1\nlisten_port=81\nfwmark=5\n\n", &rc);
	T_CHECK(rc == EADDRINUSE);
	T_CHECK(socket_mark == 0); /* the old mark is back on the socket */
	T_CHECK(!strcmp(get(), before));
	teardown();
}

static void test_append(void)
{
	char *out = malloc(4);
	size_t outlen = 3;

	setup();
	memcpy(out, "abc", 3);
	T_CHECK(dv_uapi_handle(A.dev, "get=1\n\n", 7, &out, &outlen) == 0);
	T_CHECK(outlen > 3 && !memcmp(out, "abcprivate_key=", 15));
	free(out);
	teardown();
}

int main(void)
{
	T_RUN(test_get);
	T_RUN(test_set_round_trip);
	T_RUN(test_malformed);
	T_RUN(test_append);
	T_RUN(test_platform_refusal_atomic);
	return t_done();
}
