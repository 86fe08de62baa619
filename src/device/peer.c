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
 */
#include "device/internal.h"

#include <stdlib.h>
#include <string.h>

#include "config/keys.h"
#include "crypto/ct.h"
#include "device/timers.h"

static struct dv_index **bucket(struct dv_device *d, uint32_t index)
{
	return &d->index[index & (DV_INDEX_BUCKETS - 1)];
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
	e->next = *bucket(d, idx);
	*bucket(d, idx) = e;
}

void dv_index_remove(struct dv_device *d, struct dv_index *e)
{
	struct dv_index **pp;

	if (!e->index)
		return;
	for (pp = bucket(d, e->index); *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	e->index = 0;
	e->next = NULL;
}

struct dv_peer *dv_peer_by_key(struct dv_device *d, const uint8_t pub[DV_KEY_LEN])
{
	struct dv_peer *p;

	for (p = d->peers; p; p = p->next_peer)
		if (!memcmp(p->np.remote_static, pub, DV_KEY_LEN))
			return p;
	return NULL;
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
	struct dv_peer *p = calloc(1, sizeof(*p)), **pp;

	if (!p)
		return NULL;
	p->dev = d;
	p->np.user = p;
	if (noise_peer_init(&p->np, &d->local, mode, pub, zero_psk) < 0) {
		free(p);
		return NULL;
	}
	cookie_maker_init(&p->cookie, pub);
	/* Appended, so `wg show` lists peers in configuration order. */
	for (pp = &d->peers; *pp; pp = &(*pp)->next_peer)
		;
	*pp = p;
	d->n_peers++;
	return p;
}

int dv_peer_reconfigure(struct dv_peer *p, enum dv_mode mode,
			const uint8_t psk[DV_KEY_LEN])
{
	uint8_t pub[DV_KEY_LEN], ts[DV_TAI64N_LEN], mldsa[NOISE_MLDSA_PK_LEN];
	uint8_t ts_mode[DV_TAI64N_LEN], ts_sig[DV_TAI64N_LEN];
	bool has_mldsa = p->np.has_mldsa_pk;
	int rc;

	/* noise_peer_init resets the peer; keep what identifies it and the
	 * replay timestamp, so old initiations stay refused. */
	memcpy(pub, p->np.remote_static, sizeof(pub));
	memcpy(ts, p->np.latest_timestamp, sizeof(ts));
	memcpy(ts_mode, p->np.refused_mode_timestamp, sizeof(ts_mode));
	memcpy(ts_sig, p->np.failed_sig_timestamp, sizeof(ts_sig));
	if (has_mldsa)
		memcpy(mldsa, p->np.mldsa_pk, sizeof(mldsa));
	dv_index_remove(p->dev, &p->hs_entry);
	rc = noise_peer_init(&p->np, &p->dev->local, mode, pub, psk);
	p->np.user = p;
	memcpy(p->np.latest_timestamp, ts, sizeof(ts));
	memcpy(p->np.refused_mode_timestamp, ts_mode, sizeof(ts_mode));
	memcpy(p->np.failed_sig_timestamp, ts_sig, sizeof(ts_sig));
	if (has_mldsa)
		noise_peer_set_mldsa_pk(&p->np, mldsa);
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

static void keypair_free(struct dv_device *d, struct dv_keypair *kp)
{
	if (!kp)
		return;
	dv_index_remove(d, &kp->entry);
	ct_wipe(kp, sizeof(*kp));
	free(kp);
}

int dv_peer_add_keypair(struct dv_peer *p, const struct noise_keypair *k)
{
	struct dv_device *d = p->dev;
	struct dv_keypair *kp = malloc(sizeof(*kp));

	if (!kp)
		return -1;
	memset(kp, 0, offsetof(struct dv_keypair, replay));
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
	kp->entry.next = d->index[k->local_index & (DV_INDEX_BUCKETS - 1)];
	d->index[k->local_index & (DV_INDEX_BUCKETS - 1)] = &kp->entry;

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
	noise_handshake_clear(&p->np.hs);
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
}

void dv_peer_remove(struct dv_peer *p)
{
	struct dv_device *d = p->dev;
	struct dv_peer **pp;

	for (pp = &d->peers; *pp; pp = &(*pp)->next_peer) {
		if (*pp == p) {
			*pp = p->next_peer;
			break;
		}
	}
	d->n_peers--;
	dv_timers_stop(p);
	dv_allowedips_remove_peer(&d->aips, p);
	dv_peer_clear_keys(p);
	dv_peer_purge_staged(p);
	noise_peer_clear(&p->np);
	ct_wipe(p, sizeof(*p));
	free(p);
}
