#include "platform/tun_gso.h"

#include <string.h>

#define IPPROTO_TCP_ 6
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

/* Ones' complement sum (RFC 1071) of buf, loaded in host byte order:
 * the sum is byte-order independent up to a final swap (RFC 1071,
 * section 2(B)), done by the callers through csum_fold. */
static uint64_t csum_add(uint64_t sum, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		sum += (v & 0xffffffffu) + (v >> 32);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		sum += v;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t last[2] = { p[0], 0 };
		uint16_t v;

		memcpy(&v, last, 2);
		sum += v;
	}
	return sum;
}

/* Folds to 16 bits and complements; the result, stored with memcpy, is
 * the checksum in network byte order. */
static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t dv_inet_csum(const uint8_t *buf, size_t len)
{
	return csum_fold(csum_add(0, buf, len));
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Length of the IP and TCP headers of a TCP super-packet, or 0. */
static size_t tso_headers(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
			  size_t *iphl)
{
	size_t ihl, doff;

	if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4) {
		if (len < 20 || pkt[0] >> 4 != 4 || pkt[9] != IPPROTO_TCP_)
			return 0;
		ihl = (size_t)(pkt[0] & 0xf) * 4;
	} else if ((h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV6) {
		/* Extension headers are not handled: a TSO packet from the
		 * local TCP stack has none. */
		if (len < 40 || pkt[0] >> 4 != 6 || pkt[6] != IPPROTO_TCP_)
			return 0;
		ihl = 40;
	} else {
		return 0;
	}
	if (ihl < 20 || len < ihl + 20)
		return 0;
	doff = (size_t)(pkt[ihl + 12] >> 4) * 4;
	if (doff < 20 || len < ihl + doff)
		return 0;
	*iphl = ihl;
	return ihl + doff;
}

size_t dv_tun_gso_count(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len)
{
	size_t hdrs, iphl;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return 1;
	hdrs = tso_headers(h, pkt, len, &iphl);
	if (!hdrs || !h->gso_size || len <= hdrs)
		return 0;
	return (len - hdrs + h->gso_size - 1) / h->gso_size;
}

/* The TCP checksum of the segment at ip (IPv4 or IPv6 pseudo-header,
 * RFC 793 and RFC 8200 section 8.1). */
static void tcp_csum(uint8_t *ip, size_t iphl, size_t tcplen)
{
	uint8_t *tcp = ip + iphl;
	uint8_t tail[4] = { 0, 0, 0, IPPROTO_TCP_ }; /* zero, zero/proto */
	uint8_t tl[4];
	uint64_t sum;
	uint16_t c;

	put32(tl, (uint32_t)tcplen);
	tcp[16] = tcp[17] = 0;
	if (ip[0] >> 4 == 4) {
		sum = csum_add(0, ip + 12, 8); /* source, destination */
		sum = csum_add(sum, tail + 2, 2); /* zero, protocol */
		sum = csum_add(sum, tl + 2, 2);   /* TCP length */
	} else {
		sum = csum_add(0, ip + 8, 32);
		sum = csum_add(sum, tl, 4);
		sum = csum_add(sum, tail, 4);
	}
	c = csum_fold(csum_add(sum, tcp, tcplen));
	memcpy(tcp + 16, &c, 2);
}

int dv_tun_gso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		     size_t first, uint8_t *const *out, size_t *lens, size_t n, size_t cap)
{
	size_t iphl, hdrs = tso_headers(h, pkt, len, &iphl);
	size_t mss = h->gso_size, off = hdrs + first * mss;
	uint32_t seq;
	uint16_t id;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE || !hdrs)
		return -1;
	seq = get32(pkt + iphl + 4);
	id = get16(pkt + 4);
	for (size_t i = 0; i < n; i++, off += mss) {
		size_t seg, k = first + i; /* segment number */
		uint8_t *o = out[i], *tcp = o + iphl;
		int last;

		if (off >= len)
			return -1;
		seg = len - off < mss ? len - off : mss;
		last = off + seg == len;
		if (hdrs + seg > cap)
			return -1;
		memcpy(o, pkt, hdrs);
		memcpy(o + hdrs, pkt + off, seg);
		if (o[0] >> 4 == 4) {
			uint16_t c;

			put16(o + 2, (uint16_t)(hdrs + seg));
			put16(o + 4, (uint16_t)(id + k));
			o[10] = o[11] = 0;
			c = dv_inet_csum(o, iphl);
			memcpy(o + 10, &c, 2);
		} else {
			put16(o + 4, (uint16_t)(hdrs - iphl + seg));
		}
		put32(tcp + 4, seq + (uint32_t)(off - hdrs));
		if (!last)
			tcp[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (k > 0)
			tcp[13] &= (uint8_t)~TCP_CWR;
		tcp_csum(o, iphl, hdrs - iphl + seg);
		lens[i] = hdrs + seg;
	}
	return 0;
}

int dv_tun_csum_finish(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len)
{
	size_t start = h->csum_start, at = start + h->csum_offset;
	uint16_t c;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
		return 0;
	if (start >= len || at + 2 > len)
		return -1;
	/* The field holds the pseudo-header sum: fold in the rest. */
	c = dv_inet_csum(pkt + start, len - start);
	memcpy(pkt + at, &c, 2);
	return 0;
}
