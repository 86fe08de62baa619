/* libFuzzer harness: the handshake-fragment reassembler. The input first
 * picks a fragmentable message, a budget and an order in which its
 * fragments arrive (with duplicates): the reassembled message must be the
 * original byte for byte. Then the rest of the input is a stream of
 * arbitrary datagrams from a few sources, with time advancing: whatever
 * dv_frag_parse accepts goes into the table, which must stay within its
 * bounds and may only ever complete messages of their type's length; a
 * fragment that joins a partial message (dv_frag_joins, which the receive
 * path uses to count a message once) is never refused for room, and no
 * partial message outlives REKEY_TIMEOUT. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "device/fragment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dv_frag_table tab;
static uint8_t msg[DV_MAX_HANDSHAKE_LEN], out[DV_MAX_HANDSHAKE_LEN];
static uint8_t frag[DV_FRAG_BUDGET_DEFAULT];

static void check_bounds(void)
{
	if (dv_frag_partials(&tab) > DV_FRAG_SLOTS)
		abort();
}

static void roundtrip(const uint8_t *d, size_t n, const uint8_t src[6])
{
	static const struct { uint8_t t; size_t len; } ty[] = {
		{ 5, DV_HYBRID_INITIATION_LEN }, { 6, DV_HYBRID_RESPONSE_LEN },
		{ 7, DV_PQ_INITIATION_LEN }, { 8, DV_PQ_RESPONSE_LEN },
	};
	size_t k = d[0] % 4, len = ty[k].len, olen = 0;
	size_t budget = DV_FRAG_BUDGET_MIN +
			(size_t)(d[1] | d[2] << 8) % (DV_FRAG_BUDGET_DEFAULT - DV_FRAG_BUDGET_MIN + 1);
	unsigned count, have = 0;
	struct dv_frag f;
	int rc = 0;

	for (size_t i = 0; i < len; i++)
		msg[i] = (uint8_t)(i ^ d[3]);
	msg[0] = ty[k].t;
	msg[1] = msg[2] = msg[3] = 0;
	count = dv_frag_count(msg[0], len, budget);
	if (count < 2)
		return;
	/* input-chosen order, duplicates allowed, then the missing ones */
	for (size_t j = 4; j < n + 4 + count && rc != DV_FRAG_COMPLETE; j++) {
		unsigned i = j < n ? d[j] % count : (unsigned)(j - n) % count;
		size_t fl;

		if (j >= n && (have >> i & 1))
			continue;
		fl = dv_frag_make(frag, msg, len, budget, i);
		if (!fl || fl > budget || dv_frag_parse(frag, fl, &f))
			abort();
		rc = dv_frag_add(&tab, &f, src, 6, true, 1, out, &olen);
		if ((have >> i & 1) ? rc != DV_FRAG_DUPLICATE
				    : rc != DV_FRAG_PENDING && rc != DV_FRAG_COMPLETE)
			abort();
		have |= 1u << i;
	}
	if (rc != DV_FRAG_COMPLETE || olen != len || memcmp(out, msg, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t src_base[6] = { 198, 51, 100, 0, 0, 1 };
	uint8_t src[18] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint64_t now = 1;
	size_t pos, split;

	dv_frag_clear(&tab);
	if (size < 6)
		return 0;
	split = 6 + data[4];
	if (split > size)
		split = size;
	roundtrip(data, split, src_base);
	/* arbitrary datagrams: [source][time step][length][bytes] */
	for (pos = split; pos + 3 <= size;) {
		size_t len = data[pos + 2] | (size_t)(data[pos + 1] & 0x07) << 8;
		uint8_t sel = data[pos];
		struct dv_frag f;
		size_t olen = 0;
		bool joins;
		int rc;

		now += (uint64_t)(data[pos + 1] >> 3) * (DV_NSEC_PER_SEC / 4);
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		if (!dv_frag_parse(data + pos, len, &f)) {
			size_t srclen = sel & 1 ? 18 : 6;

			memcpy(src, src_base, 6);
			src[3] = sel >> 5;       /* a few IPv4 addresses */
			src[7] = sel >> 4 & 1;   /* two IPv6 /64s */
			src[15] = sel >> 1 & 7;  /* and hosts in them */
			/* the receive path charges "under load" to the
			 * fragment that opens a partial message: one that
			 * joins can never be refused for lack of room */
			dv_frag_expire(&tab, now);
			joins = dv_frag_joins(&tab, &f, src, srclen);
			rc = dv_frag_add(&tab, &f, src, srclen, sel & 8, now,
					 out, &olen);
			if (joins && (rc == DV_FRAG_SOURCE_FULL ||
				      rc == DV_FRAG_TABLE_FULL))
				abort();
			if (!joins && (rc == DV_FRAG_DUPLICATE))
				abort();
			/* the bytes are the sender's: the whole-message checks
			 * (type, length, macs) follow the reassembly */
			if (rc == DV_FRAG_COMPLETE && olen != f.total)
				abort();
		}
		pos += len;
		check_bounds();
		/* a partial message never outlives REKEY_TIMEOUT */
		if (dv_frag_partials(&tab) &&
		    dv_frag_next_expiry(&tab) >
			    now + (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC)
			abort();
	}
	dv_frag_clear(&tab);
	return 0;
}
