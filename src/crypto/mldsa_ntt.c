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

/* The high half of a 32 x 32 -> 64 bit unsigned product. */
static inline uint32_t mldsa_umulhi(uint32_t a, uint32_t b)
{
	return (uint32_t)(((uint64_t)a * b) >> 32);
}

/* zeta * b * 2^-32 mod q with |result| < q, in unsigned arithmetic so
 * that compilers can vectorise butterflies with unsigned high-half
 * products (SSE2 has no signed ones); scalar, it is no slower. x = b + off is b's residue, made
 * non-negative by the caller's bound off > |b|, with x < 512q; zeta is in
 * [0, q) and zq = zeta * q^-1 mod 2^32. With m = x zq, x zeta - m q is a
 * multiple of 2^32 (Montgomery reduction), so its quotient is exactly the
 * difference of the high halves: one below 512q^2 / 2^32 < q, the other
 * below q. */
static inline int32_t mldsa_mulz(int32_t b, uint32_t off, uint32_t zeta, uint32_t zq)
{
	uint32_t x = (uint32_t)b + off;

	return (int32_t)(mldsa_umulhi(x, zeta) - mldsa_umulhi(x * zq, MLDSA_Q));
}

/* A zeta (or its negation) of the table as its representative in [0, q). */
static inline uint32_t mldsa_zu(int32_t zeta)
{
	return (uint32_t)(zeta + ((zeta >> 31) & MLDSA_Q));
}

static inline uint32_t mldsa_zq(uint32_t zeta)
{
	return zeta * (uint32_t)MLDSA_QINV;
}

/* Butterflies of Algorithms 41 and 42 on one coefficient pair. */
static inline void mldsa_ct(int32_t *a, int32_t *b, uint32_t zeta, uint32_t zq)
{
	int32_t t = mldsa_mulz(*b, 9 * MLDSA_Q, zeta, zq); /* |b| < 9q */

	*b = *a - t;
	*a = *a + t;
}

static inline void mldsa_gs(int32_t *a, int32_t *b, uint32_t zeta, uint32_t zq)
{
	int32_t t = *a;

	*a = t + *b;
	*b = mldsa_mulz(t - *b, 256 * MLDSA_Q, zeta, zq); /* |a - b| <= 256q */
}

/* Three layers of Algorithm 41 on one block of 8 len coefficients:
 * distances 4 len, 2 len and len, with the zetas of block k of the first
 * layer (and blocks 2k, 2k + 1, then 4k .. 4k + 3 of the next two). Each
 * octuple is loaded and stored once. Inlined so that len is a constant
 * (the rows are then visibly apart; GCC -O2 still keeps this loop scalar,
 * its cheapest cost model rejects it, but vectorises the 2-1 pass below
 * over blocks and the dot product, mldsa_poly.c). */
static inline __attribute__((always_inline)) void mldsa_ntt3(int32_t *c, unsigned len,
								unsigned k)
{
	const uint32_t z1 = mldsa_zu(mldsa_zetas[k]);
	const uint32_t z2a = mldsa_zu(mldsa_zetas[2 * k]), z2b = mldsa_zu(mldsa_zetas[2 * k + 1]);
	const uint32_t z3a = mldsa_zu(mldsa_zetas[4 * k]), z3b = mldsa_zu(mldsa_zetas[4 * k + 1]);
	const uint32_t z3c = mldsa_zu(mldsa_zetas[4 * k + 2]);
	const uint32_t z3d = mldsa_zu(mldsa_zetas[4 * k + 3]);
	const uint32_t q1 = mldsa_zq(z1), q2a = mldsa_zq(z2a), q2b = mldsa_zq(z2b);
	const uint32_t q3a = mldsa_zq(z3a), q3b = mldsa_zq(z3b);
	const uint32_t q3c = mldsa_zq(z3c), q3d = mldsa_zq(z3d);

	for (unsigned j = 0; j < len; j++) {
		int32_t x0 = c[j], x1 = c[j + len], x2 = c[j + 2 * len], x3 = c[j + 3 * len];
		int32_t x4 = c[j + 4 * len], x5 = c[j + 5 * len];
		int32_t x6 = c[j + 6 * len], x7 = c[j + 7 * len];

		mldsa_ct(&x0, &x4, z1, q1);
		mldsa_ct(&x1, &x5, z1, q1);
		mldsa_ct(&x2, &x6, z1, q1);
		mldsa_ct(&x3, &x7, z1, q1);
		mldsa_ct(&x0, &x2, z2a, q2a);
		mldsa_ct(&x1, &x3, z2a, q2a);
		mldsa_ct(&x4, &x6, z2b, q2b);
		mldsa_ct(&x5, &x7, z2b, q2b);
		mldsa_ct(&x0, &x1, z3a, q3a);
		mldsa_ct(&x2, &x3, z3b, q3b);
		mldsa_ct(&x4, &x5, z3c, q3c);
		mldsa_ct(&x6, &x7, z3d, q3d);
		c[j] = x0;
		c[j + len] = x1;
		c[j + 2 * len] = x2;
		c[j + 3 * len] = x3;
		c[j + 4 * len] = x4;
		c[j + 5 * len] = x5;
		c[j + 6 * len] = x6;
		c[j + 7 * len] = x7;
	}
}

