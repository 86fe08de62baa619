/* libFuzzer harness: any bytes as a control request to dv_uapi_handle
 * (get=1 or set=1) on a device with one peer; a get follows each input so
 * whatever a set built is also printed. The device is rebuilt every 1000
 * inputs so peers added by earlier inputs do not accumulate. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "device/internal.h"
#include "unit/fake_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t clk = 1000 * DV_NSEC_PER_SEC;
static struct fake A, B;
static unsigned runs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t outlen = 0;

	if (runs++ % 1000 == 0) {
		struct fake *pb = &B;

		if (A.dev) {
			fake_stop(&A);
			free(B.sent);
			free(B.tun);
		}
		fake_identity(&A, 1);
		fake_identity(&B, 2);
		fake_start(&A, &clk, DV_MODE_CLASSIC, &pb, NULL, 1);
	}
	dv_uapi_handle(A.dev, (const char *)data, size, &out, &outlen);
	dv_uapi_handle(A.dev, "get=1\n\n", 7, &out, &outlen);
	free(out);
	A.nsent = 0;
	return 0;
}
