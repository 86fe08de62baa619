/* A fake platform for the device-core tests: two (or more) devices in
 * memory whose dv_io captures every datagram and TUN write, with an
 * injected clock. pump() delivers the captured datagrams between them as
 * if over UDP. Header-only, shared by test_device.c, test_timers.c and
 * test_uapi.c. */
#ifndef DV_TESTS_FAKE_IO_H
#define DV_TESTS_FAKE_IO_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "crypto/classic.h"
#include "crypto/mldsa.h"
#include "device/device.h"

#define FAKE_MAX_Q 512
#define FAKE_MAX_PKT 5000

struct fake_pkt {
	uint8_t buf[FAKE_MAX_PKT];
	size_t len;
	struct sockaddr_storage to;
	socklen_t tolen;
};

struct fake {
	struct dv_device *dev;
	struct sockaddr_in addr;     /* where this device "listens" */
	uint64_t *clock;             /* shared fake CLOCK_MONOTONIC */
	struct fake_pkt *sent;       /* FAKE_MAX_Q datagrams */
	unsigned nsent;
	size_t max_sent;             /* the longest datagram sent, ever */
	struct fake_pkt *tun;        /* FAKE_MAX_Q TUN writes */
	unsigned ntun;
	unsigned nlogs;
	int drop_all;                /* pump() loses everything this sends */
	uint16_t keepalive;          /* fake_start: every peer's persistent keepalive */
	unsigned hs_budget;          /* fake_start: handshake_datagram_max, 0 = default */
	/* identity */
	uint8_t priv[32], pub[32];
	uint8_t mldsa_seed[32], mldsa_pk[1952];
};

static inline void fake_udp_send(void *arg, const struct sockaddr *to,
				 socklen_t tolen, const uint8_t *buf, size_t len)
{
	struct fake *f = arg;
	struct fake_pkt *p;

	if (f->nsent >= FAKE_MAX_Q || len > FAKE_MAX_PKT)
		return;
	p = &f->sent[f->nsent++];
	if (len > f->max_sent)
		f->max_sent = len;
	memcpy(p->buf, buf, len);
	p->len = len;
	memcpy(&p->to, to, tolen);
	p->tolen = tolen;
}

static inline void fake_tun_write(void *arg, const uint8_t *pkt, size_t len)
{
	struct fake *f = arg;

	if (f->ntun >= FAKE_MAX_Q || len > FAKE_MAX_PKT)
		return;
	memcpy(f->tun[f->ntun].buf, pkt, len);
	f->tun[f->ntun++].len = len;
}

static inline uint64_t fake_now(void *arg)
{
	return *((struct fake *)arg)->clock;
}

static inline uint64_t fake_wall(void *arg)
{
	return 1700000000ull * 1000000000ull + *((struct fake *)arg)->clock;
}

static inline void fake_log(void *arg, int prio, const char *msg)
{
	(void)prio;
	(void)msg;
	((struct fake *)arg)->nlogs++;
}

/* DYBERVPN_TEST_THREADS=N: every device the tests start shares its
 * batches' AEAD with N - 1 worker threads (the suite runs the device
 * tests with 1 and with 2). */
static inline unsigned fake_threads(void)
{
	const char *s = getenv("DYBERVPN_TEST_THREADS");

	return s && *s ? (unsigned)strtoul(s, NULL, 10) : 1;
}

/* A fresh identity listening on 127.0.0.1:port; random keys, or keys
 * fixed by the port when fixed (fuzz seeds then stay valid across runs). */
static inline void fake_identity_ex(struct fake *f, uint16_t port, int fixed)
{
	uint8_t sk[4032];

	memset(f, 0, sizeof(*f));
	if (fixed) {
		memset(f->priv, 0x40 + port, 32);
		memset(f->mldsa_seed, 0x80 + port, 32);
	} else {
		dv_random(f->priv, 32);
		dv_random(f->mldsa_seed, 32);
	}
	dv_x25519_clamp(f->priv);
	dv_x25519_base(f->pub, f->priv);
	mldsa65_keypair_from_seed(f->mldsa_pk, sk, f->mldsa_seed);
	memset(&f->addr, 0, sizeof(f->addr));
	f->addr.sin_family = AF_INET;
	f->addr.sin_port = htons(port);
	f->addr.sin_addr.s_addr = htonl(0x7f000001);
	f->sent = calloc(FAKE_MAX_Q, sizeof(*f->sent));
	f->tun = calloc(FAKE_MAX_Q, sizeof(*f->tun));
}

