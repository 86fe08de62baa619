/* The cross-platform userspace control protocol of WireGuard
 * (wireguard.com/xplatform, as wireguard-go serves it), so the stock
 * `wg show` and `wg set` work on a DyberVPN interface.
 *
 * get=1 answers the device keys (private_key, listen_port, fwmark, and
 * the extension handshake_datagram_max), then
 * per peer public_key, preshared_key, protocol_version, endpoint,
 * last_handshake_time_sec/nsec, tx_bytes, rx_bytes,
 * persistent_keepalive_interval and allowed_ip lines, followed by the
 * DyberVPN extension keys mode=, refused_handshakes=, name= and, for a
 * peer that has one, mldsa_public_key=. The stock `wg` (wireguard-tools
 * ipc-uapi.h, userspace_get_device) skips keys it does not know, so the
 * extensions are invisible to it. Keys are lowercase hex.
 *
 * set=1 takes, for the interface, the DyberVPN extension key
 *   handshake_datagram_max=N     the handshake datagram budget, 548..4657
 *                                 (docs/PROTOCOL-fragments.md)
 * and per peer (after its public_key=), two extension keys the stock `wg`
 * never sends:
 *   mode=classic|hybrid|pqonly   (also "pq-only"; a new peer otherwise
 *                                 gets the interface's mode)
 *   mldsa_public_key=<hex>       the peer's ML-DSA-65 public key, 1952
 *                                 bytes (FIPS 204), needed in pqonly mode
 * Changing either drops the peer's handshake in progress (it was begun
 * under the old mode or key). A stronger mode (classic < hybrid < pqonly)
 * also ends the established session, as a new private_key= ends every
 * session: the next packet handshakes at once. A weaker mode keeps the
 * (stronger) session until its next rekey.
 *
 * set=1 is parsed and validated entirely (syntax, keys, numbers,
 * addresses, usable public keys, modes) into a plan before anything is
 * applied: a malformed request is answered errno=22 (EINVAL) and changes
 * nothing. So is one that would leave a peer in pqonly mode without its
 * ML-DSA public key, or on an interface without an ML-DSA private key
 * (docs/PROTOCOL.md §1, §15: pqonly signs and verifies both sides).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "crypto/classic.h"
#include "crypto/ct.h"
#include "device/internal.h"
#include "device/timers.h"
#include "protocol.h"
#include "util/wipe.h"

/* ---- response buffer ---- */

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	if (b->cap == b->len) {
		char *ns = dv_wipe_realloc(b->s, b->cap, b->cap + 256);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap += 256;
	}
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		char *ns = dv_wipe_realloc(b->s, b->cap, ncap);

		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

/* "key=<hex of k>\n", in chunks so a 1952-byte ML-DSA key needs no big
 * buffer; the chunk buffer is wiped (the private key passes here). */
static void sb_hex(struct sbuf *b, const char *key, const uint8_t *k, size_t n)
{
	char hex[2 * DV_KEY_LEN + 1];
	static const char digits[] = "0123456789abcdef";

	sb_printf(b, "%s=", key);
	for (size_t off = 0; off < n; off += DV_KEY_LEN) {
		size_t c = n - off < DV_KEY_LEN ? n - off : DV_KEY_LEN;

		for (size_t i = 0; i < c; i++) {
			hex[2 * i] = digits[k[off + i] >> 4];
			hex[2 * i + 1] = digits[k[off + i] & 15];
		}
		hex[2 * c] = 0;
		sb_printf(b, "%s", hex);
	}
	sb_printf(b, "\n");
	ct_wipe(hex, sizeof(hex));
}

/* ---- get ---- */

static void put_allowed_ip(void *arg, int family, const uint8_t *addr,
			   unsigned cidr)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(family, addr, ip, sizeof(ip)))
		sb_printf(arg, "allowed_ip=%s/%u\n", ip, cidr);
}

