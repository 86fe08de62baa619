/* The PID file DV_PID_DIR/<iface>.pid: how `dybervpn down` finds the
 * daemon, and how `status` tells our control sockets from other
 * userspace WireGuard implementations'. */
#ifndef DV_PLATFORM_PIDFILE_H
#define DV_PLATFORM_PIDFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes our PID (directory created 0755). A file naming a live dybervpn
 * process is an error; a stale one is replaced. 0 or -1 with err. */
int dv_pidfile_write(const char *iface, char *err, size_t errlen);
/* Removes the file if it names us. */
void dv_pidfile_remove(const char *iface);
/* Removes the file if it names pid (a daemon that has stopped: a
 * sandboxed one cannot remove it itself). 1 if removed. */
int dv_pidfile_remove_for(const char *iface, pid_t pid);

/* The PID in the file, or -1 if there is no readable file. */
pid_t dv_pidfile_read(const char *iface);
/* 1 if pid runs and is a dybervpn process (not a zombie), else 0. */
int dv_pid_is_dybervpn(pid_t pid);

#endif
