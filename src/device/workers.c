/* The crypto workers (workers.h): a batch is published as one 64-bit word,
 * the range of its unclaimed items; every thread, the caller included,
 * claims chunks of it by compare-and-swap until none is left (the caller
 * from the front, the workers from the back), and the workers count what
 * they finished in `done`. A claim can only succeed on the
 * batch being run (a batch cannot end while an index is unclaimed), so a
 * worker that woke late simply helps with whatever batch is current, and
 * the batch's function and argument, read after a claim, are that
 * batch's. Workers wait for the next batch on the generation word, first
 * spinning, then in futex_wait; the caller waits for `done` the same way.
 */
#include "device/workers.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crypto/aead.h"

/* Packets per claim: a share of what is left (guided self-scheduling),
 * large while much is left (few compare-and-swaps), one at the end (the
 * threads finish within one packet's AEAD of each other). */
#define CHUNK_MAX 16
#define MIN_PARALLEL 8     /* smaller batches stay on the caller */
#define WORKER_SPIN_NS 20000ull /* a worker may wait this long awake */
#define CALLER_SPIN_NS 20000ull /* the caller, for chunks in flight */
#define STACK_SIZE (256u * 1024)

struct dv_workers {
	unsigned threads;
	unsigned started;
	pthread_t *tids;
	/* The batch, written before `claim` publishes it. */
	void (*fn)(void *arg, size_t i);
	void *arg;
	/* The unclaimed items [lo, hi) of the batch: hi << 32 | lo. */
	_Alignas(64) _Atomic uint64_t claim;
	_Alignas(64) _Atomic uint32_t done;  /* items finished in this batch */
	_Atomic uint32_t caller_sleeps;      /* the caller waits on `done` */
	_Alignas(64) _Atomic uint32_t gen;   /* bumped per batch, and to stop */
	_Atomic uint32_t sleepers;           /* workers waiting on `gen` */
	_Atomic bool stop;
};

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Claims the next chunk of the current batch: false when none is left.
 * The caller takes chunks from the front, the workers from the back, so
 * that the same packets of consecutive batches (the same buffers) tend
 * to stay on the same core, their data in its cache. */
static bool claim(struct dv_workers *w, bool front, size_t *start, size_t *end)
{
	uint64_t v = atomic_load_explicit(&w->claim, memory_order_acquire);

	for (;;) {
		uint64_t hi = v >> 32, lo = v & 0xffffffffu, take, nv;

		if (lo >= hi)
			return false;
		take = (hi - lo) / (2 * w->threads);
		take = take < 1 ? 1 : take > CHUNK_MAX ? CHUNK_MAX : take;
		nv = front ? v + take : v - (take << 32);
		if (atomic_compare_exchange_weak_explicit(&w->claim, &v, nv,
							  memory_order_acq_rel,
							  memory_order_acquire)) {
			*start = (size_t)(front ? lo : hi - take);
			*end = *start + (size_t)take;
			return true;
		}
	}
}

static void finished(struct dv_workers *w, size_t k)
{
	atomic_fetch_add_explicit(&w->done, (uint32_t)k, memory_order_seq_cst);
	if (atomic_load_explicit(&w->caller_sleeps, memory_order_seq_cst))
		futex_wake(&w->done);
}

/* A worker's share of the batch; returns whether it did any. */
static bool work(struct dv_workers *w)
{
	size_t start, end;
	bool did = false;

	while (claim(w, false, &start, &end)) {
		void (*fn)(void *, size_t) = w->fn;
		void *arg = w->arg;

		for (size_t i = start; i < end; i++)
			fn(arg, i);
		finished(w, end - start);
		did = true;
	}
	return did;
}

/* Waits for a batch after `seen`. It spins first only when the last
 * batch came within WORKER_SPIN_NS of the one before (batches back to
 * back: the wake-up of a futex would cost more than the wait); a thread
 * that waited longer last time sleeps at once, leaving its core to
 * whatever else runs there (the other end of a tunnel on the same
 * machine, the TCP stack). */
static uint32_t wait_batch(struct dv_workers *w, uint32_t seen, bool spin,
			   bool *keyed)
{
	uint64_t until = spin ? mono_ns() + WORKER_SPIN_NS : 0;
	unsigned spins = 0;
	uint32_t g;

	while ((g = atomic_load_explicit(&w->gen, memory_order_acquire)) == seen) {
		if (spin && (++spins % 64 != 0 || mono_ns() < until)) {
			cpu_relax();
			continue;
		}
		/* No key sleeps in the AEAD context (workers.h). */
		if (*keyed) {
			dv_aead_scrub();
			*keyed = false;
		}
		atomic_fetch_add_explicit(&w->sleepers, 1, memory_order_seq_cst);
		if (atomic_load_explicit(&w->gen, memory_order_seq_cst) == seen)
			futex_wait(&w->gen, seen);
		atomic_fetch_sub_explicit(&w->sleepers, 1, memory_order_seq_cst);
		spin = false;
	}
	return g;
}

