#include "platform/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sockios.h>
#include <openssl/crypto.h>
#include <net/if.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "platform/ctlsock.h"
#include "platform/log.h"
#include "platform/pidfile.h"
#include "util/tsan.h"

static int sandboxed;

/* What the daemon keeps, and why (README "Sandbox"). */
static const cap_value_t caps_effective[] = {
	CAP_NET_ADMIN,        /* addresses, routes, rules; MTU; SO_MARK */
	CAP_NET_BIND_SERVICE, /* `wg set listen-port` below 1024 */
};
static const cap_value_t caps_permitted_only[] = {
	CAP_DAC_READ_SEARCH, /* re-reading the root-only config file */
};

int dv_sandbox_active(void)
{
	return sandboxed;
}

static int cap_kept(cap_value_t c)
{
	for (size_t i = 0; i < sizeof(caps_effective) / sizeof(caps_effective[0]); i++)
		if (caps_effective[i] == c)
			return 1;
	for (size_t i = 0; i < sizeof(caps_permitted_only) / sizeof(caps_permitted_only[0]);
	     i++)
		if (caps_permitted_only[i] == c)
			return 1;
	return 0;
}

/* Sets the process's sets: permitted = kept, effective = kept minus the
 * permitted-only ones plus extra (CAP_LAST_CAP + 1 for none). */
static int caps_set(cap_value_t extra)
{
	cap_t c = cap_init();
	int r = -1;

	if (!c)
		return -1;
	if (cap_set_flag(c, CAP_PERMITTED,
			 (int)(sizeof(caps_effective) / sizeof(caps_effective[0])),
			 caps_effective, CAP_SET) == 0 &&
	    cap_set_flag(c, CAP_PERMITTED,
			 (int)(sizeof(caps_permitted_only) / sizeof(caps_permitted_only[0])),
			 caps_permitted_only, CAP_SET) == 0 &&
	    cap_set_flag(c, CAP_EFFECTIVE,
			 (int)(sizeof(caps_effective) / sizeof(caps_effective[0])),
			 caps_effective, CAP_SET) == 0 &&
	    (extra > CAP_LAST_CAP || cap_set_flag(c, CAP_EFFECTIVE, 1, &extra, CAP_SET) == 0))
		r = cap_set_proc(c);
	cap_free(c);
	return r;
}

int dv_sandbox_open_config(const char *path)
{
	int fd, e;

	if (!sandboxed)
		return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (caps_set(CAP_DAC_READ_SEARCH) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	e = errno;
	if (caps_set(CAP_LAST_CAP + 1) < 0) {
		/* Cannot lower it again: do not go on with it raised. */
		dv_log(LOG_CRIT, "sandbox: cannot drop CAP_DAC_READ_SEARCH: %s; stopping",
		       strerror(errno));
		_exit(1);
	}
	errno = e;
	return fd;
}

/* ---- the monitor ---- */

static volatile pid_t monitored;

static void forward_signal(int sig)
{
	int e = errno;

	if (monitored > 0 && kill(monitored, sig) < 0) {
		/* Cannot pass it on (should not happen): stop the daemon
		 * for good rather than leave it running unwatched. */
		kill(monitored, SIGKILL);
	}
	errno = e;
}

int dv_sandbox_monitor_start(void)
{
	struct sigaction sa = { .sa_handler = forward_signal };
	sigset_t block, old;
	pid_t pid;

	/* Signals wait until the handler knows whom to pass them to. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid = fork();
	if (pid > 0) {
		monitored = pid;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	{
		int e = errno;

		/* The monitor takes them even when its caller blocked them
		 * (`up -f` supervising a client config does). */
		if (pid > 0)
			sigprocmask(SIG_UNBLOCK, &block, NULL);
		else
			sigprocmask(SIG_SETMASK, &old, NULL);
		errno = e;
	}
	return (int)pid;
}

