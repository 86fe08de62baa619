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
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "config/addr.h"
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
 * buffer; encoded in constant time (sodium_bin2hex: no table indexed by
 * a secret nibble) and the chunk buffer wiped, as the private key passes
 * here. */
static void sb_hex(struct sbuf *b, const char *key, const uint8_t *k, size_t n)
{
	char hex[2 * DV_KEY_LEN + 1];

	sb_printf(b, "%s=", key);
	for (size_t off = 0; off < n; off += DV_KEY_LEN) {
		size_t c = n - off < DV_KEY_LEN ? n - off : DV_KEY_LEN;

		sodium_bin2hex(hex, sizeof(hex), k + off, c);
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

static void uapi_get_device(struct dv_device *d, struct sbuf *b)
{
	if (d->has_private_key)
		sb_hex(b, "private_key", d->local.priv, DV_KEY_LEN);
	if (d->listen_port)
		sb_printf(b, "listen_port=%u\n", d->listen_port);
	if (d->fwmark)
		sb_printf(b, "fwmark=%" PRIu32 "\n", d->fwmark);
	sb_printf(b, "handshake_datagram_max=%zu\n", d->hs_budget);
	put_drops(d, b);
}

struct snap_aip {
	uint32_t peer; /* index into the snapshot */
	uint8_t family, cidr;
	uint8_t addr[16];
};

static void uapi_get_peer(struct dv_device *d, struct dv_peer *p,
			  const struct snap_aip *aips, size_t n_aips,
			  struct sbuf *b)
{
	{
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
		if (!aips) /* not in the snapshot: walk the table for it */
			dv_allowedips_walk(&d->aips, p, put_allowed_ip, b);
		for (size_t i = 0; aips && i < n_aips; i++)
			put_allowed_ip(b, aips[i].family, aips[i].addr,
				       aips[i].cidr);
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

/* A set request is staged whole before anything applies, compactly (about
 * 150 bytes per peer entry, 18 per allowed IP, less than the text they
 * come from), and bounded: at most DV_UAPI_PEERS_MAX peer entries and
 * DV_UAPI_AIPS_MAX allowed IPs per request. */
struct aip {
	uint8_t family; /* 4 or 6 */
	uint8_t cidr;
	uint8_t addr[16];
};

struct peer_op {
	uint8_t pub[DV_KEY_LEN];
	uint8_t psk[DV_KEY_LEN];
	union {
		struct sockaddr sa;
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} endpoint;
	uint8_t *mldsa_pk; /* NOISE_MLDSA_PK_LEN bytes when given, else NULL */
	uint32_t aip_first, n_aips; /* into plan.aips */
	uint32_t prev;     /* the previous entry for the same key, or NO_OP */
	uint16_t keepalive;
	uint8_t endpoint_len;
	uint8_t mode, after_mode; /* enum dv_mode */
	bool ignore; /* our own public key: wireguard-go skips such a peer */
	bool remove, update_only, replace_aips;
	bool has_psk, has_endpoint, has_keepalive, has_mode;
	/* The peer after this entry, worked out by plan_check: it decides
	 * whether a later entry for the same key may go pqonly. */
	bool after_exists, after_has_mldsa, after_ok;
	bool has_later; /* a later entry names the same key */
};

#define NO_OP UINT32_MAX

struct plan {
	bool has_priv, has_port, has_fwmark, has_budget, replace_peers;
	uint8_t priv[DV_KEY_LEN];
	unsigned budget; /* handshake_datagram_max */
	uint16_t port;
	uint32_t fwmark;
	struct peer_op *peers;
	size_t n_peers, cap_peers;
	struct aip *aips;
	size_t n_aips, cap_aips;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_peers; i++)
		free(pl->peers[i].mldsa_pk);
	if (pl->peers)
		ct_wipe(pl->peers, pl->cap_peers * sizeof(*pl->peers));
	free(pl->peers);
	free(pl->aips);
	ct_wipe(pl->priv, sizeof(pl->priv));
	memset(pl, 0, sizeof(*pl));
}

/* Hex of exactly n bytes, decoded in constant time (libsodium's
 * sodium_hex2bin): keys pass here. */
static bool parse_hex(uint8_t *out, size_t n, const char *v)
{
	size_t got = 0;

	return strlen(v) == 2 * n &&
	       sodium_hex2bin(out, n, v, 2 * n, NULL, &got, NULL) == 0 &&
	       got == n;
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

/* Numeric endpoints only (`wg` resolves names before it sends them), by
 * the config's parser: "1.2.3.4:51820", "[2001:db8::1]:51820",
 * "[fe80::1%eth0]:51820". */
static bool parse_endpoint(const char *v, struct peer_op *op)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char why[128];

	if (dv_endpoint_parse(v, 1, &ss, &len, why, sizeof(why)) < 0 ||
	    !len || len > sizeof(op->endpoint))
		return false;
	memcpy(&op->endpoint, &ss, len);
	op->endpoint_len = (uint8_t)len;
	return true;
}

/* "ADDR/PREFIX", by the config's parser (host bits allowed: the table
 * keeps the prefix, as WireGuard's does). */
static bool parse_aip(const char *v, struct aip *a)
{
	struct dv_cidr c;
	char why[128];

	if (!strchr(v, '/') ||
	    dv_cidr_parse(v, &c, DV_CIDR_HOST_BITS_OK, why, sizeof(why)) < 0)
		return false;
	a->family = c.family == AF_INET ? 4 : 6;
	a->cidr = c.prefix;
	memcpy(a->addr, c.addr, sizeof(a->addr));
	return true;
}

static bool grow(void **arr, size_t *cap, size_t n, size_t elem, bool wipe)
{
	void *na;
	size_t ncap;

	if (n < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	/* The peer operations hold preshared keys: that array is wiped. */
	na = wipe ? dv_wipe_realloc(*arr, *cap * elem, ncap * elem)
		  : realloc(*arr, ncap * elem);
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
static bool plan_line(struct plan *pl, const char *key, const char *v,
		      int *err)
{
	struct peer_op *op = pl->n_peers ? &pl->peers[pl->n_peers - 1] : NULL;
	uint64_t n;

	if (!strcmp(key, "public_key")) {
		if (pl->n_peers >= DV_UAPI_PEERS_MAX)
			return false;
		if (!grow((void **)&pl->peers, &pl->cap_peers, pl->n_peers,
			  sizeof(*pl->peers), true)) {
			*err = ENOMEM;
			return false;
		}
		op = &pl->peers[pl->n_peers++];
		op->aip_first = (uint32_t)pl->n_aips;
		op->prev = NO_OP;
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
		return (op->has_endpoint = parse_endpoint(v, op));
	if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_uint(v, 65535, &n))
			return false;
		op->has_keepalive = true;
		op->keepalive = (uint16_t)n;
		return true;
	}
	if (!strcmp(key, "replace_allowed_ips")) {
		/* Replaces what came before, in this request too: the entry's
		 * allowed IPs are the last ones of the plan. */
		pl->n_aips = op->aip_first;
		op->n_aips = 0;
		return (op->replace_aips = !strcmp(v, "true"));
	}
	if (!strcmp(key, "allowed_ip")) {
		if (pl->n_aips >= DV_UAPI_AIPS_MAX)
			return false;
		if (!grow((void **)&pl->aips, &pl->cap_aips, pl->n_aips,
			  sizeof(*pl->aips), false)) {
			*err = ENOMEM;
			return false;
		}
		if (!parse_aip(v, &pl->aips[pl->n_aips]))
			return false;
		pl->n_aips++;
		op->n_aips++;
		return true;
	}
	if (!strcmp(key, "protocol_version"))
		return !strcmp(v, "1");
	if (!strcmp(key, "mode")) {
		enum dv_mode m;

		op->has_mode = dv_mode_parse(v, &m) == 0;
		op->mode = (uint8_t)m;
		return op->has_mode;
	}
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

/* Works out the peer op leaves behind (exists, mode, ML-DSA key), from
 * the last earlier entry for the same key or else from the device;
 * after_ok is false when it would be pqonly without both ML-DSA keys. */
static void plan_peer_state(struct dv_device *d, struct plan *pl, size_t i)
{
	struct peer_op *op = &pl->peers[i];
	struct peer_op *prev = op->prev != NO_OP ? &pl->peers[op->prev] : NULL;
	struct dv_peer *p;

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

	/* An entry followed by another for the same key is judged at the
	 * last one. */
	return op->ignore || op->after_ok || op->has_later;
}

/* Links each entry to the previous one for the same key (prev,
 * has_later) through a hash table of the plan (SipHash under the
 * device's random key: the keys are chosen by the client), so a request
 * of 2^20 entries is checked in O(n). */
static bool plan_link(struct dv_device *d, struct plan *pl)
{
	size_t size = 16, mask;
	uint32_t *slot;

	while (size < 2 * pl->n_peers)
		size *= 2;
	mask = size - 1;
	slot = malloc(size * sizeof(*slot));
	if (!slot)
		return false;
	memset(slot, 0xff, size * sizeof(*slot)); /* NO_OP */
	for (size_t i = 0; i < pl->n_peers; i++) {
		struct peer_op *op = &pl->peers[i];
		uint8_t h[crypto_shorthash_BYTES];
		uint64_t v;
		size_t k;

		crypto_shorthash(h, op->pub, DV_KEY_LEN, d->keys_hash_key);
		memcpy(&v, h, sizeof(v));
		for (k = (size_t)v & mask; slot[k] != NO_OP; k = (k + 1) & mask)
			if (!memcmp(pl->peers[slot[k]].pub, op->pub, DV_KEY_LEN))
				break;
		if (slot[k] != NO_OP) {
			op->prev = slot[k];
			pl->peers[slot[k]].has_later = true;
		}
		slot[k] = (uint32_t)i;
	}
	free(slot);
	return true;
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
	if (!plan_link(d, pl))
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

static int apply_peer(struct dv_device *d, const struct plan *pl,
		      const struct peer_op *op)
{
	struct dv_peer *p = dv_peer_by_key(d, op->pub);
	bool enable_keepalive, created = false;

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
		created = true;
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
		dv_peer_set_endpoint(p, &op->endpoint.sa, op->endpoint_len);
	if (op->replace_aips && !created) /* a new peer has none (O(n) walk) */
		dv_allowedips_remove_peer(&d->aips, p);
	for (size_t i = 0; i < op->n_aips; i++) {
		const struct aip *a = &pl->aips[op->aip_first + i];

		if (dv_allowedips_insert(&d->aips,
					 a->family == 4 ? AF_INET : AF_INET6,
					 a->addr, a->cidr, p) < 0)
			return ENOMEM;
	}
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

/* Checks the parsed plan whole, then applies it; frees it. 0 or an
 * errno. */
static int uapi_set(struct dv_device *d, struct plan *pl)
{
	uint32_t old_fwmark = d->fwmark;
	int rc = 0;

	if (!plan_check(d, pl)) {
		rc = EINVAL;
		goto out;
	}
	/* The platform may refuse the fwmark or the port, and only those:
	 * they go first, and a refused port puts the old mark back, so a
	 * refusal leaves everything as it was. The mark goes before the
	 * port because a rebound socket takes the current mark. */
	if (pl->has_fwmark && pl->fwmark != d->fwmark) {
		if (d->io.set_fwmark) {
			int e = d->io.set_fwmark(d->io.arg, pl->fwmark);

			if (e < 0) {
				rc = -e;
				goto out;
			}
		}
		d->fwmark = pl->fwmark;
	}
	if (pl->has_budget)
		d->hs_budget = pl->budget;
	if (pl->has_port && pl->port != d->listen_port) {
		uint16_t bound = pl->port;

		if (d->io.set_listen_port) {
			int e = d->io.set_listen_port(d->io.arg, pl->port, &bound);

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
	if (pl->replace_peers) {
		/* The table goes whole first, so each removal is O(1). */
		dv_allowedips_free(&d->aips);
		dv_allowedips_init(&d->aips);
		while (d->peers)
			dv_peer_remove(d->peers);
	}
	if (pl->has_priv)
		set_private_key(d, pl->priv);
	for (size_t i = 0; i < pl->n_peers && !rc; i++)
		rc = apply_peer(d, pl, &pl->peers[i]);
out:
	plan_free(pl);
	return rc;
}

/* ---- a request, line by line ---- */

/* Peers written per dv_uapi_req_output call of a get response. */
#define GET_CHUNK 128

/* A peer of a get snapshot: its key, and its allowed IPs as they were. */
struct snap_peer {
	uint8_t key[DV_KEY_LEN];
	const struct dv_peer *p; /* at snapshot time; only compared */
	uint32_t aip_first, n_aips;
};

enum req_state {
	REQ_START,    /* no line yet */
	REQ_GET,      /* "get=1" seen */
	REQ_SET,      /* "set=1" seen: lines go into the plan */
	REQ_BAD,      /* refused: lines are skipped until the blank one */
	REQ_OUT_GET,  /* answering a get, GET_CHUNK peers at a time */
	REQ_OUT_DONE, /* the errno line is all that is left */
};

struct dv_uapi_req {
	struct dv_device *d;
	enum req_state state;
	int rc;
	struct plan pl;
	/* A get lists the peers there were when it was asked, by key: a peer
	 * removed while the response is written is left out. */
	struct snap_peer *snap;
	size_t n_keys, next_key;
	struct snap_aip *aips; /* by peer, each peer's in walk order */
	size_t n_aips;
};

struct dv_uapi_req *dv_uapi_req_new(struct dv_device *d)
{
	struct dv_uapi_req *r = calloc(1, sizeof(*r));

	if (r)
		r->d = d;
	return r;
}

static void req_reset(struct dv_uapi_req *r)
{
	plan_free(&r->pl);
	free(r->snap);
	free(r->aips);
	r->snap = NULL;
	r->aips = NULL;
	r->n_keys = r->next_key = r->n_aips = 0;
	r->state = REQ_START;
	r->rc = 0;
}

void dv_uapi_req_free(struct dv_uapi_req *r)
{
	if (!r)
		return;
	req_reset(r);
	free(r);
}

static void req_refuse(struct dv_uapi_req *r, int rc)
{
	plan_free(&r->pl); /* what a refused request staged goes at once */
	r->rc = rc;
	r->state = REQ_BAD;
}

/* ---- get: a snapshot, answered a part at a time ---- */

struct ptr_idx {
	const void *p;
	uint32_t i;
};

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct ptr_idx *)a)->p;
	uintptr_t y = (uintptr_t)((const struct ptr_idx *)b)->p;

	return (x > y) - (x < y);
}

struct snap_walk {
	struct dv_uapi_req *r;
	const struct ptr_idx *by_ptr;
	struct snap_aip *tmp;
	size_t n;
};

static void snap_aip(void *arg, const void *peer, int family,
		     const uint8_t *addr, unsigned cidr)
{
	struct snap_walk *w = arg;
	struct ptr_idx key = { peer, 0 };
	const struct ptr_idx *hit = bsearch(&key, w->by_ptr, w->r->n_keys,
					    sizeof(key), cmp_ptr);
	struct snap_aip *a;

	if (!hit)
		return;
	a = &w->tmp[w->n++];
	a->peer = hit->i;
	a->family = (uint8_t)family;
	a->cidr = (uint8_t)cidr;
	memcpy(a->addr, addr, sizeof(a->addr));
	w->r->snap[hit->i].n_aips++;
}

static void count_aip(void *arg, const void *peer, int family,
		      const uint8_t *addr, unsigned cidr)
{
	(void)peer, (void)family, (void)addr, (void)cidr;
	(*(size_t *)arg)++;
}

/* The peers (keys, in configuration order) and every allowed IP, taken
 * in one pass of the table: a get of 2^20 peers is O(n log n), and what
 * it lists is what the device held when it was asked. 0, or -1 when
 * memory ran out. */
static int get_snapshot(struct dv_uapi_req *r)
{
	struct dv_device *d = r->d;
	size_t n = d->n_peers, n_aips = 0, i = 0, pos = 0;
	struct ptr_idx *by_ptr;
	struct snap_walk w = { r, NULL, NULL, 0 };

	dv_allowedips_walk_all(&d->aips, count_aip, &n_aips);
	r->snap = calloc(n ? n : 1, sizeof(*r->snap));
	r->aips = malloc((n_aips ? n_aips : 1) * sizeof(*r->aips));
	by_ptr = malloc((n ? n : 1) * sizeof(*by_ptr));
	w.tmp = malloc((n_aips ? n_aips : 1) * sizeof(*w.tmp));
	if (!r->snap || !r->aips || !by_ptr || !w.tmp) {
		free(by_ptr);
		free(w.tmp);
		return -1;
	}
	for (struct dv_peer *p = d->peers; p && i < n; p = p->next_peer, i++) {
		memcpy(r->snap[i].key, p->np.remote_static, DV_KEY_LEN);
		r->snap[i].p = p;
		by_ptr[i].p = p;
		by_ptr[i].i = (uint32_t)i;
	}
	r->n_keys = i;
	qsort(by_ptr, r->n_keys, sizeof(*by_ptr), cmp_ptr);
	w.by_ptr = by_ptr;
	dv_allowedips_walk_all(&d->aips, snap_aip, &w);
	/* Grouped by peer, in walk order within each (a counting sort). */
	for (i = 0; i < r->n_keys; i++) {
		r->snap[i].aip_first = (uint32_t)pos;
		pos += r->snap[i].n_aips;
		r->snap[i].n_aips = 0;
	}
	for (i = 0; i < w.n; i++) {
		struct snap_peer *sp = &r->snap[w.tmp[i].peer];

		r->aips[sp->aip_first + sp->n_aips++] = w.tmp[i];
	}
	r->n_aips = w.n;
	free(by_ptr);
	free(w.tmp);
	return 0;
}

/* The blank line: the request is complete. */
static int req_end(struct dv_uapi_req *r)
{
	struct dv_device *d = r->d;

	switch (r->state) {
	case REQ_GET:
		if (get_snapshot(r) < 0)
			return -1;
		r->state = REQ_OUT_GET;
		return 1;
	case REQ_SET:
		r->rc = uapi_set(d, &r->pl);
		break;
	case REQ_START: /* a blank line alone */
		r->rc = EINVAL;
		break;
	default:
		break;
	}
	r->state = REQ_OUT_DONE;
	return 1;
}

int dv_uapi_req_line(struct dv_uapi_req *r, const char *line, size_t len)
{
	/* The longest line is an ML-DSA-65 public key in hex. */
	char buf[sizeof("mldsa_public_key=") + 2 * NOISE_MLDSA_PK_LEN];
	int err = EINVAL;
	char *eq;
	bool ok;

	if (r->state == REQ_OUT_GET || r->state == REQ_OUT_DONE)
		return -1; /* the caller must take the response first */
	if (len == 0)
		return req_end(r);
	if (r->state == REQ_BAD)
		return 0;
	if (memchr(line, 0, len) || len >= sizeof(buf)) {
		req_refuse(r, EINVAL);
		return 0;
	}
	if (r->state == REQ_START) {
		if (len == 5 && !memcmp(line, "get=1", 5))
			r->state = REQ_GET;
		else if (len == 5 && !memcmp(line, "set=1", 5))
			r->state = REQ_SET;
		else
			req_refuse(r, EINVAL);
		return 0;
	}
	if (r->state == REQ_GET) {
		req_refuse(r, EINVAL);
		return 0;
	}
	memcpy(buf, line, len);
	buf[len] = 0;
	eq = strchr(buf, '=');
	if (eq) {
		*eq = 0;
		ok = plan_line(&r->pl, buf, eq + 1, &err);
	} else {
		ok = false;
	}
	ct_wipe(buf, len + 1);
	if (!ok)
		req_refuse(r, err);
	return 0;
}

int dv_uapi_req_output(struct dv_uapi_req *r, char **out, size_t *outlen)
{
	struct sbuf b = { *out, *outlen, *outlen, false };
	struct dv_device *d = r->d;
	int more = 0;

	if (r->state == REQ_OUT_GET) {
		size_t end = r->next_key + GET_CHUNK;

		if (r->next_key == 0)
			uapi_get_device(d, &b);
		if (end > r->n_keys)
			end = r->n_keys;
		for (; r->next_key < end; r->next_key++) {
			const struct snap_peer *sp = &r->snap[r->next_key];
			struct dv_peer *p = dv_peer_by_key(d, sp->key);

			/* A peer removed since is left out; one removed and
			 * added again is listed with its allowed IPs now. */
			if (p && p == sp->p)
				uapi_get_peer(d, p, r->aips + sp->aip_first,
					      sp->n_aips, &b);
			else if (p)
				uapi_get_peer(d, p, NULL, 0, &b);
		}
		if (r->next_key < r->n_keys)
			more = 1;
		else
			r->state = REQ_OUT_DONE;
	}
	if (r->state == REQ_OUT_DONE) {
		if (r->rc)
			dv_device_log(d, LOG_INFO,
				      "control request refused: errno=%d", r->rc);
		sb_printf(&b, "errno=%d\n\n", r->rc);
		req_reset(r);
	}
	*out = b.s;
	*outlen = b.len;
	return b.oom ? -1 : more;
}

int dv_uapi_handle(struct dv_device *d, const char *req, size_t len,
		   char **out, size_t *outlen)
{
	struct dv_uapi_req r = { .d = d };
	size_t i = 0;
	int rc, more;

	/* One request, its blank line at the very end (or a blank line
	 * alone); anything else is refused without being looked at. */
	if (!len || req[len - 1] != '\n' ||
	    (len > 1 && (req[0] == '\n' || req[len - 2] != '\n')) ||
	    (len > 2 && memmem(req, len, "\n\n", 2) != req + len - 2)) {
		r.state = REQ_OUT_DONE;
		r.rc = EINVAL;
	}
	while (r.state != REQ_OUT_DONE && r.state != REQ_OUT_GET) {
		const char *nl = memchr(req + i, '\n', len - i);

		if (dv_uapi_req_line(&r, req + i, (size_t)(nl - (req + i))) < 0) {
			req_reset(&r);
			return -1;
		}
		i = (size_t)(nl - req) + 1;
	}
	rc = r.rc;
	do
		more = dv_uapi_req_output(&r, out, outlen);
	while (more > 0);
	req_reset(&r);
	return more < 0 ? -1 : rc;
}
