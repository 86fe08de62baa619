/* Cryptokey routing table: longest prefix match for IPv4 and IPv6,
 * replacement, removal, walking, and many random prefixes checked against
 * a naive list. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "device/allowedips.h"
#include "t.h"

static int P[8]; /* peer identities: &P[i] */

static const uint8_t *a4(const char *s)
{
	static uint8_t b[4][16];
	static int k;

	k = (k + 1) & 3;
	T_CHECK(inet_pton(AF_INET, s, b[k]) == 1);
	return b[k];
}

static const uint8_t *a6(const char *s)
{
	static uint8_t b[4][16];
	static int k;

	k = (k + 1) & 3;
	T_CHECK(inet_pton(AF_INET6, s, b[k]) == 1);
	return b[k];
}

static void *look4(struct dv_allowedips *t, const char *s)
{
	return dv_allowedips_lookup(t, AF_INET, a4(s));
}

static void *look6(struct dv_allowedips *t, const char *s)
{
	return dv_allowedips_lookup(t, AF_INET6, a6(s));
}

static void test_v4(void)
{
	struct dv_allowedips t;

	dv_allowedips_init(&t);
	T_CHECK(look4(&t, "10.0.0.1") == NULL);
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("10.0.0.0"), 8, &P[0]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("10.1.0.0"), 16, &P[1]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("10.1.2.3"), 32, &P[2]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("192.168.0.0"), 24, &P[3]) == 0);
	T_CHECK(look4(&t, "10.9.9.9") == &P[0]);
	T_CHECK(look4(&t, "10.1.9.9") == &P[1]);
	T_CHECK(look4(&t, "10.1.2.3") == &P[2]);
	T_CHECK(look4(&t, "10.1.2.4") == &P[1]);
	T_CHECK(look4(&t, "192.168.0.77") == &P[3]);
	T_CHECK(look4(&t, "192.168.1.77") == NULL);
	T_CHECK(look4(&t, "11.0.0.0") == NULL);
	/* Host bits of the inserted address are ignored. */
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("172.16.5.5"), 12, &P[4]) == 0);
	T_CHECK(look4(&t, "172.31.0.1") == &P[4]);
	T_CHECK(look4(&t, "172.32.0.1") == NULL);
	/* Re-inserting a prefix moves it to the new peer. */
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("10.1.0.0"), 16, &P[5]) == 0);
	T_CHECK(look4(&t, "10.1.9.9") == &P[5]);
	/* Remove needs the owning peer. */
	T_CHECK(dv_allowedips_remove(&t, AF_INET, a4("10.1.0.0"), 16, &P[1]) == -1);
	T_CHECK(dv_allowedips_remove(&t, AF_INET, a4("10.1.0.0"), 16, &P[5]) == 0);
	T_CHECK(look4(&t, "10.1.9.9") == &P[0]);
	T_CHECK(look4(&t, "10.1.2.3") == &P[2]);
	/* The default route. */
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("0.0.0.0"), 0, &P[6]) == 0);
	T_CHECK(look4(&t, "8.8.8.8") == &P[6]);
	T_CHECK(look4(&t, "10.1.2.3") == &P[2]);
	dv_allowedips_remove_peer(&t, &P[0]);
	T_CHECK(look4(&t, "10.9.9.9") == &P[6]);
	T_CHECK(look4(&t, "10.1.2.3") == &P[2]);
	/* Bad arguments. */
	T_CHECK(dv_allowedips_insert(&t, AF_INET, a4("1.2.3.4"), 33, &P[0]) == -1);
	T_CHECK(dv_allowedips_insert(&t, 12345, a4("1.2.3.4"), 8, &P[0]) == -1);
	T_CHECK(dv_allowedips_lookup(&t, AF_INET6, a6("::1")) == NULL);
	dv_allowedips_free(&t);
}

static void test_v6(void)
{
	struct dv_allowedips t;

	dv_allowedips_init(&t);
	T_CHECK(dv_allowedips_insert(&t, AF_INET6, a6("fd00::"), 8, &P[0]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET6, a6("fd00:1::"), 32, &P[1]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET6, a6("fd00:1::1:2"), 128, &P[2]) == 0);
	T_CHECK(dv_allowedips_insert(&t, AF_INET6, a6("fd00:1:0:0:8000::"), 65, &P[3]) == 0);
	T_CHECK(look6(&t, "fd12::1") == &P[0]);
	T_CHECK(look6(&t, "fd00:1::5") == &P[1]);
	T_CHECK(look6(&t, "fd00:1::1:2") == &P[2]);
	T_CHECK(look6(&t, "fd00:1::1:3") == &P[1]);
	T_CHECK(look6(&t, "fd00:1:0:0:8000::1") == &P[3]);
	T_CHECK(look6(&t, "fd00:1:0:0:ffff::1") == &P[3]);
	T_CHECK(look6(&t, "fd00:1:0:0:7fff::1") == &P[1]);
	T_CHECK(look6(&t, "fe80::1") == NULL);
	/* IPv4 table untouched by IPv6 entries. */
	T_CHECK(look4(&t, "253.0.0.1") == NULL);
	T_CHECK(dv_allowedips_remove(&t, AF_INET6, a6("fd00:1::1:2"), 128, &P[2]) == 0);
	T_CHECK(look6(&t, "fd00:1::1:2") == &P[1]);
	dv_allowedips_free(&t);
}

