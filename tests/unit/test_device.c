/* The device core end to end in memory: two devices with a fake platform
 * (fake_io.h) handshake in each mode and exchange data both ways; a
 * wrong-mode message is counted and dropped; replays, spoofed inner
 * sources and random or truncated datagrams of every type are dropped and
 * leave the session working; under load a cookie reply comes first;
 * roaming follows the last authenticated source. */
#include <stdio.h>

#include "device/internal.h"
#include "fake_io.h"
#include "t.h"

static uint64_t clk;
static struct fake A, B;
static struct fake *both[2] = { &A, &B };

static void setup(enum dv_mode ma, enum dv_mode mb)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, ma, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, mb, &pa, NULL, 1) != NULL);
}

static void teardown(void)
{
	fake_stop(&A);
	fake_stop(&B);
}

/* Sends one packet each way and checks it arrives intact. */
static int exchange(size_t len, uint8_t fill)
{
	uint8_t want[2000];
	int ok = 1;

	A.ntun = B.ntun = 0;
	tun_send(&A, 1, 2, len, fill);
	pump(both, 2);
	make_ip4(want, len, 1, 2, fill);
	ok &= B.ntun == 1 && B.tun[0].len == len && !memcmp(B.tun[0].buf, want, len);
	tun_send(&B, 2, 1, len, (uint8_t)(fill + 1));
	pump(both, 2);
	make_ip4(want, len, 2, 1, (uint8_t)(fill + 1));
	ok &= A.ntun == 1 && A.tun[0].len == len && !memcmp(A.tun[0].buf, want, len);
	return ok;
}

static void handshake_in_mode(enum dv_mode m)
{
	struct dv_peer *pa, *pb;

	setup(m, m);
	/* The first packet is staged, an initiation goes out; the response
	 * releases it; the answer flows back on the new session. */
	tun_send(&A, 1, 2, 100, 0xaa);
	T_CHECK(count_msgs(&A, noise_initiation_type(m)) == 1);
	/* Under the default budget (1232 bytes) the hybrid initiation
	 * (1332) leaves in 2 fragments, the pqonly one (4657) in 4. */
	T_CHECK(A.nsent == (m == DV_MODE_CLASSIC ? 1u : m == DV_MODE_HYBRID ? 2u : 4u));
	pump(both, 2);
	T_CHECK(B.ntun == 1 && B.tun[0].len == 100);
	pa = A.dev->peers;
	pb = B.dev->peers;
	T_CHECK(pa->cur && pa->cur->k.initiator);
	T_CHECK(pb->cur && !pb->cur->k.initiator && !pb->next);
	T_CHECK(exchange(100, 1));
	T_CHECK(exchange(1420, 2)); /* a full-MTU packet goes unpadded */
	T_CHECK(exchange(21, 3));
	T_CHECK(pa->rx_bytes > 0 && pa->tx_bytes > 0);
	/* IPv6 inner packets route too. */
	{
		uint8_t buf[DV_HEADROOM + 60 + DV_TAILROOM] = { 0 }, *p6 = buf + DV_HEADROOM;

		p6[0] = 0x60;
		p6[5] = 20; /* payload length */
		p6[8] = 0xfd, p6[23] = 1;   /* src fd00::1 */
		p6[24] = 0xfd, p6[39] = 2;  /* dst fd00::2 */
		B.ntun = 0;
		dv_device_tun_rx(A.dev, p6, 60);
		pump(both, 2);
		T_CHECK(B.ntun == 1 && B.tun[0].len == 60);
	}
	teardown();
}

static void test_classic(void)
{
	handshake_in_mode(DV_MODE_CLASSIC);
	/* Classic is WireGuard's wire format: a 1420-byte packet becomes a
	 * 1452-byte message, 100 bytes pad to 112 + 32. */
	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	tun_send(&A, 1, 2, 100, 0);
	T_CHECK(A.sent[0].len == DV_INITIATION_LEN);
	pump(both, 2);
	tun_send(&A, 1, 2, 1420, 0);
	T_CHECK(A.nsent == 1 && A.sent[0].len == 1452);
	A.nsent = 0;
	tun_send(&A, 1, 2, 100, 0);
	T_CHECK(A.nsent == 1 && A.sent[0].len == 16 + 112 + 16);
	A.nsent = 0;
	teardown();
}

