/* Handshake fragments through the real device code (docs/PROTOCOL-fragments.md)
 * with the fake platform of fake_io.h: hybrid and pqonly handshakes
 * complete with every datagram within the budget (the default 1232 and
 * the lowest, 548), the pqonly response is fragmented too, fragments out
 * of order and duplicated still complete, a message counts once towards
 * "under load" whole or in pieces, under load fragment 0 gets the cookie
 * reply and the retry goes through, a flood of mac1-valid fragments from
 * many sources stays within the table's bounds and a real handshake still
 * completes, partial messages expire, a reassembled message is checked as
 * a whole one, and classic and whole messages are unchanged. */
#include <stdio.h>

#include "device/internal.h"
#include "fake_io.h"
#include "protocol.h"
#include "t.h"

static uint64_t clk;
static struct fake A, B;
static struct fake *both[2] = { &A, &B };

static void setup_budgets(enum dv_mode m, unsigned ba, unsigned bb)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	A.hs_budget = ba;
	B.hs_budget = bb;
	T_CHECK(fake_start(&A, &clk, m, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, m, &pa, NULL, 1) != NULL);
}

static void setup(enum dv_mode m)
{
	setup_budgets(m, 0, 0);
}

static void teardown(void)
{
	fake_stop(&A);
	fake_stop(&B);
}

static struct dv_device_stats stats(struct fake *f)
{
	struct dv_device_stats st;

	dv_device_get_stats(f->dev, &st);
	return st;
}

static unsigned frags_needed(size_t len, size_t budget)
{
	size_t l = budget - 48;

	return len <= budget ? 1u : (unsigned)((len + l - 1) / l);
}

/* A's first packet starts the handshake; the session carries data both
 * ways; every datagram both sent stayed within its budget. */
static void complete_in_mode(enum dv_mode m, unsigned budget)
{
	size_t bud = budget ? budget : 1232;
	uint8_t it = noise_initiation_type(m), rt = noise_response_type(m);
	size_t il = noise_msg_len(it), rl = noise_msg_len(rt);

	setup_budgets(m, budget, budget);
	tun_send(&A, 1, 2, 100, 0x11);
	T_CHECK(count_msgs(&A, it) == 1);
	T_CHECK(A.nsent == frags_needed(il, bud));
	for (unsigned i = 0; i < A.nsent; i++)
		T_CHECK(A.sent[i].len <= bud);
	deliver(&A, &B);
	/* The response: fragmented as needed, whatever the initiation was. */
	T_CHECK(count_msgs(&B, rt) == 1);
	T_CHECK(B.nsent == frags_needed(rl, bud));
	T_CHECK(stats(&B).rx_reassembled == (il > bud));
	pump(both, 2);
	T_CHECK(B.ntun == 1 && B.tun[0].len == 100);
	T_CHECK(stats(&A).rx_reassembled == (rl > bud));
	B.ntun = A.ntun = 0;
	tun_send(&B, 2, 1, 1000, 0x22);
	pump(both, 2);
	T_CHECK(A.ntun == 1 && A.tun[0].len == 1000);
	T_CHECK(A.max_sent <= bud || A.max_sent == 1000 + 32); /* data is not the budget's */
	T_CHECK(dv_frag_partials(A.dev->frag) == 0 && dv_frag_partials(B.dev->frag) == 0);
	teardown();
}

static void test_complete(void)
{
	complete_in_mode(DV_MODE_HYBRID, 0);
	complete_in_mode(DV_MODE_PQONLY, 0);
	complete_in_mode(DV_MODE_HYBRID, 548);
	complete_in_mode(DV_MODE_PQONLY, 548);
	complete_in_mode(DV_MODE_CLASSIC, 548);
	/* Handshake datagrams only: before any data, the largest is the budget. */
	setup_budgets(DV_MODE_PQONLY, 548, 548);
	tun_send(&A, 1, 2, 60, 0);
	deliver(&A, &B);
	T_CHECK(B.nsent == 10 && B.max_sent <= 548 && A.max_sent <= 548);
	teardown();
}

