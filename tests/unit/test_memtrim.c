/* platform/memtrim: start-up's pages given back without losing anything
 * the process holds, and the in-memory handshake of every mode. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/memtrim.h"
#include "t.h"

/* Pages of the mapping at p that are in this process's page tables, from
 * /proc/self/pagemap (bit 63: present); -1 if it cannot be read. */
static long present_pages(const void *p, size_t len)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	long n = 0;

	if (fd < 0)
		return -1;
	for (size_t off = 0; off < len; off += 4096) {
		uint64_t e;
		off_t at = (off_t)(((uintptr_t)p + off) / 4096 * 8);

		if (pread(fd, &e, sizeof(e), at) != (ssize_t)sizeof(e)) {
			n = -1;
			break;
		}
		n += (long)(e >> 63);
	}
	close(fd);
	return n;
}

static void test_trim_keeps_content(void)
{
	char path[] = "/tmp/dv-test-memtrim.XXXXXX";
	enum { LEN = 4 * 4096 };
	static uint8_t want[LEN];
	struct dv_memtrim_stats st;
	uint8_t *clean, *written;
	volatile uint8_t sum = 0;
	int fd = mkstemp(path);

	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	unlink(path);
	for (size_t i = 0; i < LEN; i++)
		want[i] = (uint8_t)(i * 7 + 1);
	T_CHECK(write(fd, want, LEN) == LEN);
	/* A clean read-only mapping, every page read (present)... */
	clean = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE, fd, 0);
	/* ...and a private one written to, then made read-only: its page
	 * exists only in this process and must survive. */
	written = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	T_CHECK(clean != MAP_FAILED && written != MAP_FAILED);
	if (clean == MAP_FAILED || written == MAP_FAILED)
		goto out;
	for (size_t i = 0; i < LEN; i += 4096)
		sum += clean[i];
	written[5] = 0xee;
	T_CHECK(mprotect(written, LEN, PROT_READ) == 0);
	T_CHECK(present_pages(clean, LEN) == LEN / 4096);

	dv_memtrim(&st);
	T_CHECK(st.mappings > 0); /* this program's code, the C library's... */
	T_CHECK(st.skipped > 0);  /* ...but not `written` */
	T_CHECK(present_pages(clean, LEN) == 0);
	T_CHECK(memcmp(clean, want, LEN) == 0); /* back from the file */
	T_CHECK(written[5] == 0xee);
	T_CHECK(memcmp(written, want, 5) == 0 && memcmp(written + 6, want + 6, LEN - 6) == 0);
	/* Malloc still works after its free memory went back. */
	{
		void *p = malloc(1 << 20);

		T_CHECK(p != NULL);
		if (p)
			memset(p, 1, 1 << 20);
		free(p);
	}
	(void)sum;
out:
	if (clean != MAP_FAILED)
		munmap(clean, LEN);
	if (written != MAP_FAILED)
		munmap(written, LEN);
	close(fd);
}

static void test_warm_up(void)
{
	T_CHECK(dv_memtrim_warm_up(1u << DV_MODE_CLASSIC) == 0);
	T_CHECK(dv_memtrim_warm_up(1u << DV_MODE_HYBRID) == 0);
	T_CHECK(dv_memtrim_warm_up(1u << DV_MODE_PQONLY) == 0);
	T_CHECK(dv_memtrim_warm_up((1u << DV_MODE_COUNT) - 1) == 0);
	T_CHECK(dv_memtrim_warm_up(0) == 0);
}

int main(void)
{
	T_RUN(test_warm_up);
	T_RUN(test_trim_keeps_content);
	return t_done();
}
