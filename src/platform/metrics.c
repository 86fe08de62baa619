#include "platform/metrics.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define B64_KEY_LEN 45 /* 32 bytes in base64 with padding, and the NUL */
#define REASON_MAX 32  /* "dropped_<reason>" / "refused_<reason>" */
#define REASONS_MAX 16

struct reason {
	char name[REASON_MAX];
	uint64_t n;
};

struct mpeer {
	char public_key[B64_KEY_LEN];
	char name[64];
	char mode[16];
	char *allowed; /* "a/n,b/m", malloc'd, or NULL */
	size_t allowed_len;
	uint64_t hs_sec, rx, tx, handshakes;
	struct reason refused[REASONS_MAX];
	size_t n_refused;
};

struct dv_metrics_iface {
	char name[64];
	struct reason dropped[REASONS_MAX];
	size_t n_dropped;
	int has_cookie;
	uint64_t cookie_replies;
	struct reason fragments[REASONS_MAX];
	size_t n_fragments;
	struct mpeer *peers;
	size_t n_peers;
};

/* v, cut to fit dst (names and modes are short; a longer one is not ours). */
static void setstr(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = 0;
}

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 10);
}

/* A reason is what follows the key's prefix: [a-z0-9_], 1 to 31 chars. */
static int add_reason(struct reason *r, size_t *n, const char *name, const char *v)
{
	size_t len = strlen(name);

	if (!len || len >= REASON_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return 0;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(r[i].name, name)) {
			r[i].n = num(v);
			return 0;
		}
	if (*n == REASONS_MAX)
		return 0;
	memcpy(r[*n].name, name, len + 1);
	r[(*n)++].n = num(v);
	return 0;
}

static void hex_to_b64(const char *hex, size_t hexlen, char out[B64_KEY_LEN])
{
	unsigned char k[32];
	size_t n = 0;

	out[0] = 0;
	if (hexlen != 64 || sodium_hex2bin(k, sizeof(k), hex, 64, NULL, &n, NULL) || n != 32)
		return;
	sodium_bin2base64(out, B64_KEY_LEN, k, 32, sodium_base64_VARIANT_ORIGINAL);
}

static int append_allowed(struct mpeer *p, const char *v, size_t vlen)
{
	char *na = realloc(p->allowed, p->allowed_len + vlen + 2);

	if (!na)
		return -1;
	p->allowed = na;
	if (p->allowed_len)
		na[p->allowed_len++] = ',';
	memcpy(na + p->allowed_len, v, vlen);
	p->allowed_len += vlen;
	na[p->allowed_len] = 0;
	return 0;
}

static void free_iface(struct dv_metrics_iface *ifc)
{
	for (size_t i = 0; i < ifc->n_peers; i++)
		free(ifc->peers[i].allowed);
	free(ifc->peers);
}

