/* Shared by the TUN offload harnesses: big-endian reads and the TCP
 * checksum check of one segment (RFC 1071: with the pseudo-header the
 * one's-complement sum is 0). */
#ifndef DV_TESTS_FUZZ_TCP_CHECK_H
#define DV_TESTS_FUZZ_TCP_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "platform/tun_gso.h"

static inline unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* 1 if the TCP segment at ip + iphl (tcplen bytes) has a valid checksum;
 * scratch holds at least 40 + tcplen bytes. The IP version decides the
 * pseudo-header (an IPv4 header with options is longer than 20 bytes). */
static inline int tcp_valid(uint8_t *scratch, const uint8_t *ip, size_t iphl,
			    size_t tcplen)
{
	size_t phl;

	memset(scratch, 0, 40);
	if (ip[0] >> 4 == 4) {
		memcpy(scratch, ip + 12, 8);
		scratch[9] = 6;
		scratch[10] = (uint8_t)(tcplen >> 8);
		scratch[11] = (uint8_t)tcplen;
		phl = 12;
	} else {
		memcpy(scratch, ip + 8, 32);
		scratch[33] = (uint8_t)(tcplen >> 16);
		scratch[34] = (uint8_t)(tcplen >> 8);
		scratch[35] = (uint8_t)tcplen;
		scratch[39] = 6;
		phl = 40;
	}
	memcpy(scratch + phl, ip + iphl, tcplen);
	return dv_inet_csum(scratch, phl + tcplen) == 0;
}

#endif
