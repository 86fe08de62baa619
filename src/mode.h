/* The three handshake modes of PROTOCOL.md, shared by config, handshake,
 * device and CLI. */
#ifndef DV_MODE_H
#define DV_MODE_H

enum dv_mode {
	DV_MODE_CLASSIC = 0, /* WireGuard exactly: types 1, 2 */
	DV_MODE_HYBRID = 1,  /* X25519 + ML-KEM-768: types 5, 6 (the default) */
	DV_MODE_PQONLY = 2,  /* hybrid + ML-DSA-65 signatures: types 7, 8 */
};

#define DV_MODE_DEFAULT DV_MODE_HYBRID

/* "classic", "hybrid" or "pqonly". */
const char *dv_mode_name(enum dv_mode m);
/* Accepts the names above and upstream's spelling "pq-only"; 0 on success. */
int dv_mode_parse(const char *s, enum dv_mode *out);

#endif
