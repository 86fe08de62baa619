/* Where a running interface leaves its traces: the control socket that
 * wireguard-tools looks for, and our PID file. Both are removed when the
 * daemon stops. */
#ifndef DV_PLATFORM_PATHS_H
#define DV_PLATFORM_PATHS_H

#include <stddef.h>

#define DV_SOCK_DIR "/var/run/wireguard" /* wireguard-tools' ipc-uapi.h */
#define DV_PID_DIR "/run/dybervpn"
#define DV_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
/* Where `dybervpn up NAME` looks for NAME.toml; the environment variable
 * DYBERVPN_CONFIG_DIR overrides it at run time. */
#ifndef DV_CONFIG_DIR
#define DV_CONFIG_DIR "/etc/dybervpn"
#endif
#define DV_CONFIG_DIR_ENV "DYBERVPN_CONFIG_DIR"

/* DV_SOCK_DIR/<iface>.sock and DV_PID_DIR/<iface>.pid into buf; -1 if the
 * name does not fit or contains '/'. */
int dv_path_sock(char *buf, size_t len, const char *iface);
int dv_path_pid(char *buf, size_t len, const char *iface);

/* A command's config argument: a path (it contains '/' or ends in
 * ".toml") is used as it is; anything else is a NAME, found as
 * <config dir>/NAME.toml (DYBERVPN_CONFIG_DIR, else DV_CONFIG_DIR). The
 * result is absolute (relative paths are joined to the working
 * directory, symlinks are kept, so a reload follows a swapped link).
 * *is_name says which it was. With path_only (`-c FILE`) arg is always a
 * path. 0, or -1 with the reason in err. */
int dv_config_locate(const char *arg, int path_only, char *buf, size_t len,
		     int *is_name, char *err, size_t errlen);

/* Creates the run directory dir (mode 0755) if missing, then checks what
 * is there, as opened without following a symlink: a directory owned by
 * us (root, for the daemon) that neither group nor others may write, so
 * nobody else can plant or swap the socket or PID file in it. 0, or -1
 * with the reason in err. */
int dv_rundir_prepare(const char *dir, char *err, size_t errlen);

#endif
