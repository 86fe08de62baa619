/* What several threads share outside the device, used at once from
 * several threads as crypto workers use it: the AEAD (a context per
 * thread), key memory (one locked allocator), random bytes and the
 * libsodium initialisation behind them, the CPU feature probe (decided by
 * its first callers) and the log. Results are checked here; the suite's
 * ThreadSanitizer build runs this too and reports any data race. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/cpu.h"
#include "platform/log.h"
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

int main(void)
{
	dv_log_init(DV_LOG_STDERR, "test_threads", LOG_DEBUG);
	T_RUN(test_workers);
	T_RUN(test_again);
	return t_done();
}
