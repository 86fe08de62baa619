/* Number-theoretic transform of ML-KEM (FIPS 203, section 4.3): NTT,
 * inverse NTT and the base-case multiplication, in Montgomery arithmetic
 * (R = 2^16) on signed 16-bit coefficients. */
#include "crypto/mlkem_internal.h"

#include "crypto/cpu.h"

/* mlkem_zetas[i] = 17^BitRev7(i) * R mod q, centred (FIPS 203, Appendix A,
 * times R so that mlkem_fqmul by it is a plain product by 17^BitRev7(i)). */
static const int16_t mlkem_zetas[128] = {
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

/* mlkem_gammas[i] = 17^(2 BitRev7(i) + 1) * R mod q, centred (FIPS 203,
 * Appendix A): the moduli X^2 - gamma_i of the base-case products, which
 * come in pairs +-mlkem_zetas[64 + i / 2]. */
static const int16_t mlkem_gammas[MLKEM_N / 2] = {
	-1103,  1103,   430,  -430,   555,  -555,   843,  -843,
	-1251,  1251,   871,  -871,  1550, -1550,   105,  -105,
	  422,  -422,   587,  -587,   177,  -177,  -235,   235,
	 -291,   291,  -460,   460,  1574, -1574,  1653, -1653,
	 -246,   246,   778,  -778,  1159, -1159,  -147,   147,
	 -777,   777,  1483, -1483,  -602,   602,  1119, -1119,
	-1590,  1590,   644,  -644,  -872,   872,   349,  -349,
	  418,  -418,   329,  -329,  -156,   156,   -75,    75,
	  817,  -817,  1097, -1097,   603,  -603,   610,  -610,
	 1322, -1322, -1285,  1285, -1465,  1465,   384,  -384,
	-1215,  1215,  -136,   136,  1218, -1218, -1335,  1335,
	 -874,   874,   220,  -220, -1187,  1187, -1659,  1659,
	-1185,  1185, -1530,  1530, -1278,  1278,   794,  -794,
	-1510,  1510,  -854,   854,  -870,   870,   478,  -478,
	 -108,   108,  -308,   308,   996,  -996,   991,  -991,
	  958,  -958, -1460,  1460,  1522, -1522,  1628, -1628,
};

/* One layer of Algorithm 9 (Cooley-Tukey butterflies), blocks of 2 * len.
 * Inlined with a constant len so each inner loop has a fixed trip count
 * the compiler can vectorize. */
static inline __attribute__((always_inline)) void
mlkem_ntt_layer(int16_t r[MLKEM_N], unsigned len, unsigned k)
{
	for (unsigned start = 0; start < MLKEM_N; start += 2 * len, k++) {
		int16_t zeta = mlkem_zetas[k];
		int16_t zqinv = mlkem_mullo(zeta, MLKEM_QINV);
		int16_t *lo = r + start, *hi = r + start + len;

		for (unsigned j = 0; j < len; j++) {
			int16_t t = mlkem_fqmul_pre(hi[j], zeta, zqinv);

			hi[j] = (int16_t)(lo[j] - t);
			lo[j] = (int16_t)(lo[j] + t);
		}
	}
}

/* FIPS 203, Algorithm 9, k running from 1 upwards: layer len uses zetas
 * 128 / len .. 256 / len - 1. Each of the 7 layers grows |c| by less than
 * q, so from |c| <= q the values stay below 8q < 2^15 and one Barrett
 * pass at the end suffices. */
static inline __attribute__((always_inline)) void mlkem_ntt_body(int16_t r[MLKEM_N])
{
	mlkem_ntt_layer(r, 128, 1);
	mlkem_ntt_layer(r, 64, 2);
	mlkem_ntt_layer(r, 32, 4);
	mlkem_ntt_layer(r, 16, 8);
	mlkem_ntt_layer(r, 8, 16);
	mlkem_ntt_layer(r, 4, 32);
	mlkem_ntt_layer(r, 2, 64);
	for (unsigned j = 0; j < MLKEM_N; j++)
		r[j] = mlkem_barrett_reduce(r[j]);
}

/* One layer of Algorithm 10 (Gentleman-Sande butterflies), with
 * f[j + len] = zeta * (f[j + len] - t) so the forward zetas serve, taken
 * from k downwards. Sums are Barrett-reduced as they go. */
static inline __attribute__((always_inline)) void
mlkem_invntt_layer(int16_t r[MLKEM_N], unsigned len, unsigned k)
{
	for (unsigned start = 0; start < MLKEM_N; start += 2 * len, k--) {
		int16_t zeta = mlkem_zetas[k];
		int16_t zqinv = mlkem_mullo(zeta, MLKEM_QINV);
		int16_t *lo = r + start, *hi = r + start + len;

		for (unsigned j = 0; j < len; j++) {
			int16_t t = lo[j];

			lo[j] = mlkem_barrett_reduce((int16_t)(t + hi[j]));
			hi[j] = mlkem_fqmul_pre((int16_t)(hi[j] - t), zeta, zqinv);
		}
	}
}

/* FIPS 203, Algorithm 10, k from 127 down. The final scaling by 1441 =
 * R^2 / 128 mod q both divides by 128 and multiplies by R, which cancels
 * the R^-1 left by mlkem_polyvec_basemul_acc. */
static inline __attribute__((always_inline)) void mlkem_invntt_body(int16_t r[MLKEM_N])
{
	mlkem_invntt_layer(r, 2, 127);
	mlkem_invntt_layer(r, 4, 63);
	mlkem_invntt_layer(r, 8, 31);
	mlkem_invntt_layer(r, 16, 15);
	mlkem_invntt_layer(r, 32, 7);
	mlkem_invntt_layer(r, 64, 3);
	mlkem_invntt_layer(r, 128, 1);
	for (unsigned j = 0; j < MLKEM_N; j++)
		r[j] = mlkem_fqmul(r[j], 1441);
}

/* Algorithm 12 on every pair: r = a o b * 2^-16 when acc is 0, r += it
 * when 1. Each product is a Montgomery product below q in magnitude (a
 * below 4096, b at most (q-1)/2), all in 16 bits so the loop vectorizes;
 * gamma is in Montgomery form, so b_odd * gamma carries no extra factor. */
static inline __attribute__((always_inline)) void
mlkem_basemul(int16_t *restrict r, const int16_t *restrict a,
	      const int16_t *restrict b, int acc)
{
	for (unsigned i = 0; i < MLKEM_N / 2; i++) {
		int16_t a0 = a[2 * i], a1 = a[2 * i + 1], b0 = b[2 * i], b1 = b[2 * i + 1];
		int16_t bz = mlkem_fqmul(b1, mlkem_gammas[i]);
		int16_t c0 = (int16_t)(mlkem_fqmul(a0, b0) + mlkem_fqmul(a1, bz));
		int16_t c1 = (int16_t)(mlkem_fqmul(a0, b1) + mlkem_fqmul(a1, b0));

		r[2 * i] = (int16_t)(acc ? r[2 * i] + c0 : c0);
		r[2 * i + 1] = (int16_t)(acc ? r[2 * i + 1] + c1 : c1);
	}
}

/* FIPS 203, Algorithm 11 (MultiplyNTTs) summed over the vector: in the NTT
 * domain a polynomial is 128 degree-1 residues mod X^2 - gamma_i. The
 * sums of six products stay below 6q < 2^15, then are Barrett-reduced. */
static inline __attribute__((always_inline)) void
mlkem_basemul_acc_body(int16_t *restrict r, const struct mlkem_polyvec *restrict a,
		       const struct mlkem_polyvec *restrict b)
{
	mlkem_basemul(r, a->p[0].c, b->p[0].c, 0);
	for (unsigned k = 1; k < MLKEM_K; k++)
		mlkem_basemul(r, a->p[k].c, b->p[k].c, 1);
	for (unsigned j = 0; j < MLKEM_N; j++)
		r[j] = mlkem_barrett_reduce(r[j]);
}

/* Each body is compiled twice: for the baseline ISA (SSE2 on x86-64) and
 * with AVX2 enabled, where the same loops vectorize 16 coefficients wide.
 * The AVX2 copies run only when dv_cpu_avx2() says so. */
static void mlkem_ntt_portable(int16_t r[MLKEM_N])
{
	mlkem_ntt_body(r);
}

static void mlkem_invntt_portable(int16_t r[MLKEM_N])
{
	mlkem_invntt_body(r);
}

static void mlkem_basemul_acc_portable(int16_t *restrict r,
				       const struct mlkem_polyvec *restrict a,
				       const struct mlkem_polyvec *restrict b)
{
	mlkem_basemul_acc_body(r, a, b);
}

__attribute__((target("avx2"))) static void mlkem_ntt_avx2(int16_t r[MLKEM_N])
{
	mlkem_ntt_body(r);
}

__attribute__((target("avx2"))) static void mlkem_invntt_avx2(int16_t r[MLKEM_N])
{
	mlkem_invntt_body(r);
}

__attribute__((target("avx2"))) static void
mlkem_basemul_acc_avx2(int16_t *restrict r, const struct mlkem_polyvec *restrict a,
		       const struct mlkem_polyvec *restrict b)
{
	mlkem_basemul_acc_body(r, a, b);
}

void mlkem_ntt(struct mlkem_poly *p)
{
	if (dv_cpu_avx2())
		mlkem_ntt_avx2(p->c);
	else
		mlkem_ntt_portable(p->c);
}

void mlkem_invntt_tomont(struct mlkem_poly *p)
{
	if (dv_cpu_avx2())
		mlkem_invntt_avx2(p->c);
	else
		mlkem_invntt_portable(p->c);
}

void mlkem_polyvec_basemul_acc(struct mlkem_poly *restrict r,
			       const struct mlkem_polyvec *restrict a,
			       const struct mlkem_polyvec *restrict b)
{
	if (dv_cpu_avx2())
		mlkem_basemul_acc_avx2(r->c, a, b);
	else
		mlkem_basemul_acc_portable(r->c, a, b);
}
