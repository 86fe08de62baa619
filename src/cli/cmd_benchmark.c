/* dybervpn benchmark: median times, on one core, of a full handshake in
 * each mode and of the crypto operations under it, each with its ratio to a
 * reference measured in the same run (classic handshake, X25519), and of
 * handshake fragments against the same message whole. */
#include "cli/cli.h"
#include "cli/bench_datapath.h"
#include "crypto/aead.h"
#include "crypto/classic.h"
#include "crypto/keccak.h"
#include "crypto/mldsa.h"
#include "crypto/mlkem.h"
#include "device/fragment.h"
#include "noise/cookie.h"
#include "noise/selftest.h"
#include "protocol.h"

#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_ITERS 100000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Everything one operation needs, prepared outside the timed call. */
static struct {
	uint8_t x_priv[32], x_pub[32], x_out[32];
	uint8_t kem_pk[MLKEM768_PK_LEN], kem_sk[MLKEM768_SK_LEN];
	uint8_t kem_ct[MLKEM768_CT_LEN], kem_ss[MLKEM768_SS_LEN], coins[64];
	uint8_t dsa_pk[MLDSA65_PK_LEN], dsa_sk[MLDSA65_SK_LEN];
	uint8_t sig[MLDSA65_SIG_LEN], msg[32], rnd[32];
	uint8_t pkt[1420 + DV_AEAD_TAG_LEN], key[32];
	uint8_t shake_out[4096];
	int rc;
} b;

static void op_x25519(void) { b.rc |= dv_x25519(b.x_out, b.x_priv, b.x_pub); }
static void op_kem_keygen(void) { b.rc |= mlkem768_keypair_derand(b.kem_pk, b.kem_sk, b.coins); }
static void op_kem_enc(void) { b.rc |= mlkem768_enc_derand(b.kem_ct, b.kem_ss, b.kem_pk, b.coins); }
static void op_kem_dec(void) { b.rc |= mlkem768_dec(b.kem_ss, b.kem_ct, b.kem_sk); }
static void op_dsa_keygen(void) { b.rc |= mldsa65_keypair_from_seed(b.dsa_pk, b.dsa_sk, b.coins); }
static void op_dsa_sign(void)
{
	b.msg[0]++; /* a new message each time: the rejection loop varies */
	b.rc |= mldsa65_sign(b.sig, b.msg, sizeof(b.msg), NULL, 0, b.dsa_sk, b.rnd);
}
static void op_dsa_verify(void) { b.rc |= mldsa65_verify(b.sig, b.msg, sizeof(b.msg), NULL, 0, b.dsa_pk); }
static void op_shake(void) { shake128(b.shake_out, sizeof(b.shake_out), b.msg, sizeof(b.msg)); }
static void op_aead(void) { b.rc |= dv_aead_seal(b.pkt, b.pkt, 1420, NULL, 0, 1, b.key); }
static struct noise_selftest hs[DV_MODE_COUNT];
static enum dv_mode hs_mode; /* the mode op_hs runs */
static void op_hs(void) { b.rc |= noise_selftest_run(&hs[hs_mode]); }

/* Handshake fragments (protocol 1.1): a pqonly initiation (4657 bytes)
 * cut into 4 fragments under the default budget, against the same
 * message sent and received whole. Receiving: each fragment parsed, its
 * mac1 checked, reassembled, then the message's own mac1; whole: that
 * last check alone. */
static struct {
	uint8_t msg[DV_PQ_INITIATION_LEN], out[DV_MAX_HANDSHAKE_LEN];
	uint8_t frag[4][DV_FRAG_BUDGET_DEFAULT];
	size_t flen[4];
	struct cookie_maker cm;
	struct cookie_checker cc;
	struct dv_frag_table tab;
	uint8_t src[6];
	uint64_t now;
} fr;

static void op_send_whole(void) { cookie_add_macs(&fr.cm, fr.msg, sizeof(fr.msg), 1); }
static void op_send_frags(void)
{
	cookie_add_macs(&fr.cm, fr.msg, sizeof(fr.msg), 1);
	for (unsigned i = 0; i < 4; i++) {
		fr.flen[i] = dv_frag_make(fr.frag[i], fr.msg, sizeof(fr.msg),
					  DV_FRAG_BUDGET_DEFAULT, i);
		cookie_add_frag_macs(&fr.cm, fr.frag[i], fr.flen[i], 1, i == 0);
	}
}
static void op_recv_whole(void)
{
	b.rc |= cookie_check(&fr.cc, fr.msg, sizeof(fr.msg), fr.src, 6, 1, false) !=
		COOKIE_MAC_VALID_NO_COOKIE;
}
static void op_recv_frags(void)
{
	struct dv_frag f;
	size_t olen = 0;
	int rc = 0;

	for (unsigned i = 0; i < 4; i++) {
		b.rc |= dv_frag_parse(fr.frag[i], fr.flen[i], &f) ||
			cookie_check(&fr.cc, fr.frag[i], fr.flen[i], fr.src, 6, 1,
				     false) != COOKIE_MAC_VALID_NO_COOKIE;
		rc = dv_frag_add(&fr.tab, &f, fr.src, 6, false, ++fr.now, fr.out, &olen);
	}
	b.rc |= rc != DV_FRAG_COMPLETE ||
		cookie_check(&fr.cc, fr.out, olen, fr.src, 6, 1, false) !=
			COOKIE_MAC_VALID_NO_COOKIE;
}

/* Median ns of one call of fn over n timed runs (after a warm-up). */
static double median_ns(void (*fn)(void), int n)
{
	static uint64_t t[BENCH_MAX_ITERS];

	for (int i = 0; i < 3; i++)
		fn();
	for (int i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		fn();
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)n, sizeof(t[0]), cmp_u64);
	return (double)t[n / 2];
}

