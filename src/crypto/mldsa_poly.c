/* Coefficient-wise polynomial operations of ML-DSA: additions, Montgomery
 * products, reductions, norm checks and the rounding functions of FIPS 204,
 * Section 7.4 (Algorithms 35, 36, 40). Everything that can touch secret
 * data is branch-free and index-free; use_hint only sees public data. */
#include "crypto/mldsa_poly.h"

#include "crypto/cpu.h"

void mldsa_poly_add(struct mldsa_poly *r, const struct mldsa_poly *a,
		    const struct mldsa_poly *b)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		r->c[i] = a->c[i] + b->c[i];
}

void mldsa_poly_sub(struct mldsa_poly *r, const struct mldsa_poly *a,
		    const struct mldsa_poly *b)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		r->c[i] = a->c[i] - b->c[i];
}

/* Multiplies by 2^d (t1 * 2^d in Algorithm 8, line 9). */
void mldsa_poly_shiftl(struct mldsa_poly *p)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		p->c[i] = (int32_t)((uint32_t)p->c[i] << MLDSA_D);
}

void mldsa_poly_reduce(struct mldsa_poly *p)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		p->c[i] = mldsa_reduce32(p->c[i]);
}

static int32_t mldsa_caddq(int32_t a)
{
	return a + ((a >> 31) & MLDSA_Q);
}

void mldsa_poly_freeze(struct mldsa_poly *p)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		p->c[i] = mldsa_caddq(mldsa_reduce32(p->c[i]));
}

/* One reduction per coefficient instead of one per product, in unsigned
 * arithmetic so that compilers can vectorise the loop with 32 x 32 -> 64
 * bit unsigned products (SSE2 has no signed ones): b + 9q lies in [0, 18q)
 * and has the residue of b; the sum of l = 5 products is below 90q^2 <
 * 2^53, and acc + m q with m = -acc q^-1 mod 2^32 is a multiple of 2^32
 * below 2^32 * 1.18q, so the quotient minus q lies in [-q, q). */
void mldsa_polyvecl_dot(struct mldsa_poly *r, const struct mldsa_polyvecl *a,
			const struct mldsa_polyvecl *b)
{
#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_polyvecl_dot_avx2(r, a, b);
		return;
	}
#endif
	for (unsigned i = 0; i < MLDSA_N; i++) {
		uint64_t acc = 0;
		uint32_t m;

		for (unsigned j = 0; j < MLDSA_L; j++)
			acc += (uint64_t)(uint32_t)a->v[j].c[i] *
			       (uint32_t)(b->v[j].c[i] + 9 * MLDSA_Q);
		m = (uint32_t)acc * (uint32_t)-MLDSA_QINV;
		r->c[i] = (int32_t)((acc + (uint64_t)m * MLDSA_Q) >> 32) - MLDSA_Q;
	}
}

/* SampleInBall leaves exactly tau coefficients +-1. c is public, but a
 * branch per coefficient would be mispredicted at every nonzero one, so
 * each offset is written and kept (counted) only when it belongs; the
 * count stops at tau, the later writes land in the spare entry. */
void mldsa_challenge_prepare(struct mldsa_challenge *ch, const struct mldsa_poly *c)
{
	unsigned n = 0;

	for (unsigned p = 0; p < MLDSA_N; p++) {
		ch->off[n] = (uint16_t)(MLDSA_N - p);
		n += (c->c[p] > 0) & (n < MLDSA_TAU);
	}
	ch->nplus = n;
	for (unsigned p = 0; p < MLDSA_N; p++) {
		ch->off[n] = (uint16_t)(MLDSA_N - p);
		n += (c->c[p] < 0) & (n < MLDSA_TAU);
	}
	ch->n = n;
}

/* r += sign * (s1 + s2 + s3 + s4) for four shifted copies at a time: one
 * pass over r per four nonzero challenge coefficients. */
static void mldsa_acc4(int32_t *restrict r, const int32_t *restrict ext, const uint16_t *off,
		       int32_t sign)
{
	const int32_t *a = ext + off[0], *b = ext + off[1], *c = ext + off[2], *d = ext + off[3];

	for (unsigned k = 0; k < MLDSA_N; k++)
		r[k] += sign * ((a[k] + b[k]) + (c[k] + d[k]));
}

static void mldsa_acc1(int32_t *restrict r, const int32_t *restrict ext, uint16_t off,
		       int32_t sign)
{
	const int32_t *a = ext + off;

	for (unsigned k = 0; k < MLDSA_N; k++)
		r[k] += sign * a[k];
}

