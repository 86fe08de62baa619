/* The config loader: gives meaning to what toml.c parses, one key at a
 * time, then checks the whole (config.h). The keys are those of upstream
 * DyberVPN (tests/config/upstream/README.md); the key text form is
 * docs/PROTOCOL.md §14.
 *
 * Every message is "FILE:LINE: key 'K': what is wrong" (or "table [T]"):
 * the callbacks below write the part after the line number, toml.c
 * records the line, dv_config_parse_ex adds the file.
 */
#include "config/config.h"
#include "util/wipe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config/keys.h"
#include "config/toml.h"
#include "crypto/mldsa.h"
#include "platform/sandbox.h"
#include "protocol.h"

/* Upstream's samples hold placeholders where keys belong. */
#define KEY_HINT "; `dybervpn genkey` makes keys"

enum section { SEC_NONE, SEC_INTERFACE, SEC_PEER };

/* Where each key was seen, for messages written after the whole file was
 * read (0 = not given). */
struct iface_lines {
	unsigned header, private_key, mode, mtu, mldsa_private_key;
};

struct peer_lines {
	unsigned public_key, mode, mldsa_public_key, name;
};

struct ctx {
	struct dv_config *cfg;
	const char *path;
	unsigned flags;
	dv_config_warn_fn warn;
	void *warn_arg;
	enum section sec;
	struct iface_lines il;
	struct peer_lines *pl; /* one per peer, beside cfg->peers */
	size_t peers_cap;
};

/* The [[peer]] being filled. */
static struct dv_peer_config *cur_peer(struct ctx *x)
{
	return &x->cfg->peers[x->cfg->n_peers - 1];
}

static struct peer_lines *cur_lines(struct ctx *x)
{
	return &x->pl[x->cfg->n_peers - 1];
}

static int __attribute__((format(printf, 4, 5)))
kerr(char *err, size_t errlen, const char *key, const char *fmt, ...)
{
	char msg[DV_TOML_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "key '%s': %s", key, msg);
	return -1;
}

static const char *type_name(enum dv_toml_type t)
{
	switch (t) {
	case DV_TOML_STRING:
		return "a string";
	case DV_TOML_INTEGER:
		return "an integer";
	case DV_TOML_BOOL:
		return "a boolean";
	case DV_TOML_ARRAY:
		return "an array";
	}
	return "?";
}

static int want_type(const char *key, const struct dv_toml_value *v,
		     enum dv_toml_type t, char *err, size_t errlen)
{
	if (v->type == t)
		return 0;
	return kerr(err, errlen, key, "expected %s, got %s", type_name(t),
		    type_name(v->type));
}

static int want_int(const char *key, const struct dv_toml_value *v,
		    int64_t min, int64_t max, int64_t *out, char *err,
		    size_t errlen)
{
	if (want_type(key, v, DV_TOML_INTEGER, err, errlen))
		return -1;
	if (v->integer < min || v->integer > max)
		return kerr(err, errlen, key, "%lld is out of range %lld..%lld",
			    (long long)v->integer, (long long)min,
			    (long long)max);
	*out = v->integer;
	return 0;
}

/* Names of interfaces and peers: wg-quick's interface name charset. */
static int check_name(const char *key, const char *s, size_t max,
		      const char *extra, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (len == 0 || len > max)
		return kerr(err, errlen, key, "must be 1..%zu characters", max);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || strchr(extra, c)))
			return kerr(err, errlen, key,
				    "'%s': only letters, digits and '%s' are allowed",
				    s, extra);
	}
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return kerr(err, errlen, key, "'%s' is not a valid name", s);
	return 0;
}

static int set_mode(const char *key, const struct dv_toml_value *v,
		    enum dv_mode *out, char *err, size_t errlen)
{
	if (want_type(key, v, DV_TOML_STRING, err, errlen))
		return -1;
	if (dv_mode_parse(v->str, out))
		return kerr(err, errlen, key,
			    "'%s' is not classic, hybrid or pqonly", v->str);
	return 0;
}

static int decode_key(const char *key, const struct dv_toml_value *v,
		      uint8_t *out, size_t len, char *err, size_t errlen)
{
	char why[128];

	if (want_type(key, v, DV_TOML_STRING, err, errlen))
		return -1;
	if (dv_key_decode(out, len, v->str, why, sizeof(why)))
		return kerr(err, errlen, key, "%s%s", why, KEY_HINT);
	return 0;
}

/* A list of CIDRs: one string, an array of strings, and in each string
 * several comma-separated entries (upstream writes "10.0.0.0/24, fd00::/64"
 * as WireGuard does). */
