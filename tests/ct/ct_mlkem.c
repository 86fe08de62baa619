/* Constant-time check of ML-KEM-768 under valgrind memcheck: d, z, m and
 * sk are marked undefined (CT_SECRET), so any branch or memory index that
 * depends on them is reported. Values that are public by design (pk, ct,
 * and the shared secrets once we compare them) are marked defined first.
 * Inside the library, rho, the ek within dk and the key-check verdicts
 * are declassified with ct_declassify. */
#include <string.h>

#include "crypto/ct.h"
#include "crypto/mlkem.h"
#include "t.h"

int main(void)
{
	uint8_t coins[MLKEM768_KEYGEN_COINS_LEN], m[MLKEM768_ENC_COINS_LEN];
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ct[MLKEM768_CT_LEN];
	uint8_t ss_enc[MLKEM768_SS_LEN], ss_dec[MLKEM768_SS_LEN], ss_rej[MLKEM768_SS_LEN];

	for (size_t i = 0; i < sizeof(coins); i++)
		coins[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 13 + 5);

	CT_SECRET(coins, sizeof(coins)); /* d || z */
	T_CHECK(mlkem768_keypair_derand(pk, sk, coins) == 0);
	CT_PUBLIC(pk, sizeof(pk));

	CT_SECRET(sk, sizeof(sk));
	CT_SECRET(m, sizeof(m));
	T_CHECK(mlkem768_enc_derand(ct, ss_enc, pk, m) == 0);
	CT_PUBLIC(ct, sizeof(ct));

	/* Valid ciphertext, then a tampered one (implicit rejection). */
	T_CHECK(mlkem768_dec(ss_dec, ct, sk) == 0);
	ct[100] ^= 0x04;
	T_CHECK(mlkem768_dec(ss_rej, ct, sk) == 0);

	CT_PUBLIC(ss_enc, sizeof(ss_enc));
	CT_PUBLIC(ss_dec, sizeof(ss_dec));
	CT_PUBLIC(ss_rej, sizeof(ss_rej));
	T_EQ_MEM(ss_enc, ss_dec, sizeof(ss_enc));
	T_CHECK(memcmp(ss_enc, ss_rej, sizeof(ss_enc)) != 0);

	/* The randomized wrappers draw their coins internally. */
	T_CHECK(mlkem768_keypair(pk, sk) == 0);
	T_CHECK(mlkem768_enc(ct, ss_enc, pk) == 0);
	T_CHECK(mlkem768_dec(ss_dec, ct, sk) == 0);
	T_EQ_MEM(ss_enc, ss_dec, sizeof(ss_enc));
	return t_done();
}
