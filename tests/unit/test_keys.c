/* Keys in their text form (src/config/keys.h), and the key subcommands of
 * the CLI built beside this test (BUILD/dybervpn, found from argv[0]):
 * genkey's lines form a config that loads, pubkey agrees with RFC 7748 and
 * with genkey, check never prints a key. */
#include "config/config.h"
#include "config/keys.h"
#include "crypto/mldsa.h"
#include "t.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

static void test_decode(void)
{
	static const size_t lens[] = { 32, 4032 };
	uint8_t k[4032], zero[32] = { 0 };
	char err[128], b64[DV_KEY_B64_SIZE(32)];
	size_t got = 0;

	for (unsigned i = 0; i < 32; i++)
		k[i] = (uint8_t)i;
	dv_key_encode(b64, sizeof(b64), k, 32);
	T_CHECK(!strcmp(b64, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="));
	T_CHECK(dv_key_decode(k, 32, b64, err, sizeof(err)) == 0);
	T_CHECK(k[0] == 0 && k[31] == 31);

	T_CHECK(dv_key_b64_decoded_len("AAAA", 4) == 3);
	T_CHECK(dv_key_b64_decoded_len("AAA=", 4) == 2);
	T_CHECK(dv_key_b64_decoded_len("AA==", 4) == 1);
	T_CHECK(dv_key_b64_decoded_len("AAA", 3) == -1);
	T_CHECK(dv_key_b64_decoded_len("", 0) == -1);

	/* Wrong length, bad characters, missing padding, non-canonical
	 * trailing bits, whitespace: all refused, the output zeroed. */
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", err,
			      sizeof(err)) == -1);
	T_CHECK(strstr(err, "not a multiple of 4") != NULL);
	T_EQ_MEM(k, zero, 32);
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8A", err,
			      sizeof(err)) == -1);
	T_CHECK(strstr(err, "decodes to 33 bytes, expected 32") != NULL);
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh*=", err,
			      sizeof(err)) == -1);
	T_CHECK(strstr(err, "not valid base64") != NULL);
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", err,
			      sizeof(err)) == -1);
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd Hh8=", err,
			      sizeof(err)) == -1);
	T_CHECK(dv_key_decode(k, 32, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n", err,
			      sizeof(err)) == -1);

	T_CHECK(dv_key_decode_lens(k, sizeof(k), &got, lens, 2, b64, err,
				   sizeof(err)) == 0 && got == 32);
	T_CHECK(dv_key_decode_lens(k, sizeof(k), &got, lens, 2, "AAAA", err,
				   sizeof(err)) == -1);
	T_CHECK(strstr(err, "decodes to 3 bytes, expected 32 or 4032") != NULL);
}

/* ---- the CLI ---- */

static char g_cli[4096];