/* Algorithm 41, Cooley-Tukey butterflies; layer `len` block b uses
 * zetas[128 / len + b]. Layers 128-64-32, then 16-8-4 (eight blocks of
 * 32), then 2-1 (64 blocks of 4); the operations are those of the
 * layer-by-layer order. Input |c| < q; output |c| < 9q, since each of the
 * 8 layers adds at most q to the bound. */
void mldsa_ntt_c(struct mldsa_poly *p)
{
	mldsa_ntt3(p->c, 32, 1);
	for (unsigned b = 0; b < 8; b++)
		mldsa_ntt3(p->c + 32 * b, 4, 8 + b);
	for (unsigned b = 0; b < 64; b++) {
		int32_t *c = p->c + 4 * b;
		const uint32_t z1 = mldsa_zu(mldsa_zetas[64 + b]), q1 = mldsa_zq(z1);
		const uint32_t z2a = mldsa_zu(mldsa_zetas[128 + 2 * b]);
		const uint32_t z2b = mldsa_zu(mldsa_zetas[129 + 2 * b]);
		int32_t x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3];

		mldsa_ct(&x0, &x2, z1, q1);
		mldsa_ct(&x1, &x3, z1, q1);
		mldsa_ct(&x0, &x1, z2a, mldsa_zq(z2a));
		mldsa_ct(&x2, &x3, z2b, mldsa_zq(z2b));
		c[0] = x0;
		c[1] = x1;
		c[2] = x2;
		c[3] = x3;
	}
}

/* Three layers of Algorithm 42 on one block of 8 len coefficients:
 * distances len, 2 len and 4 len, with the zetas of blocks k .. k - 3 of
 * the first layer (in array order), (k - 1) / 2 and the one before of the
 * second and (k - 3) / 4 of the third, where layer `len` block b uses
 * -zetas[256 / len - 1 - b]. Inlined so that len is a constant. With
 * `last` (the block of layers 32-64-128), the third layer also applies
 * the final scaling: its sums are multiplied by f = 2^64 / 256 mod q, its
 * differences by zf = -zetas[1] * f * 2^-32 mod q, one reduction each. */
