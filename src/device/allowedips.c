/* Longest-prefix-match trie for cryptokey routing.
 *
 * Keys are held as two host-order 64-bit words, most significant bit
 * first (an IPv4 address fills the top 32 bits of the first word), so a
 * prefix test is two masked XORs and the branch point of two keys is a
 * count of leading zeros. Each node holds a prefix (bits, cidr); a node
 * with no peer is an internal branch point and always has two children.
 * A child's prefix extends its parent's; the next bit after the parent's
 * cidr picks the child.
 */
#include "device/allowedips.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct dv_aip_node {
	struct dv_aip_node *child[2];
	void *peer;
	uint64_t key[2];  /* the prefix, bits past cidr zero */
	uint64_t mask[2]; /* cidr leading one bits */
	uint8_t cidr;
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void make_mask(uint64_t mask[2], unsigned cidr)
{
	mask[0] = cidr == 0 ? 0 : cidr >= 64 ? ~0ull : ~0ull << (64 - cidr);
	mask[1] = cidr <= 64 ? 0 : cidr >= 128 ? ~0ull : ~0ull << (128 - cidr);
}

/* Loads addr into key[]; returns the family's bit length, or 0. */
static unsigned load_key(uint64_t key[2], int family, const uint8_t *addr)
{
	if (family == AF_INET) {
		key[0] = (uint64_t)addr[0] << 56 | (uint64_t)addr[1] << 48 |
			 (uint64_t)addr[2] << 40 | (uint64_t)addr[3] << 32;
		key[1] = 0;
		return 32;
	}
	if (family == AF_INET6) {
		key[0] = load_be64(addr);
		key[1] = load_be64(addr + 8);
		return 128;
	}
	return 0;
}

static unsigned bit_at(const uint64_t key[2], unsigned i)
{
	return (unsigned)(key[i >> 6] >> (63 - (i & 63))) & 1;
}

static int prefix_matches(const struct dv_aip_node *n, const uint64_t key[2])
{
	return (((key[0] ^ n->key[0]) & n->mask[0]) |
		((key[1] ^ n->key[1]) & n->mask[1])) == 0;
}

/* Number of leading bits key a and b share. */
static unsigned common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned)__builtin_clzll(x);
	x = a[1] ^ b[1];
	return x ? 64 + (unsigned)__builtin_clzll(x) : 128;
}

static struct dv_aip_node *node_new(const uint64_t key[2], unsigned cidr,
				    void *peer)
{
	struct dv_aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	make_mask(n->mask, cidr);
	n->key[0] = key[0] & n->mask[0];
	n->key[1] = key[1] & n->mask[1];
	n->cidr = (uint8_t)cidr;
	n->peer = peer;
	return n;
}

