/* The crypto backend table: the handshake reaches ML-KEM, ML-DSA and the
 * RNG only through it, so a replacement backend sees every operation. */
#include "t.h"

#include "crypto/backend.h"
#include "noise/selftest.h"

static unsigned n_keypair, n_check, n_enc, n_dec, n_sign, n_verify, n_random;

static int c_keypair(uint8_t *pk, uint8_t *sk, const uint8_t *coins)
{
	n_keypair++;
	return dv_crypto_software.kem_keypair(pk, sk, coins);
}
static int c_check(const uint8_t *pk)
{
	n_check++;
	return dv_crypto_software.kem_check_pk(pk);
}
static int c_enc(uint8_t *ct, uint8_t *ss, const uint8_t *pk, const uint8_t *m)
{
	n_enc++;
	return dv_crypto_software.kem_encaps(ct, ss, pk, m);
}
static int c_dec(uint8_t *ss, const uint8_t *ct, const uint8_t *sk)
{
	n_dec++;
	return dv_crypto_software.kem_decaps(ss, ct, sk);
}
static int c_sign(uint8_t *sig, const uint8_t *msg, size_t msglen, const uint8_t *ctx,
		  size_t ctxlen, const uint8_t *sk, const uint8_t *rnd)
{
	n_sign++;
	return dv_crypto_software.sign(sig, msg, msglen, ctx, ctxlen, sk, rnd);
}
static int c_verify(const uint8_t *sig, const uint8_t *msg, size_t msglen,
		    const uint8_t *ctx, size_t ctxlen, const uint8_t *pk)
{
	n_verify++;
	return dv_crypto_software.verify(sig, msg, msglen, ctx, ctxlen, pk);
}
static int bad_verify(const uint8_t *sig, const uint8_t *msg, size_t msglen,
		      const uint8_t *ctx, size_t ctxlen, const uint8_t *pk)
{
	return -1;
}
static void c_random(uint8_t *out, size_t len)
{
	n_random++;
	dv_crypto_software.random(out, len);
}

static struct dv_crypto_backend counting = {
	.name = "counting",
	.kem_keypair = c_keypair,
	.kem_check_pk = c_check,
	.kem_encaps = c_enc,
	.kem_decaps = c_dec,
	.sig_pk_from_sk = NULL, /* filled from the software backend below */
	.sign = c_sign,
	.verify = c_verify,
	.random = c_random,
};

static void test_default(void)
{
	T_CHECK(dv_crypto() == &dv_crypto_software);
	T_CHECK(strcmp(dv_crypto()->name, "software") == 0);
}

static void test_all_through_backend(void)
{
	static struct noise_selftest st;

	counting.sig_keypair = dv_crypto_software.sig_keypair;
	counting.sig_pk_from_sk = dv_crypto_software.sig_pk_from_sk;
	dv_crypto_set_backend(&counting);
	T_CHECK(noise_selftest_init(&st, DV_MODE_PQONLY) == 0);
	T_CHECK(noise_selftest_run(&st) == 0);
	T_CHECK(n_keypair == 1 && n_check == 1 && n_enc == 1 && n_dec == 1);
	T_CHECK(n_sign == 2 && n_verify == 2);
	T_CHECK(n_random > 0);

	/* A backend that rejects every signature stops the pqonly handshake. */
	counting.verify = bad_verify;
	T_CHECK(noise_selftest_run(&st) != 0);
	noise_selftest_clear(&st);

	dv_crypto_set_backend(NULL);
	T_CHECK(dv_crypto() == &dv_crypto_software);
	T_CHECK(noise_selftest_init(&st, DV_MODE_HYBRID) == 0);
	T_CHECK(noise_selftest_run(&st) == 0);
	T_CHECK(n_enc == 1); /* the counting backend is no longer used */
	noise_selftest_clear(&st);
}

int main(void)
{
	T_RUN(test_default);
	T_RUN(test_all_through_backend);
	return t_done();
}
