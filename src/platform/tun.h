/* The Linux TUN device: layer-3 packets (IPv4 and IPv6) without the
 * packet-information header, on a non-blocking fd. The interface exists
 * while the fd is open: closing it removes the interface, its addresses
 * and its routes. */
#ifndef DV_PLATFORM_TUN_H
#define DV_PLATFORM_TUN_H

#include <stddef.h>

/* Creates the TUN interface `name` (a new one: an existing interface of
 * that name is an error, never attached to). Returns the fd, or -1 with a
 * message in err. */
int dv_tun_open(const char *name, char *err, size_t errlen);

#endif
