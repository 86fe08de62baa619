#include "platform/daemon.h"

#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "device/device.h"
#include "platform/ctlsock.h"
#include "platform/event.h"
#include "platform/ifconfig.h"
#include "platform/log.h"
#include "platform/metrics.h"
#include "platform/metrics_http.h"
#include "platform/netlink.h"
#include "platform/pidfile.h"
#include "platform/reresolve.h"
#include "platform/memtrim.h"
#include "platform/sandbox.h"
#include "platform/sdnotify.h"
#include "platform/reload.h"
#include "platform/tun.h"
#include "platform/tun_gro.h"
#include "platform/tun_gso.h"
#include "platform/udp.h"
#include "util/wipe.h"

#define TUN_BATCH 64
/* Room for the largest packet the TUN hands over: a TSO super-packet of
 * 64 KB plus its IPv6 header. A packet sits at DV_HEADROOM in its slot,
 * so the 16-byte transport header lands at the slot's (aligned) start;
 * its virtio_net_hdr is read into the headroom just before it. */
#define TUN_PKT_MAX (65536 + 64)
#define TUN_SLOT (((DV_HEADROOM + TUN_PKT_MAX + DV_TAILROOM) + 63) & ~(size_t)63)
/* The device's timers run at least this often, whatever it asks for. */
#define TIMER_MAX_NS (60ull * 1000000000ull)
/* Datagrams of the handshake socket served per turn of the loop, after
 * the data path's batches: under a flood the rest waits in (and beyond
 * its size is dropped by) the kernel's queue of that socket, never in the
 * data socket's. When no data is waiting, the loop turns at once and
 * handshakes get the whole thread. */
#define HS_BUDGET 32

struct dv_daemon {
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	int epfd;
	int running;
	int pidfile;
	struct dv_device *dev;
	struct dv_udp udp;
	struct dv_nl nl;
	struct dv_ifconfig ifc;
	struct dv_ctl ctl;
	struct dv_mhttp mhttp; /* the metrics listener, ev.fd -1 when off */
	/* The config running, as its file said (listen_port 0 stays 0), its
	 * keys wiped: the base a reload compares the file with. cfg.path is
	 * the file's absolute path. */
	struct dv_config cfg;
	struct dv_reresolve rr; /* endpoint names looked up again */
	struct dv_ev tun_ev, udp_ev, hs_ev, timer_ev, sig_ev;
	int hs_ready; /* the handshake socket is readable: served after data */
	uint64_t timer_armed; /* absolute CLOCK_MONOTONIC ns, 0 = not armed */
	uint8_t *tun_arena;
	uint8_t *tun_pkts[TUN_BATCH];
	size_t tun_lens[TUN_BATCH];
	size_t n_pkts;
	uint8_t *gso_scratch; /* a super-packet being split into the slots */
	int tun_offload;
	struct dv_gro gro; /* decrypted TCP segments joined for the TUN */
	uint64_t tun_write_dropped;
	uint64_t tun_err_log_ns;
	/* Datagrams handed to the device together (GRO segments included). */
	struct dv_datagram rxb[DV_UDP_BATCH];
	size_t n_rxb;
	unsigned threads; /* sharing the data path's crypto, this one included */
};

