/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int pubkey_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn pubkey: not implemented yet\n");
	return 1;
}
