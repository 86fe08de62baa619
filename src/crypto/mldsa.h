/* ML-DSA-65 signatures (FIPS 204, parameter set ML-DSA-65: k = 6, l = 5,
 * eta = 4, tau = 49, gamma1 = 2^19, gamma2 = (q - 1) / 32, omega = 55).
 *
 * Every call returns 0 on success (or "signature valid") and -1 otherwise.
 * On failure, signing zeroes `sig` and key generation zeroes `pk` and `sk`.
 * Secrets (sk, xi, rnd and everything derived from them) are handled in
 * constant time and wiped before return; the signing loop's accept/reject
 * decision is public by design. On x86-64 CPUs with AVX2 the arithmetic and
 * bulk sampling use AVX2 (same results); DYBERVPN_NO_AVX2=1 in the
 * environment forces the portable code. Stack use is below 100 KB. */
#ifndef DV_CRYPTO_MLDSA_H
#define DV_CRYPTO_MLDSA_H

#include <stddef.h>
#include <stdint.h>

#define MLDSA65_PK_LEN 1952
#define MLDSA65_SK_LEN 4032
#define MLDSA65_SIG_LEN 3309
#define MLDSA65_SEED_LEN 32
#define MLDSA65_RND_LEN 32
#define MLDSA65_MU_LEN 64
#define MLDSA65_CTX_MAX 255

/* ML-DSA.KeyGen_internal (FIPS 204, Algorithm 6) from the 32-byte seed xi. */
int mldsa65_keypair_from_seed(uint8_t pk[MLDSA65_PK_LEN], uint8_t sk[MLDSA65_SK_LEN],
			      const uint8_t xi[MLDSA65_SEED_LEN]);
/* ML-DSA.KeyGen (Algorithm 1): xi from the OS random generator. */
int mldsa65_keypair(uint8_t pk[MLDSA65_PK_LEN], uint8_t sk[MLDSA65_SK_LEN]);

/* ML-DSA.Sign (Algorithm 2, pure) with the given 32-byte rnd; an all-zero
 * rnd is the deterministic variant. ctxlen > 255 is an error. */
int mldsa65_sign(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		 const uint8_t *ctx, size_t ctxlen, const uint8_t sk[MLDSA65_SK_LEN],
		 const uint8_t rnd[MLDSA65_RND_LEN]);
/* ML-DSA.Sign, hedged: rnd comes from the OS random generator. */
int mldsa65_sign_randomized(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
			    const uint8_t *ctx, size_t ctxlen, const uint8_t sk[MLDSA65_SK_LEN]);
/* ML-DSA.Sign_internal (Algorithm 7) on the formatted message M'. */
int mldsa65_sign_internal(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *mprime,
			  size_t mprimelen, const uint8_t sk[MLDSA65_SK_LEN],
			  const uint8_t rnd[MLDSA65_RND_LEN]);
/* Sign_internal with mu = H(tr || M', 64) supplied by the caller ("external mu"). */
int mldsa65_sign_mu(uint8_t sig[MLDSA65_SIG_LEN], const uint8_t mu[MLDSA65_MU_LEN],
		    const uint8_t sk[MLDSA65_SK_LEN], const uint8_t rnd[MLDSA65_RND_LEN]);

/* ML-DSA.Verify (Algorithm 3, pure). 0 = valid. */
int mldsa65_verify(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *msg, size_t msglen,
		   const uint8_t *ctx, size_t ctxlen, const uint8_t pk[MLDSA65_PK_LEN]);
/* ML-DSA.Verify_internal (Algorithm 8) on M'. */
int mldsa65_verify_internal(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t *mprime,
			    size_t mprimelen, const uint8_t pk[MLDSA65_PK_LEN]);
/* Verify_internal with external mu. */
int mldsa65_verify_mu(const uint8_t sig[MLDSA65_SIG_LEN], const uint8_t mu[MLDSA65_MU_LEN],
		      const uint8_t pk[MLDSA65_PK_LEN]);

/* The public key of an expanded secret key (FIPS 204, Algorithm 6, lines
 * 5-10 recomputed); -1, pk zeroed, when sk is out of range or inconsistent
 * (its t0 or tr do not match its rho, s1, s2). */
int mldsa65_pk_from_sk(uint8_t pk[MLDSA65_PK_LEN], const uint8_t sk[MLDSA65_SK_LEN]);

/* Rejects an expanded secret key whose s1 or s2 coefficients lie outside
 * [-eta, eta] (the 4-bit fields above 2 * eta). Signing calls it. */
int mldsa65_check_sk(const uint8_t sk[MLDSA65_SK_LEN]);

#endif
