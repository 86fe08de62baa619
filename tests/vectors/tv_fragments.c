/* Handshake-fragment records of tests/data/protocol-vectors/fragments.txt
 * (docs/PROTOCOL-fragments.md), checked in both roles with the code the
 * device uses. Sender: the record's whole initiation (response) is cut
 * under its budget by dv_frag_make, its macs added by the cookie maker
 * keyed with the receiver's public key (and the record's cookie), and
 * every fragment must equal the record's byte for byte. Receiver: the
 * record's fragments, each checked alone (dv_frag_parse, mac1, and mac2
 * when the record has a cookie), go into a reassembly table in reverse
 * order with a duplicate, and the message must equal the record's whole
 * message, which its source record shows the handshake accepts. */
#include "vectors/tv.h"

#include "crypto/classic.h"
#include "device/fragment.h"
#include "noise/cookie.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TV_FRAG_MAX 16

static int fail(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return 1;
}

/* One message of the record: "init" or "resp". */
static int check_message(const struct tv_rec *r, const char *pre,
			 const char *whole_key, const uint8_t recv_pub[32],
			 const uint8_t *cookie, size_t budget, char *msg,
			 size_t msglen)
{
	static struct dv_frag_table tab;
	static uint8_t mine[DV_MAX_HANDSHAKE_LEN], out[DV_MAX_HANDSHAKE_LEN];
	static const uint8_t src[6] = { 192, 0, 2, 1, 0xca, 0x6c };
	uint8_t *whole = NULL, *frag[TV_FRAG_MAX] = { NULL };
	size_t wlen = 0, flen[TV_FRAG_MAX], olen = 0;
	struct cookie_checker cc;
	struct cookie_maker cm;
	char key[32];
	const char *s;
	unsigned count, made;
	int rc = 1, got = DV_FRAG_PENDING;

	snprintf(key, sizeof(key), "%s_frag_count", pre);
	s = tv_get(r, key);
	if (!s || tv_hex(r, whole_key, &whole, &wlen))
		return fail(msg, msglen, "%s: its fragment count or message missing", pre);
	count = (unsigned)strtoul(s, NULL, 10);
	made = dv_frag_count(whole[0], wlen, budget);
	if (count > TV_FRAG_MAX || (count ? count : 1) != made) {
		fail(msg, msglen, "%s: we cut it in %u fragments", pre, made);
		free(whole);
		return 1;
	}
	cookie_maker_init(&cm, recv_pub);
	cookie_checker_init(&cc, recv_pub);
	if (cookie) {
		memcpy(cm.cookie, cookie, DV_COOKIE_LEN);
		cm.has_cookie = true;
		cm.cookie_birth_ns = 1;
	}
	dv_frag_clear(&tab);
	for (unsigned i = 0; i < count; i++) {
		snprintf(key, sizeof(key), "%s_frag_%u", pre, i);
		if (tv_hex(r, key, &frag[i], &flen[i])) {
			fail(msg, msglen, "%s: fragment %u missing", pre, i);
			goto out;
		}
	}
	/* Sender role: our fragments, byte for byte. */
	for (unsigned i = 0; i < count; i++) {
		size_t n = dv_frag_make(mine, whole, wlen, budget, i);

		cookie_add_frag_macs(&cm, mine, n, 2, i == 0);
		if (n != flen[i] || memcmp(mine, frag[i], n)) {
			fail(msg, msglen, "%s: our fragment %u differs from the record's", pre, i);
			goto out;
		}
	}
	/* Receiver role: the record's fragments, last first, fragment 0
	 * twice; each checked alone before it enters the table. */
	for (unsigned k = 0; k <= count && count; k++) {
		unsigned i = k < count ? count - 1 - k : 0;
		struct dv_frag f;

		if (dv_frag_parse(frag[i], flen[i], &f)) {
			fail(msg, msglen, "%s: fragment %u refused by the layout checks", pre, i);
			goto out;
		}
		if (cookie_check(&cc, frag[i], flen[i], src, sizeof(src), 2,
				 false) == COOKIE_MAC_INVALID) {
			fail(msg, msglen, "%s: fragment %u: mac1 does not verify", pre, i);
			goto out;
		}
		{
			/* mac2 = MAC(cookie, bytes before mac2), or zero */
			uint8_t m2[DV_MAC_LEN] = { 0 };

			if (cookie)
				dv_mac(m2, cookie, DV_COOKIE_LEN, frag[i],
				       flen[i] - DV_MAC_LEN);
			if (memcmp(m2, frag[i] + flen[i] - DV_MAC_LEN, DV_MAC_LEN)) {
				fail(msg, msglen, "%s: fragment %u: mac2 does not verify", pre, i);
				goto out;
			}
		}
		got = dv_frag_add(&tab, &f, src, sizeof(src), false, 3, out, &olen);
		if (k == count ? got != DV_FRAG_PENDING : /* a new partial after completion */
		    (k == count - 1 ? got != DV_FRAG_COMPLETE : got != DV_FRAG_PENDING)) {
			fail(msg, msglen, "%s: reassembly of fragment %u gave %d", pre, i, got);
			goto out;
		}
		if (k == count - 1 && (olen != wlen || memcmp(out, whole, wlen))) {
			fail(msg, msglen, "%s: the reassembled message differs (%zu bytes)", pre,
			     olen);
			goto out;
		}
	}
	rc = 0;
out:
	for (unsigned i = 0; i < count; i++)
		free(frag[i]);
	free(whole);
	cookie_maker_clear(&cm);
	cookie_checker_clear(&cc);
	dv_frag_clear(&tab);
	return rc;
}

int tv_fragments(const struct tv_rec *r, char *msg, size_t msglen)
{
	uint8_t ipub[32], rpub[32], cookie[DV_COOKIE_LEN];
	const char *b = tv_get(r, "budget");
	int has_cookie = tv_get(r, "cookie_i") != NULL;
	size_t budget = b ? strtoul(b, NULL, 10) : 0;

	if (budget < DV_FRAG_BUDGET_MIN || budget > DV_MAX_HANDSHAKE_LEN ||
	    tv_hex_fixed(r, "i_static_pub", ipub, 32) ||
	    tv_hex_fixed(r, "r_static_pub", rpub, 32) ||
	    (has_cookie && tv_hex_fixed(r, "cookie_i", cookie, sizeof(cookie))))
		return fail(msg, msglen, "budget or keys missing or malformed");
	/* The initiation goes to the responder, the response to the
	 * initiator: each is keyed with its receiver's public key. */
	return check_message(r, "init", "initiation", rpub,
			     has_cookie ? cookie : NULL, budget, msg, msglen) ||
	       check_message(r, "resp", "response", ipub, NULL, budget, msg,
			     msglen);
}
