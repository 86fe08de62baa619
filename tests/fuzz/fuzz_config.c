/* libFuzzer harness: the whole config loader (TOML subset, key decoding,
 * addresses, validation) on arbitrary bytes. Endpoints are parsed without
 * DNS. Every input must end in success or in an error message that names
 * the file; nothing may leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dv_config cfg;
	char err[512];

	err[0] = '\0';
	if (dv_config_parse_ex("fuzz.toml", (const char *)data, size, &cfg, err,
			       sizeof(err), ignore, NULL,
			       DV_CONFIG_NO_RESOLVE)) {
		if (strncmp(err, "fuzz.toml", 9))
			abort();
		return 0;
	}
	if (!cfg.n_peers != !cfg.peers)
		abort();
	dv_config_free(&cfg);
	return 0;
}