const char *dv_daemon_ifname(const struct dv_config *cfg)
{
	return cfg->name[0] ? cfg->name : DV_DEFAULT_IFNAME;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- callbacks from the device (struct dv_io) ---- */

static void io_udp_send(void *arg, const struct sockaddr *to, socklen_t tolen,
			const uint8_t *buf, size_t len)
{
	struct dv_daemon *d = arg;

	dv_udp_queue(&d->udp, to, tolen, buf, len);
}

static void tun_write(void *arg, const struct virtio_net_hdr *h, const uint8_t *pkt,
		      size_t len)
{
	struct dv_daemon *d = arg;
	struct iovec iov[2] = {
		{ .iov_base = (void *)h, .iov_len = DV_VNET_HDR_LEN },
		{ .iov_base = (void *)pkt, .iov_len = len },
	};
	ssize_t n;
	uint64_t now;
	int e;

	do
		n = writev(d->tun_ev.fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return;
	/* The kernel's queue is full or the link is down: drop, as a
	 * network would, and say so at most once a second. */
	e = errno;
	d->tun_write_dropped++;
	now = clock_ns(CLOCK_MONOTONIC_COARSE);
	if (!d->tun_err_log_ns || now - d->tun_err_log_ns >= 1000000000ull) {
		d->tun_err_log_ns = now;
		dv_log(LOG_WARNING, "tun: write %s: %s (%llu packets dropped so far)",
		       d->ifname, strerror(e), (unsigned long long)d->tun_write_dropped);
	}
}

static void io_tun_write(void *arg, const uint8_t *pkt, size_t len)
{
	struct dv_daemon *d = arg;
	/* No offload asked: the kernel checks the packet's checksums. */
	static const struct virtio_net_hdr none;

	if (d->tun_offload)
		dv_gro_add(&d->gro, pkt, len); /* written at the end of the batch */
	else
		tun_write(d, &none, pkt, len);
}

static uint64_t io_now_ns(void *arg)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t io_wall_ns(void *arg)
{
	return clock_ns(CLOCK_REALTIME);
}

static void io_log(void *arg, int prio, const char *msg)
{
	dv_log(prio, "%s", msg); /* the log ident names the interface */
}

static int io_set_listen_port(void *arg, uint16_t port, uint16_t *bound)
{
	struct dv_daemon *d = arg;
	int r = dv_udp_rebind(&d->udp, port);

	if (r < 0) {
		dv_log(LOG_WARNING, "listen port %u refused: %s", port, strerror(-r));
		return r;
	}
	/* The old fds left the epoll set when they were closed. */
	d->udp_ev.fd = d->udp.q[DV_UDP_DATA].fd;
	d->hs_ev.fd = d->udp.q[DV_UDP_HS].fd;
	d->hs_ready = 0;
	if (dv_ev_add(d->epfd, &d->udp_ev, EPOLLIN) < 0 ||
	    (d->hs_ev.fd >= 0 && dv_ev_add(d->epfd, &d->hs_ev, EPOLLIN) < 0)) {
		dv_log(LOG_ERR, "epoll: %s", strerror(errno));
		d->running = 0;
		return -errno;
	}
	*bound = d->udp.port;
	dv_log(LOG_INFO, "listening on UDP port %u", d->udp.port);
	return 0;
}

static int io_set_fwmark(void *arg, uint32_t mark)
{
	struct dv_daemon *d = arg;

	return dv_udp_set_fwmark(&d->udp, mark);
}

/* ---- event sources ---- */

static uint8_t *tun_slot(struct dv_daemon *d, size_t i)
{
	return d->tun_arena + i * TUN_SLOT + DV_HEADROOM;
}

/* Hands the packets gathered in the slots to the device, which encrypts
 * them in place, and sends the result: the slots stay untouched until
 * this flush, so they go out without a copy. */
static void tun_emit(struct dv_daemon *d)
{
	if (d->n_pkts)
		dv_device_tun_rx_batch(d->dev, d->tun_pkts, d->tun_lens, d->n_pkts);
	d->n_pkts = 0;
	dv_udp_flush(&d->udp);
}

/* A TSO super-packet (in slot n_pkts, which it gives up) becomes
 * MTU-sized packets in the following slots, emitting when they run out. */
static void tun_split(struct dv_daemon *d, const struct virtio_net_hdr *h,
		      const uint8_t *pkt, size_t len)
{
	size_t k = dv_tun_gso_count(h, pkt, len), done = 0;

	if (!k)
		return; /* not a TCP super-packet we can parse: drop */
	memcpy(d->gso_scratch, pkt, len);
	while (done < k) {
		size_t m;

		if (d->n_pkts == TUN_BATCH)
			tun_emit(d);
		m = TUN_BATCH - d->n_pkts;
		if (m > k - done)
			m = k - done;
		for (size_t j = 0; j < m; j++)
			d->tun_pkts[d->n_pkts + j] = tun_slot(d, d->n_pkts + j);
		if (dv_tun_gso_split(h, d->gso_scratch, len, done, &d->tun_pkts[d->n_pkts],
				     &d->tun_lens[d->n_pkts], m, TUN_PKT_MAX) < 0)
			return;
		d->n_pkts += m;
		done += m;
	}
}

static void on_tun(struct dv_ev *ev, uint32_t events)
{
	struct dv_daemon *d = DV_CONTAINER_OF(ev, struct dv_daemon, tun_ev);

	for (int reads = 0; reads < TUN_BATCH; reads++) {
		uint8_t *pkt;
		struct virtio_net_hdr h;
		size_t len;
		ssize_t r;

		if (d->n_pkts == TUN_BATCH)
			tun_emit(d);
		pkt = tun_slot(d, d->n_pkts);
		r = read(ev->fd, pkt - DV_VNET_HDR_LEN, TUN_PKT_MAX + DV_VNET_HDR_LEN);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r < 0) {
			/* EBADFD: the interface was deleted under us. */
			dv_log(LOG_ERR, "tun: read %s: %s; stopping", d->ifname,
			       strerror(errno));
			d->running = 0;
			break;
		}
		if ((size_t)r <= DV_VNET_HDR_LEN)
			continue;
		memcpy(&h, pkt - DV_VNET_HDR_LEN, sizeof(h));
		len = (size_t)r - DV_VNET_HDR_LEN;
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			tun_split(d, &h, pkt, len);
			continue;
		}
		if (dv_tun_csum_finish(&h, pkt, len) < 0)
			continue;
		d->tun_pkts[d->n_pkts] = pkt;
		d->tun_lens[d->n_pkts++] = len;
	}
	tun_emit(d);
}