static void *worker_main(void *p)
{
	struct dv_workers *w = p;
	/* gen was 0 when the thread was created: a thread that starts late
	 * still sees the batches (and the stop) published before. */
	uint32_t seen = 0;
	bool spin = false, keyed = false;

	for (;;) {
		uint64_t idle = mono_ns();

		seen = wait_batch(w, seen, spin, &keyed);
		spin = mono_ns() - idle < WORKER_SPIN_NS;
		if (atomic_load_explicit(&w->stop, memory_order_acquire))
			break;
		keyed |= work(w);
	}
	dv_aead_thread_done();
	return NULL;
}

unsigned dv_workers_default(void)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		n = 1;
	return n > DV_WORKERS_MAX ? DV_WORKERS_MAX : (unsigned)n;
}

struct dv_workers *dv_workers_new(unsigned threads)
{
	struct dv_workers *w;
	pthread_attr_t attr;
	sigset_t all, old;
	int e = 0;

	if (threads > DV_WORKERS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->threads = threads ? threads : 1;
	if (w->threads == 1)
		return w;
	w->tids = calloc(w->threads - 1, sizeof(*w->tids));
	if (!w->tids || (e = pthread_attr_init(&attr)) != 0) {
		free(w->tids);
		free(w);
		errno = e ? e : ENOMEM;
		return NULL;
	}
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	/* Signals are the caller's (the daemon reads them from a signalfd):
	 * the workers start with all of them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; w->started < w->threads - 1; w->started++) {
		e = pthread_create(&w->tids[w->started], &attr, worker_main, w);
		if (e)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e) {
		dv_workers_free(w);
		errno = e;
		return NULL;
	}
	return w;
}

void dv_workers_free(struct dv_workers *w)
{
	if (!w)
		return;
	atomic_store_explicit(&w->stop, true, memory_order_release);
	atomic_fetch_add_explicit(&w->gen, 1, memory_order_seq_cst);
	futex_wake(&w->gen);
	for (unsigned i = 0; i < w->started; i++)
		pthread_join(w->tids[i], NULL);
	free(w->tids);
	free(w);
}

unsigned dv_workers_threads(const struct dv_workers *w)
{
	return w ? w->threads : 1;
}

static void run_batch(struct dv_workers *w, void (*fn)(void *, size_t), void *arg,
		      size_t n)
{
	size_t start, end, mine = 0;
	uint64_t until;
	unsigned spins = 0;
	uint32_t d;

	w->fn = fn;
	w->arg = arg;
	atomic_store_explicit(&w->done, 0, memory_order_relaxed);
	atomic_store_explicit(&w->claim, (uint64_t)n << 32, memory_order_release);
	atomic_fetch_add_explicit(&w->gen, 1, memory_order_seq_cst);
	if (atomic_load_explicit(&w->sleepers, memory_order_seq_cst))
		futex_wake(&w->gen);
	/* The caller counts its own share here, not in `done`, whose cache
	 * line the workers write. */
	while (claim(w, true, &start, &end)) {
		for (size_t i = start; i < end; i++)
			fn(arg, i);
		mine += end - start;
	}
	/* What is left is in the workers' hands: at most a chunk each. */
	n -= mine;
	until = mono_ns() + CALLER_SPIN_NS;
	while ((d = atomic_load_explicit(&w->done, memory_order_acquire)) != n) {
		if (++spins % 64 == 0 && mono_ns() >= until) {
			atomic_store_explicit(&w->caller_sleeps, 1, memory_order_seq_cst);
			d = atomic_load_explicit(&w->done, memory_order_seq_cst);
			if (d != n)
				futex_wait(&w->done, d);
			atomic_store_explicit(&w->caller_sleeps, 0, memory_order_seq_cst);
			continue;
		}
		cpu_relax();
	}
}

void dv_workers_run(struct dv_workers *w, void (*fn)(void *arg, size_t i),
		    void *arg, size_t n)
{
	if (!w || w->threads < 2 || n < MIN_PARALLEL || n > 0xffffffffu) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	run_batch(w, fn, arg, n);
}
