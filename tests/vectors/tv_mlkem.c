/* ML-KEM-768 vectors (FIPS 203): ACVP keyGen / encapDecap / key checks and
 * the Wycheproof ML-KEM files. Records are told apart by their fields, so
 * any file in the record format of tests/data/README.md works:
 *   function                     -> key check (section 7.2 or 7.3)
 *   m                            -> Encaps_internal(ek, m) [+ Decaps(dk, c)]
 *   c                            -> Decaps(dk, c), dk given or from the seed
 *   otherwise                    -> KeyGen_internal(d, z) or (seed)
 * A key is given as seed (64 bytes d || z), as d and z, or expanded (dk);
 * keyFormat, when present, says which. `result = invalid` records must be
 * refused: a field of the wrong length is refused here, as any caller of
 * the fixed-size API must; everything else must be refused by the code. */
#include "vectors/tv.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/mlkem.h"

struct tv_kem_field {
	uint8_t *p;
	size_t n;
	int present;
};

struct tv_kem {
	const struct tv_rec *r;
	char *msg;
	size_t msglen;
	int expect_valid;
	struct tv_kem_field seed, d, z, ek, dk, m, c, k;
};

static int tv_kem_fail(struct tv_kem *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, t->msglen, fmt, ap);
	va_end(ap);
	return 1;
}

/* -1 when present but not hex. */
static int tv_kem_field(const struct tv_rec *r, const char *key, struct tv_kem_field *f)
{
	f->present = tv_get(r, key) != NULL;
	if (!f->present)
		return 0;
	return tv_hex(r, key, &f->p, &f->n);
}

static int tv_kem_len_ok(const struct tv_kem_field *f, size_t n)
{
	return f->present && f->n == n;
}

/* Outcome of a record whose operation was refused (by a length check or
 * by the code): right only when the record is invalid. */
static int tv_kem_refused(struct tv_kem *t, const char *what)
{
	if (t->expect_valid)
		return tv_kem_fail(t, "valid record refused: %s", what);
	return 0;
}

static int tv_kem_cmp(struct tv_kem *t, const char *name, const struct tv_kem_field *want,
		      const uint8_t *got, size_t n)
{
	if (!want->present || want->n == 0)
		return 0; /* nothing given to compare */
	if (want->n != n || memcmp(want->p, got, n))
		return tv_kem_fail(t, "%s differs", name);
	return 0;
}

/* KeyGen_internal from seed or (d, z). Returns 1 when refused (length). */
static int tv_kem_keygen_from(struct tv_kem *t, uint8_t pk[MLKEM768_PK_LEN],
			      uint8_t sk[MLKEM768_SK_LEN])
{
	uint8_t coins[MLKEM768_KEYGEN_COINS_LEN];

	if (t->seed.present) {
		if (!tv_kem_len_ok(&t->seed, sizeof(coins)))
			return 1;
		memcpy(coins, t->seed.p, sizeof(coins));
	} else {
		if (!tv_kem_len_ok(&t->d, 32) || !tv_kem_len_ok(&t->z, 32))
			return 1;
		memcpy(coins, t->d.p, 32);
		memcpy(coins + 32, t->z.p, 32);
	}
	return mlkem768_keypair_derand(pk, sk, coins) ? 1 : 0;
}

static int tv_kem_keygen(struct tv_kem *t)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN];

	if (tv_kem_keygen_from(t, pk, sk))
		return tv_kem_refused(t, "seed length");
	if (!t->expect_valid)
		return tv_kem_fail(t, "invalid record accepted");
	if (!t->ek.present || !t->dk.present)
		return tv_kem_fail(t, "record lacks ek or dk");
	return tv_kem_cmp(t, "ek", &t->ek, pk, sizeof(pk)) ||
	       tv_kem_cmp(t, "dk", &t->dk, sk, sizeof(sk));
}

static int tv_kem_check(struct tv_kem *t)
{
	const char *fn = tv_get(t->r, "function");
	int bad;

	if (!strcmp(fn, "encapsulationKeyCheck")) {
		if (!tv_kem_len_ok(&t->ek, MLKEM768_PK_LEN))
			return tv_kem_refused(t, "ek length");
		bad = mlkem768_check_pk(t->ek.p);
	} else if (!strcmp(fn, "decapsulationKeyCheck")) {
		if (!tv_kem_len_ok(&t->dk, MLKEM768_SK_LEN))
			return tv_kem_refused(t, "dk length");
		bad = mlkem768_check_sk(t->dk.p);
	} else {
		return tv_kem_fail(t, "unknown function %s", fn);
	}
	if (bad)
		return tv_kem_refused(t, "key check failed");
	return t->expect_valid ? 0 : tv_kem_fail(t, "invalid key passed the check");
}

