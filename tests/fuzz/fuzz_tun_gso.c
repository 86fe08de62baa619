/* libFuzzer harness: what the TUN hands over with IFF_VNET_HDR (a
 * virtio_net_hdr and a packet, possibly a TSO super-packet) into the
 * split and checksum code, as the daemon's on_tun does.
 *   bytes 0-9: the struct virtio_net_hdr (host byte order, as read)
 *   byte 10: output capacity: 0 is the daemon's 65536 + 64, n is 20 + 8n
 *   the rest: the packet.
 * Checks, besides memory safety (each output sits at the very end of its
 * heap block): without GSO, a finished checksum (at an even offset)
 * verifies against the pseudo-header sum the field held; with GSO, the count is
 * ceil(payload / gso_size), the split fails exactly when the first
 * (largest) segment does not fit, and each segment carries its share of
 * the payload with correct lengths, IPv4 ID, sequence number and valid
 * IPv4 header and TCP checksums (RFC 1071: a valid one sums to 0). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/tun_gso.h"
#include "fuzz/tcp_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP_MAX (65536 + 64)
#define BATCH 64

static uint8_t *bufs[BATCH];
static uint8_t tmp[40 + CAP_MAX];

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static void no_gso(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	size_t start = h->csum_start, at = start + h->csum_offset;

	if (!p)
		abort();
	memcpy(p, pkt, len);
	/* The check needs the field on a 16-bit boundary of the summed
	 * data, as every transport checksum is. */
	if (dv_tun_csum_finish(h, p, len) == 0 && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    h->csum_offset % 2 == 0) {
		/* The pseudo-header sum the field held, then the data. */
		memcpy(tmp, pkt + at, 2);
		memcpy(tmp + 2, p + start, len - start);
		if (dv_inet_csum(tmp, 2 + len - start) != 0)
			abort();
	}
	free(p);
}

static void gso(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len, size_t cap)
{
	int v4 = pkt[0] >> 4 == 4; /* IPv4 options may make iphl 40 too */
	size_t iphl = v4 ? (size_t)(pkt[0] & 0xf) * 4 : 40;
	size_t hdrs = iphl + (size_t)(pkt[iphl + 12] >> 4) * 4, mss = h->gso_size;
	size_t n = dv_tun_gso_count(h, pkt, len), first_seg;
	uint8_t *out[BATCH];
	size_t lens[BATCH];

	if (n != (len - hdrs + mss - 1) / mss)
		abort();
	first_seg = len - hdrs < mss ? len - hdrs : mss;
	for (size_t done = 0; done < n;) {
		size_t m = n - done < BATCH ? n - done : BATCH;
		int r;

		for (size_t j = 0; j < m; j++)
			out[j] = bufs[j] + CAP_MAX - cap;
		r = dv_tun_gso_split(h, pkt, len, done, out, lens, m, cap);
		if ((r < 0) != (hdrs + first_seg > cap))
			abort();
		if (r < 0)
			return;
		for (size_t j = 0; j < m; j++) {
			size_t k = done + j, off = hdrs + k * mss;
			size_t seg = len - off < mss ? len - off : mss;
			const uint8_t *o = out[j];

			if (lens[j] != hdrs + seg || memcmp(o + hdrs, pkt + off, seg) ||
			    get32(o + iphl + 4) != (uint32_t)(get32(pkt + iphl + 4) + k * mss) ||
			    !tcp_valid(tmp, o, iphl, lens[j] - iphl))
				abort();
			if (v4 && (get16(o + 2) != lens[j] || dv_inet_csum(o, iphl) ||
					   get16(o + 4) != ((get16(pkt + 4) + k) & 0xffff)))
				abort();
			if (!v4 && get16(o + 4) != lens[j] - 40)
				abort();
		}
		done += m;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr h;
	const uint8_t *pkt = data + DV_VNET_HDR_LEN + 1;
	size_t len, cap;

	if (!bufs[0])
		for (size_t i = 0; i < BATCH; i++)
			if (!(bufs[i] = malloc(CAP_MAX)))
				abort();
	if (size <= DV_VNET_HDR_LEN + 1)
		return 0;
	memcpy(&h, data, sizeof(h));
	cap = data[DV_VNET_HDR_LEN] ? 20 + 8 * (size_t)data[DV_VNET_HDR_LEN] : CAP_MAX;
	len = size - DV_VNET_HDR_LEN - 1;
	if (len > CAP_MAX)
		return 0; /* more than the daemon reads */
	if (h.gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (dv_tun_gso_count(&h, pkt, len) != 1)
			abort();
		no_gso(&h, pkt, len);
	} else if (dv_tun_gso_count(&h, pkt, len)) {
		gso(&h, pkt, len, cap);
	}
	return 0;
}