static void row(const char *name, double ns, double ref, const char *refname)
{
	printf("  %-28s %10.1f us   %6.2fx %s\n", name, ns / 1000.0, ns / ref, refname);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: dybervpn benchmark [-n ITERATIONS]\n"
		   "       dybervpn benchmark --datapath\n\n"
		   "Median time, on one core, of a full handshake in each mode (create the\n"
		   "initiation, consume it and create the response, consume the response)\n"
		   "and of the crypto operations, with ratios measured in the same run, and\n"
		   "the cost of a pqonly initiation sent and received as handshake fragments.\n"
		   "  -n N   timed runs per figure (default 200; handshakes and signing too)\n"
		   "  --datapath   instead, packets/s and Gbit/s of the data path in one\n"
		   "               process: full-MTU packets sealed by one device and opened\n"
		   "               by another, through the real device code, batch and one by one\n");
}

int benchmark_main(int argc, char **argv)
{
	int n = 200, c;
	static const struct option opts[] = { { "help", no_argument, NULL, 'h' },
					      { "datapath", no_argument, NULL, 'D' },
					      { 0 } };
	int datapath = 0;

	while ((c = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			datapath = 1;
			break;
		case 'n':
			n = atoi(optarg);
			if (n < 1 || n > BENCH_MAX_ITERS) {
				fprintf(stderr, "dybervpn benchmark: -n takes 1..%d\n", BENCH_MAX_ITERS);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	if (datapath)
		return bench_datapath(1.5);
	/* One core, so that figures are per-core costs. */
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fprintf(stderr, "dybervpn benchmark: could not pin to one core; figures may vary\n");

	dv_random(b.x_priv, sizeof(b.x_priv));
	dv_random(b.coins, sizeof(b.coins));
	dv_random(b.msg, sizeof(b.msg));
	dv_random(b.key, sizeof(b.key));
	b.rc |= dv_x25519_base(b.x_pub, b.x_priv);
	op_kem_keygen();
	op_kem_enc();
	op_dsa_keygen();
	op_dsa_sign();
	double x = median_ns(op_x25519, n), t[DV_MODE_COUNT];

	/* Every mode of the table, timed in table order; the reference is
	 * classic (WireGuard). */
	for (int m = 0; m < DV_MODE_COUNT; m++) {
		b.rc |= noise_selftest_init(&hs[m], (enum dv_mode)m);
		hs_mode = (enum dv_mode)m;
		t[m] = median_ns(op_hs, n);
	}
	printf("Full handshake, median of %d on one core:\n", n);
	printf("  %-28s %10s      %-8s %s\n", "mode", "time", "per s", "ratio to classic");
	for (int m = 0; m < DV_MODE_COUNT; m++)
		printf("  %-28s %10.1f us  %8.0f  %6.2fx\n", dv_mode_name((enum dv_mode)m),
		       t[m] / 1000, 1e9 / t[m], t[m] / t[DV_MODE_CLASSIC]);

	printf("\nCrypto operations, median of %d on one core (ratio to X25519):\n", n);
	row("X25519 scalar mult", x, x, "X25519");
	row("ML-KEM-768 keygen", median_ns(op_kem_keygen, n), x, "X25519");
	row("ML-KEM-768 encaps", median_ns(op_kem_enc, n), x, "X25519");
	row("ML-KEM-768 decaps", median_ns(op_kem_dec, n), x, "X25519");
	row("ML-DSA-65 keygen", median_ns(op_dsa_keygen, n), x, "X25519");
	row("ML-DSA-65 sign", median_ns(op_dsa_sign, n), x, "X25519");
	op_dsa_sign();
	row("ML-DSA-65 verify", median_ns(op_dsa_verify, n), x, "X25519");
	row("ChaCha20-Poly1305 1420 B", median_ns(op_aead, n), x, "X25519");
	double s = median_ns(op_shake, n);
	printf("  %-28s %10.2f ns/byte (4096-byte squeeze)\n", "SHAKE128", s / sizeof(b.shake_out));

	dv_random(fr.msg, sizeof(fr.msg));
	fr.msg[0] = DV_MSG_PQ_INITIATION;
	fr.msg[1] = fr.msg[2] = fr.msg[3] = 0;
	cookie_maker_init(&fr.cm, b.x_pub);
	cookie_checker_init(&fr.cc, b.x_pub);
	op_send_frags();
	double sw = median_ns(op_send_whole, n), rw = median_ns(op_recv_whole, n);
	printf("\nHandshake fragments: a pqonly initiation (4657 B) whole or as 4 fragments\n"
	       "of at most 1232 B, median of %d on one core (ratio to the whole message;\n"
	       "a full pqonly handshake is %.1f us):\n", n, t[DV_MODE_PQONLY] / 1000);
	row("send: macs, whole", sw, sw, "whole");
	row("send: cut + macs, 4 fragments", median_ns(op_send_frags, n), sw, "whole");
	row("receive: mac1, whole", rw, rw, "whole");
	row("receive: 4 checked + joined", median_ns(op_recv_frags, n), rw, "whole");
	cookie_maker_clear(&fr.cm);
	cookie_checker_clear(&fr.cc);
	dv_frag_clear(&fr.tab);

	for (int m = 0; m < DV_MODE_COUNT; m++)
		noise_selftest_clear(&hs[m]);
	if (b.rc) {
		fprintf(stderr, "dybervpn benchmark: an operation failed\n");
		return 1;
	}
	return 0;
}