static void put_endpoint(struct sbuf *b, const struct dv_peer *p)
{
	char ip[INET6_ADDRSTRLEN];

	if (p->endpoint.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&p->endpoint;

		if (inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)))
			sb_printf(b, "endpoint=%s:%u\n", ip, ntohs(s->sin_port));
	} else if (p->endpoint.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&p->endpoint;

		if (!inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)))
			return;
		if (s->sin6_scope_id)
			sb_printf(b, "endpoint=[%s%%%" PRIu32 "]:%u\n", ip,
				  s->sin6_scope_id, ntohs(s->sin6_port));
		else
			sb_printf(b, "endpoint=[%s]:%u\n", ip,
				  ntohs(s->sin6_port));
	}
}

/* The device's global counters (docs/PROTOCOL.md §15): packets dropped
 * before they reached a peer, by reason, and cookie replies sent. Before
 * the first peer, where `wg` skips keys it does not know. */
static void put_drops(const struct dv_device *d, struct sbuf *b)
{
	const struct dv_device_stats *st = &d->stats;
	const struct {
		const char *name;
		uint64_t n;
	} drops[] = {
		{ "malformed", st->rx_malformed },
		{ "bad_mac", st->rx_bad_mac },
		{ "handshake_bad", st->rx_handshake_bad },
		{ "unknown_index", st->rx_unknown_index },
		{ "data_bad", st->rx_data_bad },
		{ "bad_source", st->rx_bad_source },
		{ "ratelimited", st->rx_ratelimited },
		{ "cookie_limited", st->rx_cookie_limited },
		{ "no_route", st->tx_no_route },
		{ "staged", st->tx_staged_dropped },
		{ "fragment_refused", st->rx_fragment_refused },
	};

	for (size_t i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
		sb_printf(b, "dropped_%s=%" PRIu64 "\n", drops[i].name, drops[i].n);
	sb_printf(b, "cookie_replies_sent=%" PRIu64 "\n", st->rx_cookie_sent);
	sb_printf(b, "fragments_received=%" PRIu64 "\n", st->rx_fragments);
	sb_printf(b, "fragments_sent=%" PRIu64 "\n", st->tx_fragments);
	sb_printf(b, "fragments_reassembled=%" PRIu64 "\n", st->rx_reassembled);
}

static void uapi_get(struct dv_device *d, struct sbuf *b)
{
	if (d->has_private_key)
		sb_hex(b, "private_key", d->local.priv, DV_KEY_LEN);
	if (d->listen_port)
		sb_printf(b, "listen_port=%u\n", d->listen_port);
	if (d->fwmark)
		sb_printf(b, "fwmark=%" PRIu32 "\n", d->fwmark);
	sb_printf(b, "handshake_datagram_max=%zu\n", d->hs_budget);
	put_drops(d, b);
	for (struct dv_peer *p = d->peers; p; p = p->next_peer) {
		sb_hex(b, "public_key", p->np.remote_static, DV_KEY_LEN);
		sb_hex(b, "preshared_key", p->np.psk, DV_KEY_LEN);
		sb_printf(b, "protocol_version=1\n");
		if (p->endpoint_len)
			put_endpoint(b, p);
		sb_printf(b, "last_handshake_time_sec=%" PRIu64 "\n",
			  (uint64_t)(p->last_handshake_wall_ns / DV_NSEC_PER_SEC));
		sb_printf(b, "last_handshake_time_nsec=%" PRIu64 "\n",
			  (uint64_t)(p->last_handshake_wall_ns % DV_NSEC_PER_SEC));
		sb_printf(b, "tx_bytes=%" PRIu64 "\n", p->tx_bytes);
		sb_printf(b, "rx_bytes=%" PRIu64 "\n", p->rx_bytes);
		sb_printf(b, "persistent_keepalive_interval=%u\n",
			  p->persistent_keepalive);
		dv_allowedips_walk(&d->aips, p, put_allowed_ip, b);
		sb_printf(b, "mode=%s\n", dv_mode_name(p->np.mode));
		sb_printf(b, "refused_handshakes=%" PRIu64 "\n",
			  p->refused_handshakes);
		sb_printf(b, "refused_mode=%" PRIu64 "\n", p->refused_mode);
		sb_printf(b, "refused_signature=%" PRIu64 "\n", p->refused_signature);
		sb_printf(b, "refused_mlkem=%" PRIu64 "\n", p->refused_mlkem);
		sb_printf(b, "handshakes=%" PRIu64 "\n", p->handshakes);
		if (p->name[0])
			sb_printf(b, "name=%s\n", p->name);
		if (p->np.has_mldsa_pk)
			sb_hex(b, "mldsa_public_key", p->np.mldsa_pk,
			       NOISE_MLDSA_PK_LEN);
	}
}

/* ---- set: parse into a plan ---- */

struct aip {
	int family;
	uint8_t addr[16];
	unsigned cidr;
};

struct peer_op {
	uint8_t pub[DV_KEY_LEN];
	bool ignore; /* our own public key: wireguard-go skips such a peer */
	bool remove, update_only, replace_aips;
	bool has_psk, has_endpoint, has_keepalive, has_mode;
	uint8_t psk[DV_KEY_LEN];
	enum dv_mode mode;
	uint8_t *mldsa_pk; /* NOISE_MLDSA_PK_LEN bytes when given, else NULL */
	/* The peer after this entry, worked out by plan_check: it decides
	 * whether a later entry for the same key may go pqonly. */
	bool after_exists, after_has_mldsa, after_ok;
	enum dv_mode after_mode;
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	uint16_t keepalive;
	struct aip *aips;
	size_t n_aips, cap_aips;
};

struct plan {
	bool has_priv, has_port, has_fwmark, has_budget, replace_peers;
	uint8_t priv[DV_KEY_LEN];
	unsigned budget; /* handshake_datagram_max */
	uint16_t port;
	uint32_t fwmark;
	struct peer_op *peers;
	size_t n_peers, cap_peers;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_peers; i++) {
		free(pl->peers[i].aips);
		free(pl->peers[i].mldsa_pk);
	}
	if (pl->peers)
		ct_wipe(pl->peers, pl->cap_peers * sizeof(*pl->peers));
	free(pl->peers);
	ct_wipe(pl->priv, sizeof(pl->priv));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_hex(uint8_t *out, size_t n, const char *v)
{
	if (strlen(v) != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool parse_key(uint8_t out[DV_KEY_LEN], const char *v)
{
	return parse_hex(out, DV_KEY_LEN, v);
}

static bool parse_uint(const char *v, uint64_t max, uint64_t *out)
{
	uint64_t n = 0;

	if (!*v || strlen(v) > 20)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	if (n > max)
		return false;
	*out = n;
	return true;
}

/* Numeric endpoints only: `wg` resolves names before it sends them. */
static bool parse_endpoint(const char *v, struct sockaddr_storage *ss,
			   socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2], *scope;
	const char *port;
	uint64_t p;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (v[0] == '[') {
		const char *end = strchr(v, ']');
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

		if (!end || end[1] != ':')
			return false;
		hl = (size_t)(end - v - 1);
		port = end + 2;
		if (hl >= sizeof(host))
			return false;
		memcpy(host, v + 1, hl);
		host[hl] = 0;
		/* A link-local address carries its scope: "fe80::1%eth0". */
		scope = strchr(host, '%');
		if (scope) {
			*scope++ = 0;
			s->sin6_scope_id = if_nametoindex(scope);
			if (!s->sin6_scope_id &&
			    !parse_uint(scope, UINT32_MAX, &p))
				return false;
			if (!s->sin6_scope_id)
				s->sin6_scope_id = (uint32_t)p;
		}
		if (inet_pton(AF_INET6, host, &s->sin6_addr) != 1 ||
		    !parse_uint(port, 65535, &p) || !p)
			return false;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)p);
		*len = sizeof(*s);
		return true;
	}
	port = strrchr(v, ':');
	if (!port)
		return false;
	hl = (size_t)(port - v);
	if (hl >= sizeof(host))
		return false;
	memcpy(host, v, hl);
	host[hl] = 0;
	{
		struct sockaddr_in *s = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &s->sin_addr) != 1 ||
		    !parse_uint(port + 1, 65535, &p) || !p)
			return false;
		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)p);
		*len = sizeof(*s);
	}
	return true;
}

