/* The configuration data model and its loader.
 *
 * A config file is a strict subset of TOML (see toml.h) with one
 * [interface] table and any number of [[peer]] tables, the keys of
 * upstream DyberVPN (tests/config/upstream/README.md). Everything is
 * validated at load time, so the device and the CLI can trust every field.
 * Keys are raw bytes here; their text form is base64 (docs/PROTOCOL.md
 * §14), decoded by config/keys.h.
 */
#ifndef DV_CONFIG_CONFIG_H
#define DV_CONFIG_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config/addr.h"
#include "mode.h"

#define DV_CONFIG_MTU_DEFAULT 1420
#define DV_CONFIG_MTU_MIN 576
#define DV_CONFIG_MTU_MIN_IPV6 1280 /* RFC 8200, section 5 */
#define DV_CONFIG_MTU_MAX 65535
/* handshake_datagram_max: UDP payload bytes a handshake datagram may
 * have (docs/PROTOCOL-fragments.md). 1232 fits a 1280-byte IPv6 path; 548
 * a 576-byte IPv4 one; 4657 (the largest message) never fragments. */
#define DV_CONFIG_HS_DATAGRAM_DEFAULT 1232
#define DV_CONFIG_HS_DATAGRAM_MIN 548
#define DV_CONFIG_HS_DATAGRAM_MAX 4657
#define DV_CONFIG_NAME_MAX 15       /* IFNAMSIZ - 1 */
/* threads: the threads that share the data path's encryption and
 * decryption, the event loop's included; 0 = one per CPU available. */
#define DV_CONFIG_THREADS_MAX 64
#define DV_CONFIG_PEER_NAME_MAX 63
#define DV_CONFIG_USER_MAX 31 /* a user name */
/* Peers in one config: the 2^20 the device is sized for. Each needs its
 * header and public_key line, so a file's peer memory is bounded by its
 * size as well. */
#define DV_CONFIG_PEERS_MAX (1u << 20)
/* A config file is read in chunks (never whole into memory); this bounds
 * the file, about 2^20 peers of a public key and a few allowed IPs each. */
#define DV_CONFIG_FILE_MAX (256u << 20)
#define DV_CONFIG_ENDPOINT_MAX 299 /* characters of an endpoint string */

#define DV_X25519_KEY_LEN 32
#define DV_PSK_LEN 32
#define DV_MLDSA_SEED_LEN 32   /* FIPS 204 KeyGen_internal seed xi */
#define DV_MLDSA_SK_LEN 4032   /* ML-DSA-65 expanded private key */
#define DV_MLDSA_PK_LEN 1952   /* ML-DSA-65 public key */

struct dv_peer_config {
	char name[DV_CONFIG_PEER_NAME_MAX + 1]; /* optional `name`, "" if none */
	uint8_t public_key[DV_X25519_KEY_LEN];
	int has_psk;
	uint8_t psk[DV_PSK_LEN];
	struct dv_cidr *allowed_ips;
	size_t n_allowed_ips;
	int has_endpoint;
	/* As written: "1.2.3.4:51820", "[::1]:5", "host:port"; allocated
	 * (at most DV_CONFIG_ENDPOINT_MAX bytes) when has_endpoint. */
	char *endpoint_str;
	/* Resolved at load time; endpoint_len is 0 only when the config was
	 * parsed with DV_CONFIG_NO_RESOLVE and the host is a name. */
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	/* `reresolve` (default true): resolve a host-name endpoint again when
	 * handshakes keep failing. Meaningless for a numeric endpoint. */
	int reresolve;
	enum dv_mode mode; /* the peer's `mode`, else the interface's */
	int has_mldsa_public_key;
	/* DV_MLDSA_PK_LEN bytes, allocated only for a peer given one, so a
	 * config of 2^20 classic or hybrid peers stays small. */
	uint8_t *mldsa_public_key;
	unsigned line; /* line of its [[peer]] header, for messages */
};

/* `table`: where the allowed-IPs routes go (wg-quick's Table). AUTO: the
 * main table, or, when an allowed IP is a default route, a table of its
 * own with policy rules (full tunnel); OFF: no routes; ID: table `table`. */
enum dv_table_mode { DV_TABLE_AUTO, DV_TABLE_OFF, DV_TABLE_ID };

/* The hooks, run by `up`/`down` through /bin/sh -c (%i = interface). */
enum dv_hook { DV_HOOK_PRE_UP, DV_HOOK_POST_UP, DV_HOOK_PRE_DOWN, DV_HOOK_POST_DOWN,
	       DV_HOOK_COUNT };
