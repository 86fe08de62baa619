/* Handshake fragments: see fragment.h and docs/PROTOCOL-fragments.md. */
#include "device/fragment.h"

#include <string.h>

#include "crypto/ct.h"
#include "protocol.h"

#define FRAG_OFF_SENDER 4
#define FRAG_OFF_INNER  8
#define FRAG_OFF_NUMBER 9
#define FRAG_OFF_COUNT  10
#define FRAG_OFF_TOTAL  12
#define FRAG_OFF_OFFSET 14

_Static_assert(DV_FRAG_COUNT_MAX <= 16, "the have bitmap is 16 bits");
_Static_assert((DV_MAX_HANDSHAKE_LEN + DV_FRAG_BUDGET_MIN - DV_FRAG_OVERHEAD - 1) /
	       (DV_FRAG_BUDGET_MIN - DV_FRAG_OVERHEAD) <= DV_FRAG_COUNT_MAX,
	       "the smallest budget needs no more than DV_FRAG_COUNT_MAX fragments");

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static bool fragmentable(uint8_t type, size_t len)
{
	const struct dv_msg_desc *md = dv_msg_desc(type);

	return md && md->fragmentable && md->len == len;
}

int dv_frag_parse(const uint8_t *msg, size_t len, struct dv_frag *f)
{
	size_t n, l;

	if (dv_msg_type(msg, len) != DV_MSG_FRAGMENT ||
	    len < DV_FRAG_OVERHEAD + 1 || msg[11])
		return -1;
	f->sender = dv_le32_get(msg + FRAG_OFF_SENDER);
	f->inner = msg[FRAG_OFF_INNER];
	f->number = msg[FRAG_OFF_NUMBER];
	f->count = msg[FRAG_OFF_COUNT];
	f->total = le16(msg + FRAG_OFF_TOTAL);
	f->offset = le16(msg + FRAG_OFF_OFFSET);
	n = len - DV_FRAG_OVERHEAD;
	if (!fragmentable(f->inner, f->total) || f->count < 2 ||
	    f->count > DV_FRAG_COUNT_MAX || f->number >= f->count ||
	    n > f->total)
		return -1;
	if (f->number < f->count - 1) {
		/* every fragment but the last carries L = n bytes */
		if ((f->total + n - 1) / n != f->count ||
		    f->offset != (size_t)f->number * n)
			return -1;
	} else {
		if (f->offset % (f->count - 1))
			return -1;
		l = f->offset / (f->count - 1u);
		if (n > l || (size_t)f->offset + n != f->total)
			return -1;
	}
	f->n = (uint16_t)n;
	f->payload = msg + DV_FRAG_HEADER_LEN;
	return 0;
}

unsigned dv_frag_count(uint8_t type, size_t len, size_t budget)
{
	size_t l;

	if (budget < DV_FRAG_BUDGET_MIN)
		return 0;
	if (len <= budget || !fragmentable(type, len))
		return 1;
	l = budget - DV_FRAG_OVERHEAD;
	return (unsigned)((len + l - 1) / l);
}

size_t dv_frag_make(uint8_t *out, const uint8_t *msg, size_t len,
		    size_t budget, unsigned number)
{
	unsigned count = dv_frag_count(msg[0], len, budget);
	size_t l, off, n;

	if (count < 2 || number >= count)
		return 0;
	l = budget - DV_FRAG_OVERHEAD;
	off = number * l;
	n = number == count - 1 ? len - off : l;
	memset(out, 0, DV_FRAG_OVERHEAD + n);
	out[0] = DV_MSG_FRAGMENT;
	memcpy(out + FRAG_OFF_SENDER, msg + DV_OFF_SENDER, 4);
	out[FRAG_OFF_INNER] = msg[0];
	out[FRAG_OFF_NUMBER] = (uint8_t)number;
	out[FRAG_OFF_COUNT] = (uint8_t)count;
	put16(out + FRAG_OFF_TOTAL, (uint16_t)len);
	put16(out + FRAG_OFF_OFFSET, (uint16_t)off);
	memcpy(out + DV_FRAG_HEADER_LEN, msg + off, n);
	return DV_FRAG_OVERHEAD + n;
}

static void slot_wipe(struct dv_frag_slot *s)
{
	ct_wipe(s, sizeof(*s));
}

/* Sources are grouped as the rate limit groups them: an IPv4 address, an
 * IPv6 /64. */
static bool same_group(const struct dv_frag_slot *s, const uint8_t *src,
		       size_t srclen)
{
	size_t g = srclen == 18 ? 8 : 4;

	return s->srclen == srclen && srclen >= g && !memcmp(s->src, src, g);
}

void dv_frag_expire(struct dv_frag_table *t, uint64_t now_ns)
{
	for (unsigned i = 0; i < DV_FRAG_SLOTS; i++) {
		struct dv_frag_slot *s = &t->slot[i];

		if (s->used && now_ns - s->first_ns >=
				       (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC) {
			slot_wipe(s);
			t->stats.expired++;
		}
	}
}

unsigned dv_frag_partials(const struct dv_frag_table *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < DV_FRAG_SLOTS; i++)
		n += t->slot[i].used;
	return n;
}

