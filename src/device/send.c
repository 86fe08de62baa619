/* The send path: IP packets from the TUN to transport data (message type
 * 4), staged packets, keepalives and handshake messages. A handshake
 * message larger than the interface's datagram budget leaves as type-9
 * fragments (docs/PROTOCOL-fragments.md).
 *
 * A TUN packet is encrypted where it lies: the 16-byte header goes into
 * the DV_HEADROOM before it, the zero padding and the tag into the
 * DV_TAILROOM after it, and the datagram is handed to io.udp_send without
 * a copy or an allocation (WireGuard whitepaper 5.4.6).
 */
#include "device/internal.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/ct.h"
#include "device/timers.h"

/* Usable for sending: derived, younger than REJECT_AFTER_TIME, counter
 * below REJECT_AFTER_MESSAGES (whitepaper 6.1). */
static bool keypair_send_ok(struct dv_device *d, const struct dv_keypair *kp)
{
	return kp && kp->send_counter < DV_REJECT_AFTER_MESSAGES &&
	       dv_now(d) - kp->birth_ns <
		       (uint64_t)DV_REJECT_AFTER_TIME * DV_NSEC_PER_SEC;
}

static void send_raw(struct dv_peer *p, const uint8_t *buf, size_t len)
{
	struct dv_device *d = p->dev;

	if (!p->endpoint_len)
		return; /* nowhere to send until the peer reaches us */
	d->io.udp_send(d->io.arg, (const struct sockaddr *)&p->endpoint,
		       p->endpoint_len, buf, len);
	p->tx_bytes += len;
	dv_timers_any_authenticated_packet_traversal(p);
	dv_timers_any_authenticated_packet_sent(p);
}

void dv_send_handshake(struct dv_peer *p, uint8_t *msg, size_t len)
{
	struct dv_device *d = p->dev;
	uint64_t now = dv_now(d);
	unsigned count = dv_frag_count(msg[0], len, d->hs_budget);
	uint8_t frag[DV_MAX_HANDSHAKE_LEN];

	/* The whole message's macs first: they travel inside the fragments,
	 * and the receiver checks them after reassembly. */
	cookie_add_macs(&p->cookie, msg, len, now);
	if (count <= 1) {
		send_raw(p, msg, len);
		return;
	}
	if (!p->endpoint_len)
		return; /* nowhere to send until the peer reaches us */
	for (unsigned i = 0; i < count; i++) {
		size_t n = dv_frag_make(frag, msg, len, d->hs_budget, i);

		cookie_add_frag_macs(&p->cookie, frag, n, now, i == 0);
		send_raw(p, frag, n);
		d->stats.tx_fragments++;
	}
}

