/* The receive path: every datagram from the UDP socket, dispatched by
 * message type, checked cheapest first (docs/PROTOCOL.md §8, "What a receiver
 * checks"): length and reserved bytes, mac1, mac2 when under load, then
 * the handshake itself (noise.c), or for transport data the index, the
 * tag, the replay window and the inner source address. A handshake
 * fragment (type 9, docs/PROTOCOL-fragments.md) is checked alone (layout,
 * mac1, mac2 under load) before it may enter the bounded reassembly
 * table; the message it completes then takes the whole-message path from
 * its first check.
 *
 * Anything that fails is dropped, counted in d->stats (or the peer's
 * refusal counters once the handshake has authenticated the peer), and
 * logged rate-limited. Nothing from a failed message changes a session.
 */
#include "device/internal.h"

#include <netinet/in.h>
#include <string.h>
#include <syslog.h>

#include "crypto/aead.h"
#include "crypto/ct.h"
#include "device/timers.h"
#include "protocol.h"

/* The cookie is bound to the source IP address and port (whitepaper
 * 5.4.7). */
static size_t source_bytes(uint8_t out[18], const struct sockaddr *sa,
			   socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)sa;

		memcpy(out, &s->sin_addr, 4);
		memcpy(out + 4, &s->sin_port, 2);
		return 6;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;

		memcpy(out, &s->sin6_addr, 16);
		memcpy(out + 16, &s->sin6_port, 2);
		return 18;
	}
	return 0;
}

/* "Under load" (whitepaper 5.3), decided as WireGuard does on work that
 * could cost us a DH, never on raw arrivals: only handshakes whose mac1
 * verified count. More than load_threshold of them in the current
 * one-second window (the single-threaded core has no backlog queue to
 * measure; what passed mac1 within a second stands in for it) puts the
 * device under load, and it stays there for a second after the last time
 * that held (WireGuard's last_under_load). Junk with a wrong mac1 from
 * anywhere never does. Called once per mac1-valid handshake. */
static bool load_now(const struct dv_device *d, uint64_t now)
{
	return d->load_active && now < d->load_until_ns;
}

static bool under_load(struct dv_device *d, uint64_t now)
{
	if (now - d->load_window_start_ns >= DV_NSEC_PER_SEC) {
		d->load_count = 0;
		d->load_window_start_ns = now;
	}
	d->load_count++;
	if (d->load_count > d->load_threshold) {
		d->load_until_ns = now + DV_NSEC_PER_SEC;
		d->load_active = true;
	}
	return load_now(d, now);
}

/* Cookie replies, all sources together, are bounded by a token bucket:
 * DV_COOKIE_REPLIES_PER_SECOND, bursts of DV_COOKIE_REPLY_BURST. A flood
 * of mac1-valid initiations from forged sources cannot turn us into a
 * reflector at line rate: at most 64 B x 4096/s = 2.1 Mbit/s goes out.
 * Each source (address or IPv6 /64) is limited too, as handshakes are
 * (ratelimit.h), so that a few flooding sources do not use up the bound
 * of everyone else. A source over either gets no reply and retries after
 * REKEY_TIMEOUT, as if the reply were lost. */
static bool cookie_reply_allowed(struct dv_device *d, uint64_t now)
{
	const uint64_t cost = DV_NSEC_PER_SEC / DV_COOKIE_REPLIES_PER_SECOND;
	const uint64_t max = cost * DV_COOKIE_REPLY_BURST;
	uint64_t tokens;

	if (!d->cookie_bucket_started) { /* full at start */
		d->cookie_bucket_started = true;
		d->cookie_tokens_ns = max;
		d->cookie_last_ns = now;
	}
	tokens = d->cookie_tokens_ns + (now - d->cookie_last_ns);
	if (tokens > max)
		tokens = max;
	d->cookie_last_ns = now;
	if (tokens < cost) {
		d->cookie_tokens_ns = tokens;
		return false;
	}
	d->cookie_tokens_ns = tokens - cost;
	return true;
}

/* Under load, a handshake message (or fragment) without a valid mac2 is
 * answered with a cookie reply, within the reply bounds. */
