/* The strict TOML subset (src/config/toml.h): what it accepts, how it
 * reports it, and every class of error with its line number. */
#include "config/toml.h"
#include "t.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Events rendered as text: "[t]@1 [[p]]@2 k=\"v\"@3 n=5@4 a=[1,\"x\"]@5". */
struct rec {
	char out[4096];
	const char *fail_key; /* the keyval callback refuses this key */
};

static void rec_put(struct rec *r, const char *s)
{
	size_t l = strlen(r->out);

	snprintf(r->out + l, sizeof(r->out) - l, "%s", s);
}

static void rec_value(struct rec *r, const struct dv_toml_value *v)
{
	char b[64];

	switch (v->type) {
	case DV_TOML_STRING:
		rec_put(r, "\"");
		rec_put(r, v->str);
		rec_put(r, "\"");
		break;
	case DV_TOML_INTEGER:
		snprintf(b, sizeof(b), "%" PRId64, v->integer);
		rec_put(r, b);
		break;
	case DV_TOML_BOOL:
		rec_put(r, v->boolean ? "true" : "false");
		break;
	case DV_TOML_ARRAY:
		rec_put(r, "[");
		for (size_t i = 0; i < v->n_items; i++) {
			if (i)
				rec_put(r, ",");
			rec_value(r, &v->items[i]);
		}
		rec_put(r, "]");
		break;
	}
}

static int rec_table(void *arg, const char *name, int is_array, unsigned line,
		     char *err, size_t errlen)
{
	struct rec *r = arg;
	char b[200];

	snprintf(b, sizeof(b), "%s%s%s@%u ", is_array ? "[[" : "[", name,
		 is_array ? "]]" : "]", line);
	rec_put(r, b);
	return 0;
}

static int rec_keyval(void *arg, const char *key, const struct dv_toml_value *v,
		      unsigned *line, char *err, size_t errlen)
{
	struct rec *r = arg;
	char b[32];

	if (r->fail_key && !strcmp(key, r->fail_key)) {
		/* Pins the error on the last item of an array. */
		if (v->type == DV_TOML_ARRAY && v->n_items)
			*line = v->items[v->n_items - 1].line;
		snprintf(err, errlen, "key '%s': refused by the handler", key);
		return -1;
	}
	rec_put(r, key);
	rec_put(r, "=");
	rec_value(r, v);
	snprintf(b, sizeof(b), "@%u ", *line);
	rec_put(r, b);
	return 0;
}

/* Parses text; returns 0/-1 and fills r->out, *line and err. */
static int run(const char *text, struct rec *r, unsigned *line, char *err,
	       size_t errlen)
{
	struct dv_toml_handler h = { .arg = r, .table = rec_table,
				     .keyval = rec_keyval };
	struct dv_toml_parser p;
	size_t len = strlen(text);
	char *copy = malloc(len ? len : 1);
	int ret;

	/* Exactly len bytes, with no NUL after them: the sanitizers catch
	 * any read past the end. */
	memcpy(copy, text, len);
	dv_toml_init(&p, &h);
	ret = dv_toml_parse(&p, copy, len);
	free(copy);
	*line = p.err_line;
	snprintf(err, errlen, "%s", p.err);
	dv_toml_free(&p);
	return ret;
}

static int ok(const char *text, const char *want)
{
	struct rec r = { .out = "" };
	char err[DV_TOML_ERR_MAX];
	unsigned line;

	if (run(text, &r, &line, err, sizeof(err))) {
		fprintf(stderr, "unexpected error at line %u: %s\n", line, err);
		return 0;
	}
	if (strcmp(r.out, want)) {
		fprintf(stderr, "got  '%s'\nwant '%s'\n", r.out, want);
		return 0;
	}
	return 1;
}

/* Expects an error at line `want_line` whose message contains `want`. */
static int bad(const char *text, unsigned want_line, const char *want)
{
	struct rec r = { .out = "" };
	char err[DV_TOML_ERR_MAX];
	unsigned line;

	if (!run(text, &r, &line, err, sizeof(err))) {
		fprintf(stderr, "accepted: %s\n", text);
		return 0;
	}
	if (line != want_line || !strstr(err, want)) {
		fprintf(stderr, "got line %u '%s', want line %u '%s'\n", line,
			err, want_line, want);
		return 0;
	}
	return 1;
}

