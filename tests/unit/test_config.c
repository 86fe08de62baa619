/* The config loader (src/config/config.h): upstream's sample configs with
 * their placeholders replaced by real keys, and each class of error, whose
 * message must name the file, the line and the key.
 *
 * The fixtures in tests/config/upstream stand for upstream DyberVPN's sample
 * configs, one each (its header names the upstream file and what must
 * happen); DYBERVPN_UPSTREAM_CONFIGS overrides that directory;
 * DYBERVPN_TEST_CONFIGS overrides tests/config. */
#include "config/config.h"
#include "config/keys.h"
#include "crypto/mldsa.h"
#include "t.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* ---- keys for the tests ---- */

struct b64 {
	char s[DV_KEY_B64_SIZE(DV_MLDSA_SK_LEN)];
};

static struct b64 b64_random(size_t n)
{
	uint8_t buf[DV_MLDSA_SK_LEN];
	struct b64 b;

	randombytes_buf(buf, n);
	dv_key_encode(b.s, sizeof(b.s), buf, n);
	return b;
}

/* A fresh X25519 public key (the private half is not needed). */
static struct b64 x25519_pub(void)
{
	uint8_t sk[32], pk[32];
	struct b64 b;

	randombytes_buf(sk, sizeof(sk));
	crypto_scalarmult_base(pk, sk);
	dv_key_encode(b.s, sizeof(b.s), pk, sizeof(pk));
	return b;
}

/* ---- warnings ---- */

struct warns {
	unsigned n;
	char all[8192];
};

static void on_warn(void *arg, const char *msg)
{
	struct warns *w = arg;
	size_t l = strlen(w->all);

	w->n++;
	snprintf(w->all + l, sizeof(w->all) - l, "%s\n", msg);
}

/* ---- parsing helpers ---- */

static char g_err[1024];
static struct warns g_warns;

/* Builds a config from printf-style text and parses it as "t.toml", without
 * DNS. Returns the parse result; g_err and g_warns hold what it said. */
static int __attribute__((format(printf, 2, 3)))
parse(struct dv_config *cfg, const char *fmt, ...)
{
	static char text[65536];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memset(&g_warns, 0, sizeof(g_warns));
	g_err[0] = '\0';
	return dv_config_parse_ex("t.toml", text, (size_t)n, cfg, g_err,
				  sizeof(g_err), on_warn, &g_warns,
				  DV_CONFIG_NO_RESOLVE);
}

/* The error must begin with `prefix` ("t.toml:3: key 'mtu':") and contain
 * `what`. */
static int err_is(const char *prefix, const char *what)
{
	if (strncmp(g_err, prefix, strlen(prefix)) || !strstr(g_err, what)) {
		fprintf(stderr, "  error was '%s'\n  wanted    '%s ... %s'\n",
			g_err, prefix, what);
		return 0;
	}
	return 1;
}

/* Shorthand: parse the text and expect an error. */
#define T_BAD(prefix, what, ...)                                         \
	do {                                                             \
		struct dv_config c_;                                     \
		T_CHECK(parse(&c_, __VA_ARGS__) == -1);                  \
		T_CHECK(err_is(prefix, what));                           \
	} while (0)

static struct b64 k_priv, k_pub1, k_pub2, k_seed, k_mldsa_pk;

static void keys_init(void)
{
	k_priv = b64_random(32);
	k_pub1 = x25519_pub();
	k_pub2 = x25519_pub();
	k_seed = b64_random(DV_MLDSA_SEED_LEN);
	k_mldsa_pk = b64_random(DV_MLDSA_PK_LEN);
}

/* ---- a good config, field by field ---- */

