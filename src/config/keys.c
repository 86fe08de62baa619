/* Key text form (keys.h), on libsodium's constant-time base64. */
#include "config/keys.h"

#include <stdio.h>
#include <string.h>

long dv_key_b64_decoded_len(const char *s, size_t len)
{
	size_t pad = 0;

	/* Padded base64 comes in whole groups of 4 characters (RFC 4648,
	 * section 4); at most two of them are '='. */
	if (len == 0 || len % 4 || len > (size_t)1 << 30)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	return (long)(len / 4 * 3 - pad);
}

int dv_key_decode_lens(uint8_t *out, size_t cap, size_t *outlen,
		       const size_t *lens, size_t n_lens, const char *s,
		       char *err, size_t errlen)
{
	size_t len = strlen(s), bin_len = 0;
	long want = dv_key_b64_decoded_len(s, len);
	size_t i;

	memset(out, 0, cap);
	if (want < 0) {
		snprintf(err, errlen,
			 "not valid base64 (%zu characters, not a multiple of 4)",
			 len);
		return -1;
	}
	for (i = 0; i < n_lens; i++)
		if ((size_t)want == lens[i] && lens[i] <= cap)
			break;
	if (i == n_lens) {
		if (n_lens == 1)
			snprintf(err, errlen, "decodes to %ld bytes, expected %zu",
				 want, lens[0]);
		else
			snprintf(err, errlen,
				 "decodes to %ld bytes, expected %zu or %zu",
				 want, lens[0], lens[n_lens - 1]);
		return -1;
	}
	/* b64_end NULL: any character outside the alphabet fails, and
	 * libsodium refuses non-canonical trailing bits. */
	if (sodium_base642bin(out, cap, s, len, NULL, &bin_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len != lens[i]) {
		sodium_memzero(out, cap);
		snprintf(err, errlen, "not valid base64");
		return -1;
	}
	*outlen = bin_len;
	return 0;
}

int dv_key_decode(uint8_t *out, size_t outlen, const char *s, char *err,
		  size_t errlen)
{
	size_t got;

	return dv_key_decode_lens(out, outlen, &got, &outlen, 1, s, err, errlen);
}

void dv_key_encode(char *out, size_t outlen, const uint8_t *key,
		   size_t keylen)
{
	sodium_bin2base64(out, outlen, key, keylen,
			  sodium_base64_VARIANT_ORIGINAL);
}