void dv_send_initiation(struct dv_peer *p, bool is_retry)
{
	struct dv_device *d = p->dev;
	uint64_t now = dv_now(d), wall;
	uint8_t tai[DV_TAI64N_LEN];
	size_t n = sizeof(d->scratch);
	int rc;

	if (!is_retry)
		p->handshake_attempts = 0;
	/* At most one initiation per REKEY_TIMEOUT (whitepaper 6.1). */
	if (p->sent_initiation &&
	    now - p->last_initiation_sent_ns <
		    (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC)
		return;
	if (!d->has_private_key || !p->endpoint_len)
		return;
	p->sent_initiation = true;
	p->last_initiation_sent_ns = now;
	p->initiations_unanswered++;

	dv_index_remove(d, &p->hs_entry);
	p->hs_entry.kind = DV_INDEX_HANDSHAKE;
	p->hs_entry.peer = p;
	dv_index_insert(d, &p->hs_entry);
	wall = d->io.wall_ns(d->io.arg);
	dv_tai64n(tai, wall / DV_NSEC_PER_SEC,
		  (uint32_t)(wall % DV_NSEC_PER_SEC));
	rc = dv_peer_hs_acquire(p) < 0 ? NOISE_ERR_INTERNAL :
		noise_create_initiation(&d->local, &p->np, p->hs_entry.index,
					tai, NULL, d->scratch, &n);
	if (rc < 0) {
		dv_index_remove(d, &p->hs_entry);
		dv_peer_hs_trim(p);
		dv_device_log_drop(d, "handshake initiation failed: %s",
				   noise_strerror(rc));
		return;
	}
	dv_send_handshake(p, d->scratch, n);
	dv_timers_handshake_initiated(p);
}

/* WireGuard pads the plaintext to a multiple of 16, never past the MTU
 * (docs/PROTOCOL.md §10: a full 1420-byte packet goes unpadded). */
static size_t padded_len(size_t len, size_t mtu)
{
	size_t unit = len, padded;

	if (unit > mtu)
		unit %= mtu;
	padded = (unit + DV_DATA_PADDING - 1) & ~(size_t)(DV_DATA_PADDING - 1);
	if (padded > mtu)
		padded = mtu;
	return len + (padded - unit);
}

/* Encrypts the packet at pkt in place (headroom and tailroom available)
 * with the peer's current keypair and sends it. */
static void seal_and_send(struct dv_peer *p, struct dv_keypair *kp,
			  uint8_t *pkt, size_t len)
{
	size_t plen = padded_len(len, p->dev->mtu);
	uint8_t *hdr = pkt - DV_DATA_HEADER_LEN;
	uint64_t ctr = kp->send_counter++;

	memset(pkt + len, 0, plen - len);
	hdr[0] = DV_MSG_DATA;
	hdr[1] = hdr[2] = hdr[3] = 0;
	dv_le32_put(hdr + DV_DATA_OFF_RECEIVER, kp->k.remote_index);
	dv_le64_put(hdr + DV_DATA_OFF_COUNTER, ctr);
	if (dv_aead_seal(pkt, pkt, plen, NULL, 0, ctr, kp->k.send) < 0)
		return;
	send_raw(p, hdr, DV_DATA_HEADER_LEN + plen + DV_TAG_LEN);
}

/* Whitepaper 6.2: the initiator of the current session starts a new
 * handshake once it is REKEY_AFTER_TIME old; either side does after
 * REKEY_AFTER_MESSAGES. */
static void keep_key_fresh(struct dv_peer *p)
{
	struct dv_device *d = p->dev;
	struct dv_keypair *kp = p->cur;

	if (!kp)
		return;
	if (kp->send_counter > DV_REKEY_AFTER_MESSAGES ||
	    (kp->k.initiator && dv_now(d) - kp->birth_ns >= d->rekey_after_ns))
		dv_send_initiation(p, false);
}

void dv_send_keepalive(struct dv_peer *p)
{
	uint8_t buf[DV_DATA_HEADER_LEN + DV_TAG_LEN];

	if (!keypair_send_ok(p->dev, p->cur)) {
		dv_send_initiation(p, false);
		return;
	}
	seal_and_send(p, p->cur, buf + DV_DATA_HEADER_LEN, 0);
	keep_key_fresh(p);
}

void dv_send_staged(struct dv_peer *p)
{
	bool sent = false;

	if (!p->staged_count) {
		dv_send_keepalive(p);
		return;
	}
	if (!keypair_send_ok(p->dev, p->cur)) {
		dv_send_initiation(p, false);
		return;
	}
	while (p->staged_count) {
		struct dv_staged *s = &p->staged[p->staged_head];

		/* The limits hold for each packet (whitepaper 6.1): what
		 * this session cannot carry waits for the next one. */
		if (!keypair_send_ok(p->dev, p->cur))
			break;
		seal_and_send(p, p->cur, s->buf + DV_HEADROOM, s->len);
		free(s->buf);
		s->buf = NULL;
		p->staged_head = (p->staged_head + 1) % DV_STAGED_MAX;
		p->staged_count--;
		sent = true;
	}
	if (sent)
		dv_timers_data_sent(p);
	if (p->staged_count) {
		dv_send_initiation(p, false);
		return;
	}
	dv_peer_purge_staged(p); /* empty: frees the ring */
	keep_key_fresh(p);
}

/* The peer that owns the packet's destination address, or NULL. */
static struct dv_peer *route(struct dv_device *d, const uint8_t *pkt,
			     size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4)
		return dv_allowedips_lookup(&d->aips, AF_INET, pkt + 16);
	if (len >= 40 && pkt[0] >> 4 == 6)
		return dv_allowedips_lookup(&d->aips, AF_INET6, pkt + 24);
	return NULL;
}

void dv_device_tun_rx(struct dv_device *d, uint8_t *pkt, size_t len)
{
	struct dv_peer *p = route(d, pkt, len);

	if (!p) {
		d->stats.tx_no_route++;
		return;
	}
	if (p->staged_count || !keypair_send_ok(d, p->cur)) {
		dv_peer_stage(p, pkt, len);
		dv_send_staged(p);
		return;
	}
	seal_and_send(p, p->cur, pkt, len);
	dv_timers_data_sent(p);
	keep_key_fresh(p);
}

/* The destination address of an IP packet (family, 4 or 16 bytes at
 * *addr), or 0 when it has none. */
static int dst_of(const uint8_t *pkt, size_t len, const uint8_t **addr)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		*addr = pkt + 16;
		return AF_INET;
	}
	if (len >= 40 && pkt[0] >> 4 == 6) {
		*addr = pkt + 24;
		return AF_INET6;
	}
	return 0;
}

/* A worker's part (workers.h): padding, header and AEAD of one packet,
 * in place. Touches only the packet and reads only the job. */