static void test_fields(void)
{
	struct dv_config c;
	char buf[DV_CIDR_STRLEN];
	uint8_t pub[32], priv[32];
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;

	T_CHECK(parse(&c,
		      "# comment\n"
		      "[interface]\n"
		      "name = \"dv-test0\"\n"
		      "listen_port = 51820\n"
		      "address = [\"10.0.0.1/24\", \"fd00::1/64\"]\n"
		      "mode = \"pq-only\"\n"
		      "mtu = 1400\n"
		      "handshake_datagram_max = 548\n"
		      "threads = 3\n"
		      "private_key = \"%s\"\n"
		      "mldsa_private_key = \"%s\"\n"
		      "\n"
		      "[[peer]]\n"
		      "name = \"alice\"\n"
		      "public_key = \"%s\"\n"
		      "preshared_key = \"%s\"\n"
		      "allowed_ips = \"10.0.0.2/32, fd00::2/128\"\n"
		      "endpoint = \"[2001:db8::1]:51821\"\n"
		      "persistent_keepalive = 25\n"
		      "mldsa_public_key = \"%s\"\n"
		      "\n"
		      "[[peer]]\n"
		      "public_key = \"%s\"\n"
		      "mode = \"classic\"\n"
		      "allowed_ips = [\n"
		      "  \"192.168.0.0/16\", # LAN\n"
		      "  \"0.0.0.0/0\",\n"
		      "]\n"
		      "endpoint = \"192.0.2.7:1\"\n",
		      k_priv.s, k_seed.s, k_pub1.s, k_priv.s, k_mldsa_pk.s,
		      k_pub2.s) == 0);
	T_CHECK(g_warns.n == 0);
	T_CHECK(!strcmp(c.path, "t.toml"));
	T_CHECK(!strcmp(c.name, "dv-test0"));
	T_CHECK(c.listen_port == 51820);
	T_CHECK(c.mode == DV_MODE_PQONLY);
	T_CHECK(c.mtu == 1400);
	T_CHECK(c.handshake_datagram_max == 548);
	T_CHECK(c.threads == 3);
	T_CHECK(c.n_addresses == 2);
	dv_cidr_format(&c.addresses[0], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "10.0.0.1/24"));
	dv_cidr_format(&c.addresses[1], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "fd00::1/64"));
	T_CHECK(dv_key_decode(priv, 32, k_priv.s, g_err, sizeof(g_err)) == 0);
	T_EQ_MEM(c.private_key, priv, 32);
	crypto_scalarmult_base(pub, priv);
	T_EQ_MEM(c.public_key, pub, 32);
	T_CHECK(c.has_mldsa_private_key && c.mldsa_key_len == 32);
	T_CHECK(c.n_peers == 2);

	T_CHECK(!strcmp(c.peers[0].name, "alice"));
	T_CHECK(c.peers[0].line == 13);
	T_CHECK(c.peers[0].has_psk);
	T_EQ_MEM(c.peers[0].psk, priv, 32);
	T_CHECK(c.peers[0].n_allowed_ips == 2);
	dv_cidr_format(&c.peers[0].allowed_ips[1], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "fd00::2/128"));
	T_CHECK(c.peers[0].has_endpoint);
	T_CHECK(!strcmp(c.peers[0].endpoint_str, "[2001:db8::1]:51821"));
	s6 = (const struct sockaddr_in6 *)&c.peers[0].endpoint;
	T_CHECK(c.peers[0].endpoint_len == sizeof(*s6));
	T_CHECK(s6->sin6_family == AF_INET6 && ntohs(s6->sin6_port) == 51821);
	T_CHECK(c.peers[0].persistent_keepalive == 25);
	T_CHECK(c.peers[0].mode == DV_MODE_PQONLY); /* the interface's */
	T_CHECK(c.peers[0].has_mldsa_public_key);

	T_CHECK(c.peers[1].name[0] == '\0');
	T_CHECK(c.peers[1].line == 22);
	T_CHECK(!c.peers[1].has_psk && !c.peers[1].has_mldsa_public_key);
	T_CHECK(c.peers[1].mode == DV_MODE_CLASSIC);
	T_CHECK(c.peers[1].n_allowed_ips == 2);
	dv_cidr_format(&c.peers[1].allowed_ips[1], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "0.0.0.0/0"));
	s4 = (const struct sockaddr_in *)&c.peers[1].endpoint;
	T_CHECK(c.peers[1].endpoint_len == sizeof(*s4));
	T_CHECK(s4->sin_family == AF_INET && ntohs(s4->sin_port) == 1 &&
		s4->sin_addr.s_addr == htonl(0xc0000207));
	dv_config_free(&c);
	/* Freed and wiped; freeing twice is harmless. */
	T_CHECK(c.peers == NULL && c.n_peers == 0);
	T_CHECK(sodium_is_zero(c.private_key, 32));
	dv_config_free(&c);
}

static void test_defaults(void)
{
	static uint8_t pk[MLDSA65_PK_LEN], sk[MLDSA65_SK_LEN];
	static struct b64 sk64;
	struct dv_config c;

	T_CHECK(mldsa65_keypair(pk, sk) == 0);
	dv_key_encode(sk64.s, sizeof(sk64.s), sk, sizeof(sk));
	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\n"
			  "mldsa_private_key = \"%s\"\n",
		      k_priv.s, sk64.s) == 0);
	T_CHECK(c.name[0] == '\0' && c.listen_port == 0);
	T_CHECK(c.mode == DV_MODE_HYBRID && c.mtu == 0); /* automatic */
	T_CHECK(c.table_mode == DV_TABLE_AUTO && c.fwmark == 0);
	T_CHECK(c.n_dns == 0 && c.n_dns_search == 0);
	for (int h = 0; h < DV_HOOK_COUNT; h++)
		T_CHECK(c.n_hooks[h] == 0);
	T_CHECK(c.handshake_datagram_max == 1232);
	T_CHECK(c.threads == 0); /* one per CPU */
	T_CHECK(c.n_addresses == 0 && c.n_peers == 0);
	T_CHECK(c.mldsa_key_len == DV_MLDSA_SK_LEN);
	T_CHECK(c.user[0] == '\0' && !c.no_sandbox); /* the sandbox's default user */
	dv_config_free(&c);

	/* The sandbox's user; never no_sandbox from a file. */
	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\nuser = \"dv-user_1.x\"\n",
		      k_priv.s) == 0);
	T_CHECK(!strcmp(c.user, "dv-user_1.x") && !c.no_sandbox);
	dv_config_free(&c);
	T_BAD("t.toml:2: key 'user':", "only letters, digits and '_.-' are allowed",
	      "[interface]\nuser = \"../root\"\n");
	T_BAD("t.toml:2: key 'user':", "must be 1..31 characters",
	      "[interface]\nuser = \"\"\n");
	T_BAD("t.toml:2: key 'user':", "expected a string, got an integer",
	      "[interface]\nuser = 0\n");
	T_BAD("t.toml:2: key 'no_sandbox':", "unknown key in [interface]",
	      "[interface]\nno_sandbox = true\n");

	/* A bare address is a host; a peer without its own mode takes the
	 * interface's. */
	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\nmode = \"classic\"\n"
			  "address = \"fd00::1\"\n[[peer]]\npublic_key = \"%s\"\n"
			  "allowed_ips = \"10.1.2.3\"\n",
		      k_priv.s, k_pub1.s) == 0);
	T_CHECK(c.addresses[0].prefix == 128);
	T_CHECK(c.peers[0].allowed_ips[0].prefix == 32);
	T_CHECK(c.peers[0].mode == DV_MODE_CLASSIC);
	T_CHECK(!c.peers[0].has_endpoint && c.peers[0].persistent_keepalive == 0);
	T_CHECK(c.peers[0].reresolve == 1);
	dv_config_free(&c);
}

