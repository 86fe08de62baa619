/* The Prometheus text built from get=1 responses: every family once
 * (HELP, TYPE, then its samples, across interfaces), the values and
 * labels where they belong, label values escaped, base64 public keys as
 * `wg show` prints them, no private or preshared key, and a daemon error
 * reported. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "platform/metrics.h"
#include "platform/metrics_http.h"
#include "t.h"

/* Peer keys: 32 bytes of 0x01 and of 0xfe. */
#define K1 "0101010101010101010101010101010101010101010101010101010101010101"
#define K1_B64 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define K2 "fefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefefe"
#define K2_B64 "/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v7+/v4="
#define PRIV "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"

static const char resp_a[] =
	"private_key=" PRIV "\n"
	"listen_port=51820\n"
	"dropped_malformed=3\n"
	"dropped_bad_mac=4\n"
	"cookie_replies_sent=5\n"
	"fragments_received=12\n"
	"fragments_reassembled=4\n"
	"public_key=" K1 "\n"
	"preshared_key=" PRIV "\n"
	"protocol_version=1\n"
	"endpoint=192.0.2.2:51820\n"
	"last_handshake_time_sec=1700000000\n"
	"last_handshake_time_nsec=5\n"
	"tx_bytes=1000\n"
	"rx_bytes=2000\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::2/128\n"
	"mode=hybrid\n"
	"refused_handshakes=7\n"
	"refused_mode=6\n"
	"refused_signature=1\n"
	"refused_mlkem=0\n"
	"handshakes=9\n"
	"name=lap\"top\\x\n"
	"public_key=" K2 "\n"
	"tx_bytes=0\n"
	"rx_bytes=0\n"
	"mode=pqonly\n"
	"errno=0\n\n";

static const char resp_b[] =
	"private_key=" PRIV "\n"
	"dropped_malformed=11\n"
	"public_key=" K1 "\n"
	"tx_bytes=42\n"
	"rx_bytes=43\n"
	"allowed_ip=10.1.0.0/16\n"
	"mode=classic\n"
	"errno=0\n\n";

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static int has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = strstr(text, line); p; p = strstr(p + 1, line))
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
	return 0;
}

static void test_render(void)
{
	struct dv_metrics m = { 0 };
	char err[128], *out = NULL;
	size_t len = 0;

	T_CHECK(dv_metrics_add(&m, "wg0", resp_a, err, sizeof(err)) == 0);
	T_CHECK(dv_metrics_add(&m, "wg1", resp_b, err, sizeof(err)) == 0);
	T_CHECK(dv_metrics_render(&m, &out, &len) == 0);
	T_CHECK(out && strlen(out) == len);
	if (!out)
		return;
	if (getenv("VERBOSE"))
		fputs(out, stdout);
	T_CHECK(has_line(out, "wireguard_sent_bytes_total{interface=\"wg0\",public_key=\""
			 K1_B64 "\",allowed_ips=\"10.0.0.2/32,fd00::2/128\","
			 "friendly_name=\"lap\\\"top\\\\x\"} 1000"));
	T_CHECK(has_line(out, "wireguard_received_bytes_total{interface=\"wg0\",public_key=\""
			 K1_B64 "\",allowed_ips=\"10.0.0.2/32,fd00::2/128\","
			 "friendly_name=\"lap\\\"top\\\\x\"} 2000"));
	T_CHECK(has_line(out, "wireguard_latest_handshake_seconds{interface=\"wg0\",public_key=\""
			 K2_B64 "\",allowed_ips=\"\"} 0"));
	T_CHECK(has_line(out, "wireguard_sent_bytes_total{interface=\"wg1\",public_key=\""
			 K1_B64 "\",allowed_ips=\"10.1.0.0/16\"} 42"));
	T_CHECK(has_line(out, "dybervpn_peer_mode{interface=\"wg0\",public_key=\"" K2_B64
			 "\",mode=\"pqonly\"} 1"));
	T_CHECK(has_line(out, "dybervpn_peer_mode{interface=\"wg1\",public_key=\"" K1_B64
			 "\",mode=\"classic\"} 1"));
	T_CHECK(has_line(out, "dybervpn_peer_refused_handshakes_total{interface=\"wg0\","
			 "public_key=\"" K1_B64 "\",friendly_name=\"lap\\\"top\\\\x\","
			 "reason=\"mode\"} 6"));
	T_CHECK(has_line(out, "dybervpn_peer_handshakes_total{interface=\"wg0\","
			 "public_key=\"" K1_B64 "\",friendly_name=\"lap\\\"top\\\\x\"} 9"));
	T_CHECK(has_line(out, "dybervpn_dropped_packets_total{interface=\"wg0\","
			 "reason=\"bad_mac\"} 4"));
	T_CHECK(has_line(out, "dybervpn_dropped_packets_total{interface=\"wg1\","
			 "reason=\"malformed\"} 11"));
	T_CHECK(has_line(out, "dybervpn_cookie_replies_sent_total{interface=\"wg0\"} 5"));
	T_CHECK(has_line(out, "dybervpn_peers{interface=\"wg0\"} 2"));
	T_CHECK(has_line(out, "dybervpn_handshake_fragments_total{interface=\"wg0\","
			 "event=\"reassembled\"} 4"));
	T_CHECK(has_line(out, "dybervpn_peers{interface=\"wg1\"} 1"));
	/* refused_handshakes is the sum, not a reason of its own. */
	T_CHECK(!strstr(out, "reason=\"handshakes\""));
	/* One HELP and one TYPE per family, whatever the interfaces. */
	T_CHECK(count(out, "# TYPE wireguard_sent_bytes_total counter\n") == 1);
	T_CHECK(count(out, "# TYPE dybervpn_dropped_packets_total counter\n") == 1);
	T_CHECK(count(out, "# HELP ") == count(out, "# TYPE "));
	T_CHECK(count(out, "# TYPE ") == 10);
	/* Each family's samples follow its TYPE line, before the next family. */
	{
		const char *t1 = strstr(out, "# TYPE wireguard_sent_bytes_total");
		const char *t2 = strstr(out, "# TYPE wireguard_received_bytes_total");
		const char *s1 = strstr(out, "\nwireguard_sent_bytes_total{interface=\"wg1\"");

		T_CHECK(t1 && t2 && s1 && t1 < s1 && s1 < t2);
	}
	T_CHECK(!strstr(out, "a0a1a2a3") && !strstr(out, "oKGio6Sl")); /* no private key */
	T_CHECK(out[len - 1] == '\n');
	free(out);
	dv_metrics_free(&m);
	T_CHECK(m.n_ifaces == 0);
}