/* Classic is WireGuard on the wire at any budget: never type 9. */
static void test_classic_whole(void)
{
	setup_budgets(DV_MODE_CLASSIC, 548, 548);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(A.nsent == 1 && A.sent[0].buf[0] == DV_MSG_INITIATION &&
		A.sent[0].len == DV_INITIATION_LEN);
	deliver(&A, &B);
	T_CHECK(B.nsent == 1 && B.sent[0].buf[0] == DV_MSG_RESPONSE);
	pump(both, 2);
	T_CHECK(B.ntun == 1 && stats(&A).tx_fragments == 0 &&
		stats(&B).tx_fragments == 0);
	teardown();
}

/* A peer whose budget is the largest message sends whole messages
 * (protocol 1.0 on the wire); a 1.1 peer takes them, and its own
 * fragmented response is taken whatever the receiver's budget. */
static void test_whole_accepted(void)
{
	setup_budgets(DV_MODE_PQONLY, 4657, 0);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(A.nsent == 1 && A.sent[0].len == DV_PQ_INITIATION_LEN);
	deliver(&A, &B);
	T_CHECK(B.nsent == 4 && B.sent[0].buf[0] == DV_MSG_FRAGMENT);
	pump(both, 2);
	T_CHECK(B.ntun == 1 && stats(&B).rx_reassembled == 0 &&
		stats(&A).rx_reassembled == 1);
	teardown();
}

/* Fragments reversed, each delivered twice, interleaved: the message
 * completes once, the duplicates are refused and counted. */
static void test_out_of_order_duplicates(void)
{
	static struct fake_pkt q[16];
	unsigned n;

	setup_budgets(DV_MODE_PQONLY, 548, 0);
	tun_send(&A, 1, 2, 60, 0);
	n = A.nsent;
	T_CHECK(n == 10);
	memcpy(q, A.sent, n * sizeof(q[0]));
	A.nsent = 0;
	for (unsigned i = n; i-- > 0;) {
		dv_device_udp_rx(B.dev, q[i].buf, q[i].len,
				 (struct sockaddr *)&A.addr, sizeof(A.addr));
		if (i)
			dv_device_udp_rx(B.dev, q[i].buf, q[i].len,
					 (struct sockaddr *)&A.addr, sizeof(A.addr));
	}
	/* one more of each after completion: a new partial message, harmless */
	T_CHECK(stats(&B).rx_reassembled == 1);
	T_CHECK(stats(&B).rx_fragment_refused == n - 1);
	T_CHECK(count_msgs(&B, DV_MSG_PQ_RESPONSE) == 1);
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	teardown();
}

/* A message counts once towards "under load", whole or in pieces: the
 * fragment that opens the partial message is the one counted. */
static void test_load_counted_once(void)
{
	unsigned before;

	setup(DV_MODE_PQONLY);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(A.nsent == 4);
	before = B.dev->load_count;
	deliver(&A, &B);
	T_CHECK(B.dev->load_count == before + 1);
	/* and the fragmented response counts once at A */
	before = A.dev->load_count;
	deliver(&B, &A);
	T_CHECK(A.dev->load_count == before + 1);
	teardown();
	/* a whole message, likewise once */
	setup_budgets(DV_MODE_PQONLY, 4657, 4657);
	tun_send(&A, 1, 2, 60, 0);
	before = B.dev->load_count;
	deliver(&A, &B);
	T_CHECK(B.dev->load_count == before + 1);
	teardown();
}

/* Under load, fragment 0 of a fragmented initiation gets the one cookie
 * reply (the others are dropped without state); the initiator takes it
 * (it answers fragment 0's mac1), and its retry, every fragment with
 * mac2, completes. */
static void test_under_load_cookie(void)
{
	struct dv_device_stats st;

	setup(DV_MODE_PQONLY);
	dv_device_set_load_threshold(B.dev, 0);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(A.nsent == 4);
	deliver(&A, &B);
	st = stats(&B);
	T_CHECK(st.rx_cookie_sent == 1 && st.rx_fragments == 0);
	T_CHECK(B.nsent == 1 && B.sent[0].buf[0] == DV_MSG_COOKIE_REPLY);
	T_CHECK(dv_frag_partials(B.dev->frag) == 0);
	deliver(&B, &A);
	T_CHECK(A.dev->peers->cookie.has_cookie);
	clk += 6 * DV_NSEC_PER_SEC;
	dv_device_timers(A.dev);
	T_CHECK(count_msgs(&A, DV_MSG_PQ_INITIATION) == 1);
	pump(both, 2);
	st = stats(&B);
	T_CHECK(st.rx_cookie_sent == 1 && st.rx_reassembled == 1);
	T_CHECK(B.ntun == 1);
	teardown();
}