static void test_hybrid(void)
{
	handshake_in_mode(DV_MODE_HYBRID);
}

static void test_pqonly(void)
{
	handshake_in_mode(DV_MODE_PQONLY);
}

static uint64_t refused(struct fake *f)
{
	return f->dev->peers->refused_handshakes;
}

/* A classic initiation to a peer configured hybrid: authenticated, then
 * refused for its mode (no silent downgrade), and counted on that peer. */
static void test_wrong_mode(void)
{
	setup(DV_MODE_CLASSIC, DV_MODE_HYBRID);
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	T_CHECK(B.ntun == 0);
	T_CHECK(refused(&B) == 1 && B.dev->peers->refused_mode == 1);
	T_CHECK(!B.dev->peers->cur && !B.dev->peers->next);
	teardown();
	/* Replays of one captured old-mode initiation count once. */
	setup(DV_MODE_CLASSIC, DV_MODE_HYBRID);
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(A.nsent == 1 && A.sent[0].buf[0] == DV_MSG_INITIATION);
	{
		struct fake_pkt *init = malloc(sizeof(*init));

		T_CHECK(init != NULL);
		*init = A.sent[0];
		for (int i = 0; i < 1000; i++) {
			clk += DV_NSEC_PER_SEC / 10;
			dv_device_udp_rx(B.dev, init->buf, init->len,
					 (struct sockaddr *)&A.addr, sizeof(A.addr));
		}
		free(init);
	}
	T_CHECK(B.dev->peers->refused_mode == 1 && refused(&B) == 1);
	/* A fresh one (the retry, newer timestamp) counts again. */
	A.nsent = 0;
	dv_device_timers(A.dev);
	pump(both, 2);
	T_CHECK(B.dev->peers->refused_mode == 2);
	teardown();
}

static void test_replay_and_source(void)
{
	struct fake_pkt saved;
	struct dv_device_stats st;

	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	T_CHECK(exchange(80, 7));
	/* Capture a data packet and deliver it twice. */
	tun_send(&A, 1, 2, 80, 9);
	saved = A.sent[0];
	B.ntun = 0;
	pump(both, 2);
	T_CHECK(B.ntun == 1);
	dv_device_udp_rx(B.dev, saved.buf, saved.len,
			 (struct sockaddr *)&A.addr, sizeof(A.addr));
	dv_device_get_stats(B.dev, &st);
	T_CHECK(B.ntun == 1 && st.rx_data_bad == 1);
	/* A inner source that is not A's allowed IP is dropped by B. */
	tun_send(&A, 5, 2, 80, 9);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(B.ntun == 1 && st.rx_bad_source == 1);
	/* No peer for the destination. */
	tun_send(&A, 1, 77, 80, 9);
	dv_device_get_stats(A.dev, &st);
	T_CHECK(A.nsent == 0 && st.tx_no_route == 1);
	T_CHECK(exchange(80, 11));
	teardown();
}

static uint64_t rng = 0x1234567887654321ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Garbage of every type and size, and truncated or bit-flipped copies of
 * real messages, leave the established session working. */
