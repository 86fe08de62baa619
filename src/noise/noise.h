/* The handshake: Noise IKpsk2 in three modes (docs/PROTOCOL.md).
 *
 * Pure code on byte arrays: no sockets, no clocks, no allocation, no logs.
 * Time and randomness come from the caller; peers are found through a
 * lookup callback. mac1/mac2 are the cookie module's (noise/cookie.h): the
 * create functions leave them zero, and the caller checks them before
 * calling a consume function.
 *
 * Typical flow (initiator i, responder r; each side holds one noise_local
 * and one noise_peer per remote peer):
 *   i: noise_create_initiation  -> cookie_add_macs -> send
 *   r: cookie_check -> noise_consume_initiation -> noise_create_response
 *      -> cookie_add_macs -> send -> noise_derive_keys
 *   i: cookie_check -> (find peer by receiver index) noise_consume_response
 *      -> noise_derive_keys
 * A consume function works on a copy and changes the peer only when every
 * check passed; on any error the peer (and any session) is as before. */
#ifndef DV_NOISE_NOISE_H
#define DV_NOISE_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mode.h"
#include "noise/messages.h"

#define NOISE_MLDSA_PK_LEN 1952 /* FIPS 204, ML-DSA-65 */
#define NOISE_MLDSA_SK_LEN 4032
#define NOISE_MLKEM_DK_LEN 2400 /* FIPS 203, ML-KEM-768 */

/* Return codes: 0 or one of these (negative). */
enum noise_result {
	NOISE_OK = 0,
	NOISE_ERR_LENGTH = -1,       /* size not that of the type, reserved bytes set, unknown type */
	NOISE_ERR_DECRYPT = -2,      /* a DH gave zero or an AEAD did not verify */
	NOISE_ERR_UNKNOWN_PEER = -3, /* the static key names no configured peer */
	NOISE_ERR_MODE = -4,         /* the peer's mode is not the message's: count it (no downgrade) */
	NOISE_ERR_REPLAY = -5,       /* timestamp not newer than the last accepted one */
	NOISE_ERR_RATELIMIT = -6,    /* more than 50 initiations per second from this peer */
	NOISE_ERR_MLKEM_KEY = -7,    /* ek fails FIPS 203 7.2 (a coefficient >= q) */
	NOISE_ERR_SIGNATURE = -8,    /* ML-DSA-65 signature does not verify */
	NOISE_ERR_STATE = -9,        /* no pending handshake this message answers */
	NOISE_ERR_BUFFER = -10,      /* output buffer too small */
	NOISE_ERR_CONFIG = -11,      /* pqonly without an ML-DSA key (ours or the peer's), bad key */
	NOISE_ERR_INTERNAL = -12,    /* a crypto library call failed */
};

/* Short text for a return code, for counters and rate-limited logs. */
const char *noise_strerror(int rc);

/* Randomness source. NULL, or a NULL fill, means dv_random (the OS CSPRNG).
 * Draw order (the handshake vectors rely on it): initiator Ei_priv, ML-KEM d,
 * z, then (pqonly) ML-DSA rnd; responder Er_priv, ML-KEM m, then (pqonly)
 * ML-DSA rnd. */
struct noise_rng {
	void (*fill)(void *arg, uint8_t *out, size_t len);
	void *arg;
};

/* Our identity: X25519 static key, and the ML-DSA-65 key for pqonly peers. */
struct noise_local {
	uint8_t priv[DV_KEY_LEN];
	uint8_t pub[DV_KEY_LEN];
	bool has_mldsa;
	uint8_t mldsa_sk[NOISE_MLDSA_SK_LEN];
	uint8_t mldsa_pk[NOISE_MLDSA_PK_LEN];
	bool has_mldsa_pk;
};

enum noise_hs_state {
	NOISE_HS_ZEROED = 0,
	NOISE_HS_CREATED_INITIATION,  /* initiator, waiting for the response */
	NOISE_HS_CONSUMED_INITIATION, /* responder, about to create the response */
	NOISE_HS_CREATED_RESPONSE,    /* responder, keys ready to derive */
	NOISE_HS_CONSUMED_RESPONSE,   /* initiator, keys ready to derive */
};

