/* `dybervpn benchmark --datapath`: the data path in one process, through
 * the real device code with I/O in memory. Two devices (hybrid) complete
 * a handshake, then batches of full-MTU IPv4 packets go both ways: from
 * one device's TUN (dv_device_tun_rx_batch: routing, counters, sealing)
 * to the other's UDP input (dv_device_udp_rx_batch: opening, replay and
 * source checks) and TUN. The figure is packets and Gbit/s of inner
 * packets delivered, for 1, 2, ... threads sharing each batch's crypto
 * (dv_device_start_workers; the two devices share them), measured
 * alternately, medians of 3. Both ends run in this process, as both ends of a tunnel between two
 * namespaces share the machine's cores; the calling thread drives both.
 * A sealed packet is handed over where it lies, as the daemon sends from
 * its buffers without a copy; opening it in place leaves the plaintext
 * where it was, so the same buffers carry every round. */
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
	/* Its TUN's batch buffers: a datagram sealed there is queued as a
	 * pointer; anything else (handshakes, keepalives) is copied. */
	uint8_t (*bufs)[DV_HEADROOM + PKT_LEN + DV_TAILROOM];
	uint8_t (*copies)[DG_MAX];
	/* Datagrams it sent, waiting to be delivered. */
	struct dv_datagram q[QUEUE_MAX];
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
	const uint8_t *lo = (const uint8_t *)e->bufs, *hi = lo + sizeof(e->bufs[0]) * BATCH;
	struct dv_datagram *dg;

	(void)to, (void)tolen;
	if (e->nq == QUEUE_MAX || len > DG_MAX)
		return;
	dg = &e->q[e->nq];
	if (buf >= lo && buf + len <= hi) {
		dg->buf = (uint8_t *)buf; /* the batch buffer it was sealed in */
	} else {
		memcpy(e->copies[e->nq], buf, len);
		dg->buf = e->copies[e->nq];
	}
	dg->len = len;
	dg->from = (const struct sockaddr *)&e->addr;
	dg->fromlen = sizeof(e->addr);
	e->nq++;
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

