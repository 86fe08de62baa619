/* TUN offloads (docs/DATAPATH.md): the TUN is opened with
 * IFF_VNET_HDR and TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), so
 * the kernel hands over TCP super-packets of up to 64 KB, each behind a
 * struct virtio_net_hdr, and may leave a transport checksum unfinished.
 * This file turns such a packet into the MTU-sized, fully checksummed IP
 * packets the tunnel carries (what the kernel's own GSO would have sent),
 * as pure functions on byte arrays. */
#ifndef DV_PLATFORM_TUN_GSO_H
#define DV_PLATFORM_TUN_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define DV_VNET_HDR_LEN sizeof(struct virtio_net_hdr) /* 10 */

/* How many packets dv_tun_gso_split makes of pkt (len bytes, the
 * virtio_net_hdr h in front of it): 1 for a packet without GSO, 0 for a
 * packet to drop (a GSO type we did not enable, or headers that do not
 * parse). */
size_t dv_tun_gso_count(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len);

/* Writes packets first .. first + n - 1 of pkt (of the count
 * dv_tun_gso_count gives) into out[0 .. n-1], each of cap bytes, and their
 * lengths into lens[0 .. n-1], with IP and TCP headers
 * fixed up per segment (lengths, IPv4 ID and header checksum, sequence
 * number, FIN/PSH only on the last, CWR only on the first) and the TCP
 * checksum computed. Returns 0, or -1 if a packet does not fit in cap. */
int dv_tun_gso_split(const struct virtio_net_hdr *h, const uint8_t *pkt, size_t len,
		     size_t first, uint8_t *const *out, size_t *lens, size_t n, size_t cap);

/* Finishes a checksum the kernel left partial (VIRTIO_NET_HDR_F_NEEDS_CSUM
 * without GSO) in place. Returns 0, or -1 if csum_start/csum_offset point
 * outside the packet. */
int dv_tun_csum_finish(const struct virtio_net_hdr *h, uint8_t *pkt, size_t len);

/* The Internet checksum (RFC 1071) of buf, folded and complemented, in
 * network byte order as it goes on the wire. */
uint16_t dv_inet_csum(const uint8_t *buf, size_t len);

#endif
