/* The device: creation from a config, teardown, the timer loop, logging
 * and the small getters the platform uses. Packet paths are in send.c and
 * receive.c, peers and keypairs in peer.c, the control protocol in uapi.c. */
#include "device/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config/config.h"
#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/ct.h"
#include "device/timers.h"
#include "util/secmem.h"
#include "protocol.h"

uint64_t dv_now(struct dv_device *d)
{
	return d->io.now_ns(d->io.arg);
}

static void vlog(struct dv_device *d, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void vlog(struct dv_device *d, int prio, const char *fmt, va_list ap)
{
	char msg[256];

	if (!d->io.log)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	d->io.log(d->io.arg, prio, msg);
}

void dv_device_log(struct dv_device *d, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(d, prio, fmt, ap);
	va_end(ap);
}

/* Anyone on the path can send us garbage, so drop logs are limited to
 * DV_LOG_BURST lines a second; the count of suppressed lines is reported
 * with the next line that gets through. The counters in d->stats are
 * always exact. */
void dv_device_log_drop(struct dv_device *d, const char *fmt, ...)
{
	uint64_t now = dv_now(d);
	va_list ap;

	if (now - d->log_window_start_ns >= DV_NSEC_PER_SEC) {
		d->log_window_start_ns = now;
		d->log_count = 0;
	}
	if (d->log_count >= DV_LOG_BURST) {
		d->log_suppressed++;
		return;
	}
	d->log_count++;
	if (d->log_suppressed) {
		dv_device_log(d, LOG_DEBUG, "%u similar messages suppressed",
			      d->log_suppressed);
		d->log_suppressed = 0;
	}
	va_start(ap, fmt);
	vlog(d, LOG_DEBUG, fmt, ap);
	va_end(ap);
}

uint32_t dv_random_u32(void)
{
	uint8_t b[4];

	dv_random(b, sizeof(b));
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
	       (uint32_t)b[3] << 24;
}

void dv_device_set_load_threshold(struct dv_device *d, unsigned per_second)
{
	d->load_threshold = per_second;
}

static int add_config_peer(struct dv_device *d, const struct dv_peer_config *pc,
			   char *err, size_t errlen)
{
	struct dv_peer *p;

	if (dv_peer_by_key(d, pc->public_key)) {
		snprintf(err, errlen, "peer at line %u: duplicate public key",
			 pc->line);
		return -1;
	}
	p = dv_peer_new(d, pc->public_key, pc->mode);
	if (!p) {
		snprintf(err, errlen,
			 "peer at line %u: unusable public key or out of memory",
			 pc->line);
		return -1;
	}
	if (pc->has_psk && dv_peer_reconfigure(p, pc->mode, pc->psk) < 0) {
		snprintf(err, errlen, "peer at line %u: bad key", pc->line);
		return -1;
	}
	if (pc->has_mldsa_public_key &&
	    dv_peer_set_mldsa_pk(p, pc->mldsa_public_key) < 0) {
		snprintf(err, errlen, "peer at line %u: out of memory", pc->line);
		return -1;
	}
	snprintf(p->name, sizeof(p->name), "%s", pc->name);
	if (dv_mode_needs_mldsa(pc->mode) &&
	    (!pc->has_mldsa_public_key || !d->local.has_mldsa)) {
		snprintf(err, errlen,
			 "peer at line %u: %s mode needs both ML-DSA keys",
			 pc->line, dv_mode_name(pc->mode));
		return -1;
	}
	for (size_t i = 0; i < pc->n_allowed_ips; i++) {
		const struct dv_cidr *c = &pc->allowed_ips[i];

		if (dv_allowedips_insert(&d->aips, c->family, c->addr,
					 c->prefix, p) < 0) {
			snprintf(err, errlen, "peer at line %u: allowed IP",
				 pc->line);
			return -1;
		}
	}
	if (pc->has_endpoint && pc->endpoint_len)
		dv_peer_set_endpoint(p, (const struct sockaddr *)&pc->endpoint,
				     pc->endpoint_len);
	p->persistent_keepalive = pc->persistent_keepalive;
	dv_timers_device_up(p);
	return 0;
}

_Static_assert(DV_CONFIG_HS_DATAGRAM_DEFAULT == DV_FRAG_BUDGET_DEFAULT &&
	       DV_CONFIG_HS_DATAGRAM_MIN == DV_FRAG_BUDGET_MIN &&
	       DV_CONFIG_HS_DATAGRAM_MAX == DV_MAX_HANDSHAKE_LEN,
	       "handshake_datagram_max bounds are the fragment code's");

struct dv_device *dv_device_new(const struct dv_config *cfg,
				const struct dv_io *io, char *err,
				size_t errlen)
{
	struct dv_device *d;
	int rc;

	if (!io || !io->udp_send || !io->tun_write || !io->now_ns ||
	    !io->wall_ns) {
		snprintf(err, errlen, "device: incomplete io callbacks");
		return NULL;
	}
	/* Locked and out of core dumps: it holds the private keys. */
	d = dv_secmem_calloc(sizeof(*d));
	if (!d) {
		snprintf(err, errlen, "device: out of memory");
		return NULL;
	}
	d->io = *io;
	d->mode = cfg->mode;
	d->mtu = cfg->mtu ? cfg->mtu : DV_CONFIG_MTU_DEFAULT;
	d->hs_budget = cfg->handshake_datagram_max ? cfg->handshake_datagram_max :
						     DV_FRAG_BUDGET_DEFAULT;
	if (d->hs_budget < DV_FRAG_BUDGET_MIN)
		d->hs_budget = DV_FRAG_BUDGET_MIN;
	if (d->hs_budget > DV_MAX_HANDSHAKE_LEN)
		d->hs_budget = DV_MAX_HANDSHAKE_LEN;
	d->listen_port = cfg->listen_port;
	d->fwmark = cfg->fwmark; /* the platform sets it on the socket */
	d->rekey_after_ns = dv_timers_rekey_after_ns_from_env();
	d->load_threshold = DV_LOAD_THRESHOLD;
	d->log_window_start_ns = dv_now(d);
	dv_allowedips_init(&d->aips);
	d->frag = calloc(1, sizeof(*d->frag));
	d->tx = calloc(DV_BATCH_JOBS, sizeof(*d->tx));
	d->rx = calloc(DV_BATCH_JOBS, sizeof(*d->rx));
	if (!d->frag || !d->tx || !d->rx || dv_tables_init(d) < 0) {
		snprintf(err, errlen, "device: out of memory");
		goto fail;
	}

	if (noise_local_init(&d->local, cfg->private_key) < 0) {
		snprintf(err, errlen, "device: unusable private key");
		goto fail;
	}
	d->has_private_key = true;
	if (cfg->has_mldsa_private_key) {
		if (cfg->mldsa_key_len == DV_MLDSA_SEED_LEN)
			rc = noise_local_set_mldsa_seed(&d->local,
							cfg->mldsa_seed_or_sk);
		else
			rc = noise_local_set_mldsa_sk(&d->local,
						      cfg->mldsa_seed_or_sk);
		if (rc < 0) {
			snprintf(err, errlen, "device: unusable ML-DSA key");
			goto fail;
		}
	}
	cookie_checker_init(&d->cookie, d->local.pub);
	if (dv_ratelimit_init(&d->ratelimit) < 0 ||
	    dv_ratelimit_init(&d->cookie_ratelimit) < 0) {
		snprintf(err, errlen, "device: out of memory");
		goto fail;
	}
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (add_config_peer(d, &cfg->peers[i], err, errlen) < 0)
			goto fail;
	return d;
fail:
	dv_device_free(d);
	return NULL;
}

void dv_device_free(struct dv_device *d)
{
	if (!d)
		return;
	if (d->own_workers)
		dv_workers_free(d->workers);
	free(d->tx);
	free(d->rx);
	/* The table first: each peer's removal then has none to prune. */
	dv_allowedips_free(&d->aips);
	while (d->peers)
		dv_peer_remove(d->peers);
	dv_tables_free(d);
	noise_local_clear(&d->local);
	cookie_checker_clear(&d->cookie);
	dv_ratelimit_free(&d->ratelimit);
	dv_ratelimit_free(&d->cookie_ratelimit);
	if (d->frag) {
		/* only the slots that held a partial message need wiping */
		for (unsigned i = 0; i < DV_FRAG_SLOTS; i++)
			if (d->frag->slot[i].used)
				ct_wipe(&d->frag->slot[i], sizeof(d->frag->slot[i]));
		free(d->frag);
	}
	dv_secmem_free(d, sizeof(*d)); /* wipes it all, scratch included */
	dv_aead_scrub();
}

/* Timers are deadlines per peer, scanned only when the earliest one is
 * due (timers_next_ns, lowered by every deadline set) or every few
 * seconds: a wake-up costs nothing per peer, and a scan of 2^20 peers
 * happens only when some timer fires. Nothing armed means nothing can
 * fire before new input arrives, which calls the core anyway; the
 * platform still calls back within a few seconds. */
/* Partial handshake messages are wiped when they expire, even when no
 * fragment arrives to trigger it; *next is lowered to the next expiry. */
static void frag_timers(struct dv_device *d, uint64_t now, uint64_t *next)
{
	uint64_t t;

	if (!d->frag)
		return;
	dv_frag_expire(d->frag, now);
	t = dv_frag_next_expiry(d->frag);
	if (t && t > now && t - now < *next)
		*next = t - now;
}

uint64_t dv_device_timers(struct dv_device *d)
{
	uint64_t now = dv_now(d), next = 5 * DV_NSEC_PER_SEC;
	struct dv_peer *p, *pn;

	if (d->timers_next_ns && now < d->timers_next_ns) {
		next = d->timers_next_ns - now;
		frag_timers(d, now, &next);
		dv_aead_scrub();
		return next;
	}
	d->timers_next_ns = UINT64_MAX; /* deadlines set below lower it */

	for (p = d->peers; p; p = pn) {
		uint64_t t;

		pn = p->next_peer;
		t = dv_timers_run(p, now);
		if (t && t - now < next)
			next = t - now;
	}
	if (!next)
		next = 1;
	if (now + next < d->timers_next_ns)
		d->timers_next_ns = now + next;
	next = d->timers_next_ns > now ? d->timers_next_ns - now : 1;
	frag_timers(d, now, &next);
	/* The end of a batch: the AEAD context forgets the last key (a
	 * keypair freed above, or by the input before, leaves no copy). */
	dv_aead_scrub();
	return next;
}

int dv_device_start_workers(struct dv_device *d, unsigned threads)
{
	struct dv_workers *w;

	if (threads > DV_WORKERS_MAX)
		return -EINVAL;
	w = dv_workers_new(threads ? threads : dv_workers_default());
	if (!w)
		return -errno;
	if (d->own_workers)
		dv_workers_free(d->workers);
	d->workers = w;
	d->own_workers = true;
	return (int)dv_workers_threads(w);
}

void dv_device_share_workers(struct dv_device *d, struct dv_device *from)
{
	if (d->own_workers)
		dv_workers_free(d->workers);
	d->workers = from->workers;
	d->own_workers = false;
}

unsigned dv_device_default_threads(void)
{
	return dv_workers_default();
}

uint16_t dv_device_listen_port(const struct dv_device *d)
{
	return d->listen_port;
}

uint32_t dv_device_fwmark(const struct dv_device *d)
{
	return d->fwmark;
}

size_t dv_device_mtu(const struct dv_device *d)
{
	return d->mtu;
}

void dv_device_set_mtu(struct dv_device *d, size_t mtu)
{
	d->mtu = mtu;
}

void dv_device_set_mode(struct dv_device *d, enum dv_mode mode)
{
	d->mode = mode;
}

int dv_device_peer_keys(const struct dv_device *d, uint8_t (**keys)[DV_KEY_LEN],
			size_t *n)
{
	size_t count = 0, i = 0;

	for (const struct dv_peer *p = d->peers; p; p = p->next_peer)
		count++;
	*n = 0;
	*keys = malloc((count ? count : 1) * DV_KEY_LEN);
	if (!*keys)
		return -1;
	for (const struct dv_peer *p = d->peers; p; p = p->next_peer)
		memcpy((*keys)[i++], p->np.remote_static, DV_KEY_LEN);
	*n = count;
	return 0;
}

int dv_device_mldsa_same(const struct dv_device *d, const struct dv_config *cfg)
{
	struct noise_local *l;
	int r;

	if (!cfg->has_mldsa_private_key || !d->local.has_mldsa)
		return cfg->has_mldsa_private_key == d->local.has_mldsa;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -1;
	/* Compared by public key: the one the peers hold. */
	if (cfg->mldsa_key_len == DV_MLDSA_SEED_LEN)
		r = noise_local_set_mldsa_seed(l, cfg->mldsa_seed_or_sk);
	else
		r = noise_local_set_mldsa_sk(l, cfg->mldsa_seed_or_sk);
	r = r < 0 ? -1 : !memcmp(l->mldsa_pk, d->local.mldsa_pk, NOISE_MLDSA_PK_LEN);
	noise_local_clear(l);
	free(l);
	return r;
}

void dv_device_get_stats(const struct dv_device *d,
			 struct dv_device_stats *st)
{
	*st = d->stats;
}

unsigned dv_device_peer_attempts(struct dv_device *d, const uint8_t pub[DV_KEY_LEN])
{
	struct dv_peer *p = dv_peer_by_key(d, pub);

	return p ? p->initiations_unanswered : 0;
}

int dv_device_peer_set_endpoint(struct dv_device *d, const uint8_t pub[DV_KEY_LEN],
				const struct sockaddr *sa, socklen_t len)
{
	struct dv_peer *p = dv_peer_by_key(d, pub);

	if (!p)
		return -1;
	if (p->endpoint_len == len && !memcmp(&p->endpoint, sa, len))
		return 0;
	dv_peer_set_endpoint(p, sa, len);
	return 1;
}
