/* dybervpn down: stop the daemon that runs an interface. */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "platform/paths.h"
#include "platform/pidfile.h"

/* The daemon tears down in milliseconds; this bounds a wedged one. */
#define DOWN_WAIT_MS 10000
#define DOWN_REAP_MS 3000

static void down_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn down IFACE\n\n"
		"Stop the dybervpn daemon running IFACE (SIGTERM to the PID in\n"
		"/run/dybervpn/IFACE.pid) and wait until it has removed the interface,\n"
		"its routes, its control socket and its PID file (at most %d s).\n",
		DOWN_WAIT_MS / 1000);
}

int down_main(int argc, char **argv)
{
	const struct timespec tick = { .tv_nsec = 20 * 1000000 };
	char path[DV_PATH_MAX];
	const char *iface;
	pid_t pid;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		down_usage(stdout);
		return 0;
	}
	if (argc != 2 || argv[1][0] == '-') {
		down_usage(stderr);
		return 2;
	}
	iface = argv[1];
	if (dv_path_pid(path, sizeof(path), iface) < 0) {
		fprintf(stderr, "dybervpn down: bad interface name '%s'\n", iface);
		return 2;
	}
	pid = dv_pidfile_read(iface);
	if (pid <= 0 || !dv_pid_is_dybervpn(pid)) {
		/* A daemon that was killed outright leaves its PID file. */
		int stale = pid > 0 && unlink(path) == 0;

		fprintf(stderr, "dybervpn down: no dybervpn interface %s is running%s\n",
			iface, stale ? " (removed its stale PID file)" : "");
		return 1;
	}
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "dybervpn down: signal %s (pid %d): %s\n", iface,
			(int)pid, strerror(errno));
		return 1;
	}
	for (int waited = 0; waited < DOWN_WAIT_MS; waited += 20) {
		if (!dv_pid_is_dybervpn(pid)) {
			/* It has exited and cleaned up. Give its parent (init,
			 * for a daemon) a moment to reap it, so that the PID is
			 * really gone when we return; a parent that never reaps
			 * (a shell that ran `up -f &`) does not hold us long. */
			for (int z = 0; z < DOWN_REAP_MS && kill(pid, 0) == 0; z += 20)
				nanosleep(&tick, NULL);
			return 0;
		}
		nanosleep(&tick, NULL);
	}
	fprintf(stderr, "dybervpn down: %s (pid %d) did not stop within %d s\n", iface,
		(int)pid, DOWN_WAIT_MS / 1000);
	return 1;
}