/* A fragment of a forged pqonly initiation from src, with a valid mac1
 * (anyone can compute it from the receiver's public key). */
static size_t forged_fragment(uint8_t *out, const uint8_t *pub, uint32_t sender,
			      unsigned number, size_t budget)
{
	static uint8_t msg[DV_PQ_INITIATION_LEN];
	struct cookie_maker cm;
	size_t n;

	dv_random(msg, sizeof(msg));
	msg[0] = DV_MSG_PQ_INITIATION;
	msg[1] = msg[2] = msg[3] = 0;
	dv_le32_put(msg + DV_OFF_SENDER, sender);
	cookie_maker_init(&cm, pub);
	n = dv_frag_make(out, msg, sizeof(msg), budget, number);
	cookie_add_frag_macs(&cm, out, n, clk, number == 0);
	cookie_maker_clear(&cm);
	return n;
}

/* The most partial messages one IPv4 source holds. */
static unsigned max_per_source(const struct dv_frag_table *t)
{
	unsigned most = 0;

	for (unsigned i = 0; i < DV_FRAG_SLOTS; i++) {
		unsigned n = 0;

		for (unsigned j = 0; j < DV_FRAG_SLOTS && t->slot[i].used; j++)
			n += t->slot[j].used && t->slot[j].srclen == 6 &&
			     !memcmp(t->slot[j].src, t->slot[i].src, 4);
		if (n > most)
			most = n;
	}
	return most;
}

/* A flood of mac1-valid fragments that never complete, from many
 * sources: the table holds at most 2 partial messages per source and 64
 * in all; the flood puts the device under load; a real initiator, given
 * a cookie, still completes its handshake. */
static void test_flood(void)
{
	static uint8_t frag[DV_MAX_HANDSHAKE_LEN];
	struct sockaddr_in evil = { 0 };
	struct dv_device_stats st;
	size_t n;

	setup(DV_MODE_PQONLY);
	evil.sin_family = AF_INET;
	for (uint32_t i = 0; i < 5000; i++) {
		evil.sin_addr.s_addr = htonl(0xc6336400u + i % 200);
		evil.sin_port = htons((uint16_t)(1000 + i % 7));
		n = forged_fragment(frag, B.pub, i, 1 + i % 3, 1232);
		dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&evil,
				 sizeof(evil));
		T_CHECK(dv_frag_partials(B.dev->frag) <= DV_FRAG_SLOTS);
		if (i % 500 == 0)
			T_CHECK(max_per_source(B.dev->frag) <= DV_FRAG_PER_SOURCE);
		clk += DV_NSEC_PER_SEC / 10000;
	}
	st = stats(&B);
	T_CHECK(dv_frag_partials(B.dev->frag) <= DV_FRAG_SLOTS);
	T_CHECK(st.rx_reassembled == 0 && st.rx_bad_mac == 0);
	T_CHECK(st.rx_fragments > 0);
	T_CHECK(max_per_source(B.dev->frag) <= DV_FRAG_PER_SOURCE);
	T_CHECK(B.dev->load_active); /* the flood counted */
	B.nsent = 0;
	/* The real initiator, during the flood. */
	tun_send(&A, 1, 2, 60, 0);
	for (int round = 0; round < 4 && !B.ntun; round++) {
		for (uint32_t i = 0; i < 300; i++) { /* the flood goes on */
			evil.sin_addr.s_addr = htonl(0xc6336400u + i % 200);
			n = forged_fragment(frag, B.pub, 90000 + i, i % 4, 1232);
			dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&evil,
					 sizeof(evil));
		}
		B.nsent = 0; /* cookie replies to the forged sources go nowhere */
		pump(both, 2);
		clk += 6 * DV_NSEC_PER_SEC;
		dv_device_timers(A.dev);
		dv_device_timers(B.dev);
	}
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	T_CHECK(dv_frag_partials(B.dev->frag) <= DV_FRAG_SLOTS);
	teardown();
}

/* Partial messages are wiped REKEY_TIMEOUT after their first fragment,
 * by the timers when nothing else arrives. */