static void send_cookie_reply(struct dv_device *d, const uint8_t *msg,
			      size_t len, const uint8_t *src, size_t srclen,
			      const struct sockaddr *from, socklen_t fromlen,
			      uint64_t now)
{
	uint8_t reply[DV_COOKIE_REPLY_LEN];

	if (!dv_ratelimit_allow(&d->cookie_ratelimit, from->sa_family, src, now) ||
	    !cookie_reply_allowed(d, now)) {
		d->stats.rx_cookie_limited++;
		return;
	}
	if (cookie_create_reply(&d->cookie, reply, msg, len, src, srclen,
				now) == 0) {
		d->io.udp_send(d->io.arg, from, fromlen, reply, sizeof(reply));
		d->stats.rx_cookie_sent++;
	}
}

/* Checks macs; returns true when the handshake may proceed. Under load
 * without a valid mac2 it answers with a cookie reply instead. A
 * reassembled message (charged) went through the load count and the
 * per-source rate limit when its first fragment arrived: its macs are
 * checked all the same, but it is not counted twice. */
static bool check_macs(struct dv_device *d, const uint8_t *msg, size_t len,
		       const struct sockaddr *from, socklen_t fromlen,
		       bool charged)
{
	uint8_t src[18];
	size_t srclen = source_bytes(src, from, fromlen);
	uint64_t now = dv_now(d);
	enum cookie_mac_state st;
	bool load;

	st = cookie_check(&d->cookie, msg, len, src, srclen, now, false);
	if (st == COOKIE_MAC_INVALID) {
		d->stats.rx_bad_mac++;
		dv_device_log_drop(d, "handshake with bad mac1 dropped");
		return false;
	}
	load = charged ? load_now(d, now) : under_load(d, now);
	if (!load)
		return true;
	/* mac1 is known good: only mac2 is left to check. */
	if (!cookie_check_mac2(&d->cookie, msg, len, src, srclen, now)) {
		send_cookie_reply(d, msg, len, src, srclen, from, fromlen, now);
		return false;
	}
	/* mac2 proved the source address; still limit what it costs us. */
	if (!charged &&
	    !dv_ratelimit_allow(&d->ratelimit, from->sa_family, src, now)) {
		d->stats.rx_ratelimited++;
		dv_device_log_drop(d, "handshake over the per-source rate limit");
		return false;
	}
	return true;
}

/* Refusals that name an authenticated peer are the peer's to count
 * (docs/PROTOCOL.md §8.1 step 4 onwards); the rest are global. */
static void count_refusal(struct dv_device *d, struct dv_peer *p, int rc)
{
	char name[DV_PEER_STR_LEN];

	if (p && (rc == NOISE_ERR_MODE || rc == NOISE_ERR_SIGNATURE ||
		  rc == NOISE_ERR_MLKEM_KEY)) {
		p->refused_handshakes++;
		if (rc == NOISE_ERR_MODE)
			p->refused_mode++;
		else if (rc == NOISE_ERR_SIGNATURE)
			p->refused_signature++;
		else
			p->refused_mlkem++;
		dv_device_log_drop(d, "peer %s: handshake refused (%s; peer configured %s)",
				   dv_peer_str(p, name), noise_strerror(rc),
				   dv_mode_name(p->np.mode));
		return;
	}
	d->stats.rx_handshake_bad++;
	dv_device_log_drop(d, "handshake refused: %s", noise_strerror(rc));
}

static void log_complete(struct dv_peer *p, const char *role)
{
	char name[DV_PEER_STR_LEN];

	dv_device_log(p->dev, LOG_INFO, "peer %s: %s handshake completed (%s)",
		      dv_peer_str(p, name), dv_mode_name(p->np.mode), role);
}

static struct noise_peer *lookup_static(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	struct dv_peer *p = dv_peer_by_key(arg, pub);

	/* The handshake needs storage to land in; rx_initiation returns it
	 * when the initiation is refused. No storage: refused as unknown. */
	return p && dv_peer_hs_acquire(p) == 0 ? &p->np : NULL;
}

