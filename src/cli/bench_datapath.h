/* `dybervpn benchmark --datapath` (bench_datapath.c). */
#ifndef DV_CLI_BENCH_DATAPATH_H
#define DV_CLI_BENCH_DATAPATH_H

/* Runs for about seconds and prints the figures; 0, or 1 on a failure. */
int bench_datapath(double seconds);

#endif
