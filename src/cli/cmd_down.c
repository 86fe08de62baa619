/* dybervpn down: stop the daemon that runs an interface. */
#include "cli/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/client.h"
#include "platform/ctlsock.h"
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
		"its routes and rules (at most %d s), then remove its control socket and\n"
		"PID file (the sandboxed daemon runs as a user that may not). With\n"
		"hooks, DNS or a full tunnel (recorded by `up` in /run/dybervpn/IFACE.state): pre_down runs first (its failure stops\n"
		"`down`, as in wg-quick), then the daemon stops, DNS and the nftables\n"
		"table are removed, and post_down runs.\n",
		DOWN_WAIT_MS / 1000);
}

int down_main(int argc, char **argv)
{
	const struct timespec tick = { .tv_nsec = 20 * 1000000 };
	char path[DV_PATH_MAX];
	struct dv_client_state st;
	const char *iface;
	int has_state, r;
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
	has_state = dv_client_state_read(iface, &st) == 0;
	if (has_state && st.owner > 0 && dv_pid_is_dybervpn(st.owner)) {
		/* Run by `up -f`, which does the rest on SIGTERM. */
		r = kill(st.owner, SIGTERM) == 0 &&
		    dv_client_wait_gone(st.owner, 1, DOWN_WAIT_MS + 5000) == 0 ? 0 : 1;
		if (r)
			fprintf(stderr, "dybervpn down: `up -f` of %s (pid %d) did not stop\n",
				iface, (int)st.owner);
		dv_client_state_free(&st);
		return r;
	}
	pid = dv_pidfile_read(iface);
	if (pid <= 0 || !dv_pid_is_dybervpn(pid)) {
		/* A daemon that was killed outright leaves its PID file. */
		int stale = pid > 0 && unlink(path) == 0;
		int sock = dv_ctl_remove_stale(iface);

		fprintf(stderr, "dybervpn down: no dybervpn interface %s is running%s%s%s\n",
			iface, stale ? " (removed its stale PID file)" : "",
			sock ? " (removed its stale control socket)" : "",
			has_state ? " (removed its leftover rules, DNS and nftables table)" : "");
		if (has_state)
			dv_client_teardown(iface, &st);
		dv_client_state_free(&st);
		return 1;
	}
	if (has_state && dv_client_hooks(st.hooks[0], st.n_hooks[0], iface) < 0) {
		fprintf(stderr, "dybervpn down: pre_down failed: %s stays up\n", iface);
		dv_client_state_free(&st);
		return 1;
	}
	if (kill(pid, SIGTERM) < 0) {
		fprintf(stderr, "dybervpn down: signal %s (pid %d): %s\n", iface,
			(int)pid, strerror(errno));
		dv_client_state_free(&st);
		return 1;
	}
	r = 1;
	for (int waited = 0; waited < DOWN_WAIT_MS; waited += 20) {
		if (!dv_pid_is_dybervpn(pid)) {
			/* It has exited and cleaned up. Give its parent (init,
			 * for a daemon) a moment to reap it, so that the PID is
			 * really gone when we return; a parent that never reaps
			 * (a shell that ran `up -f &`) does not hold us long. */
			for (int z = 0; z < DOWN_REAP_MS && kill(pid, 0) == 0; z += 20)
				nanosleep(&tick, NULL);
			dv_pidfile_remove_for(iface, pid);
			dv_ctl_remove_stale(iface);
			r = 0;
			break;
		}
		nanosleep(&tick, NULL);
	}
	if (r)
		fprintf(stderr, "dybervpn down: %s (pid %d) did not stop within %d s\n",
			iface, (int)pid, DOWN_WAIT_MS / 1000);
	else if (has_state) {
		dv_client_teardown(iface, &st);
		if (dv_client_hooks(st.hooks[1], st.n_hooks[1], iface) < 0)
			r = 1;
	}
	dv_client_state_free(&st);
	return r;
}
