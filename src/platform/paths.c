#include "platform/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int path_for(char *buf, size_t len, const char *dir, const char *iface,
		    const char *ext)
{
	int n;

	/* An interface name is at most 15 characters and never a path. */
	if (!*iface || strchr(iface, '/') || !strcmp(iface, ".") || !strcmp(iface, ".."))
		return -1;
	n = snprintf(buf, len, "%s/%s.%s", dir, iface, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int dv_path_sock(char *buf, size_t len, const char *iface)
{
	return path_for(buf, len, DV_SOCK_DIR, iface, "sock");
}

int dv_path_pid(char *buf, size_t len, const char *iface)
{
	return path_for(buf, len, DV_PID_DIR, iface, "pid");
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

int dv_config_locate(const char *arg, int path_only, char *buf, size_t len,
		     int *is_name, char *err, size_t errlen)
{
	const char *dir = getenv(DV_CONFIG_DIR_ENV);
	char cwd[4096];
	int n;

	if (!*arg) {
		snprintf(err, errlen, "an empty config name");
		return -1;
	}
	*is_name = !path_only && !strchr(arg, '/') && !ends_with(arg, ".toml");
	if (*is_name) {
		/* A name becomes an interface name: the kernel's rules. */
		if (strlen(arg) >= 16 || !strcmp(arg, ".") || !strcmp(arg, "..") ||
		    strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				"0123456789_=+.-") != strlen(arg)) {
			snprintf(err, errlen, "'%s' is neither a path (with a '/' or "
				 "ending in .toml) nor a valid interface name (at most "
				 "15 of A-Z a-z 0-9 _ = + . -)", arg);
			return -1;
		}
		if (!dir || !*dir)
			dir = DV_CONFIG_DIR;
		if (dir[0] != '/') {
			snprintf(err, errlen, "%s must be an absolute path, not '%s'",
				 DV_CONFIG_DIR_ENV, dir);
			return -1;
		}
		n = snprintf(buf, len, "%s/%s.toml", dir, arg);
	} else if (arg[0] == '/') {
		n = snprintf(buf, len, "%s", arg);
	} else {
		if (!getcwd(cwd, sizeof(cwd))) {
			snprintf(err, errlen, "getcwd: %s", strerror(errno));
			return -1;
		}
		n = snprintf(buf, len, "%s/%s", cwd, arg);
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "config path too long: %s", arg);
		return -1;
	}
	return 0;
}

int dv_rundir_prepare(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return -1;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", dir,
			 errno == ELOOP || errno == ENOTDIR
				 ? "is a symbolic link or not a directory; refused"
				 : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %u, not %u; refused", dir,
			 (unsigned)st.st_uid, (unsigned)geteuid());
		return -1;
	}
	if (st.st_mode & 022) {
		snprintf(err, errlen, "%s: writable by group or others (mode %03o); "
			 "refused", dir, (unsigned)(st.st_mode & 0777));
		return -1;
	}
	return 0;
}
