/* dybervpn genkey: a new key pair, printed as config lines to paste.
 *
 * The X25519 key is `wg genkey` / `wg pubkey` exactly: 32 random bytes,
 * clamped (RFC 7748, decodeScalar25519), standard base64. pqonly adds an
 * ML-DSA-65 key pair, kept as its 32-byte seed xi (FIPS 204, Algorithm 6:
 * KeyGen_internal expands it); docs/PROTOCOL.md §14. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config/config.h"
#include "config/keys.h"
#include "crypto/mldsa.h"
#include "protocol.h"

static void genkey_usage(FILE *f)
{
	fprintf(f,
		"Usage: dybervpn genkey [-m classic|hybrid|pqonly]\n\n"
		"Generate this machine's keys and print them as config lines:\n"
		"private_key (and, in pqonly mode, mldsa_private_key) go in this\n"
		"machine's [interface]; public_key (and mldsa_public_key) go in the\n"
		"[[peer]] that describes this machine in the other side's config.\n"
		"classic and hybrid use the same X25519 key (hybrid's ML-KEM key is\n"
		"ephemeral); pqonly adds an ML-DSA-65 key pair.\n\n"
		"  -m, --mode MODE  classic, hybrid (the default) or pqonly\n"
		"  -h, --help       this help\n");
}

/* Like `wg genkey`: a private key written to a file others can read is
 * worth a warning. */
static void warn_if_exposed(void)
{
	struct stat st;

	if (!fstat(STDOUT_FILENO, &st) && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fprintf(stderr, "dybervpn genkey: warning: writing a private key "
				"to a world-accessible file\n");
}

/* The keys of one machine, and their text. */
struct genkey {
	uint8_t priv[DV_X25519_KEY_LEN], pub[DV_X25519_KEY_LEN];
	uint8_t seed[DV_MLDSA_SEED_LEN], sk[MLDSA65_SK_LEN], pk[MLDSA65_PK_LEN];
	char priv64[DV_KEY_B64_SIZE(DV_X25519_KEY_LEN)];
	char pub64[DV_KEY_B64_SIZE(DV_X25519_KEY_LEN)];
	char seed64[DV_KEY_B64_SIZE(DV_MLDSA_SEED_LEN)];
	char pk64[DV_KEY_B64_SIZE(MLDSA65_PK_LEN)];
};

static int generate(struct genkey *k, int with_mldsa)
{
	randombytes_buf(k->priv, sizeof(k->priv));
	k->priv[0] &= 248; /* RFC 7748, section 5: decodeScalar25519 */
	k->priv[31] &= 127;
	k->priv[31] |= 64;
	if (crypto_scalarmult_base(k->pub, k->priv)) {
		fprintf(stderr, "dybervpn genkey: X25519 failed\n");
		return -1;
	}
	dv_key_encode(k->priv64, sizeof(k->priv64), k->priv, sizeof(k->priv));
	dv_key_encode(k->pub64, sizeof(k->pub64), k->pub, sizeof(k->pub));
	if (!with_mldsa)
		return 0;
	randombytes_buf(k->seed, sizeof(k->seed));
	if (mldsa65_keypair_from_seed(k->pk, k->sk, k->seed)) {
		fprintf(stderr, "dybervpn genkey: ML-DSA key generation failed\n");
		return -1;
	}
	dv_key_encode(k->seed64, sizeof(k->seed64), k->seed, sizeof(k->seed));
	dv_key_encode(k->pk64, sizeof(k->pk64), k->pk, sizeof(k->pk));
	return 0;
}

int genkey_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum dv_mode mode = DV_MODE_DEFAULT;
	struct genkey *k;
	int c, r = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (dv_mode_parse(optarg, &mode)) {
				fprintf(stderr, "dybervpn genkey: unknown mode '%s'\n",
					optarg);
				genkey_usage(stderr);
				return 2;
			}
			break;
		case 'h':
			genkey_usage(stdout);
			return 0;
		default:
			genkey_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		genkey_usage(stderr);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "dybervpn genkey: libsodium failed to initialise\n");
		return 1;
	}
	warn_if_exposed();

	k = sodium_malloc(sizeof(*k));
	if (!k) {
		fprintf(stderr, "dybervpn genkey: out of memory\n");
		return 1;
	}
	if (generate(k, dv_mode_needs_mldsa(mode))) {
		r = 1;
		goto out;
	}
	printf("# dybervpn genkey -m %s\n", dv_mode_name(mode));
	printf("# in this machine's [interface]:\n");
	printf("private_key = \"%s\"\n", k->priv64);
	if (dv_mode_needs_mldsa(mode))
		printf("mldsa_private_key = \"%s\"\n", k->seed64);
	printf("# in the [[peer]] for this machine in the other side's config:\n");
	printf("public_key = \"%s\"\n", k->pub64);
	if (dv_mode_needs_mldsa(mode))
		printf("mldsa_public_key = \"%s\"\n", k->pk64);
	if (fflush(stdout) || ferror(stdout)) {
		perror("dybervpn genkey: stdout");
		r = 1;
	}
out:
	sodium_free(k); /* wipes it */
	return r;
}
