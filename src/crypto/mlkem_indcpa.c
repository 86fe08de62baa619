/* K-PKE, the CPA-secure encryption scheme under ML-KEM (FIPS 203,
 * section 5): KeyGen, Encrypt and Decrypt (Algorithms 13, 14 and 15).
 * Secret polynomials and seeds are wiped before every return (the
 * polynomials, half a kilobyte and more each, with ct_wipe). */
#include "crypto/mlkem_internal.h"

#include <string.h>

#include "crypto/ct.h"
#include "crypto/keccak.h"

/* Algorithm 13. (rho, sigma) = G(d || k); s and e from PRF_eta1(sigma, N)
 * with N = 0..2k-1; t_hat = A_hat o s_hat + e_hat; ek = ByteEncode_12(t_hat)
 * || rho and dk = ByteEncode_12(s_hat). */
void mlkem_indcpa_keypair(uint8_t ek[MLKEM768_PK_LEN], uint8_t dk[MLKEM_POLYVECBYTES],
			  const uint8_t d[MLKEM_SYMBYTES])
{
	struct mlkem_polyvec a[MLKEM_K], s, e;
	struct mlkem_poly t;
	struct mlkem_poly *const noise[2 * MLKEM_K] = { &s.p[0], &s.p[1], &s.p[2],
							&e.p[0], &e.p[1], &e.p[2] };
	uint8_t in[MLKEM_SYMBYTES + 1], g[2 * MLKEM_SYMBYTES];
	const uint8_t *rho = g, *sigma = g + MLKEM_SYMBYTES;

	memcpy(in, d, MLKEM_SYMBYTES);
	in[MLKEM_SYMBYTES] = MLKEM_K; /* domain separation by k (FIPS 203, 5.1) */
	sha3_512(g, in, sizeof(in));
	/* rho is the public half of ek, though derived from the secret d. */
	ct_declassify(g, MLKEM_SYMBYTES);

	mlkem_gen_matrix(a, rho, 0);
	mlkem_getnoise(noise, 2 * MLKEM_K, sigma, 0);
	for (unsigned i = 0; i < MLKEM_K; i++) {
		mlkem_ntt(&s.p[i]);
		mlkem_ntt(&e.p[i]);
	}

	for (unsigned i = 0; i < MLKEM_K; i++) {
		/* basemul leaves a factor R^-1; tomont puts the R back. */
		mlkem_polyvec_basemul_acc(&t, &a[i], &s);
		mlkem_poly_tomont(&t);
		mlkem_poly_add(&t, &e.p[i]);
		mlkem_poly_tobytes(ek + i * MLKEM_POLYBYTES, &t);
		mlkem_poly_tobytes(dk + i * MLKEM_POLYBYTES, &s.p[i]);
	}
	memcpy(ek + MLKEM_POLYVECBYTES, rho, MLKEM_SYMBYTES);

	ct_wipe(&s, sizeof(s));
	ct_wipe(&e, sizeof(e));
	ct_wipe(&t, sizeof(t));
	ct_wipe(in, sizeof(in));
	ct_wipe(g, sizeof(g));
}

/* Algorithm 14. y, e1, e2 from PRF_eta(r, N), N = 0..2k; u = NTT^-1(A_hat^T
 * o y_hat) + e1, v = NTT^-1(t_hat^T o y_hat) + e2 + Decompress_1(m);
 * c = Compress_du(u) || Compress_dv(v). ek must have passed the modulus
 * check or come from a key pair: t_hat below 4096 is all basemul needs. */
void mlkem_indcpa_enc(uint8_t c[MLKEM768_CT_LEN], const uint8_t ek[MLKEM768_PK_LEN],
		      const uint8_t m[MLKEM_SYMBYTES], const uint8_t r[MLKEM_SYMBYTES])
{
	struct mlkem_polyvec at[MLKEM_K], t, y, e1, u;
	struct mlkem_poly e2, v;
	struct mlkem_poly *const noise[2 * MLKEM_K + 1] = { &y.p[0], &y.p[1], &y.p[2],
							    &e1.p[0], &e1.p[1], &e1.p[2],
							    &e2 };

	for (unsigned i = 0; i < MLKEM_K; i++)
		mlkem_poly_frombytes(&t.p[i], ek + i * MLKEM_POLYBYTES);
	mlkem_gen_matrix(at, ek + MLKEM_POLYVECBYTES, 1);

	mlkem_getnoise(noise, 2 * MLKEM_K + 1, r, 0);
	for (unsigned i = 0; i < MLKEM_K; i++)
		mlkem_ntt(&y.p[i]);

	for (unsigned i = 0; i < MLKEM_K; i++) {
		mlkem_polyvec_basemul_acc(&u.p[i], &at[i], &y);
		mlkem_invntt_tomont(&u.p[i]);
		mlkem_poly_add(&u.p[i], &e1.p[i]);
		mlkem_poly_compress_du(c + i * 32 * MLKEM_DU, &u.p[i]);
	}

	mlkem_polyvec_basemul_acc(&v, &t, &y);
	mlkem_invntt_tomont(&v);
	mlkem_poly_add(&v, &e2);
	mlkem_poly_frommsg(&e2, m);
	mlkem_poly_add(&v, &e2);
	mlkem_poly_compress_dv(c + MLKEM_C1BYTES, &v);

	ct_wipe(&y, sizeof(y));
	ct_wipe(&e1, sizeof(e1));
	ct_wipe(&u, sizeof(u));
	ct_wipe(&e2, sizeof(e2));
	ct_wipe(&v, sizeof(v));
}

/* Algorithm 15. w = v' - NTT^-1(s_hat^T o NTT(u')), m = Compress_1(w). */
void mlkem_indcpa_dec(uint8_t m[MLKEM_SYMBYTES], const uint8_t c[MLKEM768_CT_LEN],
		      const uint8_t dk[MLKEM_POLYVECBYTES])
{
	struct mlkem_polyvec s, u;
	struct mlkem_poly v, w;

	for (unsigned i = 0; i < MLKEM_K; i++) {
		mlkem_poly_decompress_du(&u.p[i], c + i * 32 * MLKEM_DU);
		mlkem_ntt(&u.p[i]);
		mlkem_poly_frombytes(&s.p[i], dk + i * MLKEM_POLYBYTES);
	}
	mlkem_poly_decompress_dv(&v, c + MLKEM_C1BYTES);

	mlkem_polyvec_basemul_acc(&w, &s, &u);
	mlkem_invntt_tomont(&w);
	mlkem_poly_sub(&v, &w);
	mlkem_poly_tomsg(m, &v);

	ct_wipe(&s, sizeof(s));
	ct_wipe(&u, sizeof(u));
	ct_wipe(&v, sizeof(v));
	ct_wipe(&w, sizeof(w));
}