int dv_metrics_add(struct dv_metrics *m, const char *iface, const char *resp,
		   char *err, size_t errlen)
{
	struct dv_metrics_iface ifc, *ni;
	struct mpeer *p = NULL;
	const char *line = resp;

	memset(&ifc, 0, sizeof(ifc));
	setstr(ifc.name, sizeof(ifc.name), iface);
	while (*line) {
		const char *end = strchr(line, '\n'), *eq;
		size_t len = end ? (size_t)(end - line) : strlen(line);
		char key[64], v[128];
		size_t klen, vlen;

		eq = memchr(line, '=', len);
		if (!eq)
			goto next;
		klen = (size_t)(eq - line);
		vlen = len - klen - 1;
		if (klen >= sizeof(key))
			goto next;
		memcpy(key, line, klen);
		key[klen] = 0;
		if (!strcmp(key, "private_key") || !strcmp(key, "preshared_key") ||
		    !strcmp(key, "mldsa_public_key"))
			goto next; /* never copied: secrets, or too long to matter */
		if (!strcmp(key, "public_key")) {
			struct mpeer *np = realloc(ifc.peers, sizeof(*np) * (ifc.n_peers + 1));

			if (!np)
				goto oom;
			ifc.peers = np;
			p = &np[ifc.n_peers++];
			memset(p, 0, sizeof(*p));
			hex_to_b64(eq + 1, vlen, p->public_key);
			goto next;
		}
		if (vlen >= sizeof(v))
			goto next;
		memcpy(v, eq + 1, vlen);
		v[vlen] = 0;
		if (!strcmp(key, "errno")) {
			if (num(v)) {
				snprintf(err, errlen, "the daemon answered errno=%s", v);
				free_iface(&ifc);
				return -1;
			}
		} else if (!p) {
			if (!strncmp(key, "dropped_", 8))
				add_reason(ifc.dropped, &ifc.n_dropped, key + 8, v);
			else if (!strncmp(key, "fragments_", 10))
				add_reason(ifc.fragments, &ifc.n_fragments, key + 10, v);
			else if (!strcmp(key, "cookie_replies_sent")) {
				ifc.has_cookie = 1;
				ifc.cookie_replies = num(v);
			}
		} else if (!strcmp(key, "allowed_ip")) {
			if (append_allowed(p, v, vlen) < 0)
				goto oom;
		} else if (!strcmp(key, "last_handshake_time_sec")) {
			p->hs_sec = num(v);
		} else if (!strcmp(key, "rx_bytes")) {
			p->rx = num(v);
		} else if (!strcmp(key, "tx_bytes")) {
			p->tx = num(v);
		} else if (!strcmp(key, "handshakes")) {
			p->handshakes = num(v);
		} else if (!strcmp(key, "mode")) {
			setstr(p->mode, sizeof(p->mode), v);
		} else if (!strcmp(key, "name")) {
			setstr(p->name, sizeof(p->name), v);
		} else if (!strncmp(key, "refused_", 8) && strcmp(key, "refused_handshakes")) {
			add_reason(p->refused, &p->n_refused, key + 8, v);
		}
next:
		if (!end)
			break;
		line = end + 1;
	}
	ni = realloc(m->ifaces, sizeof(*ni) * (m->n_ifaces + 1));
	if (!ni)
		goto oom;
	m->ifaces = ni;
	ni[m->n_ifaces++] = ifc;
	return 0;
oom:
	free_iface(&ifc);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void dv_metrics_free(struct dv_metrics *m)
{
	for (size_t i = 0; i < m->n_ifaces; i++)
		free_iface(&m->ifaces[i]);
	free(m->ifaces);
	m->ifaces = NULL;
	m->n_ifaces = 0;
}

/* ---- rendering ---- */

/* A label value: backslash, double quote and newline escaped (the
 * exposition format's three). */
static void label(FILE *f, const char *name, const char *v, int first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void peer_labels(FILE *f, const struct dv_metrics_iface *ifc, const struct mpeer *p,
			int with_aips)
{
	label(f, "interface", ifc->name, 1);
	label(f, "public_key", p->public_key, 0);
	if (with_aips)
		label(f, "allowed_ips", p->allowed ? p->allowed : "", 0);
	if (p->name[0])
		label(f, "friendly_name", p->name, 0);
}

enum peer_value { PV_TX, PV_RX, PV_HS, PV_HANDSHAKES };

static void peer_family(FILE *f, const struct dv_metrics *m, const char *name,
			const char *type, const char *help, enum peer_value which)
{
	family(f, name, type, help);
	for (size_t i = 0; i < m->n_ifaces; i++) {
		const struct dv_metrics_iface *ifc = &m->ifaces[i];

		for (size_t j = 0; j < ifc->n_peers; j++) {
			const struct mpeer *p = &ifc->peers[j];
			uint64_t v = which == PV_TX ? p->tx : which == PV_RX ? p->rx :
				     which == PV_HS ? p->hs_sec : p->handshakes;

			fprintf(f, "%s{", name);
			peer_labels(f, ifc, p, which != PV_HANDSHAKES);
			fprintf(f, "} %" PRIu64 "\n", v);
		}
	}
}

int dv_metrics_render(const struct dv_metrics *m, char **out, size_t *outlen)
{
	FILE *f = open_memstream(out, outlen);
	int r;

	if (!f)
		return -1;
	peer_family(f, m, "wireguard_sent_bytes_total", "counter",
		    "Bytes sent to the peer.", PV_TX);
	peer_family(f, m, "wireguard_received_bytes_total", "counter",
		    "Bytes received from the peer.", PV_RX);
	peer_family(f, m, "wireguard_latest_handshake_seconds", "gauge",
		    "UNIX time of the latest handshake with the peer (0: never).", PV_HS);
	peer_family(f, m, "dybervpn_peer_handshakes_total", "counter",
		    "Handshakes completed with the peer.", PV_HANDSHAKES);

	family(f, "dybervpn_peer_mode", "gauge",
	       "The peer's handshake mode (classic, hybrid or pqonly): 1.");
	for (size_t i = 0; i < m->n_ifaces; i++)
		for (size_t j = 0; j < m->ifaces[i].n_peers; j++) {
			const struct mpeer *p = &m->ifaces[i].peers[j];

			fputs("dybervpn_peer_mode{", f);
			peer_labels(f, &m->ifaces[i], p, 0);
			label(f, "mode", p->mode[0] ? p->mode : "unknown", 0);
			fputs("} 1\n", f);
		}

	family(f, "dybervpn_peer_refused_handshakes_total", "counter",
	       "Handshakes from the peer refused: another mode than its own (mode), a bad "
	       "ML-DSA signature (signature), an ML-KEM key failing the FIPS 203 check "
	       "(mlkem).");
	for (size_t i = 0; i < m->n_ifaces; i++)
		for (size_t j = 0; j < m->ifaces[i].n_peers; j++) {
			const struct mpeer *p = &m->ifaces[i].peers[j];

			for (size_t k = 0; k < p->n_refused; k++) {
				fputs("dybervpn_peer_refused_handshakes_total{", f);
				peer_labels(f, &m->ifaces[i], p, 0);
				label(f, "reason", p->refused[k].name, 0);
				fprintf(f, "} %" PRIu64 "\n", p->refused[k].n);
			}
		}

	family(f, "dybervpn_dropped_packets_total", "counter",
	       "Packets dropped before they reached a peer, by reason.");
	for (size_t i = 0; i < m->n_ifaces; i++)
		for (size_t k = 0; k < m->ifaces[i].n_dropped; k++) {
			fputs("dybervpn_dropped_packets_total{", f);
			label(f, "interface", m->ifaces[i].name, 1);
			label(f, "reason", m->ifaces[i].dropped[k].name, 0);
			fprintf(f, "} %" PRIu64 "\n", m->ifaces[i].dropped[k].n);
		}

	family(f, "dybervpn_cookie_replies_sent_total", "counter",
	       "Handshakes answered with a cookie reply (under load).");
	for (size_t i = 0; i < m->n_ifaces; i++)
		if (m->ifaces[i].has_cookie) {
			fputs("dybervpn_cookie_replies_sent_total{", f);
			label(f, "interface", m->ifaces[i].name, 1);
			fprintf(f, "} %" PRIu64 "\n", m->ifaces[i].cookie_replies);
		}

	family(f, "dybervpn_handshake_fragments_total", "counter",
	       "Handshake fragments (type 9) received with valid macs and sent, and "
	       "handshake messages reassembled from them (event).");
	for (size_t i = 0; i < m->n_ifaces; i++)
		for (size_t k = 0; k < m->ifaces[i].n_fragments; k++) {
			fputs("dybervpn_handshake_fragments_total{", f);
			label(f, "interface", m->ifaces[i].name, 1);
			label(f, "event", m->ifaces[i].fragments[k].name, 0);
			fprintf(f, "} %" PRIu64 "\n", m->ifaces[i].fragments[k].n);
		}

	family(f, "dybervpn_peers", "gauge", "Peers configured on the interface.");
	for (size_t i = 0; i < m->n_ifaces; i++) {
		fputs("dybervpn_peers{", f);
		label(f, "interface", m->ifaces[i].name, 1);
		fprintf(f, "} %zu\n", m->ifaces[i].n_peers);
	}
	r = ferror(f) ? -1 : 0;
	if (fclose(f) != 0)
		r = -1;
	if (r < 0) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return r;
}
