#include "platform/sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;
static struct sockaddr_un notify_sa;
static socklen_t notify_len;

int dv_sd_notify_open(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	if (notify_fd >= 0)
		return 1;
	if (!path || !*path)
		return 0;
	n = strlen(path);
	/* A filesystem path, or '@' for the abstract namespace. */
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(notify_sa.sun_path)) {
		unsetenv("NOTIFY_SOCKET");
		errno = EINVAL;
		return -1;
	}
	memset(&notify_sa, 0, sizeof(notify_sa));
	notify_sa.sun_family = AF_UNIX;
	memcpy(notify_sa.sun_path, path, n);
	if (path[0] == '@')
		notify_sa.sun_path[0] = 0;
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
				 (path[0] == '/'));
	unsetenv("NOTIFY_SOCKET");
	/* Connected now, while the daemon may still reach the path: once
	 * it runs as another user, a send needs no access to it. */
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0)
		return -1;
	if (connect(notify_fd, (const struct sockaddr *)&notify_sa, notify_len) < 0) {
		int e = errno;

		close(notify_fd);
		notify_fd = -1;
		errno = e;
		return -1;
	}
	return 1;
}

int dv_sd_notify(const char *state)
{
	ssize_t r;

	if (notify_fd < 0)
		return 0;
	do
		r = send(notify_fd, state, strlen(state), MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

void dv_sd_notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
