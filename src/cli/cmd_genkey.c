/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int genkey_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn genkey: not implemented yet\n");
	return 1;
}
