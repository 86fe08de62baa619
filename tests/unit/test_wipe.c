/* Secrets at the end of their life, through the real code paths of the
 * device core: once a session has ended no copy of a transport key is
 * left anywhere in the process's writable memory (heap, anonymous
 * mappings, data segments: the AEAD library context included); after the
 * device is freed no copy of its private key or of a preshared key is
 * left either. The stack is not scanned (the test harness's own frames
 * hold configs). Also: a stronger per-peer mode and a new private key end
 * the sessions they concern, and the next packet handshakes at once. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "device/internal.h"
#include "fake_io.h"
#include "t.h"

#define MASK 0xa5 /* the test keeps its copies of the keys XORed with this */
#define SCAN_BUF (1u << 20)

static uint64_t clk;
static struct fake A, B;
static struct fake *both[2] = { &A, &B };
static uint8_t *scan_buf;

static void masked(uint8_t out[32], const uint8_t *k)
{
	for (int i = 0; i < 32; i++)
		out[i] = k[i] ^ MASK;
}

/* Copies of the 32-byte key whose masked form is m in the process's
 * writable memory (its own scan buffer and the stack excepted). */
static unsigned count_copies(const uint8_t m[32])
{
	FILE *maps = fopen("/proc/self/maps", "re");
	int mem = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	char line[512];
	unsigned found = 0;

	T_CHECK(maps && mem >= 0);
	if (!maps || mem < 0)
		return 1000;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long lo, hi;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 ||
		    perms[0] != 'r' || perms[1] != 'w' || strstr(line, "[stack]") ||
		    lo == (unsigned long)scan_buf)
			continue;
		/* Chunks overlap by 31 bytes; a match is counted in the chunk
		 * where it starts, only if it starts before the overlap (or the
		 * chunk is the region's last). */
		for (unsigned long off = lo; off < hi; off += SCAN_BUF - 31) {
			size_t want = hi - off < SCAN_BUF ? hi - off : SCAN_BUF;
			ssize_t n = pread(mem, scan_buf, want, (off_t)off);
			int last = off + want >= hi;

			for (ssize_t i = 0; i + 32 <= n; i++) {
				int j = 0;

				if (!last && i >= (ssize_t)(SCAN_BUF - 31))
					break;
				while (j < 32 && (scan_buf[i + j] ^ MASK) == m[j])
					j++;
				found += j == 32;
			}
			if ((size_t)n < want || last)
				break;
		}
	}
	memset(scan_buf, 0, SCAN_BUF);
	fclose(maps);
	close(mem);
	return found;
}

static void setup(enum dv_mode m)
{
	struct fake *pb = &B, *pa = &A;

	clk = 1000 * DV_NSEC_PER_SEC;
	fake_identity(&A, 1);
	fake_identity(&B, 2);
	T_CHECK(fake_start(&A, &clk, m, &pb, NULL, 1) != NULL);
	T_CHECK(fake_start(&B, &clk, m, &pa, NULL, 1) != NULL);
}

static void session(void)
{
	tun_send(&A, 1, 2, 100, 0x11);
	pump(both, 2);
	tun_send(&B, 2, 1, 100, 0x22);
	pump(both, 2);
}

static void test_transport_keys_wiped(void)
{
	uint8_t send_m[32], recv_m[32], priv_m[32], psk_m[32];
	struct dv_peer *pa;
	char req[256], hx[65];
	char *out = NULL;
	size_t outlen = 0;

	setup(DV_MODE_HYBRID);
	/* A preshared key set through the control protocol. */
	for (int i = 0; i < 32; i++)
		sprintf(hx + 2 * i, "%02x", (unsigned)(0x30 + i));
	for (int i = 0; i < 32; i++)
		psk_m[i] = (uint8_t)((0x30 + i) ^ MASK);
	snprintf(req, sizeof(req), "set=1\npublic_key=");
	for (int i = 0; i < 32; i++)
		sprintf(req + strlen(req), "%02x", B.pub[i]);
	snprintf(req + strlen(req), sizeof(req) - strlen(req),
		 "\npreshared_key=%s\n\n", hx);
	T_CHECK(dv_uapi_handle(A.dev, req, strlen(req), &out, &outlen) == 0);
	memset(req, 0, sizeof(req));
	memset(hx, 0, sizeof(hx));
	if (out)
		memset(out, 0, outlen);
	free(out);
	snprintf(req, sizeof(req), "set=1\npublic_key=");
	for (int i = 0; i < 32; i++)
		sprintf(req + strlen(req), "%02x", A.pub[i]);
	snprintf(req + strlen(req), sizeof(req) - strlen(req), "\npreshared_key=");
	for (int i = 0; i < 32; i++)
		sprintf(req + strlen(req), "%02x", (unsigned)(0x30 + i));
	strcat(req, "\n\n");
	out = NULL;
	outlen = 0;
	T_CHECK(dv_uapi_handle(B.dev, req, strlen(req), &out, &outlen) == 0);
	memset(req, 0, sizeof(req));
	if (out)
		memset(out, 0, outlen);
	free(out);

	masked(priv_m, A.priv);
	memset(A.priv, 0, 32);
	session();
	pa = A.dev->peers;
	T_CHECK(pa->cur != NULL && A.ntun == 1 && B.ntun == 1);
	if (!pa->cur)
		goto out;
	masked(send_m, pa->cur->k.send);
	masked(recv_m, pa->cur->k.recv);
	/* The scan sees live keys (it can fail). */
	T_CHECK(count_copies(send_m) >= 1);
	T_CHECK(count_copies(priv_m) >= 1);
	T_CHECK(count_copies(psk_m) >= 1);

	/* The session ends (both sides remove the peer); the AEAD context,
	 * last keyed with it, must not keep it once the batch is over (the
	 * loop calls dv_device_timers after every wake-up). */
	for (int side = 0; side < 2; side++) {
		struct fake *me = side ? &B : &A, *other = side ? &A : &B;

		snprintf(req, sizeof(req), "set=1\npublic_key=");
		for (int i = 0; i < 32; i++)
			sprintf(req + strlen(req), "%02x", other->pub[i]);
		strcat(req, "\nremove=true\n\n");
		out = NULL;
		outlen = 0;
		T_CHECK(dv_uapi_handle(me->dev, req, strlen(req), &out, &outlen) == 0);
		free(out);
		dv_device_timers(me->dev);
	}
	T_CHECK(A.dev->peers == NULL && B.dev->peers == NULL);
	T_CHECK(count_copies(send_m) == 0);
	T_CHECK(count_copies(recv_m) == 0);
out:
	fake_stop(&A);
	fake_stop(&B);
	T_CHECK(count_copies(priv_m) == 0);
	T_CHECK(count_copies(psk_m) == 0);
}

