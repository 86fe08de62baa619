/* ML-KEM-768 (FIPS 203): key encapsulation for the post-quantum part of
 * the handshake. The deterministic *_derand calls are FIPS 203's
 * KeyGen_internal / Encaps_internal (Algorithms 16 and 17), which is what
 * makes the NIST vectors testable; the randomized calls draw their coins
 * from libsodium's randombytes_buf. Every call returns 0 on success. */
#ifndef DV_CRYPTO_MLKEM_H
#define DV_CRYPTO_MLKEM_H

#include <stdint.h>

#define MLKEM768_PK_LEN 1184
#define MLKEM768_SK_LEN 2400
#define MLKEM768_CT_LEN 1088
#define MLKEM768_SS_LEN 32
#define MLKEM768_KEYGEN_COINS_LEN 64 /* d || z */
#define MLKEM768_ENC_COINS_LEN 32    /* m */

/* (ek, dk) = ML-KEM.KeyGen_internal(d, z), coins = d || z. */
int mlkem768_keypair_derand(uint8_t pk[MLKEM768_PK_LEN],
			    uint8_t sk[MLKEM768_SK_LEN],
			    const uint8_t coins[MLKEM768_KEYGEN_COINS_LEN]);
int mlkem768_keypair(uint8_t pk[MLKEM768_PK_LEN], uint8_t sk[MLKEM768_SK_LEN]);

/* (K, c) = ML-KEM.Encaps_internal(ek, m). Fails, with ct and ss zeroed,
 * when pk fails the encapsulation-key check of FIPS 203 section 7.2. */
int mlkem768_enc_derand(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
			const uint8_t pk[MLKEM768_PK_LEN],
			const uint8_t m[MLKEM768_ENC_COINS_LEN]);
int mlkem768_enc(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
		 const uint8_t pk[MLKEM768_PK_LEN]);

/* K = ML-KEM.Decaps_internal(dk, c) (Algorithm 18). A ciphertext that does
 * not re-encrypt gives the implicit-rejection key J(z || c) and still
 * returns 0; only an sk failing the hash check of section 7.3 returns
 * non-zero, with ss zeroed. */
int mlkem768_dec(uint8_t ss[MLKEM768_SS_LEN], const uint8_t ct[MLKEM768_CT_LEN],
		 const uint8_t sk[MLKEM768_SK_LEN]);

/* FIPS 203 section 7.2: every 12-bit coefficient of ek is below q. */
int mlkem768_check_pk(const uint8_t pk[MLKEM768_PK_LEN]);
/* FIPS 203 section 7.3: H(ek) stored in dk matches the embedded ek. */
int mlkem768_check_sk(const uint8_t sk[MLKEM768_SK_LEN]);

#endif