static bool parse_aip(const char *v, struct aip *a)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(v, '/');
	uint64_t cidr;
	size_t hl;

	if (!slash)
		return false;
	hl = (size_t)(slash - v);
	if (hl >= sizeof(ip))
		return false;
	memcpy(ip, v, hl);
	ip[hl] = 0;
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, ip, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, a->addr) == 1)
		a->family = AF_INET6;
	else
		return false;
	if (!parse_uint(slash + 1, a->family == AF_INET ? 32 : 128, &cidr))
		return false;
	a->cidr = (unsigned)cidr;
	return true;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 4;
	/* The peer operations hold preshared keys: the old array is wiped. */
	na = dv_wipe_realloc(*arr, *cap * elem, ncap * elem);
	if (!na)
		return false;
	memset((uint8_t *)na + *cap * elem, 0, (ncap - *cap) * elem);
	*arr = na;
	*cap = ncap;
	return true;
}

/* A peer needs a private key and a public key whose DH with it is not
 * zero (a low-order point); checked before anything is applied. */
static bool usable_pub(const uint8_t priv[DV_KEY_LEN], bool has_priv,
		       const uint8_t pub[DV_KEY_LEN])
{
	uint8_t ss[DV_KEY_LEN];
	int rc;

	if (!has_priv)
		return false;
	rc = dv_x25519(ss, priv, pub);
	ct_wipe(ss, sizeof(ss));
	return rc == 0;
}