void dv_frag_clear(struct dv_frag_table *t)
{
	ct_wipe(t, sizeof(*t));
}

/* A slot for a new partial message, or NULL (counted). A source group
 * that holds DV_FRAG_PER_SOURCE partial messages gives up its oldest for
 * the new one, unless that one was proven by mac2 and the new one was
 * not: a forger sharing a victim's address cannot hold the victim's slots
 * below the load threshold, and once under load (mac2 required) it can no
 * longer displace anything. */
static struct dv_frag_slot *slot_new(struct dv_frag_table *t, const uint8_t *src,
				     size_t srclen, bool proven, int *why)
{
	struct dv_frag_slot *free_slot = NULL, *oldest_unproven = NULL,
			    *group_oldest = NULL;
	unsigned in_group = 0;

	for (unsigned i = 0; i < DV_FRAG_SLOTS; i++) {
		struct dv_frag_slot *s = &t->slot[i];

		if (!s->used) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (same_group(s, src, srclen)) {
			in_group++;
			if (!group_oldest || s->first_ns < group_oldest->first_ns)
				group_oldest = s;
		}
		if (!s->proven &&
		    (!oldest_unproven || s->first_ns < oldest_unproven->first_ns))
			oldest_unproven = s;
	}
	if (in_group >= DV_FRAG_PER_SOURCE) {
		if (group_oldest->proven && !proven) {
			t->stats.source_full++;
			*why = DV_FRAG_SOURCE_FULL;
			return NULL;
		}
		slot_wipe(group_oldest);
		t->stats.source_replaced++;
		return group_oldest;
	}
	if (free_slot)
		return free_slot;
	if (proven && oldest_unproven) {
		slot_wipe(oldest_unproven);
		t->stats.replaced++;
		return oldest_unproven;
	}
	t->stats.table_full++;
	*why = DV_FRAG_TABLE_FULL;
	return NULL;
}

/* The slot of the partial message f belongs to, or -1. */
static int slot_find(const struct dv_frag_table *t, const struct dv_frag *f,
		     const uint8_t *src, size_t srclen)
{
	for (int i = 0; i < DV_FRAG_SLOTS; i++) {
		const struct dv_frag_slot *c = &t->slot[i];

		if (c->used && c->srclen == srclen && !memcmp(c->src, src, srclen) &&
		    c->sender == f->sender && c->inner == f->inner)
			return i;
	}
	return -1;
}

bool dv_frag_joins(const struct dv_frag_table *t, const struct dv_frag *f,
		   const uint8_t *src, size_t srclen)
{
	return srclen <= sizeof(t->slot[0].src) &&
	       slot_find(t, f, src, srclen) >= 0;
}

uint64_t dv_frag_next_expiry(const struct dv_frag_table *t)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < DV_FRAG_SLOTS; i++) {
		const struct dv_frag_slot *s = &t->slot[i];
		uint64_t at = s->first_ns + (uint64_t)DV_REKEY_TIMEOUT * DV_NSEC_PER_SEC;

		if (s->used && (!next || at < next))
			next = at;
	}
	return next;
}

int dv_frag_add(struct dv_frag_table *t, const struct dv_frag *f,
		const uint8_t *src, size_t srclen, bool proven,
		uint64_t now_ns, uint8_t *out, size_t *outlen)
{
	struct dv_frag_slot *s = NULL;
	int why = DV_FRAG_TABLE_FULL, i;
	uint16_t bit = (uint16_t)(1u << f->number), all;

	if (srclen > sizeof(t->slot[0].src))
		return DV_FRAG_MISMATCH;
	dv_frag_expire(t, now_ns);
	i = slot_find(t, f, src, srclen);
	if (i >= 0)
		s = &t->slot[i];
	if (!s) {
		s = slot_new(t, src, srclen, proven, &why);
		if (!s)
			return why;
		s->used = true;
		s->proven = proven;
		memcpy(s->src, src, srclen);
		s->srclen = (uint8_t)srclen;
		s->sender = f->sender;
		s->inner = f->inner;
		s->count = f->count;
		s->total = f->total;
		s->first_ns = now_ns;
	}
	if (s->count != f->count || s->total != f->total) {
		t->stats.mismatch++;
		return DV_FRAG_MISMATCH;
	}
	if (s->have & bit) {
		t->stats.duplicate++;
		return DV_FRAG_DUPLICATE;
	}
	/* L is known from any fragment: a non-last one's n, the last one's
	 * offset / (count - 1). Every fragment must agree. */
	{
		uint16_t l = f->number < f->count - 1 ? f->n
						      : (uint16_t)(f->offset / (f->count - 1));
		if (s->l && s->l != l) {
			t->stats.mismatch++;
			return DV_FRAG_MISMATCH;
		}
		s->l = l;
	}
	memcpy(s->buf + f->offset, f->payload, f->n);
	s->have |= bit;
	all = (uint16_t)((1u << s->count) - 1);
	if (s->have != all)
		return DV_FRAG_PENDING;
	memcpy(out, s->buf, s->total);
	*outlen = s->total;
	slot_wipe(s);
	t->stats.completed++;
	return DV_FRAG_COMPLETE;
}
