#include "platform/uapi_client.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "platform/paths.h"
#include "platform/pidfile.h"

#define UAPI_TIMEOUT_MS 5000
#define UAPI_MAX_RESPONSE (1024u << 20) /* 2^20 peers with ML-DSA keys */

/* 1 once buf holds a whole response: its last line "errno=N", then the
 * blank line. */
static int response_done(const char *buf, size_t len)
{
	size_t i;

	if (len < 2 || buf[len - 1] != '\n' || buf[len - 2] != '\n')
		return 0;
	for (i = len - 2; i > 0 && buf[i - 1] != '\n'; i--)
		;
	return !strncmp(buf + i, "errno=", 6);
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

int dv_uapi_query(const char *iface, const char *req, char **out, char *err,
		  size_t errlen)
{
	return dv_uapi_query_wait(iface, req, UAPI_TIMEOUT_MS, out, err, errlen);
}

int dv_uapi_query_wait(const char *iface, const char *req, int timeout_ms, char **out,
		       char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 0, off = 0, reqlen = strlen(req);
	char *buf = NULL;
	int fd;

	*out = NULL;
	if (dv_path_sock(sa.sun_path, sizeof(sa.sun_path), iface) < 0) {
		snprintf(err, errlen, "bad interface name '%s'", iface);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "%s: %s", sa.sun_path,
			 errno == ENOENT ? "no such interface is running" : strerror(errno));
		goto fail;
	}
	while (off < reqlen) {
		ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, timeout_ms) < 0)
				goto io_fail;
			continue;
		}
		if (n < 0)
			goto io_fail;
		off += (size_t)n;
	}
	while (!response_done(buf, len)) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *p;

			if (ncap > UAPI_MAX_RESPONSE) {
				snprintf(err, errlen, "%s: response too long", sa.sun_path);
				goto fail;
			}
			p = realloc(buf, ncap);
			if (!p) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			buf = p;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, timeout_ms) < 0)
				goto io_fail;
			continue;
		}
		if (n < 0)
			goto io_fail;
		if (n == 0) {
			snprintf(err, errlen, "%s: connection closed mid-response",
				 sa.sun_path);
			goto fail;
		}
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	*out = buf;
	return 0;
io_fail:
	snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
fail:
	free(buf);
	if (fd >= 0)
		close(fd);
	return -1;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dv_uapi_list(char ***names)
{
	DIR *dir = opendir(DV_SOCK_DIR);
	struct dirent *e;
	char **v = NULL;
	int n = 0;

	*names = NULL;
	if (!dir)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(dir))) {
		size_t l = strlen(e->d_name);
		char **nv;
		char *name;

		if (l <= 5 || strcmp(e->d_name + l - 5, ".sock"))
			continue;
		name = strndup(e->d_name, l - 5);
		if (!name)
			break;
		/* wireguard-go and others share the directory: only ours. */
		if (!dv_pid_is_dybervpn(dv_pidfile_read(name))) {
			free(name);
			continue;
		}
		nv = realloc(v, sizeof(*v) * (size_t)(n + 1));
		if (!nv) {
			free(name);
			break;
		}
		v = nv;
		v[n++] = name;
	}
	closedir(dir);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), cmp_names);
	*names = v;
	return n;
}

void dv_uapi_list_free(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}
