/* The cross-platform control protocol: get=1 keys and their format, set=1
 * round trips (device keys, adding, updating and removing peers, allowed
 * IPs, replace_peers, private key change, the mode= and mldsa_public_key=
 * extensions), malformed requests refused with errno=22 and no change at
 * all, and a pqonly handshake with a peer whose ML-DSA key came by set=1. */
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

/* Hex of an ML-DSA-65 public key (1952 bytes). */
static void hex_mldsa(char out[2 * 1952 + 1], const uint8_t k[1952])
{
	for (int i = 0; i < 1952; i++)
		sprintf(out + 2 * i, "%02x", k[i]);
}

/* Runs one request on dev; returns the response (static, NUL-terminated). */
static char *req_on(struct dv_device *dev, const char *r, int *rc)
{
	static char resp[65536];
	char *out = NULL;
	size_t outlen = 0;

	*rc = dv_uapi_handle(dev, r, strlen(r), &out, &outlen);
	snprintf(resp, sizeof(resp), "%.*s", (int)outlen, out ? out : "");
	free(out);
	return resp;
}

static char *req(const char *r, int *rc)
{
	return req_on(A.dev, r, rc);
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
	/* B's ML-DSA key (from the config) comes last. */
	T_CHECK(strstr(r, "mldsa_public_key=") > strstr(r, "refused_handshakes="));
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
	static char before[65536];
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

static char mh[2 * 1952 + 1], big[16384];

/* The section of resp for the peer pub: from its "public_key=" line on. */
static const char *section(const char *resp, const uint8_t pub[32])
{
	char h[65], line[80];
	const char *s;

	hex(h, pub);
	snprintf(line, sizeof(line), "\npublic_key=%s\n", h);
	s = strstr(resp, line);
	return s ? s + 1 : NULL;
}

/* mode= and mldsa_public_key= through set=1 and back through get=1;
 * changing either drops the handshake in progress. */
static void test_mode_mldsa_round_trip(void)
{
	static char line[2 * 1952 + 32];
	struct fake C;
	struct dv_peer *pb, *pc;
	const char *sc, *next;
	char hb[65], hc[65], *g;
	int rc;

	setup();
	fake_identity(&C, 3);
	hex(hb, B.pub);
	hex(hc, C.pub);
	/* B's key, from the config, is reported. */
	hex_mldsa(mh, B.mldsa_pk);
	snprintf(line, sizeof(line), "mldsa_public_key=%s", mh);
	T_CHECK(has_line(get(), line));

	/* A new peer with both extension keys. */
	hex_mldsa(mh, C.mldsa_pk);
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nmode=pqonly\nmldsa_public_key=%s\n"
		 "allowed_ip=10.0.0.3/32\n\n", hc, mh);
	g = req(big, &rc);
	T_CHECK(rc == 0 && !strcmp(g, "errno=0\n\n"));
	pc = dv_peer_by_key(A.dev, C.pub);
	T_CHECK(pc && pc->np.mode == DV_MODE_PQONLY && pc->np.has_mldsa_pk &&
		!memcmp(pc->np.mldsa_pk, C.mldsa_pk, 1952));
	g = get();
	sc = section(g, C.pub);
	T_CHECK(sc != NULL);
	next = sc ? strstr(sc + 1, "\npublic_key=") : NULL;
	snprintf(line, sizeof(line), "\nmldsa_public_key=%s\n", mh);
	T_CHECK(sc && strstr(sc, "\nmode=pqonly\n") &&
		strstr(sc, "\nmode=pqonly\n") < strstr(sc, line) &&
		(!next || strstr(sc, line) < next));

	/* A mode change drops A's initiation to B, keeps B's ML-DSA key. */
	pb = dv_peer_by_key(A.dev, B.pub);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(pb->np.hs && pb->np.hs->state == NOISE_HS_CREATED_INITIATION &&
		pb->hs_entry.index != 0);
	snprintf(big, sizeof(big), "set=1\npublic_key=%s\nmode=classic\n\n", hb);
	req(big, &rc);
	T_CHECK(rc == 0 && pb->np.mode == DV_MODE_CLASSIC);
	T_CHECK(!pb->np.hs && pb->hs_entry.index == 0);
	T_CHECK(pb->np.has_mldsa_pk && !memcmp(pb->np.mldsa_pk, B.mldsa_pk, 1952));
	g = get();
	T_CHECK(section(g, B.pub) && strstr(section(g, B.pub), "\nmode=classic\n"));

	/* A new ML-DSA key alone drops it too. */
	clk += 6 * DV_NSEC_PER_SEC; /* past the REKEY_TIMEOUT rate limit */
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(pb->np.hs && pb->np.hs->state == NOISE_HS_CREATED_INITIATION &&
		pb->hs_entry.index != 0);
	snprintf(big, sizeof(big), "set=1\npublic_key=%s\nmldsa_public_key=%s\n\n",
		 hb, mh);
	req(big, &rc);
	T_CHECK(rc == 0 && pb->np.mode == DV_MODE_CLASSIC);
	T_CHECK(!pb->np.hs && pb->hs_entry.index == 0);
	T_CHECK(!memcmp(pb->np.mldsa_pk, C.mldsa_pk, 1952));
	/* Upstream's spelling "pq-only". */
	snprintf(big, sizeof(big), "set=1\npublic_key=%s\nmode=pq-only\n\n", hb);
	req(big, &rc);
	T_CHECK(rc == 0 && pb->np.mode == DV_MODE_PQONLY);
	/* Both B and C now report C's key. */
	g = get();
	sc = strstr(g, line);
	T_CHECK(sc && strstr(sc + 1, line));

	/* mode=pqonly in one entry, the key in a later one for the same
	 * peer: only the state the request leaves counts. */
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nremove=true\npublic_key=%s\n"
		 "mode=pqonly\npublic_key=%s\nmldsa_public_key=%s\n\n",
		 hc, hc, hc, mh);
	req(big, &rc);
	pc = dv_peer_by_key(A.dev, C.pub);
	T_CHECK(rc == 0 && pc && pc->np.mode == DV_MODE_PQONLY &&
		pc->np.has_mldsa_pk);
	free(C.sent);
	free(C.tun);
	teardown();
}

