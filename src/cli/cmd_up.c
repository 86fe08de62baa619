/* dybervpn up: load a config, create the tunnel, run the daemon. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"
#include "config/config.h"
#include "platform/ifconfig.h"
#include "platform/netlink.h"
#include "platform/daemon.h"
#include "platform/log.h"
#include "platform/paths.h"
#include "platform/pidfile.h"
#include "platform/sandbox.h"
#include "platform/sdnotify.h"

static void up_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn up NAME|FILE [-f] [-v] [-u USER] [--no-sandbox]\n"
		"       dybervpn up -c FILE [-f] [-v] [-u USER] [--no-sandbox]\n\n"
		"Bring up the tunnel a config file describes: a TUN interface with its\n"
		"addresses and routes, the UDP socket, and the control socket\n"
		"/var/run/wireguard/IFACE.sock (so `wg show IFACE` works). Needs root.\n\n"
		"NAME (no '/', not ending in .toml) means the file " DV_CONFIG_DIR "/NAME.toml\n"
		"(the directory is $" DV_CONFIG_DIR_ENV " if set); the interface is then\n"
		"named NAME unless the file sets `name`. The daemon remembers the file's\n"
		"absolute path: `dybervpn reload IFACE` and SIGHUP re-read it.\n\n"
		"  -c, --config FILE  the config file (TOML), always a path\n"
		"  -f, --foreground   stay in the foreground, log to stderr\n"
		"                     (default: daemonize, log to syslog)\n"
		"  -v, --verbose      log debug messages too\n"
		"  -u, --user USER    the user the daemon runs as once set up (default:\n"
		"                     the config's `user`, else " DV_SANDBOX_USER " if it exists,\n"
		"                     else " DV_SANDBOX_FALLBACK_USER ")\n"
		"      --no-sandbox   for debugging: stay root with every capability and\n"
		"                     no system-call filter (logged as a warning)\n"
		"  -h, --help         this help\n\n"
		"The daemon writes its PID to /run/dybervpn/IFACE.pid; stop it with\n"
		"`dybervpn down IFACE`, which also removes the socket and PID file\n"
		"(the sandboxed daemon may not).\n");
}

static void print_warning(void *arg, const char *msg)
{
	fprintf(stderr, "%s\n", msg);
}

/* The daemon's own loop, until a signal stops it. Returns 0 after a clean
 * stop, 1 after a fatal loop error (logged), -1 when setup failed (the
 * reason in err). */
static int serve(struct dv_config *cfg, char *err, size_t errlen, int report_fd)
{
	struct dv_daemon *d;
	char ifname[IF_NAMESIZE];
	int r;

	/* Before dv_daemon_new, which may take the config over. */
	snprintf(ifname, sizeof(ifname), "%s", dv_daemon_ifname(cfg));
	if (!cfg->no_sandbox) {
		/* The daemon will not be able to remove its socket and PID
		 * file: a monitor, split off before any setup, does. */
		r = dv_sandbox_monitor_start();
		if (r < 0) {
			snprintf(err, errlen, "fork: %s", strerror(errno));
			dv_config_free(cfg);
			return -1;
		}
		if (r > 0) {
			/* The monitor: it keeps no key and no descriptor the
			 * daemon's parent waits on. */
			dv_config_free(cfg);
			if (report_fd >= 0)
				close(report_fd);
			return dv_sandbox_monitor_wait(ifname, r) ? 1 : 0;
		}
	}
	d = dv_daemon_new(cfg, err, errlen);
	dv_config_free(cfg); /* the device keeps its own copy of the keys */
	/* (In a forked daemon this frees its copy; the parent keeps its own.) */
	/* A config of many peers leaves freed heap behind: give it back. */
	malloc_trim(0);
	if (!d)
		return -1;
	if (report_fd >= 0) {
		/* Tell the waiting parent the tunnel is up, then let go. */
		if (write(report_fd, "OK", 2) != 2)
			dv_log(LOG_WARNING, "could not report to the parent: %s",
			       strerror(errno));
		close(report_fd);
	} else {
		/* Foreground under systemd (Type=notify): the interface is up
		 * and the control socket listens, so the unit is started. */
		char st[128];

		snprintf(st, sizeof(st), "READY=1\nSTATUS=%s is up", ifname);
		if (dv_sd_notify(st) < 0)
			dv_log(LOG_WARNING, "sd_notify: %s", strerror(errno));
	}
	r = dv_daemon_run(d);
	dv_sd_notify("STOPPING=1");
	dv_daemon_free(d);
	dv_log(LOG_INFO, "stopped");
	return r < 0 ? 1 : 0;
}

