/* dybervpn set: change a running interface, in `wg set` syntax plus the
 * per-peer DyberVPN keys (mode, mldsa-public-key), as one set=1 request
 * over the control socket: the daemon validates all of it before it
 * applies any of it. */
#include "cli/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <unistd.h>

#include "config/addr.h"
#include "config/config.h"
#include "config/keys.h"
#include "crypto/ct.h"
#include "mode.h"
#include "platform/uapi_client.h"
#include "util/wipe.h"

/* Key files hold base64 text: an ML-DSA-65 public key is 2604 chars. */
#define KEYFILE_MAX 8192

static void set_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn set IFACE [listen-port PORT] [fwmark MARK|off]\n"
		"         [private-key FILE]\n"
		"         [peer KEY [remove] [preshared-key FILE] [endpoint HOST:PORT]\n"
		"          [persistent-keepalive SECONDS|off] [allowed-ips IP/CIDR[,...]]\n"
		"          [mode classic|hybrid|pqonly] [mldsa-public-key FILE]]...\n\n"
		"Change a running interface as `wg set` does, plus two keys of a peer:\n"
		"its mode and its ML-DSA-65 public key (pqonly needs it, and an ML-DSA\n"
		"private key on the interface). KEY is a public key in base64; FILE holds\n"
		"a key in base64 (`-` for standard input; an empty preshared-key file\n"
		"removes the preshared key). allowed-ips replaces the peer's list (\"\"\n"
		"for none). The daemon checks the whole request before it applies any\n"
		"of it: a refused request changes nothing. A stronger mode ends the\n"
		"peer's session (the next packet handshakes in the new mode); so does a\n"
		"new private key, for every peer.\n"
		"Exit status: 0 applied, 1 refused or no such interface, 2 usage.\n");
}

struct req {
	char *s;
	size_t len, cap;
	int oom;
};

static void put(struct req *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct req *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (r->oom || n < 0) {
		r->oom = 1;
		return;
	}
	if (r->len + (size_t)n + 1 > r->cap) {
		size_t ncap = (r->len + (size_t)n + 1) * 2;
		char *ns = dv_wipe_realloc(r->s, r->cap, ncap); /* keys pass here */

		if (!ns) {
			r->oom = 1;
			return;
		}
		r->s = ns;
		r->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(r->s + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	r->len += (size_t)n;
}

/* Keys in hex, in constant time (sodium_bin2hex), the buffer wiped. */
static void put_hex(struct req *r, const char *key, const uint8_t *k, size_t n)
{
	char hex[3] = { 0 };

	put(r, "%s=", key);
	for (size_t i = 0; i < n; i++) {
		sodium_bin2hex(hex, sizeof(hex), k + i, 1);
		put(r, "%s", hex);
	}
	put(r, "\n");
	ct_wipe(hex, sizeof(hex));
}

/* Reads a key file (base64, surrounding white space ignored) into out,
 * which takes exactly len bytes. *empty is set for an empty file when
 * allow_empty. 0, or -1 with a message printed. */
static int read_key_file(const char *what, const char *path, uint8_t *out, size_t len,
			 int allow_empty, int *empty)
{
	char *buf = malloc(KEYFILE_MAX + 1), err[128];
	size_t got = 0, start, end;
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
	int r = -1;

	if (empty)
		*empty = 0;
	if (!buf || fd < 0) {
		fprintf(stderr, "dybervpn set: %s %s: %s\n", what, path,
			buf ? strerror(errno) : "out of memory");
		free(buf);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, KEYFILE_MAX + 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "dybervpn set: %s %s: %s\n", what, path,
				strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > KEYFILE_MAX) {
			fprintf(stderr, "dybervpn set: %s %s: longer than any key\n",
				what, path);
			goto out;
		}
	}
	buf[got] = 0;
	for (start = 0; start < got && strchr(" \t\r\n", buf[start]); start++)
		;
	for (end = got; end > start && strchr(" \t\r\n", buf[end - 1]); end--)
		;
	buf[end] = 0;
	if (start == end && allow_empty) {
		memset(out, 0, len);
		*empty = 1;
		r = 0;
	} else if (dv_key_decode(out, len, buf + start, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn set: %s %s: %s\n", what, path, err);
	} else {
		r = 0;
	}
out:
	dv_wipe_free(buf, KEYFILE_MAX + 1);
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

/* Decimal, or (base 0, as `wg set`) 0x hex for a mark. */
static int parse_num_base(const char *what, const char *v, unsigned long max,
			  unsigned long *out, int base)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, base);
	if (!*v || *end || errno || *out > max || v[0] == '-') {
		fprintf(stderr, "dybervpn set: %s: '%s' is not a number from 0 to %lu\n",
			what, v, max);
		return -1;
	}
	return 0;
}

static int parse_num(const char *what, const char *v, unsigned long max,
		     unsigned long *out)
{
	return parse_num_base(what, v, max, out, 10);
}

static int put_endpoint(struct req *r, const char *v)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256], ip[INET6_ADDRSTRLEN];

	/* The control protocol takes numbers: names are resolved here, as
	 * `wg set` does. */
	if (dv_endpoint_parse(v, 0, &ss, &len, err, sizeof(err)) < 0) {
		fprintf(stderr, "dybervpn set: endpoint: %s\n", err);
		return -1;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&ss;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		put(r, "endpoint=%s:%u\n", ip, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)&ss;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		if (s->sin6_scope_id)
			put(r, "endpoint=[%s%%%u]:%u\n", ip, (unsigned)s->sin6_scope_id,
			    ntohs(s->sin6_port));
		else
			put(r, "endpoint=[%s]:%u\n", ip, ntohs(s->sin6_port));
	}
	return 0;
}

