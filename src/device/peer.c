/* Peers, their keypairs and the index table.
 *
 * Keypair rules (WireGuard, noise.c add_new_keypair / received_with_keypair):
 * - the initiator may send on new keys at once: they become current, the
 *   old current becomes previous (or, if a next was pending, that next
 *   becomes previous and the old current is dropped);
 * - the responder must wait for the initiator's first data packet, which
 *   proves the initiator derived the same keys: new keys become next, and
 *   previous is dropped; the first data received on next promotes it to
 *   current, and the old current becomes previous.
 * Every local index (pending handshake or keypair) is a random 32-bit value
 * unique in the device's table, so a message names what it answers in
 * O(1) and leaks nothing about how many sessions exist.
 *
 * Both tables (local index -> handshake or keypair, public key -> peer)
 * are chained hash tables doubled when they hold more entries than
 * buckets, so a lookup stays O(1) with a million peers. Indices are random
 * already; public keys are chosen by whoever configures or sends them, so
 * they are hashed with SipHash-2-4 under a random key.
 */
#include "device/internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "crypto/ct.h"
#include "device/timers.h"
#include "util/secmem.h"

static struct dv_index **bucket(struct dv_device *d, uint32_t index)
{
	return &d->index[index & d->index_mask];
}

static size_t key_slot(const struct dv_device *d, const uint8_t pub[DV_KEY_LEN])
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, pub, DV_KEY_LEN, d->keys_hash_key);
	memcpy(&v, h, sizeof(v));
	return (size_t)v & d->keys_mask;
}

int dv_tables_init(struct dv_device *d)
{
	d->index_mask = DV_INDEX_MIN_BUCKETS - 1;
	d->index = calloc(DV_INDEX_MIN_BUCKETS, sizeof(*d->index));
	d->keys_mask = DV_KEY_MIN_BUCKETS - 1;
	d->keys = calloc(DV_KEY_MIN_BUCKETS, sizeof(*d->keys));
	randombytes_buf(d->keys_hash_key, sizeof(d->keys_hash_key));
	return d->index && d->keys ? 0 : -1;
}

void dv_tables_free(struct dv_device *d)
{
	free(d->index);
	free(d->keys);
	d->index = NULL;
	d->keys = NULL;
	while (d->hs_pool_n)
		dv_secmem_free(d->hs_pool[--d->hs_pool_n], sizeof(struct noise_handshake));
}

/* Doubles the index table (best effort: chains just grow on failure). */
static void index_grow(struct dv_device *d)
{
	size_t n = (size_t)d->index_mask + 1, nn = 2 * n;
	struct dv_index **t;

	if (nn > (size_t)UINT32_MAX || !(t = calloc(nn, sizeof(*t))))
		return;
	for (size_t i = 0; i < n; i++) {
		struct dv_index *e = d->index[i], *en;

		for (; e; e = en) {
			en = e->next;
			e->next = t[e->index & (nn - 1)];
			t[e->index & (nn - 1)] = e;
		}
	}
	free(d->index);
	d->index = t;
	d->index_mask = (uint32_t)(nn - 1);
}

static void keys_grow(struct dv_device *d)
{
	size_t n = d->keys_mask + 1;
	struct dv_peer **old = d->keys, **t = calloc(2 * n, sizeof(*t));

	if (!t)
		return;
	d->keys = t;
	d->keys_mask = 2 * n - 1;
	for (size_t i = 0; i < n; i++) {
		struct dv_peer *p = old[i], *pn;

		for (; p; p = pn) {
			size_t s = key_slot(d, p->np.remote_static);

			pn = p->key_next;
			p->key_next = t[s];
			t[s] = p;
		}
	}
	free(old);
}

static void index_link(struct dv_device *d, struct dv_index *e)
{
	e->next = *bucket(d, e->index);
	*bucket(d, e->index) = e;
	if (++d->n_index > (size_t)d->index_mask + 1)
		index_grow(d);
}

struct dv_index *dv_index_find(struct dv_device *d, uint32_t index)
{
	struct dv_index *e;

	for (e = *bucket(d, index); e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

/* Picks a fresh random index for e and links it in. */
void dv_index_insert(struct dv_device *d, struct dv_index *e)
{
	uint32_t idx;

	do
		idx = dv_random_u32();
	while (idx == 0 || dv_index_find(d, idx));
	e->index = idx;
	index_link(d, e);
}

void dv_index_remove(struct dv_device *d, struct dv_index *e)
{
	struct dv_index **pp;

	if (!e->index)
		return;
	for (pp = bucket(d, e->index); *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			d->n_index--;
			break;
		}
	}
	e->index = 0;
	e->next = NULL;
}

struct dv_peer *dv_peer_by_key(struct dv_device *d, const uint8_t pub[DV_KEY_LEN])
{
	struct dv_peer *p;