/* The challenge has tau = 49 nonzero coefficients, so 49 shifted additions
 * of 256 lanes replace an NTT round trip; the fixed-length loops over
 * distinct arrays vectorise. Exact: |c * s| <= 49 * max|s|. */
void mldsa_poly_mul_challenge(struct mldsa_poly *restrict r, const struct mldsa_challenge *c,
			      const struct mldsa_poly *s, struct mldsa_poly_ext *restrict ext)
{
	unsigned t;

#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_poly_mul_challenge_avx2(r, c, s, ext);
		return;
	}
#endif
	for (unsigned i = 0; i < MLDSA_N; i++) {
		ext->c[i] = -s->c[i];
		ext->c[MLDSA_N + i] = s->c[i];
		r->c[i] = 0;
	}
	for (t = 0; t + 4 <= c->nplus; t += 4)
		mldsa_acc4(r->c, ext->c, c->off + t, 1);
	for (; t < c->nplus; t++)
		mldsa_acc1(r->c, ext->c, c->off[t], 1);
	for (; t + 4 <= c->n; t += 4)
		mldsa_acc4(r->c, ext->c, c->off + t, -1);
	for (; t < c->n; t++)
		mldsa_acc1(r->c, ext->c, c->off[t], -1);
}

/* The same in 16-bit lanes, twice as many per vector, for |s| <= 512: all
 * partial sums stay within 49 * 512 < 2^15. r gets the sum of the copies
 * at offsets off[0, nplus) minus those at off[nplus, n). */
static void mldsa_add16(int16_t *restrict r, const int16_t *restrict ext, const uint16_t *off)
{
	const int16_t *a = ext + off[0], *b = ext + off[1], *c = ext + off[2], *d = ext + off[3];

	for (unsigned k = 0; k < MLDSA_N; k++)
		r[k] = (int16_t)(r[k] + ((a[k] + b[k]) + (c[k] + d[k])));
}

static void mldsa_sub16(int16_t *restrict r, const int16_t *restrict ext, const uint16_t *off)
{
	const int16_t *a = ext + off[0], *b = ext + off[1], *c = ext + off[2], *d = ext + off[3];

	for (unsigned k = 0; k < MLDSA_N; k++)
		r[k] = (int16_t)(r[k] - ((a[k] + b[k]) + (c[k] + d[k])));
}

static void mldsa_add16_1(int16_t *restrict r, const int16_t *restrict ext, int32_t sign)
{
	for (unsigned k = 0; k < MLDSA_N; k++)
		r[k] = (int16_t)(r[k] + sign * ext[k]);
}

static void mldsa_mul_challenge16(struct mldsa_poly *restrict r, const struct mldsa_challenge *c,
				  const int16_t *h, int16_t *restrict acc)
{
	unsigned t;

	for (unsigned i = 0; i < MLDSA_N; i++)
		acc[i] = 0;
	for (t = 0; t + 4 <= c->nplus; t += 4)
		mldsa_add16(acc, h, c->off + t);
	for (; t < c->nplus; t++)
		mldsa_add16_1(acc, h + c->off[t], 1);
	for (; t + 4 <= c->n; t += 4)
		mldsa_sub16(acc, h, c->off + t);
	for (; t < c->n; t++)
		mldsa_add16_1(acc, h + c->off[t], -1);
	for (unsigned i = 0; i < MLDSA_N; i++)
		r->c[i] = acc[i];
}

void mldsa_poly_ext16(struct mldsa_poly_ext16 *s16, const struct mldsa_poly *s)
{
#if defined(__x86_64__)
	if (dv_cpu_avx2())
		return;
#endif
	for (unsigned i = 0; i < MLDSA_N; i++) {
		s16->h[i] = (int16_t)-s->c[i];
		s16->h[MLDSA_N + i] = (int16_t)s->c[i];
	}
}

void mldsa_poly_mul_challenge_small(struct mldsa_poly *restrict r,
				    const struct mldsa_challenge *c, const struct mldsa_poly *s,
				    const struct mldsa_poly_ext16 *s16,
				    struct mldsa_poly_ext *restrict ext)
{
#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_poly_mul_challenge_avx2(r, c, s, ext);
		return;
	}
#endif
	mldsa_mul_challenge16(r, c, s16->h, ext->acc);
}

/* c * t1 * 2^d as (c * (t1 - 512) + 512 * c * u) * 2^d with u = sum_j X^j:
 * t1 - 512 lies in [-512, 511], so that product is a small one, and
 * coefficient k of c * u (negacyclic) is sum_{p <= k} c_p - sum_{p > k} c_p. */
