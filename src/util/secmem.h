/* Memory for long-lived key material: locked against swap (mlock) and left
 * out of core dumps (MADV_DONTDUMP). The device (the interface's private
 * keys), its peers (preshared keys), their handshakes (ephemeral and
 * ML-KEM secrets) and their keypairs (transport keys) live here.
 *
 * Objects up to DV_SECMEM_SLAB_MAX bytes come from chunks (one page at
 * first, doubling up to 64 KiB) cut into slots of one size class (a
 * multiple of 64 bytes), kept for reuse when freed; larger ones get their
 * own mapping. Freeing wipes the object.
 * When mlock fails (RLIMIT_MEMLOCK, see README "Sandbox"), the memory is
 * still used, kept out of dumps, and the first failure is logged: locking
 * fails soft; MADV_DONTDUMP does not (the allocation fails).
 *
 * Under a sanitizer build (DV_SANITIZE) this is aligned_alloc and a
 * wiping free, so AddressSanitizer still sees every object's bounds
 * (ThreadSanitizer builds keep the slabs: their lock is what it checks).
 * Thread-safe. */
#ifndef DV_UTIL_SECMEM_H
#define DV_UTIL_SECMEM_H

#include <stddef.h>

#define DV_SECMEM_SLAB_MAX 8192

/* Zeroed memory for size bytes (size > 0), or NULL. */
void *dv_secmem_calloc(size_t size);
/* Wipes and releases an object dv_secmem_calloc(size) returned (NULL
 * allowed); size must be the one it was allocated with. */
void dv_secmem_free(void *p, size_t size);

struct dv_secmem_stats {
	size_t mapped;   /* bytes mapped for key material */
	size_t locked;   /* of which locked in RAM */
	int lock_errno;  /* the first mlock failure, 0 if none */
};
void dv_secmem_stats(struct dv_secmem_stats *st);

#endif
