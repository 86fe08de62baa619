/* ML-KEM-768 behaviour beyond the known answers of tv_mlkem.c: round
 * trips, implicit rejection, the section 7.2 / 7.3 input checks and what
 * the outputs hold when a call fails. */
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mlkem.h"
#include "crypto/mlkem_internal.h"
#include "t.h"

static const uint8_t zero[MLKEM768_CT_LEN];

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 131);
}

/* Set 12-bit coefficient i of the encoded t_hat in ek to v. */
static void set_coeff(uint8_t *pk, unsigned i, unsigned v)
{
	uint8_t *b = pk + 3 * (i / 2);

	if (i % 2 == 0) {
		b[0] = (uint8_t)v;
		b[1] = (uint8_t)((b[1] & 0xf0) | (v >> 8));
	} else {
		b[1] = (uint8_t)((b[1] & 0x0f) | (v << 4));
		b[2] = (uint8_t)(v >> 4);
	}
}

static void test_roundtrip(void)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss1[MLKEM768_SS_LEN], ss2[MLKEM768_SS_LEN];

	for (int i = 0; i < 20; i++) {
		T_CHECK(mlkem768_keypair(pk, sk) == 0);
		T_CHECK(mlkem768_check_pk(pk) == 0);
		T_CHECK(mlkem768_check_sk(sk) == 0);
		T_CHECK(mlkem768_enc(ct, ss1, pk) == 0);
		T_CHECK(mlkem768_dec(ss2, ct, sk) == 0);
		T_EQ_MEM(ss1, ss2, sizeof(ss1));
	}
}

static void test_derand(void)
{
	uint8_t coins[64], m[32];
	uint8_t pk1[MLKEM768_PK_LEN], sk1[MLKEM768_SK_LEN], pk2[MLKEM768_PK_LEN],
		sk2[MLKEM768_SK_LEN], ct1[MLKEM768_CT_LEN], ct2[MLKEM768_CT_LEN];
	uint8_t ss1[32], ss2[32], ss3[32];

	fill(coins, sizeof(coins), 1);
	fill(m, sizeof(m), 2);
	T_CHECK(mlkem768_keypair_derand(pk1, sk1, coins) == 0);
	T_CHECK(mlkem768_keypair_derand(pk2, sk2, coins) == 0);
	T_EQ_MEM(pk1, pk2, sizeof(pk1));
	T_EQ_MEM(sk1, sk2, sizeof(sk1));
	/* dk = dk_PKE || ek || H(ek) || z */
	T_EQ_MEM(sk1 + 1152, pk1, sizeof(pk1));
	T_EQ_MEM(sk1 + 2368, coins + 32, 32);
	T_CHECK(mlkem768_enc_derand(ct1, ss1, pk1, m) == 0);
	T_CHECK(mlkem768_enc_derand(ct2, ss2, pk1, m) == 0);
	T_EQ_MEM(ct1, ct2, sizeof(ct1));
	T_EQ_MEM(ss1, ss2, sizeof(ss1));
	T_CHECK(mlkem768_dec(ss3, ct1, sk1) == 0);
	T_EQ_MEM(ss1, ss3, sizeof(ss1));
}

/* A ciphertext that does not re-encrypt yields K_bar = J(z || c). */
static void test_implicit_rejection(void)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32], ss_bad[32], kbar[32], jin[32 + MLKEM768_CT_LEN];
	const size_t flips[] = { 0, 500, 959, 960, 1087 };

	T_CHECK(mlkem768_keypair(pk, sk) == 0);
	T_CHECK(mlkem768_enc(ct, ss, pk) == 0);
	for (size_t i = 0; i < sizeof(flips) / sizeof(*flips); i++) {
		ct[flips[i]] ^= 0x01;
		memcpy(jin, sk + 2368, 32);
		memcpy(jin + 32, ct, MLKEM768_CT_LEN);
		shake256(kbar, sizeof(kbar), jin, sizeof(jin));
		T_CHECK(mlkem768_dec(ss_bad, ct, sk) == 0);
		T_EQ_MEM(ss_bad, kbar, sizeof(kbar));
		T_CHECK(memcmp(ss_bad, ss, sizeof(ss)) != 0);
		ct[flips[i]] ^= 0x01;
	}
	T_CHECK(mlkem768_dec(ss_bad, ct, sk) == 0);
	T_EQ_MEM(ss_bad, ss, sizeof(ss));
}

/* FIPS 203 section 7.2: any coefficient >= q makes enc fail, outputs zero;
 * q - 1 is still fine. Both halves of a 3-byte pair are checked. */
