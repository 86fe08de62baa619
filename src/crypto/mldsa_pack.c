/* Byte encodings of ML-DSA-65 keys and signatures (FIPS 204, Section 7.1
 * and 7.2, Algorithms 16-28). Bit strings are little-endian: coefficient i
 * occupies bits [i * b, (i + 1) * b) of the output. Packing and unpacking of
 * secret data has no data-dependent branch or index; only the hint
 * encoding, which is public, branches on its contents. */
#include "crypto/mldsa_poly.h"

#include "crypto/ct.h"
#include "crypto/mldsa.h"

#define MLDSA_SK_S1_OFF (32 + 32 + MLDSA_TR_LEN)
#define MLDSA_SK_S2_OFF (MLDSA_SK_S1_OFF + MLDSA_L * MLDSA_ETA_POLY_LEN)
#define MLDSA_SK_T0_OFF (MLDSA_SK_S2_OFF + MLDSA_K * MLDSA_ETA_POLY_LEN)
#define MLDSA_SIG_Z_OFF MLDSA_CTILDE_LEN
#define MLDSA_SIG_H_OFF (MLDSA_SIG_Z_OFF + MLDSA_L * MLDSA_Z_POLY_LEN)

_Static_assert(MLDSA_SK_T0_OFF + MLDSA_K * MLDSA_T0_POLY_LEN == MLDSA65_SK_LEN,
	       "sk layout");
_Static_assert(32 + MLDSA_K * MLDSA_T1_POLY_LEN == MLDSA65_PK_LEN, "pk layout");
_Static_assert(MLDSA_SIG_H_OFF + MLDSA_OMEGA + MLDSA_K == MLDSA65_SIG_LEN, "sig layout");

/* Algorithms 16/17: writes off + sign * c[i] in `bits` bits each; sign = 1,
 * off = 0 is SimpleBitPack, sign = -1 is BitPack(w, a = bits range, b = off). */
static void mldsa_pack_bits(uint8_t *out, const struct mldsa_poly *p, int32_t off,
			    int32_t sign, unsigned bits)
{
	uint64_t acc = 0;
	unsigned nacc = 0;

	for (unsigned i = 0; i < MLDSA_N; i++) {
		acc |= (uint64_t)(uint32_t)(off + sign * p->c[i]) << nacc;
		nacc += bits;
		while (nacc >= 8) {
			*out++ = (uint8_t)acc;
			acc >>= 8;
			nacc -= 8;
		}
	}
}

/* Algorithms 18/19, the inverse: c[i] = off + sign * (next `bits` bits). */
static void mldsa_unpack_bits(struct mldsa_poly *p, const uint8_t *in, int32_t off,
			      int32_t sign, unsigned bits)
{
	uint64_t acc = 0;
	unsigned nacc = 0;
	uint32_t mask = (1u << bits) - 1;

	for (unsigned i = 0; i < MLDSA_N; i++) {
		while (nacc < bits) {
			acc |= (uint64_t)*in++ << nacc;
			nacc += 8;
		}
		p->c[i] = off + sign * (int32_t)(acc & mask);
		acc >>= bits;
		nacc -= bits;
	}
}

/* SimpleBitUnpack(., 2^10 - 1) of Algorithm 23: four coefficients per
 * five bytes. */
static void mldsa_t1_unpack(struct mldsa_poly *p, const uint8_t *in)
{
	for (unsigned i = 0; i < MLDSA_N / 4; i++) {
		const uint8_t *b = in + 5 * i;

		p->c[4 * i] = (b[0] | b[1] << 8) & 0x3ff;
		p->c[4 * i + 1] = (b[1] >> 2 | b[2] << 6) & 0x3ff;
		p->c[4 * i + 2] = (b[2] >> 4 | b[3] << 4) & 0x3ff;
		p->c[4 * i + 3] = b[3] >> 6 | b[4] << 2;
	}
}

/* BitUnpack(., eta, eta) of Algorithm 25: eta minus each half-byte. */
static void mldsa_eta_unpack(struct mldsa_poly *p, const uint8_t *in)
{
	for (unsigned i = 0; i < MLDSA_N / 2; i++) {
		p->c[2 * i] = MLDSA_ETA - (in[i] & 15);
		p->c[2 * i + 1] = MLDSA_ETA - (in[i] >> 4);
	}
}

