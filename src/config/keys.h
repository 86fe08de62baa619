/* Keys in their text form: standard base64 with padding, as `wg` prints
 * them (docs/PROTOCOL.md §14). Encoding and decoding
 * are libsodium's, which run in constant time with respect to the key
 * bytes; only the length, which is public, decides anything here.
 */
#ifndef DV_CONFIG_KEYS_H
#define DV_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

/* Size of the base64 text of n bytes, with its NUL. */
#define DV_KEY_B64_SIZE(n) sodium_base64_ENCODED_LEN((n), sodium_base64_VARIANT_ORIGINAL)

/* The number of bytes that the base64 text s (len bytes) decodes to, or -1
 * when its length or padding cannot be canonical base64. */
long dv_key_b64_decoded_len(const char *s, size_t len);

/* Decodes the NUL-terminated s into exactly outlen bytes. Returns 0, or -1
 * with the reason in err ("not valid base64", "decodes to 25 bytes, expected
 * 32"); out is zeroed on failure. */
int dv_key_decode(uint8_t *out, size_t outlen, const char *s, char *err,
		  size_t errlen);

/* Decodes s into out (room for cap bytes) when it decodes to one of the
 * n_lens lengths in lens[]; *outlen receives it. Otherwise as above. */
int dv_key_decode_lens(uint8_t *out, size_t cap, size_t *outlen,
		       const size_t *lens, size_t n_lens, const char *s,
		       char *err, size_t errlen);

/* Writes the base64 text of key into out (DV_KEY_B64_SIZE(keylen) bytes). */
void dv_key_encode(char *out, size_t outlen, const uint8_t *key,
		   size_t keylen);

#endif