/* Malformed extension values, and peers left pqonly without both ML-DSA
 * keys: errno=22, nothing changed. */
static void test_mode_mldsa_refused(void)
{
	static char before[65536], bad[4][2 * 1952 + 32];
	static const char *simple[] = {
		"mode=quantum", "mode=", "mode=pqonly ", "mldsa_public_key=",
		"mldsa_public_key=00",
	};
	uint8_t dpub[32], dpriv[32];
	char hb[65], hd[65], *g;
	size_t nbad = 0;
	int rc;

	setup();
	hex(hb, B.pub);
	hex_mldsa(mh, B.mldsa_pk);
	/* Bad hex, one byte short, one byte long, odd length. */
	snprintf(bad[nbad++], sizeof(bad[0]), "mldsa_public_key=g%s", mh + 1);
	snprintf(bad[nbad++], sizeof(bad[0]), "mldsa_public_key=%.*s",
		 2 * 1952 - 2, mh);
	snprintf(bad[nbad++], sizeof(bad[0]), "mldsa_public_key=%s00", mh);
	snprintf(bad[nbad++], sizeof(bad[0]), "mldsa_public_key=%.*s",
		 2 * 1952 - 1, mh);
	snprintf(before, sizeof(before), "%s", get());
	for (size_t i = 0; i < nbad + sizeof(simple) / sizeof(simple[0]); i++) {
		const char *b = i < nbad ? bad[i] : simple[i - nbad];

		snprintf(big, sizeof(big),
			 "set=1\nlisten_port=777\npublic_key=%s\nmode=classic\n"
			 "allowed_ip=172.16.0.0/12\n%s\n\n", hb, b);
		g = req(big, &rc);
		T_CHECK(rc == EINVAL && !strcmp(g, "errno=22\n\n"));
		if (rc != EINVAL)
			fprintf(stderr, "  accepted: %.40s\n", b);
		T_CHECK(!strcmp(get(), before));
	}
	/* The extension keys belong to a peer, not to the device. */
	snprintf(big, sizeof(big), "set=1\nmldsa_public_key=%s\n\n", mh);
	req(big, &rc);
	T_CHECK(rc == EINVAL);
	req("set=1\nmode=classic\n\n", &rc);
	T_CHECK(rc == EINVAL);

	/* A new peer made pqonly without its ML-DSA key. */
	dv_random(dpriv, 32);
	dv_x25519_base(dpub, dpriv);
	hex(hd, dpub);
	snprintf(big, sizeof(big),
		 "set=1\nfwmark=9\npublic_key=%s\nmode=pqonly\n"
		 "allowed_ip=10.7.0.0/16\n\n", hd);
	req(big, &rc);
	T_CHECK(rc == EINVAL && !strcmp(get(), before));
	/* The key given, then the peer removed and re-added pqonly. */
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nmldsa_public_key=%s\n"
		 "public_key=%s\nremove=true\npublic_key=%s\nmode=pqonly\n\n",
		 hd, mh, hd, hd);
	req(big, &rc);
	T_CHECK(rc == EINVAL && !strcmp(get(), before));
	/* An existing peer made pqonly on an interface without an ML-DSA
	 * private key. */
	A.dev->local.has_mldsa = false;
	snprintf(big, sizeof(big), "set=1\npublic_key=%s\nmode=pqonly\n\n", hb);
	req(big, &rc);
	T_CHECK(rc == EINVAL);
	A.dev->local.has_mldsa = true;
	T_CHECK(!strcmp(get(), before));
	/* On a pqonly interface, the stock `wg` adding a peer (it cannot
	 * send the key) is refused rather than left unusable... */
	A.dev->mode = DV_MODE_PQONLY;
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nallowed_ip=10.7.0.0/16\n\n", hd);
	req(big, &rc);
	T_CHECK(rc == EINVAL && !strcmp(get(), before));
	/* ... and accepted with the key; B is untouched. */
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nmldsa_public_key=%s\n\n", hd, mh);
	req(big, &rc);
	T_CHECK(rc == 0 && dv_peer_by_key(A.dev, dpub) &&
		dv_peer_by_key(A.dev, dpub)->np.mode == DV_MODE_PQONLY);
	T_CHECK(dv_peer_by_key(A.dev, B.pub)->np.mode == DV_MODE_HYBRID);
	teardown();
}

