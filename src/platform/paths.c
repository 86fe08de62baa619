#include "platform/paths.h"

#include <stdio.h>
#include <string.h>

static int path_for(char *buf, size_t len, const char *dir, const char *iface,
		    const char *ext)
{
	int n;

	/* An interface name is at most 15 characters and never a path. */
	if (!*iface || strchr(iface, '/') || !strcmp(iface, ".") || !strcmp(iface, ".."))
		return -1;
	n = snprintf(buf, len, "%s/%s.%s", dir, iface, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int dv_path_sock(char *buf, size_t len, const char *iface)
{
	return path_for(buf, len, DV_SOCK_DIR, iface, "sock");
}

int dv_path_pid(char *buf, size_t len, const char *iface)
{
	return path_for(buf, len, DV_PID_DIR, iface, "pid");
}
