/* The client side of the control socket, for `dybervpn status`: one
 * request, one response, with a time limit so a wedged daemon cannot
 * hang the command. */
#ifndef DV_PLATFORM_UAPI_CLIENT_H
#define DV_PLATFORM_UAPI_CLIENT_H

#include <stddef.h>

/* Sends req (e.g. "get=1\n\n") to iface's control socket and returns its
 * response (malloc'd, NUL-terminated, ending "errno=N\n\n") in *out.
 * 0, or -1 with a message in err. */
int dv_uapi_query(const char *iface, const char *req, char **out, char *err,
		  size_t errlen);
/* The same, waiting at most timeout_ms for each step instead of 5 s (a
 * reload resolves host names: the resolver alone may take longer). */
int dv_uapi_query_wait(const char *iface, const char *req, int timeout_ms, char **out,
		       char *err, size_t errlen);

/* Interfaces with a socket in DV_SOCK_DIR that are served by dybervpn
 * (their PID file names a live dybervpn process), sorted; *names is a
 * malloc'd array of malloc'd strings. Returns the count, or -1. */
int dv_uapi_list(char ***names);
void dv_uapi_list_free(char **names, int n);

#endif
