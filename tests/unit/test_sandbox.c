/* The sandbox and the key-memory allocator.
 *
 * Key memory: slots come zeroed (fresh and reused), a freed slot is wiped,
 * and the mappings are marked not-dumpable ("dd") and, as root or within
 * RLIMIT_MEMLOCK, locked ("lo") in /proc/self/smaps.
 *
 * The sandbox (as root only; it cannot be undone, so each case runs in a
 * child): the process ends as the unprivileged user with exactly the
 * capability sets the README names, no_new_privs, not dumpable, seccomp
 * filter mode; a root-only 0600 file is refused to a plain open and read
 * through dv_sandbox_open_config, after which the effective set is back
 * to two capabilities; threads still start; unlink and an open for
 * writing say EACCES; a system call outside the list (fork, execve, a
 * packet socket) kills the process with SIGSYS; a process that already runs a
 * thread is refused; --no-sandbox stays root with no filter. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/memtrim.h"
#include "platform/sandbox.h"
#include "util/secmem.h"
#include "t.h"

/* ---- key memory ---- */

/* The VmFlags line of the mapping holding addr, in flags. */
static int smaps_flags(const void *addr, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	int in = 0;

	if (!f)
		return -1;
	flags[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			size_t k = strlen(line + 8);

			if (k >= len)
				k = len - 1;
			memcpy(flags, line + 8, k);
			flags[k] = 0;
			break;
		}
	}
	fclose(f);
	return flags[0] ? 0 : -1;
}

static int all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static void test_secmem(void)
{
	static const size_t sizes[] = { 1, 64, 100, 720, 1160, 3728, 8192, 8193, 536032 };
	struct dv_secmem_stats st;
	char flags[256];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		uint8_t *p = dv_secmem_calloc(n), *q;

		T_CHECK(p != NULL);
		if (!p)
			continue;
		T_CHECK(((uintptr_t)p & 63) == 0);
		T_CHECK(all_zero(p, n));
		memset(p, 0xa5, n);
#ifndef DV_SANITIZE
		T_CHECK(smaps_flags(p, flags, sizeof(flags)) == 0);
		T_CHECK(strstr(flags, " dd") != NULL); /* MADV_DONTDUMP */
		if (geteuid() == 0)
			T_CHECK(strstr(flags, " lo") != NULL); /* mlock */
		if (n <= DV_SECMEM_SLAB_MAX) {
			/* Freed: wiped in place, and the slot comes back zeroed. */
			dv_secmem_free(p, n);
			T_CHECK(all_zero(p, n));
			q = dv_secmem_calloc(n);
			T_CHECK(q == p);
			T_CHECK(q && all_zero(q, n));
			p = q;
		}
#endif
		(void)q;
		(void)flags;
		(void)smaps_flags;
		dv_secmem_free(p, n);
	}
#ifndef DV_SANITIZE
	/* A class's first chunk is one page: an idle daemon locks little. */
	{
		size_t before;
		uint8_t *p;

		dv_secmem_stats(&st);
		before = st.mapped;
		p = dv_secmem_calloc(2000);
		dv_secmem_stats(&st);
		T_CHECK(p != NULL && st.mapped - before == 4096);
		dv_secmem_free(p, 2000);
	}
#endif
	/* Across chunks (a page, doubling to 64 KiB): distinct,
	 * non-overlapping, zeroed slots. */
	{
		enum { N = 200, SZ = 720 };
		static uint8_t *v[N];
		int ok = 1;

		for (int i = 0; i < N; i++) {
			v[i] = dv_secmem_calloc(SZ);
			if (!v[i] || !all_zero(v[i], SZ))
				ok = 0;
			else
				memset(v[i], i + 1, SZ);
		}
		for (int i = 0; i < N && ok; i++)
			for (int j = 0; j < SZ; j++)
				if (v[i][j] != (uint8_t)(i + 1))
					ok = 0;
		T_CHECK(ok);
		for (int i = 0; i < N; i++)
			dv_secmem_free(v[i], SZ);
	}
	T_CHECK(dv_secmem_calloc(0) == NULL);
	dv_secmem_free(NULL, 10);
	dv_secmem_stats(&st);
#ifndef DV_SANITIZE
	T_CHECK(st.mapped > 0);
	if (geteuid() == 0)
		T_CHECK(st.locked == st.mapped && st.lock_errno == 0);
#endif
}

/* ---- the sandbox ---- */

/* The hexadecimal value of a "Key:\t..." line of /proc/self/status. */
static unsigned long long status_hex(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = ~0ull;
	size_t kl = strlen(key);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 16);
			break;
		}
	fclose(f);
	return v;
}