static int add_cidrs(const char *key, const struct dv_toml_value *v,
		     enum dv_cidr_hostbits hb, struct dv_cidr **list,
		     size_t *n, unsigned *line, char *err, size_t errlen)
{
	const struct dv_toml_value *items = v;
	size_t n_items = 1;

	if (v->type == DV_TOML_ARRAY) {
		items = v->items;
		n_items = v->n_items;
	} else if (want_type(key, v, DV_TOML_STRING, err, errlen)) {
		return -1;
	}
	for (size_t i = 0; i < n_items; i++) {
		const char *tok, *end;

		*line = items[i].line; /* errors point at the entry */
		if (items[i].type != DV_TOML_STRING)
			return kerr(err, errlen, key,
				    "expected strings in the array, got %s",
				    type_name(items[i].type));
		for (tok = items[i].str;; tok = end + 1) {
			char buf[128], why[160];
			struct dv_cidr *nl;
			size_t tl;

			end = strchr(tok, ',');
			if (!end)
				end = tok + strlen(tok);
			tok += strspn(tok, " \t");
			tl = (size_t)(end - tok);
			while (tl && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t'))
				tl--;
			if (!tl)
				return kerr(err, errlen, key, "empty entry");
			if (tl >= sizeof(buf))
				return kerr(err, errlen, key, "entry too long");
			memcpy(buf, tok, tl);
			buf[tl] = '\0';
			nl = realloc(*list, (*n + 1) * sizeof(**list));
			if (!nl)
				return kerr(err, errlen, key, "out of memory");
			*list = nl;
			if (dv_cidr_parse(buf, &nl[*n], hb, why, sizeof(why)))
				return kerr(err, errlen, key, "%s", why);
			(*n)++;
			if (!*end)
				break;
		}
	}
	return 0;
}

static void warn_line(struct ctx *x, unsigned line, const char *key,
		      const char *what)
{
	char msg[sizeof(x->cfg->path) + DV_TOML_ERR_MAX];

	if (!x->warn)
		return;
	snprintf(msg, sizeof(msg), "%s:%u: key '%s': %s", x->path, line, key,
		 what);
	x->warn(x->warn_arg, msg);
}

/* pq_private_key / pq_public_key: upstream's static ML-KEM keys, which
 * this protocol does not have (docs/PROTOCOL.md §14). */
static int ignore_legacy(struct ctx *x, const char *key,
			 const struct dv_toml_value *v, unsigned line,
			 char *err, size_t errlen)
{
	if (want_type(key, v, DV_TOML_STRING, err, errlen))
		return -1;
	warn_line(x, line, key,
		  "ignored: protocol v1 has no static ML-KEM key (its ML-KEM "
		  "key is ephemeral)");
	return 0;
}

/* Walks a string or an array of strings, and in each string its
 * comma-separated entries (trimmed), calling fn on each; *line follows the
 * array item. */
static int each_entry(const char *key, const struct dv_toml_value *v,
		      unsigned *line, char *err, size_t errlen,
		      int (*fn)(struct ctx *x, const char *key, const char *entry,
				char *err, size_t errlen),
		      struct ctx *x)
{
	const struct dv_toml_value *items = v;
	size_t n_items = 1;

	if (v->type == DV_TOML_ARRAY) {
		items = v->items;
		n_items = v->n_items;
	} else if (v->type != DV_TOML_STRING) {
		return kerr(err, errlen, key,
			    "expected a string or an array of strings");
	}
	for (size_t i = 0; i < n_items; i++) {
		const char *tok, *end;

		*line = items[i].line;
		if (items[i].type != DV_TOML_STRING)
			return kerr(err, errlen, key,
				    "expected a string or an array of strings");
		for (tok = items[i].str;; tok = end + 1) {
			char buf[256];
			size_t tl;

			end = strchr(tok, ',');
			if (!end)
				end = tok + strlen(tok);
			tok += strspn(tok, " \t");
			tl = (size_t)(end - tok);
			while (tl && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t'))
				tl--;
			if (!tl)
				return kerr(err, errlen, key, "empty entry");
			if (tl >= sizeof(buf))
				return kerr(err, errlen, key, "entry too long");
			memcpy(buf, tok, tl);
			buf[tl] = '\0';
			if (fn(x, key, buf, err, errlen))
				return -1;
			if (!*end)
				break;
		}
	}
	return 0;
}

static int push_str(char ***list, size_t *n, const char *s)
{
	char **nl;

	if (*n >= DV_CONFIG_LIST_MAX)
		return -1;
	nl = realloc(*list, (*n + 1) * sizeof(**list));
	if (!nl)
		return -1;
	*list = nl;
	nl[*n] = strdup(s);
	if (!nl[*n])
		return -1;
	(*n)++;
	return 0;
}

/* A search domain as resolv.conf takes it: labels of letters, digits,
 * '-' and '_', separated by single dots. */
static int valid_domain(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (!label)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return len > 0;
}

/* One `dns` entry: a server address (IPv4 or IPv6, as wg-quick tells
 * them) or else a search domain. */
static int dns_entry(struct ctx *x, const char *key, const char *e, char *err,
		     size_t errlen)
{
	struct dv_config *c = x->cfg;
	unsigned char a[16];
	int r;

	if (inet_pton(AF_INET, e, a) == 1 || inet_pton(AF_INET6, e, a) == 1)
		r = push_str(&c->dns, &c->n_dns, e);
	else if (valid_domain(e))
		r = push_str(&c->dns_search, &c->n_dns_search, e);
	else
		return kerr(err, errlen, key,
			    "'%s' is neither an IP address nor a search domain", e);
	if (r)
		return kerr(err, errlen, key, "more than %d entries (or out of memory)",
			    DV_CONFIG_LIST_MAX);
	return 0;
}

static const char *const hook_keys[DV_HOOK_COUNT] = {
	"pre_up", "post_up", "pre_down", "post_down",
};

const char *dv_hook_key(enum dv_hook h)
{
	return (unsigned)h < DV_HOOK_COUNT ? hook_keys[h] : "?";
}

/* pre_up, post_up, pre_down, post_down: a command or an array of them,
 * each kept whole (commas included). */
static int set_hooks(struct ctx *x, enum dv_hook h, const char *key,
		     const struct dv_toml_value *v, unsigned *line, char *err,
		     size_t errlen)
{
	struct dv_config *c = x->cfg;
	const struct dv_toml_value *items = v;
	size_t n_items = 1;

	if (v->type == DV_TOML_ARRAY) {
		items = v->items;
		n_items = v->n_items;
	}
	for (size_t i = 0; i < n_items; i++) {
		*line = items[i].line;
		if (items[i].type != DV_TOML_STRING)
			return kerr(err, errlen, key,
				    "expected a string or an array of strings");
		if (!items[i].str_len || items[i].str[strspn(items[i].str, " \t")] == '\0')
			return kerr(err, errlen, key, "empty command");
		if (items[i].str_len > DV_CONFIG_HOOK_MAX)
			return kerr(err, errlen, key, "command longer than %d bytes",
				    DV_CONFIG_HOOK_MAX);
		if (push_str(&c->hooks[h], &c->n_hooks[h], items[i].str))
			return kerr(err, errlen, key,
				    "more than %d commands (or out of memory)",
				    DV_CONFIG_LIST_MAX);
	}
	return 0;
}

/* table = "auto" | "off" | N (a routing table number). */
static int set_table(struct dv_config *c, const char *key,
		     const struct dv_toml_value *v, char *err, size_t errlen)
{
	if (v->type == DV_TOML_STRING && !strcmp(v->str, "auto")) {
		c->table_mode = DV_TABLE_AUTO;
		return 0;
	}
	if (v->type == DV_TOML_STRING && !strcmp(v->str, "off")) {
		c->table_mode = DV_TABLE_OFF;
		return 0;
	}
	if (v->type != DV_TOML_INTEGER)
		return kerr(err, errlen, key,
			    "expected \"auto\", \"off\" or a table number");
	/* 0 is no table, 255 the local table: routes there would break
	 * the machine's own addresses. */
	if (v->integer < 1 || v->integer > 0xffffffffll || v->integer == 255)
		return kerr(err, errlen, key,
			    "%lld is not a usable table (1..4294967295, not 255)",
			    (long long)v->integer);
	c->table_mode = DV_TABLE_ID;
	c->table = (uint32_t)v->integer;
	return 0;
}

/* fwmark = N | "off" (0). */
static int set_fwmark(struct dv_config *c, const char *key,
		      const struct dv_toml_value *v, char *err, size_t errlen)
{
	int64_t n;

	if (v->type == DV_TOML_STRING && !strcmp(v->str, "off")) {
		c->fwmark = 0;
		return 0;
	}
	if (v->type == DV_TOML_STRING)
		return kerr(err, errlen, key, "expected a number or \"off\"");
	if (want_int(key, v, 0, 0xffffffffll, &n, err, errlen))
		return -1;
	c->fwmark = (uint32_t)n;
	return 0;
}

static int iface_key(struct ctx *x, const char *key,
		     const struct dv_toml_value *v, unsigned *line, char *err,
		     size_t errlen)
{
	struct dv_config *c = x->cfg;
	int64_t n;

	if (!strcmp(key, "name")) {
		if (want_type(key, v, DV_TOML_STRING, err, errlen) ||
		    check_name(key, v->str, DV_CONFIG_NAME_MAX, "_=+.-", err,
			       errlen))
			return -1;
		memcpy(c->name, v->str, v->str_len + 1);
		c->line_name = *line;
	} else if (!strcmp(key, "listen_port")) {
		if (want_int(key, v, 0, 65535, &n, err, errlen))
			return -1;
		c->listen_port = (uint16_t)n;
	} else if (!strcmp(key, "address")) {
		return add_cidrs(key, v, DV_CIDR_HOST_BITS_OK, &c->addresses,
				 &c->n_addresses, line, err, errlen);
	} else if (!strcmp(key, "mode")) {
		x->il.mode = *line;
		return set_mode(key, v, &c->mode, err, errlen);
	} else if (!strcmp(key, "mtu")) {
		if (want_int(key, v, DV_CONFIG_MTU_MIN, DV_CONFIG_MTU_MAX, &n,
			     err, errlen))
			return -1;
		c->mtu = (unsigned)n;
		x->il.mtu = *line;
	} else if (!strcmp(key, "threads")) {
		if (want_int(key, v, 0, DV_CONFIG_THREADS_MAX, &n, err, errlen))
			return -1;
		c->threads = (unsigned)n;
	} else if (!strcmp(key, "handshake_datagram_max")) {
		if (want_int(key, v, DV_CONFIG_HS_DATAGRAM_MIN,
			     DV_CONFIG_HS_DATAGRAM_MAX, &n, err, errlen))
			return -1;
		c->handshake_datagram_max = (unsigned)n;
	} else if (!strcmp(key, "private_key")) {
		x->il.private_key = *line;
		return decode_key(key, v, c->private_key,
				  sizeof(c->private_key), err, errlen);
	} else if (!strcmp(key, "mldsa_private_key")) {
		static const size_t lens[] = { DV_MLDSA_SEED_LEN,
					       DV_MLDSA_SK_LEN };
		uint8_t pkbuf[MLDSA65_PK_LEN];
		char why[128];

		if (want_type(key, v, DV_TOML_STRING, err, errlen))
			return -1;
		if (dv_key_decode_lens(c->mldsa_seed_or_sk,
				       sizeof(c->mldsa_seed_or_sk),
				       &c->mldsa_key_len, lens, 2, v->str, why,
				       sizeof(why)))
			return kerr(err, errlen, key, "%s%s", why, KEY_HINT);
		/* FIPS 204, Algorithm 25 (skDecode): s1 and s2 must be in
		 * [-eta, eta], and t0 and tr must belong to rho, s1, s2. */
		if (c->mldsa_key_len == DV_MLDSA_SK_LEN &&
		    mldsa65_pk_from_sk(pkbuf, c->mldsa_seed_or_sk))
			return kerr(err, errlen, key,
				    "not a valid ML-DSA-65 expanded key");
		c->has_mldsa_private_key = 1;
		x->il.mldsa_private_key = *line;
		c->line_mldsa_private_key = *line;
	} else if (!strcmp(key, "metrics_listen")) {
		char why[DV_TOML_ERR_MAX];

		c->line_metrics_listen = *line;
		if (want_type(key, v, DV_TOML_STRING, err, errlen))
			return -1;
		if (dv_endpoint_parse(v->str, 1, &c->metrics_listen,
				      &c->metrics_listen_len, why, sizeof(why)))
			return kerr(err, errlen, key, "%s", why);
		if (!c->metrics_listen_len)
			return kerr(err, errlen, key,
				    "'%s': an IP address and port (no host name), "
				    "e.g. \"127.0.0.1:9586\"", v->str);
	} else if (!strcmp(key, "user")) {
		if (want_type(key, v, DV_TOML_STRING, err, errlen) ||
		    check_name(key, v->str, DV_CONFIG_USER_MAX, "_.-", err,
			       errlen))
			return -1;
		memcpy(c->user, v->str, v->str_len + 1);
	} else if (!strcmp(key, "pq_private_key")) {
		return ignore_legacy(x, key, v, *line, err, errlen);
	} else if (!strcmp(key, "dns")) {
		return each_entry(key, v, line, err, errlen, dns_entry, x);
	} else if (!strcmp(key, "table")) {
		return set_table(c, key, v, err, errlen);
	} else if (!strcmp(key, "fwmark")) {
		return set_fwmark(c, key, v, err, errlen);
	} else {
		for (int h = 0; h < DV_HOOK_COUNT; h++)
			if (!strcmp(key, hook_keys[h]))
				return set_hooks(x, (enum dv_hook)h, key, v, line,
						 err, errlen);
		return kerr(err, errlen, key, "unknown key in [interface]");
	}
	return 0;
}

static int peer_key(struct ctx *x, const char *key,
		    const struct dv_toml_value *v, unsigned *line, char *err,
		    size_t errlen)
{
	struct dv_peer_config *p = cur_peer(x);
	struct peer_lines *pl = cur_lines(x);
	int64_t n;

	if (!strcmp(key, "public_key")) {
		pl->public_key = *line;
		return decode_key(key, v, p->public_key, sizeof(p->public_key),
				  err, errlen);
	} else if (!strcmp(key, "preshared_key")) {
		if (decode_key(key, v, p->psk, sizeof(p->psk), err, errlen))
			return -1;
		p->has_psk = 1;
	} else if (!strcmp(key, "allowed_ips")) {
		return add_cidrs(key, v, DV_CIDR_NO_HOST_BITS, &p->allowed_ips,
				 &p->n_allowed_ips, line, err, errlen);
	} else if (!strcmp(key, "endpoint")) {
		char why[DV_TOML_ERR_MAX];

		if (want_type(key, v, DV_TOML_STRING, err, errlen))
			return -1;
		if (v->str_len > DV_CONFIG_ENDPOINT_MAX)
			return kerr(err, errlen, key, "too long");
		if (dv_endpoint_parse(v->str, !!(x->flags & DV_CONFIG_NO_RESOLVE),
				      &p->endpoint, &p->endpoint_len, why,
				      sizeof(why)))
			return kerr(err, errlen, key, "%s", why);
		free(p->endpoint_str);
		p->endpoint_str = strdup(v->str);
		if (!p->endpoint_str)
			return kerr(err, errlen, key, "out of memory");
		p->has_endpoint = 1;
	} else if (!strcmp(key, "persistent_keepalive")) {
		if (want_int(key, v, 0, 65535, &n, err, errlen))
			return -1;
		p->persistent_keepalive = (uint16_t)n;
	} else if (!strcmp(key, "mode")) {
		pl->mode = *line;
		return set_mode(key, v, &p->mode, err, errlen);
	} else if (!strcmp(key, "mldsa_public_key")) {
		if (!p->mldsa_public_key)
			p->mldsa_public_key = malloc(DV_MLDSA_PK_LEN);
		if (!p->mldsa_public_key)
			return kerr(err, errlen, key, "out of memory");
		if (decode_key(key, v, p->mldsa_public_key, DV_MLDSA_PK_LEN,
			       err, errlen))
			return -1;
		p->has_mldsa_public_key = 1;
		pl->mldsa_public_key = *line;
	} else if (!strcmp(key, "name")) {
		if (want_type(key, v, DV_TOML_STRING, err, errlen) ||
		    check_name(key, v->str, DV_CONFIG_PEER_NAME_MAX, "_.@+-",
			       err, errlen))
			return -1;
		memcpy(p->name, v->str, v->str_len + 1);
		pl->name = *line;
	} else if (!strcmp(key, "reresolve")) {
		if (want_type(key, v, DV_TOML_BOOL, err, errlen))
			return -1;
		p->reresolve = v->boolean;
	} else if (!strcmp(key, "pq_public_key")) {
		return ignore_legacy(x, key, v, *line, err, errlen);
	} else {
		return kerr(err, errlen, key, "unknown key in [[peer]]");
	}
	return 0;
}

static int on_keyval(void *arg, const char *key, const struct dv_toml_value *v,
		     unsigned *line, char *err, size_t errlen)
{
	struct ctx *x = arg;

	switch (x->sec) {
	case SEC_INTERFACE:
		return iface_key(x, key, v, line, err, errlen);
	case SEC_PEER:
		return peer_key(x, key, v, line, err, errlen);
	case SEC_NONE:
		break;
	}
	return kerr(err, errlen, key,
		    "outside any table: keys go in [interface] or [[peer]]");
}

/* Upstream's enterprise tables: features for later, refused by name until
 * they exist (tests/config/upstream/README.md). */
static const char *const later_tables[] = {
	"access_control", "security", "audit", "hardware", "enrollment",
};

static int on_table(void *arg, const char *name, int is_array, unsigned line,
		    char *err, size_t errlen)
{
	struct ctx *x = arg;
	struct dv_config *c = x->cfg;
	size_t top = strcspn(name, ".");

	if (!strcmp(name, "interface") && !is_array) {
		x->sec = SEC_INTERFACE;
		x->il.header = line;
		x->cfg->line_interface = line;
		return 0;
	}
	if (!strcmp(name, "peer") && is_array) {
		/* Memory stays linear in the file and small: a peer is
		 * complete (has its key) before the next one is allocated,
		 * and there are at most DV_CONFIG_PEERS_MAX of them. */
		if (c->n_peers && !x->pl[c->n_peers - 1].public_key) {
			snprintf(err, errlen, "key 'public_key': missing in the "
				 "[[peer]] at line %u", c->peers[c->n_peers - 1].line);
			return -1;
		}
		if (c->n_peers >= DV_CONFIG_PEERS_MAX) {
			snprintf(err, errlen, "table [[peer]]: more than %u peers",
				 DV_CONFIG_PEERS_MAX);
			return -1;
		}
		if (c->n_peers == x->peers_cap) {
			size_t cap = x->peers_cap ? x->peers_cap * 2 : 4;
			struct dv_peer_config *np;
			struct peer_lines *npl;

			/* Peers hold preshared keys: wipe the old array. */
			np = dv_wipe_realloc(c->peers,
					     x->peers_cap * sizeof(*np),
					     cap * sizeof(*np));
			if (!np)
				goto oom;
			c->peers = np;
			npl = realloc(x->pl, cap * sizeof(*npl));
			if (!npl)
				goto oom;
			x->pl = npl;
			x->peers_cap = cap;
		}
		memset(&c->peers[c->n_peers], 0, sizeof(*c->peers));
		memset(&x->pl[c->n_peers], 0, sizeof(*x->pl));
		c->peers[c->n_peers].line = line;
		c->peers[c->n_peers].reresolve = 1;
		c->n_peers++;
		x->sec = SEC_PEER;
		return 0;
	}
	if (!strcmp(name, "interface") || !strcmp(name, "peer")) {
		snprintf(err, errlen, "table %s%s%s: write it as %s%s%s",
			 is_array ? "[[" : "[", name, is_array ? "]]" : "]",
			 is_array ? "[" : "[[", name, is_array ? "]" : "]]");
		return -1;
	}
	for (size_t i = 0; i < sizeof(later_tables) / sizeof(*later_tables); i++)
		if (strlen(later_tables[i]) == top &&
		    !strncmp(name, later_tables[i], top)) {
			snprintf(err, errlen,
				 "table [%s]: not supported (an upstream "
				 "enterprise feature, not implemented); remove it",
				 name);
			return -1;
		}
	snprintf(err, errlen, "table [%s]: unknown table", name);
	return -1;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int __attribute__((format(printf, 5, 6)))
verr(const struct ctx *x, unsigned line, char *err, size_t errlen,
     const char *fmt, ...)
{
	char msg[DV_TOML_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s:%u: %s", x->path, line, msg);
	return -1;
}

/* Duplicates in O(n log n), so 2^20 peers check in well under a second:
 * dup[i] is the first peer with the same public key (or name) as peer i,
 * i itself when none comes before it. */
static const struct dv_peer_config *sort_peers;

static int cmp_key(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = memcmp(sort_peers[i].public_key, sort_peers[j].public_key,
		       DV_X25519_KEY_LEN);

	return r ? r : (i > j) - (i < j);
}

static int cmp_name(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = strcmp(sort_peers[i].name, sort_peers[j].name);

	return r ? r : (i > j) - (i < j);
}

static void find_dups(const struct dv_config *c, uint32_t *order,
		      uint32_t *dup, int (*cmp)(const void *, const void *),
		      int by_name)
{
	size_t n = c->n_peers;

	for (size_t i = 0; i < n; i++)
		order[i] = dup[i] = (uint32_t)i;
	sort_peers = c->peers;
	qsort(order, n, sizeof(*order), cmp);
	sort_peers = NULL;
	for (size_t k = 1; k < n; k++) {
		const struct dv_peer_config *a = &c->peers[order[k - 1]],
					    *b = &c->peers[order[k]];
		int same = by_name ? a->name[0] && !strcmp(a->name, b->name)
				   : !memcmp(a->public_key, b->public_key,
					     DV_X25519_KEY_LEN);

		if (same)
			dup[order[k]] = dup[order[k - 1]];
	}
}

static int validate_with(struct ctx *x, const uint32_t *dup_key,
			 const uint32_t *dup_name, char *err, size_t errlen);

/* Checks that need the whole file: what is required, what depends on the
 * mode, what must be unique. */
static int validate(struct ctx *x, char *err, size_t errlen)
{
	size_t n = x->cfg->n_peers ? x->cfg->n_peers : 1;
	uint32_t *order = malloc(n * sizeof(*order));
	uint32_t *dup_key = malloc(n * sizeof(*dup_key));
	uint32_t *dup_name = malloc(n * sizeof(*dup_name));
	int r = -1;

	if (!order || !dup_key || !dup_name) {
		snprintf(err, errlen, "%s: out of memory", x->path);
	} else {
		find_dups(x->cfg, order, dup_key, cmp_key, 0);
		find_dups(x->cfg, order, dup_name, cmp_name, 1);
		r = validate_with(x, dup_key, dup_name, err, errlen);
	}
	free(order);
	free(dup_key);
	free(dup_name);
	return r;
}

static int validate_with(struct ctx *x, const uint32_t *dup_key,
			 const uint32_t *dup_name, char *err, size_t errlen)
{
	struct dv_config *c = x->cfg;
	int has_v6 = 0;

	if (!x->il.header) {
		snprintf(err, errlen, "%s: table [interface]: missing", x->path);
		return -1;
	}
	if (!x->il.private_key)
		return verr(x, x->il.header, err, errlen,
			    "key 'private_key': missing in [interface]");
	/* X25519 public key (RFC 7748, section 6.1), clamped as `wg pubkey`. */
	if (crypto_scalarmult_base(c->public_key, c->private_key))
		return verr(x, x->il.private_key, err, errlen,
			    "key 'private_key': not a usable X25519 key");
	if (dv_mode_needs_mldsa(c->mode) && !c->has_mldsa_private_key)
		return verr(x, x->il.mode, err, errlen,
			    "key 'mldsa_private_key': missing in [interface]: "
			    "mode %s signs with ML-DSA-65", dv_mode_name(c->mode));
	for (size_t i = 0; i < c->n_addresses; i++)
		has_v6 |= c->addresses[i].family == AF_INET6;
	if (has_v6 && c->mtu && c->mtu < DV_CONFIG_MTU_MIN_IPV6)
		return verr(x, x->il.mtu, err, errlen,
			    "key 'mtu': %u is below %u, the minimum for IPv6 "
			    "addresses", c->mtu, DV_CONFIG_MTU_MIN_IPV6);
	for (size_t i = 0; i < c->n_peers; i++) {
		struct dv_peer_config *p = &c->peers[i];
		const struct peer_lines *pl = &x->pl[i];

		if (!pl->public_key)
			return verr(x, p->line, err, errlen,
				    "key 'public_key': missing in [[peer]]");
		if (!memcmp(p->public_key, c->public_key, sizeof(c->public_key)))
			return verr(x, pl->public_key, err, errlen,
				    "key 'public_key': is this interface's own "
				    "public key");
		if (dup_key[i] != i)
			return verr(x, pl->public_key, err, errlen,
				    "key 'public_key': same as the peer "
				    "at line %u", c->peers[dup_key[i]].line);
		if (p->name[0] && dup_name[i] != i)
			return verr(x, pl->name, err, errlen,
				    "key 'name': '%s' is also the peer "
				    "at line %u", p->name,
				    c->peers[dup_name[i]].line);
		if (!pl->mode) /* no `mode` of its own */
			p->mode = c->mode;
		if (!dv_mode_needs_mldsa(p->mode))
			continue;
		/* pqonly signs with ML-DSA-65 both ways (docs/PROTOCOL.md §1). */
		if (!p->has_mldsa_public_key)
			return verr(x, pl->mode ? pl->mode : p->line, err, errlen,
				    "key 'mldsa_public_key': missing: the peer "
				    "at line %u uses mode %s", p->line,
				    dv_mode_name(p->mode));
		if (!c->has_mldsa_private_key)
			return verr(x, pl->mode ? pl->mode :
				       x->il.mode ? x->il.mode : x->il.header,
				    err, errlen,
				    "key 'mldsa_private_key': missing in "
				    "[interface]: the peer at line %u uses mode "
				    "%s", p->line, dv_mode_name(p->mode));
	}
	return 0;
}

/* Messages quote what the file says, which may hold escapes such as
 * "\u001b": keep them from reaching a terminal. */
static void sanitize(char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			*msg = '?';
}

/* The parse in three steps, so a file can be fed in chunks (load) as
 * well as whole (parse). */
struct parse {
	struct dv_toml_handler h;
	struct dv_toml_parser tp;
	struct ctx x;
};

static int parse_begin(struct parse *ps, const char *path_for_messages,
		       struct dv_config *cfg, char *err, size_t errlen,
		       dv_config_warn_fn warn, void *warn_arg, unsigned flags)
{
	memset(ps, 0, sizeof(*ps));
	memset(cfg, 0, sizeof(*cfg));
	if (sodium_init() < 0) {
		snprintf(err, errlen, "%s: libsodium failed to initialise",
			 path_for_messages);
		return -1;
	}
	snprintf(cfg->path, sizeof(cfg->path), "%s", path_for_messages);
	cfg->mode = DV_MODE_DEFAULT;
	cfg->handshake_datagram_max = DV_CONFIG_HS_DATAGRAM_DEFAULT;
	ps->x.cfg = cfg;
	ps->x.path = cfg->path;
	ps->x.flags = flags;
	ps->x.warn = warn;
	ps->x.warn_arg = warn_arg;
	ps->h.table = on_table;
	ps->h.keyval = on_keyval;
	ps->h.arg = &ps->x;
	dv_toml_init(&ps->tp, &ps->h);
	return 0;
}

/* r: 0 if every line was fed, else -1 (with the parser's error, or with
 * err already written when own_err). */
static int parse_end(struct parse *ps, int r, int own_err, char *err,
		     size_t errlen)
{
	struct ctx *x = &ps->x;

	if (!r)
		r = dv_toml_finish(&ps->tp);
	if (r && !own_err) {
		if (ps->tp.err_line)
			snprintf(err, errlen, "%s:%u: %s", x->path,
				 ps->tp.err_line, ps->tp.err);
		else
			snprintf(err, errlen, "%s: %s", x->path, ps->tp.err);
	}
	dv_toml_free(&ps->tp);
	if (!r)
		r = validate(x, err, errlen);
	free(x->pl);
	x->pl = NULL;
	if (r) {
		dv_config_free(x->cfg);
		sanitize(err);
	}
	return r;
}

int dv_config_parse_ex(const char *path_for_messages, const char *text,
		       size_t len, struct dv_config *cfg, char *err,
		       size_t errlen, dv_config_warn_fn warn, void *warn_arg,
		       unsigned flags)
{
	struct parse ps;
	size_t start = 0;
	int r = 0;

	if (parse_begin(&ps, path_for_messages, cfg, err, errlen, warn,
			warn_arg, flags))
		return -1;
	while (!r && start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;

		r = dv_toml_feed_line(&ps.tp, text + start, end - start);
		start = end + 1;
	}
	return parse_end(&ps, r, 0, err, errlen);
}

int dv_config_parse(const char *path_for_messages, const char *text,
		    size_t len, struct dv_config *cfg, char *err,
		    size_t errlen, dv_config_warn_fn warn, void *warn_arg)
{
	return dv_config_parse_ex(path_for_messages, text, len, cfg, err,
				  errlen, warn, warn_arg, 0);
}

/* The file is read CONFIG_CHUNK bytes at a time; a line may not be longer
 * than CONFIG_LINE_MAX (a statement is at most DV_TOML_STMT_MAX anyway). */
#define CONFIG_CHUNK (64u << 10)
#define CONFIG_LINE_MAX (DV_TOML_STMT_MAX + 1024)

/* Feeds fd's lines to the parser: 0, or -1 (err written when *own_err). */
static int feed_fd(struct parse *ps, int fd, const char *path,
		   uint64_t *total, int *own_err, char *err, size_t errlen)
{
	/* Read with read(2) into buffers wiped afterwards: a stdio buffer
	 * would keep a copy of the private key in freed memory. */
	size_t cap = CONFIG_CHUNK + CONFIG_LINE_MAX, have = 0;
	char *buf = malloc(cap);
	int r = 0;

	if (!buf) {
		*own_err = 1;
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, CONFIG_CHUNK);
		size_t start = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*own_err = 1;
			snprintf(err, errlen, "%s: read: %s", path,
				 strerror(errno));
			r = -1;
			break;
		}
		*total += (uint64_t)n;
		if (*total > DV_CONFIG_FILE_MAX) {
			*own_err = 1;
			snprintf(err, errlen, "%s: larger than %u bytes", path,
				 DV_CONFIG_FILE_MAX);
			r = -1;
			break;
		}
		have += (size_t)n;
		for (;;) {
			char *nl = memchr(buf + start, '\n', have - start);
			size_t end;

			if (!nl && n)
				break; /* the rest of this line comes next */
			end = nl ? (size_t)(nl - buf) : have;
			if (end > start || nl) {
				r = dv_toml_feed_line(&ps->tp, buf + start,
						      end - start);
				if (r)
					break;
			}
			start = nl ? end + 1 : have;
			if (!nl)
				break;
		}
		if (r || n == 0)
			break;
		memmove(buf, buf + start, have - start);
		sodium_memzero(buf + have - start, start);
		have -= start;
		if (have > CONFIG_LINE_MAX) {
			*own_err = 1;
			snprintf(err, errlen, "%s:%u: line longer than %u bytes",
				 path, ps->tp.line + 1, CONFIG_LINE_MAX);
			r = -1;
			break;
		}
	}
	sodium_memzero(buf, cap);
	free(buf);
	return r;
}

int dv_config_load(const char *path, struct dv_config *cfg, char *err,
		   size_t errlen, dv_config_warn_fn warn, void *warn_arg)
{
	struct parse ps;
	struct stat st;
	uint64_t total = 0;
	int fd, r, own_err = 0;

	memset(cfg, 0, sizeof(*cfg));
	/* In the sandbox (a reload), with the one capability that reads a
	 * root-only file raised just for this open. */
	fd = dv_sandbox_open_config(path);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > DV_CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %u bytes",
			 path, DV_CONFIG_FILE_MAX);
		close(fd);
		return -1;
	}
	if (warn && (st.st_mode & 0077)) {
		char msg[4200];

		snprintf(msg, sizeof(msg),
			 "%s: readable by group or others (mode %03o), "
			 "yet it holds a private key", path,
			 (unsigned)(st.st_mode & 0777));
		warn(warn_arg, msg);
	}
	if (parse_begin(&ps, path, cfg, err, errlen, warn, warn_arg, 0)) {
		close(fd);
		return -1;
	}
	r = feed_fd(&ps, fd, path, &total, &own_err, err, errlen);
	close(fd);
	return parse_end(&ps, r, own_err, err, errlen);
}

void dv_config_free(struct dv_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		free(cfg->peers[i].allowed_ips);
		free(cfg->peers[i].endpoint_str);
		free(cfg->peers[i].mldsa_public_key);
	}
	if (cfg->peers)
		sodium_memzero(cfg->peers, cfg->n_peers * sizeof(*cfg->peers));
	free(cfg->peers);
	free(cfg->addresses);
	for (size_t i = 0; i < cfg->n_dns; i++)
		free(cfg->dns[i]);
	free(cfg->dns);
	for (size_t i = 0; i < cfg->n_dns_search; i++)
		free(cfg->dns_search[i]);
	free(cfg->dns_search);
	for (int h = 0; h < DV_HOOK_COUNT; h++) {
		for (size_t i = 0; i < cfg->n_hooks[h]; i++)
			free(cfg->hooks[h][i]);
		free(cfg->hooks[h]);
	}
	sodium_memzero(cfg, sizeof(*cfg));
}
