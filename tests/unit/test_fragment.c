/* Handshake fragments: cutting under every budget and reassembling in
 * order, out of order, with duplicates; rejected headers (wrong totals,
 * counts, offsets, inner types); per-source and total bounds, replacement
 * by a mac2-proven source; the REKEY_TIMEOUT expiry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/fragment.h"
#include "t.h"

static struct dv_frag_table tab;
static uint8_t msg[DV_MAX_HANDSHAKE_LEN], out[DV_MAX_HANDSHAKE_LEN];
static uint8_t frag[DV_FRAG_COUNT_MAX][DV_FRAG_BUDGET_DEFAULT];
static size_t flen[DV_FRAG_COUNT_MAX];
static const uint8_t src4[6] = { 192, 0, 2, 1, 0x12, 0x34 };

static void fill_msg(uint8_t type, size_t len, uint32_t sender)
{
	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	msg[0] = type;
	msg[1] = msg[2] = msg[3] = 0;
	dv_le32_put(msg + DV_OFF_SENDER, sender);
}

static unsigned cut(size_t len, size_t budget)
{
	unsigned n = dv_frag_count(msg[0], len, budget);

	for (unsigned i = 0; i < n && n > 1; i++) {
		flen[i] = dv_frag_make(frag[i], msg, len, budget, i);
		T_CHECK(flen[i] > DV_FRAG_OVERHEAD && flen[i] <= budget);
	}
	return n;
}

static int add(unsigned i, const uint8_t *src, size_t srclen, bool proven,
	       uint64_t now, size_t *olen)
{
	struct dv_frag f;

	if (dv_frag_parse(frag[i], flen[i], &f))
		return 99;
	return dv_frag_add(&tab, &f, src, srclen, proven, now, out, olen);
}

static void test_counts(void)
{
	fill_msg(DV_MSG_HYBRID_INITIATION, DV_HYBRID_INITIATION_LEN, 1);
	T_CHECK(dv_frag_count(5, 1332, 1232) == 2);
	T_CHECK(dv_frag_count(6, 1180, 1232) == 1);
	T_CHECK(dv_frag_count(7, 4657, 1232) == 4);
	T_CHECK(dv_frag_count(8, 4505, 1232) == 4);
	T_CHECK(dv_frag_count(1, 148, 1232) == 1); /* classic: whole */
	T_CHECK(dv_frag_count(1, 148, DV_FRAG_BUDGET_MIN) == 1);
	T_CHECK(dv_frag_count(7, 4657, DV_FRAG_BUDGET_MIN) == 10);
	T_CHECK(dv_frag_count(7, 4657, DV_FRAG_BUDGET_MIN - 1) == 0);
	T_CHECK(dv_frag_count(5, 1332, 1332) == 1);
	T_CHECK(dv_frag_count(5, 1331, 1232) == 1); /* not the type's length */
	T_CHECK(dv_frag_make(frag[0], msg, 1332, 1232, 2) == 0);
}

/* Every budget from the minimum to the default, every fragmentable
 * type, in order and reversed: the message comes back byte for byte. */
static void test_roundtrip_every_budget(void)
{
	static const struct { uint8_t t; size_t len; } ty[] = {
		{ 5, DV_HYBRID_INITIATION_LEN }, { 6, DV_HYBRID_RESPONSE_LEN },
		{ 7, DV_PQ_INITIATION_LEN }, { 8, DV_PQ_RESPONSE_LEN },
	};
	uint64_t now = 1;

	for (size_t k = 0; k < 4; k++) {
		for (size_t b = DV_FRAG_BUDGET_MIN; b <= DV_FRAG_BUDGET_DEFAULT; b++) {
			unsigned n;
			size_t olen = 0;
			int rc = 0;

			fill_msg(ty[k].t, ty[k].len, (uint32_t)b);
			n = cut(ty[k].len, b);
			if (n == 1)
				continue;
			for (unsigned j = 0; j < n; j++) {
				unsigned i = b & 1 ? n - 1 - j : j;

				rc = add(i, src4, sizeof(src4), false, now, &olen);
				if (j < n - 1 && rc != DV_FRAG_PENDING)
					break;
			}
			if (rc != DV_FRAG_COMPLETE || olen != ty[k].len ||
			    memcmp(out, msg, olen)) {
				T_CHECK(0);
				return;
			}
		}
	}
	T_CHECK(dv_frag_partials(&tab) == 0);
}