/* Algorithm 22: rho || SimpleBitPack(t1[i], 2^10 - 1). t1 in [0, 1023]. */
void mldsa_pk_encode(uint8_t *pk, const uint8_t rho[32], const struct mldsa_polyveck *t1)
{
	for (unsigned b = 0; b < 32; b++)
		pk[b] = rho[b];
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_pack_bits(pk + 32 + i * MLDSA_T1_POLY_LEN, &t1->v[i], 0, 1, 10);
}

/* Algorithm 23. */
void mldsa_pk_decode(uint8_t rho[32], struct mldsa_polyveck *t1, const uint8_t *pk)
{
	for (unsigned b = 0; b < 32; b++)
		rho[b] = pk[b];
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_t1_unpack(&t1->v[i], pk + 32 + i * MLDSA_T1_POLY_LEN);
}

/* Algorithm 24: rho || K || tr || BitPack(s1, eta, eta) || BitPack(s2, eta,
 * eta) || BitPack(t0, 2^(d-1) - 1, 2^(d-1)). */
void mldsa_sk_encode(uint8_t *sk, const uint8_t rho[32], const uint8_t key[32],
		     const uint8_t tr[MLDSA_TR_LEN], const struct mldsa_polyvecl *s1,
		     const struct mldsa_polyveck *s2, const struct mldsa_polyveck *t0)
{
	for (unsigned b = 0; b < 32; b++) {
		sk[b] = rho[b];
		sk[32 + b] = key[b];
	}
	for (unsigned b = 0; b < MLDSA_TR_LEN; b++)
		sk[64 + b] = tr[b];
	for (unsigned i = 0; i < MLDSA_L; i++)
		mldsa_pack_bits(sk + MLDSA_SK_S1_OFF + i * MLDSA_ETA_POLY_LEN, &s1->v[i],
				MLDSA_ETA, -1, 4);
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_pack_bits(sk + MLDSA_SK_S2_OFF + i * MLDSA_ETA_POLY_LEN, &s2->v[i],
				MLDSA_ETA, -1, 4);
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_pack_bits(sk + MLDSA_SK_T0_OFF + i * MLDSA_T0_POLY_LEN, &t0->v[i],
				1 << (MLDSA_D - 1), -1, MLDSA_D);
}

/* Algorithm 25. The caller checks the s1/s2 ranges with mldsa65_check_sk. */
void mldsa_sk_decode(uint8_t rho[32], uint8_t key[32], uint8_t tr[MLDSA_TR_LEN],
		     struct mldsa_polyvecl *s1, struct mldsa_polyveck *s2,
		     struct mldsa_polyveck *t0, const uint8_t *sk)
{
	for (unsigned b = 0; b < 32; b++) {
		rho[b] = sk[b];
		key[b] = sk[32 + b];
	}
	for (unsigned b = 0; b < MLDSA_TR_LEN; b++)
		tr[b] = sk[64 + b];
	for (unsigned i = 0; i < MLDSA_L; i++)
		mldsa_eta_unpack(&s1->v[i], sk + MLDSA_SK_S1_OFF + i * MLDSA_ETA_POLY_LEN);
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_eta_unpack(&s2->v[i], sk + MLDSA_SK_S2_OFF + i * MLDSA_ETA_POLY_LEN);
	for (unsigned i = 0; i < MLDSA_K; i++)
		mldsa_unpack_bits(&t0->v[i], sk + MLDSA_SK_T0_OFF + i * MLDSA_T0_POLY_LEN,
				  1 << (MLDSA_D - 1), -1, MLDSA_D);
}

/* BitUnpack(., eta, eta) of Algorithm 25 yields eta - b for any 4-bit b, so a
 * field above 2 * eta = 8 would give a coefficient below -eta: FIPS 204
 * leaves such keys undefined, and Wycheproof requires them to be refused.
 * Constant time over the key; only the verdict is declassified. */
int mldsa65_check_sk(const uint8_t sk[MLDSA65_SK_LEN])
{
	uint32_t bad = 0;

	for (unsigned i = MLDSA_SK_S1_OFF; i < MLDSA_SK_T0_OFF; i++) {
		bad |= (uint32_t)(2 * MLDSA_ETA - (sk[i] & 15)) >> 31;
		bad |= (uint32_t)(2 * MLDSA_ETA - (sk[i] >> 4)) >> 31;
	}
	ct_declassify(&bad, sizeof(bad));
	return bad ? -1 : 0;
}

/* BitPack(z, gamma1 - 1, gamma1): gamma1 - z in 20 bits, two coefficients
 * per five bytes. */
