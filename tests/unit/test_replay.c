/* The replay window: in order, reordered, duplicates, too old, the window
 * edge, big jumps and the REJECT_AFTER_MESSAGES limit. */
#include <stdint.h>

#include "device/replay.h"
#include "t.h"

#define LIMIT (UINT64_MAX - (1ULL << 13))

static struct dv_replay r;

static void test_in_order(void)
{
	dv_replay_init(&r);
	for (uint64_t i = 0; i < 20000; i++)
		T_CHECK(dv_replay_accept(&r, i, LIMIT));
	T_CHECK(!dv_replay_accept(&r, 19999, LIMIT));
	T_CHECK(!dv_replay_accept(&r, 0, LIMIT));
}

static void test_reordered_and_duplicates(void)
{
	dv_replay_init(&r);
	T_CHECK(dv_replay_accept(&r, 0, LIMIT));
	T_CHECK(dv_replay_accept(&r, 5, LIMIT));
	T_CHECK(dv_replay_accept(&r, 3, LIMIT));
	T_CHECK(dv_replay_accept(&r, 1, LIMIT));
	T_CHECK(!dv_replay_accept(&r, 3, LIMIT));
	T_CHECK(!dv_replay_accept(&r, 5, LIMIT));
	T_CHECK(!dv_replay_accept(&r, 0, LIMIT));
	T_CHECK(dv_replay_accept(&r, 2, LIMIT));
	T_CHECK(dv_replay_accept(&r, 4, LIMIT));
	T_CHECK(dv_replay_accept(&r, 6, LIMIT));
	for (uint64_t i = 0; i <= 6; i++)
		T_CHECK(!dv_replay_accept(&r, i, LIMIT));
}

static void test_window_edge(void)
{
	const uint64_t top = 100000;

	dv_replay_init(&r);
	T_CHECK(dv_replay_accept(&r, top, LIMIT));
	/* Exactly WINDOW_SIZE behind the greatest is the oldest accepted. */
	T_CHECK(dv_replay_accept(&r, top - DV_REPLAY_WINDOW_SIZE, LIMIT));
	T_CHECK(!dv_replay_accept(&r, top - DV_REPLAY_WINDOW_SIZE, LIMIT));
	T_CHECK(!dv_replay_accept(&r, top - DV_REPLAY_WINDOW_SIZE - 1, LIMIT));
	T_CHECK(dv_replay_accept(&r, top - 1, LIMIT));
	/* After a jump of more than the whole ring, old bits are gone but
	 * everything behind the window is refused. */
	T_CHECK(dv_replay_accept(&r, top + 3 * DV_REPLAY_BITS_TOTAL, LIMIT));
	T_CHECK(!dv_replay_accept(&r, top, LIMIT));
	T_CHECK(dv_replay_accept(&r, top + 3 * DV_REPLAY_BITS_TOTAL - 1, LIMIT));
	T_CHECK(dv_replay_accept(&r, top + 3 * DV_REPLAY_BITS_TOTAL - 64, LIMIT));
}

/* Against a naive set of every counter seen: random jitter around a
 * moving front. */
static void test_random_vs_naive(void)
{
	static uint8_t seen[1 << 16];
	uint64_t greatest = 0, x = 88172645463325252ull;
	int any = 0, mism = 0;

	dv_replay_init(&r);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 200000; i++) {
		uint64_t c, jitter;
		bool want, got;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		jitter = x % 9000;
		c = greatest + 200 > jitter ? greatest + 200 - jitter : 0;
		if (c >= sizeof(seen))
			break;
		want = !seen[c] && !(any && c + DV_REPLAY_WINDOW_SIZE < greatest);
		got = dv_replay_accept(&r, c, LIMIT);
		if (want != got)
			mism++;
		if (got) {
			seen[c] = 1;
			if (!any || c > greatest)
				greatest = c;
			any = 1;
		}
	}
	T_CHECK(mism == 0);
}

static void test_limit(void)
{
	dv_replay_init(&r);
	T_CHECK(dv_replay_accept(&r, LIMIT - 1, LIMIT));
	T_CHECK(!dv_replay_accept(&r, LIMIT, LIMIT));
	T_CHECK(!dv_replay_accept(&r, UINT64_MAX, LIMIT));
	T_CHECK(dv_replay_accept(&r, LIMIT - 2, LIMIT));
}

int main(void)
{
	T_RUN(test_in_order);
	T_RUN(test_reordered_and_duplicates);
	T_RUN(test_window_edge);
	T_RUN(test_random_vs_naive);
	T_RUN(test_limit);
	return t_done();
}
