/* libFuzzer harness: any datagram into dv_device_udp_rx of a device with
 * an established session (fake platform, fake clock). The first input
 * byte picks options: bit 0 patches the receiver index field with a live
 * index (so transport data and responses reach the decryption paths),
 * bit 1 turns on "under load" (cookie replies), bits 2-3 pick the peer
 * mode, bit 4 gives a handshake fragment (type 9) a valid mac1, so that
 * fuzzed fragments pass the cheap checks and reach reassembly (the table
 * lives across inputs: fragments of one message may come in several);
 * the rest is the datagram. Keys are fixed, so the seed corpus's
 * captured handshake messages pass mac1 and reach the handshake code. */
#include <stddef.h>
#include <stdint.h>

#include "device/internal.h"
#include "protocol.h"
#include "unit/fake_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t clk = 1000 * DV_NSEC_PER_SEC;
static struct fake A[DV_MODE_COUNT], B[DV_MODE_COUNT];
static uint8_t buf[FAKE_MAX_PKT];

static void start(unsigned m)
{
	struct fake *pa = &A[m], *pb = &B[m], *both[2] = { &A[m], &B[m] };

	fake_identity_ex(&A[m], 1, 1);
	fake_identity_ex(&B[m], 2, 1);
	fake_start(&A[m], &clk, (enum dv_mode)m, &pb, NULL, 1);
	fake_start(&B[m], &clk, (enum dv_mode)m, &pa, NULL, 1);
	tun_send(&A[m], 1, 2, 60, 0);
	pump(both, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned opt, m;
	struct dv_peer *p;

	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	opt = data[0];
	m = (opt >> 2) % DV_MODE_COUNT;
	if (!A[m].dev)
		start(m);
	memcpy(buf, data + 1, size - 1);
	p = B[m].dev->peers;
	if ((opt & 1) && size - 1 >= 12 && p->cur) {
		uint32_t idx = p->cur->k.local_index;
		const struct dv_msg_desc *md = dv_msg_desc(buf[0]);
		size_t off = md && md->off_receiver ? md->off_receiver
						    : DV_DATA_OFF_RECEIVER;
		dv_le32_put(buf + off, idx);
	}
	if ((opt & 16) && size - 1 > DV_MACS_LEN && buf[0] == DV_MSG_FRAGMENT) {
		struct cookie_maker cm;

		cookie_maker_init(&cm, B[m].pub);
		cookie_add_frag_macs(&cm, buf, size - 1, clk, false);
		cookie_maker_clear(&cm);
	}
	dv_device_set_load_threshold(B[m].dev, (opt & 2) ? 0 : DV_LOAD_THRESHOLD);
	clk += 1000000;
	dv_device_udp_rx(B[m].dev, buf, size - 1, (struct sockaddr *)&A[m].addr,
			 sizeof(A[m].addr));
	dv_device_timers(B[m].dev);
	B[m].nsent = B[m].ntun = 0;
	return 0;
}