void mldsa_poly_mul_challenge_t1(struct mldsa_poly *restrict r, const struct mldsa_challenge *c,
				 struct mldsa_poly *t1, struct mldsa_poly_ext *restrict ext)
{
	int32_t cu[MLDSA_N] = { 0 }, prefix = 0;

#if defined(__x86_64__)
	if (dv_cpu_avx2()) {
		mldsa_poly_shiftl(t1);
		mldsa_poly_mul_challenge_avx2(r, c, t1, ext);
		return;
	}
#endif
	for (unsigned i = 0; i < MLDSA_N; i++) {
		ext->h[i] = (int16_t)(512 - t1->c[i]);
		ext->h[MLDSA_N + i] = (int16_t)(t1->c[i] - 512);
	}
	mldsa_mul_challenge16(r, c, ext->h, ext->acc);
	/* off = N - p: c_p = +1 for t < nplus, -1 after; p = 0 is off = N. */
	for (unsigned t = 0; t < c->n; t++)
		cu[(MLDSA_N - c->off[t]) % MLDSA_N] = t < c->nplus ? 1 : -1;
	for (unsigned k = 0; k < MLDSA_N; k++) {
		prefix += cu[k];
		cu[k] = prefix;
	}
	for (unsigned k = 0; k < MLDSA_N; k++)
		r->c[k] = (int32_t)((uint32_t)(r->c[k] + 512 * (2 * cu[k] - prefix)) << MLDSA_D);
}

uint32_t mldsa_poly_exceeds(const struct mldsa_poly *p, int32_t bound)
{
	uint32_t bad = 0;

	for (unsigned i = 0; i < MLDSA_N; i++) {
		int32_t m = p->c[i] >> 31;
		int32_t abs = (p->c[i] ^ m) - m;

		bad |= (uint32_t)(bound - 1 - abs) >> 31;
	}
	return bad;
}

/* Algorithm 35: a = a1 * 2^d + a0 with a0 in (-2^(d-1), 2^(d-1)]. */
void mldsa_poly_power2round(struct mldsa_poly *a1, struct mldsa_poly *a0,
			    const struct mldsa_poly *a)
{
	for (unsigned i = 0; i < MLDSA_N; i++) {
		int32_t hi = (a->c[i] + (1 << (MLDSA_D - 1)) - 1) >> MLDSA_D;

		a0->c[i] = a->c[i] - (hi << MLDSA_D);
		a1->c[i] = hi;
	}
}

/* Algorithm 36 for 2 * gamma2 = 523776 and a in [0, q): a = a1 * 2gamma2 + a0
 * with a0 in (-gamma2, gamma2], except that the top value a1 = 16 (where
 * a - a0 = q - 1) becomes a1 = 0, a0 - 1. In 32-bit arithmetic only, so
 * that the loops over it vectorise: a1 = round(a / 2gamma2) is computed as
 * ceil(a / 128) * 1025 / 2^22 rounded (1025 / 2^22 ~ 128 / 523776), the
 * top value wraps to 0 by the mask, and a0 > (q - 1) / 2 (only there) is
 * moved down by q. Checked exhaustively against the definition by
 * test_mldsa. */
int32_t mldsa_decompose(int32_t *a0, int32_t a)
{
	int32_t a1 = (a + 127) >> 7;

	a1 = ((a1 * 1025 + (1 << 21)) >> 22) & 15;
	*a0 = a - a1 * 2 * MLDSA_GAMMA2;
	*a0 -= (((MLDSA_Q - 1) / 2 - *a0) >> 31) & MLDSA_Q;
	return a1;
}

void mldsa_poly_decompose(struct mldsa_poly *a1, struct mldsa_poly *a0,
			  const struct mldsa_poly *a)
{
	for (unsigned i = 0; i < MLDSA_N; i++)
		a1->c[i] = mldsa_decompose(&a0->c[i], a->c[i]);
}

/* Algorithm 40 with m = (q - 1) / (2 gamma2) = 16, on a in [0, q). */
void mldsa_poly_use_hint(struct mldsa_poly *r, const struct mldsa_poly *a,
			 const struct mldsa_poly *h)
{
	for (unsigned i = 0; i < MLDSA_N; i++) {
		int32_t a0, a1 = mldsa_decompose(&a0, a->c[i]);

		if (h->c[i])
			a1 = (a0 > 0 ? a1 + 1 : a1 - 1) & 15;
		r->c[i] = a1;
	}
}
