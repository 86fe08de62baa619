/* Test-vector runner: reads files in the record format of the shared
 * vectors README (blocks of "key = value" lines separated by blank lines)
 * and hands each record to the handler of its family. */
#ifndef DV_TESTS_TV_H
#define DV_TESTS_TV_H

#include <stddef.h>
#include <stdint.h>

#define TV_MAX_FIELDS 96

struct tv_rec {
	const char *file;  /* base name of the file */
	unsigned line;     /* line of the record's first field */
	unsigned n;
	char *key[TV_MAX_FIELDS];
	char *val[TV_MAX_FIELDS];
};

/* Field value, or NULL when the record lacks it. */
const char *tv_get(const struct tv_rec *r, const char *key);
/* Decode a hex field into a malloc'd buffer (free it). Returns -1 when the
 * field is missing or is not hex; an empty value gives len 0, a non-NULL buf. */
int tv_hex(const struct tv_rec *r, const char *key, uint8_t **buf, size_t *len);
/* tv_hex into a caller buffer of exactly `len` bytes; -1 on missing/mismatch. */
int tv_hex_fixed(const struct tv_rec *r, const char *key, uint8_t *buf, size_t len);
/* 1 when the field equals `word`, else 0. */
int tv_is(const struct tv_rec *r, const char *key, const char *word);

/* A handler returns 0 when the record passes; otherwise 1, after writing
 * why into msg. Every family lives in its own file. */
typedef int (*tv_handler)(const struct tv_rec *r, char *msg, size_t msglen);

int tv_sha3(const struct tv_rec *r, char *msg, size_t msglen);
int tv_mlkem(const struct tv_rec *r, char *msg, size_t msglen);
int tv_mldsa(const struct tv_rec *r, char *msg, size_t msglen);
int tv_handshake(const struct tv_rec *r, char *msg, size_t msglen);
int tv_fragments(const struct tv_rec *r, char *msg, size_t msglen);

#endif
