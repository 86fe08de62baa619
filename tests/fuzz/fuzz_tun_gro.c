/* libFuzzer harness: decrypted packets from a peer into the coalescing
 * on the way to the TUN (dv_gro_add / dv_gro_flush), as the daemon feeds
 * them. The input is a list of records:
 *   byte 0: bit 0 adds 65536 to the length, bit 1 flushes after the
 *           packet (the end of a receive batch)
 *   bytes 1-2: packet length (big-endian), byte 3: k
 *   k bytes: the start of the packet; the rest of it is zeros.
 * Checks, besides memory safety: every written packet is a whole input
 * packet (no offload) or a TSO super-packet the kernel accepts: at most
 * DV_GRO_MAX_SEGS segments of gso_size, the IP lengths and IPv4 header
 * checksum right, the partial TCP checksum finishing into a valid one,
 * and dv_tun_gso_count agreeing on the segment count. Per batch, the
 * segments and bytes written (each segment with its own headers) are
 * exactly those added: nothing is lost, duplicated or left behind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/tun_gro.h"
#include "platform/tun_gso.h"
#include "fuzz/tcp_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PKT_MAX (65536 + 255)

static struct dv_gro gro;
static uint8_t tmp[40 + PKT_MAX];
static size_t out_segs, out_bytes;

static void check_write(void *arg, const struct virtio_net_hdr *h, const uint8_t *pkt,
			size_t len)
{
	size_t iphl = h->csum_start, segs;
	uint8_t *p;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE) {
		if (h->flags || h->gso_size || h->hdr_len)
			abort();
		out_segs++;
		out_bytes += len;
		return;
	}
	if (h->flags != VIRTIO_NET_HDR_F_NEEDS_CSUM || !h->gso_size ||
	    h->hdr_len >= len || h->csum_offset != 16 ||
	    h->gso_type != (iphl == 20 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6))
		abort();
	segs = (len - h->hdr_len + h->gso_size - 1) / h->gso_size;
	if (segs < 2 || segs > DV_GRO_MAX_SEGS || dv_tun_gso_count(h, pkt, len) != segs)
		abort();
	if (iphl == 20 ? get16(pkt + 2) != len || dv_inet_csum(pkt, 20)
		       : iphl != 40 || get16(pkt + 4) != len - 40)
		abort();
	p = malloc(len);
	if (!p)
		abort();
	memcpy(p, pkt, len);
	if (dv_tun_csum_finish(h, p, len) || !tcp_valid(tmp, p, iphl, len - iphl))
		abort();
	free(p);
	out_segs += segs;
	out_bytes += len + (segs - 1) * h->hdr_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t in_segs = 0, in_bytes = 0, i = 0;

	if (!gro.write && dv_gro_init(&gro, check_write, NULL))
		abort();
	out_segs = out_bytes = 0;
	while (i + 4 <= size) {
		size_t len = ((size_t)(data[i] & 1) << 16) | get16(data + i + 1);
		size_t k = data[i + 3], flush = data[i] & 2;
		uint8_t *p;

		i += 4;
		if (k > size - i)
			k = size - i;
		if (len > PKT_MAX)
			len = PKT_MAX;
		p = malloc(len ? len : 1);
		if (!p)
			abort();
		memset(p, 0, len);
		memcpy(p, data + i, k < len ? k : len);
		i += k;
		dv_gro_add(&gro, p, len);
		free(p);
		in_segs++;
		in_bytes += len;
		if (flush || i + 4 > size) {
			dv_gro_flush(&gro);
			if (out_segs != in_segs || out_bytes != in_bytes)
				abort();
			in_segs = in_bytes = out_segs = out_bytes = 0;
		}
	}
	return 0;
}
