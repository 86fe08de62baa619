/* The data-plane AEAD: ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce,
 * 32 zero bits || LE64(counter). Every transport packet and every handshake
 * field goes through these two calls; the backend is picked by measurement
 * (OpenSSL's EVP with a reused per-thread context, running OpenSSL's
 * built-in ChaCha20-Poly1305 method without its provider tables). */
#ifndef DV_CRYPTO_AEAD_H
#define DV_CRYPTO_AEAD_H

#include <stddef.h>
#include <stdint.h>

#define DV_AEAD_KEY_LEN 32
#define DV_AEAD_TAG_LEN 16

/* dst receives len + 16 bytes (ciphertext || tag); dst may equal src.
 * Returns 0, or -1 on an internal library failure (dst is then zeroed). */
int dv_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t *ad, size_t adlen, uint64_t counter,
		 const uint8_t key[DV_AEAD_KEY_LEN]);

/* src holds len bytes of ciphertext || tag (len >= 16); dst receives
 * len - 16 bytes and may equal src. Returns 0, or -1 when the tag does not
 * verify (dst is then zeroed). */
int dv_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t *ad, size_t adlen, uint64_t counter,
		 const uint8_t key[DV_AEAD_KEY_LEN]);

/* The calling thread's context keeps the last key it used until this
 * re-keys it with zeros: call it at the end of every batch of packets (the
 * device does, in dv_device_timers), so no key outlives its keypair in
 * the library's state. Cheap; a thread that never used the calls above
 * does nothing. */
void dv_aead_scrub(void);

/* Makes the calling thread's context now (and, the first time, the
 * process's ENGINE that hands OpenSSL's built-in cipher method to every
 * context; see aead.c) and runs it once: a daemon calls it during
 * start-up, so that one-time work is done before it settles
 * (platform/memtrim.h) and before its sandbox. 0, or -1 when the library
 * cannot provide the cipher. */
int dv_aead_prepare(void);

/* Frees the calling thread's context (cleansed by OpenSSL). A thread that
 * used the calls above calls this before it ends. */
void dv_aead_thread_done(void);

#endif