/* A pqonly handshake where the responder B learned the initiator's ML-DSA
 * key only through set=1 (B starts with no peers at all); a later mode
 * change keeps the established session. */
static void test_pqonly_handshake_via_set(void)
{
	struct fake *pb = &B, *both[2] = { &A, &B };
	struct dv_keypair *kp;
	struct dv_peer *pa;
	char ha[65];
	int rc;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, DV_MODE_PQONLY, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_HYBRID, NULL, NULL, 0) != NULL);
	hex(ha, A.pub);
	hex_mldsa(mh, A.mldsa_pk);
	snprintf(big, sizeof(big),
		 "set=1\npublic_key=%s\nmode=pqonly\nmldsa_public_key=%s\n"
		 "endpoint=127.0.0.1:1\nallowed_ip=10.0.0.1/32\n\n", ha, mh);
	req_on(B.dev, big, &rc);
	T_CHECK(rc == 0);
	pa = dv_peer_by_key(B.dev, A.pub);
	T_CHECK(pa && pa->np.mode == DV_MODE_PQONLY);
	if (!pa) {
		fake_stop(&A);
		fake_stop(&B);
		return;
	}

	tun_send(&A, 1, 2, 60, 0x5a);
	T_CHECK(count_msgs(&A, DV_MSG_PQ_INITIATION) == 1);
	pump(both, 2);
	T_CHECK(B.ntun == 1 && B.tun[0].len == 60 && B.tun[0].buf[40] == 0x5a);
	T_CHECK(pa->cur && pa->cur->k.mode == DV_MODE_PQONLY);
	T_CHECK(A.dev->peers->cur &&
		A.dev->peers->cur->k.mode == DV_MODE_PQONLY);

	/* The established session survives a mode change. */
	kp = pa->cur;
	snprintf(big, sizeof(big), "set=1\npublic_key=%s\nmode=hybrid\n\n", ha);
	req_on(B.dev, big, &rc);
	T_CHECK(rc == 0 && pa->np.mode == DV_MODE_HYBRID && pa->cur == kp);
	tun_send(&B, 2, 1, 60, 0x6b);
	pump(both, 2);
	T_CHECK(A.ntun == 1 && A.tun[0].buf[40] == 0x6b);
	fake_stop(&A);
	fake_stop(&B);
}

/* The extension key handshake_datagram_max: read back by get, set within
 * 548..4657, anything else refused with nothing applied; the next
 * handshake uses the new budget. */
static void test_handshake_budget(void)
{
	static const char *bad[] = { "547", "4658", "0", "x", "", "-1", "99999999999" };
	char r[256];
	int rc;

	setup();
	T_CHECK(has_line(get(), "handshake_datagram_max=1232"));
	req("set=1\nhandshake_datagram_max=548\n\n", &rc);
	T_CHECK(rc == 0 && has_line(get(), "handshake_datagram_max=548"));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(r, sizeof(r), "set=1\nfwmark=3\nhandshake_datagram_max=%s\n\n",
			 bad[i]);
		req(r, &rc);
		T_CHECK(rc == EINVAL);
		T_CHECK(has_line(get(), "handshake_datagram_max=548"));
		T_CHECK(dv_device_fwmark(A.dev) == 0);
	}
	req("set=1\nhandshake_datagram_max=4657\n\n", &rc);
	T_CHECK(rc == 0 && has_line(get(), "handshake_datagram_max=4657"));
	teardown();
}