static void rx_initiation(struct dv_device *d, const uint8_t *msg,
			  size_t len, const struct sockaddr *from,
			  socklen_t fromlen, bool charged)
{
	struct noise_peer *np = NULL;
	struct noise_keypair k;
	struct dv_peer *p;
	size_t n = sizeof(d->scratch);
	int rc;

	if (!check_macs(d, msg, len, from, fromlen, charged))
		return;
	rc = noise_consume_initiation(&d->local, msg, len, lookup_static, d,
				      dv_now(d), &np);
	if (np)
		dv_peer_hs_trim(np->user);
	if (rc < 0) {
		count_refusal(d, np ? np->user : NULL, rc);
		return;
	}
	p = np->user;
	p->rx_bytes += len;
	dv_peer_set_endpoint(p, from, fromlen);
	dv_timers_any_authenticated_packet_received(p);
	dv_timers_any_authenticated_packet_traversal(p);

	dv_index_remove(d, &p->hs_entry);
	p->hs_entry.kind = DV_INDEX_HANDSHAKE;
	p->hs_entry.peer = p;
	dv_index_insert(d, &p->hs_entry);
	rc = noise_create_response(&d->local, &p->np, p->hs_entry.index, NULL,
				   d->scratch, &n);
	if (rc < 0 || noise_derive_keys(&p->np, &k) < 0 ||
	    dv_peer_add_keypair(p, &k) < 0) {
		ct_wipe(&k, sizeof(k)); /* derived, maybe, before memory ran out */
		dv_index_remove(d, &p->hs_entry);
		dv_peer_hs_release(p);
		dv_device_log(d, LOG_WARNING, "handshake response failed: %s",
			      noise_strerror(rc));
		return;
	}
	ct_wipe(&k, sizeof(k));
	dv_peer_hs_trim(p); /* derived: the handshake storage goes back */
	dv_send_handshake(p, d->scratch, n);
	dv_timers_session_derived(p);
	/* A response counts as a handshake sent (WireGuard's
	 * last_sent_handshake): for REKEY_TIMEOUT we start no initiation that
	 * would replace the session the initiator is about to confirm. */
	p->sent_initiation = true;
	p->last_initiation_sent_ns = dv_now(d);
}

static void rx_response(struct dv_device *d, const struct dv_msg_desc *md,
			const uint8_t *msg, size_t len,
			const struct sockaddr *from, socklen_t fromlen,
			bool charged)
{
	struct noise_keypair k;
	struct dv_index *e;
	struct dv_peer *p;
	int rc;

	if (!check_macs(d, msg, len, from, fromlen, charged))
		return;
	e = dv_index_find(d, dv_le32_get(msg + md->off_receiver));
	if (!e || e->kind != DV_INDEX_HANDSHAKE) {
		d->stats.rx_unknown_index++;
		dv_device_log_drop(d, "handshake response for unknown index");
		return;
	}
	p = e->peer;
	rc = noise_consume_response(&d->local, &p->np, msg, len);
	if (rc < 0) {
		/* A state or mode mismatch is found before anything
		 * authenticates the sender (response check 2): not the
		 * peer's refusal to count. */
		count_refusal(d, rc == NOISE_ERR_STATE || rc == NOISE_ERR_MODE ?
					 NULL : p, rc);
		return;
	}
	if (noise_derive_keys(&p->np, &k) < 0 || dv_peer_add_keypair(p, &k) < 0) {
		ct_wipe(&k, sizeof(k)); /* derived, maybe, before memory ran out */
		dv_peer_clear_keys(p);
		return;
	}
	ct_wipe(&k, sizeof(k));
	dv_peer_hs_trim(p); /* derived: the handshake storage goes back */
	p->rx_bytes += len;
	dv_peer_set_endpoint(p, from, fromlen);
	p->last_handshake_wall_ns = d->io.wall_ns(d->io.arg);
	p->handshakes++;
	dv_timers_any_authenticated_packet_received(p);
	dv_timers_any_authenticated_packet_traversal(p);
	dv_timers_session_derived(p);
	dv_timers_handshake_complete(p);
	log_complete(p, "initiator");
	/* The responder may use the keys only after our first data packet:
	 * send what waited, or a keepalive (whitepaper 5.4.3). */
	dv_send_staged(p);
}