static void to_dev_null(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Starts the daemon in a child and waits on a pipe until it says the
 * tunnel is up ("OK") or why it is not. Daemonized: double fork and
 * setsid, so the daemon is no session leader and never gets a
 * controlling terminal back; logs to syslog. Foreground (supervised by
 * this process): one fork, logs to stderr; *child is its PID. Returns 0
 * once it is up, 1 if it is not (the reason printed). */
static int start_daemon(struct dv_config *cfg, const char *ifname, const char *ident,
			int prio, int foreground, pid_t *child)
{
	char msg[1024];
	size_t got = 0;
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0) {
		fprintf(stderr, "dybervpn up: pipe: %s\n", strerror(errno));
		return 1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "dybervpn up: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid > 0) {
		*child = pid;
		close(p[1]);
		for (;;) {
			ssize_t n = read(p[0], msg + got, sizeof(msg) - 1 - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || (got += (size_t)n) == sizeof(msg) - 1)
				break;
		}
		msg[got] = 0;
		close(p[0]);
		if (!foreground)
			waitpid(pid, &status, 0);
		if (!strcmp(msg, "OK")) {
			if (!foreground)
				printf("%s is up (daemon pid %d, logging to syslog)\n", ifname,
				       (int)dv_pidfile_read(ifname));
			fflush(stdout);
			return 0;
		}
		fprintf(stderr, "dybervpn up: %s\n",
			got ? msg : "the daemon died while starting (see its log)");
		if (foreground)
			waitpid(pid, &status, 0);
		return 1;
	}

	close(p[0]);
	if (!foreground) {
		if (setsid() < 0)
			_exit(1);
		pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 1 : 0);
		if (chdir("/") < 0)
			_exit(1);
		umask(022);
		to_dev_null();
		dv_log_init(DV_LOG_SYSLOG, ident, prio);
	} else {
		dv_log_init(DV_LOG_STDERR, ident, prio);
	}
	status = serve(cfg, msg, sizeof(msg), p[1]);
	if (status < 0) {
		/* Setup failed before "OK": the parent prints why. */
		if (write(p[1], msg, strlen(msg)) < 0)
			dv_log(LOG_ERR, "%s", msg);
	}
	dv_log_close();
	exit(status ? 1 : 0);
}

/* Stops the daemon of ifname (SIGTERM, bounded wait). */
static void stop_daemon(const char *ifname, pid_t child)
{
	pid_t pid = dv_pidfile_read(ifname);

	if (pid > 0 && dv_pid_is_dybervpn(pid) && kill(pid, SIGTERM) == 0)
		dv_client_wait_gone(pid, 1, 10000);
	if (child > 0) {
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
	}
}

/* Once the daemon is up: DNS, then post_up. A failure takes everything
 * down again, without the down hooks (as wg-quick). 0, or 1. */
static int after_up(struct dv_config *cfg, const char *ifname, enum dv_dns_backend dns,
		    pid_t child)
{
	struct dv_client_state st;
	char err[1024];

	if (dv_client_dns_set(cfg, ifname, dns, err, sizeof(err)) == 0 &&
	    dv_client_hooks(cfg->hooks[DV_HOOK_POST_UP], cfg->n_hooks[DV_HOOK_POST_UP],
			    ifname) == 0)
		return 0;
	if (dns != DV_DNS_NONE && err[0])
		fprintf(stderr, "dybervpn up: %s\n", err);
	fprintf(stderr, "dybervpn up: taking %s down again\n", ifname);
	stop_daemon(ifname, child);
	dv_client_state_read(ifname, &st);
	dv_client_teardown(ifname, &st);
	dv_client_state_free(&st);
	return 1;
}

/* `up -f` of a config with hooks, DNS or a full tunnel: this process
 * stays root and outside the daemon's sandbox, runs the daemon as its
 * child, and on SIGTERM/SIGINT runs pre_down, stops it, undoes DNS and
 * nftables and runs post_down, as `down` would. */