#define DV_CONFIG_HOOK_MAX 4096 /* bytes in one hook command */
#define DV_CONFIG_LIST_MAX 64   /* entries in `dns`, commands per hook */

struct dv_config {
	char path[4096]; /* as given to the loader, for messages */
	char name[DV_CONFIG_NAME_MAX + 1]; /* interface name, "" if not set */
	uint16_t listen_port; /* 0 = random */
	struct dv_cidr *addresses;
	size_t n_addresses;
	enum dv_mode mode; /* default DV_MODE_DEFAULT (hybrid) */
	unsigned mtu;      /* 0 = automatic (daemon: from the routes to the endpoints) */
	unsigned handshake_datagram_max; /* default DV_CONFIG_HS_DATAGRAM_DEFAULT */
	unsigned threads;  /* 0 = one per CPU (DV_CONFIG_THREADS_MAX at most) */
	enum dv_table_mode table_mode;
	uint32_t table;    /* DV_TABLE_ID: the table; else chosen at `up` */
	uint32_t fwmark;   /* SO_MARK of the UDP socket, 0 = none (auto when full tunnel) */
	char **dns;        /* `dns` servers (numeric addresses, as written) */
	size_t n_dns;
	char **dns_search; /* `dns` entries that are not addresses: search domains */
	size_t n_dns_search;
	char **hooks[DV_HOOK_COUNT];
	size_t n_hooks[DV_HOOK_COUNT];
	uint8_t private_key[DV_X25519_KEY_LEN]; /* as written (clamped on use) */
	uint8_t public_key[DV_X25519_KEY_LEN];  /* derived from private_key */
	int has_mldsa_private_key;
	/* The seed (mldsa_key_len 32) or the expanded key (4032). */
	uint8_t mldsa_seed_or_sk[DV_MLDSA_SK_LEN];
	size_t mldsa_key_len;
	/* metrics_listen: where the optional HTTP listener serves GET
	 * /metrics (a numeric IPv4 ADDR:PORT or [IPv6]:PORT); off when
	 * metrics_listen_len is 0. */
	struct sockaddr_storage metrics_listen;
	socklen_t metrics_listen_len;
	struct dv_peer_config *peers;
	size_t n_peers;
	/* Lines of the [interface] header and of some of its keys (0 when
	 * absent), for messages after loading (a reload's refusals). */
	unsigned line_interface, line_name, line_mldsa_private_key,
		line_metrics_listen;
	/* The sandbox: `user` (the daemon's user after setup, "" = default)
	 * from the file; no_sandbox only from the command line
	 * (`up --no-sandbox`), never from a file. */
	char user[DV_CONFIG_USER_MAX + 1];
	int no_sandbox;
};

/* Receives each warning (an ignored legacy key such as pq_private_key),
 * formatted "FILE:LINE: key 'K': ..." like errors. */
typedef void (*dv_config_warn_fn)(void *arg, const char *msg);

/* dv_config_parse_ex flags. */
#define DV_CONFIG_NO_RESOLVE 1u /* numeric endpoints only; no DNS (fuzzing) */

/* Reads, parses and validates the file at path into *cfg. On error returns
 * -1, leaves *cfg empty (nothing to free) and writes a message naming the
 * file, the line and the key into err: "FILE:LINE: key 'K': what is
 * wrong". warn may be NULL. */
int dv_config_load(const char *path, struct dv_config *cfg, char *err,
		   size_t errlen, dv_config_warn_fn warn, void *warn_arg);

/* The same on text already in memory (len bytes, need not be
 * NUL-terminated); path_for_messages names it in messages. */
int dv_config_parse(const char *path_for_messages, const char *text,
		    size_t len, struct dv_config *cfg, char *err,
		    size_t errlen, dv_config_warn_fn warn, void *warn_arg);
int dv_config_parse_ex(const char *path_for_messages, const char *text,
		       size_t len, struct dv_config *cfg, char *err,
		       size_t errlen, dv_config_warn_fn warn, void *warn_arg,
		       unsigned flags);

/* "pre_up", "post_up", "pre_down", "post_down". */
const char *dv_hook_key(enum dv_hook h);

/* Frees what a successful load allocated and wipes every key. Safe on a
 * zeroed or already freed config. */
void dv_config_free(struct dv_config *cfg);

#endif