static void rx_cookie(struct dv_device *d, const struct dv_msg_desc *md,
		      const uint8_t *msg, size_t len)
{
	struct dv_index *e = dv_index_find(d, dv_le32_get(msg + md->off_receiver));

	if (!e) {
		d->stats.rx_unknown_index++;
		return;
	}
	if (cookie_consume_reply(&e->peer->cookie, msg, len, dv_now(d)) < 0) {
		d->stats.rx_handshake_bad++;
		dv_device_log_drop(d, "invalid cookie reply dropped");
	}
}

/* Length of the IP packet in plaintext (its header's length field), or 0
 * when it is not a well-formed IPv4/IPv6 packet that fits; *src points at
 * its source address. */
static size_t inner_packet(const uint8_t *pt, size_t len, int *family,
			   const uint8_t **src)
{
	size_t tot;

	if (len >= 20 && pt[0] >> 4 == 4) {
		tot = (size_t)pt[2] << 8 | pt[3];
		*family = AF_INET;
		*src = pt + 12;
		return tot >= 20 && tot <= len ? tot : 0;
	}
	if (len >= 40 && pt[0] >> 4 == 6) {
		tot = 40 + ((size_t)pt[4] << 8 | pt[5]);
		*family = AF_INET6;
		*src = pt + 8;
		return tot <= len ? tot : 0;
	}
	return 0;
}

/* Transport data, first pass (serial): the index must name a live
 * keypair young enough to receive; then the datagram waits in d->rx for
 * the workers to open it. */
static void rx_data_queue(struct dv_device *d, uint8_t *msg, size_t len,
			  const struct sockaddr *from, socklen_t fromlen,
			  uint64_t now)
{
	struct dv_index *e = dv_index_find(d, dv_le32_get(msg + DV_DATA_OFF_RECEIVER));
	struct dv_rx_job *j;

	if (!e || e->kind != DV_INDEX_KEYPAIR) {
		d->stats.rx_unknown_index++;
		dv_device_log_drop(d, "data for unknown index dropped");
		return;
	}
	if (now - e->keypair->birth_ns >=
	    (uint64_t)DV_REJECT_AFTER_TIME * DV_NSEC_PER_SEC) {
		d->stats.rx_data_bad++;
		dv_device_log_drop(d, "data packet failed authentication or replay check");
		return;
	}
	j = &d->rx[d->n_rx++];
	j->kp = e->keypair;
	j->msg = msg;
	j->len = len;
	j->counter = dv_le64_get(msg + DV_DATA_OFF_COUNTER);
	j->from = from;
	j->fromlen = fromlen;
}

/* A worker's part (workers.h): the AEAD of one datagram, in place, and
 * the read-only look at what it held. */
static void open_job(void *arg, size_t i)
{
	struct dv_rx_job *j = (struct dv_rx_job *)arg + i;
	uint8_t *pt = j->msg + DV_DATA_HEADER_LEN;
	const uint8_t *src;
	int family;

	j->ilen = 0;
	j->src_peer = NULL;
	j->ok = dv_aead_open(pt, pt, j->len - DV_DATA_HEADER_LEN, NULL, 0, j->counter,
			     j->kp->k.recv) == 0;
	if (!j->ok || j->len == DV_DATA_MIN_LEN)
		return; /* keepalive */
	j->ilen = inner_packet(pt, j->len - DV_DATA_MIN_LEN, &family, &src);
	if (j->ilen)
		j->src_peer = dv_allowedips_lookup(&j->kp->entry.peer->dev->aips,
						   family, src);
}

/* Transport data, last pass (serial, in arrival order): the replay
 * window, the session's and the peer's state, the inner packet. */
