/* CIDR prefixes and endpoints in their config text form (addr.h). */
#include "config/addr.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dv_cidr_parse(const char *s, struct dv_cidr *out,
		  enum dv_cidr_hostbits hb, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned long prefix, maxp;
	struct dv_cidr c;

	memset(&c, 0, sizeof(c));
	if (hlen == 0 || hlen >= sizeof(host)) {
		snprintf(err, errlen, "'%s' is not an address/prefix", s);
		return -1;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, c.addr) == 1) {
		c.family = AF_INET;
		maxp = 32;
	} else if (inet_pton(AF_INET6, host, c.addr) == 1) {
		c.family = AF_INET6;
		maxp = 128;
	} else {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", host);
		return -1;
	}
	prefix = maxp;
	if (slash) {
		char *end;

		/* Digits only: strtoul would accept " +12". */
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3) {
			snprintf(err, errlen, "'%s': invalid prefix length", s);
			return -1;
		}
		prefix = strtoul(slash + 1, &end, 10);
		if (*end || prefix > maxp) {
			snprintf(err, errlen,
				 "'%s': prefix length must be 0..%lu", s, maxp);
			return -1;
		}
	}
	c.prefix = (uint8_t)prefix;
	if (hb == DV_CIDR_NO_HOST_BITS) {
		size_t bytes = maxp / 8;

		for (size_t i = 0; i < bytes; i++) {
			unsigned keep = prefix >= (i + 1) * 8 ? 8 :
					prefix > i * 8 ? (unsigned)(prefix - i * 8) : 0;
			uint8_t mask = (uint8_t)(0xff00u >> keep);

			if (c.addr[i] & (uint8_t)~mask) {
				snprintf(err, errlen,
					 "'%s' has host bits set beyond /%lu",
					 s, prefix);
				return -1;
			}
		}
	}
	*out = c;
	return 0;
}

void dv_cidr_format(const struct dv_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, c->prefix);
}

/* Splits "host:port" or "[v6]:port" and checks the port. */
static int endpoint_split(const char *s, char *host, size_t hostlen,
			  unsigned *port, char *err, size_t errlen)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long p;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':') {
			snprintf(err, errlen,
				 "'%s': an IPv6 endpoint is written [ADDR]:PORT", s);
			return -1;
		}
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon) {
			snprintf(err, errlen, "'%s' has no :PORT", s);
			return -1;
		}
		hl = (size_t)(colon - s);
		if (memchr(s, ':', hl)) {
			snprintf(err, errlen,
				 "'%s': write an IPv6 endpoint as [ADDR]:PORT", s);
			return -1;
		}
	}
	if (hl == 0 || hl >= hostlen) {
		snprintf(err, errlen, "'%s': invalid host", s);
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (colon[1] < '0' || colon[1] > '9' || strlen(colon + 1) > 5) {
		snprintf(err, errlen, "'%s': invalid port", s);
		return -1;
	}
	p = strtoul(colon + 1, &end, 10);
	if (*end || p == 0 || p > 65535) {
		snprintf(err, errlen, "'%s': port must be 1..65535", s);
		return -1;
	}
	*port = (unsigned)p;
	return 0;
}

int dv_endpoint_parse(const char *s, int numeric_only,
		      struct sockaddr_storage *ss, socklen_t *sslen,
		      char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[8];
	unsigned p;
	int r;

	if (endpoint_split(s, host, sizeof(host), &p, err, errlen))
		return -1;
	snprintf(port, sizeof(port), "%u", p);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_protocol = IPPROTO_UDP;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	r = getaddrinfo(host, port, &hints, &res);
	if (r == EAI_NONAME && s[0] != '[') {
		if (numeric_only) {
			memset(ss, 0, sizeof(*ss));
			*sslen = 0;
			return 0;
		}
		hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
		r = getaddrinfo(host, port, &hints, &res);
	}
	if (r) {
		snprintf(err, errlen, "cannot resolve '%s': %s", host,
			 gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
		    ai->ai_addrlen <= sizeof(*ss)) {
			memset(ss, 0, sizeof(*ss));
			memcpy(ss, ai->ai_addr, ai->ai_addrlen);
			*sslen = ai->ai_addrlen;
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "'%s' has no IPv4 or IPv6 address", host);
	return -1;
}
