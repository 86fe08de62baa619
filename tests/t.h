/* Minimal test helpers: each unit-test program ends with the line
 * "N passed, N failed" and exits non-zero when anything failed. */
#ifndef DV_TESTS_T_H
#define DV_TESTS_T_H

#include <stdio.h>
#include <string.h>

static unsigned t_passed, t_failed;

#define T_CHECK(cond)                                                        \
	do {                                                                 \
		if (cond) {                                                  \
			t_passed++;                                          \
		} else {                                                     \
			t_failed++;                                          \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, \
				#cond);                                      \
		}                                                            \
	} while (0)

#define T_EQ_MEM(a, b, n) T_CHECK(memcmp((a), (b), (n)) == 0)

#define T_RUN(fn)                                                            \
	do {                                                                 \
		unsigned f0_ = t_failed;                                     \
		fn();                                                        \
		if (t_failed != f0_)                                         \
			fprintf(stderr, "  in %s\n", #fn);                   \
	} while (0)

static inline int t_done(void)
{
	printf("%u passed, %u failed\n", t_passed, t_failed);
	return t_failed ? 1 : 0;
}

#endif
