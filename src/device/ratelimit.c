/* Token buckets per source address, in nanoseconds of credit: each
 * message costs 1 s / DV_RATELIMIT_PER_SECOND, credit accrues with time up
 * to DV_RATELIMIT_BURST messages' worth. */
#include "device/ratelimit.h"

#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto/classic.h"

#define COST (1000000000ull / DV_RATELIMIT_PER_SECOND)
#define TOKEN_MAX (COST * DV_RATELIMIT_BURST)

void dv_ratelimit_init(struct dv_ratelimit *r)
{
	memset(r, 0, sizeof(*r));
	dv_random(r->hash_key, sizeof(r->hash_key));
}

bool dv_ratelimit_allow(struct dv_ratelimit *r, int family,
			const uint8_t *addr, uint64_t now_ns)
{
	struct dv_ratelimit_entry *e;
	uint8_t h[crypto_shorthash_BYTES];
	uint8_t key[8];
	size_t keylen;
	uint64_t tokens;

	if (family == AF_INET)
		keylen = 4;
	else if (family == AF_INET6)
		keylen = 8; /* a host owns a /64 */
	else
		return true;
	memset(key, 0, sizeof(key));
	memcpy(key, addr, keylen);
	/* SipHash under a secret key: sources cannot be picked to collide. */
	crypto_shorthash(h, key, keylen, r->hash_key);
	e = &r->slot[((size_t)h[0] | (size_t)h[1] << 8) % DV_RATELIMIT_SLOTS];
	if (e->keylen != keylen || memcmp(e->key, key, keylen)) {
		memcpy(e->key, key, sizeof(key));
		e->keylen = (uint8_t)keylen;
		e->last_ns = now_ns;
		e->tokens = TOKEN_MAX - COST;
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
