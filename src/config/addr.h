/* Addresses in their config text form: CIDR prefixes ("10.0.0.1/24",
 * "fd00::/64") and endpoints ("1.2.3.4:51820", "[2001:db8::1]:51820",
 * "host:port"). */
#ifndef DV_CONFIG_ADDR_H
#define DV_CONFIG_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dv_cidr {
	int family;       /* AF_INET or AF_INET6 */
	uint8_t addr[16]; /* network byte order; first 4 bytes for AF_INET */
	uint8_t prefix;   /* 0..32 or 0..128 */
};

/* Room for the longest text form, "ffff:...:ffff/128" and its NUL. */
#define DV_CIDR_STRLEN 64

/* What host bits beyond the prefix may be: an interface address keeps its
 * host part ("10.0.0.1/24"), an allowed-IPs route must have none. */
enum dv_cidr_hostbits { DV_CIDR_HOST_BITS_OK, DV_CIDR_NO_HOST_BITS };

/* Parses "ADDR/PREFIX" or a bare ADDR (a host: /32 or /128). Returns 0, or
 * -1 with the reason in err. */
int dv_cidr_parse(const char *s, struct dv_cidr *out,
		  enum dv_cidr_hostbits hb, char *err, size_t errlen);
/* "ADDR/PREFIX" into buf (at least DV_CIDR_STRLEN bytes). */
void dv_cidr_format(const struct dv_cidr *c, char *buf, size_t len);

/* Parses an endpoint. Numeric hosts never touch DNS; a name is resolved
 * with getaddrinfo unless numeric_only, in which case *sslen is set to 0
 * and 0 is returned. Returns 0, or -1 with the reason in err. */
int dv_endpoint_parse(const char *s, int numeric_only,
		      struct sockaddr_storage *ss, socklen_t *sslen,
		      char *err, size_t errlen);

#endif