static void test_pk_check(void)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32], m[32], bad[MLKEM768_PK_LEN];
	const unsigned idx[] = { 0, 1, 255, 256, 767 };
	const unsigned vals[] = { 3329, 3330, 4095 };

	fill(m, sizeof(m), 9);
	T_CHECK(mlkem768_keypair(pk, sk) == 0);
	for (size_t i = 0; i < sizeof(idx) / sizeof(*idx); i++) {
		memcpy(bad, pk, sizeof(pk));
		set_coeff(bad, idx[i], 3328);
		T_CHECK(mlkem768_check_pk(bad) == 0);
		T_CHECK(mlkem768_enc_derand(ct, ss, bad, m) == 0);
		for (size_t v = 0; v < sizeof(vals) / sizeof(*vals); v++) {
			set_coeff(bad, idx[i], vals[v]);
			T_CHECK(mlkem768_check_pk(bad) != 0);
			memset(ct, 0xaa, sizeof(ct));
			memset(ss, 0xaa, sizeof(ss));
			T_CHECK(mlkem768_enc_derand(ct, ss, bad, m) != 0);
			T_EQ_MEM(ct, zero, sizeof(ct));
			T_EQ_MEM(ss, zero, sizeof(ss));
			T_CHECK(mlkem768_enc(ct, ss, bad) != 0);
			T_EQ_MEM(ss, zero, sizeof(ss));
		}
	}
}

/* FIPS 203 section 7.3: a dk whose stored H(ek) does not match fails, and
 * so does dec with it (ss zeroed); z or dk_PKE changes do not matter. */
static void test_sk_check(void)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss[32], ss2[32];
	const size_t offs[] = { 1152, 2000, 2335, 2336, 2367 };

	T_CHECK(mlkem768_keypair(pk, sk) == 0);
	T_CHECK(mlkem768_enc(ct, ss, pk) == 0);
	for (size_t i = 0; i < sizeof(offs) / sizeof(*offs); i++) {
		sk[offs[i]] ^= 0x80;
		T_CHECK(mlkem768_check_sk(sk) != 0);
		memset(ss2, 0xaa, sizeof(ss2));
		T_CHECK(mlkem768_dec(ss2, ct, sk) != 0);
		T_EQ_MEM(ss2, zero, sizeof(ss2));
		sk[offs[i]] ^= 0x80;
	}
	sk[0] ^= 1;
	T_CHECK(mlkem768_check_sk(sk) == 0);
	sk[0] ^= 1;
	sk[2399] ^= 1;
	T_CHECK(mlkem768_check_sk(sk) == 0);
	T_CHECK(mlkem768_dec(ss2, ct, sk) == 0);
	T_EQ_MEM(ss2, ss, sizeof(ss)); /* z only matters on rejection */
}

/* The AVX2 samplers (four Keccak instances at once) must give exactly the
 * scalar results; the vectors cover both paths only when run a second
 * time with DYBERVPN_NO_AVX2=1, this checks them side by side. */
static void test_avx2_samplers(void)
{
	static struct mlkem_polyvec a[MLKEM_K];
	struct mlkem_poly want, got[4];
	struct mlkem_poly *const gp[4] = { &got[0], &got[1], &got[2], &got[3] };
	uint8_t rho[MLKEM_SYMBYTES], n[4];

	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2") ||
	    !__builtin_cpu_supports("popcnt"))
		return;
	for (int iter = 0; iter < 20; iter++) {
		fill(rho, sizeof(rho), (uint8_t)(iter * 17));
		for (int tr = 0; tr < 2; tr++) {
			mlkem_gen_matrix_avx2(a, rho, tr);
			for (uint8_t i = 0; i < MLKEM_K; i++)
				for (uint8_t j = 0; j < MLKEM_K; j++) {
					mlkem_sample_ntt(&want, rho, tr ? i : j, tr ? j : i,
							 mlkem_rej_uniform);
					T_EQ_MEM(&a[i].p[j], &want, sizeof(want));
				}
		}
		for (int k = 0; k < 4; k++)
			n[k] = (uint8_t)(iter * 4 + k);
		mlkem_getnoise_x4_avx2(gp, rho, n);
		for (int k = 0; k < 4; k++) {
			struct mlkem_poly *w = &want;

			mlkem_getnoise(&w, 1, rho, n[k]); /* one at a time: scalar */
			T_EQ_MEM(&got[k], &want, sizeof(want));
		}
	}
}

int main(void)
{
	T_RUN(test_roundtrip);
	T_RUN(test_derand);
	T_RUN(test_implicit_rejection);
	T_RUN(test_pk_check);
	T_RUN(test_sk_check);
	T_RUN(test_avx2_samplers);
	return t_done();
}