static void garbage_in_mode(enum dv_mode m)
{
	static const size_t sizes[] = { 0, 1, 3, 4, 16, 31, 32, 33, 64, 92, 148,
					1180, 1332, 4505, 4657, 1452 };
	struct fake_pkt *real = malloc(4 * sizeof(*real));
	uint8_t *buf = malloc(FAKE_MAX_PKT);
	unsigned nreal = 0;

	setup(m, m);
	/* Capture an initiation, a response and two data messages. */
	tun_send(&A, 1, 2, 60, 0);
	real[nreal++] = A.sent[0];
	pump(both, 2);
	T_CHECK(exchange(60, 1));
	tun_send(&A, 1, 2, 60, 0);
	real[nreal++] = A.sent[0];
	pump(both, 2);
	for (int round = 0; round < 3000; round++) {
		size_t len;

		if (round % 3 == 0) {
			const struct fake_pkt *r = &real[rnd() % nreal];

			len = (size_t)(rnd() % (r->len + 1));
			memcpy(buf, r->buf, r->len);
			if (round % 2 && len)
				buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			else if (len < r->len)
				len = r->len, buf[rnd() % len] ^= 0x40;
		} else {
			len = sizes[rnd() % (sizeof(sizes) / sizeof(sizes[0]))];
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd();
			if (len >= 4) {
				buf[0] = (uint8_t)(1 + rnd() % 8);
				buf[1] = buf[2] = buf[3] = 0;
			}
		}
		dv_device_udp_rx(B.dev, buf, len, (struct sockaddr *)&A.addr,
				 sizeof(A.addr));
		dv_device_udp_rx(A.dev, buf, len, (struct sockaddr *)&B.addr,
				 sizeof(B.addr));
		/* Replies to garbage (cookie replies, none expected) go nowhere. */
		A.nsent = B.nsent = 0;
	}
	T_CHECK(exchange(200, 5));
	T_CHECK(A.nlogs < 3000); /* drop logs are rate-limited */
	teardown();
	free(real);
	free(buf);
}

static void test_garbage(void)
{
	garbage_in_mode(DV_MODE_CLASSIC);
	garbage_in_mode(DV_MODE_HYBRID);
}

/* Under load the responder answers with a cookie reply and does no DH;
 * the initiator's retry carries mac2 and goes through. */
static void test_under_load(void)
{
	struct dv_device_stats st;

	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	dv_device_set_load_threshold(B.dev, 0);
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 1 && B.ntun == 0);
	T_CHECK(A.dev->peers->cookie.has_cookie);
	clk += 6 * DV_NSEC_PER_SEC;
	dv_device_timers(A.dev);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 1);
	T_CHECK(B.ntun == 1);
	teardown();
}

/* Junk of every handshake type with a wrong mac1, far above the load
 * threshold, does not put the device under load: a real handshake right
 * after gets its response at once, no cookie round trip. Load entered by
 * mac1-valid handshakes lasts a second after. */
static void test_junk_no_load(void)
{
	static const uint8_t types[] = { DV_MSG_INITIATION, DV_MSG_HYBRID_INITIATION,
					 DV_MSG_PQ_INITIATION };
	static uint8_t junk[DV_MAX_HANDSHAKE_LEN];
	struct dv_device_stats st;
	struct sockaddr_in evil;

	setup(DV_MODE_HYBRID, DV_MODE_HYBRID);
	evil = A.addr;
	for (int i = 0; i < 3000; i++) {
		uint8_t t = types[i % 3];
		size_t n = noise_msg_len(t);

		dv_random(junk, n);
		junk[0] = t, junk[1] = junk[2] = junk[3] = 0;
		evil.sin_addr.s_addr = htonl(0x0a000000u + (uint32_t)(i % 32));
		dv_device_udp_rx(B.dev, junk, n, (struct sockaddr *)&evil, sizeof(evil));
	}
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_bad_mac == 3000 && st.rx_cookie_sent == 0);
	T_CHECK(B.nsent == 0);
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 0 && B.ntun == 1);
	teardown();

	/* Entered (threshold 0 here), held a second after it last held. */
	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	dv_device_set_load_threshold(B.dev, 0);
	tun_send(&A, 1, 2, 60, 0);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 1);
	dv_device_set_load_threshold(B.dev, 1000);
	A.dev->peers->cookie.has_cookie = false;
	clk += DV_NSEC_PER_SEC / 2;
	A.dev->peers->sent_initiation = false;
	dv_send_initiation(A.dev->peers, true);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 2); /* still under load */
	A.dev->peers->cookie.has_cookie = false;
	clk += DV_NSEC_PER_SEC;
	A.dev->peers->sent_initiation = false;
	dv_send_initiation(A.dev->peers, true);
	pump(both, 2);
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 2 && B.ntun == 1); /* no longer */
	teardown();
}