static void seal_job(void *arg, size_t i)
{
	struct dv_tx_job *j = (struct dv_tx_job *)arg + i;
	uint8_t *hdr = j->pkt - DV_DATA_HEADER_LEN;
	size_t plen = padded_len(j->len, j->peer->dev->mtu);

	memset(j->pkt + j->len, 0, plen - j->len);
	hdr[0] = DV_MSG_DATA;
	hdr[1] = hdr[2] = hdr[3] = 0;
	dv_le32_put(hdr + DV_DATA_OFF_RECEIVER, j->receiver);
	dv_le64_put(hdr + DV_DATA_OFF_COUNTER, j->counter);
	j->wire_len = dv_aead_seal(j->pkt, j->pkt, plen, NULL, 0, j->counter,
				   j->key) < 0 ? 0 : DV_DATA_HEADER_LEN + plen + DV_TAG_LEN;
}

/* The queued packets are sealed, spread over the workers, then sent in
 * the order they were queued, with the counters they were given in that
 * order; each run of one peer's packets counts its bytes and traffic
 * once. */
static void dv_tx_flush(struct dv_device *d)
{
	size_t n = d->n_tx;

	if (!n)
		return;
	dv_workers_run(d->workers, seal_job, d->tx, n);
	for (size_t i = 0; i < n;) {
		struct dv_peer *p = d->tx[i].peer;
		uint64_t bytes = 0;
		size_t j;

		for (j = i; j < n && d->tx[j].peer == p; j++) {
			struct dv_tx_job *t = &d->tx[j];

			if (!t->wire_len)
				continue;
			d->io.udp_send(d->io.arg, (const struct sockaddr *)&p->endpoint,
				       p->endpoint_len, t->pkt - DV_DATA_HEADER_LEN,
				       t->wire_len);
			bytes += t->wire_len;
		}
		if (bytes) {
			p->tx_bytes += bytes;
			dv_timers_any_authenticated_packet_traversal(p);
			dv_timers_any_authenticated_packet_sent(p);
		}
		i = j;
	}
	d->n_tx = 0;
}

/* Queues n packets of one peer, to be sealed with kp. */
static void queue_run(struct dv_peer *p, struct dv_keypair *kp,
		      uint8_t *const *pkts, const size_t *lens, size_t n)
{
	struct dv_device *d = p->dev;

	for (size_t i = 0; i < n; i++) {
		struct dv_tx_job *t;

		if (d->n_tx == DV_BATCH_JOBS)
			dv_tx_flush(d);
		t = &d->tx[d->n_tx++];
		t->peer = p;
		t->pkt = pkts[i];
		t->len = lens[i];
		t->counter = kp->send_counter++;
		t->receiver = kp->k.remote_index;
		t->key = kp->k.send;
	}
}

/* A batch read from the TUN, as Linux's wg_packet_create_data_done does
 * it: the packets are taken in runs of one peer; a run is routed once
 * while the destination stays the same (the segments of a split TSO
 * super-packet), checked against the keypair's limits once (the clock
 * read once per batch), given its counters, and the peer's timers
 * updated once per run; then the batch is sealed by the workers and sent
 * (dv_tx_flush). A peer without a usable session, or with packets
 * already waiting for one, takes the per-packet path (staging,
 * handshake), after what was queued before it is sent. */
void dv_device_tun_rx_batch(struct dv_device *d, uint8_t *const *pkts,
			    const size_t *lens, size_t n)
{
	const uint8_t *last_addr = NULL;
	int last_family = 0;
	struct dv_peer *last = NULL;
	uint64_t now = 0;
	bool have_now = false;
	size_t i = 0;

	while (i < n) {
		struct dv_peer *p = NULL;
		struct dv_keypair *kp;
		size_t j;

		/* The run: packets i..j-1, all to peer p. */
		for (j = i; j < n; j++) {
			const uint8_t *addr;
			int family = dst_of(pkts[j], lens[j], &addr);
			struct dv_peer *q;

			if (family && family == last_family &&
			    !memcmp(addr, last_addr,
				    family == AF_INET ? 4 : 16)) {
				q = last;
			} else {
				q = family ? dv_allowedips_lookup(&d->aips,
								   family, addr)
					   : NULL;
				last = q;
				last_family = family;
				last_addr = family ? addr : NULL;
			}
			if (j == i)
				p = q;
			if (!q || q != p)
				break;
		}
		if (!p) {
			d->stats.tx_no_route++;
			i++;
			continue;
		}
		if (!have_now) {
			now = dv_now(d);
			have_now = true;
		}
		kp = p->cur;
		if (p->staged_count || !kp ||
		    kp->send_counter + (j - i) > DV_REJECT_AFTER_MESSAGES ||
		    now - kp->birth_ns >=
			    (uint64_t)DV_REJECT_AFTER_TIME * DV_NSEC_PER_SEC) {
			dv_tx_flush(d);
			for (; i < j; i++)
				dv_device_tun_rx(d, pkts[i], lens[i]);
			continue;
		}
		if (p->endpoint_len) {
			queue_run(p, kp, pkts + i, lens + i, j - i);
		} else {
			kp->send_counter += j - i; /* as the per-packet path */
		}
		dv_timers_data_sent(p);
		keep_key_fresh(p);
		i = j;
	}
	dv_tx_flush(d);
}
