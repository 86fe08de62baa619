/* build/test-vectors DIR|FILE...: runs every .txt or gzip-compressed
 * .txt.gz vector file given (or found in the directories given) and ends
 * with "N passed, N failed". The official vectors live compressed in
 * tests/data/vectors; zlib reads plain files just as well.
 * The family of a file is told by its name (sha3/shake, mlkem, mldsa) or,
 * for handshake records, by their `mode` and `initiation` fields. */
#include "vectors/tv.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static unsigned passed, failed;

const char *tv_get(const struct tv_rec *r, const char *key)
{
	for (unsigned i = 0; i < r->n; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NULL;
}

int tv_is(const struct tv_rec *r, const char *key, const char *word)
{
	const char *v = tv_get(r, key);
	return v && !strcmp(v, word);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tv_hex(const struct tv_rec *r, const char *key, uint8_t **buf, size_t *len)
{
	const char *v = tv_get(r, key);
	size_t n;

	*buf = NULL;
	*len = 0;
	if (!v || (n = strlen(v)) % 2)
		return -1;
	*buf = malloc(n / 2 + 1);
	if (!*buf)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			free(*buf);
			*buf = NULL;
			return -1;
		}
		(*buf)[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return 0;
}

int tv_hex_fixed(const struct tv_rec *r, const char *key, uint8_t *buf, size_t len)
{
	uint8_t *b;
	size_t n;

	if (tv_hex(r, key, &b, &n))
		return -1;
	if (n != len) {
		free(b);
		return -1;
	}
	memcpy(buf, b, n);
	free(b);
	return 0;
}

static tv_handler family(const char *name, const struct tv_rec *r)
{
	if (strstr(name, "sha3") || strstr(name, "shake"))
		return tv_sha3;
	if (strstr(name, "mlkem"))
		return tv_mlkem;
	if (strstr(name, "mldsa"))
		return tv_mldsa;
	if (tv_get(r, "budget") && tv_get(r, "initiation"))
		return tv_fragments;
	if (tv_get(r, "mode") && tv_get(r, "initiation"))
		return tv_handshake;
	return NULL;
}

static void run_record(struct tv_rec *r)
{
	char msg[512] = "";
	tv_handler h = family(r->file, r);
	const char *id = tv_get(r, "tcId");

	if (!h) {
		failed++;
		fprintf(stderr, "FAIL %s:%u: record of no known family\n", r->file, r->line);
		return;
	}
	if (h(r, msg, sizeof(msg)) == 0) {
		passed++;
	} else {
		failed++;
		fprintf(stderr, "FAIL %s:%u tcId=%s: %s\n", r->file, r->line,
			id ? id : "?", msg);
	}
}

static void clear(struct tv_rec *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		free(r->key[i]);
		free(r->val[i]);
	}
	r->n = 0;
	r->line = 0;
}

/* getline() for a gzFile: one line with its '\n', -1 at the end. */
static ssize_t gz_getline(char **line, size_t *cap, gzFile f)
{
	size_t len = 0;

	for (;;) {
		if (*cap - len < 2) {
			size_t ncap = *cap ? *cap * 2 : 1024;
			char *n = realloc(*line, ncap);
			if (!n)
				return -1;
			*line = n;
			*cap = ncap;
		}
		if (!gzgets(f, *line + len, (int)(*cap - len)))
			return len ? (ssize_t)len : -1;
		len += strlen(*line + len);
		if (len && (*line)[len - 1] == '\n')
			return (ssize_t)len;
	}
}

static int is_vector_file(const char *name)
{
	size_t l = strlen(name);

	return (l > 4 && !strcmp(name + l - 4, ".txt")) ||
	       (l > 7 && !strcmp(name + l - 7, ".txt.gz"));
}

static void run_file(const char *path)
{
	gzFile f = gzopen(path, "rb");
	const char *base = strrchr(path, '/');
	struct tv_rec r = { .file = base ? base + 1 : path };
	unsigned p0 = passed, f0 = failed, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (f)
		gzbuffer(f, 1 << 16);
	if (!f) {
		failed++;
		fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
		return;
	}
	while ((len = gz_getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (line[0] == '#')
			continue;
		if (!line[0]) {
			if (r.n)
				run_record(&r);
			clear(&r);
			continue;
		}
		char *sep = strstr(line, " =");
		if (!sep || r.n == TV_MAX_FIELDS) {
			failed++;
			fprintf(stderr, "FAIL %s:%u: malformed line\n", path, lineno);
			continue;
		}
		*sep = 0;
		char *val = sep[2] ? sep + 3 : sep + 2;
		if (!r.n)
			r.line = lineno;
		r.key[r.n] = strdup(line);
		r.val[r.n] = strdup(val);
		r.n++;
	}
	if (r.n)
		run_record(&r);
	clear(&r);
	free(line);
	if (gzclose(f) != Z_OK) {
		failed++;
		fprintf(stderr, "FAIL %s: read error (truncated or corrupt gzip?)\n", path);
	}
	printf("%-48s %5u passed, %u failed\n", r.file, passed - p0, failed - f0);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		failed++;
		fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	DIR *d = opendir(path);
	char *names[512];
	size_t n = 0;
	struct dirent *e;

	if (!d) {
		failed++;
		fprintf(stderr, "FAIL %s: %s\n", path, strerror(errno));
		return;
	}
	while ((e = readdir(d)) && n < 512) {
		if (is_vector_file(e->d_name))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp);
	for (size_t i = 0; i < n; i++) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		run_file(full);
		free(names[i]);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++)
		run_path(argv[i]);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
