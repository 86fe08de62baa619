#include "platform/tun_gro.h"

#include <stdlib.h>
#include <string.h>

#include "platform/tun_gso.h"

#define GRO_BUF 65536
#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* The TCP header and the IP header length of a packet that may join a
 * run: IPv4 without options or fragmentation, or IPv6 without extension
 * headers, carrying TCP with data and only ACK (and PSH) set. NULL if
 * not. */
static const uint8_t *gro_tcp(const uint8_t *p, size_t len, size_t *iphl, size_t *hdrs)
{
	const uint8_t *t;
	size_t doff;

	/* A run starts as a copy of its first packet, and IPv6's payload
	 * length admits 40 bytes more than the buffer holds. */
	if (len > GRO_BUF - 1)
		return NULL;
	if (len >= 20 && p[0] == 0x45) {
		if ((size_t)(p[2] << 8 | p[3]) != len || (p[6] & 0x3f) || p[7] || p[9] != 6)
			return NULL;
		*iphl = 20;
	} else if (len >= 40 && p[0] >> 4 == 6) {
		if ((size_t)(p[4] << 8 | p[5]) + 40 != len || p[6] != 6)
			return NULL;
		*iphl = 40;
	} else {
		return NULL;
	}
	if (len < *iphl + 20)
		return NULL;
	t = p + *iphl;
	doff = (size_t)(t[12] >> 4) * 4;
	*hdrs = *iphl + doff;
	if (doff < 20 || *hdrs >= len || (t[13] & ~(TCP_ACK | TCP_PSH)) || !(t[13] & TCP_ACK))
		return NULL;
	return t;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* 1 if the two TCP packets belong to one connection (same addresses and
 * ports), whatever else differs. */
static int same_flow(const uint8_t *a, size_t a_iphl, const uint8_t *b, size_t b_iphl)
{
	if (a[0] >> 4 != b[0] >> 4)
		return 0;
	if (a[0] >> 4 == 4 ? memcmp(a + 12, b + 12, 8) : memcmp(a + 8, b + 8, 32))
		return 0;
	return !memcmp(a + a_iphl, b + b_iphl, 4);
}

/* 1 if a segment of the flow f (already known to be the same
 * connection) may be appended to it. */
static int can_join(const struct dv_gro_flow *f, const uint8_t *p, size_t len,
		    size_t iphl, size_t hdrs)
{
	const uint8_t *h = f->buf, *t = p + iphl, *ft = h + iphl;
	size_t payload = len - hdrs;

	if (f->closed || iphl != f->iphl || hdrs != f->hdrs || payload > f->mss ||
	    f->segs >= DV_GRO_MAX_SEGS || f->len + payload > GRO_BUF - 1 ||
	    get32(t + 4) != f->next_seq)
		return 0;
	/* IP fields Linux's inet_gro_receive / ipv6_gro_receive compare:
	 * TOS and TTL and DF, or traffic class, flow label and hop limit. */
	if (iphl == 20 ? (p[1] != h[1] || p[8] != h[8] || (p[6] & 0x40) != (h[6] & 0x40))
		       : (memcmp(p, h, 4) || p[7] != h[7]))
		return 0;
	if (iphl == 40 && f->len - 40 + payload > 65535)
		return 0;
	/* ACK number, flags but PSH, and the options, byte for byte. */
	return !memcmp(t + 8, ft + 8, 4) && (t[13] & ~TCP_PSH) == (ft[13] & ~TCP_PSH) &&
	       !memcmp(t + 20, ft + 20, hdrs - iphl - 20);
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Writes run i and removes it from the table. */
static void gro_write(struct dv_gro *g, unsigned i)
{
	struct dv_gro_flow *f = &g->flow[i];
	struct virtio_net_hdr h = { 0 };
	uint8_t *p = f->buf, *buf;

	if (f->segs > 1) {
		uint8_t *t = p + f->iphl;
		size_t tl = f->len - f->iphl;
		uint8_t ph[40];
		size_t phl;
		uint16_t c;

		if (f->iphl == 20) {
			put16(p + 2, f->len);
			p[10] = p[11] = 0;
			c = dv_inet_csum(p, 20);
			memcpy(p + 10, &c, 2);
			memcpy(ph, p + 12, 8);
			ph[8] = 0;
			ph[9] = 6;
			put16(ph + 10, tl);
			phl = 12;
		} else {
			put16(p + 4, tl);
			memcpy(ph, p + 8, 32);
			memset(ph + 32, 0, 8);
			put16(ph + 34, tl);
			ph[39] = 6;
			phl = 40;
		}
		/* CHECKSUM_PARTIAL: the field holds the (uncomplemented)
		 * pseudo-header sum over the whole length; the kernel's TSO
		 * adjusts it per segment if the packet is forwarded. */
		c = (uint16_t)~dv_inet_csum(ph, phl);
		memcpy(t + 16, &c, 2);
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = f->iphl == 20 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		h.hdr_len = (uint16_t)f->hdrs;
		h.gso_size = (uint16_t)f->mss;
		h.csum_start = (uint16_t)f->iphl;
		h.csum_offset = 16;
	}
	g->write(g->arg, &h, p, f->len);
	/* Keep the table dense: the last run takes this place. */
	buf = f->buf;
	*f = g->flow[--g->n];
	g->flow[g->n].buf = buf;
}

void dv_gro_add(struct dv_gro *g, const uint8_t *pkt, size_t len)
{
	static const struct virtio_net_hdr none;
	size_t iphl = 0, hdrs = 0;
	const uint8_t *t = gro_tcp(pkt, len, &iphl, &hdrs);
	struct dv_gro_flow *f;
	unsigned i;

	if (!t && len >= 20 && pkt[0] >> 4 == 4 && pkt[9] == 6)
		iphl = (size_t)(pkt[0] & 0xf) * 4; /* TCP, not joinable: */
	else if (!t && len >= 40 && pkt[0] >> 4 == 6 && pkt[6] == 6)
		iphl = 40; /* keep it behind its connection's run */
	else if (!t) {
		g->write(g->arg, &none, pkt, len);
		return;
	}
	for (i = 0; i < g->n; i++)
		if (len >= iphl + 4 && same_flow(g->flow[i].buf, g->flow[i].iphl, pkt, iphl))
			break;
	if (i < g->n && t && can_join(&g->flow[i], pkt, len, iphl, hdrs)) {
		size_t payload = len - hdrs;

		f = &g->flow[i];
		memcpy(f->buf + f->len, pkt + hdrs, payload);
		f->len += payload;
		f->segs++;
		f->next_seq += (uint32_t)payload;
		memcpy(f->buf + iphl + 14, t + 14, 2); /* the latest window */
		if (t[13] & TCP_PSH) {
			f->buf[iphl + 13] |= TCP_PSH;
			f->closed = 1;
		}
		if (payload < f->mss)
			f->closed = 1;
		return;
	}
	if (i < g->n)
		gro_write(g, i); /* its flow's earlier data goes first */
	if (!t) {
		g->write(g->arg, &none, pkt, len);
		return;
	}
	if (g->n == DV_GRO_FLOWS)
		gro_write(g, 0);
	f = &g->flow[g->n++];
	memcpy(f->buf, pkt, len);
	f->len = len;
	f->iphl = iphl;
	f->hdrs = hdrs;
	f->mss = len - hdrs;
	f->segs = 1;
	f->next_seq = get32(t + 4) + (uint32_t)(len - hdrs);
	f->closed = !!(t[13] & TCP_PSH);
}

void dv_gro_flush(struct dv_gro *g)
{
	while (g->n)
		gro_write(g, 0);
}

int dv_gro_init(struct dv_gro *g, dv_gro_write_fn write, void *arg)
{
	memset(g, 0, sizeof(*g));
	g->write = write;
	g->arg = arg;
	for (unsigned i = 0; i < DV_GRO_FLOWS; i++) {
		g->flow[i].buf = malloc(GRO_BUF);
		if (!g->flow[i].buf) {
			dv_gro_free(g);
			return -1;
		}
	}
	return 0;
}

void dv_gro_free(struct dv_gro *g)
{
	for (unsigned i = 0; i < DV_GRO_FLOWS; i++) {
		free(g->flow[i].buf);
		g->flow[i].buf = NULL;
	}
	g->n = 0;
}
