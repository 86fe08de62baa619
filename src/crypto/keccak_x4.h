/* Four Keccak-f[1600] sponges side by side, one per 64-bit element of an
 * AVX2 vector (keccak_x4_avx2.c), for the bulk sampling of ML-KEM and
 * ML-DSA: four SHAKE streams cost about one scalar permutation's time.
 * The outputs are the bytes keccak.c gives for the same inputs. Only for
 * callers that checked dv_cpu_avx2() (crypto/cpu.h).
 *
 * Usage: keccak_x4_absorb, then keccak_x4_squeezeblocks as often as
 * needed. Inputs of different lengths or domains go through
 * keccak_x4_xor_block and keccak_x4_permute directly. */
#ifndef DV_CRYPTO_KECCAK_X4_H
#define DV_CRYPTO_KECCAK_X4_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

/* Domain bits before pad10*1, as one byte (FIPS 202, Section 6). */
#define KECCAK_DSEP_SHA3 0x06
#define KECCAK_DSEP_SHAKE 0x1f

/* 64-bit element j of s[i] is lane i (x + 5y, FIPS 202 3.1.2) of
 * instance j. The rate of every function here is a FIPS 202 rate: a
 * multiple of 8 bytes, at most SHAKE128_RATE. */
struct keccak_x4 {
	__m256i s[25];
};

/* Keccak-f[1600] (FIPS 202, Algorithm 7 with 24 rounds) on all four. */
void keccak_x4_permute(struct keccak_x4 *st);

/* XORs the rate bytes at blk[j] into instance j, without permuting. */
void keccak_x4_xor_block(struct keccak_x4 *st, unsigned rate, const uint8_t *const blk[4]);

/* Starts four sponges and absorbs in[j] (inlen bytes each, any length)
 * into instance j, padded with the domain bits dsep and pad10*1. The last
 * block is left unpermuted: squeezing permutes first. */
void keccak_x4_absorb(struct keccak_x4 *st, unsigned rate, const uint8_t *const in[4],
		      size_t inlen, uint8_t dsep);

/* nblocks times: permute, then write rate bytes of instance j at out[j],
 * block after block (out[j] receives nblocks * rate bytes). */
void keccak_x4_squeezeblocks(struct keccak_x4 *st, unsigned rate, uint8_t *const out[4],
			     size_t nblocks);

#endif
