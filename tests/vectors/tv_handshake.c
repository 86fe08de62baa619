/* Placeholder until the family's handler lands: every record fails. */
#include "vectors/tv.h"

#include <stdio.h>

int tv_handshake(const struct tv_rec *r, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "no handler for this family yet");
	return 1;
}