/* Runs a shell command; returns its exit status and its stdout in out. */
static int sh(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	FILE *p;
	size_t n;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The value of `key = "..."` in genkey's output. */
static int field(const char *text, const char *key, char *out, size_t outlen)
{
	char pat[64];
	const char *p, *e;

	snprintf(pat, sizeof(pat), "\n%s = \"", key);
	p = strstr(text, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e || (size_t)(e - p) >= outlen)
		return -1;
	memcpy(out, p, (size_t)(e - p));
	out[e - p] = '\0';
	return 0;
}

static void test_pubkey(void)
{
	static char out[8192];

	/* RFC 7748, section 6.1: Alice's key pair. */
	T_CHECK(sh(out, sizeof(out), "printf 'dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\\n' | %s pubkey",
		   g_cli) == 0);
	T_CHECK(!strcmp(out, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"));
	/* No newline, surrounding whitespace: the same. */
	T_CHECK(sh(out, sizeof(out), "printf ' dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=' | %s pubkey",
		   g_cli) == 0);
	T_CHECK(!strcmp(out, "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=\n"));
	T_CHECK(sh(out, sizeof(out), "echo garbage | %s pubkey 2>/dev/null", g_cli) == 1);
	T_CHECK(out[0] == '\0');
	T_CHECK(sh(out, sizeof(out), "%s pubkey extra </dev/null 2>/dev/null", g_cli) == 2);
	T_CHECK(sh(out, sizeof(out), "%s pubkey --help", g_cli) == 0);
	T_CHECK(strstr(out, "Usage: dybervpn pubkey") == out);
}

static void test_genkey(void)
{
	static char out[8192], out2[8192], got[8192], text[16384], mpk[4096];
	char priv[64], pub[64], seed[64], priv2[64], pub2[64];
	struct dv_config c;
	char err[512];
	int n;

	T_CHECK(sh(out, sizeof(out), "%s genkey -m pqonly 2>/dev/null", g_cli) == 0);
	T_CHECK(field(out, "private_key", priv, sizeof(priv)) == 0);
	T_CHECK(field(out, "public_key", pub, sizeof(pub)) == 0);
	T_CHECK(field(out, "mldsa_private_key", seed, sizeof(seed)) == 0);
	T_CHECK(field(out, "mldsa_public_key", mpk, sizeof(mpk)) == 0);
	T_CHECK(strlen(priv) == 44 && strlen(seed) == 44 && strlen(mpk) == 2604);

	/* pubkey gives back both public keys. */
	T_CHECK(sh(got, sizeof(got), "printf '%%s' '%s' | %s pubkey", priv, g_cli) == 0);
	T_CHECK(!strncmp(got, pub, strlen(pub)) && got[strlen(pub)] == '\n');
	T_CHECK(sh(got, sizeof(got), "printf '%%s' '%s' | %s pubkey --mldsa", seed,
		   g_cli) == 0);
	T_CHECK(!strncmp(got, mpk, strlen(mpk)));

	/* The expanded form of the same key gives the same public key; a
	 * corrupted expanded key is refused. */
	{
		static uint8_t xi[32], epk[MLDSA65_PK_LEN], esk[MLDSA65_SK_LEN];
		static char esk64[6000];
		size_t xl;

		T_CHECK(sodium_base642bin(xi, sizeof(xi), seed, strlen(seed), NULL, &xl,
					  NULL, sodium_base64_VARIANT_ORIGINAL) == 0 && xl == 32);
		T_CHECK(mldsa65_keypair_from_seed(epk, esk, xi) == 0);
		sodium_bin2base64(esk64, sizeof(esk64), esk, sizeof(esk),
				  sodium_base64_VARIANT_ORIGINAL);
		T_CHECK(sh(got, sizeof(got), "printf '%%s' '%s' | %s pubkey", esk64, g_cli) == 0);
		T_CHECK(!strncmp(got, mpk, strlen(mpk)));
		esk[MLDSA65_SK_LEN - 1] ^= 1;
		sodium_bin2base64(esk64, sizeof(esk64), esk, sizeof(esk),
				  sodium_base64_VARIANT_ORIGINAL);
		T_CHECK(sh(got, sizeof(got), "printf '%%s' '%s' | %s pubkey 2>/dev/null",
			   esk64, g_cli) == 1);
		sodium_memzero(esk, sizeof(esk));
	}

	/* Two machines' genkey lines make two configs that load. */
	T_CHECK(sh(out2, sizeof(out2), "%s genkey -m pqonly 2>/dev/null", g_cli) == 0);
	T_CHECK(field(out2, "private_key", priv2, sizeof(priv2)) == 0);
	T_CHECK(field(out2, "public_key", pub2, sizeof(pub2)) == 0);
	n = snprintf(text, sizeof(text),
		     "[interface]\nmode = \"pqonly\"\nprivate_key = \"%s\"\n"
		     "mldsa_private_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
		     "mldsa_public_key = \"%s\"\n", priv2, seed, pub, mpk);
	T_CHECK(dv_config_parse("genkey.toml", text, (size_t)n, &c, err,
				sizeof(err), NULL, NULL) == 0);
	dv_config_free(&c);

	/* classic and hybrid: no ML-DSA lines. */
	T_CHECK(sh(out, sizeof(out), "%s genkey 2>/dev/null", g_cli) == 0);
	T_CHECK(strstr(out, "# dybervpn genkey -m hybrid\n") == out);
	T_CHECK(strstr(out, "mldsa") == NULL);
	T_CHECK(sh(out, sizeof(out), "%s genkey -m classic 2>/dev/null", g_cli) == 0);
	T_CHECK(strstr(out, "mldsa") == NULL && strstr(out, "private_key = \""));
	T_CHECK(sh(out, sizeof(out), "%s genkey -m pq 2>/dev/null", g_cli) == 2);
	T_CHECK(sh(out, sizeof(out), "%s genkey -h", g_cli) == 0);
	T_CHECK(strstr(out, "Usage: dybervpn genkey") == out);
}

static void test_check(void)
{
	static char out[16384], keys[8192], text[16384];
	char priv[64], pub[64], seed[64], tmp[] = "/tmp/dybervpn-check-XXXXXX";
	FILE *f;
	int fd;

	T_CHECK(sh(keys, sizeof(keys), "%s genkey -m pqonly 2>/dev/null", g_cli) == 0);
	T_CHECK(field(keys, "private_key", priv, sizeof(priv)) == 0);
	T_CHECK(field(keys, "mldsa_private_key", seed, sizeof(seed)) == 0);
	/* The peer: another machine. */
	T_CHECK(sh(keys, sizeof(keys), "%s genkey 2>/dev/null", g_cli) == 0);
	T_CHECK(field(keys, "public_key", pub, sizeof(pub)) == 0);
	fd = mkstemp(tmp);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	T_CHECK(f != NULL);
	if (!f)
		return;
	snprintf(text, sizeof(text),
		 "[interface]\nname = \"dvchk0\"\nmode = \"pqonly\"\n"
		 "address = \"10.9.0.1/24\"\nprivate_key = \"%s\"\n"
		 "mldsa_private_key = \"%s\"\n[[peer]]\nname = \"bob\"\n"
		 "mode = \"hybrid\"\npublic_key = \"%s\"\npreshared_key = \"%s\"\n"
		 "allowed_ips = \"10.9.0.2/32\"\nendpoint = \"127.0.0.1:5\"\n",
		 priv, seed, pub, priv);
	fputs(text, f);
	fclose(f);

	T_CHECK(sh(out, sizeof(out), "%s check -c %s 2>&1", g_cli, tmp) == 0);
	T_CHECK(strstr(out, "valid") && strstr(out, "interface dvchk0"));
	T_CHECK(strstr(out, "mode: pqonly") && strstr(out, "10.9.0.1/24"));
	T_CHECK(strstr(out, "peer 1 (line 7) \"bob\"") != NULL);
	T_CHECK(strstr(out, "mode: hybrid (its own)") != NULL);
	T_CHECK(strstr(out, "endpoint: 127.0.0.1:5") != NULL);
	/* No key, private or public, in any form. */
	T_CHECK(!strstr(out, priv) && !strstr(out, pub) && !strstr(out, seed));

	f = fopen(tmp, "a");
	if (f) {
		fputs("colour = 1\n", f);
		fclose(f);
	}
	T_CHECK(sh(out, sizeof(out), "%s check -c %s 2>&1", g_cli, tmp) == 1);
	T_CHECK(strstr(out, ":14: key 'colour': unknown key in [[peer]]") != NULL);
	T_CHECK(!strstr(out, priv) && !strstr(out, seed));
	T_CHECK(sh(out, sizeof(out), "%s check 2>/dev/null", g_cli) == 2);
	T_CHECK(sh(out, sizeof(out), "%s check --help", g_cli) == 0);
	unlink(tmp);
}

int main(int argc, char **argv)
{
	char *slash;

	if (sodium_init() < 0)
		return 1;
	T_RUN(test_decode);

	/* argv[0] is BUILD/tests/test_keys; the CLI is BUILD/dybervpn. */
	snprintf(g_cli, sizeof(g_cli), "%s", argv[0]);
	slash = strrchr(g_cli, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(g_cli, '/');
	if (slash)
		slash[1] = '\0';
	else
		g_cli[0] = '\0';
	strncat(g_cli, "dybervpn", sizeof(g_cli) - strlen(g_cli) - 1);
	if (access(g_cli, X_OK)) {
		fprintf(stderr, "%s not built: CLI tests skipped\n", g_cli);
		T_CHECK(!"the CLI exists beside the tests");
		return t_done();
	}
	T_RUN(test_pubkey);
	T_RUN(test_genkey);
	T_RUN(test_check);
	return t_done();
}