/* Under load, a flood of mac1-valid initiations (one captured message,
 * replayed from many sources) gets at most DV_COOKIE_REPLY_BURST cookie
 * replies at once and DV_COOKIE_REPLIES_PER_SECOND after. */
static void test_cookie_reply_bound(void)
{
	struct dv_device_stats st;
	struct fake_pkt *init = malloc(sizeof(*init));
	struct sockaddr_in src;

	T_CHECK(init != NULL);
	if (!init)
		return;
	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	dv_device_set_load_threshold(B.dev, 0);
	tun_send(&A, 1, 2, 60, 0);
	*init = A.sent[0];
	src = A.addr;
	for (uint32_t i = 0; i < 5000; i++) {
		src.sin_addr.s_addr = htonl(0x0a000000u + i);
		B.nsent = 0; /* the fake's queue holds FAKE_MAX_Q */
		dv_device_udp_rx(B.dev, init->buf, init->len,
				 (struct sockaddr *)&src, sizeof(src));
	}
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == DV_COOKIE_REPLY_BURST);
	T_CHECK(st.rx_cookie_limited == 5000 - DV_COOKIE_REPLY_BURST);
	/* A second later: a second's worth more, not the flood. */
	clk += DV_NSEC_PER_SEC;
	for (uint32_t i = 0; i < 20000; i++) {
		src.sin_addr.s_addr = htonl(0x0b000000u + i);
		B.nsent = 0;
		dv_device_udp_rx(B.dev, init->buf, init->len,
				 (struct sockaddr *)&src, sizeof(src));
	}
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent == 2 * DV_COOKIE_REPLY_BURST);
	clk += 10 * DV_NSEC_PER_SEC;
	for (uint32_t i = 0; i < 5000; i++) {
		clk += DV_NSEC_PER_SEC / 10000; /* 10,000 a second for 0.5 s */
		src.sin_addr.s_addr = htonl(0x0c000000u + i);
		B.nsent = 0;
		dv_device_udp_rx(B.dev, init->buf, init->len,
				 (struct sockaddr *)&src, sizeof(src));
	}
	dv_device_get_stats(B.dev, &st);
	T_CHECK(st.rx_cookie_sent - 2 * DV_COOKIE_REPLY_BURST <=
		DV_COOKIE_REPLY_BURST + DV_COOKIE_REPLIES_PER_SECOND / 2 + 1);
	/* One source alone gets its per-source share: a burst of 5. */
	clk += 10 * DV_NSEC_PER_SEC;
	dv_device_get_stats(B.dev, &st);
	{
		uint64_t before = st.rx_cookie_sent;

		for (int i = 0; i < 1000; i++) {
			B.nsent = 0;
			dv_device_udp_rx(B.dev, init->buf, init->len,
					 (struct sockaddr *)&A.addr, sizeof(A.addr));
		}
		dv_device_get_stats(B.dev, &st);
		T_CHECK(st.rx_cookie_sent - before == DV_RATELIMIT_BURST);
	}
	free(init);
	teardown();
}

/* Message limits: past REKEY_AFTER_MESSAGES a new handshake starts while
 * data still flows; at REJECT_AFTER_MESSAGES the session sends no more. */
static void test_message_limits(void)
{
	struct dv_peer *pa;

	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	T_CHECK(exchange(60, 1));
	pa = A.dev->peers;
	clk += 6 * DV_NSEC_PER_SEC; /* past the REKEY_TIMEOUT rate limit */
	pa->cur->send_counter = DV_REKEY_AFTER_MESSAGES + 1;
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 1);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	A.nsent = 0;
	clk += 6 * DV_NSEC_PER_SEC;
	pa->cur->send_counter = DV_REJECT_AFTER_MESSAGES;
	tun_send(&A, 1, 2, 60, 0);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 0);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	B.ntun = 0;
	pump(both, 2);
	T_CHECK(B.ntun == 1); /* the staged packet went on the new session */
	teardown();
}