static int supervise(struct dv_config *cfg, const char *ifname, const char *ident,
		     int prio, enum dv_dns_backend dns)
{
	struct dv_client_state st;
	siginfo_t si;
	sigset_t set;
	pid_t child = 0;
	int r = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (start_daemon(cfg, ifname, ident, prio, 1, &child)) {
		dv_client_state_read(ifname, &st);
		dv_client_teardown(ifname, &st);
		dv_client_state_free(&st);
		return 1;
	}
	if (after_up(cfg, ifname, dns, child))
		return 1;
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s is up", ifname);
		dv_sd_notify(msg);
	}
	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo == SIGCHLD) {
			if (waitpid(child, NULL, WNOHANG) == child) {
				fprintf(stderr, "dybervpn up: the daemon of %s exited\n", ifname);
				r = 1;
				break;
			}
			continue;
		}
		dv_sd_notify("STOPPING=1");
		if (dv_client_hooks(cfg->hooks[DV_HOOK_PRE_DOWN],
				    cfg->n_hooks[DV_HOOK_PRE_DOWN], ifname) < 0)
			r = 1; /* a signal stops anyway */
		kill(child, SIGTERM);
		waitpid(child, NULL, 0);
		break;
	}
	dv_client_state_read(ifname, &st);
	dv_client_teardown(ifname, &st);
	dv_client_state_free(&st);
	if (dv_client_hooks(cfg->hooks[DV_HOOK_POST_DOWN], cfg->n_hooks[DV_HOOK_POST_DOWN],
			    ifname) < 0)
		r = 1;
	return r;
}

/* Leftovers of an instance that did not stop cleanly (kill -9, power
 * loss): its rules, nftables table and DNS entry, as its state file
 * says. 0, or 1 if that instance still runs. */
static int clean_stale(const char *ifname)
{
	struct dv_client_state st;

	if (dv_client_state_read(ifname, &st) < 0) {
		dv_client_teardown(ifname, NULL);
		return 0;
	}
	if (st.owner > 0 && st.owner != getpid() && dv_pid_is_dybervpn(st.owner)) {
		fprintf(stderr, "dybervpn up: %s is still run by `dybervpn up -f` (pid %d)\n",
			ifname, (int)st.owner);
		dv_client_state_free(&st);
		return 1;
	}
	/* The run directory is the machine's: the same name may run in
	 * another network namespace. */
	if (dv_pid_is_dybervpn(dv_pidfile_read(ifname))) {
		fprintf(stderr, "dybervpn up: %s is already run by dybervpn process %d\n",
			ifname, (int)dv_pidfile_read(ifname));
		dv_client_state_free(&st);
		return 1;
	}
	fprintf(stderr, "dybervpn up: %s did not stop cleanly last time: removing what "
		"it left\n", ifname);
	dv_client_teardown(ifname, &st);
	dv_client_state_free(&st);
	return 0;
}

/* Everything before the daemon for a config that needs the client steps:
 * table choice, pre_up, state file and nftables. 0, or 1. */
static int before_up(struct dv_config *cfg, const char *ifname, int foreground,
		     enum dv_dns_backend *dns)
{
	struct dv_nl nl;
	char err[1024];
	int r;

