/* The device core's shared internals: the device, its peers, their
 * keypairs and the index table. Included by the device sources and by the
 * unit tests (for test knobs); never by the platform, which sees only
 * device.h. */
#ifndef DV_DEVICE_INTERNAL_H
#define DV_DEVICE_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "device/allowedips.h"
#include "device/device.h"
#include "device/fragment.h"
#include "device/ratelimit.h"
#include "device/replay.h"
#include "device/workers.h"
#include "mode.h"
#include "noise/cookie.h"
#include "noise/noise.h"

#define DV_STAGED_MAX 128          /* packets held per peer awaiting a session */
#define DV_INDEX_MIN_BUCKETS 256   /* index table, grown to keep chains short */
#define DV_KEY_MIN_BUCKETS 256     /* public-key table, likewise */
#define DV_HS_POOL_MAX 64          /* idle handshake buffers kept for reuse */
#define DV_LOAD_THRESHOLD 128      /* mac1-valid handshakes per second: "under load" */
#define DV_COOKIE_REPLIES_PER_SECOND 4096 /* all sources together */
#define DV_COOKIE_REPLY_BURST 256
#define DV_LOG_BURST 5             /* rate-limited log lines per second */

struct dv_peer;
struct dv_keypair;

/* One entry of the index table: a local index we handed out, naming
 * either a pending handshake or a keypair (WireGuard's index_hashtable). */
enum dv_index_kind { DV_INDEX_HANDSHAKE = 1, DV_INDEX_KEYPAIR = 2 };

struct dv_index {
	struct dv_index *next; /* bucket chain */
	uint32_t index;        /* 0 when not in the table */
	enum dv_index_kind kind;
	struct dv_peer *peer;
	struct dv_keypair *keypair; /* DV_INDEX_KEYPAIR only */
};

struct dv_keypair {
	struct noise_keypair k;  /* send/recv keys, indices, role */
	struct dv_keypair *dead_next; /* on dv_device.dead */
	struct dv_index entry;   /* maps k.local_index to this keypair */
	uint64_t birth_ns;
	uint64_t send_counter;   /* next counter to send */
	struct dv_replay replay; /* receive counters seen */
};

/* A batch's packets for the crypto workers (workers.h): what the AEAD of
 * one packet needs, filled in by the serial pass before, read by the
 * serial pass after. The key stays valid and unchanged in between: a
 * keypair freed during the pass after is freed only at its end
 * (dv_device.dead). */
#define DV_BATCH_JOBS 64

struct dv_tx_job {
	struct dv_peer *peer;
	uint8_t *pkt;          /* plaintext, DV_HEADROOM/TAILROOM around it */
	size_t len;            /* its length before padding */
	uint64_t counter;
	uint32_t receiver;     /* the peer's index, for the header */
	const uint8_t *key;
	size_t wire_len;       /* set by the worker: 0 when sealing failed */
};

struct dv_rx_job {
	struct dv_keypair *kp;
	uint8_t *msg;          /* the datagram, opened in place */
	size_t len;
	uint64_t counter;
	const struct sockaddr *from;
	socklen_t fromlen;
	/* Set by the worker: the tag verified; then the inner packet's
	 * length (0: malformed or a keepalive) and the peer its source
	 * address routes to (read-only lookups, the table does not change
	 * during a batch), so the serial pass need not pull the plaintext
	 * into its core's cache. */
	bool ok;
	size_t ilen;
	struct dv_peer *src_peer;
};

struct dv_staged {
	uint8_t *buf; /* DV_HEADROOM + len + DV_TAILROOM bytes */
	size_t len;
};

/* A peer's memory stays small while it is idle (WireGuard keeps about a
 * kilobyte): the handshake state (ML-KEM keys, transcript) is taken from
 * the device's pool only while a handshake is pending, the ML-DSA public
 * key is allocated only for a peer given one, and the ring of packets
 * awaiting a session only when the first packet is staged. */
struct dv_peer {
	struct dv_device *dev;
	struct dv_peer *next_peer, *prev_peer; /* configuration order */
	struct dv_peer *key_next;     /* public-key table chain */
	struct noise_peer np;         /* handshake state; np.user = this */
	uint8_t *mldsa_pk;            /* np.mldsa_pk's storage, or NULL */
	struct cookie_maker cookie;   /* mac1/mac2 for what we send it */
	struct dv_index hs_entry;     /* our pending initiation or response */

