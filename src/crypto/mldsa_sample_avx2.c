/* The bulk sampling of ML-DSA on the four-way Keccak (keccak_x4.h):
 * ExpandA (30 SHAKE128 streams, Algorithm 32) and ExpandMask (5 SHAKE256
 * streams, Algorithm 34). The outputs are the same bytes the scalar
 * keccak.c gives (the vectors, run with and without DYBERVPN_NO_AVX2,
 * check the whole chain), and the coefficient parsing is shared with
 * mldsa_sample.c. Selected at run time by mldsa_sample.c, like the AVX2
 * NTT. */
#include "crypto/mldsa_poly.h"

#if defined(__x86_64__)
#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/keccak_x4.h"

/* Algorithm 32 four entries at a time; entry e = 5r + s, the last batch
 * padded with a repeat of entry 29 into scratch. Five blocks (280
 * candidates) almost always give 256 coefficients; otherwise all four
 * streams are squeezed further. */
void mldsa_expand_a_avx2(struct mldsa_matrix *a, const uint8_t rho[32])
{
	enum { NB = 5 };
	uint8_t buf[4][NB * SHAKE128_RATE];
	uint8_t *const out[4] = { buf[0], buf[1], buf[2], buf[3] };
	uint8_t seed[4][32 + 2];
	const uint8_t *in[4] = { seed[0], seed[1], seed[2], seed[3] };
	struct mldsa_poly scratch;
	struct keccak_x4 st;

	for (unsigned i = 0; i < 4; i++)
		memcpy(seed[i], rho, 32);
	for (unsigned e0 = 0; e0 < MLDSA_K * MLDSA_L; e0 += 4) {
		struct mldsa_poly *p[4];
		unsigned ctr[4], done;

		for (unsigned i = 0; i < 4; i++) {
			unsigned e = e0 + i < MLDSA_K * MLDSA_L ? e0 + i : MLDSA_K * MLDSA_L - 1;

			p[i] = e0 + i == e ? &a->row[e / MLDSA_L].v[e % MLDSA_L] : &scratch;
			seed[i][32] = (uint8_t)(e % MLDSA_L); /* column first */
			seed[i][33] = (uint8_t)(e / MLDSA_L);
		}
		keccak_x4_absorb(&st, SHAKE128_RATE, in, sizeof(seed[0]), KECCAK_DSEP_SHAKE);
		keccak_x4_squeezeblocks(&st, SHAKE128_RATE, out, NB);
		done = 0;
		for (unsigned i = 0; i < 4; i++) {
			ctr[i] = mldsa_rej_uniform(p[i], 0, buf[i], sizeof(buf[i]));
			done += ctr[i] == MLDSA_N;
		}
		while (done < 4) {
			keccak_x4_squeezeblocks(&st, SHAKE128_RATE, out, 1);
			done = 0;
			for (unsigned i = 0; i < 4; i++) {
				ctr[i] = mldsa_rej_uniform(p[i], ctr[i], buf[i], SHAKE128_RATE);
				done += ctr[i] == MLDSA_N;
			}
		}
	}
}

/* Algorithm 34: y[0..3] four at a time, y[4] by the scalar code. */
void mldsa_expand_mask_avx2(struct mldsa_polyvecl *y, const uint8_t rhopp[64], uint16_t kappa)
{
	enum { NB = (MLDSA_MASK_BYTES + SHAKE256_RATE - 1) / SHAKE256_RATE };
	uint8_t buf[4][NB * SHAKE256_RATE];
	uint8_t *const out[4] = { buf[0], buf[1], buf[2], buf[3] };
	uint8_t seed[4][64 + 2];
	const uint8_t *in[4] = { seed[0], seed[1], seed[2], seed[3] };
	struct keccak_x4 st;

	for (unsigned i = 0; i < 4; i++) {
		uint16_t n = (uint16_t)(kappa + i);

		memcpy(seed[i], rhopp, 64);
		seed[i][64] = (uint8_t)n;
		seed[i][65] = (uint8_t)(n >> 8);
	}
	keccak_x4_absorb(&st, SHAKE256_RATE, in, sizeof(seed[0]), KECCAK_DSEP_SHAKE);
	keccak_x4_squeezeblocks(&st, SHAKE256_RATE, out, NB);
	for (unsigned i = 0; i < 4; i++)
		mldsa_mask_unpack(&y->v[i], buf[i]);
	mldsa_expand_mask_poly(&y->v[4], rhopp, (uint16_t)(kappa + 4));
	ct_wipe(seed, sizeof(seed));
	ct_wipe(buf, sizeof(buf));
	ct_wipe(&st, sizeof(st));
}

#endif
