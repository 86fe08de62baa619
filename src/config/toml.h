/* A small strict parser of the TOML subset our config files use (TOML
 * v1.0.0): comments, bare and quoted keys, basic strings with escapes,
 * literal strings, integers, booleans, arrays (which may span lines),
 * [table] and [[array of tables]] headers with dotted names. Everything
 * else TOML has (floats, dates, inline tables, multi-line strings, dotted
 * keys) is refused with an error rather than misread.
 *
 * It is fed one line at a time, like wireguard-tools' config parser, and
 * reports each header and each key/value pair to callbacks, which carry
 * the meaning (config.c). It checks what TOML makes an error on its own:
 * a key defined twice in one table, a table defined twice, a table and an
 * array of tables of the same name.
 */
#ifndef DV_CONFIG_TOML_H
#define DV_CONFIG_TOML_H

#include <stddef.h>
#include <stdint.h>

#define DV_TOML_KEY_MAX 64        /* a longer key is refused */
#define DV_TOML_HEADER_MAX 128    /* [a.b.c] as one dotted string */
#define DV_TOML_STMT_MAX 65536    /* one statement (a multi-line array) */
#define DV_TOML_DEPTH_MAX 8       /* arrays within arrays */
#define DV_TOML_ERR_MAX 256

enum dv_toml_type {
	DV_TOML_STRING,
	DV_TOML_INTEGER,
	DV_TOML_BOOL,
	DV_TOML_ARRAY,
};

struct dv_toml_value {
	enum dv_toml_type type;
	char *str; /* STRING: NUL-terminated, no NUL inside, valid UTF-8 */
	size_t str_len;
	unsigned line;    /* where the value starts */
	int64_t integer;  /* INTEGER */
	int boolean;      /* BOOL: 0 or 1 */
	struct dv_toml_value *items; /* ARRAY */
	size_t n_items;
};

/* The callbacks return 0 to go on, or -1 after writing what is wrong into
 * err; the parser then reports it at *line. *line is the line of the
 * header, or of the key; a keyval callback may move it (to the line of one
 * item of a multi-line array, v->items[i].line). */
struct dv_toml_handler {
	void *arg;
	/* name is the dotted header ("peer", "access_control.role"),
	 * is_array 1 for [[name]]. */
	int (*table)(void *arg, const char *name, int is_array, unsigned line,
		     char *err, size_t errlen);
	int (*keyval)(void *arg, const char *key, const struct dv_toml_value *v,
		      unsigned *line, char *err, size_t errlen);
};

struct dv_toml_seen; /* private: names defined so far */

struct dv_toml_parser {
	struct dv_toml_handler h;
	unsigned line;      /* lines fed so far */
	unsigned stmt_line; /* first line of the pending statement */
	char *stmt;         /* pending multi-line statement, or NULL */
	size_t stmt_len;
	long depth;         /* its '[' minus ']' so far */
	struct dv_toml_seen *tables; /* headers seen */
	struct dv_toml_seen *keys;   /* keys of the current table */
	int failed;
	unsigned err_line; /* 0 if the error is not about one line */
	char err[DV_TOML_ERR_MAX];
};

void dv_toml_init(struct dv_toml_parser *p, const struct dv_toml_handler *h);
/* One line, without its '\n' (a trailing '\r' is allowed). Returns 0, or
 * -1 with the error in p->err and p->err_line; after an error every
 * further call fails. */
int dv_toml_feed_line(struct dv_toml_parser *p, const char *line, size_t len);
/* End of input: fails if a multi-line value is still open. */
int dv_toml_finish(struct dv_toml_parser *p);
/* Frees and wipes (values may be keys) what the parser holds. */
void dv_toml_free(struct dv_toml_parser *p);

/* Splits text (len bytes) into lines and runs the whole parser. */
int dv_toml_parse(struct dv_toml_parser *p, const char *text, size_t len);

#endif