static void test_errors(void)
{
	struct dv_metrics m = { 0 };
	char err[128] = "", *out = NULL;
	size_t len = 0;

	T_CHECK(dv_metrics_add(&m, "wg0", "errno=22\n\n", err, sizeof(err)) == -1);
	T_CHECK(strstr(err, "errno=22") != NULL);
	T_CHECK(m.n_ifaces == 0);
	/* Junk lines, overlong keys and values, hostile reasons: skipped. */
	T_CHECK(dv_metrics_add(&m, "wg0",
			       "garbage\n=\ndropped_=1\ndropped_Bad\"Reason=2\n"
			       "dropped_x=18446744073709551615\n"
			       "public_key=zz\nmode=\nname=\nerrno=0\n\n",
			       err, sizeof(err)) == 0);
	T_CHECK(dv_metrics_render(&m, &out, &len) == 0);
	T_CHECK(out && !strstr(out, "Bad") && strstr(out, "reason=\"x\"} 18446744073709551615\n"));
	T_CHECK(out && strstr(out, "mode=\"unknown\"} 1\n"));
	free(out);
	dv_metrics_free(&m);
	/* Nothing added: the families, with no sample. */
	T_CHECK(dv_metrics_render(&m, &out, &len) == 0);
	T_CHECK(out && count(out, "# TYPE ") == 10 && !strstr(out, "} "));
	free(out);
}

/* ---- the HTTP listener, on 127.0.0.1 with an in-test epoll loop ---- */

static int renders;

static int render_fixed(void *arg, char **out, size_t *outlen)
{
	renders++;
	*out = strdup("# TYPE x gauge\nx 1\n");
	*outlen = *out ? strlen(*out) : 0;
	return *out ? 0 : -1;
}

static void pump(int epfd, int ms)
{
	struct epoll_event evs[16];
	int n = epoll_wait(epfd, evs, 16, ms);

	for (int i = 0; i < n; i++) {
		struct dv_ev *ev = evs[i].data.ptr;

		ev->fn(ev, evs[i].events);
	}
}

