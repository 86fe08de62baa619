#include "platform/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "platform/paths.h"

pid_t dv_pidfile_read(const char *iface)
{
	char path[DV_PATH_MAX], buf[32];
	ssize_t n;
	long v;
	char *end;
	int fd;

	if (dv_path_pid(path, sizeof(path), iface) < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno || end == buf || v <= 0 || v > 0x3fffffff)
		return -1;
	return (pid_t)v;
}

int dv_pid_is_dybervpn(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	/* /proc/PID/stat is "PID (COMM) STATE ...": the comm tells it is our
	 * program (not a recycled PID), the state that it is not a zombie
	 * waiting to be reaped. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	*p = 0;
	p = strchr(buf, '(');
	return p && !strcmp(p + 1, "dybervpn");
}

int dv_pidfile_write(const char *iface, char *err, size_t errlen)
{
	char path[DV_PATH_MAX], buf[32], msg[256];
	pid_t old;
	int fd, n;

	if (dv_path_pid(path, sizeof(path), iface) < 0) {
		snprintf(err, errlen, "pid file: bad interface name '%s'", iface);
		return -1;
	}
	if (dv_rundir_prepare(DV_PID_DIR, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "pid file: %s", msg);
		return -1;
	}
	old = dv_pidfile_read(iface);
	if (old > 0 && old != getpid() && dv_pid_is_dybervpn(old)) {
		snprintf(err, errlen, "%s is already run by dybervpn process %d (%s)",
			 iface, (int)old, path);
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "pid file: open %s: %s", path, strerror(errno));
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (write(fd, buf, (size_t)n) != n) {
		snprintf(err, errlen, "pid file: write %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

void dv_pidfile_remove(const char *iface)
{
	char path[DV_PATH_MAX];

	if (dv_pidfile_read(iface) == getpid() &&
	    dv_path_pid(path, sizeof(path), iface) == 0)
		unlink(path);
}

int dv_pidfile_remove_for(const char *iface, pid_t pid)
{
	char path[DV_PATH_MAX];

	return pid > 0 && dv_pidfile_read(iface) == pid &&
	       dv_path_pid(path, sizeof(path), iface) == 0 && unlink(path) == 0;
}
