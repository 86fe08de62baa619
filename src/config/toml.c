/* The strict TOML subset of toml.h. TOML v1.0.0 (toml.io/en/v1.0.0) is
 * the reference for every rule below; the sections cited are its.
 *
 * Lines are fed one by one. A key/value line whose array is still open
 * (more '[' than ']' outside strings and comments) is buffered with the
 * following lines until the brackets balance; then the statement is parsed
 * as a whole, counting lines so each error names the line it is on.
 */
#include "config/toml.h"
#include "util/wipe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

struct dv_toml_seen {
	size_t n, cap;
	struct {
		char *name;
		int is_array;
	} *v;
};

/* A cursor over one statement. */
struct cur {
	struct dv_toml_parser *p;
	const char *s;
	size_t n, i;
	unsigned line;
	const char *key; /* named in errors once known */
};

static void __attribute__((format(printf, 3, 4)))
perr(struct dv_toml_parser *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->err_line = line;
	va_start(ap, fmt);
	vsnprintf(p->err, sizeof(p->err), fmt, ap);
	va_end(ap);
}

static int __attribute__((format(printf, 2, 3)))
cerr(struct cur *c, const char *fmt, ...)
{
	char msg[DV_TOML_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->key)
		perr(c->p, c->line, "key '%s': %s", c->key, msg);
	else
		perr(c->p, c->line, "%s", msg);
	return -1;
}

/* ---- names already defined (section 2.3 "Keys", 2.9 "Table") ---- */

static void seen_clear(struct dv_toml_seen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	s->n = 0;
}

static void seen_free(struct dv_toml_seen **s)
{
	if (!*s)
		return;
	seen_clear(*s);
	free((*s)->v);
	free(*s);
	*s = NULL;
}

/* Returns the entry's index, or -1. */
static long seen_find(const struct dv_toml_seen *s, const char *name)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!strcmp(s->v[i].name, name))
			return (long)i;
	return -1;
}