static void test_duplicates_and_shuffle(void)
{
	size_t olen;
	unsigned n;

	dv_frag_clear(&tab);
	fill_msg(7, DV_PQ_INITIATION_LEN, 42);
	n = cut(DV_PQ_INITIATION_LEN, 1232);
	T_CHECK(n == 4);
	T_CHECK(add(2, src4, 6, false, 1, &olen) == DV_FRAG_PENDING);
	T_CHECK(add(2, src4, 6, false, 1, &olen) == DV_FRAG_DUPLICATE);
	T_CHECK(add(0, src4, 6, false, 1, &olen) == DV_FRAG_PENDING);
	/* a fragment with the same number but other bytes never overwrites */
	frag[0][DV_FRAG_HEADER_LEN] ^= 0xff;
	T_CHECK(add(0, src4, 6, false, 1, &olen) == DV_FRAG_DUPLICATE);
	frag[0][DV_FRAG_HEADER_LEN] ^= 0xff;
	T_CHECK(add(3, src4, 6, false, 1, &olen) == DV_FRAG_PENDING);
	T_CHECK(add(1, src4, 6, false, 1, &olen) == DV_FRAG_COMPLETE);
	T_CHECK(olen == DV_PQ_INITIATION_LEN && !memcmp(out, msg, olen));
	T_CHECK(tab.stats.duplicate == 2 && dv_frag_partials(&tab) == 0);
}

/* A well-formed fragment with one header field changed. */
static int parse_with(size_t i, size_t off, uint8_t v)
{
	struct dv_frag f;
	uint8_t save = frag[i][off];
	int rc;

	frag[i][off] = v;
	rc = dv_frag_parse(frag[i], flen[i], &f);
	frag[i][off] = save;
	return rc;
}

static void test_bad_headers(void)
{
	struct dv_frag f;

	fill_msg(7, DV_PQ_INITIATION_LEN, 7);
	T_CHECK(cut(DV_PQ_INITIATION_LEN, 1232) == 4);
	for (unsigned i = 0; i < 4; i++)
		T_CHECK(dv_frag_parse(frag[i], flen[i], &f) == 0 && f.number == i);
	T_CHECK(parse_with(0, 1, 1) < 0);           /* reserved */
	T_CHECK(parse_with(0, 11, 1) < 0);          /* reserved */
	T_CHECK(parse_with(0, 8, 1) < 0);           /* classic: not fragmentable */
	T_CHECK(parse_with(0, 8, 3) < 0);           /* cookie reply */
	T_CHECK(parse_with(0, 8, 9) < 0);           /* a fragment of a fragment */
	T_CHECK(parse_with(0, 8, 8) < 0);           /* total not type 8's */
	T_CHECK(parse_with(0, 9, 4) < 0);           /* number >= count */
	T_CHECK(parse_with(0, 10, 1) < 0);          /* count 1 */
	T_CHECK(parse_with(0, 10, 5) < 0);          /* count != ceil(total / n) */
	T_CHECK(parse_with(0, 10, 17) < 0);
	T_CHECK(parse_with(0, 12, 0x30) < 0);       /* wrong total */
	T_CHECK(parse_with(1, 14, 0) < 0);          /* offset != number * n */
	T_CHECK(parse_with(3, 14, 0) < 0);          /* last: offset + n != total */
	T_CHECK(parse_with(3, 14, (uint8_t)(frag[3][14] + 1)) < 0);
	T_CHECK(dv_frag_parse(frag[0], DV_FRAG_OVERHEAD, &f) < 0); /* empty */
	T_CHECK(dv_frag_parse(frag[1], flen[1] - 1, &f) < 0);      /* n changed */
	T_CHECK(dv_frag_parse(frag[0], 3, &f) < 0);
	/* the last fragment with n > L */
	fill_msg(5, DV_HYBRID_INITIATION_LEN, 7);
	T_CHECK(cut(DV_HYBRID_INITIATION_LEN, 1000) == 2);
	T_CHECK(dv_frag_parse(frag[1], flen[1], &f) == 0);
	frag[1][14] = 10; frag[1][15] = 0;          /* offset 10 of 2: n > L */
	T_CHECK(dv_frag_parse(frag[1], flen[1], &f) < 0);
}

/* Fragments of the same message cut under two budgets disagree on L. */
static void test_mismatch(void)
{
	uint8_t other[DV_FRAG_BUDGET_DEFAULT];
	size_t olen, ol;
	struct dv_frag f;

	dv_frag_clear(&tab);
	fill_msg(7, DV_PQ_INITIATION_LEN, 9);
	T_CHECK(cut(DV_PQ_INITIATION_LEN, 1232) == 4);
	ol = dv_frag_make(other, msg, DV_PQ_INITIATION_LEN, 1200, 1);
	T_CHECK(add(0, src4, 6, false, 1, &olen) == DV_FRAG_PENDING);
	T_CHECK(dv_frag_parse(other, ol, &f) == 0);
	T_CHECK(dv_frag_add(&tab, &f, src4, 6, false, 1, out, &olen) == DV_FRAG_MISMATCH);
	T_CHECK(tab.stats.mismatch == 1 && dv_frag_partials(&tab) == 1);
	for (unsigned i = 1; i < 4; i++)
		T_CHECK(add(i, src4, 6, false, 1, &olen) ==
			(i < 3 ? DV_FRAG_PENDING : DV_FRAG_COMPLETE));
	T_CHECK(!memcmp(out, msg, DV_PQ_INITIATION_LEN));
}