static int connect_to(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends req (len bytes) and collects the response until the server
 * closes, pumping the loop; bounded to about 2 s. */
static size_t exchange(int epfd, const struct sockaddr_in *sa, const char *req, size_t len,
		       char *resp, size_t cap)
{
	int fd = connect_to(sa);
	size_t got = 0, sent = 0;

	if (fd < 0)
		return 0;
	for (int i = 0; i < 400; i++) {
		ssize_t n;

		pump(epfd, 5);
		if (sent < len) {
			n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
			if (n > 0)
				sent += (size_t)n;
		}
		n = recv(fd, resp + got, cap - 1 - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || got == cap - 1)
			break;
	}
	resp[got] = 0;
	close(fd);
	return got;
}

static int status_is(const char *resp, const char *line)
{
	return !strncmp(resp, line, strlen(line));
}

static void test_http(void)
{
	struct dv_mhttp h;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	char err[128], resp[4096], big[DV_MHTTP_MAX_REQUEST + 100];
	int epfd = epoll_create1(EPOLL_CLOEXEC), fds[DV_MHTTP_MAX_CONNS + 1];

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_CHECK(dv_mhttp_open(&h, (struct sockaddr *)&sa, sizeof(sa), epfd, render_fixed, NULL,
			      err, sizeof(err)) == 0);
	T_CHECK(getsockname(h.ev.fd, (struct sockaddr *)&sa, &salen) == 0);

#define REQ(s) s, sizeof(s) - 1
	exchange(epfd, &sa, REQ("GET /metrics HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 200 OK\r\n"));
	T_CHECK(strstr(resp, "Content-Type: text/plain; version=0.0.4") != NULL);
	T_CHECK(strstr(resp, "Content-Length: 19\r\n") != NULL);
	T_CHECK(strstr(resp, "\r\n\r\n# TYPE x gauge\nx 1\n") != NULL);
	T_CHECK(renders == 1);
	exchange(epfd, &sa, REQ("GET /metrics?x=1 HTTP/1.1\nHost: a\nAccept: */*\n\n"), resp,
		 sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 200 OK\r\n"));
	exchange(epfd, &sa, REQ("HEAD /metrics HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 200 OK\r\n") && !strstr(resp, "x 1"));
	exchange(epfd, &sa, REQ("GET / HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 404 Not Found\r\n"));
	exchange(epfd, &sa, REQ("GET /metricsx HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 404 "));
	exchange(epfd, &sa, REQ("POST /metrics HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 405 "));
	exchange(epfd, &sa, REQ("\x16\x03\x01\x00\xa5\x01\n\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	exchange(epfd, &sa, REQ("GET /metrics\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	exchange(epfd, &sa, REQ("GET /metrics HTTP/2.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	exchange(epfd, &sa, REQ("get /metrics HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	exchange(epfd, &sa, REQ("GET /a\x01b HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	/* A head with no end, longer than the bound: 400, not a wait. */
	memset(big, 'A', sizeof(big));
	memcpy(big, "GET /", 5);
	exchange(epfd, &sa, big, sizeof(big), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 400 "));
	T_CHECK(renders == 3);

	/* Connections beyond the bound are closed at once; idle ones expire. */
	for (int i = 0; i <= DV_MHTTP_MAX_CONNS; i++) {
		fds[i] = connect_to(&sa);
		pump(epfd, 20);
	}
	for (int i = 0; i < 10; i++)
		pump(epfd, 10);
	T_CHECK(dv_mhttp_busy(&h));
	{
		char c;
		ssize_t n = recv(fds[DV_MHTTP_MAX_CONNS], &c, 1, MSG_DONTWAIT);

		T_CHECK(n == 0 || (n < 0 && errno == ECONNRESET)); /* closed */
		n = recv(fds[0], &c, 1, MSG_DONTWAIT);
		T_CHECK(n < 0 && errno == EAGAIN); /* still open */
	}
	{
		struct timespec ts;
		uint64_t now;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		T_CHECK(dv_mhttp_expire(&h, now) == 0);
		T_CHECK(dv_mhttp_expire(&h, now + DV_MHTTP_IDLE_SEC * 1000000000ull + 1) ==
			DV_MHTTP_MAX_CONNS);
	}
	T_CHECK(!dv_mhttp_busy(&h));
	for (int i = 0; i <= DV_MHTTP_MAX_CONNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* The listener still serves after all that. */
	exchange(epfd, &sa, REQ("GET /metrics HTTP/1.0\r\n\r\n"), resp, sizeof(resp));
	T_CHECK(status_is(resp, "HTTP/1.0 200 OK\r\n"));
	dv_mhttp_close(&h);
	T_CHECK(h.ev.fd == -1);
	dv_mhttp_close(&h); /* twice is fine */
	close(epfd);
}

static void test_classify(void)
{
	static const struct {
		const char *req;
		int want, head;
	} cases[] = {
		{ "GET /metrics HTTP/1.0\r\n\r\n", 200, 0 },
		{ "GET /metrics HTTP/1.1\n\n", 200, 0 },
		{ "GET /metrics?name[]=x HTTP/1.1\r\nHost: h\r\n\r\n", 200, 0 },
		{ "HEAD /metrics HTTP/1.0\r\n\r\n", 200, 1 },
		{ "GET /metrics/ HTTP/1.0\r\n\r\n", 404, 0 },
		{ "GET /Metrics HTTP/1.0\r\n\r\n", 404, 0 },
		{ "PUT /metrics HTTP/1.0\r\n\r\n", 405, 0 },
		{ "OPTIONS * HTTP/1.0\r\n\r\n", 400, 0 }, /* not an origin-form path */
		{ "GET /metrics HTTP/1.0", 400, 0 },          /* no line end at all */
		{ "GET /metrics HTTP/1.2\r\n\r\n", 400, 0 },
		{ "GET /metrics HTTP/1.00\r\n\r\n", 400, 0 },
		{ "GET  /metrics HTTP/1.0\r\n\r\n", 400, 0 },
		{ "GET /metrics  HTTP/1.0\r\n\r\n", 400, 0 },
		{ "GETTINGLONG /metrics HTTP/1.0\r\n\r\n", 400, 0 },
		{ "GET /metrics\tx HTTP/1.0\r\n\r\n", 400, 0 },
		{ "\r\n\r\n", 400, 0 },
		{ "", 400, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int head = -1, r = dv_mhttp_classify(cases[i].req, strlen(cases[i].req), &head);

		T_CHECK(r == cases[i].want);
		T_CHECK(head == cases[i].head);
		if (r != cases[i].want)
			fprintf(stderr, "  %s -> %d\n", cases[i].req, r);
	}
	/* A NUL inside the head is just a byte (never a terminator). */
	{
		static const char req[] = "GET /metrics\0x HTTP/1.0\r\n\r\n";
		int head;

		T_CHECK(dv_mhttp_classify(req, sizeof(req) - 1, &head) == 400);
	}
}

/* metrics_listen in a config: numeric ADDR:PORT only, errors name the key. */
static void test_config_key(void)
{
	static const char base[] =
		"[interface]\nprivate_key = \"" "YNqHbfBQKaGvzefSSkcBEA+wA5e+IDmEBzSUIjQX+kA=" "\"\n";
	struct dv_config cfg;
	char text[512], err[256];

	snprintf(text, sizeof(text), "%smetrics_listen = \"127.0.0.1:9586\"\n", base);
	T_CHECK(dv_config_parse("t.toml", text, strlen(text), &cfg, err, sizeof(err), NULL,
				NULL) == 0);
	{
		const struct sockaddr_in *s = (const void *)&cfg.metrics_listen;

		T_CHECK(cfg.metrics_listen_len == sizeof(*s) && s->sin_family == AF_INET &&
			ntohs(s->sin_port) == 9586);
	}
	dv_config_free(&cfg);
	snprintf(text, sizeof(text), "%smetrics_listen = \"[::1]:9586\"\n", base);
	T_CHECK(dv_config_parse("t.toml", text, strlen(text), &cfg, err, sizeof(err), NULL,
				NULL) == 0);
	T_CHECK(cfg.metrics_listen.ss_family == AF_INET6);
	dv_config_free(&cfg);
	snprintf(text, sizeof(text), "%s", base);
	T_CHECK(dv_config_parse("t.toml", text, strlen(text), &cfg, err, sizeof(err), NULL,
				NULL) == 0);
	T_CHECK(cfg.metrics_listen_len == 0); /* off by default */
	dv_config_free(&cfg);
	static const char *const bad[] = { "\"localhost:9586\"", "\"127.0.0.1\"",
					   "\"127.0.0.1:0\"", "9586", "\"::1:9586\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%smetrics_listen = %s\n", base, bad[i]);
		T_CHECK(dv_config_parse("t.toml", text, strlen(text), &cfg, err, sizeof(err),
					NULL, NULL) == -1);
		T_CHECK(strstr(err, "t.toml:3") && strstr(err, "metrics_listen"));
	}
}

int main(void)
{
	T_RUN(test_render);
	T_RUN(test_errors);
	T_RUN(test_classify);
	T_RUN(test_http);
	T_RUN(test_config_key);
	return t_done();
}
