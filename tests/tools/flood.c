/* dv-flood: a handshake-flood generator for the flood benchmark and test
 * (scripts/bench-flood.sh, tests/netns/test_flood.sh). It sends handshake
 * messages of the given types, with random bodies, from several source
 * addresses (one UDP socket bound to each), batched with sendmmsg, for a
 * bounded time at a bounded rate, and prints what it sent (also when
 * ended early by SIGINT or SIGTERM).
 *
 * Without -k every mac1 is random (wrong: junk that costs the receiver one
 * BLAKE2s). With -k the receiver's public key, mac1 is computed as a peer
 * would (docs/PROTOCOL.md §9.1), so each message passes mac1 and costs the
 * receiver whatever follows it (a DH, or under load a cookie reply).
 *
 * It refuses destinations outside the ranges reserved for documentation and
 * benchmarks (192.0.2.0/24, 198.18.0.0/15, 2001:db8::/32), the ones the
 * scripts' private network namespaces use: it cannot be pointed at a real
 * host by mistake.
 *
 *   dv-flood -d ADDR -p PORT -s SRC[,SRC...] [-t 1,5,7] [-r PER_SECOND]
 *            [-T SECONDS] [-k BASE64_PUBLIC_KEY]
 */
#include <arpa/inet.h>
#include <blake2.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

#define MAX_SOURCES 256
#define MAX_TYPES 8
#define POOL 64       /* distinct messages per type, cycled */
#define BATCH 32      /* datagrams per sendmmsg */
#define MAX_SECONDS 600
#define MAX_LEN 8192

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dv-flood -d ADDR -p PORT -s SRC[,SRC...] [-t TYPES] [-r RATE]\n"
		"                [-T SECONDS] [-k PUBKEY]\n"
		"  -d ADDR    destination (192.0.2.0/24, 198.18.0.0/15 or 2001:db8::/32 only)\n"
		"  -p PORT    destination UDP port\n"
		"  -s SRCS    source addresses, comma-separated (at most %d), each bound\n"
		"  -t TYPES   message types, comma-separated (default 1), or \"init\":\n"
		"             every initiation type (and 9, fragments, when known)\n"
		"  -r RATE    datagrams per second in all (default 0: as fast as it goes)\n"
		"  -T SECS    how long (default 5, at most %d)\n"
		"  -k PUBKEY  the receiver's public key (base64): a valid mac1\n",
		MAX_SOURCES, MAX_SECONDS);
	exit(2);
}

/* Only the reserved test ranges; 0 when addr is in one. */
static int allowed_dest(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		uint32_t a = ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr);

		return (a & 0xffffff00u) == 0xc0000200u || (a & 0xfffe0000u) == 0xc6120000u
			       ? 0 : -1;
	}
	if (ss->ss_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;

		return b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8 ? 0 : -1;
	}
	return -1;
}

