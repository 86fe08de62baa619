/* What several threads share outside the device, used at once from
 * several threads as crypto workers use it: the AEAD (a context per
 * thread), key memory (one locked allocator), random bytes and the
 * libsodium initialisation behind them, the CPU feature probe (decided by
 * its first callers) and the log. Then the re-resolve helper thread with
 * the event loop: its result handed over, and the loop letting go of a
 * lookup still in flight. Results are checked here; the suite's
 * ThreadSanitizer build runs this too and reports any data race. */
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/cpu.h"
#include "device/internal.h"
#include "fake_io.h"
#include "platform/log.h"
#include "platform/reresolve.h"
#include "util/secmem.h"
#include "t.h"

#define NTHREADS 4
#define ROUNDS 200
#define PKT 1420

static pthread_barrier_t start;

struct job {
	unsigned id;
	uint8_t key[DV_AEAD_KEY_LEN];
	uint8_t other[DV_AEAD_KEY_LEN]; /* the next thread's key */
	bool avx2;
	unsigned sealed, opened, refused, zeroed, allocs;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	static uint8_t ad[16]; /* read by every thread, written by none */
	uint8_t pt[PKT], ct[PKT + DV_AEAD_TAG_LEN], back[PKT];
	uint8_t rnd[32];
	void *keep[8] = { 0 };

	pthread_barrier_wait(&start);
	/* The first callers of the probe and of libsodium's setup. */
	j->avx2 = dv_cpu_avx2();
	dv_random(rnd, sizeof(rnd));
	for (unsigned r = 0; r < ROUNDS; r++) {
		size_t len = 1 + (r * 37 + j->id * 11) % PKT;
		size_t sz = 16 + (r * 131 + j->id * 7) % (DV_SECMEM_SLAB_MAX + 512);
		uint8_t *m;

		memset(pt, (int)(r + j->id), len);
		if (dv_aead_seal(ct, pt, len, ad, sizeof(ad), r, j->key) == 0)
			j->sealed++;
		if (dv_aead_open(back, ct, len + DV_AEAD_TAG_LEN, ad, sizeof(ad), r, j->key) == 0 &&
		    memcmp(back, pt, len) == 0)
			j->opened++;
		if (dv_aead_open(back, ct, len + DV_AEAD_TAG_LEN, ad, sizeof(ad), r, j->other) < 0)
			j->refused++;
		if (r % 16 == 0)
			dv_aead_scrub();
		/* Key memory: zeroed when handed out, some objects kept a while. */
		m = dv_secmem_calloc(sz);
		if (m) {
			size_t i = 0;

			while (i < sz && !m[i])
				i++;
			j->zeroed += i == sz;
			memset(m, 0xa5, sz);
			j->allocs++;
		}
		dv_secmem_free(keep[r % 8], 16 + ((r - 8) * 131 + j->id * 7) % (DV_SECMEM_SLAB_MAX + 512));
		keep[r % 8] = m;
		if (r % 50 == 0)
			dv_log(LOG_DEBUG, "worker %u round %u", j->id, r);
	}
	for (unsigned r = ROUNDS; r < ROUNDS + 8; r++)
		dv_secmem_free(keep[r % 8], 16 + ((r - 8) * 131 + j->id * 7) % (DV_SECMEM_SLAB_MAX + 512));
	dv_aead_thread_done();
	return NULL;
}

static void test_workers(void)
{
	struct job jobs[NTHREADS];
	pthread_t th[NTHREADS];
	unsigned started = 0;

	memset(jobs, 0, sizeof(jobs));
	for (unsigned i = 0; i < NTHREADS; i++) {
		jobs[i].id = i;
		memset(jobs[i].key, (int)(0x10 + i), sizeof(jobs[i].key));
		memset(jobs[i].other, (int)(0x10 + (i + 1) % NTHREADS), sizeof(jobs[i].other));
	}
	T_CHECK(pthread_barrier_init(&start, NULL, NTHREADS) == 0);
	for (unsigned i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, worker, &jobs[i]) == 0)
			started++;
	T_CHECK(started == NTHREADS);
	if (started != NTHREADS)
		return; /* the barrier would wait for ever */
	for (unsigned i = 0; i < NTHREADS; i++)
		T_CHECK(pthread_join(th[i], NULL) == 0);
	pthread_barrier_destroy(&start);
	for (unsigned i = 0; i < NTHREADS; i++) {
		T_CHECK(jobs[i].sealed == ROUNDS);
		T_CHECK(jobs[i].opened == ROUNDS);
		T_CHECK(jobs[i].refused == ROUNDS);
		T_CHECK(jobs[i].allocs == ROUNDS);
		T_CHECK(jobs[i].zeroed == ROUNDS);
		T_CHECK(jobs[i].avx2 == jobs[0].avx2);
	}
	T_CHECK(jobs[0].avx2 == dv_cpu_avx2());
}

