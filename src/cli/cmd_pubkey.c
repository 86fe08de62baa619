/* dybervpn pubkey: read a private key on stdin, print its public key.
 *
 * For an X25519 key it behaves as `wg pubkey`: base64 in, the base64 public
 * key and a newline out, "Key is not the correct length or format" on bad
 * input. An ML-DSA-65 key is told apart by its decoded length: 4032 bytes
 * is an expanded key; a 32-byte seed looks like an X25519 key, so --mldsa
 * says which it is. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "config/config.h"
#include "config/keys.h"
#include "crypto/mldsa.h"

/* The longest input: an expanded ML-DSA key in base64, with some room for
 * surrounding whitespace. */
#define PUBKEY_INPUT_MAX (DV_KEY_B64_SIZE(DV_MLDSA_SK_LEN) + 64)

static void pubkey_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn pubkey [--mldsa] < private-key\n\n"
		"Read a private key (base64) on stdin and print its public key.\n"
		"An X25519 key gives the same output as `wg pubkey`. An ML-DSA-65\n"
		"key (mldsa_private_key) gives its mldsa_public_key: the 32-byte seed\n"
		"needs --mldsa, since it has the length of an X25519 key; the\n"
		"expanded 4032-byte form is recognised by its length.\n\n"
		"  --mldsa     the input is an ML-DSA-65 seed\n"
		"  -h, --help  this help\n");
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f' || c == '\0';
}

/* Reads stdin into buf and trims surrounding whitespace; the key is the
 * remaining string. Returns its length, or -1 when the input is too long. */
static long read_key(char *buf, size_t cap)
{
	size_t n = fread(buf, 1, cap - 1, stdin), start = 0;

	if (n == cap - 1 && getc(stdin) != EOF)
		return -1;
	while (n && is_space(buf[n - 1]))
		n--;
	while (start < n && is_space(buf[start]))
		start++;
	memmove(buf, buf + start, n - start);
	buf[n - start] = '\0';
	return (long)(n - start);
}

static void print_key(const uint8_t *key, size_t len)
{
	char out[DV_KEY_B64_SIZE(DV_MLDSA_PK_LEN)];

	dv_key_encode(out, sizeof(out), key, len);
	puts(out);
}

int pubkey_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mldsa", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const size_t lens[] = { DV_X25519_KEY_LEN, DV_MLDSA_SK_LEN };
	struct {
		char text[PUBKEY_INPUT_MAX];
		uint8_t key[DV_MLDSA_SK_LEN];
		uint8_t sk[MLDSA65_SK_LEN];
	} *s;
	uint8_t pk[DV_MLDSA_PK_LEN];
	int c, mldsa = 0, r = 1;
	char why[128];
	size_t len;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			mldsa = 1;
			break;
		case 'h':
			pubkey_usage(stdout);
			return 0;
		default:
			pubkey_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		pubkey_usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "dybervpn pubkey: libsodium failed to initialise\n");
		return 1;
	}
	s = sodium_malloc(sizeof(*s));
	if (!s) {
		fprintf(stderr, "dybervpn pubkey: out of memory\n");
		return 1;
	}
	if (read_key(s->text, sizeof(s->text)) < 0 ||
	    dv_key_decode_lens(s->key, sizeof(s->key), &len, lens, 2, s->text,
			       why, sizeof(why))) {
		fprintf(stderr, "dybervpn pubkey: Key is not the correct length or format\n");
		goto out;
	}
	if (len == DV_X25519_KEY_LEN && !mldsa) {
		/* X25519(clamp(k), 9), as `wg pubkey` (RFC 7748, section 6.1). */
		if (crypto_scalarmult_base(pk, s->key)) {
			fprintf(stderr, "dybervpn pubkey: X25519 failed\n");
			goto out;
		}
		print_key(pk, DV_X25519_KEY_LEN);
		r = 0;
	} else if (len == DV_MLDSA_SEED_LEN) {
		/* FIPS 204, Algorithm 6: the seed determines the key pair. */
		if (mldsa65_keypair_from_seed(pk, s->sk, s->key)) {
			fprintf(stderr, "dybervpn pubkey: ML-DSA key generation failed\n");
			goto out;
		}
		print_key(pk, DV_MLDSA_PK_LEN);
		r = 0;
	} else {
		/* The expanded key (FIPS 204, Algorithm 24) holds rho, K, tr,
		 * s1, s2 and t0 but not t1: A*s1 + s2 is recomputed. */
		if (mldsa65_pk_from_sk(pk, s->key)) {
			fprintf(stderr, "dybervpn pubkey: not a valid ML-DSA-65 expanded key\n");
			goto out;
		}
		print_key(pk, DV_MLDSA_PK_LEN);
		r = 0;
	}
	if (!r && (fflush(stdout) || ferror(stdout))) {
		perror("dybervpn pubkey: stdout");
		r = 1;
	}
out:
	sodium_free(s); /* wipes it */
	return r;
}