static int parse_addr(const char *s, uint16_t port, struct sockaddr_storage *ss,
		      socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static uint8_t pool[MAX_TYPES][POOL][MAX_LEN];
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	const char *dst = NULL, *srcs = NULL, *types = "1", *key = NULL;
	unsigned port = 0, seconds = 5, n_types = 0, n_src = 0;
	uint64_t rate = 0, sent = 0, errors = 0, t0, end;
	size_t lens[MAX_TYPES];
	uint8_t mac1_key[32];
	int fds[MAX_SOURCES], c, keyed = 0;
	struct sockaddr_storage to;
	socklen_t tolen;
	char *list, *tok, *save = NULL;

	while ((c = getopt(argc, argv, "d:p:s:t:r:T:k:")) != -1) {
		switch (c) {
		case 'd': dst = optarg; break;
		case 'p': port = (unsigned)strtoul(optarg, NULL, 10); break;
		case 's': srcs = optarg; break;
		case 't': types = optarg; break;
		case 'r': rate = strtoull(optarg, NULL, 10); break;
		case 'T': seconds = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': key = optarg; break;
		default: usage();
		}
	}
	if (!dst || !srcs || !port || port > 65535 || !seconds || seconds > MAX_SECONDS)
		usage();
	if (sodium_init() < 0)
		return 1;
	if (parse_addr(dst, (uint16_t)port, &to, &tolen) < 0 || allowed_dest(&to) < 0) {
		fprintf(stderr, "dv-flood: %s: not an address of the reserved test ranges\n", dst);
		return 2;
	}
	if (key) {
		uint8_t pub[32], in[8 + 32];
		size_t n = 0;

		if (sodium_base642bin(pub, sizeof(pub), key, strlen(key), NULL, &n, NULL,
				      sodium_base64_VARIANT_ORIGINAL) || n != 32) {
			fprintf(stderr, "dv-flood: -k: not a base64 public key\n");
			return 2;
		}
		memcpy(in, "mac1----", 8);
		memcpy(in + 8, pub, 32);
		blake2s(mac1_key, in, NULL, 32, sizeof(in), 0);
		keyed = 1;
	}

	/* Message pools: random bodies, the type's length, zero reserved
	 * bytes, mac1 valid or random, mac2 zero (no cookie held). */
	/* "init": every initiation type this build knows, and type 9 when
	 * it knows handshake fragments. */
	if (!strcmp(types, "init")) {
		static char all[64];
		size_t o = 0;

		for (unsigned t = 1; t < 256; t++) {
			const struct dv_msg_desc *md = dv_msg_desc((uint8_t)t);

			if (md && (md->kind == DV_KIND_INITIATION || t == 9) && o + 5 < sizeof(all))
				o += (size_t)snprintf(all + o, sizeof(all) - o, "%s%u", o ? "," : "", t);
		}
		types = all;
	}
	list = strdup(types);
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int type = atoi(tok);
		const struct dv_msg_desc *md = dv_msg_desc((uint8_t)type);
		size_t len;

		if (n_types == MAX_TYPES) {
			fprintf(stderr, "dv-flood: at most %d types\n", MAX_TYPES);
			return 2;
		}
		/* Type 9 (a handshake fragment) has no fixed length: datagrams
		 * of the default fragment budget, whether or not this build
		 * knows the type. */
		len = type == 9 ? 1232 : md ? md->len : 0;
		if (type < 1 || type > 255 || (md && md->kind == DV_KIND_DATA) ||
		    len > MAX_LEN || len < 64) {
			fprintf(stderr, "dv-flood: %s: not a handshake message type\n", tok);
			return 2;
		}
		for (unsigned i = 0; i < POOL; i++) {
			uint8_t *m = pool[n_types][i];

			randombytes_buf(m, len);
			m[0] = (uint8_t)type;
			m[1] = m[2] = m[3] = 0;
			memset(m + len - 16, 0, 16);
			if (keyed)
				blake2s(m + len - 32, m, mac1_key, 16, len - 32, 32);
		}
		lens[n_types++] = len;
	}
	free(list);
	if (!n_types)
		usage();

	list = strdup(srcs);
	save = NULL;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct sockaddr_storage sa;
		socklen_t salen;
		int fd, big = 4 << 20;

		if (n_src == MAX_SOURCES || parse_addr(tok, 0, &sa, &salen) < 0 ||
		    sa.ss_family != to.ss_family) {
			fprintf(stderr, "dv-flood: %s: bad source (same family as -d, at most %d)\n",
				tok, MAX_SOURCES);
			return 2;
		}
		fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, salen) < 0) {
			fprintf(stderr, "dv-flood: bind %s: %s\n", tok, strerror(errno));
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
		fds[n_src++] = fd;
	}
	free(list);

	for (unsigned i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &to;
		msgs[i].msg_hdr.msg_namelen = tolen;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* SIGINT or SIGTERM end the flood early, with its report. */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_ns();
	end = t0 + (uint64_t)seconds * 1000000000ull;
	for (uint64_t k = 0;; k++) {
		uint64_t t = now_ns();
		unsigned n = BATCH;
		int r;

		if (t >= end || stop)
			break;
		if (rate) {
			/* Never ahead of rate x elapsed: sleep off the lead. */
			uint64_t due = (t - t0) * rate / 1000000000ull + BATCH;

			if (sent + BATCH > due) {
				struct timespec ts = { 0, 200000 };

				nanosleep(&ts, NULL);
				continue;
			}
		}
		for (unsigned i = 0; i < n; i++) {
			unsigned ty = (unsigned)((sent + i) % n_types);
			unsigned slot = (unsigned)(((sent + i) / n_types) % POOL);

			iov[i].iov_base = pool[ty][slot];
			iov[i].iov_len = lens[ty];
		}
		r = sendmmsg(fds[k % n_src], msgs, n, 0);
		if (r > 0)
			sent += (uint64_t)r;
		else
			errors++;
	}
	{
		double secs = (double)(now_ns() - t0) / 1e9;

		printf("types %s: ", types);
	printf("sent %llu datagrams in %.1f s (%.0f/s), %llu failed sends\n",
		       (unsigned long long)sent, secs, (double)sent / secs,
		       (unsigned long long)errors);
	}
	for (unsigned i = 0; i < n_src; i++)
		close(fds[i]);
	return 0;
}