/* Under load, each source gets 20 handshakes a second, bursts of 5. */
static void test_ratelimit(void)
{
	static struct dv_ratelimit r;
	const uint8_t ip1[4] = { 192, 0, 2, 1 }, ip2[4] = { 192, 0, 2, 2 };
	uint8_t v6a[16] = { 0x20, 0x01, 0x0d, 0xb8 }, v6b[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint64_t t = 5 * DV_NSEC_PER_SEC;
	unsigned ok = 0;

	T_CHECK(dv_ratelimit_init(&r) == 0);
	for (int i = 0; i < 10; i++)
		ok += dv_ratelimit_allow(&r, AF_INET, ip1, t);
	T_CHECK(ok == DV_RATELIMIT_BURST);
	T_CHECK(dv_ratelimit_allow(&r, AF_INET, ip2, t));
	T_CHECK(dv_ratelimit_allow(&r, AF_INET, ip1, t + 50000000));
	T_CHECK(!dv_ratelimit_allow(&r, AF_INET, ip1, t + 50000000));
	/* Over a long run: 20 per second. */
	ok = 0;
	for (int i = 0; i < 10000; i++)
		ok += dv_ratelimit_allow(&r, AF_INET, ip1, t + 100000000ull + i * 1000000ull);
	T_CHECK(ok >= 200 && ok <= 206);
	/* One IPv6 /64 is one source. */
	v6b[15] = 9;
	ok = 0;
	for (int i = 0; i < 5; i++)
		ok += dv_ratelimit_allow(&r, AF_INET6, v6a, t);
	T_CHECK(ok == 5 && !dv_ratelimit_allow(&r, AF_INET6, v6b, t));
	dv_ratelimit_free(&r);
	T_CHECK(r.slot == NULL);
}

/* The limiter fails closed: sources that share a bucket are each limited
 * (none evicts another to get a fresh burst), and a new source is refused
 * while its bucket is full of live entries. */
static void test_ratelimit_collisions(void)
{
	static struct dv_ratelimit r;
	uint8_t ips[DV_RATELIMIT_WAYS + 1][4], ip[4] = { 10, 0, 0, 0 };
	uint64_t t = 5 * DV_NSEC_PER_SEC;
	size_t want, found = 0;
	unsigned ok = 0;

	T_CHECK(dv_ratelimit_init(&r) == 0);
	want = dv_ratelimit_bucket(&r, AF_INET, ip);
	for (uint32_t i = 1; found <= DV_RATELIMIT_WAYS && i < 1u << 24; i++) {
		ip[1] = (uint8_t)(i >> 16), ip[2] = (uint8_t)(i >> 8), ip[3] = (uint8_t)i;
		if (dv_ratelimit_bucket(&r, AF_INET, ip) == want)
			memcpy(ips[found++], ip, 4);
	}
	T_CHECK(found == DV_RATELIMIT_WAYS + 1);
	/* Two colliding sources in rotation: 5 each, then nothing. */
	for (int i = 0; i < 100; i++) {
		ok += dv_ratelimit_allow(&r, AF_INET, ips[0], t);
		ok += dv_ratelimit_allow(&r, AF_INET, ips[1], t);
	}
	T_CHECK(ok == 2 * DV_RATELIMIT_BURST);
	/* Fill the bucket; the next colliding source is refused outright. */
	for (int i = 2; i < DV_RATELIMIT_WAYS; i++)
		T_CHECK(dv_ratelimit_allow(&r, AF_INET, ips[i], t));
	T_CHECK(!dv_ratelimit_allow(&r, AF_INET, ips[DV_RATELIMIT_WAYS], t));
	T_CHECK(r.refused_full == 1);
	/* Rotating through the whole bucket still gives no new burst. */
	ok = 0;
	for (int k = 0; k < 50; k++)
		for (int i = 0; i <= DV_RATELIMIT_WAYS; i++)
			ok += dv_ratelimit_allow(&r, AF_INET, ips[i], t);
	T_CHECK(ok == (DV_RATELIMIT_WAYS - 2) * (DV_RATELIMIT_BURST - 1));
	/* A second later idle entries are free again. */
	T_CHECK(dv_ratelimit_allow(&r, AF_INET, ips[DV_RATELIMIT_WAYS],
				   t + 2 * DV_NSEC_PER_SEC));
	/* Many /64s of one IPv6 /48 in rotation are limited too. */
	{
		uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };
		unsigned pass = 0;

		for (int k = 0; k < 3; k++)
			for (uint32_t i = 0; i < 20000; i++) {
				v6[6] = (uint8_t)(i >> 8), v6[7] = (uint8_t)i;
				pass += dv_ratelimit_allow(&r, AF_INET6, v6, t + 10 * DV_NSEC_PER_SEC);
			}
		T_CHECK(pass <= DV_RATELIMIT_BUCKETS * DV_RATELIMIT_WAYS * DV_RATELIMIT_BURST);
	}
	dv_ratelimit_free(&r);
}

