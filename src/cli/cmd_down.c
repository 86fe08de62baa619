/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int down_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn down: not implemented yet\n");
	return 1;
}
