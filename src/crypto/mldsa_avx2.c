/* AVX2 polynomial arithmetic of ML-DSA: the forward and inverse NTT (FIPS
 * 204, Algorithms 41-42), the NTT-domain dot product and the product by the
 * challenge. Each computes what its portable twin in mldsa_ntt.c /
 * mldsa_poly.c computes (the same butterflies with signed Montgomery
 * reduction, eight lanes at a time): the challenge product exactly, the
 * transforms and the dot product the same values mod q within the same
 * bounds (the portable ones reduce in unsigned arithmetic and may pick
 * other representatives); test_mldsa checks it. The portable files pick
 * this path at run time (dv_cpu_avx2, crypto/cpu.h).
 *
 * Layers with a butterfly distance of 8 or more pair whole vectors. For the
 * last three (distances 4, 2, 1) each block of 64 coefficients is
 * transposed as an 8 x 8 matrix, so that vector i holds coefficient i of
 * eight groups of 8 and every butterfly again pairs whole vectors, with a
 * per-lane twiddle factor taken from the tables below (entries of
 * mldsa_zetas rearranged into that lane order; generated from it). */
#include "crypto/mldsa_poly.h"

#if defined(__x86_64__)
#include <immintrin.h>

static const int32_t mldsa_avx2_fwd2[4][2][8] = {
	{
		{ -3930395, -3677745, -1452451, 2176455, -1257611, -4083598, -3190144, -3632928 },
		{ -1528703, -3041255, 3475950, -1585221, 1939314, -1000202, -3157330, 126922 },
	},
	{
		{ 3412210, 2147896, -2967645, -411027, -671102, -22981, -381987, 1852771 },
		{ -983419, 2715295, -3693493, -2477047, -1228525, -1308169, 1349076, -1430430 },
	},
	{
		{ -3343383, 508951, 44288, 904516, -3724342, 1653064, 2389356, 759969 },
		{ 264944, 3097992, -1100098, 3958618, -8578, -3249728, -210977, -1316856 },
	},
	{
		{ 189548, 3159746, -2409325, 1315589, 1285669, -812732, -3019102, -3628969 },
		{ -3553272, -1851402, -177440, 1341330, -1584928, -1439742, -3881060, 3839961 },
	},
};
static const int32_t mldsa_avx2_fwd1[4][4][8] = {
	{
		{ 2091667, -3342478, 266997, -3520352, 900702, 495491, -655327, -3556995 },
		{ 3407706, 2244091, 2434439, -3759364, 1859098, -1613174, -3122442, -525098 },
		{ 2316500, -2446433, -1235728, -1197226, 909542, -43260, 2031748, -768622 },
		{ 3817976, -3562462, 3513181, -3193378, 819034, -522500, 3207046, -3595838 },
	},
	{
		{ 342297, 3437287, 2842341, 4055324, -3767016, -2994039, -1333058, -451100 },
		{ 286988, -3342277, 2691481, 1247620, 1250494, 1869119, 1237275, 1312455 },
		{ -2437823, 1735879, -2590150, 2486353, 2635921, 1903435, -3318210, 3306115 },
		{ 4108315, 203044, 1265009, 1595974, -3548272, -1050970, -1430225, -1962642 },
	},
	{
		{ -1279661, 1500165, -542412, -2584293, -2013608, 1957272, -3183426, 810149 },
		{ 1917081, 777191, -2831860, -3724270, 2432395, 3369112, 162844, 1652634 },
		{ -2546312, 2235880, -1671176, 594136, 2454455, 185531, 1616392, -3694233 },
		{ -1374803, 3406031, -1846953, -3776993, -164721, -1207385, 3014001, -1799107 },
	},
	{
		{ -3038916, 2213111, -426683, -1667432, -2939036, 183443, -554416, 3937738 },
		{ 3523897, -975884, 1723600, -1104333, -2235985, -976891, 3919660, 1400424 },
		{ 3866901, 1717735, -1803090, -260646, -420899, 1612842, -48306, -846154 },
		{ 269760, 472078, 1910376, -3833893, -2286327, -3545687, -1362209, 1976782 },
	},
};
static const int32_t mldsa_avx2_inv1[4][4][8] = {
	{
		{ -1976782, 1362209, 3545687, 2286327, 3833893, -1910376, -472078, -269760 },
		{ 846154, 48306, -1612842, 420899, 260646, 1803090, -1717735, -3866901 },
		{ -1400424, -3919660, 976891, 2235985, 1104333, -1723600, 975884, -3523897 },
		{ -3937738, 554416, -183443, 2939036, 1667432, 426683, -2213111, 3038916 },
	},
	{
		{ 1799107, -3014001, 1207385, 164721, 3776993, 1846953, -3406031, 1374803 },
		{ 3694233, -1616392, -185531, -2454455, -594136, 1671176, -2235880, 2546312 },
		{ -1652634, -162844, -3369112, -2432395, 3724270, 2831860, -777191, -1917081 },
		{ -810149, 3183426, -1957272, 2013608, 2584293, 542412, -1500165, 1279661 },
	},
	{
		{ 1962642, 1430225, 1050970, 3548272, -1595974, -1265009, -203044, -4108315 },
		{ -3306115, 3318210, -1903435, -2635921, -2486353, 2590150, -1735879, 2437823 },
		{ -1312455, -1237275, -1869119, -1250494, -1247620, -2691481, 3342277, -286988 },
		{ 451100, 1333058, 2994039, 3767016, -4055324, -2842341, -3437287, -342297 },
	},
	{
		{ 3595838, -3207046, 522500, -819034, 3193378, -3513181, 3562462, -3817976 },
		{ 768622, -2031748, 43260, -909542, 1197226, 1235728, 2446433, -2316500 },
		{ 525098, 3122442, 1613174, -1859098, 3759364, -2434439, -2244091, -3407706 },
		{ 3556995, 655327, -495491, -900702, 3520352, -266997, 3342478, -2091667 },
	},
};
static const int32_t mldsa_avx2_inv2[4][2][8] = {
	{
		{ -3839961, 3881060, 1439742, 1584928, -1341330, 177440, 1851402, 3553272 },
		{ 3628969, 3019102, 812732, -1285669, -1315589, 2409325, -3159746, -189548 },
	},
	{
		{ 1316856, 210977, 3249728, 8578, -3958618, 1100098, -3097992, -264944 },
		{ -759969, -2389356, -1653064, 3724342, -904516, -44288, -508951, 3343383 },
	},
	{
		{ 1430430, -1349076, 1308169, 1228525, 2477047, 3693493, -2715295, 983419 },
		{ -1852771, 381987, 22981, 671102, 411027, 2967645, -2147896, -3412210 },
	},
	{
		{ -126922, 3157330, 1000202, -1939314, 1585221, -3475950, 3041255, 1528703 },
		{ 3632928, 3190144, 4083598, 1257611, -2176455, 1452451, 3677745, 3930395 },
	},
};
static const int32_t mldsa_avx2_inv4[4][8] = {
	{ 2797779, -2071892, 2556880, -3900724, -3881043, -954230, -531354, -811944 },
	{ -3699596, 1600420, 2140649, -3507263, 3821735, -3505694, 1643818, 1699267 },
	{ 539299, -2348700, 300467, -3539968, 2867647, -3574422, 3043716, 3861115 },
	{ -3915439, 2537516, 3592148, 1661693, -3530437, -3077325, -95776, -2706023 },
};

