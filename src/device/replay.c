/* RFC 6479 anti-replay window, as WireGuard uses it (its receive.c
 * counter_validate): a ring of 64-bit words; moving the window forward
 * clears the words it passes instead of shifting the whole bitmap. */
#include "device/replay.h"

#include <string.h>

#define RING_WORDS (DV_REPLAY_BITS_TOTAL / 64)

void dv_replay_init(struct dv_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool dv_replay_accept(struct dv_replay *r, uint64_t counter, uint64_t limit)
{
	uint64_t word, bit;

	if (counter >= limit)
		return false;
	/* Shift by one so that 0 in r->greatest means "nothing seen" and
	 * counter 0 is an ordinary value. limit < 2^64 - 1, so no overflow. */
	counter++;
	if (counter + DV_REPLAY_WINDOW_SIZE < r->greatest)
		return false; /* too old */
	word = counter >> 6;
	if (counter > r->greatest) {
		uint64_t cur = r->greatest >> 6, diff = word - cur;

		if (diff > RING_WORDS)
			diff = RING_WORDS;
		for (uint64_t i = 1; i <= diff; i++)
			r->bitmap[(cur + i) & (RING_WORDS - 1)] = 0;
		r->greatest = counter;
	}
	word &= RING_WORDS - 1;
	bit = 1ull << (counter & 63);
	if (r->bitmap[word] & bit)
		return false; /* duplicate */
	r->bitmap[word] |= bit;
	return true;
}
