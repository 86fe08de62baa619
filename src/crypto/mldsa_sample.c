/* Pseudorandom sampling of ML-DSA (FIPS 204, Section 7.3): the matrix A
 * (ExpandA, RejNTTPoly), the secret vectors (ExpandS, RejBoundedPoly), the
 * masking vector y (ExpandMask) and the challenge c (SampleInBall). */
#include "crypto/mldsa_poly.h"

#include "crypto/cpu.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"

/* Algorithm 14, CoeffFromThreeBytes, over a buffer: 3 bytes per candidate,
 * the top bit of the third cleared, kept when below q. Public data, so the
 * rejection may branch. */
unsigned mldsa_rej_uniform(struct mldsa_poly *a, unsigned ctr, const uint8_t *buf, size_t len)
{
	for (size_t i = 0; i + 3 <= len && ctr < MLDSA_N; i += 3) {
		uint32_t t = buf[i] | (uint32_t)buf[i + 1] << 8 | (uint32_t)(buf[i + 2] & 0x7f) << 16;

		if (t < MLDSA_Q)
			a->c[ctr++] = (int32_t)t;
	}
	return ctr;
}

/* Algorithm 30, RejNTTPoly(rho || IntegerToBytes(s, 1) || IntegerToBytes(r,
 * 1)): entry (r, s) of A-hat, as Algorithm 32 orders the indices (column
 * first). 168 is a multiple of 3, so no candidate straddles two blocks. */
static void mldsa_rej_ntt_poly(struct mldsa_poly *a, const uint8_t rho[32], unsigned r,
			       unsigned s)
{
	struct keccak_state st;
	uint8_t buf[SHAKE128_RATE];
	uint8_t idx[2] = { (uint8_t)s, (uint8_t)r };
	unsigned ctr = 0;

	shake128_init(&st);
	keccak_absorb(&st, rho, 32);
	keccak_absorb(&st, idx, 2);
	keccak_finalize(&st);
	while (ctr < MLDSA_N) {
		keccak_squeezeblocks(&st, buf, 1);
		ctr = mldsa_rej_uniform(a, ctr, buf, sizeof(buf));
	}
}

/* Algorithm 32. */
void mldsa_expand_a(struct mldsa_matrix *a, const uint8_t rho[32])
{
#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_expand_a_avx2(a, rho);
		return;
	}
#endif
	for (unsigned r = 0; r < MLDSA_K; r++)
		for (unsigned s = 0; s < MLDSA_L; s++)
			mldsa_rej_ntt_poly(&a->row[r].v[s], rho, r, s);
}

/* Algorithm 31, RejBoundedPoly for eta = 4 (Algorithm 15 accepts a
 * half-byte b < 9 as 4 - b). The coefficients stay secret; only whether
 * each half-byte was accepted is declassified: a rejected half-byte is
 * independent of the accepted ones, so the number of rejections tells
 * nothing about the key. */
static void mldsa_rej_bounded_poly(struct mldsa_poly *a, const uint8_t rhoprime[64],
				   uint16_t nonce)
{
	struct keccak_state st;
	uint8_t buf[SHAKE256_RATE];
	uint8_t n[2] = { (uint8_t)nonce, (uint8_t)(nonce >> 8) };
	unsigned ctr = 0;

	shake256_init(&st);
	keccak_absorb(&st, rhoprime, 64);
	keccak_absorb(&st, n, 2);
	keccak_finalize(&st);
	while (ctr < MLDSA_N) {
		keccak_squeezeblocks(&st, buf, 1);
		for (unsigned i = 0; i < sizeof(buf) && ctr < MLDSA_N; i++) {
			uint32_t half[2] = { buf[i] & 15u, (uint32_t)buf[i] >> 4 };

			for (unsigned j = 0; j < 2 && ctr < MLDSA_N; j++) {
				uint32_t ok = (half[j] - 9) >> 31;

				ct_declassify(&ok, sizeof(ok));
				if (ok)
					a->c[ctr++] = MLDSA_ETA - (int32_t)half[j];
			}
		}
	}
	ct_wipe(buf, sizeof(buf));
	ct_wipe(&st, sizeof(st));
}