struct walked {
	int n;
	char s[8][64];
};

static void walk_cb(void *arg, int family, const uint8_t *addr, unsigned cidr)
{
	struct walked *w = arg;
	char buf[INET6_ADDRSTRLEN];

	if (w->n < 8) {
		inet_ntop(family, addr, buf, sizeof(buf));
		snprintf(w->s[w->n], sizeof(w->s[0]), "%s/%u", buf, cidr);
	}
	w->n++;
}

static void test_walk(void)
{
	struct dv_allowedips t;
	struct walked w = { 0 };

	dv_allowedips_init(&t);
	dv_allowedips_insert(&t, AF_INET6, a6("fd00::"), 64, &P[0]);
	dv_allowedips_insert(&t, AF_INET, a4("10.2.0.0"), 16, &P[0]);
	dv_allowedips_insert(&t, AF_INET, a4("10.1.0.0"), 16, &P[1]);
	dv_allowedips_insert(&t, AF_INET, a4("10.0.0.1"), 32, &P[0]);
	dv_allowedips_walk(&t, &P[0], walk_cb, &w);
	T_CHECK(w.n == 3);
	T_CHECK(strcmp(w.s[0], "10.0.0.1/32") == 0);
	T_CHECK(strcmp(w.s[1], "10.2.0.0/16") == 0);
	T_CHECK(strcmp(w.s[2], "fd00::/64") == 0);
	dv_allowedips_free(&t);
}

/* Random prefixes and lookups against a naive linear scan. */
struct naive {
	uint8_t addr[16];
	unsigned cidr;
	void *peer;
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int in_prefix(const uint8_t *a, const uint8_t *p, unsigned cidr)
{
	for (unsigned i = 0; i < cidr; i++) {
		unsigned b = 0x80u >> (i & 7);

		if ((a[i / 8] & b) != (p[i / 8] & b))
			return 0;
	}
	return 1;
}

static void *naive_lookup(const struct naive *list, int n, const uint8_t *a)
{
	int best = -1;

	for (int i = 0; i < n; i++)
		if (list[i].peer && in_prefix(a, list[i].addr, list[i].cidr) &&
		    (best < 0 || list[i].cidr > list[best].cidr))
			best = i;
	return best < 0 ? NULL : list[best].peer;
}

static void random_family(int family)
{
	enum { N = 3000, Q = 20000 };
	static struct naive list[N];
	struct dv_allowedips t;
	unsigned bits = family == AF_INET ? 32 : 128, bytes = bits / 8;
	int n = 0, mism = 0;

	dv_allowedips_init(&t);
	for (int i = 0; i < N; i++) {
		struct naive e;
		int dup = -1;

		memset(&e, 0, sizeof(e));
		/* Cluster addresses so prefixes nest and collide. */
		for (unsigned b = 0; b < bytes; b++)
			e.addr[b] = (uint8_t)(b < 2 ? rnd() % 4 : rnd());
		e.cidr = (unsigned)(rnd() % (bits + 1));
		for (unsigned b = 0; b < bits; b++)
			if (b >= e.cidr)
				e.addr[b / 8] &= (uint8_t)~(0x80u >> (b & 7));
		e.peer = &P[rnd() % 8];
		for (int j = 0; j < n; j++)
			if (list[j].cidr == e.cidr &&
			    !memcmp(list[j].addr, e.addr, bytes))
				dup = j;
		T_CHECK(dv_allowedips_insert(&t, family, e.addr, e.cidr, e.peer) == 0);
		if (dup >= 0)
			list[dup].peer = e.peer;
		else
			list[n++] = e;
	}
	/* Remove a third of them, and one peer entirely. */
	for (int i = 0; i < n; i += 3) {
		if (!list[i].peer)
			continue;
		T_CHECK(dv_allowedips_remove(&t, family, list[i].addr,
					     list[i].cidr, list[i].peer) == 0);
		list[i].peer = NULL;
	}
	dv_allowedips_remove_peer(&t, &P[7]);
	for (int i = 0; i < n; i++)
		if (list[i].peer == &P[7])
			list[i].peer = NULL;
	for (int q = 0; q < Q; q++) {
		uint8_t a[16] = { 0 };

		for (unsigned b = 0; b < bytes; b++)
			a[b] = (uint8_t)(b < 2 ? rnd() % 4 : rnd());
		/* Half the queries land inside a known prefix. */
		if (q & 1) {
			const struct naive *e = &list[rnd() % (uint64_t)n];

			for (unsigned b = 0; b < e->cidr; b++) {
				unsigned m = 0x80u >> (b & 7);

				a[b / 8] = (uint8_t)((a[b / 8] & ~m) | (e->addr[b / 8] & m));
			}
		}
		if (dv_allowedips_lookup(&t, family, a) != naive_lookup(list, n, a))
			mism++;
	}
	T_CHECK(mism == 0);
	dv_allowedips_free(&t);
}

static void test_random(void)
{
	random_family(AF_INET);
	random_family(AF_INET6);
}

int main(void)
{
	T_RUN(test_v4);
	T_RUN(test_v6);
	T_RUN(test_walk);
	T_RUN(test_random);
	return t_done();
}