/* The endpoint follows the source of the last authenticated packet. */
static void test_roaming(void)
{
	struct sockaddr_in *ep;

	setup(DV_MODE_CLASSIC, DV_MODE_CLASSIC);
	T_CHECK(exchange(60, 1));
	A.addr.sin_addr.s_addr = htonl(0x7f000009);
	T_CHECK(exchange(60, 2));
	ep = (struct sockaddr_in *)&B.dev->peers->endpoint;
	T_CHECK(ep->sin_addr.s_addr == htonl(0x7f000009));
	/* A forged packet from elsewhere does not move it. */
	{
		uint8_t junk[64] = { 4 };
		struct sockaddr_in evil = A.addr;

		evil.sin_addr.s_addr = htonl(0x0a0a0a0a);
		dv_device_udp_rx(B.dev, junk, sizeof(junk),
				 (struct sockaddr *)&evil, sizeof(evil));
		T_CHECK(ep->sin_addr.s_addr == htonl(0x7f000009));
	}
	teardown();
}

/* Three devices: A routes to B and C by destination. */
static void test_several_peers(void)
{
	struct fake C;
	struct fake *pbc[2] = { &B, &C }, *pa = &A, *all[3] = { &A, &B, &C };

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	fake_identity(&C, 3);
	T_CHECK(fake_start(&A, &clk, DV_MODE_HYBRID, pbc, NULL, 2) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_HYBRID, &pa, NULL, 1) != NULL);
	T_CHECK(fake_start(&C, &clk, DV_MODE_HYBRID, &pa, NULL, 1) != NULL);
	tun_send(&A, 1, 2, 60, 0);
	tun_send(&A, 1, 3, 70, 0);
	pump(all, 3);
	T_CHECK(B.ntun == 1 && B.tun[0].len == 60);
	T_CHECK(C.ntun == 1 && C.tun[0].len == 70);
	/* C cannot claim B's address. */
	tun_send(&C, 2, 1, 60, 0);
	pump(all, 3);
	T_CHECK(A.ntun == 0);
	fake_stop(&A);
	fake_stop(&B);
	fake_stop(&C);
}

/* dv_device_tun_rx_batch: packets for two peers interleaved (runs of one
 * peer, one without a route among them) arrive in order at each, the
 * byte counters match the per-packet path; a batch before any session is
 * staged whole and released by one handshake. */