/* One "key=value" line into the plan; false on anything malformed. */
static bool plan_line(struct dv_device *d, struct plan *pl, const char *key,
		      const char *v, int *err)
{
	struct peer_op *op = pl->n_peers ? &pl->peers[pl->n_peers - 1] : NULL;
	uint64_t n;

	if (!strcmp(key, "public_key")) {
		if (!grow((void **)&pl->peers, &pl->cap_peers, pl->n_peers,
			  sizeof(*pl->peers))) {
			*err = ENOMEM;
			return false;
		}
		op = &pl->peers[pl->n_peers++];
		if (!parse_key(op->pub, v))
			return false;
		return true;
	}
	if (!op) {
		if (!strcmp(key, "private_key")) {
			pl->has_priv = true;
			return parse_key(pl->priv, v);
		}
		if (!strcmp(key, "listen_port")) {
			pl->has_port = true;
			if (!parse_uint(v, 65535, &n))
				return false;
			pl->port = (uint16_t)n;
			return true;
		}
		if (!strcmp(key, "fwmark")) {
			pl->has_fwmark = true;
			if (!parse_uint(v, UINT32_MAX, &n))
				return false;
			pl->fwmark = (uint32_t)n;
			return true;
		}
		if (!strcmp(key, "handshake_datagram_max")) {
			pl->has_budget = true;
			if (!parse_uint(v, DV_MAX_HANDSHAKE_LEN, &n) ||
			    n < DV_FRAG_BUDGET_MIN)
				return false;
			pl->budget = (unsigned)n;
			return true;
		}
		if (!strcmp(key, "replace_peers"))
			return (pl->replace_peers = !strcmp(v, "true"));
		return false;
	}
	if (!strcmp(key, "remove"))
		return (op->remove = !strcmp(v, "true"));
	if (!strcmp(key, "update_only"))
		return (op->update_only = !strcmp(v, "true"));
	if (!strcmp(key, "preshared_key"))
		return (op->has_psk = parse_key(op->psk, v));
	if (!strcmp(key, "endpoint"))
		return (op->has_endpoint = parse_endpoint(v, &op->endpoint,
							   &op->endpoint_len));
	if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_uint(v, 65535, &n))
			return false;
		op->has_keepalive = true;
		op->keepalive = (uint16_t)n;
		return true;
	}
	if (!strcmp(key, "replace_allowed_ips")) {
		op->n_aips = 0; /* replaces what came before, in this request too */
		return (op->replace_aips = !strcmp(v, "true"));
	}
	if (!strcmp(key, "allowed_ip")) {
		if (!grow((void **)&op->aips, &op->cap_aips, op->n_aips,
			  sizeof(*op->aips))) {
			*err = ENOMEM;
			return false;
		}
		return parse_aip(v, &op->aips[op->n_aips++]);
	}
	if (!strcmp(key, "protocol_version"))
		return !strcmp(v, "1");
	if (!strcmp(key, "mode"))
		return (op->has_mode = dv_mode_parse(v, &op->mode) == 0);
	if (!strcmp(key, "mldsa_public_key")) {
		if (!op->mldsa_pk)
			op->mldsa_pk = malloc(NOISE_MLDSA_PK_LEN);
		if (!op->mldsa_pk) {
			*err = ENOMEM;
			return false;
		}
		return parse_hex(op->mldsa_pk, NOISE_MLDSA_PK_LEN, v);
	}
	return false;
}

