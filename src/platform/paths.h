/* Where a running interface leaves its traces: the control socket that
 * wireguard-tools looks for, and our PID file. Both are removed when the
 * daemon stops. */
#ifndef DV_PLATFORM_PATHS_H
#define DV_PLATFORM_PATHS_H

#include <stddef.h>

#define DV_SOCK_DIR "/var/run/wireguard" /* wireguard-tools' ipc-uapi.h */
#define DV_PID_DIR "/run/dybervpn"
#define DV_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */

/* DV_SOCK_DIR/<iface>.sock and DV_PID_DIR/<iface>.pid into buf; -1 if the
 * name does not fit or contains '/'. */
int dv_path_sock(char *buf, size_t len, const char *iface);
int dv_path_pid(char *buf, size_t len, const char *iface);

#endif
