/* The crypto workers (device/workers.h) and the device's batches on them:
 * every item of a batch runs exactly once, on more than one thread when
 * there are workers; the pool survives many small batches and a stop at
 * any moment; and through the device, batches sealed and opened by 2 and
 * 4 threads arrive whole and in order, with consecutive counters, both
 * ways, across a rekey in the middle of the traffic. Run under
 * ThreadSanitizer too (scripts/run-tests.sh tsan). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "device/internal.h"
#include "device/timers.h"
#include "fake_io.h"
#include "t.h"

/* ---- the pool alone ---- */

struct counts {
	_Atomic unsigned *hits;
	_Atomic unsigned other_thread; /* items run off the caller's thread */
	pthread_t caller;
	int wait_for_other;            /* item 0 waits until another ran one */
};

static void count_item(void *arg, size_t i)
{
	struct counts *c = arg;

	atomic_fetch_add(&c->hits[i], 1);
	if (!pthread_equal(pthread_self(), c->caller))
		atomic_fetch_add(&c->other_thread, 1);
	if (i == 0 && c->wait_for_other) {
		/* Bounded: 5 s, then the check below fails. */
		for (int k = 0; k < 5000 && !atomic_load(&c->other_thread); k++)
			nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	}
}

static void test_pool_each_once(void)
{
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 63, 64, 65, 1000 };
	static _Atomic unsigned hits[1000];

	for (unsigned threads = 1; threads <= 4; threads++) {
		struct dv_workers *w = dv_workers_new(threads);

		T_CHECK(w != NULL);
		if (!w)
			continue;
		T_CHECK(dv_workers_threads(w) == threads);
		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct counts c = { .hits = hits, .caller = pthread_self() };
			int once = 1;

			for (size_t i = 0; i < 1000; i++)
				atomic_store(&hits[i], 0);
			dv_workers_run(w, count_item, &c, sizes[s]);
			for (size_t i = 0; i < 1000; i++)
				once &= atomic_load(&hits[i]) == (i < sizes[s]);
			T_CHECK(once);
			if (threads == 1)
				T_CHECK(atomic_load(&c.other_thread) == 0);
		}
		dv_workers_free(w);
	}
	/* NULL: the caller alone. */
	{
		struct counts c = { .hits = hits, .caller = pthread_self() };

		for (size_t i = 0; i < 100; i++)
			atomic_store(&hits[i], 0);
		dv_workers_run(NULL, count_item, &c, 100);
		T_CHECK(atomic_load(&hits[99]) == 1 && atomic_load(&c.other_thread) == 0);
		T_CHECK(dv_workers_threads(NULL) == 1);
	}
	T_CHECK(dv_workers_new(DV_WORKERS_MAX + 1) == NULL);
	T_CHECK(dv_workers_default() >= 1 && dv_workers_default() <= DV_WORKERS_MAX);
}

/* With workers, a batch is shared: item 0 blocks until another thread
 * has run an item, which only a worker can do. */
static void test_pool_shares(void)
{
	static _Atomic unsigned hits[64];

	for (unsigned threads = 2; threads <= 3; threads++) {
		struct dv_workers *w = dv_workers_new(threads);
		struct counts c = { .hits = hits, .caller = pthread_self(),
				    .wait_for_other = 1 };

		T_CHECK(w != NULL);
		if (!w)
			continue;
		for (size_t i = 0; i < 64; i++)
			atomic_store(&hits[i], 0);
		dv_workers_run(w, count_item, &c, 64);
		T_CHECK(atomic_load(&c.other_thread) > 0);
		dv_workers_free(w);
	}
}

/* Many small batches back to back (workers spinning, sleeping and
 * waking in every phase), then a stop right after a batch and one with
 * no batch ever run. */
static void test_pool_churn(void)
{
	static _Atomic unsigned hits[16];
	struct dv_workers *w = dv_workers_new(3);
	unsigned bad = 0;

	T_CHECK(w != NULL);
	for (unsigned r = 0; w && r < 20000; r++) {
		struct counts c = { .hits = hits, .caller = pthread_self() };

		for (size_t i = 0; i < 16; i++)
			atomic_store(&hits[i], 0);
		dv_workers_run(w, count_item, &c, 8 + r % 9);
		for (size_t i = 0; i < 16; i++)
			bad += atomic_load(&hits[i]) != (i < 8 + r % 9);
		if (r % 5000 == 4999) /* let them fall asleep */
			nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}
	T_CHECK(bad == 0);
	dv_workers_free(w);
	dv_workers_free(dv_workers_new(4));
	dv_workers_free(NULL);
}

/* ---- the device on them ---- */

static uint64_t clk;

enum { N = 64, LEN = 1000 };

/* A batch of N packets from `from` (tunnel address 10.0.0.src) to
 * 10.0.0.dst, numbered from seq in bytes 28..31. */
static void fill_batch(uint8_t (*bufs)[DV_HEADROOM + LEN + DV_TAILROOM],
		       uint8_t **pkts, size_t *lens, uint8_t src, uint8_t dst,
		       uint32_t seq)
{
	for (unsigned i = 0; i < N; i++) {
		uint32_t v = seq + i;

		pkts[i] = bufs[i] + DV_HEADROOM;
		lens[i] = LEN - (i % 5) * 16; /* some padded, some not */
		make_ip4(pkts[i], lens[i], src, dst, (uint8_t)v);
		memcpy(pkts[i] + 28, &v, 4);
	}
}

/* The counters a sender's data datagrams carried, per keypair (the
 * receiver index in the header): consecutive from one to the next. */
