#include "crypto/backend.h"

#include <sodium.h>

static void software_random(uint8_t *out, size_t len)
{
	randombytes_buf(out, len);
}

const struct dv_crypto_backend dv_crypto_software = {
	.name = "software",
	.kem_keypair = mlkem768_keypair_derand,
	.kem_check_pk = mlkem768_check_pk,
	.kem_encaps = mlkem768_enc_derand,
	.kem_decaps = mlkem768_dec,
	.sig_keypair = mldsa65_keypair_from_seed,
	.sig_pk_from_sk = mldsa65_pk_from_sk,
	.sign = mldsa65_sign,
	.verify = mldsa65_verify,
	.random = software_random,
};

static const struct dv_crypto_backend *backend = &dv_crypto_software;

const struct dv_crypto_backend *dv_crypto(void)
{
	return backend;
}

void dv_crypto_set_backend(const struct dv_crypto_backend *b)
{
	backend = b ? b : &dv_crypto_software;
}
