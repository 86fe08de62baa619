/* ML-KEM polynomial arithmetic and the encodings of FIPS 203, section
 * 4.2.1: ByteEncode/ByteDecode (Algorithms 5 and 6) and Compress /
 * Decompress. Everything here runs in constant time: no branch or index
 * depends on a coefficient. */
#include "crypto/mlkem_internal.h"

/* Representative in [0, q) of a coefficient with |a| < 2^15 (via the
 * centred Barrett result and a sign mask). */
static inline uint16_t mlkem_canonical(int16_t a)
{
	int16_t t = mlkem_barrett_reduce(a);

	t = (int16_t)(t + ((t >> 15) & MLKEM_Q));
	return (uint16_t)t;
}

/* Multiply by R = 2^16: mlkem_fqmul by R^2 mod q = 1353. */
void mlkem_poly_tomont(struct mlkem_poly *p)
{
	for (unsigned i = 0; i < MLKEM_N; i++)
		p->c[i] = mlkem_fqmul(p->c[i], 1353);
}

/* No reduction: callers keep the sums within int16. */
void mlkem_poly_add(struct mlkem_poly *r, const struct mlkem_poly *a)
{
	for (unsigned i = 0; i < MLKEM_N; i++)
		r->c[i] = (int16_t)(r->c[i] + a->c[i]);
}

void mlkem_poly_sub(struct mlkem_poly *r, const struct mlkem_poly *a)
{
	for (unsigned i = 0; i < MLKEM_N; i++)
		r->c[i] = (int16_t)(r->c[i] - a->c[i]);
}

/* ByteEncode_12: two 12-bit values in three bytes, little-endian. */
void mlkem_poly_tobytes(uint8_t r[MLKEM_POLYBYTES], const struct mlkem_poly *p)
{
	for (unsigned i = 0; i < MLKEM_N / 2; i++) {
		uint16_t a = mlkem_canonical(p->c[2 * i]);
		uint16_t b = mlkem_canonical(p->c[2 * i + 1]);

		r[3 * i] = (uint8_t)a;
		r[3 * i + 1] = (uint8_t)(a >> 8 | b << 4);
		r[3 * i + 2] = (uint8_t)(b >> 4);
	}
}

void mlkem_poly_frombytes(struct mlkem_poly *p, const uint8_t a[MLKEM_POLYBYTES])
{
	for (unsigned i = 0; i < MLKEM_N / 2; i++) {
		p->c[2 * i] = (int16_t)((a[3 * i] | a[3 * i + 1] << 8) & 0xfff);
		p->c[2 * i + 1] = (int16_t)((a[3 * i + 1] >> 4 | a[3 * i + 2] << 4) & 0xfff);
	}
}

/* The modulus check of FIPS 203 section 7.2 asks that ByteEncode_12 of
 * ByteDecode_12 give the input back, i.e. that no 12-bit value is >= q.
 * Accumulates the borrow of (value - q) so no value decides a branch. */
unsigned mlkem_bytes_check12(const uint8_t *a, unsigned nbytes)
{
	uint32_t ok = 1;

	for (unsigned i = 0; i + 3 <= nbytes; i += 3) {
		uint32_t x = (uint32_t)(a[i] | a[i + 1] << 8) & 0xfff;
		uint32_t y = (uint32_t)(a[i + 1] >> 4 | a[i + 2] << 4);

		ok &= (x - MLKEM_Q) >> 31; /* 1 iff x < q */
		ok &= (y - MLKEM_Q) >> 31;
	}
	return ok ^ 1;
}

/* Compress_d(x) = round(2^d * x / q) mod 2^d for x in [0, q) (FIPS 203,
 * eq. 4.7). The division by q is a multiplication by ceil(2^36 / q):
 * exact for every numerator below 2^11 * q + q, and free of the
 * variable-time divide a compiler might otherwise emit. */