static inline __attribute__((always_inline)) void mldsa_invntt3(int32_t *c, unsigned len,
								  unsigned k, int last)
{
	const uint32_t za = mldsa_zu(-mldsa_zetas[k]), zb = mldsa_zu(-mldsa_zetas[k - 1]);
	const uint32_t zc = mldsa_zu(-mldsa_zetas[k - 2]), zd = mldsa_zu(-mldsa_zetas[k - 3]);
	const uint32_t y1 = mldsa_zu(-mldsa_zetas[(k - 1) / 2]);
	const uint32_t y2 = mldsa_zu(-mldsa_zetas[(k - 1) / 2 - 1]);
	const uint32_t w = last ? 41978 : mldsa_zu(-mldsa_zetas[(k - 3) / 4]);
	const uint32_t wd = last ? 3975713 : w;
	const uint32_t qa = mldsa_zq(za), qb = mldsa_zq(zb), qc = mldsa_zq(zc);
	const uint32_t qd = mldsa_zq(zd), r1 = mldsa_zq(y1), r2 = mldsa_zq(y2);
	const uint32_t qw = mldsa_zq(w), qwd = mldsa_zq(wd);

	for (unsigned j = 0; j < len; j++) {
		int32_t x0 = c[j], x1 = c[j + len], x2 = c[j + 2 * len], x3 = c[j + 3 * len];
		int32_t x4 = c[j + 4 * len], x5 = c[j + 5 * len];
		int32_t x6 = c[j + 6 * len], x7 = c[j + 7 * len];

		mldsa_gs(&x0, &x1, za, qa);
		mldsa_gs(&x2, &x3, zb, qb);
		mldsa_gs(&x4, &x5, zc, qc);
		mldsa_gs(&x6, &x7, zd, qd);
		mldsa_gs(&x0, &x2, y1, r1);
		mldsa_gs(&x1, &x3, y1, r1);
		mldsa_gs(&x4, &x6, y2, r2);
		mldsa_gs(&x5, &x7, y2, r2);
		if (last) {
			c[j] = mldsa_mulz(x0 + x4, 256 * MLDSA_Q, w, qw);
			c[j + len] = mldsa_mulz(x1 + x5, 256 * MLDSA_Q, w, qw);
			c[j + 2 * len] = mldsa_mulz(x2 + x6, 256 * MLDSA_Q, w, qw);
			c[j + 3 * len] = mldsa_mulz(x3 + x7, 256 * MLDSA_Q, w, qw);
			c[j + 4 * len] = mldsa_mulz(x0 - x4, 256 * MLDSA_Q, wd, qwd);
			c[j + 5 * len] = mldsa_mulz(x1 - x5, 256 * MLDSA_Q, wd, qwd);
			c[j + 6 * len] = mldsa_mulz(x2 - x6, 256 * MLDSA_Q, wd, qwd);
			c[j + 7 * len] = mldsa_mulz(x3 - x7, 256 * MLDSA_Q, wd, qwd);
			continue;
		}
		mldsa_gs(&x0, &x4, w, qw);
		mldsa_gs(&x1, &x5, w, qw);
		mldsa_gs(&x2, &x6, w, qw);
		mldsa_gs(&x3, &x7, w, qw);
		c[j] = x0;
		c[j + len] = x1;
		c[j + 2 * len] = x2;
		c[j + 3 * len] = x3;
		c[j + 4 * len] = x4;
		c[j + 5 * len] = x5;
		c[j + 6 * len] = x6;
		c[j + 7 * len] = x7;
	}
}

/* Algorithm 42, Gentleman-Sande butterflies: layers 1-2 (64 blocks of 4),
 * 4-8-16 (eight blocks of 32), then 32-64-128. The final scaling by
 * 256^-1 is folded into f = 2^64 / 256 mod q, so the output carries one
 * factor 2^32: exactly what cancels the 2^-32 of a preceding pointwise
 * Montgomery product. Input |c| <= q; sums double per layer, so after 8
 * layers |c| <= 256q < 2^31; output |c| < q. */
void mldsa_invntt_tomont_c(struct mldsa_poly *p)
{
	for (unsigned b = 0; b < 64; b++) {
		int32_t *c = p->c + 4 * b;
		const uint32_t z1a = mldsa_zu(-mldsa_zetas[255 - 2 * b]);
		const uint32_t z1b = mldsa_zu(-mldsa_zetas[254 - 2 * b]);
		const uint32_t z2 = mldsa_zu(-mldsa_zetas[127 - b]), q2 = mldsa_zq(z2);
		int32_t x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3];

		mldsa_gs(&x0, &x1, z1a, mldsa_zq(z1a));
		mldsa_gs(&x2, &x3, z1b, mldsa_zq(z1b));
		mldsa_gs(&x0, &x2, z2, q2);
		mldsa_gs(&x1, &x3, z2, q2);
		c[0] = x0;
		c[1] = x1;
		c[2] = x2;
		c[3] = x3;
	}
	for (unsigned b = 0; b < 8; b++)
		mldsa_invntt3(p->c + 32 * b, 4, 63 - 4 * b, 0);
	mldsa_invntt3(p->c, 32, 7, 1);
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
