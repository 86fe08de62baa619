/* The daemon's memory once set up: what start-up left resident and the
 * event loop does not need is given back.
 *
 *  - malloc's free memory (the config as parsed, the seccomp filter as
 *    built, OpenSSL's and the name service's start-up buffers): the heap's
 *    free pages go back to the kernel (malloc_trim).
 *  - Library and program pages that only start-up ran or read (the config
 *    parser, netlink set-up, libseccomp, libcap, most of OpenSSL's and the
 *    C library's initialisation): clean pages of read-only file mappings
 *    (code, constants) whose page-table entries are dropped. They stay in
 *    the page cache, shared with every other process, and come back on
 *    their next use: what the daemon keeps is what it runs. Mappings that
 *    hold a private (written) page, such as relocated data, and locked
 *    mappings are left alone, so nothing held is lost.
 *
 * A failure of either is harmless (memory stays as it was). */
#ifndef DV_PLATFORM_MEMTRIM_H
#define DV_PLATFORM_MEMTRIM_H

#include <stddef.h>

#include "mode.h"

struct dv_memtrim_stats {
	size_t mappings; /* read-only file mappings whose pages were dropped */
	size_t skipped;  /* read-only file mappings kept (private or locked pages) */
};

/* One complete handshake in memory (noise/selftest.h) in each mode of
 * mode_mask (bit 1 << mode): the libraries' one-time work on first use
 * (lazy symbol binding, OpenSSL's cipher lookup, libb2's choice of code
 * for this CPU) is then part of start-up, not of the first real handshake
 * after dv_memtrim. A self-check too: 0, or -1 when a handshake fails. */
int dv_memtrim_warm_up(unsigned mode_mask);

/* Called once set-up is over (after the sandbox is applied: it reads
 * /proc/self/smaps, allowed there). st may be NULL. */
void dv_memtrim(struct dv_memtrim_stats *st);

#endif
