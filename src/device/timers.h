/* Timer events of a peer (WireGuard whitepaper, section 6; the Linux
 * driver's timers.h): the send and receive paths report what happened,
 * and these calls arm or cancel the peer's deadlines. Deadlines are
 * absolute times on the io.now_ns clock (0 = not armed) and are run by
 * dv_device_timers(). What each deadline does is listed in timers.c. */
#ifndef DV_DEVICE_TIMERS_H
#define DV_DEVICE_TIMERS_H

#include <stdint.h>

struct dv_peer;

/* A data packet (not a keepalive) was sent. */
void dv_timers_data_sent(struct dv_peer *p);
/* A data packet (not a keepalive) was received and authenticated. */
void dv_timers_data_received(struct dv_peer *p);
/* Any authenticated packet (handshake, data or keepalive) was sent. */
void dv_timers_any_authenticated_packet_sent(struct dv_peer *p);
/* Any authenticated packet was received. */
void dv_timers_any_authenticated_packet_received(struct dv_peer *p);
/* Any authenticated packet went either way (persistent keepalive). */
void dv_timers_any_authenticated_packet_traversal(struct dv_peer *p);
/* We sent a handshake initiation. */
void dv_timers_handshake_initiated(struct dv_peer *p);
/* A handshake completed: the initiator got a response, or the responder
 * got the first data packet on the new session. */
void dv_timers_handshake_complete(struct dv_peer *p);
/* New transport keys were derived (either side). */
void dv_timers_session_derived(struct dv_peer *p);
/* The device starts with this peer configured: a persistent keepalive
 * goes at the first timer run, as WireGuard sends one when the interface
 * comes up, so a peer behind NAT is reachable before it has traffic. */
void dv_timers_device_up(struct dv_peer *p);
/* Cancels every deadline of the peer (removal, device shutdown). */
void dv_timers_stop(struct dv_peer *p);

/* Test knob: the environment variable DYBERVPN_TEST_REKEY_AFTER=SECONDS,
 * read once by dv_device_new, replaces REKEY_AFTER_TIME (120 s) so an
 * end-to-end test can force a rekey quickly. Not for production use.
 * Returns the rekey interval in ns. */
uint64_t dv_timers_rekey_after_ns_from_env(void);

#endif
