/* The crypto backend: one table of the post-quantum operations and the
 * randomness source, so that a hardware or FIPS module can take the place
 * of the software implementation. The handshake calls only through it.
 * Every operation is deterministic given its inputs (coins, m, rnd come
 * from the caller), which is what makes the protocol vectors testable. */
#ifndef DV_CRYPTO_BACKEND_H
#define DV_CRYPTO_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/mldsa.h"
#include "crypto/mlkem.h"

struct dv_crypto_backend {
	const char *name;
	/* ML-KEM-768 (FIPS 203): 0 on success, as in crypto/mlkem.h. */
	int (*kem_keypair)(uint8_t pk[MLKEM768_PK_LEN], uint8_t sk[MLKEM768_SK_LEN],
			   const uint8_t coins[64]);
	int (*kem_check_pk)(const uint8_t pk[MLKEM768_PK_LEN]);
	int (*kem_encaps)(uint8_t ct[MLKEM768_CT_LEN], uint8_t ss[MLKEM768_SS_LEN],
			  const uint8_t pk[MLKEM768_PK_LEN], const uint8_t m[32]);
	int (*kem_decaps)(uint8_t ss[MLKEM768_SS_LEN], const uint8_t ct[MLKEM768_CT_LEN],
			  const uint8_t sk[MLKEM768_SK_LEN]);
	/* ML-DSA-65 (FIPS 204), pure, with a context: 0 on success / valid. */
	int (*sig_keypair)(uint8_t pk[MLDSA65_PK_LEN], uint8_t sk[MLDSA65_SK_LEN],
			   const uint8_t xi[MLDSA65_SEED_LEN]);
	/* The public key of an expanded key; fails for an inconsistent one. */
	int (*sig_pk_from_sk)(uint8_t pk[MLDSA65_PK_LEN], const uint8_t sk[MLDSA65_SK_LEN]);
	int (*sign)(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		    const uint8_t *ctx, size_t ctxlen, const uint8_t sk[MLDSA65_SK_LEN],
		    const uint8_t rnd[MLDSA65_RND_LEN]);
	int (*verify)(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		      const uint8_t *ctx, size_t ctxlen, const uint8_t pk[MLDSA65_PK_LEN]);
	/* Cryptographically secure random bytes from the OS. */
	void (*random)(uint8_t *out, size_t len);
};

/* Our own ML-KEM / ML-DSA and libsodium's randombytes. */
extern const struct dv_crypto_backend dv_crypto_software;

/* The backend in use (the software one unless another was installed). */
const struct dv_crypto_backend *dv_crypto(void);

/* Installs another backend, or the software one again with NULL. Call it
 * before any handshake starts: the switch is not synchronised. */
void dv_crypto_set_backend(const struct dv_crypto_backend *b);

#endif