static void udp_emit(struct dv_daemon *d)
{
	if (d->n_rxb)
		dv_device_udp_rx_batch(d->dev, d->rxb, d->n_rxb);
	d->n_rxb = 0;
}

/* Up to max buffers of queue q to the device, in batches (the device
 * opens a batch's transport data on all its threads); returns how many. */
static unsigned udp_serve(struct dv_daemon *d, int q, unsigned max)
{
	unsigned n = dv_udp_recv(&d->udp, q, max);

	for (unsigned i = 0; i < n; i++) {
		struct dv_udp_rx *r = &d->udp.q[q].rx[i];

		/* With GRO one buffer holds several datagrams of r->seg bytes. */
		for (size_t off = 0; off < r->len; off += r->seg) {
			struct dv_datagram *dg;

			if (d->n_rxb == DV_UDP_BATCH)
				udp_emit(d);
			dg = &d->rxb[d->n_rxb++];
			dg->buf = r->buf + off;
			dg->len = r->len - off < r->seg ? r->len - off : r->seg;
			dg->from = (struct sockaddr *)&r->from;
			dg->fromlen = r->fromlen;
		}
	}
	udp_emit(d);
	/* Decrypted packets to the TUN; what the device answered (data,
	 * handshake responses, cookie replies) leaves in one sendmmsg. */
	dv_gro_flush(&d->gro);
	dv_udp_flush(&d->udp);
	return n;
}

static void on_udp(struct dv_ev *ev, uint32_t events)
{
	struct dv_daemon *d = DV_CONTAINER_OF(ev, struct dv_daemon, udp_ev);

	udp_serve(d, DV_UDP_DATA, DV_UDP_BATCH);
}

/* The handshake socket waits until the turn's data is served. */
static void on_udp_hs(struct dv_ev *ev, uint32_t events)
{
	struct dv_daemon *d = DV_CONTAINER_OF(ev, struct dv_daemon, hs_ev);

	d->hs_ready = 1;
}

static void on_timer(struct dv_ev *ev, uint32_t events)
{
	struct dv_daemon *d = DV_CONTAINER_OF(ev, struct dv_daemon, timer_ev);
	uint64_t expirations;

	if (read(ev->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		dv_log(LOG_WARNING, "timerfd: %s", strerror(errno));
	d->timer_armed = 0; /* the loop re-arms it after this wake-up */
}

/* ---- crypto threads ---- */

/* The `threads` key, or DYBERVPN_THREADS when set (it wins, for tests
 * and a quick try); 0 = one per CPU this process may run on. Resolved
 * before the sandbox, which leaves no way to ask for the CPUs. */
static unsigned threads_wanted(const struct dv_config *cfg)
{
	const char *s = getenv("DYBERVPN_THREADS");
	unsigned n = cfg->threads;

	if (s && *s) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (!*end && v <= DV_CONFIG_THREADS_MAX)
			n = (unsigned)v;
		else
			dv_log(LOG_WARNING, "DYBERVPN_THREADS=%s ignored: not 0..%d", s,
			       DV_CONFIG_THREADS_MAX);
	}
	return n ? n : dv_device_default_threads();
}

static int start_threads(struct dv_daemon *d, unsigned n)
{
	int r = dv_device_start_workers(d->dev, n);

	if (r < 0)
		return r;
	d->threads = (unsigned)r;
	dv_log(LOG_INFO, "%u crypto thread%s", d->threads, d->threads == 1 ? "" : "s");
	return 0;
}

/* ---- reload ---- */

static void reload_warning(void *arg, const char *msg)
{
	dv_log(LOG_WARNING, "%s", msg);
}

/* snprintf that may cut (a message quoting a long path). */
static void say(char *msg, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, len, fmt, ap);
	va_end(ap);
}

