/* Cryptokey routing (WireGuard whitepaper, section 2): a table from IPv4
 * and IPv6 prefixes to peers, looked up by longest prefix match. It picks
 * the peer for a packet read from the TUN (by destination) and checks the
 * inner source of every decrypted packet (it must map back to the peer
 * that sent it). A path-compressed binary trie per family: a lookup visits
 * only nodes where prefixes branch, not one node per address bit. */
#ifndef DV_DEVICE_ALLOWEDIPS_H
#define DV_DEVICE_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

struct dv_aip_node;

struct dv_allowedips {
	struct dv_aip_node *root4;
	struct dv_aip_node *root6;
};

/* family: AF_INET (addr has 4 bytes, cidr <= 32) or AF_INET6 (16, <= 128).
 * Address bits past cidr are ignored. */

void dv_allowedips_init(struct dv_allowedips *t);
void dv_allowedips_free(struct dv_allowedips *t);

/* Maps the prefix to peer (non-NULL), taking it from any other peer, as
 * WireGuard does. 0, or -1 on a bad family/cidr or out of memory. */
int dv_allowedips_insert(struct dv_allowedips *t, int family,
			 const uint8_t *addr, unsigned cidr, void *peer);
/* Removes the exact prefix if it maps to peer; 0 if removed, else -1. */
int dv_allowedips_remove(struct dv_allowedips *t, int family,
			 const uint8_t *addr, unsigned cidr, const void *peer);
/* Removes every prefix of peer. */
void dv_allowedips_remove_peer(struct dv_allowedips *t, const void *peer);

/* The peer of the longest prefix containing addr, or NULL. */
void *dv_allowedips_lookup(const struct dv_allowedips *t, int family,
			   const uint8_t *addr);

/* Calls fn for every prefix of peer (addr in network byte order, 4 or 16
 * bytes), IPv4 first, each family in address order. */
void dv_allowedips_walk(const struct dv_allowedips *t, const void *peer,
			void (*fn)(void *arg, int family, const uint8_t *addr,
				   unsigned cidr),
			void *arg);

/* Calls fn for every prefix of the table with its peer, IPv4 first, each
 * family in address order: one pass for all peers (a listing of every
 * peer's prefixes in O(n), where dv_allowedips_walk per peer is O(n^2)). */
void dv_allowedips_walk_all(const struct dv_allowedips *t,
			    void (*fn)(void *arg, const void *peer, int family,
				       const uint8_t *addr, unsigned cidr),
			    void *arg);

#endif
