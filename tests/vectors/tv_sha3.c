/* FIPS 202 known answers (sha3_kat.txt): fields alg, msg, outlen, md.
 * Each record is checked one-shot and again through the incremental API
 * (absorb in two pieces, squeeze in two pieces). */
#include "vectors/tv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"

/* The fixed-length hashes take the shape of the XOFs for the table. */
static void tv_sha3_256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	sha3_256(out, in, len);
}

static void tv_sha3_512(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	sha3_512(out, in, len);
}

struct tv_sha3_alg {
	const char *name;
	void (*init)(struct keccak_state *st);
	void (*oneshot)(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);
	size_t fixed_len; /* digest length, 0 for an XOF */
};

static const struct tv_sha3_alg tv_sha3_algs[] = {
	{ "SHA3-256", sha3_256_init, tv_sha3_256, 32 },
	{ "SHA3-512", sha3_512_init, tv_sha3_512, 64 },
	{ "SHAKE128", shake128_init, shake128, 0 },
	{ "SHAKE256", shake256_init, shake256, 0 },
};

int tv_sha3(const struct tv_rec *r, char *msg, size_t msglen)
{
	const struct tv_sha3_alg *alg = NULL;
	const char *name = tv_get(r, "alg"), *outlen_s = tv_get(r, "outlen");
	uint8_t *in = NULL, *md = NULL, *out = NULL;
	size_t inlen, mdlen, cut;
	struct keccak_state st;
	int ret = 1;

	for (size_t i = 0; name && i < sizeof(tv_sha3_algs) / sizeof(*tv_sha3_algs); i++)
		if (!strcmp(name, tv_sha3_algs[i].name))
			alg = &tv_sha3_algs[i];
	if (!alg) {
		snprintf(msg, msglen, "unknown alg %s", name ? name : "(none)");
		return 1;
	}
	if (tv_hex(r, "msg", &in, &inlen) || tv_hex(r, "md", &md, &mdlen)) {
		snprintf(msg, msglen, "bad msg or md field");
		goto out;
	}
	if ((outlen_s && strtoul(outlen_s, NULL, 10) != mdlen) ||
	    (alg->fixed_len && alg->fixed_len != mdlen)) {
		snprintf(msg, msglen, "outlen disagrees with md");
		goto out;
	}
	out = malloc(mdlen + 1);
	if (!out) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}

	alg->oneshot(out, mdlen, in, inlen);
	if (memcmp(out, md, mdlen)) {
		snprintf(msg, msglen, "one-shot %s output differs", alg->name);
		goto out;
	}

	memset(out, 0, mdlen);
	cut = inlen / 3;
	alg->init(&st);
	keccak_absorb(&st, in, cut);
	keccak_absorb(&st, in + cut, inlen - cut);
	cut = mdlen / 2 + 1;
	keccak_squeeze(&st, out, cut);
	keccak_squeeze(&st, out + cut, mdlen - cut);
	if (memcmp(out, md, mdlen)) {
		snprintf(msg, msglen, "incremental %s output differs", alg->name);
		goto out;
	}
	ret = 0;
out:
	free(in);
	free(md);
	free(out);
	return ret;
}