/* Algorithm 33: s1[r] from nonce r, s2[r] from nonce r + l. */
void mldsa_expand_s(struct mldsa_polyvecl *s1, struct mldsa_polyveck *s2,
		    const uint8_t rhoprime[64])
{
	for (unsigned r = 0; r < MLDSA_L; r++)
		mldsa_rej_bounded_poly(&s1->v[r], rhoprime, (uint16_t)r);
	for (unsigned r = 0; r < MLDSA_K; r++)
		mldsa_rej_bounded_poly(&s2->v[r], rhoprime, (uint16_t)(MLDSA_L + r));
}

/* BitUnpack(v, gamma1 - 1, gamma1) of Algorithm 34: 20-bit fields v of
 * 640 bytes mapped to gamma1 - v. */
void mldsa_mask_unpack(struct mldsa_poly *p, const uint8_t *buf)
{
	for (unsigned i = 0; i < MLDSA_N / 2; i++) {
		const uint8_t *b = buf + 5 * i;
		uint32_t v0 = b[0] | (uint32_t)b[1] << 8 | (uint32_t)(b[2] & 15) << 16;
		uint32_t v1 = (uint32_t)b[2] >> 4 | (uint32_t)b[3] << 4 | (uint32_t)b[4] << 12;

		p->c[2 * i] = MLDSA_GAMMA1 - (int32_t)v0;
		p->c[2 * i + 1] = MLDSA_GAMMA1 - (int32_t)v1;
	}
}

/* One polynomial of Algorithm 34: BitUnpack(H(rho'' || IntegerToBytes(nonce,
 * 2), 640)). */
void mldsa_expand_mask_poly(struct mldsa_poly *p, const uint8_t rhopp[64], uint16_t nonce)
{
	struct keccak_state st;
	/* 640 bytes, squeezed as 5 whole blocks (the fast path of keccak). */
	uint8_t buf[(MLDSA_MASK_BYTES + SHAKE256_RATE - 1) / SHAKE256_RATE * SHAKE256_RATE];
	uint8_t n[2] = { (uint8_t)nonce, (uint8_t)(nonce >> 8) };

	shake256_init(&st);
	keccak_absorb(&st, rhopp, 64);
	keccak_absorb(&st, n, 2);
	keccak_finalize(&st);
	keccak_squeezeblocks(&st, buf, sizeof(buf) / SHAKE256_RATE);
	mldsa_mask_unpack(p, buf);
	ct_wipe(buf, sizeof(buf));
	ct_wipe(&st, sizeof(st));
}

/* Algorithm 34: y[r] from nonce kappa + r. */
void mldsa_expand_mask(struct mldsa_polyvecl *y, const uint8_t rhopp[64], uint16_t kappa)
{
#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_expand_mask_avx2(y, rhopp, kappa);
		return;
	}
#endif
	for (unsigned r = 0; r < MLDSA_L; r++)
		mldsa_expand_mask_poly(&y->v[r], rhopp, (uint16_t)(kappa + r));
}

/* Algorithm 29 on the whole 48-byte ctilde. The challenge is public: it is
 * part of the signature, and for rejected attempts it is a random-oracle
 * output that reveals nothing about the key (CRYSTALS-Dilithium round-3
 * specification, Section 5.5). */
void mldsa_sample_in_ball(struct mldsa_poly *c, const uint8_t ctilde[MLDSA_CTILDE_LEN])
{
	struct keccak_state st;
	uint8_t buf[SHAKE256_RATE];
	uint64_t signs = 0;
	unsigned pos = 8;

	shake256_init(&st);
	keccak_absorb(&st, ctilde, MLDSA_CTILDE_LEN);
	keccak_finalize(&st);
	keccak_squeezeblocks(&st, buf, 1);
	for (unsigned i = 0; i < 8; i++)
		signs |= (uint64_t)buf[i] << (8 * i);
	for (unsigned i = 0; i < MLDSA_N; i++)
		c->c[i] = 0;
	for (unsigned i = MLDSA_N - MLDSA_TAU; i < MLDSA_N; i++) {
		unsigned j;

		do {
			if (pos == sizeof(buf)) {
				keccak_squeezeblocks(&st, buf, 1);
				pos = 0;
			}
			j = buf[pos++];
		} while (j > i);
		c->c[i] = c->c[j];
		c->c[j] = 1 - 2 * (int32_t)(signs & 1);
		signs >>= 1;
	}
}
