/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int up_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn up: not implemented yet\n");
	return 1;
}
