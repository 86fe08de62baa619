/* A complete handshake in memory between two identities, for
 * `dybervpn benchmark` and as a quick self-check: init sets up the two
 * identities and their peers once (not timed), run does one full handshake
 * (create the initiation, consume it and create the response, consume the
 * response, derive both sides' keys and compare them). */
#ifndef DV_NOISE_SELFTEST_H
#define DV_NOISE_SELFTEST_H

#include "noise/noise.h"

struct noise_selftest_side {
	struct noise_local local;
	struct noise_peer peer;
	struct noise_handshake hs; /* the peer's handshake storage */
	struct noise_keypair kp;
	uint8_t msg[DV_MAX_HANDSHAKE_LEN];
};

struct noise_selftest {
	enum dv_mode mode;
	uint64_t now_ns; /* advances 1 s per run: the initiation rate limit */
	uint64_t ts_sec; /* advances per run: timestamps must grow */
	struct noise_selftest_side i, r;
};

/* Two fresh identities (ML-DSA keys too in pqonly mode) knowing each other. */
int noise_selftest_init(struct noise_selftest *t, enum dv_mode m);
/* One full handshake; 0 when both sides derive matching keys. */
int noise_selftest_run(struct noise_selftest *t);
/* Wipes every secret of t. */
void noise_selftest_clear(struct noise_selftest *t);

#endif
