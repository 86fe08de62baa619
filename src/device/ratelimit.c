/* Token buckets per source address, in nanoseconds of credit: each
 * message costs 1 s / DV_RATELIMIT_PER_SECOND, credit accrues with time up
 * to DV_RATELIMIT_BURST messages' worth. */
#include "device/ratelimit.h"

#include <sodium.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "crypto/classic.h"
#include "crypto/ct.h"

#define COST (1000000000ull / DV_RATELIMIT_PER_SECOND)
#define TOKEN_MAX (COST * DV_RATELIMIT_BURST)
/* Idle this long, an entry's bucket is full again: the entry may go. */
#define IDLE_NS 1000000000ull

#define TABLE_LEN ((size_t)DV_RATELIMIT_BUCKETS * DV_RATELIMIT_WAYS * \
		   sizeof(struct dv_ratelimit_entry))

int dv_ratelimit_init(struct dv_ratelimit *r)
{
	/* A fresh anonymous mapping reads as zeros (every entry free) and
	 * takes memory only for the pages written to. */
	void *t = mmap(NULL, TABLE_LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	memset(r, 0, sizeof(*r));
	if (t == MAP_FAILED)
		return -1;
	r->slot = t;
	dv_random(r->hash_key, sizeof(r->hash_key));
	return 0;
}

void dv_ratelimit_free(struct dv_ratelimit *r)
{
	if (r->slot)
		munmap(r->slot, TABLE_LEN);
	r->slot = NULL;
	ct_wipe(r->hash_key, sizeof(r->hash_key));
}

/* The source's key: IPv4 address, or the /64 of an IPv6 address; its
 * length, 0 for another family. */
static size_t source_key(uint8_t key[8], int family, const uint8_t *addr)
{
	size_t keylen;

	if (family == AF_INET)
		keylen = 4;
	else if (family == AF_INET6)
		keylen = 8;
	else
		return 0;
	memset(key, 0, 8);
	memcpy(key, addr, keylen);
	return keylen;
}

static size_t bucket_of(const struct dv_ratelimit *r, const uint8_t key[8],
			size_t keylen)
{
	uint8_t h[crypto_shorthash_BYTES];

	/* SipHash under a secret key: sources cannot be picked to collide. */
	crypto_shorthash(h, key, keylen, r->hash_key);
	return ((size_t)h[0] | (size_t)h[1] << 8) % DV_RATELIMIT_BUCKETS;
}

size_t dv_ratelimit_bucket(const struct dv_ratelimit *r, int family,
			   const uint8_t *addr)
{
	uint8_t key[8];
	size_t keylen = source_key(key, family, addr);

	return keylen ? bucket_of(r, key, keylen) : 0;
}

bool dv_ratelimit_allow(struct dv_ratelimit *r, int family,
			const uint8_t *addr, uint64_t now_ns)
{
	struct dv_ratelimit_entry *b, *e = NULL, *free_e = NULL;
	uint8_t key[8];
	size_t keylen = source_key(key, family, addr);
	uint64_t tokens;

	if (!keylen)
		return true;
	b = r->slot[bucket_of(r, key, keylen)];
	for (size_t i = 0; i < DV_RATELIMIT_WAYS; i++) {
		if (b[i].keylen == keylen && !memcmp(b[i].key, key, sizeof(key))) {
			e = &b[i];
			break;
		}
		if (!free_e && (!b[i].keylen || now_ns - b[i].last_ns >= IDLE_NS))
			free_e = &b[i];
	}
	if (!e) {
		if (!free_e) {
			r->refused_full++;
			return false; /* fail closed */
		}
		memcpy(free_e->key, key, sizeof(key));
		free_e->keylen = (uint8_t)keylen;
		free_e->last_ns = now_ns;
		free_e->tokens = TOKEN_MAX - COST;
		return true;
	}
	tokens = e->tokens + (now_ns - e->last_ns);
	if (tokens > TOKEN_MAX)
		tokens = TOKEN_MAX;
	e->last_ns = now_ns;
	if (tokens >= COST) {
		e->tokens = tokens - COST;
		return true;
	}
	e->tokens = tokens;
	return false;
}