static int seen_add(struct dv_toml_seen **sp, const char *name, int is_array)
{
	struct dv_toml_seen *s = *sp;

	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		*sp = s;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		void *v = realloc(s->v, cap * sizeof(*s->v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n].name = strdup(name);
	if (!s->v[s->n].name)
		return -1;
	s->v[s->n].is_array = is_array;
	s->n++;
	return 0;
}

/* ---- values ---- */

static void value_free(struct dv_toml_value *v)
{
	if (v->type == DV_TOML_STRING && v->str) {
		/* A string may be a private key. */
		sodium_memzero(v->str, v->str_len);
		free(v->str);
	} else if (v->type == DV_TOML_ARRAY) {
		for (size_t i = 0; i < v->n_items; i++)
			value_free(&v->items[i]);
		free(v->items);
	}
	memset(v, 0, sizeof(*v));
}

static int at_end(const struct cur *c)
{
	return c->i >= c->n;
}

static char peek(const struct cur *c, size_t k)
{
	return c->i + k < c->n ? c->s[c->i + k] : '\0';
}

static void skip_ws(struct cur *c)
{
	while (!at_end(c) && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
		c->i++;
}

/* Whitespace, newlines and comments, as allowed between array items
 * (section 2.11 "Array"). */
static void skip_ws_nl(struct cur *c)
{
	for (;;) {
		skip_ws(c);
		if (peek(c, 0) == '#') {
			while (!at_end(c) && c->s[c->i] != '\n')
				c->i++;
		}
		if (peek(c, 0) != '\n')
			return;
		c->i++;
		c->line++;
	}
}

/* A character for a message: 'x', or its byte value when not printable
 * ASCII (so no message carries a broken UTF-8 sequence). */
static const char *show(char ch, char b[16])
{
	unsigned char u = (unsigned char)ch;

	if (u >= 0x20 && u < 0x7f)
		snprintf(b, 16, "'%c'", ch);
	else
		snprintf(b, 16, "byte 0x%02x", u);
	return b;
}

/* After a statement: only whitespace and a comment. */
static int expect_eol(struct cur *c)
{
	char b[16];

	skip_ws(c);
	if (at_end(c) || c->s[c->i] == '#')
		return 0;
	return cerr(c, "unexpected %s after the value", show(c->s[c->i], b));
}

/* Appends code point cp as UTF-8. */
static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* A basic ("...") or literal ('...') string on one line (section 2.7
 * "String"); the cursor is on the opening quote. The output is malloc'd. */
static int parse_string(struct cur *c, char **out, size_t *outlen)
{
	char q = c->s[c->i];
	size_t start, cap, o = 0;
	char *buf;

	if (peek(c, 1) == q && peek(c, 2) == q)
		return cerr(c, "multi-line strings are not supported");
	c->i++;
	start = c->i;
	while (!at_end(c) && c->s[c->i] != q && c->s[c->i] != '\n') {
		if (q == '"' && c->s[c->i] == '\\' && c->i + 1 < c->n &&
		    c->s[c->i + 1] != '\n')
			c->i++;
		c->i++;
	}
	if (at_end(c) || c->s[c->i] != q)
		return cerr(c, "unterminated string");
	/* Escapes only shrink the text: \UXXXXXXXX (10 bytes) is at most 4. */
	cap = c->i - start + 1;
	buf = malloc(cap);
	if (!buf)
		return cerr(c, "out of memory");
	for (size_t k = start; k < c->i; k++) {
		char ch = c->s[k];
		uint32_t cp = 0;
		int nhex;

		if (q == '\'' || ch != '\\') {
			buf[o++] = ch;
			continue;
		}
		ch = c->s[++k];
		switch (ch) {
		case 'b': buf[o++] = '\b'; continue;
		case 't': buf[o++] = '\t'; continue;
		case 'n': buf[o++] = '\n'; continue;
		case 'f': buf[o++] = '\f'; continue;
		case 'r': buf[o++] = '\r'; continue;
		case '"': buf[o++] = '"'; continue;
		case '\\': buf[o++] = '\\'; continue;
		case 'u': nhex = 4; break;
		case 'U': nhex = 8; break;
		default:
			sodium_memzero(buf, cap);
			free(buf);
			return cerr(c, "invalid escape '\\%c' in string", ch);
		}
		for (int j = 0; j < nhex; j++) {
			int h = k + 1 < c->i ? hexval(c->s[k + 1]) : -1;

			if (h < 0) {
				sodium_memzero(buf, cap);
				free(buf);
				return cerr(c, "invalid \\%c escape: %d hex digits needed",
					    ch, nhex);
			}
			cp = cp << 4 | (uint32_t)h;
			k++;
		}
		/* Unicode scalar values only; NUL cannot live in a C string. */
		if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
			sodium_memzero(buf, cap);
			free(buf);
			return cerr(c, "escape \\%c names an invalid code point %#x",
				    ch, (unsigned)cp);
		}
		o += put_utf8(buf + o, cp);
	}
	buf[o] = '\0';
	c->i++;
	*out = buf;
	*outlen = o;
	return 0;
}

static int is_bare_key_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

/* A bare or quoted key (section 2.3) into key[DV_TOML_KEY_MAX + 1]. */
static int parse_key(struct cur *c, char *key)
{
	size_t len = 0;
	char b[16];

	if (peek(c, 0) == '"' || peek(c, 0) == '\'') {
		char *s;

		if (parse_string(c, &s, &len))
			return -1;
		if (len > DV_TOML_KEY_MAX || len == 0) {
			free(s);
			return cerr(c, len ? "key too long" : "empty key");
		}
		memcpy(key, s, len + 1);
		free(s);
		return 0;
	}
	while (!at_end(c) && is_bare_key_char(c->s[c->i])) {
		if (len == DV_TOML_KEY_MAX)
			return cerr(c, "key too long (at most %d characters)",
				    DV_TOML_KEY_MAX);
		key[len++] = c->s[c->i++];
	}
	key[len] = '\0';
	if (!len) {
		if (at_end(c))
			return cerr(c, "a key is missing");
		return cerr(c, "unexpected %s where a key should be",
			    show(c->s[c->i], b));
	}
	return 0;
}

/* Decimal, 0x, 0o or 0b integers with '_' between digits (section 2.8
 * "Integer"); anything number-like that is not one of those (floats,
 * dates, times) is refused. */
static int parse_number(struct cur *c, struct dv_toml_value *v)
{
	size_t start = c->i, end = c->i;
	const char *t = c->s + start;
	int neg = 0, base = 10, prev_digit = 0;
	uint64_t acc = 0, limit;
	size_t k = 0, len;

	while (end < c->n && (is_bare_key_char(c->s[end]) || c->s[end] == '+' ||
			      c->s[end] == '.' || c->s[end] == ':'))
		end++;
	len = end - start;
	if (memchr(t, '.', len) || memchr(t, ':', len))
		return cerr(c, "floats, dates and times are not supported");
	if (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-';
		k = 1;
	}
	if (k == 0 && len > 2 && t[0] == '0' &&
	    (t[1] == 'x' || t[1] == 'o' || t[1] == 'b')) {
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		k = 2;
	} else if (len > k + 1 && t[k] == '0') {
		return cerr(c, "leading zeros are not allowed in integers");
	}
	if (k == len)
		return cerr(c, "invalid integer");
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; k < len; k++) {
		int d = hexval(t[k]);

		if (t[k] == '_') {
			if (!prev_digit || k + 1 == len)
				return cerr(c, "'_' must stand between digits");
			prev_digit = 0;
			continue;
		}
		if (d < 0 || d >= base) {
			if (base == 10 && (t[k] == 'e' || t[k] == 'E' ||
					   (len - k == 3 && (!memcmp(t + k, "inf", 3) ||
							     !memcmp(t + k, "nan", 3)))))
				return cerr(c, "floats are not supported");
			return cerr(c, "invalid integer");
		}
		if (acc > (limit - (uint64_t)d) / (uint64_t)base)
			return cerr(c, "integer out of range");
		acc = acc * (uint64_t)base + (uint64_t)d;
		prev_digit = 1;
	}
	v->type = DV_TOML_INTEGER;
	v->integer = neg ? (acc ? -(int64_t)(acc - 1) - 1 : 0) : (int64_t)acc;
	c->i = end;
	return 0;
}

