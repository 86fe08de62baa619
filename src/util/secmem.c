#include "util/secmem.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "crypto/ct.h"
#include "platform/log.h"
#include "util/tsan.h"

/* A class's first chunk is one page (or the slot, if larger); each next
 * one twice the last, up to CHUNK: an idle daemon locks a few pages per
 * class, not 64 KiB, and many peers still cost one mapping per 64 KiB. */
#define CHUNK (64 * 1024)
#define SLOT_ALIGN 64 /* slot sizes are multiples of this */
#define N_CLASSES (DV_SECMEM_SLAB_MAX / SLOT_ALIGN)
#define LARGE_HDR 64 /* keeps a large object 64-byte aligned */

_Static_assert(DV_SECMEM_SLAB_MAX % SLOT_ALIGN == 0, "size classes");

struct free_slot {
	struct free_slot *next;
};

static struct {
	pthread_mutex_t lock;
	struct free_slot *free[N_CLASSES];
	uint8_t *bump[N_CLASSES]; /* next unused slot in the newest chunk */
	uint8_t *end[N_CLASSES];
	size_t chunk_len[N_CLASSES]; /* of the newest chunk, 0 before any */
	struct dv_secmem_stats st;
} sm = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Under ASan the heap, where it sees each object's bounds; under TSan the
 * slabs below, whose lock it then checks. */
#if defined(DV_SANITIZE) && !DV_TSAN
void *dv_secmem_calloc(size_t size)
{
	size_t n = (size + 63) & ~(size_t)63;
	void *p;

	if (!size || n < size)
		return NULL;
	p = aligned_alloc(64, n); /* 64-byte aligned, like the slots */
	if (p)
		memset(p, 0, n);
	return p;
}

void dv_secmem_free(void *p, size_t size)
{
	if (!p)
		return;
	ct_wipe(p, size);
	free(p);
}
#else
static size_t round_page(size_t n)
{
	size_t pg = 4096;

	return (n + pg - 1) & ~(pg - 1);
}

/* A fresh mapping of len bytes, out of dumps and, if the limit allows,
 * locked. Called with sm.lock held. */
static void *map_secret(size_t len, int *locked)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, MADV_DONTDUMP) < 0) {
		munmap(p, len);
		return NULL;
	}
	sm.st.mapped += len;
	*locked = mlock(p, len) == 0;
	if (*locked) {
		sm.st.locked += len;
	} else if (!sm.st.lock_errno) {
		sm.st.lock_errno = errno ? errno : ENOMEM;
		dv_log(LOG_WARNING, "key memory: mlock: %s (RLIMIT_MEMLOCK?); key "
		       "memory beyond %zu bytes may be swapped (it stays out of "
		       "core dumps)", strerror(sm.st.lock_errno), sm.st.locked);
	}
	return p;
}

/* Class c holds slots of (c + 1) * SLOT_ALIGN bytes: at most 63 bytes of
 * an object's slot go unused. */
static unsigned size_class(size_t size)
{
	return (unsigned)((size + SLOT_ALIGN - 1) / SLOT_ALIGN - 1);
}

static size_t slot_size(unsigned c)
{
	return (size_t)(c + 1) * SLOT_ALIGN;
}

void *dv_secmem_calloc(size_t size)
{
	void *p = NULL;
	unsigned c;
	int locked;

	if (!size)
		return NULL;
	pthread_mutex_lock(&sm.lock);
	if (size > DV_SECMEM_SLAB_MAX) {
		/* A header before the object says whether it is locked. */
		uint8_t *m = map_secret(round_page(size + LARGE_HDR), &locked);

		if (m) {
			*(int *)m = locked;
			p = m + LARGE_HDR; /* zeroed by the kernel */
		}
		goto out;
	}
	c = size_class(size);
	if (sm.free[c]) {
		struct free_slot *s = sm.free[c];

		sm.free[c] = s->next;
		s->next = NULL; /* the rest of a freed slot is already zero */
		p = s;
		goto out;
	}
	if ((size_t)(sm.end[c] - sm.bump[c]) < slot_size(c)) {
		size_t len = sm.chunk_len[c] ? 2 * sm.chunk_len[c] : round_page(slot_size(c));
		uint8_t *chunk;

		if (len > CHUNK)
			len = CHUNK;
		chunk = map_secret(len, &locked);
		if (!chunk)
			goto out;
		sm.chunk_len[c] = len;
		sm.bump[c] = chunk;
		sm.end[c] = chunk + len;
	}
	p = sm.bump[c];
	sm.bump[c] += slot_size(c);
out:
	pthread_mutex_unlock(&sm.lock);
	return p;
}

void dv_secmem_free(void *p, size_t size)
{
	unsigned c;

	if (!p)
		return;
	if (size > DV_SECMEM_SLAB_MAX) {
		uint8_t *m = (uint8_t *)p - LARGE_HDR;
		size_t len = round_page(size + LARGE_HDR);

		ct_wipe(p, size);
		pthread_mutex_lock(&sm.lock);
		sm.st.mapped -= len;
		if (*(int *)m)
			sm.st.locked -= len;
		munmap(m, len);
		pthread_mutex_unlock(&sm.lock);
		return;
	}
	c = size_class(size);
	/* The whole slot: a reused slot must come back zeroed. */
	ct_wipe(p, slot_size(c));
	pthread_mutex_lock(&sm.lock);
	((struct free_slot *)p)->next = sm.free[c];
	sm.free[c] = p;
	pthread_mutex_unlock(&sm.lock);
}
#endif

void dv_secmem_stats(struct dv_secmem_stats *st)
{
	pthread_mutex_lock(&sm.lock);
	*st = sm.st;
	pthread_mutex_unlock(&sm.lock);
}