static void rx_data_done(struct dv_device *d, const struct dv_rx_job *j,
			 uint64_t now)
{
	struct dv_keypair *kp = j->kp;
	struct dv_peer *p = kp->entry.peer;

	if (!j->ok || !dv_replay_accept(&kp->replay, j->counter,
					DV_REJECT_AFTER_MESSAGES)) {
		d->stats.rx_data_bad++;
		dv_device_log_drop(d, "data packet failed authentication or replay check");
		return;
	}
	p->rx_bytes += j->len;
	dv_peer_set_endpoint(p, j->from, j->fromlen);
	if (kp == p->next) {
		dv_peer_promote_next(p);
		p->last_handshake_wall_ns = d->io.wall_ns(d->io.arg);
		p->handshakes++;
		dv_timers_handshake_complete(p);
		log_complete(p, "responder");
		if (p->staged_count)
			dv_send_staged(p);
	}
	dv_timers_any_authenticated_packet_received(p);
	dv_timers_any_authenticated_packet_traversal(p);
	/* Whitepaper 6.2: the initiator rekeys a session nearing
	 * REJECT_AFTER_TIME when data arrives on it, once. */
	if (p->cur == kp && kp->k.initiator && !p->sent_lastminute_handshake &&
	    now - kp->birth_ns >= (uint64_t)(DV_REJECT_AFTER_TIME -
					     DV_KEEPALIVE_TIMEOUT -
					     DV_REKEY_TIMEOUT) * DV_NSEC_PER_SEC) {
		p->sent_lastminute_handshake = true;
		dv_send_initiation(p, false);
	}
	if (j->len == DV_DATA_MIN_LEN)
		return; /* keepalive */
	if (!j->ilen) {
		d->stats.rx_malformed++;
		dv_device_log_drop(d, "malformed inner packet dropped");
		return;
	}
	if (j->src_peer != p) {
		d->stats.rx_bad_source++;
		dv_device_log_drop(d, "inner source not allowed for its peer");
		return;
	}
	d->io.tun_write(d->io.arg, j->msg + DV_DATA_HEADER_LEN, j->ilen);
	dv_timers_data_received(p);
}

/* The queued datagrams are opened, spread over the workers, then taken
 * in arrival order. A keypair that ends meanwhile (the responder's next
 * one promoted) stays in memory until the last of them is done. */
static void rx_flush(struct dv_device *d, uint64_t now)
{
	size_t n = d->n_rx;

	if (!n)
		return;
	dv_workers_run(d->workers, open_job, d->rx, n);
	d->defer_free = true;
	for (size_t i = 0; i < n; i++)
		rx_data_done(d, &d->rx[i], now);
	d->defer_free = false;
	d->n_rx = 0;
	dv_keypairs_reap(d);
}

static void rx_handshake(struct dv_device *d, const struct dv_msg_desc *md,
			 uint8_t *buf, size_t len, const struct sockaddr *from,
			 socklen_t fromlen, bool charged);

/* A handshake fragment (docs/PROTOCOL-fragments.md, "What a receiver
 * checks"): its layout alone, mac1, and under load mac2 (fragment 0 gets
 * the cookie reply), all before any state; then reassembly, bounded per
 * source and in total. The fragment that opens a partial message is the
 * one counted towards "under load" and charged to the per-source rate
 * limit, so that a message costs one count whole or in pieces. */
