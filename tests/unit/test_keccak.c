/* Keccak sponge: the incremental API, fed and drained in odd chunk sizes,
 * must give exactly the one-shot output for every function, and every
 * function must agree with OpenSSL's over lengths that straddle lanes and
 * blocks; the known answers themselves are checked by
 * tests/vectors/tv_sha3.c. */
#include <openssl/evp.h>

#include "crypto/keccak.h"
#include "t.h"

#define MSG_LEN 1000
#define OUT_LEN 700

static uint8_t msg[MSG_LEN];

struct kfn {
	void (*init)(struct keccak_state *st);
	void (*oneshot)(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);
	size_t outlen; /* fixed digest length, or 0 for an XOF */
};

static void h256(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	sha3_256(out, in, len);
}

static void h512(uint8_t *out, size_t outlen, const uint8_t *in, size_t len)
{
	sha3_512(out, in, len);
}

static const struct kfn kfns[] = {
	{ sha3_256_init, h256, 32 },
	{ sha3_512_init, h512, 64 },
	{ shake128_init, shake128, 0 },
	{ shake256_init, shake256, 0 },
};

/* Chunk sizes chosen to straddle every rate (72, 136, 168) and lane (8). */
static const size_t chunks[] = { 1, 3, 7, 8, 13, 71, 72, 135, 137, 167, 169, 333 };
#define NCHUNKS (sizeof(chunks) / sizeof(*chunks))

static void test_chunked(void)
{
	uint8_t want[OUT_LEN], got[OUT_LEN];
	size_t lens[] = { 0, 1, 71, 72, 135, 136, 167, 168, 169, 500, MSG_LEN };

	for (size_t f = 0; f < sizeof(kfns) / sizeof(*kfns); f++) {
		size_t outlen = kfns[f].outlen ? kfns[f].outlen : OUT_LEN;

		for (size_t l = 0; l < sizeof(lens) / sizeof(*lens); l++) {
			kfns[f].oneshot(want, outlen, msg, lens[l]);
			for (size_t c = 0; c < NCHUNKS; c++) {
				struct keccak_state st;
				size_t off = 0, k = c;

				kfns[f].init(&st);
				while (off < lens[l]) {
					size_t n = chunks[k++ % NCHUNKS];

					if (n > lens[l] - off)
						n = lens[l] - off;
					keccak_absorb(&st, msg + off, n);
					off += n;
				}
				off = 0;
				k = NCHUNKS - 1 - c;
				while (off < outlen) {
					size_t n = chunks[k++ % NCHUNKS];

					if (n > outlen - off)
						n = outlen - off;
					keccak_squeeze(&st, got + off, n);
					off += n;
				}
				T_EQ_MEM(got, want, outlen);
			}
		}
	}
}

/* squeezeblocks after an explicit finalize, then a byte squeeze, continue
 * the same stream as one squeeze. */
static void test_squeezeblocks(void)
{
	uint8_t want[3 * SHAKE128_RATE + 5], got[sizeof(want)];
	struct keccak_state st;

	shake128(want, sizeof(want), msg, 34);
	shake128_init(&st);
	keccak_absorb(&st, msg, 34);
	keccak_finalize(&st);
	keccak_squeezeblocks(&st, got, 2);
	keccak_squeezeblocks(&st, got + 2 * SHAKE128_RATE, 1);
	keccak_squeeze(&st, got + 3 * SHAKE128_RATE, 5);
	T_EQ_MEM(got, want, sizeof(want));
}

/* Keccak-f[1600] of the all-zero state: its first lane is a well-known
 * constant (the Keccak team's KeccakF-1600 intermediate values). */
static void test_permutation(void)
{
	uint64_t s[25] = { 0 };

	keccak_f1600(s);
	T_CHECK(s[0] == 0xf1258f7940e1dde7ULL);
}

/* Two permutations of the all-zero state: the whole second output of the
 * Keccak team's KeccakF-1600 intermediate values, so every lane (including
 * those the permutation holds complemented internally) is checked. */
static void test_permutation_twice(void)
{
	static const uint64_t want[25] = {
		0x2d5c954df96ecb3cULL, 0x6a332cd07057b56dULL, 0x093d8d1270d76b6cULL,
		0x8a20d9b25569d094ULL, 0x4f9c4f99e5e7f156ULL, 0xf957b9a2da65fb38ULL,
		0x85773dae1275af0dULL, 0xfaf4f247c3d810f7ULL, 0x1f1b9ee6f79a8759ULL,
		0xe4fecc0fee98b425ULL, 0x68ce61b6b9ce68a1ULL, 0xdeea66c4ba8f974fULL,
		0x33c43d836eafb1f5ULL, 0xe00654042719dbd9ULL, 0x7cf8a9f009831265ULL,
		0xfd5449a6bf174743ULL, 0x97ddad33d8994b40ULL, 0x48ead5fc5d0be774ULL,
		0xe3b8c8ee55b7b03cULL, 0x91a0226e649e42e9ULL, 0x900e3129e7badd7bULL,
		0x202a9ec5faa3cce8ULL, 0x5b3402464e1c3db6ULL, 0x609f4e62a44c1059ULL,
		0x20d06cd26a8fbf5cULL,
	};
	uint64_t s[25] = { 0 };

	keccak_f1600(s);
	keccak_f1600(s);
	T_EQ_MEM(s, want, sizeof(want));
}

/* Differential check against OpenSSL: every input length 0..MSG_LEN-1
 * (from an odd address, so the lane loads are unaligned) for the digests,
 * and output lengths across several blocks for the XOFs. */
static int ossl_hash(const EVP_MD *md, uint8_t *out, size_t outlen,
		     const uint8_t *in, size_t len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) &&
		 EVP_DigestUpdate(ctx, in, len);

	if (ok && (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF))
		ok = EVP_DigestFinalXOF(ctx, out, outlen);
	else if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return ok;
}

static void test_openssl(void)
{
	const struct {
		const EVP_MD *md;
		size_t outlen;
	} mds[] = {
		{ EVP_sha3_256(), 32 },
		{ EVP_sha3_512(), 64 },
		{ EVP_shake128(), OUT_LEN },
		{ EVP_shake256(), OUT_LEN },
	};
	uint8_t want[OUT_LEN], got[OUT_LEN];
	unsigned bad = 0;

	for (size_t f = 0; f < sizeof(kfns) / sizeof(*kfns); f++) {
		size_t outlen = mds[f].outlen;

		for (size_t len = 0; len < MSG_LEN; len++) {
			if (!ossl_hash(mds[f].md, want, outlen, msg + 1, len)) {
				bad++;
				continue;
			}
			kfns[f].oneshot(got, outlen, msg + 1, len);
			bad += memcmp(got, want, outlen) != 0;
		}
	}
	T_CHECK(bad == 0);
}

int main(void)
{
	for (size_t i = 0; i < MSG_LEN; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	T_RUN(test_chunked);
	T_RUN(test_squeezeblocks);
	T_RUN(test_permutation);
	T_RUN(test_permutation_twice);
	T_RUN(test_openssl);
	return t_done();
}
