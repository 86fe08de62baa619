/* dybervpn: the command-line entry point, a table of subcommands. */
#include "cli/cli.h"
#include "version.h"

#include <stdio.h>
#include <string.h>

static int version_main(int argc, char **argv);
static int help_main(int argc, char **argv);

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *desc;
} cmds[] = {
	{ "up", up_main, "Bring up a tunnel from a config file" },
	{ "down", down_main, "Take an interface down" },
	{ "reload", reload_main, "Re-read an interface's config file, keep sessions" },
	{ "set", set_main, "Change a running interface (wg set syntax, plus modes)" },
	{ "status", status_main, "Show interfaces, peers, handshakes and traffic" },
	{ "metrics", metrics_main, "Print counters in Prometheus text format" },
	{ "check", check_main, "Check a config file and print what it means" },
	{ "genkey", genkey_main, "Generate a key pair as config lines" },
	{ "pubkey", pubkey_main, "Read a private key on stdin, print its public key" },
	{ "benchmark", benchmark_main, "Time handshakes and crypto operations" },
	{ "version", version_main, "Print the version" },
	{ "help", help_main, "Show this help" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: dybervpn COMMAND [ARGS]  (dybervpn COMMAND --help for details)\n\n"
		   "Post-quantum VPN with a WireGuard data plane.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].desc);
}

static int version_main(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: dybervpn version\n");
		return 0;
	}
	printf("dybervpn %s (protocol v1: classic, hybrid, pqonly)\n", DV_VERSION);
	return 0;
}

static int help_main(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return help_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--version"))
		return version_main(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "dybervpn: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