static void test_bounds_and_expiry(void)
{
	uint8_t src[18] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint64_t now = 1000;
	size_t olen;

	dv_frag_clear(&tab);
	fill_msg(7, DV_PQ_INITIATION_LEN, 1);
	/* one /64, new senders and ports: two partial messages, no more;
	 * a new one takes the place of the group's oldest */
	for (uint32_t s = 0; s < 5; s++) {
		dv_le32_put(msg + DV_OFF_SENDER, s);
		cut(DV_PQ_INITIATION_LEN, 1232);
		src[15] = (uint8_t)s;
		src[17] = (uint8_t)s;
		T_CHECK(add(0, src, 18, false, now + s, &olen) == DV_FRAG_PENDING);
		T_CHECK(dv_frag_partials(&tab) == (s < 2 ? s + 1 : 2));
	}
	T_CHECK(tab.stats.source_replaced == 3 && tab.stats.source_full == 0);
	/* the survivors are the two newest: sender 3's message goes on */
	dv_le32_put(msg + DV_OFF_SENDER, 3);
	cut(DV_PQ_INITIATION_LEN, 1232);
	src[15] = src[17] = 3;
	T_CHECK(add(1, src, 18, false, now + 5, &olen) == DV_FRAG_PENDING);
	dv_le32_put(msg + DV_OFF_SENDER, 0);
	cut(DV_PQ_INITIATION_LEN, 1232);
	src[15] = src[17] = 0;
	T_CHECK(add(1, src, 18, false, now + 5, &olen) == DV_FRAG_PENDING); /* opened anew */
	T_CHECK(tab.stats.source_replaced == 4 && dv_frag_partials(&tab) == 2);
	dv_frag_clear(&tab);
	/* partial messages proven by mac2 are not given up for an unproven
	 * one; a proven one takes the place of the oldest */
	for (uint32_t s = 0; s < 2; s++) {
		dv_le32_put(msg + DV_OFF_SENDER, s);
		cut(DV_PQ_INITIATION_LEN, 1232);
		T_CHECK(add(0, src, 18, true, now + s, &olen) == DV_FRAG_PENDING);
	}
	dv_le32_put(msg + DV_OFF_SENDER, 7);
	cut(DV_PQ_INITIATION_LEN, 1232);
	T_CHECK(add(0, src, 18, false, now + 2, &olen) == DV_FRAG_SOURCE_FULL);
	T_CHECK(add(0, src, 18, true, now + 2, &olen) == DV_FRAG_PENDING);
	T_CHECK(tab.stats.source_full == 1 && tab.stats.source_replaced == 1);
	dv_frag_clear(&tab);
	fill_msg(7, DV_PQ_INITIATION_LEN, 1);
	for (uint32_t s = 0; s < 2; s++) {
		dv_le32_put(msg + DV_OFF_SENDER, s);
		cut(DV_PQ_INITIATION_LEN, 1232);
		src[15] = (uint8_t)s;
		src[17] = (uint8_t)s;
		T_CHECK(add(0, src, 18, false, now, &olen) == DV_FRAG_PENDING);
	}
	/* many /64s fill the table, then it refuses */
	for (unsigned g = 1; g <= DV_FRAG_SLOTS; g++) {
		src[6] = (uint8_t)g;
		src[7] = (uint8_t)(g >> 8);
		T_CHECK(add(0, src, 18, false, now, &olen) ==
			(g <= DV_FRAG_SLOTS - DV_FRAG_PER_SOURCE ? DV_FRAG_PENDING
								  : DV_FRAG_TABLE_FULL));
	}
	T_CHECK(dv_frag_partials(&tab) == DV_FRAG_SLOTS);
	/* a mac2-proven source replaces an unproven partial, and completes */
	now += 1;
	for (unsigned i = 0; i < 4; i++)
		T_CHECK(add(i, src4, 6, true, now, &olen) ==
			(i < 3 ? DV_FRAG_PENDING : DV_FRAG_COMPLETE));
	T_CHECK(tab.stats.replaced == 1 && !memcmp(out, msg, olen));
	/* REKEY_TIMEOUT after its first fragment a partial message is gone */
	dv_frag_expire(&tab, 1000 + (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC - 1);
	T_CHECK(dv_frag_partials(&tab) == DV_FRAG_SLOTS - 1);
	dv_frag_expire(&tab, 1000 + (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC);
	T_CHECK(dv_frag_partials(&tab) == 0);
	T_CHECK(tab.stats.expired == DV_FRAG_SLOTS - 1);
	/* a fragment arriving after the expiry starts over */
	T_CHECK(add(1, src4, 6, false, 10ULL * DV_NSEC_PER_SEC, &olen) == DV_FRAG_PENDING);
	T_CHECK(add(0, src4, 6, false, 16ULL * DV_NSEC_PER_SEC, &olen) == DV_FRAG_PENDING);
	T_CHECK(dv_frag_partials(&tab) == 1);
	dv_frag_clear(&tab);
}

int main(void)
{
	T_RUN(test_counts);
	T_RUN(test_roundtrip_every_budget);
	T_RUN(test_duplicates_and_shuffle);
	T_RUN(test_bad_headers);
	T_RUN(test_mismatch);
	T_RUN(test_bounds_and_expiry);
	return t_done();
}
