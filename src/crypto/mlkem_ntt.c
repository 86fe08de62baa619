/* Number-theoretic transform of ML-KEM (FIPS 203, section 4.3): NTT,
 * inverse NTT and the base-case multiplication, in Montgomery arithmetic
 * (R = 2^16) on signed 16-bit coefficients. */
#include "crypto/mlkem_internal.h"

/* mlkem_zetas[i] = 17^BitRev7(i) * R mod q, centred (FIPS 203, Appendix A,
 * times R so that mlkem_fqmul by it is a plain product by 17^BitRev7(i)). */
const int16_t mlkem_zetas[128] = {
	-1044,  -758,  -359, -1517,  1493,  1422,   287,   202,
	 -171,   622,  1577,   182,   962, -1202, -1474,  1468,
	  573, -1325,   264,   383,  -829,  1458, -1602,  -130,
	 -681,  1017,   732,   608, -1542,   411,  -205, -1571,
	 1223,   652,  -552,  1015, -1293,  1491,  -282, -1544,
	  516,    -8,  -320,  -666, -1618, -1162,   126,  1469,
	 -853,   -90,  -271,   830,   107, -1421,  -247,  -951,
	 -398,   961, -1508,  -725,   448, -1065,   677, -1275,
	-1103,   430,   555,   843, -1251,   871,  1550,   105,
	  422,   587,   177,  -235,  -291,  -460,  1574,  1653,
	 -246,   778,  1159,  -147,  -777,  1483,  -602,  1119,
	-1590,   644,  -872,   349,   418,   329,  -156,   -75,
	  817,  1097,   603,   610,  1322, -1285, -1465,   384,
	-1215,  -136,  1218, -1335,  -874,   220, -1187, -1659,
	-1185, -1530, -1278,   794, -1510,  -854,  -870,   478,
	 -108,  -308,   996,   991,   958, -1460,  1522,  1628,
};

/* FIPS 203, Algorithm 9 (Cooley-Tukey butterflies, k from 1 upwards).
 * Each of the 7 layers grows |c| by less than q, so from |c| <= q the
 * values stay below 8q < 2^15 and one Barrett pass at the end suffices. */
void mlkem_ntt(struct mlkem_poly *p)
{
	int16_t *r = p->c;
	unsigned k = 1;

	for (unsigned len = 128; len >= 2; len >>= 1) {
		for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
			int16_t zeta = mlkem_zetas[k++];

			for (unsigned j = start; j < start + len; j++) {
				int16_t t = mlkem_fqmul(zeta, r[j + len]);

				r[j + len] = (int16_t)(r[j] - t);
				r[j] = (int16_t)(r[j] + t);
			}
		}
	}
	mlkem_poly_reduce(p);
}

/* FIPS 203, Algorithm 10 (Gentleman-Sande butterflies, k from 127 down),
 * with f[j + len] = zeta * (f[j + len] - t) so the forward zetas serve.
 * Sums are Barrett-reduced as they go; the final scaling by 1441 =
 * R^2 / 128 mod q both divides by 128 and multiplies by R, which cancels
 * the R^-1 left by mlkem_polyvec_basemul_acc. */
void mlkem_invntt_tomont(struct mlkem_poly *p)
{
	int16_t *r = p->c;
	unsigned k = 127;

	for (unsigned len = 2; len <= 128; len <<= 1) {
		for (unsigned start = 0; start < MLKEM_N; start += 2 * len) {
			int16_t zeta = mlkem_zetas[k--];

			for (unsigned j = start; j < start + len; j++) {
				int16_t t = r[j];

				r[j] = mlkem_barrett_reduce((int16_t)(t + r[j + len]));
				r[j + len] = mlkem_fqmul(zeta, (int16_t)(r[j + len] - t));
			}
		}
	}
	for (unsigned j = 0; j < MLKEM_N; j++)
		r[j] = mlkem_fqmul(r[j], 1441);
}

/* FIPS 203, Algorithms 11 and 12, summed over the vector: in the NTT
 * domain a polynomial is 128 degree-1 residues mod X^2 - gamma_i, with
 * gamma_{2i} = 17^BitRev7(64 + i) = -gamma_{2i+1}. Products are summed in
 * 32 bits and reduced once: with one side below 4096 and the other at most
 * (q-1)/2 in magnitude, three pairs of terms stay below q * 2^15. */
void mlkem_polyvec_basemul_acc(struct mlkem_poly *r, const struct mlkem_polyvec *a,
			       const struct mlkem_polyvec *b)
{
	for (unsigned i = 0; i < MLKEM_N / 4; i++) {
		int16_t zeta = mlkem_zetas[64 + i];
		int32_t c0 = 0, c1 = 0, c2 = 0, c3 = 0;

		for (unsigned k = 0; k < MLKEM_K; k++) {
			const int16_t *x = &a->p[k].c[4 * i], *y = &b->p[k].c[4 * i];

			c0 += (int32_t)x[0] * y[0] +
			      (int32_t)mlkem_fqmul(x[1], y[1]) * zeta;
			c1 += (int32_t)x[0] * y[1] + (int32_t)x[1] * y[0];
			c2 += (int32_t)x[2] * y[2] -
			      (int32_t)mlkem_fqmul(x[3], y[3]) * zeta;
			c3 += (int32_t)x[2] * y[3] + (int32_t)x[3] * y[2];
		}
		r->c[4 * i] = mlkem_montgomery_reduce(c0);
		r->c[4 * i + 1] = mlkem_montgomery_reduce(c1);
		r->c[4 * i + 2] = mlkem_montgomery_reduce(c2);
		r->c[4 * i + 3] = mlkem_montgomery_reduce(c3);
	}
}