/* Decaps(dk, c) == k where dk is valid. */
static int tv_kem_dec_expect(struct tv_kem *t, const uint8_t *sk, const uint8_t *c)
{
	uint8_t ss[MLKEM768_SS_LEN];

	if (mlkem768_dec(ss, c, sk))
		return tv_kem_fail(t, "dec refused the dk");
	return tv_kem_cmp(t, "k (decaps)", &t->k, ss, sizeof(ss));
}

static int tv_kem_encaps(struct tv_kem *t)
{
	uint8_t ct[MLKEM768_CT_LEN], ss[MLKEM768_SS_LEN];

	if (!tv_kem_len_ok(&t->ek, MLKEM768_PK_LEN))
		return tv_kem_refused(t, "ek length");
	if (!tv_kem_len_ok(&t->m, MLKEM768_ENC_COINS_LEN))
		return tv_kem_refused(t, "m length");
	if (mlkem768_enc_derand(ct, ss, t->ek.p, t->m.p)) {
		static const uint8_t zero[MLKEM768_CT_LEN];

		if (memcmp(ct, zero, sizeof(ct)) || memcmp(ss, zero, sizeof(ss)))
			return tv_kem_fail(t, "outputs not zeroed on refusal");
		return tv_kem_refused(t, "ek modulus check");
	}
	if (!t->expect_valid)
		return tv_kem_fail(t, "invalid ek accepted");
	if (!t->c.present || !t->k.present)
		return tv_kem_fail(t, "record lacks c or k");
	if (tv_kem_cmp(t, "c", &t->c, ct, sizeof(ct)) ||
	    tv_kem_cmp(t, "k", &t->k, ss, sizeof(ss)))
		return 1;
	if (t->dk.present) {
		if (!tv_kem_len_ok(&t->dk, MLKEM768_SK_LEN))
			return tv_kem_fail(t, "dk length");
		return tv_kem_dec_expect(t, t->dk.p, ct);
	}
	return 0;
}

static int tv_kem_decaps(struct tv_kem *t)
{
	uint8_t pk[MLKEM768_PK_LEN], sk[MLKEM768_SK_LEN], ss[MLKEM768_SS_LEN];
	const char *fmt = tv_get(t->r, "keyFormat");
	int from_seed = fmt ? !strcmp(fmt, "seed") : !t->dk.present;

	if (from_seed) {
		if (tv_kem_keygen_from(t, pk, sk))
			return tv_kem_refused(t, "seed length");
		if (tv_kem_cmp(t, "ek", &t->ek, pk, sizeof(pk)) ||
		    tv_kem_cmp(t, "dk", &t->dk, sk, sizeof(sk)))
			return 1;
	} else {
		if (!tv_kem_len_ok(&t->dk, MLKEM768_SK_LEN))
			return tv_kem_refused(t, "dk length");
		memcpy(sk, t->dk.p, sizeof(sk));
	}
	if (!tv_kem_len_ok(&t->c, MLKEM768_CT_LEN))
		return tv_kem_refused(t, "c length");
	if (mlkem768_dec(ss, t->c.p, sk)) {
		static const uint8_t zero[MLKEM768_SS_LEN];

		if (memcmp(ss, zero, sizeof(ss)))
			return tv_kem_fail(t, "ss not zeroed on refusal");
		return tv_kem_refused(t, "dk hash check");
	}
	if (!t->expect_valid)
		return tv_kem_fail(t, "invalid record accepted");
	if (!t->k.present || t->k.n == 0)
		return tv_kem_fail(t, "record lacks k");
	return tv_kem_cmp(t, "k", &t->k, ss, sizeof(ss));
}

int tv_mlkem(const struct tv_rec *r, char *msg, size_t msglen)
{
	struct tv_kem t = { .r = r, .msg = msg, .msglen = msglen };
	struct tv_kem_field *fields[] = { &t.seed, &t.d, &t.z, &t.ek, &t.dk, &t.m, &t.c, &t.k };
	static const char *const names[] = { "seed", "d", "z", "ek", "dk", "m", "c", "k" };
	const char *result = tv_get(r, "result");
	int ret;

	if (result && strcmp(result, "valid") && strcmp(result, "invalid")) {
		snprintf(msg, msglen, "unknown result %s", result);
		return 1;
	}
	t.expect_valid = !result || !strcmp(result, "valid");
	ret = 0;
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		if (tv_kem_field(r, names[i], fields[i]))
			ret = tv_kem_fail(&t, "field %s is not hex", names[i]);
	if (!ret) {
		if (tv_get(r, "function"))
			ret = tv_kem_check(&t);
		else if (t.m.present)
			ret = tv_kem_encaps(&t);
		else if (t.c.present)
			ret = tv_kem_decaps(&t);
		else
			ret = tv_kem_keygen(&t);
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
		free(fields[i]->p);
	return ret;
}