	for (p = d->keys[key_slot(d, pub)]; p; p = p->key_next)
		if (!memcmp(p->np.remote_static, pub, DV_KEY_LEN))
			return p;
	return NULL;
}

int dv_peer_hs_acquire(struct dv_peer *p)
{
	struct dv_device *d = p->dev;

	if (p->np.hs)
		return 0;
	if (d->hs_pool_n)
		p->np.hs = d->hs_pool[--d->hs_pool_n];
	else
		p->np.hs = dv_secmem_calloc(sizeof(*p->np.hs));
	return p->np.hs ? 0 : -1;
}

void dv_peer_hs_release(struct dv_peer *p)
{
	struct dv_device *d = p->dev;
	struct noise_handshake *hs = p->np.hs;

	if (!hs)
		return;
	p->np.hs = NULL;
	noise_handshake_clear(hs);
	if (d->hs_pool_n < DV_HS_POOL_MAX)
		d->hs_pool[d->hs_pool_n++] = hs;
	else
		dv_secmem_free(hs, sizeof(*hs));
}

void dv_peer_hs_trim(struct dv_peer *p)
{
	if (p->np.hs && p->np.hs->state == NOISE_HS_ZEROED)
		dv_peer_hs_release(p);
}

int dv_peer_set_mldsa_pk(struct dv_peer *p, const uint8_t pk[NOISE_MLDSA_PK_LEN])
{
	if (!p->mldsa_pk && !(p->mldsa_pk = malloc(NOISE_MLDSA_PK_LEN)))
		return -1;
	memcpy(p->mldsa_pk, pk, NOISE_MLDSA_PK_LEN);
	noise_peer_set_mldsa_pk(&p->np, p->mldsa_pk);
	return 0;
}

const char *dv_peer_str(const struct dv_peer *p, char buf[DV_PEER_STR_LEN])
{
	dv_key_encode(buf, DV_PEER_STR_LEN, p->np.remote_static, DV_KEY_LEN);
	return buf;
}

struct dv_peer *dv_peer_new(struct dv_device *d, const uint8_t pub[DV_KEY_LEN],
			    enum dv_mode mode)
{
	static const uint8_t zero_psk[DV_KEY_LEN];
	struct dv_peer *p = dv_secmem_calloc(sizeof(*p)); /* its preshared key */
	size_t s;