static void test_grammar(void)
{
	T_CHECK(ok("", ""));
	T_CHECK(ok("# only a comment\n\n   \t\n", ""));
	T_CHECK(ok("[interface]\nname = \"dvpn0\"  # trailing comment\n",
		   "[interface]@1 name=\"dvpn0\"@2 "));
	T_CHECK(ok("[[peer]]\nport=51820\n[[peer]]\nport = -1\n",
		   "[[peer]]@1 port=51820@2 [[peer]]@3 port=-1@4 "));
	T_CHECK(ok("a = true\nb = false\n", "a=true@1 b=false@2 "));
	T_CHECK(ok("  [ a . b ]  \nk-1_x = 'lit\\eral'\n",
		   "[a.b]@1 k-1_x=\"lit\\eral\"@2 "));
	T_CHECK(ok("\"quoted key\" = 1\n'lit key' = 2\n",
		   "quoted key=1@1 lit key=2@2 "));
	/* A byte order mark starts the file only. */
	T_CHECK(ok("\xef\xbb\xbf[x]\n", "[x]@1 "));
	T_CHECK(bad("\n\xef\xbb\xbf[x]\n", 2, "unexpected byte 0xef where a key"));
	/* CRLF line ends, and a last line without one. */
	T_CHECK(ok("[x]\r\nk = 1\r\nj = 2", "[x]@1 k=1@2 j=2@3 "));
	/* Hash inside strings is not a comment; brackets inside strings do
	 * not open arrays. */
	T_CHECK(ok("k = \"a#b[\" # c ]\n", "k=\"a#b[\"@1 "));
}

static void test_strings(void)
{
	T_CHECK(ok("k = \"tab\\there\\\\ \\\"q\\\" \\u00e9\\U0001F600\"\n",
		   "k=\"tab\there\\ \"q\" \xc3\xa9\xf0\x9f\x98\x80\"@1 "));
	T_CHECK(ok("k = \"\\b\\f\\n\\r\"\n", "k=\"\b\f\n\r\"@1 "));
	T_CHECK(ok("k = ''\n", "k=\"\"@1 "));
	T_CHECK(ok("k = \"caf\xc3\xa9\"\n", "k=\"caf\xc3\xa9\"@1 "));
	T_CHECK(bad("\nk = \"abc\n", 2, "unterminated string"));
	T_CHECK(bad("k = 'abc\n", 1, "unterminated string"));
	T_CHECK(bad("k = \"a\\qb\"\n", 1, "invalid escape"));
	T_CHECK(bad("k = \"\\u12\"\n", 1, "hex digits"));
	T_CHECK(bad("k = \"\\ud800\"\n", 1, "invalid code point"));
	T_CHECK(bad("k = \"\\u0000\"\n", 1, "invalid code point"));
	T_CHECK(bad("k = \"\\U00110000\"\n", 1, "invalid code point"));
	T_CHECK(bad("k = \"\"\"multi\"\"\"\n", 1, "multi-line strings"));
	T_CHECK(bad("k = '''multi'''\n", 1, "multi-line strings"));
	T_CHECK(bad("k = \"a\\\nb\"\n", 1, "unterminated string"));
}

static void test_integers(void)
{
	T_CHECK(ok("a = 0\nb = +17\nc = -0\nd = 1_000\n",
		   "a=0@1 b=17@2 c=0@3 d=1000@4 "));
	T_CHECK(ok("a = 0xff\nb = 0o17\nc = 0b101\nd = 0xdead_BEEF\n",
		   "a=255@1 b=15@2 c=5@3 d=3735928559@4 "));
	T_CHECK(ok("a = 9223372036854775807\nb = -9223372036854775808\n",
		   "a=9223372036854775807@1 b=-9223372036854775808@2 "));
	T_CHECK(bad("a = 9223372036854775808\n", 1, "out of range"));
	T_CHECK(bad("a = -9223372036854775809\n", 1, "out of range"));
	T_CHECK(bad("a = 0xffffffffffffffff\n", 1, "out of range"));
	T_CHECK(bad("a = 012\n", 1, "leading zeros"));
	T_CHECK(bad("a = 1__0\n", 1, "'_' must stand between digits"));
	T_CHECK(bad("a = 10_\n", 1, "'_' must stand between digits"));
	T_CHECK(bad("a = _1\n", 1, "invalid value"));
	T_CHECK(bad("a = 1.5\n", 1, "floats"));
	T_CHECK(bad("a = 1e5\n", 1, "floats"));
	T_CHECK(bad("a = inf\n", 1, "floats"));
	T_CHECK(bad("a = nan\n", 1, "floats"));
	T_CHECK(bad("a = -inf", 1, "floats"));
	T_CHECK(bad("a = +in", 1, "invalid integer"));
	T_CHECK(ok("a = 1", "a=1@1 "));
	T_CHECK(bad("a = 07:32:00\n", 1, "dates and times"));
	T_CHECK(bad("a = 1979-05-27\n", 1, "invalid integer"));
	T_CHECK(bad("a = 0b102\n", 1, "invalid integer"));
	T_CHECK(bad("a = +\n", 1, "invalid integer"));
	T_CHECK(bad("a = 12abc\n", 1, "invalid integer"));
}

