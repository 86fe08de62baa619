/* Coalescing on the way into the TUN (the receive half of the offloads in
 * docs/DATAPATH.md): consecutive TCP segments of one flow that the
 * device decrypts in one batch are joined into one super-packet, written
 * with a virtio_net_hdr asking for TSO (VIRTIO_NET_HDR_GSO_TCPV4/6), so
 * the kernel's TCP stack handles one packet, as after a NIC's GRO.
 * Segments join under the rules of Linux's tcp_gro_receive: same
 * addresses, ports, IP fields, ACK number, options and flags (ACK, and
 * PSH which closes the run), contiguous sequence numbers, equal sizes
 * (a shorter one closes the run). Everything else passes through in
 * order within its flow. */
#ifndef DV_PLATFORM_TUN_GRO_H
#define DV_PLATFORM_TUN_GRO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

#define DV_GRO_FLOWS 8
#define DV_GRO_MAX_SEGS 64

/* Writes one packet (h describes its offloads) to the TUN. */
typedef void (*dv_gro_write_fn)(void *arg, const struct virtio_net_hdr *h,
				const uint8_t *pkt, size_t len);

struct dv_gro_flow {
	uint8_t *buf; /* the super-packet being built */
	size_t len;   /* its length so far */
	size_t iphl, hdrs;
	size_t mss; /* payload of the first segment */
	unsigned segs;
	uint32_t next_seq;
	int closed; /* PSH or a short segment ended the run */
};

struct dv_gro {
	struct dv_gro_flow flow[DV_GRO_FLOWS];
	unsigned n; /* flows in use: flow[0 .. n-1] */
	dv_gro_write_fn write;
	void *arg;
};

/* 0, or -1 if memory ran out. */
int dv_gro_init(struct dv_gro *g, dv_gro_write_fn write, void *arg);
void dv_gro_free(struct dv_gro *g);

/* One decrypted IP packet for the TUN: joined to a run, or written (after
 * the run of its own flow, if any). */
void dv_gro_add(struct dv_gro *g, const uint8_t *pkt, size_t len);
/* Writes every run; call at the end of each batch of input. */
void dv_gro_flush(struct dv_gro *g);

#endif
