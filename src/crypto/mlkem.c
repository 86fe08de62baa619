/* ML-KEM-768 key encapsulation (FIPS 203, section 6, Algorithms 16-18)
 * on top of K-PKE, with the input checks of section 7. The
 * Fujisaki-Okamoto comparison and the implicit-rejection select are
 * constant time; every secret intermediate is wiped before returning. */
#include "crypto/mlkem.h"

#include <string.h>

#include <sodium.h>

#include "crypto/cpu.h"
#include "crypto/ct.h"
#include "crypto/keccak.h"
#include "crypto/mlkem_internal.h"

/* Section 7.2: the modulus check (no 12-bit coefficient of ek is >= q);
 * the length check is the fixed array size. */
int mlkem768_check_pk(const uint8_t pk[MLKEM768_PK_LEN])
{
	return mlkem_bytes_check12(pk, MLKEM_POLYVECBYTES) ? -1 : 0;
}

/* Section 7.3: the hash check H(dk[384k : 768k + 32]) == dk[768k + 32 :
 * 768k + 64], given h = H(ek) of the embedded ek. The length checks of
 * 7.3 are the fixed array sizes. Whether a key is well formed is no
 * secret, so the verdict is declassified. */
static int mlkem_check_h(const uint8_t h[MLKEM_SYMBYTES], const uint8_t sk[MLKEM768_SK_LEN])
{
	int bad = ct_memcmp(h, sk + MLKEM_SK_H_OFF, MLKEM_SYMBYTES);

	ct_declassify(&bad, sizeof(bad));
	return bad ? -1 : 0;
}

int mlkem768_check_sk(const uint8_t sk[MLKEM768_SK_LEN])
{
	uint8_t h[MLKEM_SYMBYTES];

	sha3_256(h, sk + MLKEM_SK_EK_OFF, MLKEM768_PK_LEN);
	return mlkem_check_h(h, sk);
}

/* Algorithm 16: dk = dk_PKE || ek || H(ek) || z. */
int mlkem768_keypair_derand(uint8_t pk[MLKEM768_PK_LEN], uint8_t sk[MLKEM768_SK_LEN],
			    const uint8_t coins[MLKEM768_KEYGEN_COINS_LEN])
{
	mlkem_indcpa_keypair(pk, sk, coins);
	memcpy(sk + MLKEM_SK_EK_OFF, pk, MLKEM768_PK_LEN);
	sha3_256(sk + MLKEM_SK_H_OFF, pk, MLKEM768_PK_LEN);
	memcpy(sk + MLKEM_SK_Z_OFF, coins + MLKEM_SYMBYTES, MLKEM_SYMBYTES);
	return 0;
}

int mlkem768_keypair(uint8_t pk[MLKEM768_PK_LEN], uint8_t sk[MLKEM768_SK_LEN])
{
	uint8_t coins[MLKEM768_KEYGEN_COINS_LEN];
	int ret;

	randombytes_buf(coins, sizeof(coins));
	ret = mlkem768_keypair_derand(pk, sk, coins);
	ct_wipe(coins, sizeof(coins));
	return ret;
}

/* Algorithm 17, after the section 7.2 modulus check:
 * (K, r) = G(m || H(ek)), c = K-PKE.Encrypt(ek, m, r). */
int mlkem768_enc_derand(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
			const uint8_t pk[MLKEM768_PK_LEN],
			const uint8_t m[MLKEM768_ENC_COINS_LEN])
{
	uint8_t in[2 * MLKEM_SYMBYTES], kr[2 * MLKEM_SYMBYTES];

	if (mlkem768_check_pk(pk)) {
		memset(ct, 0, MLKEM768_CT_LEN);
		memset(ss, 0, MLKEM768_SS_LEN);
		return -1;
	}
	memcpy(in, m, MLKEM_SYMBYTES);
	sha3_256(in + MLKEM_SYMBYTES, pk, MLKEM768_PK_LEN);
	sha3_512(kr, in, sizeof(in));
	mlkem_indcpa_enc(ct, pk, m, kr + MLKEM_SYMBYTES);
	memcpy(ss, kr, MLKEM768_SS_LEN);

	ct_wipe(in, sizeof(in));
	ct_wipe(kr, sizeof(kr));
	return 0;
}

