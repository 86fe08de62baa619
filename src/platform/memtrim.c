#include "platform/memtrim.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "crypto/classic.h"
#include "noise/selftest.h"
#include "util/secmem.h"

/* One mapping of /proc/self/smaps: its range, whether it qualifies by its
 * header line, and what its fields said. */
struct vma {
	uintptr_t lo, hi;
	int file_ro;       /* private, not writable, backed by a file */
	unsigned long anon; /* kB of private (copied) pages */
	unsigned long locked;
};

static void drop(const struct vma *v, struct dv_memtrim_stats *st)
{
	if (!v->file_ro)
		return;
	/* A written page of a private mapping exists only here: dropping
	 * it would bring back the file's content. Such mappings stay. */
	if (v->anon || v->locked ||
	    madvise((void *)v->lo, v->hi - v->lo, MADV_DONTNEED) < 0) {
		st->skipped++;
		return;
	}
	st->mappings++;
}

int dv_memtrim_warm_up(unsigned mode_mask)
{
	/* Two identities with their secrets: key memory, wiped and
	 * unmapped after (it is larger than a slab slot). */
	struct noise_selftest *t = dv_secmem_calloc(sizeof(*t));
	static const uint8_t zero[DV_MAC128_LEN];
	uint8_t mac[DV_MAC128_LEN];
	int rc = 0;

	if (!t)
		return -1;
	/* mac1/mac2 (keyed BLAKE2s), which the in-memory handshake does
	 * not compute: the device adds them. */
	dv_mac(mac, zero, sizeof(zero), zero, sizeof(zero));
	for (unsigned m = 0; m < DV_MODE_COUNT && !rc; m++) {
		if (!(mode_mask & 1u << m))
			continue;
		if (noise_selftest_init(t, (enum dv_mode)m) || noise_selftest_run(t))
			rc = -1;
		noise_selftest_clear(t);
	}
	dv_secmem_free(t, sizeof(*t));
	return rc;
}

void dv_memtrim(struct dv_memtrim_stats *out)
{
	struct dv_memtrim_stats st = { 0 };
	struct vma v = { 0 };
	char line[512];
	FILE *f;

	malloc_trim(0);
	f = fopen("/proc/self/smaps", "re");
	if (!f)
		goto out;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, kb;
		char perm[8];
		int n = 0;

		if (!strchr(line, '\n')) {
			/* A path longer than the line: skip the rest of it. */
			int c;

			while ((c = fgetc(f)) != EOF && c != '\n')
				;
		}
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &lo, &hi, perm, &n) == 3 &&
		    n > 0 && strchr(line, '-') < strchr(line, ' ')) {
			drop(&v, &st); /* the previous mapping, fully read */
			v = (struct vma){ .lo = lo, .hi = hi };
			v.file_ro = line[n] == '/' && perm[1] == '-' && perm[3] == 'p';
		} else if (sscanf(line, "Anonymous: %lu kB", &kb) == 1) {
			v.anon = kb;
		} else if (sscanf(line, "Locked: %lu kB", &kb) == 1) {
			v.locked = kb;
		}
	}
	drop(&v, &st);
	fclose(f);
out:
	if (out)
		*out = st;
}
