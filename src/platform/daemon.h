/* The daemon: one thread, one epoll loop over the TUN device, the UDP
 * socket, a timerfd for the device's timers, a signalfd (SIGTERM/SIGINT
 * stop, SIGHUP is logged) and the control socket. Every wake-up handles a
 * batch (up to 64 TUN packets or UDP datagrams), then flushes the queued
 * datagrams with one sendmmsg (docs/DATAPATH.md).
 *
 * Setup order: UDP socket (its port goes into the device), device, TUN,
 * interface configuration (netlink), control socket, PID file, then the
 * sandbox (platform/sandbox.h: unprivileged user, two capabilities,
 * seccomp). Teardown undoes it; closing the TUN removes the interface with
 * its addresses and routes. The sandboxed daemon cannot remove its socket
 * file and PID file from the root-owned run directories: its monitor and
 * `down` do. */
#ifndef DV_PLATFORM_DAEMON_H
#define DV_PLATFORM_DAEMON_H

#include <stddef.h>

struct dv_config;
struct dv_daemon;

/* The interface name a config asks for, or the default. */
#define DV_DEFAULT_IFNAME "dvpn0"
const char *dv_daemon_ifname(const struct dv_config *cfg);

/* Creates everything and brings the interface up; signals are blocked
 * from here on (the loop reads them from its signalfd). cfg->listen_port
 * is updated to the port actually bound. NULL on failure, with the first
 * error in err and everything created so far undone. */
struct dv_daemon *dv_daemon_new(struct dv_config *cfg, char *err, size_t errlen);
/* Runs the loop until SIGTERM or SIGINT (returns 0) or a fatal error
 * (logged; returns -1). */
int dv_daemon_run(struct dv_daemon *d);
/* Tears down in reverse order; NULL is allowed. */
void dv_daemon_free(struct dv_daemon *d);

#endif
