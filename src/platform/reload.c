#include "platform/reload.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config/config.h"
#include "crypto/ct.h"
#include "util/wipe.h"

struct buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (!b->s || (size_t)n >= b->cap - b->len) {
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		/* The request holds keys: the old block is wiped. */
		char *ns = dv_wipe_realloc(b->s, b->cap, ncap);

		if (!ns) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = ncap;
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* Keys (preshared keys among them) in hex, in constant time
 * (sodium_bin2hex), 32 bytes at a time, the chunk buffer wiped. */
static void put_hex(struct buf *b, const char *key, const uint8_t *k, size_t n)
{
	char hex[65];

	put(b, "%s=", key);
	for (size_t off = 0; off < n; off += 32) {
		size_t c = n - off < 32 ? n - off : 32;

		sodium_bin2hex(hex, sizeof(hex), k + off, c);
		put(b, "%s", hex);
	}
	put(b, "\n");
	ct_wipe(hex, sizeof(hex));
}

static const struct dv_peer_config *peer_in(const struct dv_config *cfg,
					    const uint8_t key[32])
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, key, 32))
			return &cfg->peers[i];
	return NULL;
}

static int same_sockaddr(const struct sockaddr_storage *a, socklen_t alen,
			 const struct sockaddr_storage *b, socklen_t blen)
{
	if (alen != blen)
		return 0;
	if (!alen)
		return 1;
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a;
		const struct sockaddr_in *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a;
		const struct sockaddr_in6 *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       x->sin6_scope_id == y->sin6_scope_id &&
		       !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
	}
	return 0;
}

static int same_endpoint(const struct dv_peer_config *a, const struct dv_peer_config *b)
{
	return same_sockaddr(&a->endpoint, a->endpoint_len, &b->endpoint, b->endpoint_len);
}

/* "endpoint=..." in the numeric form the control protocol takes. */
static void put_endpoint(struct buf *b, const struct dv_peer_config *pc)
{
	char ip[INET6_ADDRSTRLEN];

	if (pc->endpoint.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&pc->endpoint;

		if (inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)))
			put(b, "endpoint=%s:%u\n", ip, ntohs(s->sin_port));
	} else if (pc->endpoint.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&pc->endpoint;

		if (!inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)))
			return;
		if (s->sin6_scope_id)
			put(b, "endpoint=[%s%%%u]:%u\n", ip, (unsigned)s->sin6_scope_id,
			    ntohs(s->sin6_port));
		else
			put(b, "endpoint=[%s]:%u\n", ip, ntohs(s->sin6_port));
	}
}

int dv_reload_request(const struct dv_config *old, const struct dv_config *neu,
		      const uint8_t (*live)[32], size_t n_live, const char *ifname,
		      char **req, size_t *len, struct dv_reload_summary *sum,
		      char *err, size_t errlen)
{
	static const uint8_t zero[32];
	struct buf b = { NULL, 0, 0, 0 };

	*req = NULL;
	*len = 0;
	memset(sum, 0, sizeof(*sum));
	if (neu->name[0] && strcmp(neu->name, ifname)) {
		snprintf(err, errlen, "%s:%u: key 'name': the interface is %s, the "
			 "file now says %s: renaming needs a restart", neu->path,
			 neu->line_name, ifname, neu->name);
		return -1;
	}
	if (!same_sockaddr(&old->metrics_listen, old->metrics_listen_len,
			   &neu->metrics_listen, neu->metrics_listen_len)) {
		snprintf(err, errlen, "%s:%u: key 'metrics_listen': changed: the "
			 "metrics listener moves only with a restart", neu->path,
			 neu->line_metrics_listen ? neu->line_metrics_listen
						  : neu->line_interface);
		return -1;
	}
	put(&b, "set=1\n");
	put_hex(&b, "private_key", neu->private_key, 32);
	if (neu->listen_port != old->listen_port) {
		put(&b, "listen_port=%u\n", neu->listen_port);
		sum->port_changed = 1;
	}
	if (neu->handshake_datagram_max != old->handshake_datagram_max)
		put(&b, "handshake_datagram_max=%u\n", neu->handshake_datagram_max);
	for (size_t i = 0; i < n_live; i++) {
		if (peer_in(neu, live[i]))
			continue;
		put_hex(&b, "public_key", live[i], 32);
		put(&b, "remove=true\n");
		sum->peers_removed++;
	}
	for (size_t i = 0; i < neu->n_peers; i++) {
		const struct dv_peer_config *pc = &neu->peers[i], *was;
		char text[DV_CIDR_STRLEN];
		int is_live = 0;

		for (size_t j = 0; j < n_live && !is_live; j++)
			is_live = !memcmp(live[j], pc->public_key, 32);
		was = is_live ? peer_in(old, pc->public_key) : NULL;
		if (is_live)
			sum->peers_kept++;
		else
			sum->peers_added++;
		put_hex(&b, "public_key", pc->public_key, 32);
		put_hex(&b, "preshared_key", pc->has_psk ? pc->psk : zero, 32);
		if (pc->endpoint_len && (!was || !same_endpoint(was, pc)))
			put_endpoint(&b, pc);
		put(&b, "persistent_keepalive_interval=%u\n", pc->persistent_keepalive);
		put(&b, "replace_allowed_ips=true\n");
		for (size_t j = 0; j < pc->n_allowed_ips; j++) {
			dv_cidr_format(&pc->allowed_ips[j], text, sizeof(text));
			put(&b, "allowed_ip=%s\n", text);
		}
		put(&b, "mode=%s\n", dv_mode_name(pc->mode));
		if (pc->has_mldsa_public_key)
			put_hex(&b, "mldsa_public_key", pc->mldsa_public_key,
				DV_MLDSA_PK_LEN);
	}
	put(&b, "\n");
	if (b.oom) {
		dv_wipe_free(b.s, b.cap);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*req = b.s;
	*len = b.len;
	return 0;
}

void dv_reload_forget_secrets(struct dv_config *cfg)
{
	ct_wipe(cfg->private_key, sizeof(cfg->private_key));
	ct_wipe(cfg->mldsa_seed_or_sk, sizeof(cfg->mldsa_seed_or_sk));
	for (size_t i = 0; i < cfg->n_peers; i++)
		ct_wipe(cfg->peers[i].psk, sizeof(cfg->peers[i].psk));
}