/* One set=1 request to f's device: KEY=<hex of k> (32 bytes), then the
 * lines in extra; the request text is wiped (it may hold a private key). */
static int uapi_set_key(struct fake *f, const char *key, const uint8_t k[32],
			const char *extra)
{
	char req[256], *out = NULL;
	size_t outlen = 0;
	int n, rc;

	n = snprintf(req, sizeof(req), "set=1\n%s=", key);
	for (int i = 0; i < 32; i++)
		n += snprintf(req + n, sizeof(req) - (size_t)n, "%02x", k[i]);
	snprintf(req + n, sizeof(req) - (size_t)n, "\n%s\n", extra);
	rc = dv_uapi_handle(f->dev, req, strlen(req), &out, &outlen);
	ct_wipe(req, sizeof(req));
	free(out);
	return rc;
}

/* mode=pqonly on a peer with a hybrid session ends that session: the
 * next packet starts a pqonly handshake at once. */
static void test_mode_upgrade_expires(void)
{
	struct dv_peer *pb;

	setup(DV_MODE_HYBRID);
	session();
	pb = A.dev->peers;
	T_CHECK(pb->cur != NULL);
	T_CHECK(uapi_set_key(&A, "public_key", B.pub, "mode=pqonly\n") == 0);
	T_CHECK(pb->np.mode == DV_MODE_PQONLY && !pb->cur && !pb->prev && !pb->next);
	A.nsent = 0;
	tun_send(&A, 1, 2, 100, 0x33);
	T_CHECK(count_msgs(&A, DV_MSG_PQ_INITIATION) == 1);
	T_CHECK(count_type(&A, DV_MSG_DATA) == 0);
	fake_stop(&A);
	fake_stop(&B);
}

/* A new private key ends every session, and the next packet handshakes
 * at once although an initiation went out less than REKEY_TIMEOUT ago. */
static void test_private_key_change_expires(void)
{
	uint8_t priv[32];
	struct dv_peer *pb;

	setup(DV_MODE_CLASSIC);
	session();
	pb = A.dev->peers;
	T_CHECK(pb->cur != NULL && pb->sent_initiation);
	dv_random(priv, 32);
	dv_x25519_clamp(priv);
	T_CHECK(uapi_set_key(&A, "private_key", priv, "") == 0);
	T_CHECK(!pb->cur && !pb->prev && !pb->next);
	A.nsent = 0;
	clk += DV_NSEC_PER_SEC; /* well inside REKEY_TIMEOUT */
	tun_send(&A, 1, 2, 100, 0x44);
	T_CHECK(count_type(&A, DV_MSG_INITIATION) == 1);
	fake_stop(&A);
	fake_stop(&B);
}

int main(void)
{
	scan_buf = mmap(NULL, SCAN_BUF, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scan_buf == MAP_FAILED)
		return 1;
#if defined(DV_SANITIZE) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	/* A sanitizer's shadow memory is terabytes of writable mappings: no
	 * scan there (the plain build runs it). */
	printf("skipping the memory scan under a sanitizer\n");
	(void)test_transport_keys_wiped;
#else
	T_RUN(test_transport_keys_wiped);
#endif
	T_RUN(test_mode_upgrade_expires);
	T_RUN(test_private_key_change_expires);
	return t_done();
}