/* Splits the body (after "set=1\n") into lines; 0 or an errno. */
static int plan_parse(struct dv_device *d, struct plan *pl, const char *body,
		      size_t len)
{
	/* The longest line is an ML-DSA-65 public key in hex. */
	char line[sizeof("mldsa_public_key=") + 2 * NOISE_MLDSA_PK_LEN];
	size_t i = 0;
	int err = EINVAL;

	while (i < len) {
		const char *nl = memchr(body + i, '\n', len - i);
		size_t ll;
		char *eq;

		if (!nl)
			return EINVAL; /* unterminated line */
		ll = (size_t)(nl - (body + i));
		if (ll == 0)
			return i + 1 == len ? 0 : EINVAL; /* the final blank line */
		if (ll >= sizeof(line))
			return EINVAL;
		memcpy(line, body + i, ll);
		line[ll] = 0;
		i += ll + 1;
		eq = strchr(line, '=');
		if (!eq || memchr(line, 0, ll))
			return EINVAL;
		*eq = 0;
		if (!plan_line(d, pl, line, eq + 1, &err)) {
			ct_wipe(line, ll + 1);
			return err;
		}
		ct_wipe(line, ll + 1);
	}
	return EINVAL; /* no blank line */
}

/* Works out the peer op leaves behind (exists, mode, ML-DSA key), from
 * the last earlier entry for the same key or else from the device;
 * after_ok is false when it would be pqonly without both ML-DSA keys. */
static void plan_peer_state(struct dv_device *d, struct plan *pl, size_t i)
{
	struct peer_op *op = &pl->peers[i], *prev = NULL;
	struct dv_peer *p;

	for (size_t j = i; j-- > 0;)
		if (!memcmp(pl->peers[j].pub, op->pub, DV_KEY_LEN)) {
			prev = &pl->peers[j];
			break;
		}
	if (prev) {
		op->after_exists = prev->after_exists;
		op->after_mode = prev->after_mode;
		op->after_has_mldsa = prev->after_has_mldsa;
	} else {
		p = pl->replace_peers ? NULL : dv_peer_by_key(d, op->pub);
		op->after_exists = p != NULL;
		op->after_mode = p ? p->np.mode : d->mode;
		op->after_has_mldsa = p && p->np.has_mldsa_pk;
	}
	op->after_ok = true;
	if (op->remove || (op->update_only && !op->after_exists)) {
		op->after_exists = false;
		return;
	}
	if (!op->after_exists) {
		/* apply_peer creates it with the interface's mode. */
		op->after_exists = true;
		op->after_mode = d->mode;
		op->after_has_mldsa = false;
	}
	if (op->has_mode)
		op->after_mode = op->mode;
	if (op->mldsa_pk)
		op->after_has_mldsa = true;
	op->after_ok = !dv_mode_needs_mldsa(op->after_mode) ||
		       (op->after_has_mldsa && d->local.has_mldsa);
}

/* Only the state a request leaves counts: an entry may set mode=pqonly
 * and a later entry for the same peer give its ML-DSA key. */
static bool plan_final_ok(const struct plan *pl, size_t i)
{
	const struct peer_op *op = &pl->peers[i];

	if (op->ignore || op->after_ok)
		return true;
	for (size_t j = i + 1; j < pl->n_peers; j++)
		if (!memcmp(pl->peers[j].pub, op->pub, DV_KEY_LEN))
			return true; /* judged at the last entry */
	return false;
}

/* Whole-plan checks that need the final private key: every peer that
 * will exist must be usable with it, and in its mode. */
