#include "platform/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static enum dv_log_target log_target = DV_LOG_STDERR;
static const char *log_ident = "dybervpn";
static int log_max_prio = LOG_INFO;

void dv_log_init(enum dv_log_target target, const char *ident, int max_prio)
{
	log_target = target;
	log_ident = ident;
	log_max_prio = max_prio;
	if (target == DV_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void dv_log_close(void)
{
	if (log_target == DV_LOG_SYSLOG)
		closelog();
	log_target = DV_LOG_STDERR;
}

static const char *prio_name(int prio)
{
	switch (prio) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

void dv_logv(int prio, const char *fmt, va_list ap)
{
	char msg[1024];

	if (prio > log_max_prio)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_target == DV_LOG_SYSLOG) {
		syslog(prio, "%s", msg);
		return;
	}
	/* One fprintf per line so lines of concurrent writers do not mix. */
	struct timespec ts;
	struct tm tm;
	char stamp[32] = "";

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm))
		strftime(stamp, sizeof(stamp), "%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ld %s: %s: %s\n", stamp, ts.tv_nsec / 1000000,
		log_ident, prio_name(prio), msg);
}

void dv_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dv_logv(prio, fmt, ap);
	va_end(ap);
}
