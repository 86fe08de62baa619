/* Prometheus text exposition (format 0.0.4) of running interfaces, built
 * from their control-socket get=1 responses, so `dybervpn metrics` (over
 * the socket) and the daemon's optional HTTP listener (in process) print
 * the same families:
 *
 *   wireguard_sent_bytes_total, wireguard_received_bytes_total,
 *   wireguard_latest_handshake_seconds   (prometheus_wireguard_exporter's
 *       names; labels interface, public_key (base64), allowed_ips
 *       (comma-separated), and friendly_name when the peer has a name)
 *   dybervpn_peer_mode{...,mode}           1 for the peer's current mode
 *   dybervpn_peer_handshakes_total         handshakes completed
 *   dybervpn_peer_refused_handshakes_total{...,reason}  mode, signature, mlkem
 *   dybervpn_dropped_packets_total{interface,reason}    input dropped before
 *                                          it reached a peer
 *   dybervpn_cookie_replies_sent_total{interface}
 *   dybervpn_handshake_fragments_total{interface,event}  received, sent,
 *                                          reassembled
 *   dybervpn_peers{interface}
 *
 * Every family's samples come together, after one HELP and one TYPE line,
 * whatever the number of interfaces. Label values are escaped. No key but
 * the peers' public keys is kept. */
#ifndef DV_PLATFORM_METRICS_H
#define DV_PLATFORM_METRICS_H

#include <stddef.h>

struct dv_metrics_iface;

struct dv_metrics {
	struct dv_metrics_iface *ifaces;
	size_t n_ifaces;
};

/* Parses one interface's get=1 response (NUL-terminated; not modified)
 * and adds it. 0, or -1 with a message in err (the daemon's errno, out
 * of memory). */
int dv_metrics_add(struct dv_metrics *m, const char *iface, const char *resp,
		   char *err, size_t errlen);
/* The exposition text of everything added, malloc'd and NUL-terminated
 * in *out (length in *outlen); 0, or -1 when memory ran out. */
int dv_metrics_render(const struct dv_metrics *m, char **out, size_t *outlen);
void dv_metrics_free(struct dv_metrics *m);

#endif
