/* ML-KEM sampling (FIPS 203, section 4.2.2): SampleNTT, the rejection
 * sampler that expands the public seed rho into the matrix A, and
 * SamplePolyCBD_2, the centred binomial noise drawn from PRF_2. */
#include "crypto/mlkem_internal.h"

#include <string.h>

#include "crypto/cpu.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"

/* Parse 12-bit candidates from buf, keeping those below q (Algorithm 7,
 * lines 5-13). Each candidate is stored unconditionally and the count
 * advanced by the comparison, which spares the hard-to-predict branches;
 * r has one slot of slack for the second candidate of the last pair.
 * Returns the new count of coefficients. */
unsigned mlkem_rej_uniform(int16_t r[MLKEM_N + 1], unsigned ctr, const uint8_t *buf,
			   unsigned buflen)
{
	for (unsigned i = 0; ctr < MLKEM_N && i + 3 <= buflen; i += 3) {
		uint16_t d1 = (uint16_t)((buf[i] | buf[i + 1] << 8) & 0xfff);
		uint16_t d2 = (uint16_t)(buf[i + 1] >> 4 | buf[i + 2] << 4);

		r[ctr] = (int16_t)d1;
		ctr += d1 < MLKEM_Q;
		r[ctr] = (int16_t)d2;
		ctr += d2 < MLKEM_Q;
	}
	return ctr < MLKEM_N ? ctr : MLKEM_N;
}

/* SampleNTT(rho || x || y) (Algorithm 7); coefficients in [0, q). */
void mlkem_sample_ntt(struct mlkem_poly *p, const uint8_t rho[MLKEM_SYMBYTES], uint8_t x,
		      uint8_t y, mlkem_rej_fn *rej)
{
	uint8_t buf[MLKEM_GEN_BLOCKS * SHAKE128_RATE];
	uint8_t seed[MLKEM_SYMBYTES + 2];
	int16_t coeffs[MLKEM_N + 1];
	struct keccak_state st;
	unsigned ctr;

	memcpy(seed, rho, MLKEM_SYMBYTES);
	seed[MLKEM_SYMBYTES] = x;
	seed[MLKEM_SYMBYTES + 1] = y;
	shake128_init(&st);
	keccak_absorb(&st, seed, sizeof(seed));
	keccak_finalize(&st);
	keccak_squeezeblocks(&st, buf, MLKEM_GEN_BLOCKS);
	ctr = rej(coeffs, 0, buf, sizeof(buf));
	while (ctr < MLKEM_N) {
		keccak_squeezeblocks(&st, buf, 1);
		ctr = rej(coeffs, ctr, buf, SHAKE128_RATE);
	}
	memcpy(p->c, coeffs, sizeof(p->c));
}

/* Algorithm 13 lines 3-7 (and 14 lines 4-8): A[i][j] = SampleNTT(rho || j || i).
 * Encryption multiplies by A^T, whose (i, j) entry is SampleNTT(rho || i || j). */
void mlkem_gen_matrix(struct mlkem_polyvec a[MLKEM_K], const uint8_t rho[MLKEM_SYMBYTES],
		      int transposed)
{
	if (dv_cpu_avx2()) {
		mlkem_gen_matrix_avx2(a, rho, transposed);
		return;
	}
	for (uint8_t i = 0; i < MLKEM_K; i++)
		for (uint8_t j = 0; j < MLKEM_K; j++) {
			if (transposed)
				mlkem_sample_ntt(&a[i].p[j], rho, i, j, mlkem_rej_uniform);
			else
				mlkem_sample_ntt(&a[i].p[j], rho, j, i, mlkem_rej_uniform);
		}
}

/* SamplePolyCBD_2 (Algorithm 8) on 128 PRF bytes: each coefficient is
 * (b0 + b1) - (b2 + b3) over four consecutive bits, so each byte gives two.
 * Adjacent bits are summed in pairs with one mask-and-add; written a byte
 * at a time, the loop vectorizes. The result lies in [-2, 2]. */
void mlkem_cbd2(struct mlkem_poly *restrict p, const uint8_t buf[restrict MLKEM_NOISEBYTES])
{
	for (unsigned i = 0; i < MLKEM_NOISEBYTES; i++) {
		unsigned s = (buf[i] & 0x55u) + ((buf[i] >> 1) & 0x55u);

		p->c[2 * i] = (int16_t)((int)(s & 3) - (int)((s >> 2) & 3));
		p->c[2 * i + 1] = (int16_t)((int)((s >> 4) & 3) - (int)((s >> 6) & 3));
	}
}

/* SamplePolyCBD_2(PRF_2(sigma, n)), PRF_2(s, b) = SHAKE256(s || b, 128
 * bytes) (FIPS 203, eq. 4.3). */
static void mlkem_poly_getnoise(struct mlkem_poly *p, const uint8_t sigma[MLKEM_SYMBYTES],
				uint8_t n)
{
	uint8_t buf[MLKEM_NOISEBYTES];
	uint8_t seed[MLKEM_SYMBYTES + 1];

	memcpy(seed, sigma, MLKEM_SYMBYTES);
	seed[MLKEM_SYMBYTES] = n;
	shake256(buf, sizeof(buf), seed, sizeof(seed));
	mlkem_cbd2(p, buf);
	ct_wipe(buf, sizeof(buf));
	ct_wipe(seed, sizeof(seed));
}

/* p[i] = SamplePolyCBD_2(PRF_2(sigma, n0 + i)) for i < count; four at a
 * time where AVX2 runs four SHAKE256 instances in parallel. */
void mlkem_getnoise(struct mlkem_poly *const *p, unsigned count,
		    const uint8_t sigma[MLKEM_SYMBYTES], uint8_t n0)
{
	unsigned i = 0;

	if (dv_cpu_avx2()) {
		for (; i + 4 <= count; i += 4) {
			uint8_t n[4] = { (uint8_t)(n0 + i), (uint8_t)(n0 + i + 1),
					 (uint8_t)(n0 + i + 2), (uint8_t)(n0 + i + 3) };

			mlkem_getnoise_x4_avx2(p + i, sigma, n);
		}
	}
	for (; i < count; i++)
		mlkem_poly_getnoise(p[i], sigma, (uint8_t)(n0 + i));
}