struct ctr_track {
	uint32_t receiver;
	uint64_t last;
	int started;
};

/* A batch of N from `from`'s TUN, carried to `to` by pump(): `to` must
 * receive seq..seq+N-1 in order and intact, and the datagrams carry
 * consecutive counters. */
static int send_batch(struct fake *from, struct fake *to, struct fake **both,
		      uint8_t src, uint8_t dst, uint32_t seq, struct ctr_track *t)
{
	static uint8_t bufs[N][DV_HEADROOM + LEN + DV_TAILROOM];
	static struct fake_pkt copy[FAKE_MAX_Q];
	uint8_t *pkts[N];
	size_t lens[N];
	unsigned sent;
	int ok;

	fill_batch(bufs, pkts, lens, src, dst, seq);
	dv_device_tun_rx_batch(from->dev, pkts, lens, N);
	sent = from->nsent;
	memcpy(copy, from->sent, sent * sizeof(copy[0]));
	to->ntun = 0;
	pump(both, 2);
	ok = to->ntun == N;
	for (unsigned i = 0; i < sent; i++) {
		const uint8_t *b = copy[i].buf;
		uint32_t rcv;
		uint64_t ctr;

		if (b[0] != DV_MSG_DATA)
			continue;
		rcv = dv_le32_get(b + DV_DATA_OFF_RECEIVER);
		ctr = dv_le64_get(b + DV_DATA_OFF_COUNTER);
		if (t->started && rcv == t->receiver)
			ok &= ctr == t->last + 1;
		t->receiver = rcv;
		t->last = ctr;
		t->started = 1;
	}
	for (unsigned i = 0; ok && i < N; i++) {
		uint32_t v;

		memcpy(&v, to->tun[i].buf + 28, 4);
		ok &= v == seq + i && to->tun[i].len == LEN - (i % 5) * 16 &&
		      to->tun[i].buf[40] == (uint8_t)(seq + i);
	}
	to->ntun = 0;
	return ok;
}

static void device_threads(unsigned threads)
{
	static uint8_t bufs[N][DV_HEADROOM + LEN + DV_TAILROOM];
	struct fake A, B, *pa = &A, *pb = &B, *both[2] = { &A, &B };
	struct ctr_track ta = { 0 }, tb = { 0 };
	uint8_t *pkts[N];
	size_t lens[N];
	uint64_t h0;
	int ok = 1;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, DV_MODE_HYBRID, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_HYBRID, &pa, NULL, 1) != NULL);
	T_CHECK(dv_device_start_workers(A.dev, threads) == (int)threads);
	T_CHECK(dv_device_start_workers(B.dev, threads) == (int)threads);
	/* The session, by one packet each way. */
	tun_send(&A, 1, 2, 100, 1);
	pump(both, 2);
	tun_send(&B, 2, 1, 100, 1);
	pump(both, 2);
	A.ntun = B.ntun = 0;
	h0 = A.dev->peers->handshakes;
	for (uint32_t r = 0; r < 40; r++) {
		/* Past REKEY_AFTER_TIME halfway: A's next batch starts a
		 * handshake, the new session takes over mid-traffic. */
		if (r == 20)
			clk += (uint64_t)(DV_REKEY_AFTER_TIME + 1) * DV_NSEC_PER_SEC;
		ok &= send_batch(&A, &B, both, 1, 2, r * N, &ta);
		ok &= send_batch(&B, &A, both, 2, 1, 100000 + r * N, &tb);
	}
	T_CHECK(ok);
	T_CHECK(A.dev->peers->handshakes == h0 + 1);
	{
		struct dv_device_stats sa, sb;

		dv_device_get_stats(A.dev, &sa);
		dv_device_get_stats(B.dev, &sb);
		T_CHECK(sa.rx_data_bad == 0 && sb.rx_data_bad == 0);
	}
	/* A tampered datagram among good ones: only it is dropped. */
	{
		struct dv_device_stats st;

		fill_batch(bufs, pkts, lens, 1, 2, 7777);
		dv_device_tun_rx_batch(A.dev, pkts, lens, N);
		T_CHECK(A.nsent == N);
		A.sent[10].buf[100] ^= 1;
		B.ntun = 0;
		pump(both, 2);
		dv_device_get_stats(B.dev, &st);
		T_CHECK(B.ntun == N - 1 && st.rx_data_bad == 1);
	}
	fake_stop(&A);
	fake_stop(&B);
}

static void test_device_2_threads(void)
{
	device_threads(2);
}

static void test_device_4_threads(void)
{
	device_threads(4);
}

/* Workers replaced while the device runs, and a count out of range. */
static void test_device_restart_workers(void)
{
	struct fake A, B, *pa = &A, *pb = &B;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, DV_MODE_CLASSIC, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, DV_MODE_CLASSIC, &pa, NULL, 1) != NULL);
	T_CHECK(dv_device_start_workers(A.dev, 3) == 3);
	T_CHECK(dv_device_start_workers(A.dev, 1) == 1);
	T_CHECK(dv_device_start_workers(A.dev, 65) < 0);
	T_CHECK(dv_device_start_workers(A.dev, 0) == (int)dv_workers_default());
	fake_stop(&A);
	fake_stop(&B);
}

int main(void)
{
	T_RUN(test_pool_each_once);
	T_RUN(test_pool_shares);
	T_RUN(test_pool_churn);
	T_RUN(test_device_2_threads);
	T_RUN(test_device_4_threads);
	T_RUN(test_device_restart_workers);
	return t_done();
}
