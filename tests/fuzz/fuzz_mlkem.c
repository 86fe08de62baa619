/* libFuzzer harness: the ML-KEM-768 calls that take bytes from a peer
 * (FIPS 203): an encapsulation key into Encaps, a ciphertext into Decaps.
 *   byte 0: bit 0 picks the target (0: ek, 1: ct); bit 1 starts from the
 *           valid ek / ct made at startup (else zeros); bit 2 overwrites
 *           instead of XORing the patch
 *   bytes 1-2: patch offset (little-endian, modulo the target's length)
 *   the rest: the patch, applied at that offset, wrapping around.
 * Checks: Encaps rejects ek exactly when mlkem768_check_pk does, and
 * exactly when a coefficient of ek is not below q (section 7.2, decoded
 * here independently), leaving ct and ss zeroed; Decaps with a fixed
 * valid dk always returns 0 and gives the startup key for the startup
 * ciphertext and J(z || c) = SHAKE256(z || c, 32) for any other one
 * (implicit rejection, Algorithm 18 lines 7-11: every ct byte is
 * compared on re-encryption). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/keccak.h"
#include "crypto/mlkem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MLKEM_Q 3329

static uint8_t ref_pk[MLKEM768_PK_LEN], ref_sk[MLKEM768_SK_LEN];
static uint8_t ref_ct[MLKEM768_CT_LEN], ref_ss[MLKEM768_SS_LEN];
static const uint8_t coins_m[MLKEM768_ENC_COINS_LEN] = { 1, 2, 3, 4 };
static int ready;

static void setup(void)
{
	uint8_t coins[MLKEM768_KEYGEN_COINS_LEN];

	for (size_t i = 0; i < sizeof(coins); i++)
		coins[i] = (uint8_t)(i * 3 + 5);
	if (mlkem768_keypair_derand(ref_pk, ref_sk, coins) ||
	    mlkem768_enc_derand(ref_ct, ref_ss, ref_pk, coins_m))
		abort();
	ready = 1;
}

/* 1 if every 12-bit coefficient of the 3 * 256 packed in ek is < q. */
static int ek_canonical(const uint8_t *ek)
{
	for (size_t i = 0; i < 3 * 384; i += 3) {
		unsigned a = ek[i] | (ek[i + 1] & 0xfu) << 8;
		unsigned b = ek[i + 1] >> 4 | (unsigned)ek[i + 2] << 4;

		if (a >= MLKEM_Q || b >= MLKEM_Q)
			return 0;
	}
	return 1;
}

static int all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= p[i];
	return !acc;
}

static void fuzz_ek(const uint8_t *ek)
{
	uint8_t *ct = malloc(MLKEM768_CT_LEN), *ss = malloc(MLKEM768_SS_LEN);
	int r, c, ok;

	if (!ct || !ss)
		abort();
	r = mlkem768_enc_derand(ct, ss, ek, coins_m);
	c = mlkem768_check_pk(ek);
	ok = ek_canonical(ek);
	if ((r == 0) != (c == 0) || (r == 0) != ok)
		abort();
	if (r && (!all_zero(ct, MLKEM768_CT_LEN) || !all_zero(ss, MLKEM768_SS_LEN)))
		abort();
	free(ct);
	free(ss);
}

static void fuzz_ct(const uint8_t *ct)
{
	uint8_t *ss = malloc(MLKEM768_SS_LEN), want[MLKEM768_SS_LEN];
	struct keccak_state st;

	if (!ss)
		abort();
	if (mlkem768_dec(ss, ct, ref_sk))
		abort();
	if (!memcmp(ct, ref_ct, MLKEM768_CT_LEN)) {
		memcpy(want, ref_ss, sizeof(want));
	} else {
		shake256_init(&st);
		keccak_absorb(&st, ref_sk + MLKEM768_SK_LEN - 32, 32);
		keccak_absorb(&st, ct, MLKEM768_CT_LEN);
		keccak_finalize(&st);
		keccak_squeeze(&st, want, sizeof(want));
	}
	if (memcmp(ss, want, sizeof(want)))
		abort();
	free(ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len, off;
	const uint8_t *base;
	uint8_t *b;

	if (!ready)
		setup();
	if (size < 3)
		return 0;
	len = (data[0] & 1) ? MLKEM768_CT_LEN : MLKEM768_PK_LEN;
	base = (data[0] & 1) ? ref_ct : ref_pk;
	b = malloc(len);
	if (!b)
		abort();
	if (data[0] & 2)
		memcpy(b, base, len);
	else
		memset(b, 0, len);
	off = (size_t)(data[1] | data[2] << 8) % len;
	for (size_t i = 3; i < size; i++, off = (off + 1) % len)
		b[off] = (data[0] & 4) ? data[i] : b[off] ^ data[i];
	if (data[0] & 1)
		fuzz_ct(b);
	else
		fuzz_ek(b);
	free(b);
	return 0;
}