static inline uint32_t mlkem_compress(int16_t c, unsigned d)
{
	uint64_t x = ((uint64_t)mlkem_canonical(c) << d) + MLKEM_Q / 2;

	return (uint32_t)((x * 20642679u) >> 36) & ((1u << d) - 1);
}

/* Decompress_d(y) = round(q * y / 2^d) (FIPS 203, eq. 4.8). */
static inline int16_t mlkem_decompress(uint32_t y, unsigned d)
{
	return (int16_t)((y * MLKEM_Q + (1u << (d - 1))) >> d);
}

/* du = 10: four values in five bytes. */
void mlkem_poly_compress_du(uint8_t r[32 * MLKEM_DU], const struct mlkem_poly *p)
{
	for (unsigned i = 0; i < MLKEM_N / 4; i++) {
		uint32_t t[4];

		for (unsigned j = 0; j < 4; j++)
			t[j] = mlkem_compress(p->c[4 * i + j], MLKEM_DU);
		r[5 * i] = (uint8_t)t[0];
		r[5 * i + 1] = (uint8_t)(t[0] >> 8 | t[1] << 2);
		r[5 * i + 2] = (uint8_t)(t[1] >> 6 | t[2] << 4);
		r[5 * i + 3] = (uint8_t)(t[2] >> 4 | t[3] << 6);
		r[5 * i + 4] = (uint8_t)(t[3] >> 2);
	}
}

void mlkem_poly_decompress_du(struct mlkem_poly *p, const uint8_t a[32 * MLKEM_DU])
{
	for (unsigned i = 0; i < MLKEM_N / 4; i++) {
		const uint8_t *b = a + 5 * i;
		uint32_t t[4] = {
			(b[0] | (uint32_t)b[1] << 8) & 0x3ff,
			(b[1] >> 2 | (uint32_t)b[2] << 6) & 0x3ff,
			(b[2] >> 4 | (uint32_t)b[3] << 4) & 0x3ff,
			(b[3] >> 6 | (uint32_t)b[4] << 2) & 0x3ff,
		};

		for (unsigned j = 0; j < 4; j++)
			p->c[4 * i + j] = mlkem_decompress(t[j], MLKEM_DU);
	}
}

/* dv = 4: two values per byte, low nibble first. */
void mlkem_poly_compress_dv(uint8_t r[MLKEM_C2BYTES], const struct mlkem_poly *p)
{
	for (unsigned i = 0; i < MLKEM_N / 2; i++)
		r[i] = (uint8_t)(mlkem_compress(p->c[2 * i], MLKEM_DV) |
				 mlkem_compress(p->c[2 * i + 1], MLKEM_DV) << 4);
}

void mlkem_poly_decompress_dv(struct mlkem_poly *p, const uint8_t a[MLKEM_C2BYTES])
{
	for (unsigned i = 0; i < MLKEM_N / 2; i++) {
		p->c[2 * i] = mlkem_decompress(a[i] & 0xf, MLKEM_DV);
		p->c[2 * i + 1] = mlkem_decompress(a[i] >> 4, MLKEM_DV);
	}
}

/* Decompress_1: bit b becomes b * round(q / 2) = b * 1665, by a mask. */
void mlkem_poly_frommsg(struct mlkem_poly *p, const uint8_t m[MLKEM_SYMBYTES])
{
	for (unsigned i = 0; i < MLKEM_N; i++) {
		uint16_t bit = (m[i / 8] >> (i % 8)) & 1;

		p->c[i] = (int16_t)(-bit & ((MLKEM_Q + 1) / 2));
	}
}

void mlkem_poly_tomsg(uint8_t m[MLKEM_SYMBYTES], const struct mlkem_poly *p)
{
	for (unsigned i = 0; i < MLKEM_SYMBYTES; i++) {
		uint8_t byte = 0;

		for (unsigned j = 0; j < 8; j++)
			byte |= (uint8_t)(mlkem_compress(p->c[8 * i + j], 1) << j);
		m[i] = byte;
	}
}