static inline void fake_identity(struct fake *f, uint16_t port)
{
	fake_identity_ex(f, port, 0);
}

/* A config for f with one peer per entry of peers[], each owning the
 * tunnel address 10.0.0.<index in all> (i.e. peer g gets 10.0.0.<g->addr
 * port % 256>/32) and fd00::<port>/128. */
static inline struct dv_device *fake_start(struct fake *f, uint64_t *clock,
					   enum dv_mode ifmode,
					   struct fake **peers,
					   const enum dv_mode *modes, size_t n)
{
	static struct dv_cidr cidrs[16][2];
	struct dv_peer_config pcs[8];
	struct dv_config cfg;
	struct dv_io io = {
		.arg = f, .udp_send = fake_udp_send, .tun_write = fake_tun_write,
		.now_ns = fake_now, .wall_ns = fake_wall, .log = fake_log,
	};
	char err[256] = "";

	f->clock = clock;
	memset(&cfg, 0, sizeof(cfg));
	memset(pcs, 0, sizeof(pcs));
	cfg.mode = ifmode;
	cfg.mtu = 1420;
	cfg.handshake_datagram_max = f->hs_budget;
	cfg.listen_port = ntohs(f->addr.sin_port);
	memcpy(cfg.private_key, f->priv, 32);
	memcpy(cfg.public_key, f->pub, 32);
	cfg.has_mldsa_private_key = 1;
	memcpy(cfg.mldsa_seed_or_sk, f->mldsa_seed, 32);
	cfg.mldsa_key_len = 32;
	for (size_t i = 0; i < n; i++) {
		struct fake *g = peers[i];
		uint16_t port = ntohs(g->addr.sin_port);
		struct dv_cidr *c = cidrs[port % 16];

		memcpy(pcs[i].public_key, g->pub, 32);
		c[0].family = AF_INET;
		c[0].addr[0] = 10;
		c[0].addr[3] = (uint8_t)port;
		c[0].prefix = 32;
		c[1].family = AF_INET6;
		c[1].addr[0] = 0xfd;
		c[1].addr[14] = (uint8_t)(port >> 8);
		c[1].addr[15] = (uint8_t)port;
		c[1].prefix = 128;
		pcs[i].allowed_ips = c;
		pcs[i].n_allowed_ips = 2;
		pcs[i].has_endpoint = 1;
		memcpy(&pcs[i].endpoint, &g->addr, sizeof(g->addr));
		pcs[i].endpoint_len = sizeof(g->addr);
		pcs[i].mode = modes ? modes[i] : ifmode;
		pcs[i].persistent_keepalive = f->keepalive;
		pcs[i].has_mldsa_public_key = 1;
		pcs[i].mldsa_public_key = g->mldsa_pk; /* borrowed: the device copies it */
	}
	cfg.peers = pcs;
	cfg.n_peers = n;
	f->dev = dv_device_new(&cfg, &io, err, sizeof(err));
	if (!f->dev)
		fprintf(stderr, "dv_device_new: %s\n", err);
	else if (fake_threads() > 1 && dv_device_start_workers(f->dev, fake_threads()) < 0)
		fprintf(stderr, "dv_device_start_workers failed\n");
	return f->dev;
}

static inline void fake_stop(struct fake *f)
{
	dv_device_free(f->dev);
	free(f->sent);
	free(f->tun);
	f->dev = NULL;
}

/* Delivers everything the devices sent, to whichever device listens on
 * the destination port, until nothing moves: what one device sent to
 * another arrives as one batch (dv_device_udp_rx_batch), in order, as
 * the daemon hands over what one recvmmsg read. Returns datagrams
 * moved. */