static void mldsa_z_pack(uint8_t *out, const struct mldsa_poly *z)
{
	for (unsigned i = 0; i < MLDSA_N / 2; i++) {
		uint32_t v0 = (uint32_t)(MLDSA_GAMMA1 - z->c[2 * i]);
		uint32_t v1 = (uint32_t)(MLDSA_GAMMA1 - z->c[2 * i + 1]);
		uint8_t *b = out + 5 * i;

		b[0] = (uint8_t)v0;
		b[1] = (uint8_t)(v0 >> 8);
		b[2] = (uint8_t)(v0 >> 16 | v1 << 4);
		b[3] = (uint8_t)(v1 >> 4);
		b[4] = (uint8_t)(v1 >> 12);
	}
}

/* Algorithms 26 and 20: ctilde || BitPack(z, gamma1 - 1, gamma1) ||
 * HintBitPack(h). h has at most omega ones (checked by the signer). */
void mldsa_sig_encode(uint8_t *sig, const uint8_t ctilde[MLDSA_CTILDE_LEN],
		      const struct mldsa_polyvecl *z, const struct mldsa_polyveck *h)
{
	uint8_t *y = sig + MLDSA_SIG_H_OFF;
	uint8_t pos[MLDSA_OMEGA + 1];
	unsigned index = 0;

	for (unsigned b = 0; b < MLDSA_CTILDE_LEN; b++)
		sig[b] = ctilde[b];
	for (unsigned i = 0; i < MLDSA_L; i++)
		mldsa_z_pack(sig + MLDSA_SIG_Z_OFF + i * MLDSA_Z_POLY_LEN, &z->v[i]);
	/* Every position is written and kept (counted) only where h is 1: no
	 * branch to mispredict at each hint. pos has a spare entry. */
	for (unsigned i = 0; i < MLDSA_K; i++) {
		for (unsigned j = 0; j < MLDSA_N; j++) {
			pos[index] = (uint8_t)j;
			index += (unsigned)(h->v[i].c[j] != 0) & (index < MLDSA_OMEGA);
		}
		y[MLDSA_OMEGA + i] = (uint8_t)index;
	}
	for (unsigned i = 0; i < MLDSA_OMEGA; i++)
		y[i] = i < index ? pos[i] : 0;
}

/* Algorithm 21, HintBitUnpack: per polynomial the cumulative counts must
 * not decrease nor pass omega, the indices inside a polynomial must be
 * strictly increasing, and the unused tail must be zero. */
static int mldsa_hint_unpack(struct mldsa_polyveck *h, const uint8_t *y)
{
	unsigned index = 0;

	for (unsigned i = 0; i < MLDSA_K; i++)
		for (unsigned j = 0; j < MLDSA_N; j++)
			h->v[i].c[j] = 0;
	for (unsigned i = 0; i < MLDSA_K; i++) {
		unsigned end = y[MLDSA_OMEGA + i], first = index;

		if (end < index || end > MLDSA_OMEGA)
			return -1;
		for (; index < end; index++) {
			if (index > first && y[index - 1] >= y[index])
				return -1;
			h->v[i].c[y[index]] = 1;
		}
	}
	for (; index < MLDSA_OMEGA; index++)
		if (y[index])
			return -1;
	return 0;
}

/* Algorithm 27. z comes out in [-gamma1 + 1, gamma1]; the caller checks
 * its norm. */
int mldsa_sig_decode(uint8_t ctilde[MLDSA_CTILDE_LEN], struct mldsa_polyvecl *z,
		     struct mldsa_polyveck *h, const uint8_t *sig)
{
	for (unsigned b = 0; b < MLDSA_CTILDE_LEN; b++)
		ctilde[b] = sig[b];
	for (unsigned i = 0; i < MLDSA_L; i++) /* the encoding of the mask y */
		mldsa_mask_unpack(&z->v[i], sig + MLDSA_SIG_Z_OFF + i * MLDSA_Z_POLY_LEN);
	return mldsa_hint_unpack(h, sig + MLDSA_SIG_H_OFF);
}

/* Algorithm 28: SimpleBitPack(w1[i], 15), 4 bits per coefficient: two
 * to a byte, the even one in the low half (a loop that vectorises; it runs
 * once per signing attempt). */
void mldsa_w1_encode(uint8_t out[MLDSA_W1_LEN], const struct mldsa_polyveck *w1)
{
	for (unsigned i = 0; i < MLDSA_K; i++)
		for (unsigned j = 0; j < MLDSA_N / 2; j++)
			out[i * MLDSA_W1_POLY_LEN + j] =
				(uint8_t)(w1->v[i].c[2 * j] | w1->v[i].c[2 * j + 1] << 4);
}
