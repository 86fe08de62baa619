/* Arithmetic mod q = 8380417 and the number-theoretic transform of ML-DSA
 * (FIPS 204, Section 7.5, Algorithms 41-42), with Montgomery reduction
 * (factor 2^32) in place of the plain modular products of the spec. */
#include "crypto/mldsa_poly.h"

#include "crypto/cpu.h"

/* zetas[i] = 2^32 * zeta^BitRev8(i) mod q, centered, for zeta = 1753, the
 * 512th root of unity of FIPS 204, Section 7.5 (table of Appendix B, in
 * Montgomery form). zetas[0] is not used. */
const int32_t mldsa_zetas[MLDSA_N] = {
	-4186625, 25847, -2608894, -518909, 237124, -777960, -876248, 466468,
	1826347, 2353451, -359251, -2091905, 3119733, -2884855, 3111497, 2680103,
	2725464, 1024112, -1079900, 3585928, -549488, -1119584, 2619752, -2108549,
	-2118186, -3859737, -1399561, -3277672, 1757237, -19422, 4010497, 280005,
	2706023, 95776, 3077325, 3530437, -1661693, -3592148, -2537516, 3915439,
	-3861115, -3043716, 3574422, -2867647, 3539968, -300467, 2348700, -539299,
	-1699267, -1643818, 3505694, -3821735, 3507263, -2140649, -1600420, 3699596,
	811944, 531354, 954230, 3881043, 3900724, -2556880, 2071892, -2797779,
	-3930395, -1528703, -3677745, -3041255, -1452451, 3475950, 2176455, -1585221,
	-1257611, 1939314, -4083598, -1000202, -3190144, -3157330, -3632928, 126922,
	3412210, -983419, 2147896, 2715295, -2967645, -3693493, -411027, -2477047,
	-671102, -1228525, -22981, -1308169, -381987, 1349076, 1852771, -1430430,
	-3343383, 264944, 508951, 3097992, 44288, -1100098, 904516, 3958618,
	-3724342, -8578, 1653064, -3249728, 2389356, -210977, 759969, -1316856,
	189548, -3553272, 3159746, -1851402, -2409325, -177440, 1315589, 1341330,
	1285669, -1584928, -812732, -1439742, -3019102, -3881060, -3628969, 3839961,
	2091667, 3407706, 2316500, 3817976, -3342478, 2244091, -2446433, -3562462,
	266997, 2434439, -1235728, 3513181, -3520352, -3759364, -1197226, -3193378,
	900702, 1859098, 909542, 819034, 495491, -1613174, -43260, -522500,
	-655327, -3122442, 2031748, 3207046, -3556995, -525098, -768622, -3595838,
	342297, 286988, -2437823, 4108315, 3437287, -3342277, 1735879, 203044,
	2842341, 2691481, -2590150, 1265009, 4055324, 1247620, 2486353, 1595974,
	-3767016, 1250494, 2635921, -3548272, -2994039, 1869119, 1903435, -1050970,
	-1333058, 1237275, -3318210, -1430225, -451100, 1312455, 3306115, -1962642,
	-1279661, 1917081, -2546312, -1374803, 1500165, 777191, 2235880, 3406031,
	-542412, -2831860, -1671176, -1846953, -2584293, -3724270, 594136, -3776993,
	-2013608, 2432395, 2454455, -164721, 1957272, 3369112, 185531, -1207385,
	-3183426, 162844, 1616392, 3014001, 810149, 1652634, -3694233, -1799107,
	-3038916, 3523897, 3866901, 269760, 2213111, -975884, 1717735, 472078,
	-426683, 1723600, -1803090, 1910376, -1667432, -1104333, -260646, -3833893,
	-2939036, -2235985, -420899, -2286327, 183443, -976891, 1612842, -3545687,
	-554416, 3919660, -48306, -1362209, 3937738, 1400424, -846154, 1976782,
};

/* Butterflies of Algorithms 41 and 42 on one coefficient pair. */
static inline void mldsa_ct(int32_t *a, int32_t *b, int64_t zeta)
{
	int32_t t = mldsa_mont_reduce(zeta * *b);

	*b = *a - t;
	*a = *a + t;
}

