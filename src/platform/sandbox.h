/* The daemon's sandbox, applied once everything is set up (TUN, sockets,
 * routes, control socket, PID file):
 *
 *  - an unprivileged user: `user` in [interface] or `up --user NAME`, by
 *    default the system user DV_SANDBOX_USER if it exists, else nobody;
 *    its primary group, no supplementary groups;
 *  - capabilities: CAP_NET_ADMIN (addresses, routes and rules on reload,
 *    MTU, the fwmark of `wg set`) and CAP_NET_BIND_SERVICE (`wg set
 *    listen-port` below 1024) effective; CAP_DAC_READ_SEARCH permitted
 *    only, made effective just while dv_sandbox_open_config opens the
 *    config file (root's, mode 0600); the bounding set is these three, the
 *    inheritable and ambient sets are empty;
 *  - no_new_privs, not dumpable (no core dump, no ptrace by the user);
 *  - a seccomp allow-list of the system calls the daemon makes after
 *    setup, for every thread (TSYNC); any other call kills the process.
 *
 * The allow-list is the table in sandbox.c: a new system call made after
 * setup must be added there. */
#ifndef DV_PLATFORM_SANDBOX_H
#define DV_PLATFORM_SANDBOX_H

#include <stddef.h>

#define DV_SANDBOX_USER "dybervpn"
#define DV_SANDBOX_FALLBACK_USER "nobody"

/* Applies the sandbox to the calling process (and all its threads). user
 * NULL or "" means the default. With off set, only no_new_privs and
 * not-dumpable are applied (`up --no-sandbox`, for debugging; logged as a
 * warning). Must run as root for the rest, and before any thread starts
 * (capability sets are per thread; threads started later inherit the
 * sandbox, the seccomp filter included): with more than one thread it
 * fails. 0, or -1 with the reason in err: a failure is a start-up error,
 * never a silent downgrade. */
int dv_sandbox_apply(const char *user, int off, char *err, size_t errlen);

/* Splits off the daemon before setup (not with the sandbox off): returns
 * 0 in the child, which goes on to set up and serve; in the parent, the
 * child's PID (or -1 with errno if fork fails). The parent then wipes what
 * it holds and calls dv_sandbox_monitor_wait: it stays behind as the
 * daemon's monitor, passing SIGTERM, SIGINT and SIGHUP on to it. */
int dv_sandbox_monitor_start(void);
/* The monitor: with CAP_KILL its only capability (still uid 0, the owner
 * of the run directories) and no input but its child's exit, waits for the daemon,
 * then removes the control socket and PID file of iface that the
 * unprivileged daemon cannot remove. Returns the daemon's exit code (1 if
 * it was killed, which is logged). */
int dv_sandbox_monitor_wait(const char *iface, int pid);

/* Whether dv_sandbox_apply would find user (NULL or "": the default):
 * 0, or -1 with the reason in err. For an early, clear error. */
int dv_sandbox_check_user(const char *user, char *err, size_t errlen);

/* 1 once the sandbox (user, capabilities) is applied in this process. */
int dv_sandbox_active(void);

/* Opens path read-only (O_CLOEXEC): in the sandbox, with
 * CAP_DAC_READ_SEARCH effective just for this open, so the daemon can
 * re-read a config file only root may read. The fd, or -1 with errno. */
int dv_sandbox_open_config(const char *path);

#endif
