/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int status_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn status: not implemented yet\n");
	return 1;
}
