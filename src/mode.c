#include "mode.h"

#include <string.h>

const char *dv_mode_name(enum dv_mode m)
{
	switch (m) {
	case DV_MODE_CLASSIC:
		return "classic";
	case DV_MODE_HYBRID:
		return "hybrid";
	case DV_MODE_PQONLY:
		return "pqonly";
	}
	return "unknown";
}

int dv_mode_parse(const char *s, enum dv_mode *out)
{
	if (!strcmp(s, "classic"))
		*out = DV_MODE_CLASSIC;
	else if (!strcmp(s, "hybrid"))
		*out = DV_MODE_HYBRID;
	else if (!strcmp(s, "pqonly") || !strcmp(s, "pq-only"))
		*out = DV_MODE_PQONLY;
	else
		return -1;
	return 0;
}