static void test_expiry(void)
{
	static uint8_t frag[DV_MAX_HANDSHAKE_LEN];
	size_t n;

	setup(DV_MODE_PQONLY);
	n = forged_fragment(frag, B.pub, 7, 0, 1232);
	dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&A.addr, sizeof(A.addr));
	T_CHECK(dv_frag_partials(B.dev->frag) == 1);
	T_CHECK(dv_device_timers(B.dev) <= (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC);
	clk += (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC - 1;
	dv_device_timers(B.dev);
	T_CHECK(dv_frag_partials(B.dev->frag) == 1);
	clk += 1;
	dv_device_timers(B.dev);
	T_CHECK(dv_frag_partials(B.dev->frag) == 0);
	T_CHECK(B.dev->frag->stats.expired == 1);
	teardown();
}

/* Complete messages that are not what their fragments said, or fail the
 * whole message's checks, are dropped at those checks. */
static void test_reassembled_checked(void)
{
	static uint8_t msg[DV_PQ_INITIATION_LEN], frag[DV_MAX_HANDSHAKE_LEN];
	struct cookie_maker cm;
	struct dv_device_stats st;
	size_t n;

	setup(DV_MODE_PQONLY);
	cookie_maker_init(&cm, B.pub);
	/* 1: the message's own type byte is not the inner type */
	dv_random(msg, sizeof(msg));
	msg[0] = DV_MSG_PQ_INITIATION, msg[1] = msg[2] = msg[3] = 0;
	cookie_add_macs(&cm, msg, sizeof(msg), clk);
	for (unsigned i = 0; i < 4; i++) {
		n = dv_frag_make(frag, msg, sizeof(msg), 1232, i);
		if (i == 0)
			frag[16] = DV_MSG_PQ_RESPONSE; /* the message's type byte */
		cookie_add_frag_macs(&cm, frag, n, clk, i == 0);
		dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&A.addr, sizeof(A.addr));
	}
	st = stats(&B);
	T_CHECK(st.rx_reassembled == 1 && st.rx_malformed == 1);
	/* 2: fragments with valid macs around a message whose own mac1 is
	 * wrong: dropped at the message's mac1 */
	dv_le32_put(msg + DV_OFF_SENDER, 99);
	cookie_add_macs(&cm, msg, sizeof(msg), clk);
	msg[DV_OFF_MAC1(sizeof(msg))] ^= 1;
	for (unsigned i = 0; i < 4; i++) {
		n = dv_frag_make(frag, msg, sizeof(msg), 1232, i);
		cookie_add_frag_macs(&cm, frag, n, clk, i == 0);
		dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&A.addr, sizeof(A.addr));
	}
	st = stats(&B);
	T_CHECK(st.rx_reassembled == 2 && st.rx_bad_mac == 1);
	/* 3: a fragment with a wrong mac1 keeps no state */
	n = dv_frag_make(frag, msg, sizeof(msg), 1232, 0);
	cookie_add_frag_macs(&cm, frag, n, clk, true);
	frag[20] ^= 1;
	dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&A.addr, sizeof(A.addr));
	T_CHECK(stats(&B).rx_bad_mac == 2 && dv_frag_partials(B.dev->frag) == 0);
	/* 4: malformed headers are dropped before mac1 */
	n = dv_frag_make(frag, msg, sizeof(msg), 1232, 0);
	frag[10] = 17;
	dv_device_udp_rx(B.dev, frag, n, (struct sockaddr *)&A.addr, sizeof(A.addr));
	T_CHECK(stats(&B).rx_malformed == 2 && stats(&B).rx_bad_mac == 2);
	/* 5: a fragment of a classic message is refused: not fragmentable */
	memset(frag, 0, 64);
	frag[0] = DV_MSG_FRAGMENT, frag[8] = DV_MSG_INITIATION, frag[10] = 2;
	frag[12] = DV_INITIATION_LEN;
	dv_device_udp_rx(B.dev, frag, 64, (struct sockaddr *)&A.addr, sizeof(A.addr));
	T_CHECK(stats(&B).rx_malformed == 3);
	cookie_maker_clear(&cm);
	teardown();
}

int main(void)
{
	T_RUN(test_complete);
	T_RUN(test_classic_whole);
	T_RUN(test_whole_accepted);
	T_RUN(test_out_of_order_duplicates);
	T_RUN(test_load_counted_once);
	T_RUN(test_under_load_cookie);
	T_RUN(test_flood);
	T_RUN(test_expiry);
	T_RUN(test_reassembled_checked);
	return t_done();
}
