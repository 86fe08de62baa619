/* Readiness notification to systemd (sd_notify(3)'s datagram protocol,
 * which systemd documents as stable for reimplementation): with
 * Type=notify the unit is "started" only once the daemon says READY=1,
 * and a reload is bracketed by RELOADING=1 and READY=1.
 *
 * dv_sd_notify_open() reads $NOTIFY_SOCKET once, at setup, and keeps one
 * datagram socket connected to it, so a notification later is a single
 * send(): no new socket, and no access to the socket's path, once the
 * daemon is sandboxed and runs as another user. Without $NOTIFY_SOCKET
 * (not run by systemd) every call is a no-op. */
#ifndef DV_PLATFORM_SDNOTIFY_H
#define DV_PLATFORM_SDNOTIFY_H

/* 1 when $NOTIFY_SOCKET names a socket it could connect to, 0 when it is
 * unset, -1 when it is set but unusable (malformed, or nobody listens:
 * errno set). Unsets the variable so that no child inherits it. */
int dv_sd_notify_open(void);
/* Sends state ("READY=1\nSTATUS=...") if open; 0, or -1 with errno set. */
int dv_sd_notify(const char *state);
void dv_sd_notify_close(void);

#endif
