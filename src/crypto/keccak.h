/* Keccak-f[1600] and the FIPS 202 functions built on it: SHA3-256,
 * SHA3-512, SHAKE128 and SHAKE256, one-shot and incremental. */
#ifndef DV_CRYPTO_KECCAK_H
#define DV_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define SHAKE128_RATE 168
#define SHAKE256_RATE 136
#define SHA3_256_RATE 136
#define SHA3_512_RATE 72

/* Incremental sponge: init, absorb any number of times, then squeeze any
 * number of times (absorbing after the first squeeze is not allowed). */
struct keccak_state {
	uint64_t s[25];
	unsigned pos;      /* byte position within the current block */
	unsigned rate;     /* bytes */
	uint8_t dsep;      /* domain separator: 0x06 SHA-3, 0x1f SHAKE */
	uint8_t squeezing;
};

void keccak_f1600(uint64_t s[25]);
/* The 24 iota round constants (FIPS 202, Algorithm 6), for parallel
 * implementations of the permutation. */
extern const uint64_t keccak_round_constants[24];

void shake128_init(struct keccak_state *st);
void shake256_init(struct keccak_state *st);
void sha3_256_init(struct keccak_state *st);
void sha3_512_init(struct keccak_state *st);
void keccak_absorb(struct keccak_state *st, const uint8_t *in, size_t len);
/* Pads and switches to squeezing (called by the first squeeze if needed). */
void keccak_finalize(struct keccak_state *st);
void keccak_squeeze(struct keccak_state *st, uint8_t *out, size_t len);
/* Squeeze whole blocks of `rate` bytes straight from the permutation (after
 * finalize, at a block boundary): the fast path for matrix sampling. */
void keccak_squeezeblocks(struct keccak_state *st, uint8_t *out, size_t nblocks);

void sha3_256(uint8_t out[32], const uint8_t *in, size_t len);
void sha3_512(uint8_t out[64], const uint8_t *in, size_t len);
void shake128(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);
void shake256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);

#endif
