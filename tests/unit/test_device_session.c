/* Session edge cases of the device core against WireGuard's semantics
 * (whitepaper 6; docs/PROTOCOL.md §8): the counter limit
 * holds for every packet of a staged batch, a responder does not start a
 * competing handshake right after its response, and a response that fails
 * before authentication is not counted on the peer it names. */
#include <stdio.h>

#include "device/internal.h"
#include "fake_io.h"
#include "t.h"

static uint64_t clk;
static struct fake A, B;
static struct fake *both[2] = { &A, &B };

static void setup(enum dv_mode m)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, m, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, m, &pa, NULL, 1) != NULL);
}

static void teardown(void)
{
	fake_stop(&A);
	fake_stop(&B);
}

/* Whitepaper 6.1: no message is sent with a counter of
 * REJECT_AFTER_MESSAGES or more, also when several staged packets go out
 * at once; those left wait for the new session. */
static void test_staged_counter_limit(void)
{
	uint8_t pkt[60];
	struct dv_peer *pa;
	unsigned data = 0, over = 0;

	setup(DV_MODE_CLASSIC);
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	pa = A.dev->peers;
	T_CHECK(pa->cur != NULL);
	clk += 6 * DV_NSEC_PER_SEC; /* past the REKEY_TIMEOUT rate limit */
	A.nsent = 0;
	make_ip4(pkt, sizeof(pkt), 1, 2, 0x11);
	for (int i = 0; i < 3; i++)
		dv_peer_stage(pa, pkt, sizeof(pkt));
	pa->cur->send_counter = DV_REJECT_AFTER_MESSAGES - 1;
	dv_send_staged(pa);
	for (unsigned i = 0; i < A.nsent; i++) {
		if (A.sent[i].buf[0] != DV_MSG_DATA)
			continue;
		data++;
		over += dv_le64_get(A.sent[i].buf + DV_DATA_OFF_COUNTER) >=
			DV_REJECT_AFTER_MESSAGES;
	}
	T_CHECK(data == 1 && over == 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	T_CHECK(pa->staged_count == 2);
	/* The new session carries what was left. */
	B.ntun = 0;
	pump(both, 2);
	T_CHECK(B.ntun == 3);
	teardown();
}

/* WireGuard counts a handshake response as a handshake sent (its
 * last_sent_handshake): for REKEY_TIMEOUT after answering, the responder
 * starts no initiation of its own, which would replace the session the
 * initiator is about to confirm. Its data waits for that confirmation. */
static void responder_waits_in_mode(enum dv_mode m)
{
	setup(m);
	tun_send(&A, 1, 2, 60, 0xa1);
	T_CHECK(count_msgs(&A, noise_initiation_type(m)) == 1);
	deliver(&A, &B);
	T_CHECK(B.nsent >= 1 && count_msgs(&B, noise_response_type(m)) == 1);
	tun_send(&B, 2, 1, 60, 0xb2);
	T_CHECK(count_type(&B, noise_initiation_type(m)) == 0);
	T_CHECK(B.dev->peers->staged_count == 1);
	A.ntun = B.ntun = 0;
	pump(both, 2);
	T_CHECK(B.ntun == 1 && A.ntun == 1);
	T_CHECK(A.dev->peers->cur && B.dev->peers->cur &&
		A.dev->peers->cur->k.local_index ==
			B.dev->peers->cur->k.remote_index);
	teardown();
}

static void test_responder_waits(void)
{
	responder_waits_in_mode(DV_MODE_CLASSIC);
	responder_waits_in_mode(DV_MODE_HYBRID);
}

/* A response of another mode naming our pending initiation fails at
 * docs/PROTOCOL.md §8.2 step 2, before anything authenticates it: anyone
 * who saw the initiation's index could send it, so it is a global drop,
 * not a refusal by the peer. */
static void test_response_mode_unauthenticated(void)
{
	struct cookie_maker cm;
	struct dv_device_stats st;
	uint8_t fake[DV_RESPONSE_LEN];
	struct dv_peer *pa;

	setup(DV_MODE_HYBRID);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_msgs(&A, DV_MSG_HYBRID_INITIATION) == 1);
	memset(fake, 0x5a, sizeof(fake));
	fake[0] = DV_MSG_RESPONSE;
	fake[1] = fake[2] = fake[3] = 0;
	memcpy(fake + DV_RESP_OFF_RECEIVER, A.sent[0].buf + DV_OFF_SENDER, 4);
	cookie_maker_init(&cm, A.pub); /* mac1 needs only A's public key */
	cookie_add_macs(&cm, fake, sizeof(fake), clk);
	dv_device_udp_rx(A.dev, fake, sizeof(fake), (struct sockaddr *)&B.addr,
			 sizeof(B.addr));
	pa = A.dev->peers;
	dv_device_get_stats(A.dev, &st);
	T_CHECK(pa->refused_handshakes == 0 && pa->refused_mode == 0);
	T_CHECK(st.rx_handshake_bad == 1);
	/* The genuine handshake still completes. */
	A.ntun = B.ntun = 0;
	pump(both, 2);
	T_CHECK(B.ntun == 1 && pa->cur);
	teardown();
}

int main(void)
{
	T_RUN(test_staged_counter_limit);
	T_RUN(test_responder_waits);
	T_RUN(test_response_mode_unauthenticated);
	return t_done();
}
