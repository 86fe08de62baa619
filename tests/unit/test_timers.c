/* Timers with an injected clock (whitepaper section 6): handshake retry
 * every REKEY_TIMEOUT + jitter and giving up; rekey after REKEY_AFTER_TIME
 * (and the test knob that shortens it); passive keepalive after
 * KEEPALIVE_TIMEOUT; a new handshake when the peer stops answering;
 * rejecting a session after REJECT_AFTER_TIME; zeroing all keys after
 * 3 * REJECT_AFTER_TIME; persistent keepalive; silence when idle. */
#include <stdio.h>
#include <stdlib.h>

#include "device/internal.h"
#include "fake_io.h"
#include "t.h"

#define S DV_NSEC_PER_SEC
#define MS 1000000ull

static uint64_t clk;
static struct fake A, B;
static struct fake *both[2] = { &A, &B };

static void setup(void)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * S;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, DV_MODE_CLASSIC, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_CLASSIC, &pa, NULL, 1) != NULL);
}

static void established(void)
{
	setup();
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	B.ntun = 0;
}

static void teardown(void)
{
	fake_stop(&A);
	fake_stop(&B);
}

/* Advances the clock in steps, running both devices' timers; returns
 * nothing, leaves what was sent in the queues (not delivered). */
static void run_for(uint64_t ns, uint64_t step)
{
	for (uint64_t t = 0; t < ns; t += step) {
		clk += step;
		dv_device_timers(A.dev);
		dv_device_timers(B.dev);
	}
}

static void test_retry_and_give_up(void)
{
	uint64_t last = 0, start, gap_min = UINT64_MAX, gap_max = 0;
	unsigned inits = 0;
	struct dv_device_stats st;

	setup();
	start = clk;
	tun_send(&A, 1, 2, 60, 0); /* B never answers: nothing is pumped */
	for (uint64_t t = 0; t < 200 * S; t += 10 * MS) {
		if (A.nsent) {
			T_CHECK(A.nsent == 1 && A.sent[0].buf[0] == DV_MSG_INITIATION);
			if (inits) {
				uint64_t gap = clk - last;

				gap_min = gap < gap_min ? gap : gap_min;
				gap_max = gap > gap_max ? gap : gap_max;
			}
			last = clk;
			inits++;
			A.nsent = 0;
		}
		clk += 10 * MS;
		dv_device_timers(A.dev);
	}
	/* WireGuard: the first initiation and MAX_TIMER_HANDSHAKES + 1
	 * retries (about REKEY_ATTEMPT_TIME), then it gives up. */
	T_CHECK(inits == DV_MAX_TIMER_HANDSHAKES + 2);
	T_CHECK(gap_min >= 5 * S && gap_max <= 5 * S + 334 * MS + 10 * MS);
	T_CHECK(last - start >= 95 * S && last - start <= 102 * S);
	dv_device_get_stats(A.dev, &st);
	T_CHECK(A.dev->peers->staged_count == 0 && st.tx_staged_dropped == 1);
	/* New data starts a new round at once. */
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	teardown();
}

static void test_rekey_after_time(void)
{
	struct dv_keypair *old;

	established();
	old = A.dev->peers->cur;
	clk += 119 * S;
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 0);
	pump(both, 2);
	/* The responder never rekeys on time; the initiator does at 120 s. */
	clk += 1 * S;
	tun_send(&B, 2, 1, 60, 0);
	T_CHECK(count_type(&B, DV_MSG_INITIATION) == 0);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 1); /* the data still went */
	pump(both, 2);
	T_CHECK(A.dev->peers->cur != old && A.dev->peers->prev == old);
	B.ntun = 0;
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	teardown();
}

static void test_rekey_knob(void)
{
	setenv("DYBERVPN_TEST_REKEY_AFTER", "5", 1);
	established();
	unsetenv("DYBERVPN_TEST_REKEY_AFTER");
	clk += 4 * S;
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 0);
	pump(both, 2);
	clk += 2 * S;
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	teardown();
}

static void test_passive_keepalive(void)
{
	established();
	/* B got data and has sent nothing back: a keepalive at 10 s. */
	run_for(9900 * MS, 100 * MS);
	T_CHECK(B.nsent == 0);
	run_for(200 * MS, 100 * MS);
	T_CHECK(B.nsent == 1 && B.sent[0].buf[0] == DV_MSG_DATA &&
		B.sent[0].len == DV_DATA_MIN_LEN);
	pump(both, 2);
	T_CHECK(A.ntun == 0); /* keepalives are not written to the TUN */
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 0);
	/* Data answered before 10 s: no keepalive needed. */
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	run_for(5 * S, 100 * MS);
	tun_send(&B, 2, 1, 60, 0);
	B.nsent = 0;
	run_for(6 * S, 100 * MS);
	T_CHECK(B.nsent == 0);
	teardown();
}