/* The client keys: table, fwmark, dns, hooks, reresolve. */
static void test_client_keys(void)
{
	struct dv_config c;
	const char *pk = k_priv.s;

	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\n"
			  "table = 1234\nfwmark = 0x4d2\n"
			  "dns = [\"10.0.0.1, fd00::53\", \"corp.example\", \"lan\"]\n"
			  "pre_up = \"echo a %%i, b\"\n"
			  "post_up = [\"echo 1\", \"echo 2\"]\n"
			  "pre_down = 'x'\npost_down = [\"y\"]\n"
			  "[[peer]]\npublic_key = \"%s\"\nreresolve = false\n",
		      pk, k_pub1.s) == 0);
	T_CHECK(c.table_mode == DV_TABLE_ID && c.table == 1234);
	T_CHECK(c.fwmark == 0x4d2);
	T_CHECK(c.n_dns == 2 && !strcmp(c.dns[0], "10.0.0.1") &&
		!strcmp(c.dns[1], "fd00::53"));
	T_CHECK(c.n_dns_search == 2 && !strcmp(c.dns_search[0], "corp.example") &&
		!strcmp(c.dns_search[1], "lan"));
	T_CHECK(c.n_hooks[DV_HOOK_PRE_UP] == 1 &&
		!strcmp(c.hooks[DV_HOOK_PRE_UP][0], "echo a %i, b"));
	T_CHECK(c.n_hooks[DV_HOOK_POST_UP] == 2 &&
		!strcmp(c.hooks[DV_HOOK_POST_UP][1], "echo 2"));
	T_CHECK(c.n_hooks[DV_HOOK_PRE_DOWN] == 1 && c.n_hooks[DV_HOOK_POST_DOWN] == 1);
	T_CHECK(c.peers[0].reresolve == 0);
	T_CHECK(g_warns.n == 0);
	dv_config_free(&c);

	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\ntable = \"off\"\n"
			  "fwmark = \"off\"\n", pk) == 0);
	T_CHECK(c.table_mode == DV_TABLE_OFF && c.fwmark == 0);
	dv_config_free(&c);
	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\ntable = \"auto\"\n", pk) == 0);
	T_CHECK(c.table_mode == DV_TABLE_AUTO);
	dv_config_free(&c);

	T_BAD("t.toml:3: key 'table':", "expected \"auto\", \"off\"",
	      "[interface]\nprivate_key = \"%s\"\ntable = \"main\"\n", pk);
	T_BAD("t.toml:3: key 'table':", "not a usable table",
	      "[interface]\nprivate_key = \"%s\"\ntable = 0\n", pk);
	T_BAD("t.toml:3: key 'table':", "not a usable table",
	      "[interface]\nprivate_key = \"%s\"\ntable = 255\n", pk);
	T_BAD("t.toml:3: key 'table':", "not a usable table",
	      "[interface]\nprivate_key = \"%s\"\ntable = 4294967296\n", pk);
	T_BAD("t.toml:3: key 'fwmark':", "out of range",
	      "[interface]\nprivate_key = \"%s\"\nfwmark = -1\n", pk);
	T_BAD("t.toml:3: key 'fwmark':", "expected a number or \"off\"",
	      "[interface]\nprivate_key = \"%s\"\nfwmark = \"on\"\n", pk);
	T_BAD("t.toml:5: key 'dns':", "neither an IP address nor a search domain",
	      "[interface]\nprivate_key = \"%s\"\ndns = [\n\"1.1.1.1\",\n"
	      "\"bad domain\"]\n", pk);
	T_BAD("t.toml:3: key 'dns':", "neither an IP address nor a search domain",
	      "[interface]\nprivate_key = \"%s\"\ndns = \"a..b\"\n", pk);
	T_BAD("t.toml:3: key 'dns':", "empty entry",
	      "[interface]\nprivate_key = \"%s\"\ndns = \"1.1.1.1,\"\n", pk);
	T_BAD("t.toml:3: key 'dns':", "expected a string or an array",
	      "[interface]\nprivate_key = \"%s\"\ndns = 5\n", pk);
	T_BAD("t.toml:3: key 'post_up':", "empty command",
	      "[interface]\nprivate_key = \"%s\"\npost_up = \"  \"\n", pk);
	T_BAD("t.toml:4: key 'pre_down':", "expected a string or an array",
	      "[interface]\nprivate_key = \"%s\"\npre_down = [\"a\",\n1]\n", pk);
	T_BAD("t.toml:5: key 'reresolve':", "expected a boolean",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "reresolve = 1\n", pk, k_pub1.s);
	T_BAD("t.toml:3: key 'post_up':", "longer than 4096",
	      "[interface]\nprivate_key = \"%s\"\npost_up = \"%05000d\"\n", pk, 1);
}

static void test_warnings(void)
{
	struct dv_config c;

	T_CHECK(parse(&c, "[interface]\nprivate_key = \"%s\"\n"
			  "pq_private_key = \"anything\"\nmtu = 1400\n"
			  "[[peer]]\npublic_key = \"%s\"\npq_public_key = \"x\"\n",
		      k_priv.s, k_pub1.s) == 0);
	T_CHECK(g_warns.n == 2);
	T_CHECK(strstr(g_warns.all, "t.toml:3: key 'pq_private_key': ignored") != NULL);
	T_CHECK(strstr(g_warns.all, "t.toml:7: key 'pq_public_key': ignored") != NULL);
	dv_config_free(&c);
	T_BAD("t.toml:3: key 'pq_private_key':", "expected a string",
	      "[interface]\nprivate_key = \"%s\"\npq_private_key = 5\n", k_priv.s);
}

