/* Placeholder until the subcommand lands. */
#include "cli/cli.h"

#include <stdio.h>

int benchmark_main(int argc, char **argv)
{
	fprintf(stderr, "dybervpn benchmark: not implemented yet\n");
	return 1;
}