static struct dv_aip_node **root_of(struct dv_allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

void dv_allowedips_init(struct dv_allowedips *t)
{
	t->root4 = NULL;
	t->root6 = NULL;
}

static void free_tree(struct dv_aip_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void dv_allowedips_free(struct dv_allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	dv_allowedips_init(t);
}

int dv_allowedips_insert(struct dv_allowedips *t, int family,
			 const uint8_t *addr, unsigned cidr, void *peer)
{
	struct dv_aip_node **slot, *n, *fresh, *branch;
	uint64_t key[2];
	unsigned bits = load_key(key, family, addr), common;

	if (!bits || cidr > bits || !peer)
		return -1;
	slot = root_of(t, family);
	/* Descend while the node's prefix contains the new one. */
	while ((n = *slot) && n->cidr <= cidr && prefix_matches(n, key)) {
		if (n->cidr == cidr) {
			n->peer = peer;
			return 0;
		}
		slot = &n->child[bit_at(key, n->cidr)];
	}
	fresh = node_new(key, cidr, peer);
	if (!fresh)
		return -1;
	if (!n) {
		*slot = fresh;
		return 0;
	}
	/* n does not contain the new prefix: either the new prefix contains
	 * n (it goes above n), or they diverge (a branch node goes above
	 * both). */
	common = common_bits(key, n->key);
	if (common > cidr)
		common = cidr;
	if (common > n->cidr)
		common = n->cidr;
	if (common == cidr) {
		fresh->child[bit_at(n->key, cidr)] = n;
		*slot = fresh;
		return 0;
	}
	branch = node_new(key, common, NULL);
	if (!branch) {
		free(fresh);
		return -1;
	}
	branch->child[bit_at(n->key, common)] = n;
	branch->child[bit_at(key, common)] = fresh;
	*slot = branch;
	return 0;
}

/* A node without a peer and with fewer than two children is not needed:
 * splice it out. Returns what now occupies its place. */
static struct dv_aip_node *compact(struct dv_aip_node *n)
{
	struct dv_aip_node *c;

	if (n->peer || (n->child[0] && n->child[1]))
		return n;
	c = n->child[0] ? n->child[0] : n->child[1];
	free(n);
	return c;
}

static struct dv_aip_node *remove_exact(struct dv_aip_node *n,
					const uint64_t key[2], unsigned cidr,
					const void *peer, int *found)
{
	if (!n || n->cidr > cidr || !prefix_matches(n, key))
		return n;
	if (n->cidr == cidr) {
		if (n->peer != peer)
			return n;
		n->peer = NULL;
		*found = 1;
	} else {
		unsigned b = bit_at(key, n->cidr);

		n->child[b] = remove_exact(n->child[b], key, cidr, peer, found);
	}
	return compact(n);
}

int dv_allowedips_remove(struct dv_allowedips *t, int family,
			 const uint8_t *addr, unsigned cidr, const void *peer)
{
	struct dv_aip_node **root;
	uint64_t key[2];
	unsigned bits = load_key(key, family, addr);
	int found = 0;

	if (!bits || cidr > bits)
		return -1;
	root = root_of(t, family);
	*root = remove_exact(*root, key, cidr, peer, &found);
	return found ? 0 : -1;
}

static struct dv_aip_node *prune(struct dv_aip_node *n, const void *peer)
{
	if (!n)
		return NULL;
	n->child[0] = prune(n->child[0], peer);
	n->child[1] = prune(n->child[1], peer);
	if (n->peer == peer)
		n->peer = NULL;
	return compact(n);
}

void dv_allowedips_remove_peer(struct dv_allowedips *t, const void *peer)
{
	t->root4 = prune(t->root4, peer);
	t->root6 = prune(t->root6, peer);
}

void *dv_allowedips_lookup(const struct dv_allowedips *t, int family,
			   const uint8_t *addr)
{
	const struct dv_aip_node *n;
	uint64_t key[2];
	unsigned bits = load_key(key, family, addr);
	void *best = NULL;

	if (!bits)
		return NULL;
	n = family == AF_INET ? t->root4 : t->root6;
	while (n && prefix_matches(n, key)) {
		if (n->peer)
			best = n->peer;
		if (n->cidr == bits)
			break;
		n = n->child[bit_at(key, n->cidr)];
	}
	return best;
}

struct walk_ctx {
	const void *peer;
	int family;
	void (*fn)(void *arg, int family, const uint8_t *addr, unsigned cidr);
	void *arg;
};

static void walk(const struct dv_aip_node *n, const struct walk_ctx *w)
{
	uint8_t addr[16];

	if (!n)
		return;
	if (n->peer == w->peer) {
		store_be64(addr, n->key[0]);
		store_be64(addr + 8, n->key[1]);
		w->fn(w->arg, w->family, addr, n->cidr);
	}
	walk(n->child[0], w);
	walk(n->child[1], w);
}

void dv_allowedips_walk(const struct dv_allowedips *t, const void *peer,
			void (*fn)(void *arg, int family, const uint8_t *addr,
				   unsigned cidr),
			void *arg)
{
	struct walk_ctx w = { peer, AF_INET, fn, arg };

	walk(t->root4, &w);
	w.family = AF_INET6;
	walk(t->root6, &w);
}

struct walk_all_ctx {
	int family;
	void (*fn)(void *arg, const void *peer, int family,
		   const uint8_t *addr, unsigned cidr);
	void *arg;
};

static void walk_all(const struct dv_aip_node *n, const struct walk_all_ctx *w)
{
	uint8_t addr[16];

	if (!n)
		return;
	if (n->peer) {
		store_be64(addr, n->key[0]);
		store_be64(addr + 8, n->key[1]);
		w->fn(w->arg, n->peer, w->family, addr, n->cidr);
	}
	walk_all(n->child[0], w);
	walk_all(n->child[1], w);
}

void dv_allowedips_walk_all(const struct dv_allowedips *t,
			    void (*fn)(void *arg, const void *peer, int family,
				       const uint8_t *addr, unsigned cidr),
			    void *arg)
{
	struct walk_all_ctx w = { AF_INET, fn, arg };

	walk_all(t->root4, &w);
	w.family = AF_INET6;
	walk_all(t->root6, &w);
}