static void test_arrays(void)
{
	T_CHECK(ok("a = []\nb = [ 1, \"x\" , true ]\nc = [[1,2],[]]\n",
		   "a=[]@1 b=[1,\"x\",true]@2 c=[[1,2],[]]@3 "));
	/* Spanning lines, with comments and a trailing comma; the next key
	 * keeps its own line number. */
	T_CHECK(ok("a = [  # first\n  \"10.0.0.0/8\", # one\n\n  \"fd00::/8\",\n]\nb = 1\n",
		   "a=[\"10.0.0.0/8\",\"fd00::/8\"]@1 b=1@6 "));
	T_CHECK(ok("a = [\"]\", '[' ]\n", "a=[\"]\",\"[\"]@1 "));
	T_CHECK(bad("a = [1 2]\n", 1, "expected ',' or ']'"));
	T_CHECK(bad("a = [1,,2]\n", 1, "invalid value starting with ','"));
	T_CHECK(bad("a = [\n1,\n2 3]\n", 3, "expected ',' or ']'"));
	T_CHECK(bad("x = 1\na = [\n1,\n", 2, "unterminated array"));
	T_CHECK(bad("a = [[[[[[[[[1]]]]]]]]]\n", 1, "nested too deep"));
	T_CHECK(bad("a = [1] x\n", 1, "unexpected 'x'"));
	T_CHECK(bad("a = [1]]\n", 1, "unexpected ']'"));
}

static void test_refused(void)
{
	T_CHECK(bad("a = {x = 1}\n", 1, "inline tables"));
	T_CHECK(bad("a.b = 1\n", 1, "dotted keys"));
	T_CHECK(bad("a = \n", 1, "a value is missing"));
	T_CHECK(bad("a = # c\n", 1, "a value is missing"));
	T_CHECK(bad("a\n", 1, "expected '='"));
	T_CHECK(bad("= 1\n", 1, "where a key should be"));
	T_CHECK(bad("\"\" = 1\n", 1, "empty key"));
	T_CHECK(bad("a = truex\n", 1, "invalid value"));
	T_CHECK(bad("a = 1 2\n", 1, "unexpected '2'"));
	T_CHECK(bad("k = \"x\" y\n", 1, "unexpected 'y'"));
	T_CHECK(bad("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa = 1\n",
		    1, "key too long"));
}

static void test_headers(void)
{
	T_CHECK(bad("[a\n", 1, "expected ']'"));
	T_CHECK(bad("[[a]\n", 1, "expected ']]'"));
	T_CHECK(bad("[a] x\n", 1, "unexpected 'x'"));
	T_CHECK(bad("[]\n", 1, "where a key should be"));
	T_CHECK(bad("[a.]\n", 1, "where a key should be"));
	T_CHECK(bad("[a]\nk=1\n[b]\n[a]\n", 4, "table [a] defined twice"));
	T_CHECK(bad("[[a]]\n[a]\n", 2, "defined twice"));
	T_CHECK(bad("[a]\n[[a]]\n", 2, "[[a]] names a table already defined"));
	T_CHECK(ok("[[a]]\n[[a]]\n", "[[a]]@1 [[a]]@2 "));
}

static void test_duplicates(void)
{
	T_CHECK(bad("[t]\nk = 1\nj = 2\nk = 3\n", 4, "key 'k': defined twice"));
	T_CHECK(bad("k = 1\n\"k\" = 2\n", 2, "key 'k': defined twice"));
	/* Each [[array]] element is a fresh table. */
	T_CHECK(ok("[[p]]\nk = 1\n[[p]]\nk = 2\n",
		   "[[p]]@1 k=1@2 [[p]]@3 k=2@4 "));
	/* The same key in two tables. */
	T_CHECK(ok("k = 0\n[a]\nk = 1\n[b]\nk = 2\n",
		   "k=0@1 [a]@2 k=1@3 [b]@4 k=2@5 "));
}