/* One handshake in progress. Secret: wiped by noise_derive_keys and by
 * noise_handshake_clear. */
struct noise_handshake {
	enum noise_hs_state state;
	enum dv_mode mode;                    /* the mode this handshake runs in */
	uint32_t local_index, remote_index;
	uint8_t e_priv[DV_KEY_LEN];           /* our ephemeral */
	uint8_t remote_e[DV_KEY_LEN];         /* their ephemeral */
	uint8_t ck[DV_HASH_LEN];              /* chaining key C */
	uint8_t h[DV_HASH_LEN];               /* transcript hash H */
	uint8_t mlkem_dk[NOISE_MLKEM_DK_LEN]; /* initiator: ephemeral ML-KEM dk */
	uint8_t mlkem_ek[DV_MLKEM_EK_LEN];    /* responder: the initiator's ek */
};

/* Everything the handshake keeps about one remote peer. */
struct noise_peer {
	enum dv_mode mode;                    /* configured: selects types 1/2, 5/6, 7/8 */
	uint8_t remote_static[DV_KEY_LEN];
	uint8_t psk[DV_KEY_LEN];              /* Q: zero when none */
	uint8_t static_static[DV_KEY_LEN];    /* DH(our priv, their pub), precomputed */
	bool has_mldsa_pk;
	/* NOISE_MLDSA_PK_LEN bytes owned by the caller (needed in pqonly
	 * mode): only peers given one carry its 1952 bytes. */
	const uint8_t *mldsa_pk;
	uint8_t latest_timestamp[DV_TAI64N_LEN]; /* greatest TAI64N accepted */
	/* Greatest TAI64N of an initiation refused for its mode: a replay of
	 * it is a replay, not another mode refusal. */
	uint8_t refused_mode_timestamp[DV_TAI64N_LEN];
	/* TAI64N of the last initiation whose signature failed: a replay of
	 * it costs no further Verify. */
	uint8_t failed_sig_timestamp[DV_TAI64N_LEN];
	bool has_last_initiation;
	uint64_t last_initiation_ns;          /* caller's monotonic clock */
	/* Storage for the handshake in progress, owned by the caller (a
	 * pending handshake holds 3.7 KB of ML-KEM keys, an idle peer none):
	 * NULL reads as NOISE_HS_ZEROED, and a function that must store a
	 * handshake fails with NOISE_ERR_STATE without it. */
	struct noise_handshake *hs;
	void *user;                           /* the device's peer, untouched here */
};

/* Transport keys of a finished handshake. */
struct noise_keypair {
	uint8_t send[DV_KEY_LEN];
	uint8_t recv[DV_KEY_LEN];
	uint32_t local_index;  /* receivers put this in their data messages to us */
	uint32_t remote_index; /* we put this in our data messages */
	bool initiator;
	enum dv_mode mode;
};

/* Sets priv (used as given: X25519 clamps) and derives pub. Returns 0, or
 * NOISE_ERR_CONFIG when pub would be unusable. No ML-DSA key yet. */
int noise_local_init(struct noise_local *l, const uint8_t priv[DV_KEY_LEN]);
/* ML-DSA-65 identity from the FIPS 204 seed xi (sets sk and pk). */
int noise_local_set_mldsa_seed(struct noise_local *l, const uint8_t xi[32]);
/* ML-DSA-65 identity from an expanded secret key (pk recomputed from it;
 * NOISE_ERR_CONFIG when the key is out of range or inconsistent). */
int noise_local_set_mldsa_sk(struct noise_local *l, const uint8_t sk[NOISE_MLDSA_SK_LEN]);
/* Wipes every secret of l. */
void noise_local_clear(struct noise_local *l);

/* Configures a peer: mode, its static key, optional psk (NULL = none).
 * Precomputes DH(Sl, Sr); returns NOISE_ERR_CONFIG when that DH is zero
 * (a low-order public key). user and the hs storage (wiped) are kept;
 * everything else is reset, the ML-DSA key included. */