	/* WireGuard's three slots: current sends; previous still receives
	 * until it expires; next (responder only) awaits its first data. */
	struct dv_keypair *cur, *prev, *next;

	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;       /* 0: none known */
	uint16_t persistent_keepalive; /* seconds, 0 = off */

	/* Timer deadlines (ns on io.now_ns, 0 = off); see timers.c. */
	uint64_t t_retransmit, t_keepalive, t_new_handshake, t_zero_keys,
		t_persistent;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	unsigned handshake_attempts;
	/* Initiations sent since the last completed handshake (any new
	 * traffic resets handshake_attempts; this only a handshake). */
	unsigned initiations_unanswered;
	/* Last handshake message sent, initiation or response (WireGuard's
	 * last_sent_handshake): at most one per REKEY_TIMEOUT is started. */
	bool sent_initiation;
	uint64_t last_initiation_sent_ns; /* valid when sent_initiation */

	struct dv_staged *staged;     /* ring of DV_STAGED_MAX, or NULL */
	unsigned staged_head, staged_count;

	char name[64];                /* the config's optional peer name */
	uint64_t last_handshake_wall_ns; /* UAPI last_handshake_time */
	uint64_t rx_bytes, tx_bytes;
	uint64_t refused_handshakes; /* every refusal below, summed */
	uint64_t refused_mode, refused_signature, refused_mlkem;
	uint64_t handshakes; /* completed: sessions derived and confirmed */
};

struct dv_device {
	struct dv_io io;
	struct noise_local local;
	bool has_private_key;
	enum dv_mode mode;     /* interface default, given to UAPI-added peers */
	size_t mtu;
	uint16_t listen_port;
	uint32_t fwmark;
	struct cookie_checker cookie;
	struct dv_ratelimit ratelimit;
	struct dv_ratelimit cookie_ratelimit; /* cookie replies per source */

	struct dv_peer *peers, *peers_tail;
	size_t n_peers;
	struct dv_allowedips aips;
	struct dv_index **index;  /* index_mask + 1 buckets */
	uint32_t index_mask;
	size_t n_index;
	struct dv_peer **keys;    /* public key -> peer, keys_mask + 1 buckets */
	size_t keys_mask;
	uint8_t keys_hash_key[16]; /* random: chains cannot be chosen */
	struct noise_handshake *hs_pool[DV_HS_POOL_MAX];
	unsigned hs_pool_n;

	/* No peer timer is due before this (0: scan at the next call): with
	 * many peers, a wake-up does not scan them all. */
	uint64_t timers_next_ns;
	uint64_t rekey_after_ns; /* REKEY_AFTER_TIME, or the test knob */
	unsigned load_threshold; /* handshakes per second that mean "under load" */
	uint64_t load_window_start_ns;
	unsigned load_count;     /* mac1-valid handshakes in this window */
	bool load_active;
	uint64_t load_until_ns;  /* under load until then */
	bool cookie_bucket_started;
	uint64_t cookie_tokens_ns, cookie_last_ns; /* cookie reply bucket */

	uint64_t log_window_start_ns; /* rate limit of drop logs */
	unsigned log_count, log_suppressed;

	/* Handshake fragments (docs/PROTOCOL-fragments.md): the datagram
	 * budget for what we send, and the bounded reassembly table for what
	 * we receive (allocated with the device, its pages touched only as
	 * partial messages arrive). */
	size_t hs_budget;
	struct dv_frag_table *frag;
	uint8_t reasm[DV_MAX_HANDSHAKE_LEN]; /* a reassembled message */

	/* The batch in hand (send.c, receive.c) and the threads that share
	 * its AEAD; NULL: the caller's thread alone. */
	struct dv_workers *workers;
	bool own_workers;      /* false: another device's (dv_device_share_workers) */
	struct dv_tx_job *tx;  /* DV_BATCH_JOBS */
	size_t n_tx;
	struct dv_rx_job *rx;  /* DV_BATCH_JOBS */
	size_t n_rx;
	/* While the jobs of a batch are finished, keypairs that end (a
	 * promotion frees the previous one) wait here: a later job of the
	 * batch may still hold them. Freed at the batch's end. */
	bool defer_free;
	struct dv_keypair *dead;