static void test_characters(void)
{
	static const char nul[] = "k = \"a\0b\"\n";
	struct dv_toml_parser p;

	T_CHECK(bad("k = 1\nk2 = \"a\x01\"\n", 2, "control character 0x01"));
	T_CHECK(bad("# bell \x07\n", 1, "control character 0x07"));
	T_CHECK(bad("k = 1\r\r\n", 1, "control character 0x0d"));
	T_CHECK(bad("a = 1\nk = \"\xff\"\n", 2, "invalid UTF-8"));
	T_CHECK(bad("k = \"\xc0\xaf\"\n", 1, "invalid UTF-8"));       /* overlong */
	T_CHECK(bad("k = \"\xed\xa0\x80\"\n", 1, "invalid UTF-8"));   /* surrogate */
	T_CHECK(bad("k = \"\xf4\x90\x80\x80\"\n", 1, "invalid UTF-8"));
	T_CHECK(bad("k = \"\xe2\x82\"\n", 1, "invalid UTF-8"));
	T_CHECK(bad("k = \"\x7f\"\n", 1, "control character 0x7f"));
	dv_toml_init(&p, NULL);
	T_CHECK(dv_toml_parse(&p, nul, sizeof(nul) - 1) == -1);
	T_CHECK(p.err_line == 1 && strstr(p.err, "control character 0x00"));
	dv_toml_free(&p);
}

static void test_handler_errors(void)
{
	struct rec r = { .out = "", .fail_key = "bad" };
	char err[DV_TOML_ERR_MAX];
	unsigned line;

	/* A handler's refusal carries its message and the key's line, or
	 * the line the handler names (here its last item's). */
	T_CHECK(run("a = 1\nbad = [\n1,\n2]\nc = 3\n", &r, &line, err,
		    sizeof(err)) == -1);
	T_CHECK(line == 4);
	T_CHECK(!strcmp(err, "key 'bad': refused by the handler"));
	T_CHECK(!strcmp(r.out, "a=1@1 "));
	r.out[0] = '\0';
	T_CHECK(run("a = 1\nbad = 5\n", &r, &line, err, sizeof(err)) == -1);
	T_CHECK(line == 2);
	T_CHECK(!strcmp(err, "key 'bad': refused by the handler"));
	T_CHECK(!strcmp(r.out, "a=1@1 "));
}

/* Feeding line by line, and what happens after an error. */
static void test_feed(void)
{
	struct rec r = { .out = "" };
	struct dv_toml_handler h = { .arg = &r, .table = rec_table,
				     .keyval = rec_keyval };
	struct dv_toml_parser p;

	dv_toml_init(&p, &h);
	T_CHECK(dv_toml_feed_line(&p, "[t]", 3) == 0);
	T_CHECK(dv_toml_feed_line(&p, "a = [1,", 7) == 0);
	T_CHECK(!strcmp(r.out, "[t]@1 "));
	T_CHECK(dv_toml_feed_line(&p, "2]", 2) == 0);
	T_CHECK(!strcmp(r.out, "[t]@1 a=[1,2]@2 "));
	T_CHECK(dv_toml_feed_line(&p, "b = ?", 5) == -1);
	T_CHECK(p.err_line == 4);
	T_CHECK(dv_toml_feed_line(&p, "c = 1", 5) == -1); /* sticky */
	T_CHECK(dv_toml_finish(&p) == -1);
	T_CHECK(p.err_line == 4);
	dv_toml_free(&p);

	/* A statement too long to buffer. */
	{
		static char big[DV_TOML_STMT_MAX + 64];
		size_t n = 0;

		n += (size_t)sprintf(big, "a = [\n");
		while (n < DV_TOML_STMT_MAX + 16)
			n += (size_t)sprintf(big + n, "1,\n");
		sprintf(big + n, "]\n");
		T_CHECK(bad(big, 1, "value too long"));
	}
}

int main(void)
{
	T_RUN(test_grammar);
	T_RUN(test_strings);
	T_RUN(test_integers);
	T_RUN(test_arrays);
	T_RUN(test_refused);
	T_RUN(test_headers);
	T_RUN(test_duplicates);
	T_RUN(test_characters);
	T_RUN(test_handler_errors);
	T_RUN(test_feed);
	return t_done();
}
