/* libFuzzer harness: arbitrary bytes into every parser of the handshake.
 * The first byte picks the target; the rest is the message:
 *   0: noise_consume_initiation (a responder with one configured peer)
 *   1: noise_consume_response (an initiator with a pending initiation)
 *   2: cookie_check with mac2, and cookie_create_reply when mac1 passed
 *   3: cookie_consume_reply (a maker that has sent a message)
 * The message's type byte is mapped into 1..8, so that every type is
 * reached with any length. The peers are restored after each input, so
 * runs do not depend on each other. */
#include "crypto/classic.h"
#include "noise/cookie.h"
#include "noise/noise.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct noise_local local_r, local_i;
static struct noise_peer peer_r, peer_i, saved_i;
static struct noise_handshake hs_r, hs_i, saved_hs_i;
static struct cookie_checker checker;
static struct cookie_maker maker, saved_maker;
static uint8_t buf[DV_MAX_HANDSHAKE_LEN + 64];
static int ready;

/* Deterministic randomness, so a crash reproduces from its input. */
static void fixed_fill(void *arg, uint8_t *out, size_t len)
{
	uint8_t *ctr = arg;

	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 31 + (*ctr)++);
}

static struct noise_peer *lookup(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	return memcmp(peer_r.remote_static, pub, DV_KEY_LEN) ? NULL : &peer_r;
}

static void setup(void)
{
	uint8_t k[32], ctr = 0, ts[DV_TAI64N_LEN] = { 0 };
	struct noise_rng rng = { fixed_fill, &ctr };
	size_t len = sizeof(buf);

	memset(k, 0x11, sizeof(k));
	dv_x25519_clamp(k);
	noise_local_init(&local_r, k);
	noise_local_set_mldsa_seed(&local_r, k);
	memset(k, 0x22, sizeof(k));
	dv_x25519_clamp(k);
	noise_local_init(&local_i, k);
	noise_local_set_mldsa_seed(&local_i, k);
	/* the responder knows the initiator in pqonly mode (deepest path) */
	peer_r.hs = &hs_r;
	peer_i.hs = &hs_i;
	noise_peer_init(&peer_r, &local_r, DV_MODE_PQONLY, local_i.pub, NULL);
	noise_peer_set_mldsa_pk(&peer_r, local_i.mldsa_pk);
	noise_peer_init(&peer_i, &local_i, DV_MODE_HYBRID, local_r.pub, NULL);
	noise_create_initiation(&local_i, &peer_i, 7, ts, &rng, buf, &len);
	saved_i = peer_i;
	saved_hs_i = hs_i;
	cookie_checker_init(&checker, local_r.pub);
	cookie_maker_init(&maker, local_r.pub);
	cookie_add_macs(&maker, buf, len, 0);
	saved_maker = maker;
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t src[6] = { 10, 0, 0, 1, 0x12, 0x34 };
	uint8_t reply[DV_COOKIE_REPLY_LEN];
	struct noise_peer *found;
	size_t len;

	if (!ready)
		setup();
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	len = size - 1;
	memcpy(buf, data + 1, len);
	if (len >= 1)
		buf[0] = (uint8_t)(1 + data[1] % 8);

	switch (data[0] % 4) {
	case 0:
		noise_consume_initiation(&local_r, buf, len, lookup, NULL,
					 1000000000ULL, &found);
		break;
	case 1:
		peer_i = saved_i;
		hs_i = saved_hs_i;
		if (noise_consume_response(&local_i, &peer_i, buf, len) == 0) {
			struct noise_keypair kp;

			noise_derive_keys(&peer_i, &kp);
		}
		break;
	case 2:
		if (cookie_check(&checker, buf, len, src, sizeof(src), 5, true) !=
		    COOKIE_MAC_INVALID)
			cookie_create_reply(&checker, reply, buf, len, src,
					    sizeof(src), 5);
		break;
	default:
		maker = saved_maker;
		cookie_consume_reply(&maker, buf, len, 5);
		break;
	}
	return 0;
}
