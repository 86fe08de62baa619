/* Per-peer timers (WireGuard whitepaper, section 6; the Linux driver's
 * timers.c). Each is a deadline on the io.now_ns clock, run by
 * dv_device_timers():
 *
 * - retransmit: REKEY_TIMEOUT (+ 0..333 ms jitter) after we sent an
 *   initiation with no response yet, send another; after
 *   MAX_TIMER_HANDSHAKES + 2 attempts (about REKEY_ATTEMPT_TIME, 90 s, of
 *   retries) give up: drop the staged packets and stop keepalives.
 * - keepalive: KEEPALIVE_TIMEOUT after data was received with nothing sent
 *   back, send an empty data packet (the passive keepalive).
 * - new_handshake: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter) after data
 *   was sent with nothing received back, start a new handshake: the peer
 *   would have sent a keepalive if it still had our session.
 * - zero_keys: 3 * REJECT_AFTER_TIME after the last session was derived,
 *   wipe every key of the peer.
 * - persistent: the peer's persistent-keepalive interval after any
 *   authenticated packet, send a keepalive (keeps NAT mappings alive).
 */
#include "device/timers.h"

#include <stdlib.h>
#include <syslog.h>

#include "device/internal.h"

#define SEC(x) ((uint64_t)(x) * DV_NSEC_PER_SEC)

/* 0..333 ms, so that peers that started together drift apart. */
static uint64_t jitter(void)
{
	return dv_random_u32() % (DV_REKEY_TIMEOUT_JITTER_MS + 1) * 1000000ull;
}

/* Deadlines are never 0 (that means "off"), even on a clock at 0. */
/* Every deadline is set here, so the device knows its earliest one and
 * dv_device_timers skips the scan of all peers until then. */
static uint64_t at(struct dv_peer *p, uint64_t delta)
{
	uint64_t t = dv_now(p->dev) + delta;

	t = t ? t : 1;
	if (t < p->dev->timers_next_ns)
		p->dev->timers_next_ns = t;
	return t;
}

uint64_t dv_timers_rekey_after_ns_from_env(void)
{
	const char *s = getenv("DYBERVPN_TEST_REKEY_AFTER");
	char *end;
	unsigned long v;

	if (s && *s) {
		v = strtoul(s, &end, 10);
		if (!*end && v > 0 && v <= DV_REKEY_AFTER_TIME)
			return SEC(v);
	}
	return SEC(DV_REKEY_AFTER_TIME);
}

void dv_timers_data_sent(struct dv_peer *p)
{
	if (!p->t_new_handshake)
		p->t_new_handshake =
			at(p, SEC(DV_KEEPALIVE_TIMEOUT + DV_REKEY_TIMEOUT) + jitter());
}

void dv_timers_data_received(struct dv_peer *p)
{
	if (!p->t_keepalive)
		p->t_keepalive = at(p, SEC(DV_KEEPALIVE_TIMEOUT));
	else
		p->need_another_keepalive = true;
}

void dv_timers_any_authenticated_packet_sent(struct dv_peer *p)
{
	p->t_keepalive = 0;
}

void dv_timers_any_authenticated_packet_received(struct dv_peer *p)
{
	p->t_new_handshake = 0;
}

void dv_timers_any_authenticated_packet_traversal(struct dv_peer *p)
{
	if (p->persistent_keepalive)
		p->t_persistent = at(p, SEC(p->persistent_keepalive));
}

void dv_timers_handshake_initiated(struct dv_peer *p)
{
	p->t_retransmit = at(p, SEC(DV_REKEY_TIMEOUT) + jitter());
}

void dv_timers_handshake_complete(struct dv_peer *p)
{
	p->t_retransmit = 0;
	p->handshake_attempts = 0;
	p->initiations_unanswered = 0;
	p->sent_lastminute_handshake = false;
}

void dv_timers_session_derived(struct dv_peer *p)
{
	p->t_zero_keys = at(p, SEC(3 * DV_REJECT_AFTER_TIME));
}

void dv_timers_device_up(struct dv_peer *p)
{
	if (p->persistent_keepalive)
		p->t_persistent = at(p, 0);
}

void dv_timers_stop(struct dv_peer *p)
{
	p->t_retransmit = p->t_keepalive = p->t_new_handshake = 0;
	p->t_zero_keys = p->t_persistent = 0;
	p->need_another_keepalive = false;
}

static void expired_retransmit(struct dv_peer *p)
{
	if (p->handshake_attempts > DV_MAX_TIMER_HANDSHAKES) {
		dv_device_log(p->dev, LOG_INFO,
			      "handshake did not complete after %u attempts, giving up",
			      p->handshake_attempts + 2);
		p->t_keepalive = 0;
		p->need_another_keepalive = false;
		p->dev->stats.tx_staged_dropped += p->staged_count;
		dv_peer_purge_staged(p);
		dv_index_remove(p->dev, &p->hs_entry);
		dv_peer_hs_release(p);
		if (!p->t_zero_keys)
			p->t_zero_keys = at(p, SEC(3 * DV_REJECT_AFTER_TIME));
		return;
	}
	p->handshake_attempts++;
	dv_send_initiation(p, true);
}

static void expired_keepalive(struct dv_peer *p)
{
	dv_send_keepalive(p);
	if (p->need_another_keepalive) {
		p->need_another_keepalive = false;
		p->t_keepalive = at(p, SEC(DV_KEEPALIVE_TIMEOUT));
	}
}

static void expired_new_handshake(struct dv_peer *p)
{
	dv_device_log(p->dev, LOG_DEBUG,
		      "no reply for %d s after sending data, new handshake",
		      DV_KEEPALIVE_TIMEOUT + DV_REKEY_TIMEOUT);
	dv_send_initiation(p, false);
}

static void expired_zero_keys(struct dv_peer *p)
{
	dv_device_log(p->dev, LOG_DEBUG,
		      "no new handshake for %d s, zeroing keys",
		      3 * DV_REJECT_AFTER_TIME);
	dv_peer_clear_keys(p);
}

static void expired_persistent(struct dv_peer *p)
{
	if (p->persistent_keepalive)
		dv_send_keepalive(p);
}

static bool due(uint64_t *t, uint64_t now)
{
	if (*t && *t <= now) {
		*t = 0;
		return true;
	}
	return false;
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
}

uint64_t dv_timers_run(struct dv_peer *p, uint64_t now)
{
	if (due(&p->t_zero_keys, now))
		expired_zero_keys(p);
	if (due(&p->t_retransmit, now))
		expired_retransmit(p);
	if (due(&p->t_new_handshake, now))
		expired_new_handshake(p);
	if (due(&p->t_keepalive, now))
		expired_keepalive(p);
	if (due(&p->t_persistent, now))
		expired_persistent(p);
	return earliest(earliest(earliest(p->t_retransmit, p->t_keepalive),
				 earliest(p->t_new_handshake, p->t_zero_keys)),
			p->t_persistent);
}