static void rx_fragment(struct dv_device *d, uint8_t *buf, size_t len,
			const struct sockaddr *from, socklen_t fromlen)
{
	const struct dv_msg_desc *md;
	uint8_t src[18];
	size_t srclen = source_bytes(src, from, fromlen), mlen = 0;
	uint64_t now = dv_now(d);
	struct dv_frag f;
	bool load, opens;
	int rc;

	if (dv_frag_parse(buf, len, &f) < 0) {
		d->stats.rx_malformed++;
		dv_device_log_drop(d, "malformed handshake fragment (%zu bytes)",
				   len);
		return;
	}
	if (cookie_check(&d->cookie, buf, len, src, srclen, now, false) ==
	    COOKIE_MAC_INVALID) {
		d->stats.rx_bad_mac++;
		dv_device_log_drop(d, "handshake fragment with bad mac1 dropped");
		return;
	}
	dv_frag_expire(d->frag, now);
	opens = !dv_frag_joins(d->frag, &f, src, srclen);
	load = opens ? under_load(d, now) : load_now(d, now);
	if (load) {
		if (!cookie_check_mac2(&d->cookie, buf, len, src, srclen, now)) {
			if (f.number == 0)
				send_cookie_reply(d, buf, len, src, srclen, from,
						  fromlen, now);
			return;
		}
		if (opens && !dv_ratelimit_allow(&d->ratelimit, from->sa_family,
						 src, now)) {
			d->stats.rx_ratelimited++;
			dv_device_log_drop(d, "handshake over the per-source rate limit");
			return;
		}
	}
	rc = dv_frag_add(d->frag, &f, src, srclen, load, now, d->reasm, &mlen);
	if (rc < 0) {
		d->stats.rx_fragment_refused++;
		dv_device_log_drop(d, "handshake fragment refused (%s)",
				   rc == DV_FRAG_DUPLICATE ? "duplicate" :
				   rc == DV_FRAG_MISMATCH ? "contradicts its message" :
				   rc == DV_FRAG_SOURCE_FULL ? "source holds too many" :
							       "table full");
		return;
	}
	d->stats.rx_fragments++;
	if (rc != DV_FRAG_COMPLETE)
		return;
	d->stats.rx_reassembled++;
	/* From the first check of a whole message: its type must be the
	 * fragments' inner type (and its sender index theirs), its length
	 * and reserved bytes those of the type. */
	md = dv_msg_classify(d->reasm, mlen);
	if (!md || md->type != f.inner ||
	    dv_le32_get(d->reasm + DV_OFF_SENDER) != f.sender) {
		d->stats.rx_malformed++;
		dv_device_log_drop(d, "reassembled handshake message malformed");
		ct_wipe(d->reasm, mlen);
		return;
	}
	rx_handshake(d, md, d->reasm, mlen, from, fromlen, true);
	ct_wipe(d->reasm, mlen);
}

static void rx_handshake(struct dv_device *d, const struct dv_msg_desc *md,
			 uint8_t *buf, size_t len, const struct sockaddr *from,
			 socklen_t fromlen, bool charged)
{
	switch (md->kind) {
	case DV_KIND_INITIATION:
		rx_initiation(d, buf, len, from, fromlen, charged);
		break;
	case DV_KIND_RESPONSE:
		rx_response(d, md, buf, len, from, fromlen, charged);
		break;
	case DV_KIND_COOKIE_REPLY:
		rx_cookie(d, md, buf, len);
		break;
	case DV_KIND_FRAGMENT:
		/* never from reassembly: its inner type is 5 to 8 */
		if (!charged)
			rx_fragment(d, buf, len, from, fromlen);
		break;
	case DV_KIND_DATA:
		break;
	}
}

/* Transport data is queued for the workers; anything else is taken
 * alone, after what was queued before it (a handshake may end a
 * keypair). */
void dv_device_udp_rx_batch(struct dv_device *d, const struct dv_datagram *dg,
			    size_t n)
{
	uint64_t now = 0;
	bool have_now = false;

	for (size_t i = 0; i < n; i++) {
		const struct dv_msg_desc *md = dv_msg_classify(dg[i].buf, dg[i].len);

		if (md && md->kind == DV_KIND_DATA) {
			if (!have_now) {
				now = dv_now(d);
				have_now = true;
			}
			rx_data_queue(d, dg[i].buf, dg[i].len, dg[i].from,
				      dg[i].fromlen, now);
			if (d->n_rx == DV_BATCH_JOBS)
				rx_flush(d, now);
			continue;
		}
		rx_flush(d, now);
		if (!d->has_private_key || !md) {
			d->stats.rx_malformed++;
			dv_device_log_drop(d, "malformed datagram (type %u, %zu bytes)",
					   dv_msg_type(dg[i].buf, dg[i].len), dg[i].len);
			continue;
		}
		rx_handshake(d, md, dg[i].buf, dg[i].len, dg[i].from, dg[i].fromlen,
			     false);
		have_now = false; /* a handshake may take a while */
	}
	rx_flush(d, now);
}

void dv_device_udp_rx(struct dv_device *d, uint8_t *buf, size_t len,
		      const struct sockaddr *from, socklen_t fromlen)
{
	struct dv_datagram one = {
		.buf = buf, .len = len, .from = from, .fromlen = fromlen,
	};

	dv_device_udp_rx_batch(d, &one, 1);
}