static unsigned long long status_dec(const char *key)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long long v = ~0ull;
	size_t kl = strlen(key);

	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtoull(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

#define BIT(c) (1ull << (c))
#define CAPS_EFF (BIT(12) | BIT(10)) /* CAP_NET_ADMIN, CAP_NET_BIND_SERVICE */
#define CAPS_PRM (CAPS_EFF | BIT(2)) /* + CAP_DAC_READ_SEARCH */

static const char *secret_path;
static int child_failed;

#define C_CHECK(cond)                                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			child_failed++;                                        \
			fprintf(stderr, "FAIL (child) %s:%d: %s\n", __FILE__,   \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

static void *thread_fn(void *arg)
{
	return arg;
}

static int child_sandboxed(void)
{
	char err[256], buf[64];
	pthread_t th;
	struct stat st;
	static int token;
	void *ret = NULL;
	int fd;
	ssize_t n;

	if (dv_sandbox_apply(NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "FAIL (child) dv_sandbox_apply: %s\n", err);
		return 1;
	}
	C_CHECK(dv_sandbox_active());
	C_CHECK(getuid() != 0 && geteuid() != 0 && getgid() != 0);
	C_CHECK(status_hex("CapEff") == CAPS_EFF);
	C_CHECK(status_hex("CapPrm") == CAPS_PRM);
	C_CHECK(status_hex("CapBnd") == CAPS_PRM);
	C_CHECK(status_hex("CapInh") == 0);
	C_CHECK(status_hex("CapAmb") == 0);
	C_CHECK(status_dec("NoNewPrivs") == 1);
	/* The daemon settles inside the sandbox (platform/memtrim.h): the
	 * filter allows reading its own mappings and dropping pages. */
	{
		struct dv_memtrim_stats ms;

		dv_memtrim(&ms);
		C_CHECK(ms.mappings > 0);
	}
#ifdef DV_SANITIZE
	C_CHECK(status_dec("Seccomp") == 0);
#else
	C_CHECK(status_dec("Seccomp") == 2);
#endif
	/* Not dumpable: /proc/self belongs to root (prctl itself is not
	 * on the list). */
	C_CHECK(stat("/proc/self/status", &st) == 0 && st.st_uid == 0);
	/* A plain open of the root-only file is refused... */
	fd = open(secret_path, O_RDONLY | O_CLOEXEC);
	C_CHECK(fd < 0 && errno == EACCES);
	if (fd >= 0)
		close(fd);
	/* ...the config path reads it, and lowers the capability again. */
	fd = dv_sandbox_open_config(secret_path);
	C_CHECK(fd >= 0);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		C_CHECK(n == 6 && !memcmp(buf, "secret", 6));
		close(fd);
	}
	C_CHECK(status_hex("CapEff") == CAPS_EFF);
	C_CHECK(open(secret_path, O_RDONLY | O_CLOEXEC) < 0);
#ifndef DV_SANITIZE
	/* unlink is refused by the filter itself (EACCES), whatever the
	 * directory would allow. */
	C_CHECK(unlink("/tmp/dv-test-sandbox-none") < 0 && errno == EACCES);
	/* So is an open for writing, even where the user may write. */
	C_CHECK(open("/tmp/dv-test-sandbox-w", O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 &&
		errno == EACCES);
	C_CHECK(open("/dev/null", O_RDWR | O_CLOEXEC) < 0 && errno == EACCES);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	C_CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
#endif
	/* Threads (worker threads) still start and join. */
	C_CHECK(pthread_create(&th, NULL, thread_fn, &token) == 0 &&
		pthread_join(th, &ret) == 0 && ret == &token);
	return child_failed ? 1 : 0;
}

static int child_forbidden(int which)
{
	char err[256];

	if (dv_sandbox_apply(NULL, 0, err, sizeof(err)) < 0) {
		fprintf(stderr, "child: %s\n", err);
		return 3;
	}
	if (which == 0)
		syscall(SYS_fork);
	else if (which == 1)
		syscall(SYS_execve, "/bin/true", NULL, NULL);
	else if (which == 2)
		open("/tmp/dv-test-sandbox-w", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	else
		socket(AF_PACKET, SOCK_RAW, 0); /* a domain not on the list */
	return 0; /* not killed: a failure */
}

static void *thread_wait(void *arg)
{
	pause();
	return arg;
}

/* With a thread already running, the sandbox refuses (its sets are per
 * thread) and the process stays as it was. */
static int child_threads(int arg)
{
	char err[256] = "";
	pthread_t th;

	if (pthread_create(&th, NULL, thread_wait, NULL) != 0)
		return 2;
	C_CHECK(dv_sandbox_apply(NULL, 0, err, sizeof(err)) == -1);
	C_CHECK(strstr(err, "before any thread starts") != NULL);
	C_CHECK(getuid() == 0 && !dv_sandbox_active());
	C_CHECK(status_dec("Seccomp") == 0);
	return child_failed ? 1 : 0;
}

static int child_off(void)
{
	char err[256];

	if (dv_sandbox_apply(NULL, 1, err, sizeof(err)) < 0) {
		fprintf(stderr, "FAIL (child) dv_sandbox_apply off: %s\n", err);
		return 1;
	}
	C_CHECK(!dv_sandbox_active());
	C_CHECK(getuid() == 0);
	C_CHECK(status_dec("Seccomp") == 0);
	C_CHECK(status_dec("NoNewPrivs") == 1);
	C_CHECK(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0);
	return child_failed ? 1 : 0;
}

static int run_child(int (*fn)(int), int arg)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn(arg));
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int call_sandboxed(int arg)
{
	return child_sandboxed();
}

static int call_off(int arg)
{
	return child_off();
}

static void test_sandbox(void)
{
	char path[] = "/tmp/dv-test-sandbox.XXXXXX";
	int fd, st;

	fd = mkstemp(path);
	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	T_CHECK(write(fd, "secret", 6) == 6);
	T_CHECK(fchmod(fd, 0600) == 0);
	close(fd);
	secret_path = path;

	st = run_child(call_sandboxed, 0);
	if (!WIFEXITED(st))
		fprintf(stderr, "sandboxed child: killed by signal %d\n", WTERMSIG(st));
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	(void)child_forbidden;
#ifndef DV_SANITIZE
	st = run_child(child_forbidden, 0);
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	st = run_child(child_forbidden, 1);
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	T_CHECK(access("/tmp/dv-test-sandbox-w", F_OK) < 0);
	st = run_child(child_forbidden, 3);
	T_CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
#endif
	st = run_child(child_threads, 0);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = run_child(call_off, 0);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	unlink(path);
}

int main(void)
{
	T_RUN(test_secmem);
	if (geteuid() == 0)
		T_RUN(test_sandbox);
	else
		printf("not root: the sandbox cases are skipped\n");
	return t_done();
}
