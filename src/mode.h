/* The three handshake modes of docs/PROTOCOL.md §1, shared by config, handshake,
 * device and CLI. What distinguishes them (names, message types, optional
 * tokens) is one row each of the mode table in protocol.c: code asks
 * dv_mode_desc() instead of comparing modes. */
#ifndef DV_MODE_H
#define DV_MODE_H

enum dv_mode {
	DV_MODE_CLASSIC = 0, /* WireGuard exactly: types 1, 2 */
	DV_MODE_HYBRID = 1,  /* X25519 + ML-KEM-768: types 5, 6 (the default) */
	DV_MODE_PQONLY = 2,  /* hybrid + ML-DSA-65 signatures: types 7, 8 */
	DV_MODE_COUNT        /* not a mode: the number of rows of the table */
};

#define DV_MODE_DEFAULT DV_MODE_HYBRID

/* "classic", "hybrid" or "pqonly"; "unknown" out of range. */
const char *dv_mode_name(enum dv_mode m);
/* Accepts the names above and their aliases (upstream's "pq-only");
 * 0 on success. */
int dv_mode_parse(const char *s, enum dv_mode *out);

#endif
