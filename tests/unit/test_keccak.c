/* Keccak sponge: the incremental API, fed and drained in odd chunk sizes,
 * must give exactly the one-shot output for every function; the known
 * answers themselves are checked by tests/vectors/tv_sha3.c. */
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

int main(void)
{
	for (size_t i = 0; i < MSG_LEN; i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	T_RUN(test_chunked);
	T_RUN(test_squeezeblocks);
	T_RUN(test_permutation);
	return t_done();
}