/* Messages go to a log line and a control response: one line. */
static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* Re-reads the file the daemon started from and applies the difference
 * (reload.h): the whole file is validated first and a bad one changes
 * nothing; then the peers change through the control protocol's set=1,
 * itself validated whole before it applies anything; then the interface
 * (MTU, addresses, routes). Returns 0, a positive errno (from the device;
 * EIO when the interface changed only in part), or -1 (nothing changed);
 * msg says what happened either way, and it is logged. */
/* The routing choices a reloaded file leaves open: the socket's mark and
 * a full tunnel's table stay those of the running interface (a full
 * tunnel turned on by the file gets a table now), an unset MTU is worked
 * out again. */
static void reload_routing(struct dv_daemon *d, struct dv_config *neu)
{
	char err[256];

	if (neu->fwmark && d->ifc.rule_table && neu->fwmark != d->ifc.rule_table)
		dv_log(LOG_WARNING, "reload: a new fwmark for a running full tunnel "
		       "takes a restart; keeping 0x%x", d->ifc.rule_table);
	if (!neu->fwmark || d->ifc.rule_table)
		neu->fwmark = d->ifc.rule_table ? d->ifc.rule_table : d->cfg.fwmark;
	if (dv_ifconfig_full_families(neu)) {
		if (d->ifc.rule_table)
			neu->table = d->ifc.rule_table;
		else if (dv_ifconfig_plan(&d->nl, neu, err, sizeof(err)) < 0)
			dv_log(LOG_WARNING, "reload: %s", err);
	}
	if (neu->fwmark != d->udp.fwmark) {
		int e = dv_udp_set_fwmark(&d->udp, neu->fwmark);

		if (e < 0)
			dv_log(LOG_WARNING, "reload: fwmark 0x%x: %s", neu->fwmark,
			       strerror(-e));
	}
	if (!neu->mtu)
		neu->mtu = dv_ifconfig_auto_mtu(&d->nl, neu);
}

static int do_reload(struct dv_daemon *d, char *msg, size_t msglen)
{
	struct dv_config neu;
	struct dv_reload_summary sum;
	struct dv_ifconfig_delta delta;
	uint8_t (*live)[32] = NULL;
	size_t n_live = 0, len = 0, outlen = 0;
	char err[1024], *req = NULL, *out = NULL;
	unsigned n_threads;
	int rc, same;

	if (dv_config_load(d->cfg.path, &neu, err, sizeof(err), reload_warning, NULL) < 0) {
		say(msg, msglen, "%s", err);
		goto refused;
	}
	same = dv_device_mldsa_same(d->dev, &neu);
	if (same != 1) {
		say(msg, msglen, "%s:%u: key 'mldsa_private_key': %s", neu.path,
		    neu.line_mldsa_private_key ? neu.line_mldsa_private_key
					       : neu.line_interface,
		    same < 0 ? "unusable or out of memory"
			     : "changed: a new ML-DSA private key needs a restart");
		goto refused_free;
	}
	if (dv_device_peer_keys(d->dev, &live, &n_live) < 0) {
		say(msg, msglen, "out of memory");
		goto refused_free;
	}
	rc = dv_reload_request(&d->cfg, &neu, (const uint8_t(*)[32])live, n_live, d->ifname,
			       &req, &len, &sum, err, sizeof(err));
	free(live);
	if (rc < 0) {
		say(msg, msglen, "%s", err);
		goto refused_free;
	}
	rc = dv_uapi_handle(d->dev, req, len, &out, &outlen);
	dv_wipe_free(req, len + 1);
	dv_wipe_free(out, outlen);
	if (rc) {
		say(msg, msglen, "%s: the device refused the change: %s; nothing "
			 "changed", neu.path, rc < 0 ? "out of memory" : strerror(rc));
		dv_config_free(&neu);
		one_line(msg);
		dv_log(LOG_ERR, "reload refused: %s", msg);
		return rc < 0 ? -1 : rc;
	}
	dv_device_set_mode(d->dev, neu.mode);
	reload_routing(d, &neu);
	n_threads = threads_wanted(&neu);
	if (n_threads != d->threads) {
		int e = start_threads(d, n_threads);

		if (e < 0)
			dv_log(LOG_WARNING, "reload: threads: %s; keeping %u", strerror(-e),
			       d->threads);
	}
	rc = dv_ifconfig_update(&d->ifc, &neu, &delta, err, sizeof(err));
	dv_device_set_mtu(d->dev, d->ifc.mtu);
	dv_reload_forget_secrets(&neu);
	dv_config_free(&d->cfg);
	d->cfg = neu;
	if (rc < 0) {
		say(msg, msglen, "%s: peers reloaded, but the interface only in "
			 "part: %s", d->cfg.path, err);
		one_line(msg);
		dv_log(LOG_ERR, "reload: %s", msg);
		return EIO;
	}
	say(msg, msglen, "reloaded %s: %u peer%s added, %u removed, %u kept%s; "
		 "%u address%s and %u route%s added, %u and %u removed%s", d->cfg.path,
		 sum.peers_added, sum.peers_added == 1 ? "" : "s", sum.peers_removed,
		 sum.peers_kept, sum.port_changed ? "; new listen port" : "",
		 delta.addrs_added, delta.addrs_added == 1 ? "" : "es",
		 delta.routes_added, delta.routes_added == 1 ? "" : "s",
		 delta.addrs_removed, delta.routes_removed,
		 delta.mtu_changed ? "; new MTU" : "");
	one_line(msg);
	dv_log(LOG_INFO, "%s", msg);
	return 0;
refused_free:
	dv_config_free(&neu);
refused:
	one_line(msg);
	dv_log(LOG_ERR, "reload refused, nothing changed: %s", msg);
	return -1;
}