/* a * z * 2^-32 mod q per 32-bit lane, as mldsa_mont_reduce((int64_t)a * z):
 * _mm256_mul_epi32 multiplies the even lanes, so the odd ones are shifted
 * down and the two halves blended back. */
static inline __m256i mldsa_mont_mul8(__m256i a, __m256i z)
{
	const __m256i q = _mm256_set1_epi32(MLDSA_Q);
	const __m256i qinv = _mm256_set1_epi32(MLDSA_QINV);
	__m256i pe = _mm256_mul_epi32(a, z);
	__m256i po = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(z, 32));
	__m256i te = _mm256_mul_epi32(_mm256_mul_epi32(pe, qinv), q);
	__m256i to = _mm256_mul_epi32(_mm256_mul_epi32(po, qinv), q);

	pe = _mm256_sub_epi64(pe, te);
	po = _mm256_sub_epi64(po, to);
	return _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xaa);
}

/* In-place 8 x 8 transpose of 32-bit lanes: v[i] lane g <-> v[g] lane i. */
static inline void mldsa_transpose8(__m256i v[8])
{
	__m256i t[8], u[8];

	for (unsigned i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_epi32(v[i], v[i + 1]);
		t[i + 1] = _mm256_unpackhi_epi32(v[i], v[i + 1]);
	}
	for (unsigned i = 0; i < 8; i += 4) {
		u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
		u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
		u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
		u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	for (unsigned i = 0; i < 4; i++) {
		v[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
		v[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
	}
}

/* Cooley-Tukey butterfly: (a, b) <- (a + z b, a - z b). */
static inline void mldsa_ct8(__m256i *a, __m256i *b, __m256i z)
{
	__m256i t = mldsa_mont_mul8(*b, z);

	*b = _mm256_sub_epi32(*a, t);
	*a = _mm256_add_epi32(*a, t);
}

/* Gentleman-Sande butterfly: (a, b) <- (a + b, z (a - b)). */
static inline void mldsa_gs8(__m256i *a, __m256i *b, __m256i z)
{
	__m256i t = *a;

	*a = _mm256_add_epi32(t, *b);
	*b = mldsa_mont_mul8(_mm256_sub_epi32(t, *b), z);
}

static inline __m256i mldsa_load8(const int32_t *p)
{
	return _mm256_loadu_si256((const __m256i *)p);
}

static inline void mldsa_store8(int32_t *p, __m256i v)
{
	_mm256_storeu_si256((__m256i *)p, v);
}

void mldsa_ntt_avx2(struct mldsa_poly *p)
{
	unsigned k = 0;

	for (unsigned len = 128; len >= 8; len >>= 1) {
		for (unsigned start = 0; start < MLDSA_N; start += 2 * len) {
			__m256i z = _mm256_set1_epi32(mldsa_zetas[++k]);

			for (unsigned j = start; j < start + len; j += 8) {
				__m256i a = mldsa_load8(p->c + j), b = mldsa_load8(p->c + j + len);

				mldsa_ct8(&a, &b, z);
				mldsa_store8(p->c + j, a);
				mldsa_store8(p->c + j + len, b);
			}
		}
	}
	/* Distances 4, 2, 1 (zetas[32..63], [64..127], [128..255]). */
	for (unsigned b = 0; b < 4; b++) {
		__m256i v[8];

		for (unsigned i = 0; i < 8; i++)
			v[i] = mldsa_load8(p->c + 64 * b + 8 * i);
		mldsa_transpose8(v);
		for (unsigned i = 0; i < 4; i++)
			mldsa_ct8(&v[i], &v[i + 4], mldsa_load8(mldsa_zetas + 32 + 8 * b));
		for (unsigned m = 0; m < 2; m++)
			for (unsigned i = 4 * m; i < 4 * m + 2; i++)
				mldsa_ct8(&v[i], &v[i + 2], mldsa_load8(mldsa_avx2_fwd2[b][m]));
		for (unsigned m = 0; m < 4; m++)
			mldsa_ct8(&v[2 * m], &v[2 * m + 1], mldsa_load8(mldsa_avx2_fwd1[b][m]));
		mldsa_transpose8(v);
		for (unsigned i = 0; i < 8; i++)
			mldsa_store8(p->c + 64 * b + 8 * i, v[i]);
	}
}

void mldsa_invntt_tomont_avx2(struct mldsa_poly *p)
{
	const __m256i f = _mm256_set1_epi32(41978); /* as in mldsa_invntt_tomont_c */
	unsigned k = 32;

	/* Distances 1, 2, 4 (zetas[255..128], [127..64], [63..32], negated). */
	for (unsigned b = 0; b < 4; b++) {
		__m256i v[8];

		for (unsigned i = 0; i < 8; i++)
			v[i] = mldsa_load8(p->c + 64 * b + 8 * i);
		mldsa_transpose8(v);
		for (unsigned m = 0; m < 4; m++)
			mldsa_gs8(&v[2 * m], &v[2 * m + 1], mldsa_load8(mldsa_avx2_inv1[b][m]));
		for (unsigned m = 0; m < 2; m++)
			for (unsigned i = 4 * m; i < 4 * m + 2; i++)
				mldsa_gs8(&v[i], &v[i + 2], mldsa_load8(mldsa_avx2_inv2[b][m]));
		for (unsigned i = 0; i < 4; i++)
			mldsa_gs8(&v[i], &v[i + 4], mldsa_load8(mldsa_avx2_inv4[b]));
		mldsa_transpose8(v);
		for (unsigned i = 0; i < 8; i++)
			mldsa_store8(p->c + 64 * b + 8 * i, v[i]);
	}
	for (unsigned len = 8; len < MLDSA_N; len <<= 1) {
		for (unsigned start = 0; start < MLDSA_N; start += 2 * len) {
			__m256i z = _mm256_set1_epi32(-mldsa_zetas[--k]);

			for (unsigned j = start; j < start + len; j += 8) {
				__m256i a = mldsa_load8(p->c + j), b = mldsa_load8(p->c + j + len);

				mldsa_gs8(&a, &b, z);
				mldsa_store8(p->c + j, a);
				mldsa_store8(p->c + j + len, b);
			}
		}
	}
	for (unsigned j = 0; j < MLDSA_N; j += 8)
		mldsa_store8(p->c + j, mldsa_mont_mul8(mldsa_load8(p->c + j), f));
}

/* As mldsa_polyvecl_dot: 64-bit sums of the five products per lane (even
 * and odd lanes apart), then one Montgomery reduction. */
void mldsa_polyvecl_dot_avx2(struct mldsa_poly *r, const struct mldsa_polyvecl *a,
			     const struct mldsa_polyvecl *b)
{
	const __m256i q = _mm256_set1_epi32(MLDSA_Q);
	const __m256i qinv = _mm256_set1_epi32(MLDSA_QINV);

	for (unsigned i = 0; i < MLDSA_N; i += 8) {
		__m256i se = _mm256_setzero_si256(), so = _mm256_setzero_si256();

		for (unsigned j = 0; j < MLDSA_L; j++) {
			__m256i x = mldsa_load8(a->v[j].c + i), y = mldsa_load8(b->v[j].c + i);

			se = _mm256_add_epi64(se, _mm256_mul_epi32(x, y));
			so = _mm256_add_epi64(so, _mm256_mul_epi32(_mm256_srli_epi64(x, 32),
								   _mm256_srli_epi64(y, 32)));
		}
		se = _mm256_sub_epi64(se, _mm256_mul_epi32(_mm256_mul_epi32(se, qinv), q));
		so = _mm256_sub_epi64(so, _mm256_mul_epi32(_mm256_mul_epi32(so, qinv), q));
		mldsa_store8(r->c + i, _mm256_blend_epi32(_mm256_srli_epi64(se, 32), so, 0xaa));
	}
}

/* As mldsa_poly_mul_challenge: the sum of the 49 shifted copies of +-s,
 * 64 output coefficients at a time held in eight registers. */
void mldsa_poly_mul_challenge_avx2(struct mldsa_poly *restrict r,
				   const struct mldsa_challenge *c, const struct mldsa_poly *s,
				   struct mldsa_poly_ext *restrict ext)
{
	for (unsigned i = 0; i < MLDSA_N; i += 8) {
		__m256i v = mldsa_load8(s->c + i);

		mldsa_store8(ext->c + i, _mm256_sub_epi32(_mm256_setzero_si256(), v));
		mldsa_store8(ext->c + MLDSA_N + i, v);
	}
	for (unsigned blk = 0; blk < MLDSA_N; blk += 64) {
		/* Eight named accumulators: an array would live in memory. */
		__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
		__m256i a4 = a0, a5 = a0, a6 = a0, a7 = a0;

		for (unsigned t = 0; t < c->n; t++) {
			const int32_t *src = ext->c + c->off[t] + blk;
			__m256i v0 = mldsa_load8(src), v1 = mldsa_load8(src + 8);
			__m256i v2 = mldsa_load8(src + 16), v3 = mldsa_load8(src + 24);
			__m256i v4 = mldsa_load8(src + 32), v5 = mldsa_load8(src + 40);
			__m256i v6 = mldsa_load8(src + 48), v7 = mldsa_load8(src + 56);

			if (t < c->nplus) {
				a0 = _mm256_add_epi32(a0, v0);
				a1 = _mm256_add_epi32(a1, v1);
				a2 = _mm256_add_epi32(a2, v2);
				a3 = _mm256_add_epi32(a3, v3);
				a4 = _mm256_add_epi32(a4, v4);
				a5 = _mm256_add_epi32(a5, v5);
				a6 = _mm256_add_epi32(a6, v6);
				a7 = _mm256_add_epi32(a7, v7);
			} else {
				a0 = _mm256_sub_epi32(a0, v0);
				a1 = _mm256_sub_epi32(a1, v1);
				a2 = _mm256_sub_epi32(a2, v2);
				a3 = _mm256_sub_epi32(a3, v3);
				a4 = _mm256_sub_epi32(a4, v4);
				a5 = _mm256_sub_epi32(a5, v5);
				a6 = _mm256_sub_epi32(a6, v6);
				a7 = _mm256_sub_epi32(a7, v7);
			}
		}
		mldsa_store8(r->c + blk, a0);
		mldsa_store8(r->c + blk + 8, a1);
		mldsa_store8(r->c + blk + 16, a2);
		mldsa_store8(r->c + blk + 24, a3);
		mldsa_store8(r->c + blk + 32, a4);
		mldsa_store8(r->c + blk + 40, a5);
		mldsa_store8(r->c + blk + 48, a6);
		mldsa_store8(r->c + blk + 56, a7);
	}
}

#endif
