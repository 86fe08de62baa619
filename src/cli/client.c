/* Hooks, DNS, nftables and the state file around the daemon (client.h). */
#include "cli/client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "platform/ifconfig.h"
#include "platform/netlink.h"
#include "platform/paths.h"
#include "platform/pidfile.h"

#define STATE_LINE_MAX (2 * DV_CONFIG_HOOK_MAX + 64)
#define NFT_TABLE_PREFIX "dybervpn-"

int dv_client_needed(const struct dv_config *cfg)
{
	if (cfg->n_dns || cfg->n_dns_search || dv_ifconfig_full_families(cfg))
		return 1;
	for (int h = 0; h < DV_HOOK_COUNT; h++)
		if (cfg->n_hooks[h])
			return 1;
	return 0;
}

/* 1 if name is an executable file in a directory of $PATH. */
static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path || !*path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name) <
				 (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return 1;
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}

/* Runs argv (looked up in $PATH) with input on its standard input (NULL:
 * /dev/null); quiet sends its output to /dev/null. Its exit status, 127
 * if it could not be run, -1 if fork failed. */
static int run(char *const argv[], const char *input, int quiet)
{
	int p[2] = { -1, -1 }, status;
	pid_t pid;

	if (input && pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		if (input) {
			close(p[0]);
			close(p[1]);
		}
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (input)
			dup2(p[0], STDIN_FILENO);
		else if (null >= 0)
			dup2(null, STDIN_FILENO);
		if (quiet && null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		/* The daemon's parent blocks these; a child must not inherit. */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (input) {
		size_t len = strlen(input), off = 0;
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		close(p[0]);
		while (off < len) {
			ssize_t n = write(p[1], input + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		close(p[1]);
		signal(SIGPIPE, old);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int dv_client_hooks(char *const *cmds, size_t n, const char *ifname)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cmds[i]), cap = len + 1, o = 0;
		char *cmd;
		int r;

		/* Each %i becomes the name (at most 15 bytes). */
		for (const char *s = cmds[i]; (s = strstr(s, "%i")); s += 2)
			cap += strlen(ifname);
		cmd = malloc(cap);
		if (!cmd)
			return -1;
		for (const char *s = cmds[i]; *s;) {
			if (s[0] == '%' && s[1] == 'i') {
				memcpy(cmd + o, ifname, strlen(ifname));
				o += strlen(ifname);
				s += 2;
			} else {
				cmd[o++] = *s++;
			}
		}
		cmd[o] = 0;
		fprintf(stderr, "[#] %s\n", cmd);
		fflush(stderr);
		{
			char *argv[] = { "/bin/sh", "-c", cmd, NULL };

			r = run(argv, NULL, 0);
		}
		free(cmd);
		if (r) {
			fprintf(stderr, "dybervpn: hook failed (exit status %d)\n", r);
			return -1;
		}
	}
	return 0;
}

/* ---- DNS ---- */

static int resolved_running(void)
{
	struct stat st;

	return stat("/run/systemd/resolve/io.systemd.Resolve", &st) == 0 &&
	       S_ISSOCK(st.st_mode);
}

int dv_client_dns_backend(const struct dv_config *cfg, enum dv_dns_backend *out,
			  char *err, size_t errlen)
{
	*out = DV_DNS_NONE;
	if (!cfg->n_dns && !cfg->n_dns_search)
		return 0;
	if (in_path("resolvconf")) {
		*out = DV_DNS_RESOLVCONF;
		return 0;
	}
	if (in_path("resolvectl") && resolved_running()) {
		*out = DV_DNS_RESOLVECTL;
		return 0;
	}
	snprintf(err, errlen, "`dns` is set, but this machine has neither resolvconf nor "
		 "a running systemd-resolved: install one (Debian: `apt install "
		 "openresolv`, or `apt install systemd-resolved`) or remove `dns`");
	return -1;
}

static void resolvconf_name(char *buf, size_t len, const char *ifname)
{
	snprintf(buf, len, "tun.%s", ifname);
}

int dv_client_dns_set(const struct dv_config *cfg, const char *ifname,
		      enum dv_dns_backend dns, char *err, size_t errlen)
{
	char name[32];
	int r;

	if (dns == DV_DNS_NONE)
		return 0;
	if (dns == DV_DNS_RESOLVCONF) {
		size_t cap = 64, o = 0;
		char *text;

		for (size_t i = 0; i < cfg->n_dns; i++)
			cap += strlen(cfg->dns[i]) + 12;
		for (size_t i = 0; i < cfg->n_dns_search; i++)
			cap += strlen(cfg->dns_search[i]) + 1;
		text = malloc(cap);
		if (!text) {
			snprintf(err, errlen, "dns: out of memory");
			return -1;
		}
		text[0] = 0;
		for (size_t i = 0; i < cfg->n_dns; i++)
			o += (size_t)snprintf(text + o, cap - o, "nameserver %s\n", cfg->dns[i]);
		if (cfg->n_dns_search) {
			o += (size_t)snprintf(text + o, cap - o, "search");
			for (size_t i = 0; i < cfg->n_dns_search; i++)
				o += (size_t)snprintf(text + o, cap - o, " %s",
						      cfg->dns_search[i]);
			snprintf(text + o, cap - o, "\n");
		}
		resolvconf_name(name, sizeof(name), ifname);
		{
			char *argv[] = { "resolvconf", "-a", name, "-m", "0", "-x", NULL };

			fprintf(stderr, "[#] resolvconf -a %s -m 0 -x\n", name);
			r = run(argv, text, 0);
		}
		free(text);
		if (r) {
			snprintf(err, errlen, "dns: resolvconf -a %s failed (status %d)", name, r);
			return -1;
		}
		return 0;
	}
	/* systemd-resolved: the servers on the link, its search domains, and
	 * "~." for a full tunnel so every query goes to them. */
	{
		char *argv[DV_CONFIG_LIST_MAX + 5];
		size_t n = 0;

		argv[n++] = "resolvectl";
		argv[n++] = "dns";
		argv[n++] = (char *)ifname;
		for (size_t i = 0; i < cfg->n_dns; i++)
			argv[n++] = cfg->dns[i];
		argv[n] = NULL;
		fprintf(stderr, "[#] resolvectl dns %s ...\n", ifname);
		if ((r = run(argv, NULL, 0))) {
			snprintf(err, errlen, "dns: resolvectl dns %s failed (status %d)",
				 ifname, r);
			return -1;
		}
		n = 0;
		argv[n++] = "resolvectl";
		argv[n++] = "domain";
		argv[n++] = (char *)ifname;
		for (size_t i = 0; i < cfg->n_dns_search; i++)
			argv[n++] = cfg->dns_search[i];
		if (dv_ifconfig_full_families(cfg))
			argv[n++] = "~.";
		argv[n] = NULL;
		if (n > 3 && (r = run(argv, NULL, 0))) {
			snprintf(err, errlen, "dns: resolvectl domain %s failed (status %d)",
				 ifname, r);
			return -1;
		}
	}
	return 0;
}

static void dns_unset(const char *ifname, enum dv_dns_backend dns)
{
	char name[32];

	if (dns == DV_DNS_RESOLVCONF) {
		char *argv[] = { "resolvconf", "-d", name, "-f", NULL };

		resolvconf_name(name, sizeof(name), ifname);
		fprintf(stderr, "[#] resolvconf -d %s -f\n", name);
		if (run(argv, NULL, 0))
			fprintf(stderr, "dybervpn: resolvconf -d %s failed\n", name);
	} else if (dns == DV_DNS_RESOLVECTL) {
		char *argv[] = { "resolvectl", "revert", (char *)ifname, NULL };

		/* The link is usually gone, and its settings with it. */
		run(argv, NULL, 1);
	}
}

/* ---- nftables ---- */

/* The anti-spoofing and mark-keeping rules of wg-quick, in one inet
 * table: packets to our tunnel addresses that arrive on another
 * interface, from a source not local, are dropped; the UDP socket's mark
 * is kept in conntrack so its replies carry it too (src_valid_mark). */
static char *nft_script(const struct dv_config *cfg, const char *ifname)
{
	int full = dv_ifconfig_full_families(cfg);
	size_t cap = 1024 + cfg->n_addresses * 160, o = 0;
	char *s = malloc(cap);

	if (!s)
		return NULL;
	o += (size_t)snprintf(s + o, cap - o,
			      "add table inet " NFT_TABLE_PREFIX "%s\n"
			      "add chain inet " NFT_TABLE_PREFIX "%s preraw "
			      "{ type filter hook prerouting priority -300; }\n"
			      "add chain inet " NFT_TABLE_PREFIX "%s premangle "
			      "{ type filter hook prerouting priority -150; }\n"
			      "add chain inet " NFT_TABLE_PREFIX "%s postmangle "
			      "{ type filter hook postrouting priority -150; }\n",
			      ifname, ifname, ifname, ifname);
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct dv_cidr *a = &cfg->addresses[i];
		struct dv_cidr host = *a;
		char text[DV_CIDR_STRLEN], *slash;
		int v4 = a->family == AF_INET;

		if (!(full & (v4 ? DV_FULL_V4 : DV_FULL_V6)))
			continue;
		host.prefix = v4 ? 32 : 128;
		dv_cidr_format(&host, text, sizeof(text));
		slash = strchr(text, '/');
		if (slash)
			*slash = 0;
		o += (size_t)snprintf(s + o, cap - o,
				      "add rule inet " NFT_TABLE_PREFIX "%s preraw iifname != "
				      "\"%s\" %s daddr %s fib saddr type != local drop\n",
				      ifname, ifname, v4 ? "ip" : "ip6", text);
	}
	snprintf(s + o, cap - o,
		 "add rule inet " NFT_TABLE_PREFIX "%s postmangle meta l4proto udp "
		 "mark %u ct mark set mark\n"
		 "add rule inet " NFT_TABLE_PREFIX "%s premangle meta l4proto udp "
		 "meta mark set ct mark\n",
		 ifname, cfg->fwmark, ifname);
	return s;
}

static int nft_del(const char *ifname, int quiet)
{
	char table[64];
	char *argv[] = { "nft", "delete", "table", "inet", table, NULL };

	snprintf(table, sizeof(table), NFT_TABLE_PREFIX "%s", ifname);
	if (!quiet)
		fprintf(stderr, "[#] nft delete table inet %s\n", table);
	return run(argv, NULL, quiet);
}

/* ---- the state file ---- */

static int state_path(char *buf, size_t len, const char *ifname)
{
	char pid[DV_PATH_MAX];
	size_t n;

	if (dv_path_pid(pid, sizeof(pid), ifname) < 0)
		return -1;
	n = strlen(pid) - 3; /* "pid" */
	return snprintf(buf, len, "%.*sstate", (int)n, pid) >= (int)len ? -1 : 0;
}

/* A command on one line: backslash and newline escaped. */
static void put_escaped(FILE *f, const char *key, const char *v)
{
	fprintf(f, "%s ", key);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('\n', f);
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else if (s[0] == '\\' && s[1] == '\\') {
			*o++ = '\\';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

static int write_state(const char *ifname, const struct dv_config *cfg, int nft,
		       enum dv_dns_backend dns, pid_t owner, char *err, size_t errlen)
{
	char path[DV_PATH_MAX + 8], msg[256];
	int fd;
	FILE *f;

	if (dv_rundir_prepare(DV_PID_DIR, msg, sizeof(msg)) < 0 ||
	    state_path(path, sizeof(path), ifname) < 0) {
		snprintf(err, errlen, "state file: %s", msg);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "state file %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fprintf(f, "table %u\nfull %d\nnft %d\ndns %d\nowner %d\n", cfg->table,
		dv_ifconfig_full_families(cfg), nft, (int)dns, (int)owner);
	for (size_t i = 0; i < cfg->n_hooks[DV_HOOK_PRE_DOWN]; i++)
		put_escaped(f, "pre_down", cfg->hooks[DV_HOOK_PRE_DOWN][i]);
	for (size_t i = 0; i < cfg->n_hooks[DV_HOOK_POST_DOWN]; i++)
		put_escaped(f, "post_down", cfg->hooks[DV_HOOK_POST_DOWN][i]);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "state file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int dv_client_state_read(const char *ifname, struct dv_client_state *st)
{
	char path[DV_PATH_MAX + 8], *line;
	struct stat sb;
	FILE *f;
	int fd;

	memset(st, 0, sizeof(*st));
	if (state_path(path, sizeof(path), ifname) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Ours only: root's, not writable by others (it names commands). */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() ||
	    (sb.st_mode & 022) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return -1;
	}
	line = malloc(STATE_LINE_MAX);
	while (line && fgets(line, STATE_LINE_MAX, f)) {
		char *v = strchr(line, ' ');
		int h = -1;

		line[strcspn(line, "\n")] = 0;
		if (!v)
			continue;
		*v++ = 0;
		if (!strcmp(line, "table"))
			st->table = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(line, "full"))
			st->full = atoi(v) & (DV_FULL_V4 | DV_FULL_V6);
		else if (!strcmp(line, "nft"))
			st->nft = atoi(v) != 0;
		else if (!strcmp(line, "dns"))
			st->dns = (enum dv_dns_backend)(atoi(v) == 1 ? 1 : atoi(v) == 2 ? 2 : 0);
		else if (!strcmp(line, "owner"))
			st->owner = (pid_t)atoi(v);
		else if (!strcmp(line, "pre_down"))
			h = 0;
		else if (!strcmp(line, "post_down"))
			h = 1;
		if (h >= 0 && st->n_hooks[h] < DV_CONFIG_LIST_MAX) {
			char **nl = realloc(st->hooks[h], (st->n_hooks[h] + 1) * sizeof(*nl));

			if (!nl)
				break;
			st->hooks[h] = nl;
			unescape(v);
			if ((nl[st->n_hooks[h]] = strdup(v)))
				st->n_hooks[h]++;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

void dv_client_state_free(struct dv_client_state *st)
{
	for (int h = 0; h < 2; h++) {
		for (size_t i = 0; i < st->n_hooks[h]; i++)
			free(st->hooks[h][i]);
		free(st->hooks[h]);
	}
	memset(st, 0, sizeof(*st));
}

int dv_client_pre(const struct dv_config *cfg, const char *ifname,
		  enum dv_dns_backend dns, pid_t owner, char *err, size_t errlen)
{
	int nft = 0;

	if (dv_ifconfig_full_families(cfg)) {
		char *script = nft_script(cfg, ifname);
		char *argv[] = { "nft", "-f", "-", NULL };
		int r;

		if (!script) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		/* Recorded before it exists: a crash in between still gets it
		 * removed. */
		if (write_state(ifname, cfg, 1, dns, owner, err, errlen) < 0) {
			free(script);
			return -1;
		}
		fprintf(stderr, "[#] nft -f - (table inet " NFT_TABLE_PREFIX "%s)\n", ifname);
		r = run(argv, script, 0);
		free(script);
		if (r == 127) {
			fprintf(stderr, "dybervpn up: warning: `nft` not found (Debian: apt "
				"install nftables): no anti-spoofing rule for %s\n", ifname);
		} else if (r) {
			snprintf(err, errlen, "nft: adding table inet " NFT_TABLE_PREFIX
				 "%s failed (status %d)", ifname, r);
			return -1;
		} else {
			nft = 1;
		}
	}
	return write_state(ifname, cfg, nft, dns, owner, err, errlen);
}

void dv_client_teardown(const char *ifname, const struct dv_client_state *st)
{
	char path[DV_PATH_MAX + 8];

	if (st) {
		dns_unset(ifname, st->dns);
		if (st->nft)
			nft_del(ifname, 0);
		if (st->full && st->table) {
			struct dv_nl nl;
			char err[256];

			/* Normally the daemon removed them; a crash did not. */
			if (dv_nl_open(&nl, err, sizeof(err)) == 0) {
				int n = dv_ifconfig_remove_rules(&nl, st->table, st->full);

				if (n)
					fprintf(stderr, "dybervpn: removed %d leftover routing "
						"rule%s of %s (table %u)\n", n, n == 1 ? "" : "s",
						ifname, st->table);
				dv_nl_close(&nl);
			}
		}
	} else if (in_path("nft")) {
		nft_del(ifname, 1); /* a leftover without its state, if any */
	}
	if (state_path(path, sizeof(path), ifname) == 0)
		unlink(path);
}

int dv_client_wait_gone(pid_t pid, int dybervpn_only, int ms)
{
	const struct timespec tick = { .tv_nsec = 20 * 1000000 };

	for (int waited = 0; waited < ms; waited += 20) {
		if (dybervpn_only ? !dv_pid_is_dybervpn(pid) : kill(pid, 0) < 0)
			return 0;
		nanosleep(&tick, NULL);
	}
	return -1;
}
