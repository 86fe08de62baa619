/* The classical primitives of the handshake (WireGuard whitepaper 5.4):
 * X25519, BLAKE2s (HASH, MAC, HMAC) and WireGuard's HKDF, XChaCha20-Poly1305
 * for cookie replies, TAI64N, and the OS random source. The handshake
 * AEAD (ChaCha20-Poly1305) is crypto/aead.h. */
#ifndef DV_CRYPTO_CLASSIC_H
#define DV_CRYPTO_CLASSIC_H

#include <stddef.h>
#include <stdint.h>

#define DV_X25519_LEN 32
#define DV_BLAKE2S_LEN 32
#define DV_MAC128_LEN 16
#define DV_XAEAD_NONCE_LEN 24

/* out = X25519(scalar, point) (RFC 7748; the scalar is clamped inside).
 * Returns 0, or -1 when the result is all zero (a low-order point) or the
 * library failed; out is then zeroed. */
int dv_x25519(uint8_t out[DV_X25519_LEN], const uint8_t scalar[DV_X25519_LEN],
	      const uint8_t point[DV_X25519_LEN]);
/* pub = X25519(priv, 9). Returns 0, or -1 on failure (pub zeroed). */
int dv_x25519_base(uint8_t pub[DV_X25519_LEN], const uint8_t priv[DV_X25519_LEN]);
/* Clamps a private key as `wg genkey` does (RFC 7748, decodeScalar25519). */
void dv_x25519_clamp(uint8_t priv[DV_X25519_LEN]);

/* HASH(a || b): BLAKE2s-256; b may be NULL with blen 0. */
void dv_hash2(uint8_t out[DV_BLAKE2S_LEN], const uint8_t *a, size_t alen,
	      const uint8_t *b, size_t blen);
/* MAC(key, in): keyed BLAKE2s with 16-byte output; keylen 1..32. */
void dv_mac(uint8_t out[DV_MAC128_LEN], const uint8_t *key, size_t keylen,
	    const uint8_t *in, size_t len);
/* HMAC-BLAKE2s-256 (RFC 2104 with a 64-byte block). */
void dv_hmac(uint8_t out[DV_BLAKE2S_LEN], const uint8_t key[DV_BLAKE2S_LEN],
	     const uint8_t *in, size_t len);
/* WireGuard's KDF_n(ck, in) (whitepaper 5.4, HKDF over HMAC-BLAKE2s):
 * t0 = HMAC(ck, in); t1 = HMAC(t0, 0x1); t2 = HMAC(t0, t1 || 0x2);
 * t3 = HMAC(t0, t2 || 0x3). Pass NULL for outputs not wanted: o2 NULL is
 * KDF1, o3 NULL is KDF2. Outputs may alias ck. */
void dv_kdf(uint8_t o1[DV_BLAKE2S_LEN], uint8_t o2[DV_BLAKE2S_LEN],
	    uint8_t o3[DV_BLAKE2S_LEN], const uint8_t ck[DV_BLAKE2S_LEN],
	    const uint8_t *in, size_t len);

/* XChaCha20-Poly1305 (cookie replies, whitepaper 5.4.7): dst gets len + 16
 * bytes. Returns 0 (seal); open returns -1 when the tag fails (dst zeroed). */
int dv_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[DV_XAEAD_NONCE_LEN], const uint8_t key[32]);
int dv_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[DV_XAEAD_NONCE_LEN], const uint8_t key[32]);

/* TAI64N of a wall-clock time (Unix seconds and nanoseconds): 8-byte BE
 * 2^62 + 10 + sec, 4-byte BE nanoseconds rounded down to a power of two
 * below 1 s / 50 (as Linux does, so the timestamp does not leak a precise
 * clock). */
void dv_tai64n(uint8_t out[12], uint64_t unix_sec, uint32_t nsec);

/* Fills out with bytes from the OS CSPRNG (libsodium randombytes_buf). */
void dv_random(uint8_t *out, size_t len);

#endif