static bool plan_check(struct dv_device *d, struct plan *pl)
{
	static const uint8_t zero[DV_KEY_LEN];
	const uint8_t *priv = pl->has_priv ? pl->priv : d->local.priv;
	bool has_priv = pl->has_priv ? memcmp(pl->priv, zero, DV_KEY_LEN) != 0
				     : d->has_private_key;
	uint8_t pub[DV_KEY_LEN];

	if (has_priv && dv_x25519_base(pub, priv) < 0)
		return false;
	for (size_t i = 0; i < pl->n_peers; i++) {
		struct peer_op *op = &pl->peers[i];

		/* wireguard-go skips a peer entry naming our own key. */
		op->ignore = has_priv && !memcmp(op->pub, pub, DV_KEY_LEN);
		if (op->ignore)
			continue;
		plan_peer_state(d, pl, i);
		if (!op->after_exists) /* removed, or update_only of none */
			continue;
		if (!usable_pub(priv, has_priv, op->pub))
			return false;
	}
	if (pl->has_priv) {
		/* Existing peers must stay usable with a new key. */
		for (struct dv_peer *p = d->peers; p; p = p->next_peer)
			if (!pl->replace_peers && has_priv &&
			    memcmp(p->np.remote_static, pub, DV_KEY_LEN) &&
			    !usable_pub(priv, has_priv, p->np.remote_static))
				return false;
	}
	for (size_t i = 0; i < pl->n_peers; i++)
		if (!plan_final_ok(pl, i))
			return false;
	ct_wipe(pub, sizeof(pub));
	return true;
}

/* ---- set: apply (cannot fail on input any more) ---- */

static void set_private_key(struct dv_device *d, const uint8_t priv[DV_KEY_LEN])
{
	static const uint8_t zero[DV_KEY_LEN];
	struct dv_peer *p, *pn;

	if (d->has_private_key && !memcmp(d->local.priv, priv, DV_KEY_LEN))
		return;
	d->has_private_key = memcmp(priv, zero, DV_KEY_LEN) != 0;
	memcpy(d->local.priv, priv, DV_KEY_LEN);
	if (!d->has_private_key || dv_x25519_base(d->local.pub, priv) < 0) {
		d->has_private_key = false;
		ct_wipe(d->local.priv, DV_KEY_LEN);
		memset(d->local.pub, 0, DV_KEY_LEN);
	}
	cookie_checker_init(&d->cookie, d->local.pub);
	for (p = d->peers; p; p = pn) {
		uint8_t psk[DV_KEY_LEN];

		pn = p->next_peer;
		/* Sessions made with the old key are over; the next packet
		 * handshakes with the new one at once. */
		dv_peer_expire_session(p);
		/* WireGuard removes a peer that has our own public key. */
		if (d->has_private_key &&
		    !memcmp(p->np.remote_static, d->local.pub, DV_KEY_LEN)) {
			dv_peer_remove(p);
			continue;
		}
		if (!d->has_private_key)
			continue; /* no handshake is possible until a key is set */
		memcpy(psk, p->np.psk, sizeof(psk));
		dv_peer_reconfigure(p, p->np.mode, psk);
		ct_wipe(psk, sizeof(psk));
	}
}

