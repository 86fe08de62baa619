/* Constant-time check of ML-DSA-65 key generation and signing: xi, sk and
 * rnd are marked secret (undefined for valgrind memcheck), so any branch
 * or memory index that depends on them, and was not declassified on
 * purpose in src/crypto/mldsa*.c (ct_declassify), makes `make ct` fail.
 * The AVX2 path runs when the CPU has it; run again with DYBERVPN_NO_AVX2=1
 * for the portable one. */
#include <stdio.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/mldsa.h"

int main(void)
{
	static uint8_t pk[MLDSA65_PK_LEN], sk[MLDSA65_SK_LEN], sig[MLDSA65_SIG_LEN];
	uint8_t xi[MLDSA65_SEED_LEN], rnd[MLDSA65_RND_LEN], msg[64], ctx[7];
	int ret;

	memset(msg, 0x33, sizeof(msg));
	memset(ctx, 0x44, sizeof(ctx));
	for (unsigned round = 0; round < 3; round++) {
		memset(xi, (int)(0x11 + round), sizeof(xi));
		memset(rnd, (int)(0x22 * round), sizeof(rnd));
		CT_SECRET(xi, sizeof(xi));
		ret = mldsa65_keypair_from_seed(pk, sk, xi);
		CT_PUBLIC(&ret, sizeof(ret));
		if (ret)
			return 1;
		CT_PUBLIC(pk, sizeof(pk));

		CT_SECRET(sk, sizeof(sk));
		CT_SECRET(rnd, sizeof(rnd));
		ret = mldsa65_sign(sig, msg, sizeof(msg), ctx, sizeof(ctx), sk, rnd);
		CT_PUBLIC(&ret, sizeof(ret));
		if (ret)
			return 1;
		CT_PUBLIC(sig, sizeof(sig));
		if (mldsa65_verify(sig, msg, sizeof(msg), ctx, sizeof(ctx), pk))
			return 1;

		/* the public key of the expanded (still secret) key */
		static uint8_t pk2[MLDSA65_PK_LEN];
		ret = mldsa65_pk_from_sk(pk2, sk);
		CT_PUBLIC(&ret, sizeof(ret));
		CT_PUBLIC(pk2, sizeof(pk2));
		if (ret || memcmp(pk, pk2, sizeof(pk)))
			return 1;
	}
	printf("ct_mldsa: keypair_from_seed, sign and pk_from_sk done\n");
	return 0;
}