int dv_sandbox_monitor_wait(const char *iface, int pid)
{
	static const cap_value_t kill_cap[] = { CAP_KILL };
	cap_t caps = cap_init();
	int st = 0, code;

	/* Root's uid is enough to remove the files (the run directories are
	 * root's); passing a signal on to a process of another user takes
	 * CAP_KILL. Nothing else. */
	if (!caps || cap_set_flag(caps, CAP_PERMITTED, 1, kill_cap, CAP_SET) < 0 ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, kill_cap, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		dv_log(LOG_WARNING, "monitor: dropping capabilities: %s", strerror(errno));
	if (caps)
		cap_free(caps);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	monitored = 0;
	if (WIFSIGNALED(st)) {
		dv_log(LOG_ERR, "the daemon (pid %d) was killed by signal %d%s", pid,
		       WTERMSIG(st),
		       WTERMSIG(st) == SIGSYS
			       ? " (SIGSYS: a system call outside the seccomp allow-list; "
				 "the kernel log names it: audit type=1326 syscall=N)"
			       : "");
		code = 1;
	} else {
		code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	}
	dv_pidfile_remove_for(iface, pid);
	dv_ctl_remove_stale(iface);
	return code;
}

/* ---- the user ---- */

/* The last lookup's answer: `up` checks the user before it forks the
 * daemon, which then applies the sandbox with that answer instead of
 * asking the name service again (whose modules, loaded into the daemon,
 * would stay resident for nothing). */
static struct {
	int have;
	char asked[64]; /* the name asked for, "" for the default */
	uid_t uid;
	gid_t gid;
	char name[64];
} last_user;

static int find_user(const char *name, uid_t *uid, gid_t *gid, char *name_out,
		     size_t name_len, char *err, size_t errlen)
{
	const char *tried = name, *asked = name ? name : "";
	struct passwd *pw;

	if (last_user.have && !strcmp(last_user.asked, asked)) {
		*uid = last_user.uid;
		*gid = last_user.gid;
		if (name_out)
			snprintf(name_out, name_len, "%s", last_user.name);
		return 0;
	}
	errno = 0;
	if (name && *name) {
		pw = getpwnam(name);
	} else {
		tried = DV_SANDBOX_USER;
		pw = getpwnam(DV_SANDBOX_USER);
		if (!pw) {
			tried = DV_SANDBOX_FALLBACK_USER;
			errno = 0;
			pw = getpwnam(DV_SANDBOX_FALLBACK_USER);
		}
	}
	if (!pw) {
		snprintf(err, errlen, "sandbox: no user '%s'%s%s", tried, errno ? ": " : "",
			 errno ? strerror(errno) : "");
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		snprintf(err, errlen, "sandbox: user '%s' has uid or gid 0: refused (run "
			 "`up --no-sandbox` to stay root)", pw->pw_name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (name_out)
		snprintf(name_out, name_len, "%s", pw->pw_name);
	if (strlen(asked) < sizeof(last_user.asked) &&
	    strlen(pw->pw_name) < sizeof(last_user.name)) {
		snprintf(last_user.asked, sizeof(last_user.asked), "%s", asked);
		snprintf(last_user.name, sizeof(last_user.name), "%s", pw->pw_name);
		last_user.uid = pw->pw_uid;
		last_user.gid = pw->pw_gid;
		last_user.have = 1;
	}
	return 0;
}

int dv_sandbox_check_user(const char *user, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	return find_user(user, &uid, &gid, NULL, 0, err, errlen);
}

/* ThreadSanitizer's runtime runs one thread of its own once the process
 * has forked or started a thread (the daemon forks its monitor first). It
 * is not one of ours: the check below allows it in a TSan build (a test
 * build; like every sanitizer build it has no seccomp filter either). It
 * was made by a raw clone, outside the C library's thread list, so it
 * keeps the ids and capabilities it had; it runs only the runtime's code. */
#define RUNTIME_THREADS (DV_TSAN ? 1U : 0U)

/* Threads in this process, from /proc/self/status; 0 if unknown. */
static unsigned thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

static int drop_user_and_caps(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	/* The bounding set first: dropping from it needs CAP_SETPCAP. */
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) {
		if (cap_kept(c) || !CAP_IS_SUPPORTED(c))
			continue;
		if (cap_drop_bound(c) < 0) {
			snprintf(err, errlen, "sandbox: dropping capability %d from the "
				 "bounding set: %s", (int)c, strerror(errno));
			return -1;
		}
	}
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0) {
		snprintf(err, errlen, "sandbox: switching to uid %u gid %u: %s",
			 (unsigned)uid, (unsigned)gid, strerror(errno));
		return -1;
	}
	if (caps_set(CAP_LAST_CAP + 1) < 0 || prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		snprintf(err, errlen, "sandbox: capabilities: %s", strerror(errno));
		return -1;
	}
	/* Check that there is no way back. */
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid ||
	    setuid(0) == 0 || setgid(0) == 0) {
		snprintf(err, errlen, "sandbox: the switch to uid %u did not hold",
			 (unsigned)uid);
		return -1;
	}
	return 0;
}

