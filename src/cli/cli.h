/* The dybervpn command line: one table of subcommands (main.c), each
 * implemented as NAME_main(argc, argv) in its own file. argv[0] is the
 * subcommand's name. Return value is the process exit status:
 * 0 success, 1 runtime failure, 2 usage error. */
#ifndef DV_CLI_H
#define DV_CLI_H

int genkey_main(int argc, char **argv);
int pubkey_main(int argc, char **argv);
int up_main(int argc, char **argv);
int down_main(int argc, char **argv);
int status_main(int argc, char **argv);
int metrics_main(int argc, char **argv);
int check_main(int argc, char **argv);
int reload_main(int argc, char **argv);
int set_main(int argc, char **argv);
int benchmark_main(int argc, char **argv);

#endif