int noise_peer_init(struct noise_peer *p, const struct noise_local *l,
		    enum dv_mode mode, const uint8_t remote_pub[DV_KEY_LEN],
		    const uint8_t psk[DV_KEY_LEN]);
/* The peer's ML-DSA-65 public key (needed for pqonly): pk is kept by
 * reference and must outlive its use (or the next noise_peer_init). */
void noise_peer_set_mldsa_pk(struct noise_peer *p,
			     const uint8_t pk[NOISE_MLDSA_PK_LEN]);
/* Forgets a pending handshake (REKEY_ATTEMPT_TIME over, peer removed). */
void noise_handshake_clear(struct noise_handshake *hs);
/* Wipes every secret of p, the handshake storage it names included. */
void noise_peer_clear(struct noise_peer *p);

/* Size of a handshake message of this type (1, 2, 5, 6, 7, 8), also 64 for
 * a cookie reply (3); 0 for any other type (data messages vary). */
size_t noise_msg_len(uint8_t type);
/* The handshake types of a mode, and the mode of a handshake type (returns
 * -1 for a type that is not a handshake initiation or response). */
uint8_t noise_initiation_type(enum dv_mode m);
uint8_t noise_response_type(enum dv_mode m);
int noise_type_mode(uint8_t type, enum dv_mode *m);

/* Writes an initiation in p->mode to out: *outlen is the capacity of out on
 * entry and the message length on return. tai64n is dv_tai64n() of now.
 * mac1/mac2 are left zero. p->hs becomes CREATED_INITIATION with
 * local_index (the caller's index table maps it back to p). In pqonly
 * mode both ML-DSA keys (ours, the peer's) must be set: else
 * NOISE_ERR_CONFIG. */
int noise_create_initiation(const struct noise_local *l, struct noise_peer *p,
			    uint32_t local_index,
			    const uint8_t tai64n[DV_TAI64N_LEN],
			    const struct noise_rng *rng, uint8_t *out,
			    size_t *outlen);

/* Checks 3-7 of docs/PROTOCOL.md §8.1 on an initiation whose length and macs the
 * caller checked (length and reserved bytes are checked again): decrypts
 * the static key, finds the peer with lookup(arg, static_pub), checks its
 * mode, the replay and rate limit (now_ns: monotonic ns), the ML-KEM ek,
 * then in pqonly the signature. On success *peer_out is the peer, its
 * hs is CONSUMED_INITIATION and its timestamp/rate state is updated. On
 * failure no peer changes; *peer_out still names the peer when every AEAD
 * verified (to count mode mismatches, replays, bad signatures per peer),
 * else it is NULL. */
int noise_consume_initiation(const struct noise_local *l, const uint8_t *msg,
			     size_t len,
			     struct noise_peer *(*lookup)(void *arg,
							  const uint8_t pub[DV_KEY_LEN]),
			     void *arg, uint64_t now_ns,
			     struct noise_peer **peer_out);

/* Responder: after noise_consume_initiation, writes the response (mac1/mac2
 * zero; *outlen as above) and moves p->hs to CREATED_RESPONSE. */
int noise_create_response(const struct noise_local *l, struct noise_peer *p,
			  uint32_t local_index, const struct noise_rng *rng,
			  uint8_t *out, size_t *outlen);

/* Initiator: p was found by the response's receiver index (macs checked by
 * the caller). Checks state, index and mode, then the DHs, Decaps, psk,
 * AEADs and, in pqonly, the signature. On success p->hs is
 * CONSUMED_RESPONSE; on failure p is unchanged. */
int noise_consume_response(const struct noise_local *l, struct noise_peer *p,
			   const uint8_t *msg, size_t len);

/* After CREATED_RESPONSE (responder) or CONSUMED_RESPONSE (initiator):
 * (T_send, T_recv) per WireGuard's KDF2(C, empty), the indices and the
 * role; then the handshake is wiped. NOISE_ERR_STATE in any other state. */
int noise_derive_keys(struct noise_peer *p, struct noise_keypair *kp);
#endif