/* ---- seccomp ---- */

#ifndef DV_SANITIZE /* no filter under a sanitizer: see dv_sandbox_apply */

/* The system calls the daemon makes once set up (found with strace -f on
 * the daemon through the network tests, every mode: tunnel, rekey, `wg
 * set`, `wg show`, status, down), plus those of threads and of the C
 * library's own paths (syslog reconnecting, abort). */
static const char *const allowed[] = {
	/* the loop */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "read", "readv",
	"write", "writev", "pread64", "pwrite64", "close", "timerfd_settime",
	"timerfd_gettime", "clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "getrandom", "restart_syscall",
	/* sockets: UDP data, the control socket, netlink, syslog */
	"recvmmsg", "sendmmsg", "recvmsg", "sendmsg", "recvfrom", "sendto", "accept",
	"accept4", "bind", "connect", "listen", "shutdown", "setsockopt",
	"getsockopt", "getsockname", "getpeername", "poll", "ppoll",
	/* memory */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "mlock", "mlock2",
	"munlock",
	/* glibc's qsort asks the physical memory size (sysinfo) the first
	 * time it sorts a large array: a get=1 of many peers sorts them */
	"sysinfo",
	/* files: read-only opens (below), the config file on reload
	 * (dv_sandbox_open_config raises a capability) */
	"fstat", "newfstatat", "statx", "lseek", "fcntl", "capget", "capset",
	/* identity, signals, exit */
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getppid",
	/* reload: host-name endpoints (getaddrinfo: the resolver's files,
	 * a DNS socket, uname for the host name) */
	"uname",
	/* endpoint re-resolution: a helper thread per lookup, an eventfd
	 * back to the loop */
	"eventfd2", "eventfd",
	"rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "tgkill",
	"exit", "exit_group",
	/* threads */
	"futex", "set_robust_list", "get_robust_list", "rseq", "sched_yield",
	"sched_getaffinity", "set_tid_address", "membarrier",
};

/* ioctl requests: the interface's MTU and flags (ifconfig's socket). */
static const unsigned long allowed_ioctls[] = {
	SIOCGIFMTU, SIOCSIFMTU, SIOCGIFFLAGS, SIOCSIFFLAGS, SIOCGIFINDEX, SIOCGIFNAME,
	FIONREAD, /* if_nametoindex, if_indextoname; the resolver */
};

static const int allowed_domains[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK };

#define OPEN_WRITE_FLAGS ((scmp_datum_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND))
static const scmp_datum_t open_write_bits[] = { O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND };

/* Built with -DDV_SECCOMP_LOG_ONLY, a call outside the list is logged by
 * the kernel (audit type 1326, syscall=N) and allowed: the way to find
 * what a new feature needs. Never for production. */
#ifdef DV_SECCOMP_LOG_ONLY
#define DEFAULT_ACTION SCMP_ACT_LOG
#else
#define DEFAULT_ACTION SCMP_ACT_KILL_PROCESS
#endif