int mlkem768_enc(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
		 const uint8_t pk[MLKEM768_PK_LEN])
{
	uint8_t m[MLKEM768_ENC_COINS_LEN];
	int ret;

	randombytes_buf(m, sizeof(m));
	ret = mlkem768_enc_derand(ct, ss, pk, m);
	ct_wipe(m, sizeof(m));
	return ret;
}

/* H(ek) for the hash check and K_bar = J(z || c) = SHAKE256(z || c, 32):
 * two independent hashes of about 1.1 KB, side by side with AVX2. */
static void mlkem_dec_hashes(uint8_t h[MLKEM_SYMBYTES], uint8_t kbar[MLKEM768_SS_LEN],
			     const uint8_t sk[MLKEM768_SK_LEN], const uint8_t ct[MLKEM768_CT_LEN])
{
	const uint8_t *ek = sk + MLKEM_SK_EK_OFF, *z = sk + MLKEM_SK_Z_OFF;
	struct keccak_state st;

	if (dv_cpu_avx2()) {
		mlkem_hash_h_j_avx2(h, kbar, ek, z, ct);
		return;
	}
	sha3_256(h, ek, MLKEM768_PK_LEN);
	shake256_init(&st);
	keccak_absorb(&st, z, MLKEM_SYMBYTES);
	keccak_absorb(&st, ct, MLKEM768_CT_LEN);
	keccak_squeeze(&st, kbar, MLKEM768_SS_LEN);
	ct_wipe(&st, sizeof(st));
}

/* Algorithm 18, after the section 7.3 hash check: m' = K-PKE.Decrypt(dk_PKE,
 * c), (K', r') = G(m' || h), K_bar = J(z || c), c' = K-PKE.Encrypt(ek, m',
 * r'); K = c == c' ? K' : K_bar, selected without a branch. */
int mlkem768_dec(uint8_t ss[MLKEM768_SS_LEN], const uint8_t ct[MLKEM768_CT_LEN],
		 const uint8_t sk[MLKEM768_SK_LEN])
{
	const uint8_t *ek = sk + MLKEM_SK_EK_OFF;
	uint8_t in[2 * MLKEM_SYMBYTES], kr[2 * MLKEM_SYMBYTES], h[MLKEM_SYMBYTES];
	uint8_t kbar[MLKEM768_SS_LEN], cmp[MLKEM768_CT_LEN];
	int fail;

	mlkem_dec_hashes(h, kbar, sk, ct);
	if (mlkem_check_h(h, sk)) {
		ct_wipe(kbar, sizeof(kbar));
		memset(ss, 0, MLKEM768_SS_LEN);
		return -1;
	}
	/* ek and H(ek) are the public part of dk. */
	ct_declassify(ek, MLKEM768_PK_LEN + MLKEM_SYMBYTES);

	mlkem_indcpa_dec(in, ct, sk);
	memcpy(in + MLKEM_SYMBYTES, sk + MLKEM_SK_H_OFF, MLKEM_SYMBYTES);
	sha3_512(kr, in, sizeof(in));
	mlkem_indcpa_enc(cmp, ek, in, kr + MLKEM_SYMBYTES);

	fail = ct_memcmp(ct, cmp, MLKEM768_CT_LEN);
	memcpy(ss, kr, MLKEM768_SS_LEN);
	ct_cmov(ss, kbar, MLKEM768_SS_LEN, (uint8_t)fail);

	ct_wipe(in, sizeof(in));
	ct_wipe(kr, sizeof(kr));
	ct_wipe(kbar, sizeof(kbar));
	ct_wipe(cmp, sizeof(cmp));
	ct_wipe(&fail, sizeof(fail));
	return 0;
}