/* Delivers what from sent to to's UDP input, as one batch. */
static void deliver(struct end *from, struct end *to)
{
	unsigned n = from->nq;

	from->nq = 0;
	dv_device_udp_rx_batch(to->dev, from->q, n);
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

/* A's and B's batch buffers: full packets, A's to B, B's to A. */
static void fill(struct end *e, uint8_t **pkts, size_t *lens, int to_b)
{
	for (unsigned i = 0; i < BATCH; i++) {
		pkts[i] = e->bufs[i] + DV_HEADROOM;
		lens[i] = PKT_LEN;
		make_packet(pkts[i], i);
		if (!to_b) { /* B -> A: swap the addresses */
			pkts[i][15] = 2;
			pkts[i][19] = 1;
		}
	}
}

/* Packets per second delivered, both ways together, over `seconds`;
 * 0 when packets went missing. */
static double measure(struct end *a, struct end *b, double seconds, int one_by_one)
{
	uint8_t *pa[BATCH], *pb[BATCH];
	size_t la[BATCH], lb[BATCH];
	uint64_t t0, t1, sent = 0, got0 = a->tun_packets + b->tun_packets;

	fill(a, pa, la, 1);
	fill(b, pb, lb, 0);
	t0 = mono_ns(NULL);
	do {
		for (int k = 0; k < 32; k++) {
			if (one_by_one) {
				for (unsigned i = 0; i < BATCH; i++)
					dv_device_tun_rx(a->dev, pa[i], la[i]);
				for (unsigned i = 0; i < BATCH; i++)
					dv_device_tun_rx(b->dev, pb[i], lb[i]);
			} else {
				dv_device_tun_rx_batch(a->dev, pa, la, BATCH);
				dv_device_tun_rx_batch(b->dev, pb, lb, BATCH);
			}
			deliver(a, b);
			deliver(b, a);
			sent += 2 * BATCH;
		}
		dv_device_timers(a->dev);
		dv_device_timers(b->dev);
		deliver(a, b); /* anything the timers sent (a keepalive) */
		deliver(b, a);
		t1 = mono_ns(NULL);
	} while (t1 - t0 < (uint64_t)(seconds * 1e9));
	if (a->tun_packets + b->tun_packets - got0 != sent) {
		fprintf(stderr, "dybervpn benchmark: %llu of %llu packets arrived\n",
			(unsigned long long)(a->tun_packets + b->tun_packets - got0),
			(unsigned long long)sent);
		return 0;
	}
	return (double)sent * 1e9 / (double)(t1 - t0);
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

#define REPS 3

int bench_datapath(double seconds)
{
	static uint8_t bufs_a[BATCH][DV_HEADROOM + PKT_LEN + DV_TAILROOM];
	static uint8_t bufs_b[BATCH][DV_HEADROOM + PKT_LEN + DV_TAILROOM];
	static uint8_t copies_a[QUEUE_MAX][DG_MAX], copies_b[QUEUE_MAX][DG_MAX];
	struct end a, b;
	unsigned max = dv_device_default_threads();
	double pps[DV_CONFIG_THREADS_MAX + 1][REPS], one[REPS], med[DV_CONFIG_THREADS_MAX + 1];
	uint8_t *pkts[1];
	size_t lens[1];
	int rc = 1;

	if (max < 2)
		max = 2; /* the scaling figure, even on one CPU */
	end_identity(&a, 1);
	end_identity(&b, 2);
	a.bufs = bufs_a, a.copies = copies_a;
	b.bufs = bufs_b, b.copies = copies_b;
	if (end_start(&a, &b, 1) < 0 || end_start(&b, &a, 2) < 0)
		goto out;
	/* The first packet waits for the handshake, which completes here. */
	pkts[0] = bufs_a[0] + DV_HEADROOM;
	lens[0] = PKT_LEN;
	make_packet(pkts[0], 0);
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
	       "both ways: sealed by one device, opened by the other), %.1f s per figure,\n"
	       "thread counts alternating, median of %d:\n", PKT_LEN, BATCH, seconds, REPS);
	for (int rep = 0; rep < REPS; rep++) {
		for (unsigned t = 1; t <= max; t++) {
			/* t threads in all: this one and t - 1 workers, which
			 * both devices share, as one thread drives both. */
			if (dv_device_start_workers(a.dev, t) != (int)t) {
				fprintf(stderr, "dybervpn benchmark: could not start %u threads\n", t);
				goto out;
			}
			dv_device_share_workers(b.dev, a.dev);
			pps[t][rep] = measure(&a, &b, seconds, 0);
			if (pps[t][rep] == 0)
				goto out;
		}
		dv_device_start_workers(a.dev, 1);
		dv_device_share_workers(b.dev, a.dev);
		one[rep] = measure(&a, &b, seconds, 1);
		if (one[rep] == 0)
			goto out;
	}
	for (unsigned t = 1; t <= max; t++) {
		qsort(pps[t], REPS, sizeof(double), cmp_double);
		med[t] = pps[t][REPS / 2];
		printf("  threads %-2u batch:       %10.0f packets/s  %6.2f Gbit/s  %5.2fx threads 1\n",
		       t, med[t], med[t] * PKT_LEN * 8 / 1e9, med[1] > 0 ? med[t] / med[1] : 0);
	}
	qsort(one, REPS, sizeof(double), cmp_double);
	printf("  threads 1  one by one:  %10.0f packets/s  %6.2f Gbit/s\n", one[REPS / 2],
	       one[REPS / 2] * PKT_LEN * 8 / 1e9);
	printf("  batch / one by one (1 thread): %.2fx\n",
	       one[REPS / 2] > 0 ? med[1] / one[REPS / 2] : 0);
	rc = 0;
out:
	dv_device_free(b.dev); /* first: it may use a's workers */
	dv_device_free(a.dev);
	ct_wipe(a.priv, sizeof(a.priv));
	ct_wipe(b.priv, sizeof(b.priv));
	return rc;
}