	if (!p)
		return NULL;
	p->dev = d;
	p->np.user = p;
	if (noise_peer_init(&p->np, &d->local, mode, pub, zero_psk) < 0) {
		dv_secmem_free(p, sizeof(*p));
		return NULL;
	}
	cookie_maker_init(&p->cookie, pub);
	/* Appended, so `wg show` lists peers in configuration order. */
	p->prev_peer = d->peers_tail;
	if (d->peers_tail)
		d->peers_tail->next_peer = p;
	else
		d->peers = p;
	d->peers_tail = p;
	s = key_slot(d, pub);
	p->key_next = d->keys[s];
	d->keys[s] = p;
	if (++d->n_peers > d->keys_mask + 1)
		keys_grow(d);
	return p;
}

int dv_peer_reconfigure(struct dv_peer *p, enum dv_mode mode,
			const uint8_t psk[DV_KEY_LEN])
{
	uint8_t pub[DV_KEY_LEN], ts[DV_TAI64N_LEN];
	uint8_t ts_mode[DV_TAI64N_LEN], ts_sig[DV_TAI64N_LEN];
	bool has_mldsa = p->np.has_mldsa_pk && p->mldsa_pk;
	int rc;

	/* noise_peer_init resets the peer; keep what identifies it and the
	 * replay timestamp, so old initiations stay refused. */
	memcpy(pub, p->np.remote_static, sizeof(pub));
	memcpy(ts, p->np.latest_timestamp, sizeof(ts));
	memcpy(ts_mode, p->np.refused_mode_timestamp, sizeof(ts_mode));
	memcpy(ts_sig, p->np.failed_sig_timestamp, sizeof(ts_sig));
	dv_index_remove(p->dev, &p->hs_entry);
	rc = noise_peer_init(&p->np, &p->dev->local, mode, pub, psk);
	p->np.user = p;
	dv_peer_hs_release(p);
	memcpy(p->np.latest_timestamp, ts, sizeof(ts));
	memcpy(p->np.refused_mode_timestamp, ts_mode, sizeof(ts_mode));
	memcpy(p->np.failed_sig_timestamp, ts_sig, sizeof(ts_sig));
	if (has_mldsa)
		noise_peer_set_mldsa_pk(&p->np, p->mldsa_pk);
	return rc < 0 ? -1 : 0;
}

void dv_peer_set_endpoint(struct dv_peer *p, const struct sockaddr *sa,
			  socklen_t len)
{
	if (len > sizeof(p->endpoint))
		return;
	if (len == p->endpoint_len && !memcmp(&p->endpoint, sa, len))
		return;
	memset(&p->endpoint, 0, sizeof(p->endpoint));
	memcpy(&p->endpoint, sa, len);
	p->endpoint_len = len;
}

/* Its index goes at once (no new packet finds it); its memory, when a
 * batch is being finished, at the batch's end. */
static void keypair_free(struct dv_device *d, struct dv_keypair *kp)
{
	if (!kp)
		return;
	dv_index_remove(d, &kp->entry);
	if (d->defer_free) {
		kp->dead_next = d->dead;
		d->dead = kp;
		return;
	}
	dv_secmem_free(kp, sizeof(*kp)); /* wiped */
}

void dv_keypairs_reap(struct dv_device *d)
{
	while (d->dead) {
		struct dv_keypair *kp = d->dead;

		d->dead = kp->dead_next;
		dv_secmem_free(kp, sizeof(*kp)); /* wiped */
	}
}

int dv_peer_add_keypair(struct dv_peer *p, const struct noise_keypair *k)
{
	struct dv_device *d = p->dev;
	struct dv_keypair *kp = dv_secmem_calloc(sizeof(*kp)); /* zeroed */

	if (!kp)
		return -1;
	kp->k = *k;
	kp->birth_ns = dv_now(d);
	dv_replay_init(&kp->replay);
	/* The handshake's index now names the keypair: data messages carry
	 * the index we sent in our handshake message. */
	kp->entry.kind = DV_INDEX_KEYPAIR;
	kp->entry.peer = p;
	kp->entry.keypair = kp;
	kp->entry.index = k->local_index;
	dv_index_remove(d, &p->hs_entry);
	index_link(d, &kp->entry);

	if (k->initiator) {
		if (p->next) {
			keypair_free(d, p->prev);
			p->prev = p->next;
			p->next = NULL;
			keypair_free(d, p->cur);
		} else {
			keypair_free(d, p->prev);
			p->prev = p->cur;
		}
		p->cur = kp;
	} else {
		keypair_free(d, p->next);
		p->next = kp;
		keypair_free(d, p->prev);
		p->prev = NULL;
	}
	return 0;
}

void dv_peer_promote_next(struct dv_peer *p)
{
	keypair_free(p->dev, p->prev);
	p->prev = p->cur;
	p->cur = p->next;
	p->next = NULL;
}

void dv_peer_clear_keys(struct dv_peer *p)
{
	struct dv_device *d = p->dev;

	keypair_free(d, p->prev);
	keypair_free(d, p->cur);
	keypair_free(d, p->next);
	p->prev = p->cur = p->next = NULL;
	dv_index_remove(d, &p->hs_entry);
	dv_peer_hs_release(p);
}

void dv_peer_expire_session(struct dv_peer *p)
{
	dv_peer_clear_keys(p);
	p->sent_initiation = false;
	p->handshake_attempts = 0;
	p->t_retransmit = 0;
}

void dv_peer_stage(struct dv_peer *p, const uint8_t *pkt, size_t len)
{
	struct dv_staged *s;
	uint8_t *buf;

	if (!p->staged &&
	    !(p->staged = calloc(DV_STAGED_MAX, sizeof(*p->staged)))) {
		p->dev->stats.tx_staged_dropped++;
		return;
	}
	if (p->staged_count == DV_STAGED_MAX) {
		/* Keep the newest packets, as WireGuard does. */
		s = &p->staged[p->staged_head];
		free(s->buf);
		s->buf = NULL;
		p->staged_head = (p->staged_head + 1) % DV_STAGED_MAX;
		p->staged_count--;
		p->dev->stats.tx_staged_dropped++;
	}
	buf = malloc(DV_HEADROOM + len + DV_TAILROOM);
	if (!buf) {
		p->dev->stats.tx_staged_dropped++;
		return;
	}
	memcpy(buf + DV_HEADROOM, pkt, len);
	s = &p->staged[(p->staged_head + p->staged_count) % DV_STAGED_MAX];
	s->buf = buf;
	s->len = len;
	p->staged_count++;
}

void dv_peer_purge_staged(struct dv_peer *p)
{
	while (p->staged_count) {
		struct dv_staged *s = &p->staged[p->staged_head];

		ct_wipe(s->buf + DV_HEADROOM, s->len);
		free(s->buf);
		s->buf = NULL;
		p->staged_head = (p->staged_head + 1) % DV_STAGED_MAX;
		p->staged_count--;
	}
	p->staged_head = 0;
	free(p->staged);
	p->staged = NULL;
}

void dv_peer_remove(struct dv_peer *p)
{
	struct dv_device *d = p->dev;
	struct dv_peer **pp;

	if (p->prev_peer)
		p->prev_peer->next_peer = p->next_peer;
	else
		d->peers = p->next_peer;
	if (p->next_peer)
		p->next_peer->prev_peer = p->prev_peer;
	else
		d->peers_tail = p->prev_peer;
	for (pp = &d->keys[key_slot(d, p->np.remote_static)]; *pp;
	     pp = &(*pp)->key_next) {
		if (*pp == p) {
			*pp = p->key_next;
			break;
		}
	}
	d->n_peers--;
	dv_timers_stop(p);
	dv_allowedips_remove_peer(&d->aips, p);
	dv_peer_clear_keys(p);
	dv_peer_purge_staged(p);
	noise_peer_clear(&p->np);
	free(p->mldsa_pk);
	dv_secmem_free(p, sizeof(*p)); /* wiped */
}