/* The same once more: the threads' contexts were freed, new ones come. */
static void test_again(void)
{
	test_workers();
}

/* Threads in this process, from /proc/self/status. */
static unsigned thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	unsigned n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %u", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Peer B of device A has "localhost:40102" as its endpoint name, its
 * current address elsewhere and handshakes unanswered: the loop's tick
 * starts a lookup in a helper thread, whose result comes back through the
 * eventfd. Then a second lookup the loop abandons (dv_reresolve_free while
 * in flight): the helper frees the job when it is done. */
static void test_reresolve(void)
{
	static uint64_t clk = 1000000000ull;
	struct fake A, B, *peers[1] = { &B };
	struct dv_peer_config pc;
	struct dv_config cfg;
	struct dv_reresolve rr;
	struct sockaddr_in elsewhere;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM }, *res;
	struct epoll_event ev;
	struct dv_peer *p;
	char name[] = "localhost:40102";
	int epfd, n, resolvable;
	unsigned before;

	resolvable = getaddrinfo("localhost", "40102", &hints, &res) == 0;
	if (resolvable)
		freeaddrinfo(res);
	fake_identity(&A, 40101);
	fake_identity(&B, 40102);
	T_CHECK(fake_start(&A, &clk, DV_MODE_CLASSIC, peers, NULL, 1) != NULL);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	T_CHECK(epfd >= 0);
	if (!A.dev || epfd < 0)
		goto out;
	memset(&elsewhere, 0, sizeof(elsewhere));
	elsewhere.sin_family = AF_INET;
	elsewhere.sin_port = htons(40102);
	elsewhere.sin_addr.s_addr = htonl(0xc0000209); /* 192.0.2.9 */
	T_CHECK(dv_device_peer_set_endpoint(A.dev, B.pub, (struct sockaddr *)&elsewhere,
					    sizeof(elsewhere)) == 1);
	p = dv_peer_by_key(A.dev, B.pub);
	T_CHECK(p != NULL);
	if (!p)
		goto out;
	p->initiations_unanswered = DV_RERESOLVE_ATTEMPTS;

	memset(&cfg, 0, sizeof(cfg));
	memset(&pc, 0, sizeof(pc));
	memcpy(pc.public_key, B.pub, 32);
	pc.has_endpoint = 1;
	pc.endpoint_str = name;
	pc.reresolve = 1;
	cfg.peers = &pc;
	cfg.n_peers = 1;
	T_CHECK(dv_reresolve_init(&rr, A.dev, epfd, &cfg) == 0);
	T_CHECK(rr.n_peers == 1);
	dv_reresolve_tick(&rr, clk);
	T_CHECK(rr.lookups == 1 && rr.job != NULL);
	n = epoll_wait(epfd, &ev, 1, 10000);
	T_CHECK(n == 1);
	if (n == 1) {
		struct dv_ev *e = ev.data.ptr;

		e->fn(e, ev.events);
	}
	T_CHECK(rr.job == NULL);
	if (resolvable) {
		/* localhost is a loopback address, not 192.0.2.9. */
		T_CHECK(rr.changes == 1);
		T_CHECK(p->endpoint_len != sizeof(elsewhere) ||
			memcmp(&p->endpoint, &elsewhere, sizeof(elsewhere)) != 0);
	}
	dv_reresolve_free(&rr);

	before = thread_count();
	T_CHECK(dv_reresolve_init(&rr, A.dev, epfd, &cfg) == 0);
	dv_reresolve_tick(&rr, clk);
	T_CHECK(rr.lookups == 1 && rr.job != NULL);
	dv_reresolve_free(&rr);
	/* The detached helper ends on its own (bounded wait). */
	for (int i = 0; i < 100 && thread_count() > before; i++)
		sleep_ms(100);
	T_CHECK(thread_count() <= before);
out:
	if (epfd >= 0)
		close(epfd);
	if (A.dev)
		fake_stop(&A);
	free(B.sent);
	free(B.tun);
}

int main(void)
{
	dv_log_init(DV_LOG_STDERR, "test_threads", LOG_DEBUG);
	T_RUN(test_workers);
	T_RUN(test_again);
	T_RUN(test_reresolve);
	return t_done();
}