static int put_allowed_ips(struct req *r, const char *v)
{
	char *list = strdup(v), *save = NULL, *tok, err[256], text[DV_CIDR_STRLEN];
	int rc = 0;

	if (!list) {
		fprintf(stderr, "dybervpn set: out of memory\n");
		return -1;
	}
	put(r, "replace_allowed_ips=true\n");
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct dv_cidr c;
		char *end;

		while (*tok == ' ' || *tok == '\t')
			tok++;
		for (end = tok + strlen(tok); end > tok && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = 0;
		if (!*tok)
			continue;
		if (dv_cidr_parse(tok, &c, DV_CIDR_HOST_BITS_OK, err, sizeof(err)) < 0) {
			fprintf(stderr, "dybervpn set: allowed-ips: %s\n", err);
			rc = -1;
			break;
		}
		dv_cidr_format(&c, text, sizeof(text));
		put(r, "allowed_ip=%s\n", text);
	}
	free(list);
	return rc;
}

/* The words after IFACE into the request; 0, -1 (message printed) or 2
 * (usage). */
static int build(struct req *r, int argc, char **argv)
{
	uint8_t key[DV_MLDSA_PK_LEN];
	unsigned long n;
	int in_peer = 0, empty, rc = -1;

	put(r, "set=1\n");
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		static const char *const words[] = {
			"peer", "listen-port", "fwmark", "private-key", "remove",
			"preshared-key", "endpoint", "persistent-keepalive",
			"allowed-ips", "mode", "mldsa-public-key",
		};
		int takes_value = strcmp(w, "remove") != 0, known = 0;

		for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			known |= !strcmp(w, words[k]);
		if (!known) {
			fprintf(stderr, "dybervpn set: '%s' is not an option\n", w);
			rc = 2;
			goto out;
		}
		if (takes_value && !v) {
			fprintf(stderr, "dybervpn set: '%s' needs a value\n", w);
			rc = 2;
			goto out;
		}
		if (!strcmp(w, "peer")) {
			char kerr[128];

			if (dv_key_decode(key, DV_X25519_KEY_LEN, v, kerr, sizeof(kerr)) < 0) {
				fprintf(stderr, "dybervpn set: peer '%s': %s\n", v, kerr);
				goto out;
			}
			put_hex(r, "public_key", key, DV_X25519_KEY_LEN);
			in_peer = 1;
		} else if (!in_peer && !strcmp(w, "listen-port")) {
			if (parse_num("listen-port", v, 65535, &n) < 0)
				goto out;
			put(r, "listen_port=%lu\n", n);
		} else if (!in_peer && !strcmp(w, "fwmark")) {
			if (!strcmp(v, "off"))
				n = 0;
			else if (parse_num_base("fwmark", v, 0xffffffffUL, &n, 0) < 0)
				goto out;
			put(r, "fwmark=%lu\n", n);
		} else if (!in_peer && !strcmp(w, "private-key")) {
			if (read_key_file("private-key", v, key, DV_X25519_KEY_LEN, 0, NULL) < 0)
				goto out;
			put_hex(r, "private_key", key, DV_X25519_KEY_LEN);
		} else if (in_peer && !strcmp(w, "remove")) {
			put(r, "remove=true\n");
			continue; /* no value */
		} else if (in_peer && !strcmp(w, "preshared-key")) {
			if (read_key_file("preshared-key", v, key, DV_PSK_LEN, 1, &empty) < 0)
				goto out;
			put_hex(r, "preshared_key", key, DV_PSK_LEN);
		} else if (in_peer && !strcmp(w, "endpoint")) {
			if (put_endpoint(r, v) < 0)
				goto out;
		} else if (in_peer && !strcmp(w, "persistent-keepalive")) {
			if (!strcmp(v, "off"))
				n = 0;
			else if (parse_num("persistent-keepalive", v, 65535, &n) < 0)
				goto out;
			put(r, "persistent_keepalive_interval=%lu\n", n);
		} else if (in_peer && !strcmp(w, "allowed-ips")) {
			if (put_allowed_ips(r, v) < 0)
				goto out;
		} else if (in_peer && !strcmp(w, "mode")) {
			enum dv_mode m;

			if (dv_mode_parse(v, &m) < 0) {
				fprintf(stderr, "dybervpn set: mode '%s': expected classic, "
					"hybrid or pqonly\n", v);
				goto out;
			}
			put(r, "mode=%s\n", dv_mode_name(m));
		} else if (in_peer && !strcmp(w, "mldsa-public-key")) {
			if (read_key_file("mldsa-public-key", v, key, DV_MLDSA_PK_LEN, 0,
					  NULL) < 0)
				goto out;
			put_hex(r, "mldsa_public_key", key, DV_MLDSA_PK_LEN);
		} else {
			fprintf(stderr, "dybervpn set: '%s' is not an option%s\n", w,
				in_peer ? " of a peer" : " here (a peer's options come "
							 "after `peer KEY`)");
			rc = 2;
			goto out;
		}
		i++; /* the value */
	}
	put(r, "\n");
	if (r->oom) {
		fprintf(stderr, "dybervpn set: out of memory\n");
		goto out;
	}
	rc = 0;
