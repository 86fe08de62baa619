/* `dybervpn benchmark --datapath`: the data path in one process, through
 * the real device code with I/O in memory. Two devices (hybrid) complete
 * a handshake, then batches of full-MTU IPv4 packets go from A's TUN
 * (dv_device_tun_rx_batch: routing, sealing) to B's UDP input
 * (dv_device_udp_rx: opening, replay and source checks) and B's TUN; the
 * figure is packets and Gbit/s of inner packets delivered. Both ends run
 * on this thread, as both ends of a tunnel between two namespaces share
 * the machine's cores. */
#include "cli/bench_datapath.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "crypto/classic.h"
#include "crypto/ct.h"
#include "device/device.h"

#define BATCH 64
#define PKT_LEN 1420 /* the default MTU, a full packet */
#define DG_MAX (PKT_LEN + 64)
#define QUEUE_MAX 256

struct end {
	struct dv_device *dev;
	uint8_t priv[32], pub[32];
	struct sockaddr_in addr;
	/* Datagrams it sent, waiting to be delivered. */
	uint8_t (*q)[DG_MAX];
	size_t qlen[QUEUE_MAX];
	unsigned nq;
	uint64_t tun_packets, tun_bytes;
};

static uint64_t mono_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ns(void *arg)
{
	struct timespec ts;

	(void)arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void udp_send(void *arg, const struct sockaddr *to, socklen_t tolen,
		     const uint8_t *buf, size_t len)
{
	struct end *e = arg;

	(void)to, (void)tolen;
	if (e->nq < QUEUE_MAX && len <= DG_MAX) {
		memcpy(e->q[e->nq], buf, len);
		e->qlen[e->nq++] = len;
	}
}

static void dev_log(void *arg, int prio, const char *msg)
{
	(void)arg;
	if (prio <= 4) /* LOG_WARNING and worse */
		fprintf(stderr, "dybervpn benchmark: %s\n", msg);
}

static void tun_write(void *arg, const uint8_t *pkt, size_t len)
{
	struct end *e = arg;

	(void)pkt;
	e->tun_packets++;
	e->tun_bytes += len;
}

/* Delivers what from sent to to's UDP input. */
static void deliver(struct end *from, struct end *to)
{
	unsigned n = from->nq;

	from->nq = 0;
	for (unsigned i = 0; i < n; i++)
		dv_device_udp_rx(to->dev, from->q[i], from->qlen[i],
				 (const struct sockaddr *)&from->addr,
				 sizeof(from->addr));
}

static int end_start(struct end *e, struct end *peer, unsigned id)
{
	struct dv_peer_config pc;
	struct dv_config cfg;
	struct dv_io io = {
		.arg = e, .udp_send = udp_send, .tun_write = tun_write,
		.now_ns = mono_ns, .wall_ns = wall_ns, .log = dev_log,
	};
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	memset(&pc, 0, sizeof(pc));
	cfg.mode = DV_MODE_HYBRID;
	cfg.mtu = PKT_LEN;
	cfg.listen_port = ntohs(e->addr.sin_port);
	memcpy(cfg.private_key, e->priv, 32);
	memcpy(cfg.public_key, e->pub, 32);
	memcpy(pc.public_key, peer->pub, 32);
	pc.mode = DV_MODE_HYBRID;
	pc.allowed_ips = calloc(1, sizeof(*pc.allowed_ips));
	if (!pc.allowed_ips)
		return -1;
	pc.allowed_ips[0].family = AF_INET;
	pc.allowed_ips[0].addr[0] = 10;
	pc.allowed_ips[0].addr[3] = (uint8_t)(3 - id); /* the other end */
	pc.allowed_ips[0].prefix = 32;
	pc.n_allowed_ips = 1;
	pc.has_endpoint = 1;
	memcpy(&pc.endpoint, &peer->addr, sizeof(peer->addr));
	pc.endpoint_len = sizeof(peer->addr);
	cfg.peers = &pc;
	cfg.n_peers = 1;
	e->dev = dv_device_new(&cfg, &io, err, sizeof(err));
	free(pc.allowed_ips);
	memset(&cfg, 0, sizeof(cfg));
	if (!e->dev)
		fprintf(stderr, "dybervpn benchmark: %s\n", err);
	return e->dev ? 0 : -1;
}

static void end_identity(struct end *e, unsigned id)
{
	memset(e, 0, sizeof(*e));
	dv_random(e->priv, 32);
	dv_x25519_clamp(e->priv);
	dv_x25519_base(e->pub, e->priv);
	e->addr.sin_family = AF_INET;
	e->addr.sin_addr.s_addr = htonl(0x7f000001);
	e->addr.sin_port = htons((uint16_t)(51000 + id));
}

/* A full IPv4 packet from 10.0.0.1 to 10.0.0.2 at pkt. */
static void make_packet(uint8_t *pkt, uint32_t seq)
{
	memset(pkt, 0x5a, PKT_LEN);
	pkt[0] = 0x45;
	pkt[2] = PKT_LEN >> 8;
	pkt[3] = PKT_LEN & 255;
	pkt[9] = 17;
	memset(pkt + 12, 0, 8);
	pkt[12] = 10, pkt[15] = 1;
	pkt[16] = 10, pkt[19] = 2;
	memcpy(pkt + 28, &seq, sizeof(seq));
}

int bench_datapath(double seconds)
{
	static uint8_t bufs[BATCH][DV_HEADROOM + PKT_LEN + DV_TAILROOM];
	static uint8_t qa[QUEUE_MAX][DG_MAX], qb[QUEUE_MAX][DG_MAX];
	struct end a, b;
	uint8_t *pkts[BATCH];
	size_t lens[BATCH];
	uint64_t t0, t1, sent = 0;
	double pps[2] = { 0, 0 };
	uint32_t seq = 0;
	int rc = 1;

	end_identity(&a, 1);
	end_identity(&b, 2);
	a.q = qa;
	b.q = qb;
	if (end_start(&a, &b, 1) < 0 || end_start(&b, &a, 2) < 0)
		goto out;
	for (unsigned i = 0; i < BATCH; i++) {
		pkts[i] = bufs[i] + DV_HEADROOM;
		lens[i] = PKT_LEN;
	}
	/* The first packet waits for the handshake, which completes here. */
	make_packet(pkts[0], seq++);
	dv_device_tun_rx_batch(a.dev, pkts, lens, 1);
	for (int round = 0; round < 8 && (a.nq || b.nq); round++) {
		deliver(&a, &b);
		deliver(&b, &a);
	}
	if (b.tun_packets != 1) {
		fprintf(stderr, "dybervpn benchmark: the handshake did not complete\n");
		goto out;
	}
	printf("Data path in one process (hybrid session, %d-byte packets, batches of %d,\n"
	       "sealed by A and opened by B on this one thread), %.1f s per figure:\n",
	       PKT_LEN, BATCH, seconds);
	/* The batch as the daemon gives it, then the same packets one at a
	 * time (dv_device_tun_rx), alternating, twice; the best of each. */
	for (int run = 0; run < 4; run++) {
		int one_by_one = run & 1;

		b.tun_packets = b.tun_bytes = 0;
		sent = 0;
		t0 = mono_ns(NULL);
		do {
			for (int k = 0; k < 64; k++) {
				for (unsigned i = 0; i < BATCH; i++)
					make_packet(pkts[i], seq++);
				if (one_by_one)
					for (unsigned i = 0; i < BATCH; i++)
						dv_device_tun_rx(a.dev, pkts[i], lens[i]);
				else
					dv_device_tun_rx_batch(a.dev, pkts, lens, BATCH);
				deliver(&a, &b);
				sent += BATCH;
			}
			dv_device_timers(a.dev);
			dv_device_timers(b.dev);
			deliver(&b, &a); /* anything B sent (a keepalive) */
			t1 = mono_ns(NULL);
		} while (t1 - t0 < (uint64_t)(seconds * 1e9));
		if (b.tun_packets != sent) {
			fprintf(stderr, "dybervpn benchmark: %llu of %llu packets arrived\n",
				(unsigned long long)b.tun_packets,
				(unsigned long long)sent);
			goto out;
		}
		pps[one_by_one] = fmax(pps[one_by_one],
				       (double)b.tun_packets * 1e9 / (double)(t1 - t0));
	}
	printf("  threads 1, batch:       %10.0f packets/s  %6.2f Gbit/s\n", pps[0],
	       pps[0] * PKT_LEN * 8 / 1e9);
	printf("  threads 1, one by one:  %10.0f packets/s  %6.2f Gbit/s\n", pps[1],
	       pps[1] * PKT_LEN * 8 / 1e9);
	printf("  batch / one by one: %.2fx\n", pps[1] > 0 ? pps[0] / pps[1] : 0);
	printf("  (one thread: the data path is not spread over cores yet)\n");
	rc = 0;
out:
	dv_device_free(a.dev);
	dv_device_free(b.dev);
	ct_wipe(a.priv, sizeof(a.priv));
	ct_wipe(b.priv, sizeof(b.priv));
	return rc;
}
