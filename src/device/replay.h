/* The receive-side replay window of transport data: RFC 6479's ring of
 * bitmap words, sized as Linux WireGuard's (messages.h counter_values:
 * 8192 bits, of which one word is the redundant block, so 8128 counters
 * behind the greatest one seen are still accepted once each). */
#ifndef DV_DEVICE_REPLAY_H
#define DV_DEVICE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DV_REPLAY_BITS_TOTAL 8192
#define DV_REPLAY_REDUNDANT_BITS 64
#define DV_REPLAY_WINDOW_SIZE (DV_REPLAY_BITS_TOTAL - DV_REPLAY_REDUNDANT_BITS)

struct dv_replay {
	/* greatest counter accepted, plus one (0: nothing accepted yet) */
	uint64_t greatest;
	uint64_t bitmap[DV_REPLAY_BITS_TOTAL / 64];
};

void dv_replay_init(struct dv_replay *r);

/* Call only after the packet's tag verified. Accepts (true) and records
 * counter when it was never seen, is not too far behind the greatest one,
 * and is below limit (REJECT_AFTER_MESSAGES); false otherwise. */
bool dv_replay_accept(struct dv_replay *r, uint64_t counter, uint64_t limit);

#endif
