/* Daemon logging: to stderr in the foreground, to syslog once daemonized.
 * Messages never carry key material; callers pass only what an operator
 * may read (interface names, addresses, counts, errors). */
#ifndef DV_PLATFORM_LOG_H
#define DV_PLATFORM_LOG_H

#include <stdarg.h>
#include <syslog.h> /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */

enum dv_log_target {
	DV_LOG_STDERR = 0,
	DV_LOG_SYSLOG = 1,
};

/* ident names the daemon in syslog ("dybervpn/dvpn0"); it must outlive the
 * logger. Messages above max_prio (e.g. LOG_DEBUG when max_prio is
 * LOG_INFO) are dropped. */
void dv_log_init(enum dv_log_target target, const char *ident, int max_prio);
void dv_log_close(void);

void dv_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dv_logv(int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
