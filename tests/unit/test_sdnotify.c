/* Readiness notification: what systemd would receive on $NOTIFY_SOCKET,
 * for a filesystem socket and an abstract one; no-op without the
 * variable; a malformed one is refused; the variable is not inherited. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/sdnotify.h"
#include "t.h"

/* A datagram socket at name (a path, or "@..." abstract); fd or -1. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = 0;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int got(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (n < 0)
		return 0;
	buf[n] = 0;
	return !strcmp(buf, want);
}

static void test_path(void)
{
	char dir[] = "/tmp/dv-sdnotify.XXXXXX", path[64];
	int fd;

	T_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	T_CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", path, 1);
	T_CHECK(dv_sd_notify_open() == 1);
	T_CHECK(getenv("NOTIFY_SOCKET") == NULL);
	T_CHECK(dv_sd_notify("READY=1\nSTATUS=dvpn0 is up") == 0);
	T_CHECK(got(fd, "READY=1\nSTATUS=dvpn0 is up"));
	T_CHECK(dv_sd_notify("RELOADING=1") == 0);
	T_CHECK(got(fd, "RELOADING=1"));
	dv_sd_notify_close();
	T_CHECK(dv_sd_notify("READY=1") == 0); /* closed: no-op */
	T_CHECK(!got(fd, "READY=1"));
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@dv-sdnotify-test-%d", (int)getpid());
	fd = listen_at(name);
	T_CHECK(fd >= 0);
	setenv("NOTIFY_SOCKET", name, 1);
	T_CHECK(dv_sd_notify_open() == 1);
	T_CHECK(dv_sd_notify("READY=1") == 0);
	T_CHECK(got(fd, "READY=1"));
	dv_sd_notify_close();
	close(fd);
}

static void test_absent_and_bad(void)
{
	unsetenv("NOTIFY_SOCKET");
	T_CHECK(dv_sd_notify_open() == 0);
	T_CHECK(dv_sd_notify("READY=1") == 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	T_CHECK(dv_sd_notify_open() == -1);
	T_CHECK(getenv("NOTIFY_SOCKET") == NULL);
	T_CHECK(dv_sd_notify("READY=1") == 0);
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = 0;
	setenv("NOTIFY_SOCKET", longname, 1);
	T_CHECK(dv_sd_notify_open() == -1);
	/* Nobody listens there. */
	setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
	T_CHECK(dv_sd_notify_open() == -1);
	T_CHECK(dv_sd_notify("READY=1") == 0);
}

/* Connected at open: later sends need no access to the path (the daemon
 * then runs as another user), and still arrive after the path is gone. */
static void test_connected(void)
{
	char dir[] = "/tmp/dv-sdnotify.XXXXXX", path[64];
	int fd;

	T_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listen_at(path);
	setenv("NOTIFY_SOCKET", path, 1);
	T_CHECK(dv_sd_notify_open() == 1);
	unlink(path);
	T_CHECK(dv_sd_notify("STOPPING=1") == 0);
	T_CHECK(got(fd, "STOPPING=1"));
	dv_sd_notify_close();
	close(fd);
	rmdir(dir);
}

int main(void)
{
	T_RUN(test_path);
	T_RUN(test_abstract);
	T_RUN(test_absent_and_bad);
	T_RUN(test_connected);
	return t_done();
}