/* systemd (Type=notify) waits for READY=1 after RELOADING=1: a reload,
 * by SIGHUP or by request, is done when both are sent. */
static int daemon_reload(struct dv_daemon *d, char *msg, size_t msglen)
{
	int r;

	dv_sd_notify("RELOADING=1");
	r = do_reload(d, msg, msglen);
	dv_sd_notify("READY=1");
	return r;
}

static void on_signal(struct dv_ev *ev, uint32_t events)
{
	struct dv_daemon *d = DV_CONTAINER_OF(ev, struct dv_daemon, sig_ev);
	struct signalfd_siginfo si;

	while (read(ev->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char msg[1200];

			dv_log(LOG_INFO, "SIGHUP: reloading %s", d->cfg.path);
			daemon_reload(d, msg, sizeof(msg)); /* logs the outcome */
			continue;
		}
		dv_log(LOG_INFO, "%s received, stopping",
		       si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
		d->running = 0;
	}
}


/* GET /metrics: the same get=1 response `dybervpn metrics` reads over the
 * control socket, turned into the same text. */
static int on_metrics(void *arg, char **out, size_t *outlen)
{
	struct dv_daemon *d = arg;
	struct dv_metrics m = { 0 };
	char *resp = NULL, *z, err[128];
	size_t len = 0;
	int r = -1;

	if (dv_uapi_handle(d->dev, "get=1\n\n", 7, &resp, &len) != 0)
		goto out;
	z = dv_wipe_realloc(resp, len, len + 1);
	if (!z)
		goto out;
	resp = z;
	resp[len++] = 0;
	if (dv_metrics_add(&m, d->ifname, resp, err, sizeof(err)) < 0) {
		dv_log(LOG_WARNING, "metrics: %s", err);
		goto out;
	}
	r = dv_metrics_render(&m, out, outlen);
out:
	dv_wipe_free(resp, len); /* it held the private key */
	dv_metrics_free(&m);
	return r;
}

/* The control socket's requests, line by line: "reload=1" (then the
 * blank line) is the daemon's own; every other request goes to the
 * device's UAPI, made afresh for each request. */
enum ctl_state {
	CTL_FIRST,  /* the next line starts a request */
	CTL_UAPI,   /* the device's request takes the lines */
	CTL_RELOAD, /* "reload=1" seen, its blank line expected */
	CTL_RELOAD_ANSWER,
};

struct ctl_req {
	struct dv_daemon *d;
	enum ctl_state state;
	struct dv_uapi_req *u;
};

static void *ctl_req_new(void *arg)
{
	struct ctl_req *r = calloc(1, sizeof(*r));

	if (r)
		r->d = arg;
	return r;
}

static int ctl_to_uapi(struct ctl_req *r)
{
	r->u = dv_uapi_req_new(r->d->dev);
	r->state = CTL_UAPI;
	return r->u ? 0 : -1;
}

static int ctl_req_line(void *req, const char *line, size_t len)
{
	struct ctl_req *r = req;

	switch (r->state) {
	case CTL_FIRST:
		if (len == 8 && !memcmp(line, "reload=1", 8)) {
			r->state = CTL_RELOAD;
			return 0;
		}
		if (ctl_to_uapi(r) < 0)
			return -1;
		break;
	case CTL_RELOAD:
		if (len == 0) {
			r->state = CTL_RELOAD_ANSWER;
			return 1;
		}
		/* Not a reload after all: the UAPI refuses the whole. */
		if (ctl_to_uapi(r) < 0 || dv_uapi_req_line(r->u, "reload=1", 8) < 0)
			return -1;
		break;
	case CTL_UAPI:
		break;
	case CTL_RELOAD_ANSWER:
		return -1; /* the caller takes the answer first */
	}
	return dv_uapi_req_line(r->u, line, len);
}

static int ctl_req_output(void *req, char **out, size_t *outlen)
{
	struct ctl_req *r = req;
	int more;

	if (r->state == CTL_RELOAD_ANSWER) {
		char msg[1200], line[1300], *o;
		int rc = daemon_reload(r->d, msg, sizeof(msg));
		int n = snprintf(line, sizeof(line), "reload_message=%s\nerrno=%d\n\n", msg,
				 rc ? (rc < 0 ? EINVAL : rc) : 0);

		r->state = CTL_FIRST;
		if (n < 0 || (size_t)n >= sizeof(line))
			n = snprintf(line, sizeof(line), "errno=%d\n\n", rc ? EINVAL : 0);
		o = realloc(*out, *outlen + (size_t)n);
		if (!o)
			return -1;
		memcpy(o + *outlen, line, (size_t)n);
		*out = o;
		*outlen += (size_t)n;
		return 0;
	}
	if (r->state != CTL_UAPI)
		return 0;
	more = dv_uapi_req_output(r->u, out, outlen);
	if (more == 0) {
		dv_uapi_req_free(r->u);
		r->u = NULL;
		r->state = CTL_FIRST;
	}
	return more;
}

static void ctl_req_free(void *req)
{
	struct ctl_req *r = req;

	dv_uapi_req_free(r->u);
	free(r);
}

static const struct dv_ctl_ops uapi_ops = {
	.req_new = ctl_req_new,
	.req_line = ctl_req_line,
	.req_output = ctl_req_output,
	.req_free = ctl_req_free,
};

/* Runs due timers and arms the timerfd for the next. Called after every
 * wake-up: input can bring a timer forward (a packet waiting for a
 * handshake), and the device calls it cheap when nothing is due. The
 * timerfd is re-armed only when the deadline moves earlier; a timer that
 * fires early just leads here again. */
static void run_timers(struct dv_daemon *d)
{
	uint64_t wait = dv_device_timers(d->dev);
	uint64_t deadline;

	if (dv_ctl_expire(&d->ctl, clock_ns(CLOCK_MONOTONIC)))
		dv_log(LOG_DEBUG, "closed idle control connections");
	if (d->mhttp.ev.fd >= 0 && dv_mhttp_expire(&d->mhttp, clock_ns(CLOCK_MONOTONIC)))
		dv_log(LOG_DEBUG, "metrics: closed idle connections");
	if (d->rr.n_peers)
		dv_reresolve_tick(&d->rr, clock_ns(CLOCK_MONOTONIC));
	dv_gro_flush(&d->gro);
	dv_udp_flush(&d->udp);
	if (wait > TIMER_MAX_NS)
		wait = TIMER_MAX_NS;
	/* An open metrics connection is expired on time, not at the next
	 * packet. */
	if (d->mhttp.ev.fd >= 0 && dv_mhttp_busy(&d->mhttp) && wait > 1000000000ull)
		wait = 1000000000ull;
	deadline = clock_ns(CLOCK_MONOTONIC) + (wait ? wait : 1);
	if (d->timer_armed && d->timer_armed <= deadline)
		return;
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(deadline / 1000000000ull),
			      .tv_nsec = (long)(deadline % 1000000000ull) },
	};

	if (timerfd_settime(d->timer_ev.fd, TFD_TIMER_ABSTIME, &its, NULL) == 0)
		d->timer_armed = deadline;
}

