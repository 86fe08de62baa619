/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int check_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn check: not implemented yet\n");
	return 1;
}