static int parse_value(struct cur *c, struct dv_toml_value *v, int depth);

static int parse_array(struct cur *c, struct dv_toml_value *v, int depth)
{
	size_t cap = 0;
	char b[16];

	if (depth >= DV_TOML_DEPTH_MAX)
		return cerr(c, "arrays nested too deep");
	c->i++;
	v->type = DV_TOML_ARRAY;
	for (;;) {
		skip_ws_nl(c);
		if (peek(c, 0) == ']')
			break;
		if (v->n_items == cap) {
			size_t ncap = cap ? cap * 2 : 4;
			void *n = realloc(v->items, ncap * sizeof(*v->items));

			if (!n)
				return cerr(c, "out of memory");
			v->items = n;
			cap = ncap;
		}
		memset(&v->items[v->n_items], 0, sizeof(*v->items));
		v->n_items++;
		if (parse_value(c, &v->items[v->n_items - 1], depth + 1))
			return -1;
		skip_ws_nl(c);
		if (peek(c, 0) == ',') {
			c->i++;
			continue;
		}
		if (peek(c, 0) != ']') {
			if (at_end(c))
				return cerr(c, "unterminated array");
			return cerr(c, "expected ',' or ']' in array, got %s",
				    show(c->s[c->i], b));
		}
		break;
	}
	c->i++;
	return 0;
}

static int parse_value(struct cur *c, struct dv_toml_value *v, int depth)
{
	char ch = peek(c, 0), b[16];

	v->line = c->line;
	if (ch == '"' || ch == '\'') {
		v->type = DV_TOML_STRING;
		return parse_string(c, &v->str, &v->str_len);
	}
	if (ch == '[')
		return parse_array(c, v, depth);
	if (ch == '{')
		return cerr(c, "inline tables are not supported");
	if (ch == 't' || ch == 'f') {
		const char *w = ch == 't' ? "true" : "false";
		size_t wl = strlen(w);

		if (c->n - c->i >= wl && !memcmp(c->s + c->i, w, wl) &&
		    !is_bare_key_char(peek(c, wl))) {
			v->type = DV_TOML_BOOL;
			v->boolean = ch == 't';
			c->i += wl;
			return 0;
		}
	}
	if ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-')
		return parse_number(c, v);
	if (ch == 'i' || ch == 'n')
		return cerr(c, "floats are not supported");
	if (!ch || ch == '\n' || ch == '#')
		return cerr(c, "a value is missing");
	return cerr(c, "invalid value starting with %s", show(ch, b));
}

