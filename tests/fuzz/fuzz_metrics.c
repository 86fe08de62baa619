/* libFuzzer harness for the metrics code that reads outside input: the
 * first byte picks the target, the rest is its input.
 *   even: a request head for the metrics listener (dv_mhttp_classify); the
 *         answer must be one of 200, 400, 404, 405, and 200 only for a
 *         request that names /metrics;
 *   odd:  a control-socket get=1 response for dv_metrics_add, then the
 *         rendering (bounded memory, no crash, text ending in a newline). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "platform/metrics.h"
#include "platform/metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		int head_only = 0;
		int r = dv_mhttp_classify((const char *)data + 1, size - 1, &head_only);

		if (r != 200 && r != 400 && r != 404 && r != 405)
			abort();
		if (r == 200 && !memmem(data + 1, size - 1, "/metrics", 8))
			abort();
		if (head_only && r != 200)
			abort();
	} else {
		struct dv_metrics m = { 0 };
		char err[128], *text = malloc(size), *out = NULL;
		size_t outlen = 0;

		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = 0;
		dv_metrics_add(&m, "fuzz0", text, err, sizeof(err));
		if (dv_metrics_render(&m, &out, &outlen) == 0 &&
		    (!outlen || out[outlen - 1] != '\n'))
			abort();
		free(out);
		free(text);
		dv_metrics_free(&m);
	}
	return 0;
}
