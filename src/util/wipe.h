/* Growing a buffer that may hold secrets (control requests and responses
 * carry private and preshared keys): realloc could leave the old block,
 * copied and freed, in the heap unwiped, so the old block is wiped here
 * before it is freed. */
#ifndef DV_UTIL_WIPE_H
#define DV_UTIL_WIPE_H

#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"

/* Like realloc(p, new_size) for a block of old_size bytes (p may be NULL,
 * new_size > 0); on failure p is left as it was. */
static inline void *dv_wipe_realloc(void *p, size_t old_size, size_t new_size)
{
	void *n = malloc(new_size);

	if (!n)
		return NULL;
	if (p) {
		memcpy(n, p, old_size < new_size ? old_size : new_size);
		ct_wipe(p, old_size);
		free(p);
	}
	return n;
}

/* Wipes and frees a block of size bytes (NULL allowed). */
static inline void dv_wipe_free(void *p, size_t size)
{
	if (!p)
		return;
	ct_wipe(p, size);
	free(p);
}

#endif
