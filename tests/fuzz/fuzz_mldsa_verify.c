/* libFuzzer harness: ML-DSA-65 verification (FIPS 204, Algorithm 3) of
 * signatures and public keys that come from a peer. The input builds the
 * tuple (sig, pk, ctx, msg) in one buffer B = sig || pk || ctx || msg:
 *   byte 0: flags; bit 0 starts B from a valid tuple signed at startup
 *           (else from zeros), bit 1 overwrites instead of XORing the
 *           patch, bit 2 adds 256 to the context length (always an error)
 *   byte 1: context length, byte 2: message length (each up to 255)
 *   bytes 3-4: patch offset into B (little-endian, taken modulo |B|)
 *   the rest: the patch, applied at that offset, wrapping around.
 * Each part is handed over in a heap block of exactly its length, so any
 * read beyond it is caught. The check: the signature is accepted if and
 * only if the tuple is the one signed at startup. Every byte of an
 * ML-DSA-65 signature and key is significant (z and t1 fill their bit
 * fields, the hint encoding is strict, pk enters tr = H(pk)), so any
 * other tuple being accepted is a forgery or a malleable encoding. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mldsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFF_PK MLDSA65_SIG_LEN
#define OFF_CTX (OFF_PK + MLDSA65_PK_LEN)
#define OFF_MSG (OFF_CTX + MLDSA65_CTX_MAX)
#define B_LEN (OFF_MSG + 255)
#define REF_CTXLEN 8
#define REF_MSGLEN 32

static uint8_t ref[B_LEN];
static int ready;

static void setup(void)
{
	static uint8_t sk[MLDSA65_SK_LEN];
	uint8_t xi[MLDSA65_SEED_LEN], rnd[MLDSA65_RND_LEN] = { 0 };

	for (size_t i = 0; i < sizeof(xi); i++)
		xi[i] = (uint8_t)(0xa5 ^ i);
	for (size_t i = 0; i < MLDSA65_CTX_MAX + 255; i++)
		ref[OFF_CTX + i] = (uint8_t)(i * 7 + 1);
	if (mldsa65_keypair_from_seed(ref + OFF_PK, sk, xi) ||
	    mldsa65_sign(ref, ref + OFF_MSG, REF_MSGLEN, ref + OFF_CTX, REF_CTXLEN, sk, rnd) ||
	    mldsa65_verify(ref, ref + OFF_MSG, REF_MSGLEN, ref + OFF_CTX, REF_CTXLEN,
			   ref + OFF_PK))
		abort();
	ready = 1;
}

static uint8_t *dup_exact(const uint8_t *p, size_t len, size_t have)
{
	uint8_t *q = malloc(len ? len : 1);

	if (!q)
		abort();
	memset(q, 0, len);
	memcpy(q, p, len < have ? len : have);
	return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t b[B_LEN];
	uint8_t *sig, *pk, *ctx, *msg;
	size_t ctxlen, msglen, off, same;
	int r;

	if (!ready)
		setup();
	if (size < 5)
		return 0;
	if (data[0] & 1)
		memcpy(b, ref, B_LEN);
	else
		memset(b, 0, B_LEN);
	ctxlen = data[1] + ((data[0] & 4) ? 256u : 0u);
	msglen = data[2];
	off = (size_t)(data[3] | data[4] << 8) % B_LEN;
	for (size_t i = 5; i < size; i++, off = (off + 1) % B_LEN)
		b[off] = (data[0] & 2) ? data[i] : b[off] ^ data[i];

	sig = dup_exact(b, MLDSA65_SIG_LEN, MLDSA65_SIG_LEN);
	pk = dup_exact(b + OFF_PK, MLDSA65_PK_LEN, MLDSA65_PK_LEN);
	ctx = dup_exact(b + OFF_CTX, ctxlen, MLDSA65_CTX_MAX);
	msg = dup_exact(b + OFF_MSG, msglen, 255);
	r = mldsa65_verify(sig, msg, msglen, ctx, ctxlen, pk);

	same = ctxlen == REF_CTXLEN && msglen == REF_MSGLEN &&
	       !memcmp(b, ref, OFF_CTX + REF_CTXLEN) &&
	       !memcmp(b + OFF_MSG, ref + OFF_MSG, REF_MSGLEN);
	if ((r == 0) != !!same)
		abort();
	free(sig);
	free(pk);
	free(ctx);
	free(msg);
	return 0;
}