/* feed(r, text): each line of text to the request; the last result. */
static int feed(struct dv_uapi_req *r, const char *text)
{
	int rc = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');

		rc = dv_uapi_req_line(r, p, (size_t)(nl - p));
		p = nl + 1;
	}
	return rc;
}

/* The line-by-line API: a set of many peers staged then applied at its
 * blank line, refused whole when one line (the last) is bad, then a get
 * answered in parts that hold every peer with its allowed IP; two
 * requests in a row on one object. */
static void test_streaming(void)
{
	enum { N = 2000 };
	struct dv_uapi_req *r;
	char line[160], hk[65], *out = NULL;
	size_t outlen = 0;
	unsigned parts = 0, listed = 0, aips = 0;
	uint8_t k[32];
	int rc;

	setup();
	r = dv_uapi_req_new(A.dev);
	T_CHECK(r != NULL);
	if (!r) {
		teardown();
		return;
	}
	for (int round = 0; round < 2; round++) {
		T_CHECK(feed(r, "set=1\n") == 0);
		for (unsigned i = 0; i < N; i++) {
			memset(k, 0, sizeof(k));
			k[0] = 0x40;
			k[1] = (uint8_t)(i >> 8);
			k[2] = (uint8_t)i;
			k[3] = 1;
			hex(hk, k);
			snprintf(line, sizeof(line),
				 "public_key=%s\nallowed_ip=10.77.%u.%u/32\n",
				 hk, i >> 8, i & 255);
			T_CHECK(feed(r, line) == 0);
		}
		/* Round 0 ends with a bad line: nothing of it applies. */
		if (round == 0)
			T_CHECK(feed(r, "allowed_ip=10.0.0.0/33\n") == 0);
		T_CHECK(dv_uapi_req_line(r, "", 0) == 1);
		rc = dv_uapi_req_output(r, &out, &outlen);
		T_CHECK(rc == 0);
		T_CHECK(outlen == (round ? 9u : 10u) &&
			!memcmp(out, round ? "errno=0\n\n" : "errno=22\n\n",
				outlen));
		free(out);
		out = NULL;
		outlen = 0;
		T_CHECK(A.dev->n_peers == (round ? N + 1u : 1u));
	}
	T_CHECK(feed(r, "get=1\n") == 0);
	T_CHECK(dv_uapi_req_line(r, "", 0) == 1);
	do {
		rc = dv_uapi_req_output(r, &out, &outlen);
		parts++;
	} while (rc == 1);
	T_CHECK(rc == 0 && parts > 1);
	if (out) {
		out = realloc(out, outlen + 1);
		out[outlen] = 0;
		for (char *p = out; (p = strstr(p, "\npublic_key=")); p++)
			listed++;
		for (char *p = out; (p = strstr(p, "\nallowed_ip=10.77.")); p++)
			aips++;
		T_CHECK(strlen(out) > 9 &&
			!strcmp(out + strlen(out) - 9, "errno=0\n\n"));
		/* The last peer's allowed IP follows its key. */
		memset(k, 0, sizeof(k));
		k[0] = 0x40;
		k[1] = (uint8_t)((N - 1) >> 8);
		k[2] = (uint8_t)(N - 1);
		k[3] = 1;
		hex(hk, k);
		snprintf(line, sizeof(line), "public_key=%s", hk);
		T_CHECK(strstr(out, line) &&
			strstr(strstr(out, line), "allowed_ip=10.77.7.207/32"));
	}
	T_CHECK(listed == N + 1 && aips == N);
	free(out);
	/* A request abandoned midway frees what it staged. */
	T_CHECK(feed(r, "set=1\npublic_key=0101010101010101010101010101010101010101010101010101010101010101\n") == 0);
	dv_uapi_req_free(r);
	T_CHECK(A.dev->n_peers == N + 1);
	teardown();
}

int main(void)
{
	T_RUN(test_streaming);
	T_RUN(test_get);
	T_RUN(test_set_round_trip);
	T_RUN(test_malformed);
	T_RUN(test_append);
	T_RUN(test_platform_refusal_atomic);
	T_RUN(test_mode_mldsa_round_trip);
	T_RUN(test_mode_mldsa_refused);
	T_RUN(test_pqonly_handshake_via_set);
	T_RUN(test_handshake_budget);
	return t_done();
}