static inline unsigned pump(struct fake **all, size_t n)
{
	static struct fake_pkt q[FAKE_MAX_Q];
	static struct dv_datagram dg[FAKE_MAX_Q];
	unsigned moved = 0, progress = 1;

	while (progress) {
		progress = 0;
		for (size_t i = 0; i < n; i++) {
			struct fake *f = all[i];
			unsigned k = f->nsent;

			if (!k)
				continue;
			memcpy(q, f->sent, k * sizeof(*q));
			f->nsent = 0;
			if (f->drop_all)
				continue;
			for (size_t t = 0; t < n; t++) {
				size_t m = 0;

				for (unsigned j = 0; j < k; j++) {
					const struct sockaddr_in *to =
						(const struct sockaddr_in *)&q[j].to;

					if (all[t]->addr.sin_port != to->sin_port)
						continue;
					dg[m].buf = q[j].buf;
					dg[m].len = q[j].len;
					dg[m].from = (const struct sockaddr *)&f->addr;
					dg[m++].fromlen = sizeof(f->addr);
				}
				if (!m)
					continue;
				dv_device_udp_rx_batch(all[t]->dev, dg, m);
				moved += (unsigned)m;
				progress = 1;
			}
		}
	}
	return moved;
}

/* An IPv4 packet from 10.0.0.<src> to 10.0.0.<dst> with len bytes in all,
 * at pkt (which has DV_HEADROOM/DV_TAILROOM around it in the caller's
 * buffer). */
static inline void make_ip4(uint8_t *pkt, size_t len, uint8_t src, uint8_t dst,
			    uint8_t fill)
{
	memset(pkt, fill, len);
	pkt[0] = 0x45;
	pkt[1] = 0;
	pkt[2] = (uint8_t)(len >> 8);
	pkt[3] = (uint8_t)len;
	pkt[12] = 10, pkt[13] = 0, pkt[14] = 0, pkt[15] = src;
	pkt[16] = 10, pkt[17] = 0, pkt[18] = 0, pkt[19] = dst;
}

/* Sends one IPv4 packet from f's TUN to tunnel address 10.0.0.<dst>. */
static inline void tun_send(struct fake *f, uint8_t src, uint8_t dst,
			    size_t len, uint8_t fill)
{
	static uint8_t buf[DV_HEADROOM + 2000 + DV_TAILROOM];

	make_ip4(buf + DV_HEADROOM, len, src, dst, fill);
	dv_device_tun_rx(f->dev, buf + DV_HEADROOM, len);
}

static inline unsigned count_type(const struct fake *f, uint8_t type)
{
	unsigned c = 0;

	for (unsigned i = 0; i < f->nsent; i++)
		c += f->sent[i].buf[0] == type;
	return c;
}

/* The type of the handshake message a datagram carries: its own, or for
 * a handshake fragment (type 9) the fragmented message's. */
static inline uint8_t msg_type(const struct fake_pkt *p)
{
	return p->len > 8 && p->buf[0] == 9 ? p->buf[8] : p->buf[0];
}

/* Handshake messages of this type f sent, whole or in fragments (one
 * message per fragment 0). */
static inline unsigned count_msgs(const struct fake *f, uint8_t type)
{
	unsigned c = 0;

	for (unsigned i = 0; i < f->nsent; i++) {
		const struct fake_pkt *p = &f->sent[i];

		c += msg_type(p) == type && (p->buf[0] != 9 || p->buf[9] == 0);
	}
	return c;
}

/* Hands every datagram f sent to `to` (as if from f), in order, and
 * forgets them. */
static inline void deliver(struct fake *f, struct fake *to)
{
	for (unsigned i = 0; i < f->nsent; i++)
		dv_device_udp_rx(to->dev, f->sent[i].buf, f->sent[i].len,
				 (const struct sockaddr *)&f->addr, sizeof(f->addr));
	f->nsent = 0;
}

#endif