/* [a.b] or [[a.b]] (sections 2.12 "Table", 2.14 "Array of Tables"). */
static int parse_header(struct cur *c)
{
	struct dv_toml_parser *p = c->p;
	char name[DV_TOML_HEADER_MAX + 1] = "", key[DV_TOML_KEY_MAX + 1];
	int is_array = peek(c, 1) == '[';
	size_t nlen = 0;
	long idx;

	c->i += is_array ? 2 : 1;
	for (;;) {
		size_t kl;

		skip_ws(c);
		if (parse_key(c, key))
			return -1;
		kl = strlen(key);
		if (nlen + kl + 1 > DV_TOML_HEADER_MAX)
			return cerr(c, "table name too long");
		if (nlen)
			name[nlen++] = '.';
		memcpy(name + nlen, key, kl + 1);
		nlen += kl;
		skip_ws(c);
		if (peek(c, 0) != '.')
			break;
		c->i++;
	}
	if (peek(c, 0) != ']' || (is_array && peek(c, 1) != ']'))
		return cerr(c, "table header [%s: expected '%s'", name,
			    is_array ? "]]" : "]");
	c->i += is_array ? 2 : 1;
	if (expect_eol(c))
		return -1;
	idx = seen_find(p->tables, name);
	if (idx >= 0 && !is_array)
		return cerr(c, "table [%s] defined twice", name);
	if (idx >= 0 && !p->tables->v[idx].is_array)
		return cerr(c, "[[%s]] names a table already defined as [%s]",
			    name, name);
	if (idx < 0 && seen_add(&p->tables, name, is_array))
		return cerr(c, "out of memory");
	seen_clear(p->keys);
	if (p->h.table && p->h.table(p->h.arg, name, is_array, c->line, p->err,
				     sizeof(p->err))) {
		p->failed = 1;
		p->err_line = c->line;
		return -1;
	}
	return 0;
}

static int parse_keyval(struct cur *c)
{
	struct dv_toml_parser *p = c->p;
	char key[DV_TOML_KEY_MAX + 1];
	struct dv_toml_value v;
	unsigned key_line = c->line;
	int r;

	memset(&v, 0, sizeof(v));
	if (parse_key(c, key))
		return -1;
	c->key = key;
	skip_ws(c);
	if (peek(c, 0) == '.')
		return cerr(c, "dotted keys are not supported");
	if (peek(c, 0) != '=')
		return cerr(c, "expected '=' after the key");
	c->i++;
	skip_ws(c);
	if (seen_find(p->keys, key) >= 0)
		return cerr(c, "defined twice in the same table");
	r = parse_value(c, &v, 0);
	if (!r)
		r = expect_eol(c);
	if (!r && seen_add(&p->keys, key, 0))
		r = cerr(c, "out of memory");
	if (!r && p->h.keyval &&
	    p->h.keyval(p->h.arg, key, &v, &key_line, p->err, sizeof(p->err))) {
		p->failed = 1;
		p->err_line = key_line;
		r = -1;
	}
	value_free(&v);
	return r;
}

static int parse_statement(struct dv_toml_parser *p, const char *s, size_t n,
			   unsigned line)
{
	struct cur c = { .p = p, .s = s, .n = n, .i = 0, .line = line };

	skip_ws(&c);
	if (at_end(&c) || c.s[c.i] == '#')
		return 0;
	if (c.s[c.i] == '[')
		return parse_header(&c);
	return parse_keyval(&c);
}