int dv_daemon_run(struct dv_daemon *d)
{
	struct epoll_event evs[16];

	run_timers(d);
	while (d->running) {
		int n = epoll_wait(d->epfd, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dv_log(LOG_ERR, "epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct dv_ev *ev = evs[i].data.ptr;

			ev->fn(ev, evs[i].events);
		}
		/* Data first, then a bounded share for handshakes: what is
		 * left stays readable and comes back at the next turn. */
		if (d->hs_ready) {
			d->hs_ready = 0;
			udp_serve(d, DV_UDP_HS, HS_BUDGET);
		}
		run_timers(d);
	}
	return 0;
}

/* ---- setup and teardown ---- */

static int setup_signals(struct dv_daemon *d, char *err, size_t errlen)
{
	sigset_t set;

	/* A control client that hangs up mid-response must not kill us. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (d->sig_ev.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	d->sig_ev.fn = on_signal;
	return 0;
}

static int setup_tun(struct dv_daemon *d, const struct dv_config *cfg, char *err,
		     size_t errlen)
{
	d->tun_arena = mmap(NULL, TUN_BATCH * TUN_SLOT, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	d->gso_scratch = malloc(TUN_PKT_MAX);
	if (d->tun_arena == MAP_FAILED || !d->gso_scratch ||
	    dv_gro_init(&d->gro, tun_write, d) < 0) {
		if (d->tun_arena == MAP_FAILED)
			d->tun_arena = NULL;
		snprintf(err, errlen, "tun: buffers: %s", strerror(errno));
		return -1;
	}
	dv_udp_set_stable(&d->udp, d->tun_arena, TUN_BATCH * TUN_SLOT);
	d->tun_ev.fd = dv_tun_open(d->ifname, &d->tun_offload, err, errlen);
	if (d->tun_ev.fd < 0)
		return -1;
	if (!d->tun_offload)
		dv_log(LOG_INFO, "tun: the kernel refused TSO/checksum offload; "
		       "packets come one by one");
	d->tun_ev.fn = on_tun;
	d->ifindex = if_nametoindex(d->ifname);
	if (!d->ifindex) {
		snprintf(err, errlen, "tun: %s vanished: %s", d->ifname, strerror(errno));
		return -1;
	}
	return dv_ifconfig_apply(&d->ifc, &d->nl, d->ifindex, d->ifname, cfg, err, errlen);
}

struct dv_daemon *dv_daemon_new(struct dv_config *cfg, char *err, size_t errlen)
{
	struct dv_daemon *d = calloc(1, sizeof(*d));
	struct dv_io io = {
		.udp_send = io_udp_send,
		.tun_write = io_tun_write,
		.now_ns = io_now_ns,
		.wall_ns = io_wall_ns,
		.log = io_log,
		.set_listen_port = io_set_listen_port,
		.set_fwmark = io_set_fwmark,
	};
	uint16_t file_port;
	unsigned n_threads;
	int te;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->epfd = d->tun_ev.fd = d->udp_ev.fd = d->hs_ev.fd = d->timer_ev.fd = d->sig_ev.fd = -1;
	d->udp.fd = d->udp.q[DV_UDP_DATA].fd = d->udp.q[DV_UDP_HS].fd = -1;
	d->ctl.ev.fd = -1;
	d->mhttp.ev.fd = -1;
	snprintf(d->ifname, sizeof(d->ifname), "%s", dv_daemon_ifname(cfg));
	io.arg = d;

	if (setup_signals(d, err, errlen) < 0)
		goto fail;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timer_ev.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->epfd < 0 || d->timer_ev.fd < 0) {
		snprintf(err, errlen, "epoll/timerfd: %s", strerror(errno));
		goto fail;
	}
	d->timer_ev.fn = on_timer;
	file_port = cfg->listen_port;
	/* A full tunnel's table and mark (`up` chose them already; the same
	 * choice again here), and the automatic MTU, before the device and
	 * the socket take them. */
	if (dv_nl_open(&d->nl, err, errlen) < 0 ||
	    dv_ifconfig_plan(&d->nl, cfg, err, errlen) < 0)
		goto fail;
	if (!cfg->mtu)
		cfg->mtu = dv_ifconfig_auto_mtu(&d->nl, cfg);
	if (dv_udp_open(&d->udp, cfg->listen_port, err, errlen) < 0)
		goto fail;
	if (cfg->fwmark) {
		int e = dv_udp_set_fwmark(&d->udp, cfg->fwmark);

		if (e < 0) {
			snprintf(err, errlen, "fwmark 0x%x on the UDP socket: %s",
				 cfg->fwmark, strerror(-e));
			goto fail;
		}
	}
	d->udp_ev.fd = d->udp.q[DV_UDP_DATA].fd;
	d->udp_ev.fn = on_udp;
	d->hs_ev.fd = d->udp.q[DV_UDP_HS].fd;
	d->hs_ev.fn = on_udp_hs;
	cfg->listen_port = d->udp.port;
	d->dev = dv_device_new(cfg, &io, err, errlen);
	if (!d->dev)
		goto fail;
	if (dv_reresolve_init(&d->rr, d->dev, d->epfd, cfg) < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (setup_tun(d, cfg, err, errlen) < 0)
		goto fail;
	if (dv_ctl_open(&d->ctl, d->ifname, d->epfd, &uapi_ops, d, err, errlen) < 0)
		goto fail;
	if (cfg->metrics_listen_len &&
	    dv_mhttp_open(&d->mhttp, (const struct sockaddr *)&cfg->metrics_listen,
			  cfg->metrics_listen_len, d->epfd, on_metrics, d, err, errlen) < 0)
		goto fail;
	if (dv_pidfile_write(d->ifname, err, errlen) < 0)
		goto fail;
	d->pidfile = 1;
	if (dv_ev_add(d->epfd, &d->tun_ev, EPOLLIN) < 0 ||
	    dv_ev_add(d->epfd, &d->udp_ev, EPOLLIN) < 0 ||
	    (d->hs_ev.fd >= 0 && dv_ev_add(d->epfd, &d->hs_ev, EPOLLIN) < 0) ||
	    dv_ev_add(d->epfd, &d->timer_ev, EPOLLIN) < 0 ||
	    dv_ev_add(d->epfd, &d->sig_ev, EPOLLIN) < 0) {
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	/* Every handshake mode in use, once in memory (platform/memtrim.h). */
	{
		unsigned modes = 1u << cfg->mode;

		for (size_t i = 0; i < cfg->n_peers; i++)
			modes |= 1u << cfg->peers[i].mode;
		if (dv_memtrim_warm_up(modes) < 0) {
			snprintf(err, errlen, "self-check: an in-memory handshake failed");
			goto fail;
		}
	}
	/* Set up: the rest runs as an unprivileged user with two
	 * capabilities, no_new_privs, not dumpable, under a seccomp
	 * allow-list (platform/sandbox.h). A failure is a start-up error,
	 * not a downgrade. */
	n_threads = threads_wanted(cfg);
	if (dv_sandbox_apply(cfg->user, cfg->no_sandbox, err, errlen) < 0)
		goto fail;
	/* The crypto threads start inside it: they inherit it (capability
	 * sets are per thread). */
	if ((te = start_threads(d, n_threads)) < 0) {
		snprintf(err, errlen, "crypto threads: %s", strerror(-te));
		goto fail;
	}
	d->running = 1;
	dv_log(LOG_INFO, "%s is up: UDP port %u, MTU %u, %zu peer%s", d->ifname,
	       d->udp.port, cfg->mtu, cfg->n_peers, cfg->n_peers == 1 ? "" : "s");
	/* The daemon keeps the config (taken from the caller, whose copy
	 * is left empty) without its keys, for reloads. */
	cfg->listen_port = file_port;
	d->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	dv_reload_forget_secrets(&d->cfg);
	/* What start-up alone used goes back (platform/memtrim.h). */
	dv_memtrim(NULL);
	return d;
fail:
	dv_daemon_free(d);
	return NULL;
}

void dv_daemon_free(struct dv_daemon *d)
{
	if (!d)
		return;
	dv_mhttp_close(&d->mhttp);
	if (d->ctl.ev.fd >= 0)
		dv_ctl_close(&d->ctl);
	if (d->pidfile)
		dv_pidfile_remove(d->ifname);
	/* Closing the TUN fd removes the interface, its addresses and its
	 * routes. */
	if (d->tun_ev.fd >= 0)
		close(d->tun_ev.fd);
	if (d->nl.sock)
		dv_ifconfig_undo(&d->ifc);
	dv_nl_close(&d->nl);
	dv_reresolve_free(&d->rr);
	dv_device_free(d->dev);
	dv_udp_close(&d->udp);
	if (d->tun_arena)
		munmap(d->tun_arena, TUN_BATCH * TUN_SLOT);
	free(d->gso_scratch);
	dv_gro_free(&d->gro);
	if (d->timer_ev.fd >= 0)
		close(d->timer_ev.fd);
	if (d->sig_ev.fd >= 0)
		close(d->sig_ev.fd);
	if (d->epfd >= 0)
		close(d->epfd);
	dv_config_free(&d->cfg);
	free(d);
}