	if (dv_client_dns_backend(cfg, dns, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn up: %s\n", err);
		return 1;
	}
	if (dv_nl_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn up: %s\n", err);
		return 1;
	}
	r = dv_ifconfig_plan(&nl, cfg, err, sizeof(err));
	dv_nl_close(&nl);
	if (r < 0) {
		fprintf(stderr, "dybervpn up: %s\n", err);
		return 1;
	}
	if (dv_client_hooks(cfg->hooks[DV_HOOK_PRE_UP], cfg->n_hooks[DV_HOOK_PRE_UP],
			    ifname) < 0)
		return 1;
	if (dv_client_pre(cfg, ifname, *dns, foreground ? getpid() : 0, err,
			  sizeof(err)) < 0) {
		struct dv_client_state st;

		fprintf(stderr, "dybervpn up: %s\n", err);
		dv_client_state_read(ifname, &st);
		dv_client_teardown(ifname, &st);
		dv_client_state_free(&st);
		return 1;
	}
	return 0;
}

int up_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "user", required_argument, NULL, 'u' },
		{ "no-sandbox", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char ident[32];
	const char *path = NULL, *user = NULL;
	struct dv_config cfg;
	char err[1024], ifname[IF_NAMESIZE], file[4096];
	int c, r, client, foreground = 0, prio = LOG_INFO, path_only = 0, is_name, no_sandbox = 0;
	enum dv_dns_backend dns = DV_DNS_NONE;

	while ((c = getopt_long(argc, argv, "c:fvu:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			path_only = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'v':
			prio = LOG_DEBUG;
			break;
		case 'u':
			user = optarg;
			break;
		case 'S':
			no_sandbox = 1;
			break;
		case 'h':
			up_usage(stdout);
			return 0;
		default:
			up_usage(stderr);
			return 2;
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (!path || optind < argc) {
		up_usage(stderr);
		return 2;
	}

	if (dv_config_locate(path, path_only, file, sizeof(file), &is_name, err,
			     sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn up: %s\n", err);
		return 1;
	}
	/* Loaded by its absolute path, which the daemon keeps (cfg.path) to
	 * re-read it on reload, after it has left the working directory. */
	if (dv_config_load(file, &cfg, err, sizeof(err), print_warning, NULL) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (is_name && !cfg.name[0])
		snprintf(cfg.name, sizeof(cfg.name), "%s", path);
	snprintf(ifname, sizeof(ifname), "%s", dv_daemon_ifname(&cfg));
	if (user) {
		if (!*user || strlen(user) >= sizeof(cfg.user)) {
			fprintf(stderr, "dybervpn up: --user: 1..%zu characters\n",
				sizeof(cfg.user) - 1);
			dv_config_free(&cfg);
			return 2;
		}
		snprintf(cfg.user, sizeof(cfg.user), "%s", user);
	}
	cfg.no_sandbox = no_sandbox;
	if (geteuid() != 0) {
		fprintf(stderr, "dybervpn up: must be run as root (it creates the TUN "
			"interface %s and its routes)\n", ifname);
		dv_config_free(&cfg);
		return 1;
	}
	if (if_nametoindex(ifname)) {
		fprintf(stderr, "dybervpn up: interface %s already exists%s\n", ifname,
			dv_pid_is_dybervpn(dv_pidfile_read(ifname))
				? " (run by dybervpn: `dybervpn down` it first)"
				: "");
		dv_config_free(&cfg);
		return 1;
	}
	if (!cfg.no_sandbox && dv_sandbox_check_user(cfg.user, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn up: %s (or --user NAME, or --no-sandbox)\n", err);
		dv_config_free(&cfg);
		return 1;
	}
	snprintf(ident, sizeof(ident), "dybervpn/%s", ifname);
	if (clean_stale(ifname)) {
		dv_config_free(&cfg);
		return 1;
	}
	client = dv_client_needed(&cfg);
	if (client && before_up(&cfg, ifname, foreground, &dns)) {
		dv_config_free(&cfg);
		return 1;
	}
	if (client && foreground) {
		/* Under systemd the supervisor, the unit's main process, is
		 * the one that says READY (once post_up has run). */
		if (dv_sd_notify_open() < 0)
			fprintf(stderr, "dybervpn up: NOTIFY_SOCKET unusable (%s); not "
				"notifying\n", strerror(errno));
		r = supervise(&cfg, ifname, ident, prio, dns);
		dv_sd_notify_close();
		dv_config_free(&cfg);
		return r;
	}
	if (!foreground) {
		pid_t child = 0;

		r = start_daemon(&cfg, ifname, ident, prio, 0, &child);
		if (r && client) {
			struct dv_client_state st;

			dv_client_state_read(ifname, &st);
			dv_client_teardown(ifname, &st);
			dv_client_state_free(&st);
		}
		if (!r && client)
			r = after_up(&cfg, ifname, dns, 0);
		dv_config_free(&cfg);
		return r;
	}
	dv_log_init(DV_LOG_STDERR, ident, prio);
	if (dv_sd_notify_open() < 0)
		fprintf(stderr, "dybervpn up: NOTIFY_SOCKET unusable (%s); not notifying\n",
			strerror(errno));
	r = serve(&cfg, err, sizeof(err), -1);
	dv_sd_notify_close();
	if (r < 0)
		fprintf(stderr, "dybervpn up: %s\n", err);
	return r ? 1 : 0;
}