/* Every class of error, each naming file, line and key (or table). */
static void test_errors_structure(void)
{
	const char *pk = k_priv.s;

	T_BAD("t.toml:2: key 'x':", "expected '='", "[interface]\nx\n");
	T_BAD("t.toml:1: key 'name':", "outside any table", "name = \"a\"\n");
	T_BAD("t.toml:3: key 'colour':", "unknown key in [interface]",
	      "[interface]\nprivate_key = \"%s\"\ncolour = 1\n", pk);
	T_BAD("t.toml:5: key 'allowed_ip':", "unknown key in [[peer]]",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "allowed_ip = \"10.0.0.0/8\"\n", pk, k_pub1.s);
	T_BAD("t.toml:3: table [wireguard]:", "unknown table",
	      "[interface]\nprivate_key = \"%s\"\n[wireguard]\n", pk);
	T_BAD("t.toml:3: table [security]:", "not supported",
	      "[interface]\nprivate_key = \"%s\"\n[security]\n", pk);
	T_BAD("t.toml:1: table [access_control.role]:", "not supported",
	      "[[access_control.role]]\n");
	T_BAD("t.toml:1: table [peer]:", "write it as [[peer]]", "[peer]\n");
	T_BAD("t.toml:1: table [[interface]]:", "write it as [interface]",
	      "[[interface]]\n");
	T_BAD("t.toml:4:", "table [interface] defined twice",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\n[interface]\n", pk);
	T_BAD("t.toml:3: key 'private_key':", "defined twice",
	      "[interface]\nprivate_key = \"%s\"\nprivate_key = \"%s\"\n", pk, pk);
	T_BAD("t.toml:", "table [interface]: missing", "# empty\n");
	T_BAD("t.toml:1: key 'private_key':", "missing in [interface]",
	      "[interface]\nlisten_port = 1\n");
	T_BAD("t.toml:3: key 'public_key':", "missing in [[peer]]",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\n"
	      "allowed_ips = \"10.0.0.0/8\"\n", pk);
}

static void test_errors_types_ranges(void)
{
	const char *pk = k_priv.s;

	T_BAD("t.toml:2: key 'mtu':", "expected an integer, got a string",
	      "[interface]\nmtu = \"1420\"\n");
	T_BAD("t.toml:2: key 'listen_port':", "expected an integer, got a boolean",
	      "[interface]\nlisten_port = true\n");
	T_BAD("t.toml:2: key 'address':", "expected a string, got an integer",
	      "[interface]\naddress = 5\n");
	T_BAD("t.toml:2: key 'address':", "expected strings in the array, got an array",
	      "[interface]\naddress = [[\"10.0.0.1/8\"]]\n");
	T_BAD("t.toml:2: key 'private_key':", "expected a string, got an array",
	      "[interface]\nprivate_key = []\n");
	T_BAD("t.toml:2: key 'listen_port':", "70000 is out of range 0..65535",
	      "[interface]\nlisten_port = 70000\n");
	T_BAD("t.toml:2: key 'listen_port':", "out of range",
	      "[interface]\nlisten_port = -1\n");
	T_BAD("t.toml:2: key 'mtu':", "575 is out of range 576..65535",
	      "[interface]\nmtu = 575\n");
	T_BAD("t.toml:2: key 'mtu':", "out of range", "[interface]\nmtu = 65536\n");
	T_BAD("t.toml:2: key 'threads':", "65 is out of range 0..64",
	      "[interface]\nthreads = 65\n");
	T_BAD("t.toml:2: key 'threads':", "out of range",
	      "[interface]\nthreads = -1\n");
	T_BAD("t.toml:2: key 'handshake_datagram_max':", "547 is out of range 548..4657",
	      "[interface]\nhandshake_datagram_max = 547\n");
	T_BAD("t.toml:3: key 'handshake_datagram_max':", "4658 is out of range",
	      "[interface]\n\nhandshake_datagram_max = 4658\n");
	T_BAD("t.toml:2: key 'handshake_datagram_max':", "expected an integer",
	      "[interface]\nhandshake_datagram_max = \"1232\"\n");
	T_BAD("t.toml:4: key 'mtu':", "below 1280, the minimum for IPv6",
	      "[interface]\naddress = [\"10.0.0.1/24\",\n\"fd00::1/64\"]\n"
	      "mtu = 1279\nprivate_key = \"%s\"\n", pk);
	T_BAD("t.toml:5: key 'persistent_keepalive':", "out of range",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "persistent_keepalive = 65536\n", pk, k_pub1.s);
	T_BAD("t.toml:2: key 'mode':", "'quantum' is not classic, hybrid or pqonly",
	      "[interface]\nmode = \"quantum\"\n");
	T_BAD("t.toml:2: key 'mode':", "expected a string", "[interface]\nmode = 2\n");
	T_BAD("t.toml:2: key 'name':", "must be 1..15 characters",
	      "[interface]\nname = \"abcdefghijklmnop\"\n");
	T_BAD("t.toml:2: key 'name':", "must be 1..15", "[interface]\nname = \"\"\n");
	T_BAD("t.toml:2: key 'name':", "only letters, digits",
	      "[interface]\nname = \"dv pn\"\n");
	T_BAD("t.toml:2: key 'name':", "only letters, digits",
	      "[interface]\nname = \"a/b\"\n");
	T_BAD("t.toml:2: key 'name':", "not a valid name", "[interface]\nname = \"..\"\n");
	/* Escapes in quoted values never reach the terminal. */
	T_BAD("t.toml:2: key 'name':", "'?[2J': only letters",
	      "[interface]\nname = \"\\u001b[2J\"\n");
	T_BAD("t.toml:4: key 'name':", "only letters, digits",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\nname = \"bob smith\"\n", pk);
}

static void test_errors_addresses(void)
{
	const char *pk = k_priv.s;

	T_BAD("t.toml:2: key 'address':", "'10.0.0.256' is not an IPv4 or IPv6",
	      "[interface]\naddress = \"10.0.0.256/24\"\n");
	T_BAD("t.toml:2: key 'address':", "prefix length must be 0..32",
	      "[interface]\naddress = \"10.0.0.1/33\"\n");
	T_BAD("t.toml:2: key 'address':", "prefix length must be 0..128",
	      "[interface]\naddress = \"fd00::1/129\"\n");
	T_BAD("t.toml:2: key 'address':", "invalid prefix length",
	      "[interface]\naddress = \"10.0.0.1/+8\"\n");
	T_BAD("t.toml:2: key 'address':", "invalid prefix length",
	      "[interface]\naddress = \"10.0.0.1/\"\n");
	T_BAD("t.toml:2: key 'address':", "empty entry",
	      "[interface]\naddress = \"10.0.0.1/8,,10.1.0.1/16\"\n");
	T_BAD("t.toml:2: key 'address':", "empty entry", "[interface]\naddress = \"\"\n");
	T_BAD("t.toml:5: key 'allowed_ips':", "'10.0.0.1/24' has host bits set beyond /24",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "allowed_ips = \"10.0.0.0/24, 10.0.0.1/24\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'allowed_ips':", "host bits set beyond /63",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "allowed_ips = [\"fd00:0:0:1::/63\"]\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "has no :PORT",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"192.0.2.1\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "port must be 1..65535",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"192.0.2.1:65536\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "port must be 1..65535",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"192.0.2.1:0\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "invalid port",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"192.0.2.1:http\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "write an IPv6 endpoint as [ADDR]:PORT",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"2001:db8::1:51820\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "an IPv6 endpoint is written [ADDR]:PORT",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"[::1:51820\"\n", pk, k_pub1.s);
	T_BAD("t.toml:5: key 'endpoint':", "cannot resolve 'not-an-ip'",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "endpoint = \"[not-an-ip]:1\"\n", pk, k_pub1.s);
}

/* Name resolution, with DNS allowed: ".invalid" never resolves (RFC 6761). */
static void test_resolve(void)
{
	char text[512];
	struct dv_config c;
	int n;

	n = snprintf(text, sizeof(text),
		     "[interface]\nprivate_key = \"%s\"\n[[peer]]\n"
		     "public_key = \"%s\"\nendpoint = \"dybervpn-test.invalid:51820\"\n",
		     k_priv.s, k_pub1.s);
	T_CHECK(dv_config_parse("r.toml", text, (size_t)n, &c, g_err,
				sizeof(g_err), NULL, NULL) == -1);
	T_CHECK(err_is("r.toml:5: key 'endpoint':",
		       "cannot resolve 'dybervpn-test.invalid'"));
	/* Without DNS the name is kept and left unresolved. */
	T_CHECK(dv_config_parse_ex("r.toml", text, (size_t)n, &c, g_err,
				   sizeof(g_err), NULL, NULL,
				   DV_CONFIG_NO_RESOLVE) == 0);
	T_CHECK(c.peers[0].has_endpoint && c.peers[0].endpoint_len == 0);
	dv_config_free(&c);
	/* "localhost" comes from /etc/hosts. */
	n = snprintf(text, sizeof(text),
		     "[interface]\nprivate_key = \"%s\"\n[[peer]]\n"
		     "public_key = \"%s\"\nendpoint = \"localhost:9\"\n",
		     k_priv.s, k_pub1.s);
	T_CHECK(dv_config_parse("r.toml", text, (size_t)n, &c, g_err,
				sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(c.n_peers == 1 && c.peers[0].endpoint_len > 0);
	dv_config_free(&c);
}

static void test_errors_keys(void)
{
	const char *pk = k_priv.s;
	struct b64 own;
	uint8_t priv[32], pub[32];

	/* Upstream's sample client key: base64 of 25 bytes. */
	T_BAD("t.toml:2: key 'private_key':", "decodes to 25 bytes, expected 32",
	      "[interface]\nprivate_key = \"V0dDbGllbnRLZXlIZXJlRm9yVGVzdGluZw==\"\n");
	T_BAD("t.toml:2: key 'private_key':", "not valid base64",
	      "[interface]\nprivate_key = \"REPLACE_WITH_YOUR_X25519_PRIVATE_KE\"\n");
	T_BAD("t.toml:2: key 'private_key':", "not a multiple of 4",
	      "[interface]\nprivate_key = \"YOUR_PRIVATE_KEY_HERE\"\n");
	/* 44 characters, but the last one has non-zero unused bits. */
	T_BAD("t.toml:2: key 'private_key':", "not valid base64",
	      "[interface]\nprivate_key = \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\"\n");
	T_BAD("t.toml:4: key 'public_key':", "expected 32",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n",
	      pk, b64_random(33).s);
	T_BAD("t.toml:5: key 'preshared_key':", "decodes to 16 bytes",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "preshared_key = \"%s\"\n", pk, k_pub1.s, b64_random(16).s);
	/* Random bytes: some 4-bit s1/s2 fields exceed 2 * eta. */
	T_BAD("t.toml:2: key 'mldsa_private_key':", "not a valid ML-DSA-65 expanded key",
	      "[interface]\nmldsa_private_key = \"%s\"\n", b64_random(DV_MLDSA_SK_LEN).s);
	T_BAD("t.toml:2: key 'mldsa_private_key':", "decodes to 64 bytes, expected 32 or 4032",
	      "[interface]\nmldsa_private_key = \"%s\"\n", b64_random(64).s);
	T_BAD("t.toml:5: key 'mldsa_public_key':", "expected 1952",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "mldsa_public_key = \"%s\"\n", pk, k_pub1.s, b64_random(1951).s);
	T_BAD("t.toml:7: key 'public_key':", "same as the peer at line 3",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "[[peer]]\n\npublic_key = \"%s\"\n", pk, k_pub1.s, k_pub1.s);
	T_BAD("t.toml:8: key 'name':", "'a' is also the peer at line 3",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n"
	      "name = \"a\"\n[[peer]]\npublic_key = \"%s\"\nname = \"a\"\n",
	      pk, k_pub1.s, k_pub2.s);
	T_CHECK(dv_key_decode(priv, 32, pk, g_err, sizeof(g_err)) == 0);
	crypto_scalarmult_base(pub, priv);
	dv_key_encode(own.s, sizeof(own.s), pub, 32);
	T_BAD("t.toml:4: key 'public_key':", "this interface's own public key",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n",
	      pk, own.s);
}

static void test_errors_pqonly(void)
{
	const char *pk = k_priv.s;

	T_BAD("t.toml:3: key 'mldsa_private_key':", "mode pqonly signs with ML-DSA-65",
	      "[interface]\nprivate_key = \"%s\"\nmode = \"pqonly\"\n", pk);
	T_BAD("t.toml:3: key 'mldsa_private_key':", "missing in [interface]",
	      "[interface]\nprivate_key = \"%s\"\nmode = \"pqonly\"\n[[peer]]\n"
	      "public_key = \"%s\"\nmldsa_public_key = \"%s\"\n",
	      pk, k_pub1.s, k_mldsa_pk.s);
	T_BAD("t.toml:5: key 'mldsa_public_key':", "the peer at line 5 uses mode pqonly",
	      "[interface]\nprivate_key = \"%s\"\nmode = \"pqonly\"\n"
	      "mldsa_private_key = \"%s\"\n[[peer]]\npublic_key = \"%s\"\n",
	      pk, k_seed.s, k_pub1.s);
	/* A hybrid interface with one pqonly peer needs both keys too. */
	T_BAD("t.toml:5: key 'mldsa_public_key':", "uses mode pqonly",
	      "[interface]\nprivate_key = \"%s\"\nmldsa_private_key = \"%s\"\n"
	      "[[peer]]\nmode = \"pq-only\"\npublic_key = \"%s\"\n",
	      pk, k_seed.s, k_pub1.s);
	T_BAD("t.toml:4: key 'mldsa_private_key':", "the peer at line 3",
	      "[interface]\nprivate_key = \"%s\"\n[[peer]]\nmode = \"pq-only\"\n"
	      "public_key = \"%s\"\nmldsa_public_key = \"%s\"\n",
	      pk, k_pub1.s, k_mldsa_pk.s);
}

/* ---- fixtures standing for upstream's sample configs ---- */

struct file {
	char *data;
	size_t len;
};

static int read_file(const char *path, struct file *f)
{
	FILE *fp = fopen(path, "re");
	long n;

	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	f->data = malloc((size_t)n + 1);
	f->len = f->data ? fread(f->data, 1, (size_t)n, fp) : 0;
	fclose(fp);
	if (!f->data)
		return -1;
	f->data[f->len] = '\0';
	return 0;
}

/* Replaces the value of every (uncommented) key line with a real key:
 * fresh for each public key, so that no two peers share one. pq_* values
 * stay: they are ignored. Returns a malloc'd text. */
static char *fill_keys(const char *in)
{
	static const struct {
		const char *key;
		size_t len;
		int x25519_public;
	} kinds[] = {
		{ "private_key", 32, 0 },
		{ "public_key", 32, 1 },
		{ "preshared_key", 32, 0 },
		{ "mldsa_private_key", DV_MLDSA_SEED_LEN, 0 },
		{ "mldsa_public_key", DV_MLDSA_PK_LEN, 0 },
	};
	size_t cap = strlen(in) * 2 + 65536, o = 0;
	char *out = malloc(cap);
	const char *line = in;

	while (*line) {
		const char *nl = strchr(line, '\n');
		size_t ll = nl ? (size_t)(nl - line + 1) : strlen(line);
		size_t sp = strspn(line, " \t"), i, kl = 0;

		for (i = 0; i < sizeof(kinds) / sizeof(*kinds); i++) {
			kl = strlen(kinds[i].key);
			if (!strncmp(line + sp, kinds[i].key, kl) &&
			    strchr(" =", line[sp + kl]))
				break;
		}
		if (i < sizeof(kinds) / sizeof(*kinds)) {
			struct b64 k = kinds[i].x25519_public ?
					       x25519_pub() :
					       b64_random(kinds[i].len);

			o += (size_t)snprintf(out + o, cap - o, "%s = \"%s\"\n",
					      kinds[i].key, k.s);
		} else {
			memcpy(out + o, line, ll);
			o += ll;
		}
		line += ll;
	}
	out[o] = '\0';
	return out;
}

/* What each upstream file must do once its keys are filled in: load, or be
 * refused naming its first unsupported table. */
static const struct {
	const char *file;
	const char *refused; /* "LINE: table [T]" expected, or NULL */
	unsigned warnings;   /* pq_* keys */
	enum dv_mode mode;
	size_t n_peers;
} upstream[] = {
	{ "config_enterprise-server.toml", ":13: table [hardware]:", 0, 0, 0 },
	{ "config_example-client.toml", NULL, 0, DV_MODE_CLASSIC, 1 },
	{ "config_example-server.toml", ":11: table [hardware]:", 0, 0, 0 },
	{ "config_test-server.toml", NULL, 1, DV_MODE_HYBRID, 0 },
	{ "deploy_client.toml.example", NULL, 2, DV_MODE_HYBRID, 1 },
	{ "deploy_server.toml.example", NULL, 2, DV_MODE_HYBRID, 1 },
	{ "test-configs_client.toml", NULL, 2, DV_MODE_HYBRID, 1 },
	{ "test-configs_enterprise-server.toml", ":14: table [access_control]:", 0, 0, 0 },
	{ "test-configs_pqonly-client.toml", NULL, 2, DV_MODE_PQONLY, 1 },
	{ "test-configs_pqonly-server.toml", NULL, 2, DV_MODE_PQONLY, 1 },
	{ "test-configs_server.toml", NULL, 2, DV_MODE_HYBRID, 1 },
	{ "test-configs_test_client.toml", NULL, 2, DV_MODE_HYBRID, 1 },
	{ "test-configs_test_server.toml", NULL, 2, DV_MODE_HYBRID, 1 },
};

static const char *upstream_dir(void)
{
	const char *d = getenv("DYBERVPN_UPSTREAM_CONFIGS");

	return d && *d ? d : "tests/config/upstream";
}

static void test_upstream(void)
{
	const char *dir = upstream_dir();
	unsigned seen = 0;
	DIR *dp;
	struct dirent *de;

	for (size_t i = 0; i < sizeof(upstream) / sizeof(*upstream); i++) {
		char path[4096], want[4400];
		struct dv_config c;
		struct file f;
		char *text;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, upstream[i].file);
		T_CHECK(read_file(path, &f) == 0);
		if (!f.data) {
			fprintf(stderr, "  cannot read %s\n", path);
			continue;
		}
		text = fill_keys(f.data);
		memset(&g_warns, 0, sizeof(g_warns));
		r = dv_config_parse_ex(path, text, strlen(text), &c, g_err,
				       sizeof(g_err), on_warn, &g_warns,
				       DV_CONFIG_NO_RESOLVE);
		if (upstream[i].refused) {
			snprintf(want, sizeof(want), "%s%s", path,
				 upstream[i].refused);
			T_CHECK(r == -1);
			T_CHECK(err_is(want, "not supported"));
		} else {
			T_CHECK(r == 0);
			if (r)
				fprintf(stderr, "  %s: %s\n", upstream[i].file, g_err);
			T_CHECK(c.mode == upstream[i].mode);
			T_CHECK(c.n_peers == upstream[i].n_peers);
			T_CHECK(g_warns.n == upstream[i].warnings);
			if (upstream[i].warnings)
				T_CHECK(strstr(g_warns.all, path) != NULL);
			dv_config_free(&c);
		}
		free(text);
		free(f.data);
	}

	/* The table above covers the whole directory. */
	dp = opendir(dir);
	T_CHECK(dp != NULL);
	while (dp && (de = readdir(dp))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "README.md"))
			continue;
		seen++;
	}
	if (dp)
		closedir(dp);
	T_CHECK(seen == sizeof(upstream) / sizeof(*upstream));
}