static inline void mldsa_gs(int32_t *a, int32_t *b, int64_t zeta)
{
	int32_t t = *a;

	*a = t + *b;
	*b = mldsa_mont_reduce(zeta * ((int64_t)t - *b));
}

/* Algorithm 41, Cooley-Tukey butterflies, two layers per pass over the
 * array (distances len and len / 2, each quadruple loaded once); the
 * operations are those of the layer-by-layer order. Layer `len` block b
 * uses zetas[128 / len + b]. Input |c| < q; output |c| < 9q, since each of
 * the 8 layers adds at most q to the bound. */
void mldsa_ntt_c(struct mldsa_poly *p)
{
	for (unsigned len = 128; len >= 2; len >>= 2) {
		unsigned h = len / 2;

		for (unsigned b = 0; b < 128 / len; b++) {
			unsigned start = 2 * len * b;
			int64_t z1 = mldsa_zetas[128 / len + b];
			int64_t z2a = mldsa_zetas[256 / len + 2 * b];
			int64_t z2b = mldsa_zetas[256 / len + 2 * b + 1];

			for (unsigned j = start; j < start + h; j++) {
				int32_t x0 = p->c[j], x1 = p->c[j + h];
				int32_t x2 = p->c[j + len], x3 = p->c[j + len + h];

				mldsa_ct(&x0, &x2, z1);
				mldsa_ct(&x1, &x3, z1);
				mldsa_ct(&x0, &x1, z2a);
				mldsa_ct(&x2, &x3, z2b);
				p->c[j] = x0;
				p->c[j + h] = x1;
				p->c[j + len] = x2;
				p->c[j + len + h] = x3;
			}
		}
	}
}

/* Algorithm 42, Gentleman-Sande butterflies, two layers per pass
 * (distances len and 2 len); layer `len` block b uses -zetas[256 / len - 1
 * - b]. The final scaling by 256^-1 is folded into f = 2^64 / 256 mod q, so
 * the output carries one factor 2^32: exactly what cancels the 2^-32 of a
 * preceding pointwise Montgomery product. Input |c| < q; sums double per
 * layer, so after 8 layers |c| < 256q < 2^31; output |c| < q. */
void mldsa_invntt_tomont_c(struct mldsa_poly *p)
{
	const int64_t f = 41978;

	for (unsigned len = 1; len < MLDSA_N; len <<= 2) {
		for (unsigned b = 0; b < 64 / len; b++) {
			unsigned start = 4 * len * b;
			int64_t z1a = -mldsa_zetas[256 / len - 1 - 2 * b];
			int64_t z1b = -mldsa_zetas[256 / len - 2 - 2 * b];
			int64_t z2 = -mldsa_zetas[128 / len - 1 - b];

			for (unsigned j = start; j < start + len; j++) {
				int32_t x0 = p->c[j], x1 = p->c[j + len];
				int32_t x2 = p->c[j + 2 * len], x3 = p->c[j + 3 * len];

				mldsa_gs(&x0, &x1, z1a);
				mldsa_gs(&x2, &x3, z1b);
				mldsa_gs(&x0, &x2, z2);
				mldsa_gs(&x1, &x3, z2);
				p->c[j] = x0;
				p->c[j + len] = x1;
				p->c[j + 2 * len] = x2;
				p->c[j + 3 * len] = x3;
			}
		}
	}
	for (unsigned j = 0; j < MLDSA_N; j++)
		p->c[j] = mldsa_mont_reduce(f * p->c[j]);
}

#if defined(__x86_64__)
void mldsa_ntt(struct mldsa_poly *p)
{
	if (dv_cpu_avx2())
		mldsa_ntt_avx2(p);
	else
		mldsa_ntt_c(p);
}

void mldsa_invntt_tomont(struct mldsa_poly *p)
{
	if (dv_cpu_avx2())
		mldsa_invntt_tomont_avx2(p);
	else
		mldsa_invntt_tomont_c(p);
}
#else
void mldsa_ntt(struct mldsa_poly *p)
{
	mldsa_ntt_c(p);
}

void mldsa_invntt_tomont(struct mldsa_poly *p)
{
	mldsa_invntt_tomont_c(p);
}
#endif