static void test_batch(void)
{
	enum { K = 8 };
	static const uint8_t dst[K] = { 2, 2, 3, 2, 9, 3, 3, 2 };
	static uint8_t bufs[K][DV_HEADROOM + 200 + DV_TAILROOM];
	struct fake C;
	struct fake *pbc[2] = { &B, &C }, *pa = &A, *all[3] = { &A, &B, &C };
	uint8_t *pkts[K];
	size_t lens[K];
	struct dv_device_stats st0, st1;
	uint64_t tx_b;
	unsigned nb = 0, nc = 0, sent0;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	fake_identity(&C, 3);
	T_CHECK(fake_start(&A, &clk, DV_MODE_HYBRID, pbc, NULL, 2) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_HYBRID, &pa, NULL, 1) != NULL);
	T_CHECK(fake_start(&C, &clk, DV_MODE_HYBRID, &pa, NULL, 1) != NULL);
	/* No session yet: B's three packets are staged, one initiation. */
	for (unsigned i = 0; i < 3; i++) {
		pkts[i] = bufs[i] + DV_HEADROOM;
		lens[i] = 60 + i;
		make_ip4(pkts[i], lens[i], 1, 2, (uint8_t)(0x20 + i));
	}
	dv_device_tun_rx_batch(A.dev, pkts, lens, 3);
	T_CHECK(A.nsent >= 1 && count_type(&A, DV_MSG_DATA) == 0); /* a handshake only */
	pump(all, 3);
	T_CHECK(B.ntun == 3);
	for (unsigned i = 0; i < 3 && i < B.ntun; i++)
		T_CHECK(B.tun[i].len == 60 + i && B.tun[i].buf[30] == 0x20 + i);
	tun_send(&A, 1, 3, 60, 0);
	pump(all, 3);
	T_CHECK(C.ntun == 1);

	B.ntun = C.ntun = 0;
	dv_device_get_stats(A.dev, &st0);
	tx_b = A.dev->peers->tx_bytes;
	sent0 = A.nsent;
	for (unsigned i = 0; i < K; i++) {
		pkts[i] = bufs[i] + DV_HEADROOM;
		lens[i] = 100 + i;
		make_ip4(pkts[i], lens[i], 1, dst[i], (uint8_t)(0x40 + i));
	}
	dv_device_tun_rx_batch(A.dev, pkts, lens, K);
	dv_device_get_stats(A.dev, &st1);
	T_CHECK(st1.tx_no_route == st0.tx_no_route + 1);
	T_CHECK(A.nsent == sent0 + K - 1);
	/* 16-byte header, payload padded to 16, 16-byte tag. */
	T_CHECK(A.dev->peers->tx_bytes == tx_b + 16 + 112 + 16 + 16 + 112 +
						   16 + 16 + 112 + 16 + 16 +
						   112 + 16);
	pump(all, 3);
	T_CHECK(B.ntun == 4 && C.ntun == 3);
	for (unsigned i = 0; i < K; i++) {
		struct fake *f = dst[i] == 2 ? &B : dst[i] == 3 ? &C : NULL;
		unsigned *n = dst[i] == 2 ? &nb : &nc;

		if (!f || *n >= f->ntun)
			continue;
		T_CHECK(f->tun[*n].len == 100 + i &&
			f->tun[*n].buf[30] == 0x40 + i);
		(*n)++;
	}
	T_CHECK(nb == 4 && nc == 3);
	fake_stop(&A);
	fake_stop(&B);
	fake_stop(&C);
}

int main(void)
{
	T_RUN(test_batch);
	T_RUN(test_classic);
	T_RUN(test_hybrid);
	T_RUN(test_pqonly);
	T_RUN(test_wrong_mode);
	T_RUN(test_replay_and_source);
	T_RUN(test_garbage);
	T_RUN(test_under_load);
	T_RUN(test_junk_no_load);
	T_RUN(test_cookie_reply_bound);
	T_RUN(test_message_limits);
	T_RUN(test_ratelimit);
	T_RUN(test_ratelimit_collisions);
	T_RUN(test_roaming);
	T_RUN(test_several_peers);
	return t_done();
}
