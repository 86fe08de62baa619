/* Classical primitives over libsodium (X25519, XChaCha20-Poly1305, random)
 * and libb2 (BLAKE2s). X25519 is libsodium's: measured on this machine at
 * ~42 us per scalar multiplication against ~125 us for OpenSSL's EVP_PKEY
 * derive (the raw-key objects and context cost more than the ladder). */
#include "crypto/classic.h"
#include "crypto/backend.h"

#include "crypto/ct.h"

#include <blake2.h>
#include <pthread.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#define HMAC_BLOCK 64 /* BLAKE2s block size */

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

/* sodium_init picks the fastest implementations and seeds the RNG; it only
 * fails when /dev/urandom is missing, and then randombytes aborts anyway. */
static void sodium_setup(void)
{
	if (sodium_init() < 0)
		abort();
}

static void sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_setup);
}

void dv_x25519_clamp(uint8_t priv[DV_X25519_LEN])
{
	priv[0] &= 248;
	priv[31] = (uint8_t)((priv[31] & 127) | 64);
}

int dv_x25519(uint8_t out[DV_X25519_LEN], const uint8_t scalar[DV_X25519_LEN],
	      const uint8_t point[DV_X25519_LEN])
{
	int ret;

	sodium_ready();
	/* libsodium returns -1 for an all-zero result (whitepaper 5.4: a
	 * low-order point must not yield a usable key). */
	ret = crypto_scalarmult_curve25519(out, scalar, point);
	/* The verdict is public: for a clamped scalar the result is zero
	 * exactly when the point has small order, a property of the public
	 * point, and the handshake's reaction shows it anyway. */
	ct_declassify(&ret, sizeof(ret));
	if (ret != 0) {
		ct_wipe(out, DV_X25519_LEN);
		return -1;
	}
	return 0;
}

int dv_x25519_base(uint8_t pub[DV_X25519_LEN], const uint8_t priv[DV_X25519_LEN])
{
	sodium_ready();
	if (crypto_scalarmult_curve25519_base(pub, priv) != 0) {
		ct_wipe(pub, DV_X25519_LEN);
		return -1;
	}
	/* X25519(priv, 9) is a public key: it goes on the wire (ephemerals)
	 * or into the configuration (statics). */
	ct_declassify(pub, DV_X25519_LEN);
	return 0;
}

void dv_hash2(uint8_t out[DV_BLAKE2S_LEN], const uint8_t *a, size_t alen,
	      const uint8_t *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, DV_BLAKE2S_LEN);
	blake2s_update(&s, a, alen);
	if (blen)
		blake2s_update(&s, b, blen);
	blake2s_final(&s, out, DV_BLAKE2S_LEN);
	ct_wipe(&s, sizeof(s));
}

void dv_mac(uint8_t out[DV_MAC128_LEN], const uint8_t *key, size_t keylen,
	    const uint8_t *in, size_t len)
{
	blake2s_state s;

	blake2s_init_key(&s, DV_MAC128_LEN, key, keylen);
	blake2s_update(&s, in, len);
	blake2s_final(&s, out, DV_MAC128_LEN);
	ct_wipe(&s, sizeof(s));
}

/* HMAC(key, a || b) with a 32-byte key (RFC 2104). */
static void hmac2(uint8_t out[DV_BLAKE2S_LEN], const uint8_t key[DV_BLAKE2S_LEN],
		  const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	uint8_t pad[HMAC_BLOCK], inner[DV_BLAKE2S_LEN];
	blake2s_state s;

	memset(pad, 0x36, sizeof(pad));
	for (size_t i = 0; i < DV_BLAKE2S_LEN; i++)
		pad[i] ^= key[i];
	blake2s_init(&s, DV_BLAKE2S_LEN);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, a, alen);
	if (blen)
		blake2s_update(&s, b, blen);
	blake2s_final(&s, inner, sizeof(inner));

	memset(pad, 0x5c, sizeof(pad));
	for (size_t i = 0; i < DV_BLAKE2S_LEN; i++)
		pad[i] ^= key[i];
	blake2s_init(&s, DV_BLAKE2S_LEN);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out, DV_BLAKE2S_LEN);

	ct_wipe(pad, sizeof(pad));
	ct_wipe(inner, sizeof(inner));
	ct_wipe(&s, sizeof(s));
}

void dv_hmac(uint8_t out[DV_BLAKE2S_LEN], const uint8_t key[DV_BLAKE2S_LEN],
	     const uint8_t *in, size_t len)
{
	hmac2(out, key, in, len, NULL, 0);
}

void dv_kdf(uint8_t o1[DV_BLAKE2S_LEN], uint8_t o2[DV_BLAKE2S_LEN],
	    uint8_t o3[DV_BLAKE2S_LEN], const uint8_t ck[DV_BLAKE2S_LEN],
	    const uint8_t *in, size_t len)
{
	uint8_t prk[DV_BLAKE2S_LEN], t[DV_BLAKE2S_LEN], n;

	hmac2(prk, ck, in, len, NULL, 0);
	n = 1;
	hmac2(t, prk, &n, 1, NULL, 0);
	memcpy(o1, t, DV_BLAKE2S_LEN);
	if (o2) {
		n = 2;
		hmac2(t, prk, t, DV_BLAKE2S_LEN, &n, 1);
		memcpy(o2, t, DV_BLAKE2S_LEN);
	}
	if (o2 && o3) {
		n = 3;
		hmac2(t, prk, t, DV_BLAKE2S_LEN, &n, 1);
		memcpy(o3, t, DV_BLAKE2S_LEN);
	}
	ct_wipe(prk, sizeof(prk));
	ct_wipe(t, sizeof(t));
}

int dv_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[DV_XAEAD_NONCE_LEN], const uint8_t key[32])
{
	sodium_ready();
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad, adlen,
						   NULL, nonce, key);
	return 0;
}

int dv_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
		  const uint8_t *ad, size_t adlen,
		  const uint8_t nonce[DV_XAEAD_NONCE_LEN], const uint8_t key[32])
{
	sodium_ready();
	if (len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
		return -1;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(dst, NULL, NULL, src, len,
						       ad, adlen, nonce, key)) {
		ct_wipe(dst, len - crypto_aead_xchacha20poly1305_ietf_ABYTES);
		return -1;
	}
	return 0;
}

void dv_tai64n(uint8_t out[12], uint64_t unix_sec, uint32_t nsec)
{
	/* TAI64 label of the Unix epoch is 2^62 + 10 (the leap seconds of 1972
	 * that WireGuard keeps fixed). The nanoseconds are rounded down to
	 * 2^24 ns (~16.8 ms), the largest power of two under 1 s / 50. */
	uint64_t s = 0x400000000000000aULL + unix_sec;
	uint32_t ns = nsec & ~((1u << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

void dv_random(uint8_t *out, size_t len)
{
	sodium_ready();
	dv_crypto()->random(out, len);
}