static int apply_peer(struct dv_device *d, const struct peer_op *op)
{
	struct dv_peer *p = dv_peer_by_key(d, op->pub);
	bool enable_keepalive;

	if (op->ignore)
		return 0;
	if (op->remove) {
		if (p)
			dv_peer_remove(p);
		return 0;
	}
	if (!p) {
		if (op->update_only)
			return 0;
		p = dv_peer_new(d, op->pub, op->has_mode ? op->mode : d->mode);
		if (!p)
			return ENOMEM;
	}
	if ((op->has_psk && memcmp(op->psk, p->np.psk, DV_KEY_LEN)) ||
	    (op->has_mode && op->mode != p->np.mode)) {
		uint8_t psk[DV_KEY_LEN];

		/* Rebuilds the noise state: the handshake in progress goes;
		 * the keypairs (the established session) stay, unless the
		 * mode gets stronger (below). */
		memcpy(psk, op->has_psk ? op->psk : p->np.psk, sizeof(psk));
		bool stronger = op->has_mode && op->mode > p->np.mode;

		dv_peer_reconfigure(p, op->has_mode ? op->mode : p->np.mode, psk);
		ct_wipe(psk, sizeof(psk));
		/* A stronger mode does not let the weaker session carry on:
		 * it ends now, and the next packet handshakes in the new mode. */
		if (stronger)
			dv_peer_expire_session(p);
	}
	if (op->mldsa_pk &&
	    (!p->np.has_mldsa_pk ||
	     memcmp(op->mldsa_pk, p->np.mldsa_pk, NOISE_MLDSA_PK_LEN))) {
		/* A handshake begun with the old key would be verified
		 * against the new one: drop it, keep the session. */
		dv_index_remove(d, &p->hs_entry);
		dv_peer_hs_release(p);
		if (dv_peer_set_mldsa_pk(p, op->mldsa_pk) < 0)
			return ENOMEM;
	}
	if (op->has_endpoint)
		dv_peer_set_endpoint(p, (const struct sockaddr *)&op->endpoint,
				     op->endpoint_len);
	if (op->replace_aips)
		dv_allowedips_remove_peer(&d->aips, p);
	for (size_t i = 0; i < op->n_aips; i++)
		if (dv_allowedips_insert(&d->aips, op->aips[i].family,
					 op->aips[i].addr, op->aips[i].cidr,
					 p) < 0)
			return ENOMEM;
	enable_keepalive = op->has_keepalive && op->keepalive &&
			   !p->persistent_keepalive;
	if (op->has_keepalive) {
		p->persistent_keepalive = op->keepalive;
		if (!op->keepalive)
			p->t_persistent = 0;
	}
	/* As WireGuard: turning persistent keepalive on sends one now, so a
	 * peer behind NAT becomes reachable without waiting for traffic. */
	if (enable_keepalive && p->endpoint_len)
		dv_send_keepalive(p);
	return 0;
}

static int uapi_set(struct dv_device *d, const char *body, size_t len)
{
	uint32_t old_fwmark = d->fwmark;
	struct plan pl;
	int rc;

	memset(&pl, 0, sizeof(pl));
	rc = plan_parse(d, &pl, body, len);
	if (!rc && !plan_check(d, &pl))
		rc = EINVAL;
	if (rc)
		goto out;
	/* The platform may refuse the fwmark or the port, and only those:
	 * they go first, and a refused port puts the old mark back, so a
	 * refusal leaves everything as it was. The mark goes before the
	 * port because a rebound socket takes the current mark. */
	if (pl.has_fwmark && pl.fwmark != d->fwmark) {
		if (d->io.set_fwmark) {
			int e = d->io.set_fwmark(d->io.arg, pl.fwmark);

			if (e < 0) {
				rc = -e;
				goto out;
			}
		}
		d->fwmark = pl.fwmark;
	}
	if (pl.has_budget)
		d->hs_budget = pl.budget;
	if (pl.has_port && pl.port != d->listen_port) {
		uint16_t bound = pl.port;

		if (d->io.set_listen_port) {
			int e = d->io.set_listen_port(d->io.arg, pl.port, &bound);

			if (e < 0) {
				rc = -e;
				if (d->fwmark != old_fwmark && d->io.set_fwmark)
					d->io.set_fwmark(d->io.arg, old_fwmark);
				d->fwmark = old_fwmark;
				goto out;
			}
		}
		d->listen_port = bound;
	}
	if (pl.replace_peers)
		while (d->peers)
			dv_peer_remove(d->peers);
	if (pl.has_priv)
		set_private_key(d, pl.priv);
	for (size_t i = 0; i < pl.n_peers && !rc; i++)
		rc = apply_peer(d, &pl.peers[i]);
out:
	plan_free(&pl);
	return rc;
}

int dv_uapi_handle(struct dv_device *d, const char *req, size_t len,
		   char **out, size_t *outlen)
{
	struct sbuf b = { *out, *outlen, *outlen, false };
	int rc;

	if (len == 7 && !memcmp(req, "get=1\n\n", 7)) {
		uapi_get(d, &b);
		rc = 0;
	} else if (len >= 6 && !memcmp(req, "set=1\n", 6)) {
		rc = uapi_set(d, req + 6, len - 6);
	} else {
		rc = EINVAL;
	}
	if (rc)
		dv_device_log(d, LOG_INFO, "control request refused: errno=%d", rc);
	sb_printf(&b, "errno=%d\n\n", rc);
	*out = b.s;
	*outlen = b.len;
	return b.oom ? -1 : rc;
}