/* Details of two upstream files, as a user would read them. */
static void test_upstream_values(void)
{
	char path[4096], buf[DV_CIDR_STRLEN];
	struct dv_config c;
	struct file f;
	char *text;

	snprintf(path, sizeof(path), "%s/test-configs_pqonly-client.toml",
		 upstream_dir());
	if (read_file(path, &f)) {
		T_CHECK(!"readable test-configs_pqonly-client.toml");
		return;
	}
	text = fill_keys(f.data);
	T_CHECK(dv_config_parse(path, text, strlen(text), &c, g_err,
				sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(!strcmp(c.name, "dvpn1") && c.listen_port == 0);
	dv_cidr_format(&c.addresses[0], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "10.200.200.2/24"));
	T_CHECK(c.has_mldsa_private_key && c.mldsa_key_len == 32);
	T_CHECK(c.peers[0].mode == DV_MODE_PQONLY);
	T_CHECK(c.peers[0].has_mldsa_public_key);
	T_CHECK(!strcmp(c.peers[0].endpoint_str, "127.0.0.1:51820"));
	T_CHECK(c.peers[0].endpoint_len == sizeof(struct sockaddr_in));
	T_CHECK(c.peers[0].persistent_keepalive == 25);
	dv_cidr_format(&c.peers[0].allowed_ips[0], buf, sizeof(buf));
	T_CHECK(!strcmp(buf, "10.200.200.0/24"));
	dv_config_free(&c);
	free(text);
	free(f.data);

	snprintf(path, sizeof(path), "%s/test-configs_server.toml", upstream_dir());
	if (read_file(path, &f)) {
		T_CHECK(!"readable test-configs_server.toml");
		return;
	}
	text = fill_keys(f.data);
	T_CHECK(dv_config_parse(path, text, strlen(text), &c, g_err,
				sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(c.n_peers == 1 && !strcmp(c.peers[0].name, "client"));
	T_CHECK(c.listen_port == 51820);
	dv_config_free(&c);
	free(text);
	free(f.data);
}

/* ---- files on disk ---- */

static void test_load(void)
{
	const char *dir = getenv("DYBERVPN_TEST_CONFIGS");
	char path[4096];
	struct dv_config c;

	if (!dir || !*dir)
		dir = "tests/config";
	T_CHECK(dv_config_load("/nonexistent/dybervpn.toml", &c, g_err,
			       sizeof(g_err), NULL, NULL) == -1);
	T_CHECK(err_is("/nonexistent/dybervpn.toml:", "No such file"));
	T_CHECK(dv_config_load(".", &c, g_err, sizeof(g_err), NULL, NULL) == -1);
	T_CHECK(err_is(".:", "not a regular file"));

	/* A private key others can read is worth a warning. */
	{
		char tmp[] = "/tmp/dybervpn-test-XXXXXX";
		int fd = mkstemp(tmp);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		T_CHECK(f != NULL);
		if (f) {
			fprintf(f, "[interface]\nprivate_key = \"%s\"\n", k_priv.s);
			fclose(f);
			memset(&g_warns, 0, sizeof(g_warns));
			T_CHECK(dv_config_load(tmp, &c, g_err, sizeof(g_err),
					       on_warn, &g_warns) == 0);
			T_CHECK(g_warns.n == 0); /* mkstemp: mode 0600 */
			dv_config_free(&c);
			chmod(tmp, 0644);
			T_CHECK(dv_config_load(tmp, &c, g_err, sizeof(g_err),
					       on_warn, &g_warns) == 0);
			T_CHECK(g_warns.n == 1 && strstr(g_warns.all, "mode 644"));
			dv_config_free(&c);
			unlink(tmp);
		}
	}

	snprintf(path, sizeof(path), "%s/hybrid-server.toml", dir);
	T_CHECK(dv_config_load(path, &c, g_err, sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(c.mode == DV_MODE_HYBRID && c.n_peers == 2);
	dv_config_free(&c);
	snprintf(path, sizeof(path), "%s/pqonly-client.toml", dir);
	T_CHECK(dv_config_load(path, &c, g_err, sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(c.mode == DV_MODE_PQONLY && c.n_peers == 1);
	dv_config_free(&c);
	snprintf(path, sizeof(path), "%s/bad-host-bits.toml", dir);
	T_CHECK(dv_config_load(path, &c, g_err, sizeof(g_err), NULL, NULL) == -1);
	snprintf(path, sizeof(path), "%s/bad-host-bits.toml:9: key 'allowed_ips':",
		 dir);
	T_CHECK(err_is(path, "host bits"));
}

/* A hostile file of bare [[peer]] headers (1 MiB of them would once have
 * taken ~300 MB) is refused at the second header, naming file and line;
 * peer memory grows only with complete peers. */
static void test_huge_peer_list(void)
{
	const char *head = "[interface]\nprivate_key = \"";
	size_t cap = 1 << 20, n;
	char *text = malloc(cap);
	struct dv_config c;

	T_CHECK(text != NULL);
	if (!text)
		return;
	n = (size_t)snprintf(text, cap, "%s%s\"\n", head, k_priv.s);
	while (n + 9 < cap) {
		memcpy(text + n, "[[peer]]\n", 9);
		n += 9;
	}
	g_err[0] = '\0';
	T_CHECK(dv_config_parse_ex("t.toml", text, n, &c, g_err, sizeof(g_err),
				   NULL, NULL, DV_CONFIG_NO_RESOLVE) == -1);
	T_CHECK(err_is("t.toml:4:", "public_key': missing in the [[peer]] at line 3"));
	free(text);
}

/* A file far larger than one read chunk (lines cut across chunks, no
 * final newline) loads whole; duplicates among many peers are still
 * found, naming both lines; an over-long line names its line. */
static void test_load_big(void)
{
	char tmp[] = "/tmp/dybervpn-test-XXXXXX";
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	const size_t n = 30000;
	struct dv_config c;
	uint8_t k[32];
	char b64[64], dup[64] = "";

	T_CHECK(f != NULL);
	if (!f)
		return;
	fprintf(f, "[interface]\nprivate_key = \"%s\"", k_priv.s);
	for (size_t i = 0; i < n; i++) {
		randombytes_buf(k, sizeof(k));
		sodium_bin2base64(b64, sizeof(b64), k, sizeof(k),
				  sodium_base64_VARIANT_ORIGINAL);
		if (i == 7)
			memcpy(dup, b64, sizeof(dup));
		fprintf(f, "\n\n[[peer]]\npublic_key = \"%s\"\n"
			"allowed_ips = [\"10.%zu.%zu.0/24\"]\nname = \"p%zu\"",
			b64, i >> 8, i & 255, i);
	}
	fclose(f);
	T_CHECK(dv_config_load(tmp, &c, g_err, sizeof(g_err), NULL, NULL) == 0);
	T_CHECK(c.n_peers == n);
	if (c.n_peers == n) {
		T_CHECK(!strcmp(c.peers[n - 1].name, "p29999"));
		T_CHECK(c.peers[n - 1].n_allowed_ips == 1);
	}
	dv_config_free(&c);
	/* The same key again at the end (peer i has its header at line 4 + 5 i). */
	f = fopen(tmp, "a");
	T_CHECK(f != NULL);
	if (f) {
		fprintf(f, "\n\n[[peer]]\npublic_key = \"%s\"\n", dup);
		fclose(f);
	}
	T_CHECK(dv_config_load(tmp, &c, g_err, sizeof(g_err), NULL, NULL) == -1);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:%zu: key 'public_key':", tmp,
			 3 + 5 * n + 2);
		T_CHECK(err_is(want, "same as the peer at line 39"));
	}
	/* One line longer than any statement may be. */
	f = fopen(tmp, "w");
	T_CHECK(f != NULL);
	if (f) {
		fprintf(f, "[interface]\nname = \"");
		for (size_t i = 0; i < 200000; i++)
			fputc('a', f);
		fprintf(f, "\"\n");
		fclose(f);
	}
	T_CHECK(dv_config_load(tmp, &c, g_err, sizeof(g_err), NULL, NULL) == -1);
	{
		char want[128];

		snprintf(want, sizeof(want), "%s:2: line longer than", tmp);
		T_CHECK(err_is(want, "bytes"));
	}
	unlink(tmp);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	keys_init();
	T_RUN(test_fields);
	T_RUN(test_defaults);
	T_RUN(test_client_keys);
	T_RUN(test_warnings);
	T_RUN(test_errors_structure);
	T_RUN(test_errors_types_ranges);
	T_RUN(test_errors_addresses);
	T_RUN(test_resolve);
	T_RUN(test_errors_keys);
	T_RUN(test_errors_pqonly);
	T_RUN(test_upstream);
	T_RUN(test_upstream_values);
	T_RUN(test_load);
	T_RUN(test_huge_peer_list);
	T_RUN(test_load_big);
	return t_done();
}