	struct dv_device_stats stats;
	uint8_t scratch[DV_MAX_HANDSHAKE_LEN]; /* handshake replies */
};

/* device.c */
uint64_t dv_now(struct dv_device *d);
void dv_device_log(struct dv_device *d, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Logs a drop caused by outside input, at most DV_LOG_BURST per second. */
void dv_device_log_drop(struct dv_device *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
uint32_t dv_random_u32(void);
/* Test knob: handshake messages per second above which mac2 is required. */
void dv_device_set_load_threshold(struct dv_device *d, unsigned per_second);

/* peer.c */
struct dv_peer *dv_peer_new(struct dv_device *d, const uint8_t pub[DV_KEY_LEN],
			    enum dv_mode mode);
void dv_peer_remove(struct dv_peer *p);
struct dv_peer *dv_peer_by_key(struct dv_device *d, const uint8_t pub[DV_KEY_LEN]);
/* The peer's public key in base64, for logs (public, never secret). */
#define DV_PEER_STR_LEN 45
const char *dv_peer_str(const struct dv_peer *p, char buf[DV_PEER_STR_LEN]);
/* Rebuilds the noise state after a key, psk or mode change. */
int dv_peer_reconfigure(struct dv_peer *p, enum dv_mode mode,
			const uint8_t psk[DV_KEY_LEN]);
void dv_peer_set_endpoint(struct dv_peer *p, const struct sockaddr *sa,
			  socklen_t len);
/* Installs freshly derived keys (WireGuard's keypair rules). */
int dv_peer_add_keypair(struct dv_peer *p, const struct noise_keypair *k);
/* The responder's next keypair received data: it becomes current. */
void dv_peer_promote_next(struct dv_peer *p);
/* Drops every keypair and the pending handshake, wiping them. */
void dv_peer_clear_keys(struct dv_peer *p);
/* Ends the peer's session after a change that makes it unfit (a new
 * private key, a stronger mode): its keys go, and the initiation rate
 * limit is lifted, so the next packet handshakes at once (WireGuard's
 * wg_noise_expire_current_peer_keypairs with its reset of
 * last_sent_handshake). */
void dv_peer_expire_session(struct dv_peer *p);
/* Gives the peer handshake storage (from the pool) if it has none:
 * 0, or -1 when memory ran out. */
int dv_peer_hs_acquire(struct dv_peer *p);
/* Returns the storage when no handshake is pending in it (wiped). */
void dv_peer_hs_trim(struct dv_peer *p);
/* Forgets the pending handshake and returns its storage. */
void dv_peer_hs_release(struct dv_peer *p);
/* Sets (a copy of) the peer's ML-DSA public key: 0, or -1 (no memory). */
int dv_peer_set_mldsa_pk(struct dv_peer *p, const uint8_t pk[NOISE_MLDSA_PK_LEN]);
/* Index and key tables: allocation at device creation, and the end. */
int dv_tables_init(struct dv_device *d);
void dv_tables_free(struct dv_device *d);
void dv_peer_stage(struct dv_peer *p, const uint8_t *pkt, size_t len);
void dv_peer_purge_staged(struct dv_peer *p);

void dv_index_insert(struct dv_device *d, struct dv_index *e);
void dv_index_remove(struct dv_device *d, struct dv_index *e);
struct dv_index *dv_index_find(struct dv_device *d, uint32_t index);

/* peer.c: frees the keypairs that waited for the end of a batch. */
void dv_keypairs_reap(struct dv_device *d);

/* send.c */
/* Sends the staged packets, or a keepalive when there are none. */
void dv_send_staged(struct dv_peer *p);
void dv_send_keepalive(struct dv_peer *p);
void dv_send_initiation(struct dv_peer *p, bool is_retry);
/* Sends a handshake message to the peer's endpoint, adding mac1/mac2. */
void dv_send_handshake(struct dv_peer *p, uint8_t *msg, size_t len);

/* timers.c */
uint64_t dv_timers_run(struct dv_peer *p, uint64_t now);

#endif
