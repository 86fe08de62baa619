#include "platform/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int dv_tun_open(const char *name, int *offload, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd;

	if (strlen(name) >= IFNAMSIZ) {
		snprintf(err, errlen, "tun: interface name '%s' is longer than %d characters",
			 name, IFNAMSIZ - 1);
		return -1;
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "tun: open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	/* IFF_TUN_EXCL: fail with EBUSY rather than attach to an existing
	 * (persistent) TUN device of that name. ifr_flags is a short that
	 * the kernel reads as 16 flag bits; IFF_TUN_EXCL (0x8000) is the sign
	 * bit, so the cast keeps the bit pattern (two's complement). */
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL | IFF_VNET_HDR);
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		snprintf(err, errlen, "tun: create interface %s: %s", name,
			 e == EBUSY ? "an interface of that name exists" : strerror(e));
		close(fd);
		return -1;
	}
	/* TSO needs checksum offload; no TUN_F_TSO_ECN, so the kernel
	 * segments ECN (CWR) super-packets itself, and no UFO/USO. */
	*offload = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) == 0;
	return fd;
}