out:
	ct_wipe(key, sizeof(key));
	return rc;
}

int set_main(int argc, char **argv)
{
	struct req r = { NULL, 0, 0, 0 };
	char err[512], *out = NULL, *e;
	int rc;

	if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		set_usage(stdout);
		return 0;
	}
	if (argc < 3 || argv[1][0] == '-') {
		set_usage(stderr);
		return 2;
	}
	rc = build(&r, argc - 2, argv + 2);
	if (rc) {
		dv_wipe_free(r.s, r.cap);
		if (rc == 2)
			set_usage(stderr);
		return rc == 2 ? 2 : 1;
	}
	rc = dv_uapi_query(argv[1], r.s, &out, err, sizeof(err));
	dv_wipe_free(r.s, r.cap);
	if (rc < 0) {
		fprintf(stderr, "dybervpn set: %s\n", err);
		return 1;
	}
	e = strstr(out, "errno=");
	rc = e ? atoi(e + 6) : EPROTO;
	free(out);
	if (!rc)
		return 0;
	fprintf(stderr, "dybervpn set: %s refused the change: errno=%d (%s); nothing "
		"was changed%s\n", argv[1], rc, strerror(rc),
		rc == EINVAL ? ". Causes: a key the interface cannot use, a pqonly peer "
			       "without its mldsa-public-key, or pqonly on an interface "
			       "without an ML-DSA private key (see the daemon's log)"
			     : "");
	return 1;
}
