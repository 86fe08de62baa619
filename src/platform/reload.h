/* Reload: the difference between the config a daemon runs and a new one,
 * as one control request ("set=1", the path `wg set` and `wg syncconf`
 * take), so the device validates the whole change before it applies any
 * of it and an unchanged peer keeps its session and counters.
 *
 * Peers the device has and the new file does not are removed; every peer
 * of the file is sent with its full state (preshared key, allowed IPs
 * replaced, keepalive, mode, ML-DSA public key), which the device applies
 * as no change where nothing changed. An endpoint is sent only for a new
 * peer or when the file's endpoint changed, so a peer that roamed keeps
 * the address it roamed to. The private key is always sent (the same key
 * changes nothing); the listen port and handshake_datagram_max when the
 * file's changed. A new interface name or metrics listener needs a
 * restart: refused. */
#ifndef DV_PLATFORM_RELOAD_H
#define DV_PLATFORM_RELOAD_H

#include <stddef.h>
#include <stdint.h>

struct dv_config;

struct dv_reload_summary {
	unsigned peers_added, peers_removed, peers_kept;
	int port_changed;
};

/* old: the config the daemon runs (its secrets may be wiped), neu: the
 * new one, live: the public keys of the device's peers now, ifname: the
 * running interface. Returns 0 with the request in *req (malloc'd, *len
 * bytes, NUL-terminated; it holds keys: dv_wipe_free it), or -1 with the
 * reason in err when the change cannot be made live. */
int dv_reload_request(const struct dv_config *old, const struct dv_config *neu,
		      const uint8_t (*live)[32], size_t n_live, const char *ifname,
		      char **req, size_t *len, struct dv_reload_summary *sum,
		      char *err, size_t errlen);

/* Wipes the keys a config holds that a reload never needs again (the
 * private keys and preshared keys; the new file brings its own). */
void dv_reload_forget_secrets(struct dv_config *cfg);

#endif
