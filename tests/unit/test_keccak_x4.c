/* The four-way Keccak (crypto/keccak_x4.h) against the scalar sponge of
 * keccak.c: SHAKE128, SHAKE256, SHA3-256 and SHA3-512, input lengths
 * around block boundaries and several squeezed blocks, with different
 * contents in each instance. */
#include <string.h>

#include "crypto/cpu.h"
#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"
#include "t.h"

enum { MAXLEN = 3 * SHAKE128_RATE + 2, NBLOCKS = 3 };

static void scalar_ref(uint8_t *out, unsigned rate, uint8_t dsep, const uint8_t *in,
		       size_t len)
{
	struct keccak_state st;

	if (rate == SHAKE128_RATE)
		shake128_init(&st);
	else if (rate == SHA3_512_RATE)
		sha3_512_init(&st);
	else if (dsep == KECCAK_DSEP_SHAKE)
		shake256_init(&st);
	else
		sha3_256_init(&st);
	keccak_absorb(&st, in, len);
	keccak_finalize(&st);
	keccak_squeezeblocks(&st, out, NBLOCKS);
}

static void check_absorb(unsigned rate, uint8_t dsep, size_t len)
{
	uint8_t in[4][MAXLEN], out[4][NBLOCKS * SHAKE128_RATE], ref[NBLOCKS * SHAKE128_RATE];
	const uint8_t *inp[4] = { in[0], in[1], in[2], in[3] };
	uint8_t *const outp[4] = { out[0], out[1], out[2], out[3] };
	uint8_t *const rest[4] = { out[0] + rate, out[1] + rate, out[2] + rate, out[3] + rate };
	struct keccak_x4 st;

	for (unsigned j = 0; j < 4; j++)
		for (size_t i = 0; i < len; i++)
			in[j][i] = (uint8_t)(i * 31 + j * 77 + len);
	keccak_x4_absorb(&st, rate, inp, len, dsep);
	/* One block, then the rest: squeezing continues where it stopped. */
	keccak_x4_squeezeblocks(&st, rate, outp, 1);
	keccak_x4_squeezeblocks(&st, rate, rest, NBLOCKS - 1);
	for (unsigned j = 0; j < 4; j++) {
		scalar_ref(ref, rate, dsep, in[j], len);
		T_EQ_MEM(out[j], ref, NBLOCKS * rate);
	}
}

/* Lanes of different lengths and domains through xor_block and permute,
 * as ML-KEM's Decaps hashes H(ek) and J(z || c) together. */
static void check_blocks(void)
{
	enum { RATE = SHA3_256_RATE };
	uint8_t msg[4][2 * RATE], last[4][RATE], out[4][RATE], ref[NBLOCKS * SHAKE128_RATE];
	const size_t len[4] = { RATE + 5, RATE + 100, 2 * RATE - 1, RATE };
	const uint8_t dsep[4] = { KECCAK_DSEP_SHA3, KECCAK_DSEP_SHAKE, KECCAK_DSEP_SHAKE,
				  KECCAK_DSEP_SHA3 };
	const uint8_t *blk[4];
	uint8_t *const outp[4] = { out[0], out[1], out[2], out[3] };
	struct keccak_x4 st;

	memset(&st, 0, sizeof(st));
	for (unsigned j = 0; j < 4; j++) {
		for (size_t i = 0; i < len[j]; i++)
			msg[j][i] = (uint8_t)(i ^ (j << 5));
		memset(last[j], 0, RATE);
		memcpy(last[j], msg[j] + RATE, len[j] - RATE);
		last[j][len[j] - RATE] ^= dsep[j];
		last[j][RATE - 1] ^= 0x80;
		blk[j] = msg[j];
	}
	keccak_x4_xor_block(&st, RATE, blk);
	keccak_x4_permute(&st);
	for (unsigned j = 0; j < 4; j++)
		blk[j] = last[j];
	keccak_x4_xor_block(&st, RATE, blk);
	keccak_x4_squeezeblocks(&st, RATE, outp, 1);
	for (unsigned j = 0; j < 4; j++) {
		scalar_ref(ref, RATE, dsep[j], msg[j], len[j]);
		T_EQ_MEM(out[j], ref, RATE);
	}
}

int main(void)
{
	static const struct {
		unsigned rate;
		uint8_t dsep;
	} fn[] = {
		{ SHAKE128_RATE, KECCAK_DSEP_SHAKE }, { SHAKE256_RATE, KECCAK_DSEP_SHAKE },
		{ SHA3_256_RATE, KECCAK_DSEP_SHA3 }, { SHA3_512_RATE, KECCAK_DSEP_SHA3 },
	};

	if (!dv_cpu_avx2())
		return t_done(); /* nothing to compare on this CPU (or forced off) */
	for (unsigned f = 0; f < sizeof(fn) / sizeof(fn[0]); f++) {
		unsigned rate = fn[f].rate;

		for (size_t len = 0; len <= MAXLEN; len++) {
			/* every length of the seeds, then near block boundaries */
			if (len > 70 && len % rate > 2 && len % rate < rate - 2)
				continue;
			check_absorb(rate, fn[f].dsep, len);
		}
	}
	check_blocks();
	return t_done();
}