static void test_new_handshake_when_unanswered(void)
{
	established();
	run_for(20 * S, 100 * MS);
	pump(both, 2); /* the keepalive exchange settles */
	A.nsent = B.nsent = 0;
	B.drop_all = 1;
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	A.nsent = 0;
	/* Sent data, heard nothing for KEEPALIVE + REKEY_TIMEOUT (+ jitter). */
	run_for(14900 * MS, 100 * MS);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 0);
	run_for(500 * MS, 100 * MS);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	teardown();
}

static void test_reject_after_time(void)
{
	struct fake_pkt *saved = malloc(sizeof(*saved));
	struct dv_device_stats st;

	established();
	tun_send(&A, 1, 2, 60, 0);
	*saved = A.sent[0];
	A.nsent = 0;
	clk += 180 * S;
	dv_device_udp_rx(B.dev, saved->buf, saved->len,
			 (struct sockaddr *)&A.addr, sizeof(A.addr));
	dv_device_get_stats(B.dev, &st);
	T_CHECK(B.ntun == 0 && st.rx_data_bad == 1);
	/* A no longer sends on it: the packet waits for a new handshake. */
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	teardown();
	free(saved);
}

static void test_zero_keys(void)
{
	struct dv_peer *pa, *pb;

	established();
	pa = A.dev->peers;
	pb = B.dev->peers;
	for (int i = 0; i < 539; i++) {
		run_for(1 * S, 1 * S);
		pump(both, 2);
	}
	T_CHECK(pa->cur != NULL && pb->cur != NULL);
	run_for(2 * S, 1 * S);
	T_CHECK(!pa->cur && !pa->prev && !pa->next);
	T_CHECK(!pb->cur && !pb->prev && !pb->next);
	/* And a new session can start from scratch. */
	A.nsent = B.nsent = 0;
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	teardown();
}

static void test_persistent_keepalive(void)
{
	const char req[] = "set=1\npublic_key=%s\npersistent_keepalive_interval=25\n\n";
	char hex[65], buf[256], *out = NULL;
	size_t outlen = 0;
	unsigned n = 0;

	established();
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", B.pub[i]);
	snprintf(buf, sizeof(buf), req, hex);
	T_CHECK(dv_uapi_handle(A.dev, buf, strlen(buf), &out, &outlen) == 0);
	free(out);
	/* Turning it on sends one at once, then one per interval of silence. */
	T_CHECK(count_type(&A, DV_MSG_DATA) == 1);
	A.nsent = 0;
	for (int i = 0; i < 1000; i++) {
		clk += 100 * MS;
		dv_device_timers(A.dev);
		dv_device_timers(B.dev);
		n += count_type(&A, DV_MSG_DATA);
		pump(both, 2);
	}
	/* B's passive keepalive at 10 s is traffic too and restarts the
	 * interval: A's keepalives go at 35, 60 and 85 s. */
	T_CHECK(n == 3);
	teardown();
}

/* A peer configured with a persistent keepalive (a client behind NAT)
 * makes itself reachable as soon as the device runs, with no traffic of
 * its own, as WireGuard sends a keepalive when the interface comes up:
 * here the keepalive needs a session, so a handshake goes first. */
static void test_persistent_keepalive_from_config(void)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * S;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	A.keepalive = 25;
	T_CHECK(fake_start(&A, &clk, DV_MODE_CLASSIC, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_CLASSIC, &pa, NULL, 1) != NULL);
	dv_device_timers(A.dev);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	pump(both, 2);
	T_CHECK(A.dev->peers->cur && B.dev->peers->cur);
	/* Then one per interval of silence. */
	run_for(25 * S, 100 * MS);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 1);
	teardown();
}

static void test_idle_is_silent(void)
{
	setup();
	run_for(600 * S, 1 * S);
	T_CHECK(A.nsent == 0 && B.nsent == 0);
	teardown();
}

int main(void)
{
	T_RUN(test_retry_and_give_up);
	T_RUN(test_rekey_after_time);
	T_RUN(test_rekey_knob);
	T_RUN(test_passive_keepalive);
	T_RUN(test_new_handshake_when_unanswered);
	T_RUN(test_reject_after_time);
	T_RUN(test_zero_keys);
	T_RUN(test_persistent_keepalive);
	T_RUN(test_persistent_keepalive_from_config);
	T_RUN(test_idle_is_silent);
	return t_done();
}
