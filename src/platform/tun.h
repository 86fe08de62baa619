/* The Linux TUN device: layer-3 packets (IPv4 and IPv6) without the
 * packet-information header, on a non-blocking fd. The interface exists
 * while the fd is open: closing it removes the interface, its addresses
 * and its routes.
 *
 * Every packet read or written is preceded by a struct virtio_net_hdr
 * (IFF_VNET_HDR), and the kernel is asked for TCP segmentation and
 * checksum offload, split by tun_gso.h (docs/DATAPATH.md). */
#ifndef DV_PLATFORM_TUN_H
#define DV_PLATFORM_TUN_H

#include <stddef.h>

/* Creates the TUN interface `name` (a new one: an existing interface of
 * that name is an error, never attached to). Returns the fd, or -1 with a
 * message in err. *offload tells whether the kernel accepted the offloads
 * (without them packets still come with a header, never coalesced). */
int dv_tun_open(const char *name, int *offload, char *err, size_t errlen);

#endif