/* RFC 3629 well-formed UTF-8; TOML files must be valid UTF-8 (section 1). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char b = s[0];
	size_t len;
	uint32_t cp;

	if (b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		len = 2, cp = b & 0x1f;
	else if (b >= 0xe0 && b <= 0xef)
		len = 3, cp = b & 0x0f;
	else if (b >= 0xf0 && b <= 0xf4)
		len = 4, cp = b & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Checks the characters of one line and returns the change in bracket
 * depth outside strings and comments. */
static int scan_line(struct dv_toml_parser *p, const char *s, size_t n,
		     long *depth)
{
	char quote = 0;

	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		size_t l;

		/* Control characters other than tab are invalid everywhere
		 * (sections 2.2 "Comment", 2.7 "String"). */
		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			perr(p, p->line, "control character 0x%02x", ch);
			return -1;
		}
		l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!l) {
			perr(p, p->line, "invalid UTF-8");
			return -1;
		}
		if (!quote && ch == '#')
			quote = '#';
		else if (!quote && (ch == '"' || ch == '\''))
			quote = (char)ch;
		else if (quote == '"' && ch == '\\' && i + 1 < n)
			i++;
		else if (quote && quote != '#' && ch == (unsigned char)quote)
			quote = 0;
		else if (!quote && ch == '[')
			(*depth)++;
		else if (!quote && ch == ']')
			(*depth)--;
		i += l;
	}
	return 0;
}

void dv_toml_init(struct dv_toml_parser *p, const struct dv_toml_handler *h)
{
	memset(p, 0, sizeof(*p));
	if (h)
		p->h = *h;
}

static void stmt_drop(struct dv_toml_parser *p)
{
	if (p->stmt) {
		sodium_memzero(p->stmt, p->stmt_len);
		free(p->stmt);
	}
	p->stmt = NULL;
	p->stmt_len = 0;
}

int dv_toml_feed_line(struct dv_toml_parser *p, const char *line, size_t len)
{
	long depth = 0;
	char *s;
	size_t i = 0;
	int r;

	if (p->failed)
		return -1;
	p->line++;
	if (len && line[len - 1] == '\r')
		len--;
	/* A byte order mark, as some editors write, is not content. */
	if (p->line == 1 && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
		line += 3;
		len -= 3;
	}
	if (scan_line(p, line, len, &depth))
		return -1;
	if (!p->stmt) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		/* Headers never span lines; a balanced statement is parsed
		 * straight from the caller's line. */
		if (i == len || line[i] == '[' || depth <= 0)
			return parse_statement(p, line, len, p->line);
		p->stmt_line = p->line;
	}
	if (p->stmt_len + len + 1 > DV_TOML_STMT_MAX) {
		perr(p, p->stmt_line, "value too long (over %d bytes)",
		     DV_TOML_STMT_MAX);
		stmt_drop(p);
		return -1;
	}
	/* The statement may hold a key: the old block is wiped, not just freed. */
	s = dv_wipe_realloc(p->stmt, p->stmt_len,
			    p->stmt_len + len + 1);
	if (!s) {
		perr(p, p->line, "out of memory");
		stmt_drop(p);
		return -1;
	}
	p->stmt = s;
	if (p->stmt_len)
		p->stmt[p->stmt_len++] = '\n';
	memcpy(p->stmt + p->stmt_len, line, len);
	p->stmt_len += len;
	p->depth += depth;
	if (p->depth > 0)
		return 0;
	r = parse_statement(p, p->stmt, p->stmt_len, p->stmt_line);
	stmt_drop(p);
	p->depth = 0;
	return r;
}

int dv_toml_finish(struct dv_toml_parser *p)
{
	if (p->failed)
		return -1;
	if (p->stmt) {
		perr(p, p->stmt_line, "unterminated array");
		stmt_drop(p);
		return -1;
	}
	return 0;
}

void dv_toml_free(struct dv_toml_parser *p)
{
	stmt_drop(p);
	seen_free(&p->tables);
	seen_free(&p->keys);
}

int dv_toml_parse(struct dv_toml_parser *p, const char *text, size_t len)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (dv_toml_feed_line(p, text + start, end - start))
			return -1;
		start = end + 1;
	}
	return dv_toml_finish(p);
}