static int seccomp_load_filter(char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(DEFAULT_ACTION);
	const char *what = "seccomp_init";
	int r = -ENOMEM;

	if (!ctx)
		goto fail;
	/* Every thread, now and later (they inherit the filter). The kernel
	 * logs what it kills (audit type 1326), not the refused unlinks. */
	what = "seccomp attributes";
	if ((r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		what = allowed[i];
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0)
			goto fail;
	}
	what = "ioctl";
	for (size_t i = 0; i < sizeof(allowed_ioctls) / sizeof(allowed_ioctls[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu,
						  allowed_ioctls[i]))) < 0)
			goto fail;
	/* Files open read-only: no file is written once set up. An open for
	 * writing says EACCES, as the kernel would to the daemon's user for
	 * root's files (a reload's sysctl write, say, is logged and skipped). */
	what = "open";
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
				  SCMP_A2(SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0))) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(open), 1,
				  SCMP_A1(SCMP_CMP_MASKED_EQ, OPEN_WRITE_FLAGS, 0))) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(open_write_bits) / sizeof(open_write_bits[0]); i++) {
		scmp_datum_t b = open_write_bits[i];

		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
					  SCMP_A2(SCMP_CMP_MASKED_EQ, b, b))) < 0 ||
		    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 1,
					  SCMP_A1(SCMP_CMP_MASKED_EQ, b, b))) < 0)
			goto fail;
	}
	/* The socket and PID file the daemon tries to remove at exit are in
	 * root's directories (its monitor removes them): a plain refusal. */
	what = "unlink";
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(unlink), 0)) < 0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(unlinkat), 0)) < 0)
		goto fail;
	what = "socket";
	for (size_t i = 0; i < sizeof(allowed_domains) / sizeof(allowed_domains[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					  SCMP_A0(SCMP_CMP_EQ,
						  (scmp_datum_t)allowed_domains[i], 0))) < 0)
			goto fail;
	/* Threads, not processes: clone only with CLONE_THREAD; clone3 (whose
	 * flags sit in memory the filter cannot read) says ENOSYS, and the C
	 * library falls back to clone. */
	what = "clone";
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD))) <
		    0 ||
	    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0)
		goto fail;
	what = "seccomp_load";
	if ((r = seccomp_load(ctx)) < 0)
		goto fail;
	seccomp_release(ctx);
	return 0;
fail:
	snprintf(err, errlen, "sandbox: seccomp: %s: %s", what, strerror(r < 0 ? -r : ENOMEM));
	if (ctx)
		seccomp_release(ctx);
	return -1;
}
#endif

int dv_sandbox_apply(const char *user, int off, char *err, size_t errlen)
{
	uid_t uid = 0;
	gid_t gid = 0;
	char name[64] = "";

	/* OpenSSL without its configuration file, error strings or tables of
	 * every algorithm: the daemon uses one cipher, OpenSSL's built-in
	 * ChaCha20-Poly1305 method (crypto/aead.c), and all that start-up
	 * would stay resident (about 600 kB)
	 * for nothing. Done now, so nothing is read later in the sandbox. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
			    OPENSSL_INIT_NO_ADD_ALL_DIGESTS | OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	if (dv_aead_prepare() < 0) {
		snprintf(err, errlen, "OpenSSL: no ChaCha20-Poly1305");
		return -1;
	}
	if (!off && find_user(user, &uid, &gid, name, sizeof(name), err, errlen) < 0)
		return -1;
	/* Capability sets, the bounding set and keepcaps are per thread: a
	 * thread started before would keep root's. Threads start after. */
	if (!off && (thread_count() < 1 || thread_count() > 1 + RUNTIME_THREADS)) {
		snprintf(err, errlen, "sandbox: %u threads already run; the sandbox must "
			 "be applied before any thread starts", thread_count());
		return -1;
	}
	if (!off && drop_user_and_caps(uid, gid, err, errlen) < 0)
		return -1;
	/* From here on nothing may gain privileges through exec, and no core
	 * dump or ptrace by the user exposes the keys. (Changing the uid
	 * already cleared the dumpable flag; it is set explicitly anyway.) */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "prctl (no_new_privs, dumpable): %s", strerror(errno));
		return -1;
	}
	if (off) {
		dv_log(LOG_WARNING, "sandbox OFF (--no-sandbox): running as root with every "
		       "capability and no system-call filter; for debugging only");
		return 0;
	}
	sandboxed = 1;
	dv_log(LOG_INFO, "sandbox: running as user %s (uid %u, gid %u)", name, (unsigned)uid,
	       (unsigned)gid);
#ifdef DV_SANITIZE
	dv_log(LOG_WARNING, "sandbox: no seccomp filter in a sanitizer build (its "
	       "runtime makes system calls the filter does not allow); user and "
	       "capabilities are dropped");
#else
	if (seccomp_load_filter(err, errlen) < 0)
		return -1;
#endif
	dv_log(LOG_INFO, "sandbox: capabilities net_admin, net_bind_service "
	       "(dac_read_search for the config file only), seccomp allow-list");
	return 0;
}
