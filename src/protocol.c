/* The mode and message-type tables of protocol.h. Lengths and offsets are
 * those of noise/messages.h, whose static assertions tie them to
 * docs/PROTOCOL.md §6-§7 layouts. */
#include "protocol.h"

#include <string.h>

static const struct dv_mode_desc dv_modes[DV_MODE_COUNT] = {
	[DV_MODE_CLASSIC] = {
		.mode = DV_MODE_CLASSIC,
		.name = "classic",
		.construction = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s",
		.identifier = "WireGuard v1 zx2c4 Jason@zx2c4.com",
	},
	[DV_MODE_HYBRID] = {
		.mode = DV_MODE_HYBRID,
		.name = "hybrid",
		.construction = "DyberVPN_IKpsk2_25519+MLKEM768_ChaChaPoly_BLAKE2s",
		.identifier = "DyberVPN v1",
		.needs_kem = true,
	},
	[DV_MODE_PQONLY] = {
		.mode = DV_MODE_PQONLY,
		.name = "pqonly",
		.alias = "pq-only",
		.construction = "DyberVPN_IKpsk2_25519+MLKEM768+MLDSA65_ChaChaPoly_BLAKE2s",
		.identifier = "DyberVPN v1",
		.needs_kem = true,
		.needs_mldsa = true,
	},
};

/* Every handshake message of one mode: initiation or response, with or
 * without the KEM field and the signature. The post-quantum ones may be
 * fragmented; classic stays WireGuard on the wire. */
#define HS_MACS(l) .off_mac1 = DV_OFF_MAC1(l), .off_mac2 = DV_OFF_MAC2(l)
#define INITIATION(t, nm, m, l, kem, sig)                                     \
	[t] = { .type = t, .name = nm, .kind = DV_KIND_INITIATION, .mode = m,  \
		.len = l, .min_len = l, .fragmentable = (kem),                 \
		.off_sender = DV_OFF_SENDER,                                   \
		.off_ephemeral = DV_INIT_OFF_EPHEMERAL,                        \
		.off_kem = (kem) ? DV_INIT_OFF_PQ_EK : 0,                      \
		.off_static = DV_INIT_OFF_STATIC(kem),                         \
		.off_timestamp = DV_INIT_OFF_TIMESTAMP(kem),                   \
		.off_sig = (sig) ? DV_INIT_OFF_SIG : 0, HS_MACS(l) }
#define RESPONSE(t, nm, m, l, kem, sig)                                       \
	[t] = { .type = t, .name = nm, .kind = DV_KIND_RESPONSE, .mode = m,    \
		.len = l, .min_len = l, .fragmentable = (kem),                 \
		.off_sender = DV_OFF_SENDER,                                   \
		.off_receiver = DV_RESP_OFF_RECEIVER,                          \
		.off_ephemeral = DV_RESP_OFF_EPHEMERAL,                        \
		.off_kem = (kem) ? DV_RESP_OFF_PQ_CT : 0,                      \
		.off_sig = (sig) ? DV_RESP_OFF_SIG : 0,                        \
		.off_empty = DV_RESP_OFF_EMPTY(l), HS_MACS(l) }

static const struct dv_msg_desc dv_msgs[] = {
	INITIATION(DV_MSG_INITIATION, "initiation", DV_MODE_CLASSIC,
		   DV_INITIATION_LEN, 0, 0),
	RESPONSE(DV_MSG_RESPONSE, "response", DV_MODE_CLASSIC,
		 DV_RESPONSE_LEN, 0, 0),
	[DV_MSG_COOKIE_REPLY] = {
		.type = DV_MSG_COOKIE_REPLY, .name = "cookie reply",
		.kind = DV_KIND_COOKIE_REPLY,
		.len = DV_COOKIE_REPLY_LEN, .min_len = DV_COOKIE_REPLY_LEN,
		.off_receiver = DV_COOKIE_OFF_RECEIVER,
		.off_nonce = DV_COOKIE_OFF_NONCE,
		.off_cookie = DV_COOKIE_OFF_COOKIE,
	},
	[DV_MSG_DATA] = {
		.type = DV_MSG_DATA, .name = "data", .kind = DV_KIND_DATA,
		.min_len = DV_DATA_MIN_LEN,
		.off_receiver = DV_DATA_OFF_RECEIVER,
		.off_counter = DV_DATA_OFF_COUNTER,
	},
	INITIATION(DV_MSG_HYBRID_INITIATION, "hybrid initiation", DV_MODE_HYBRID,
		   DV_HYBRID_INITIATION_LEN, 1, 0),
	RESPONSE(DV_MSG_HYBRID_RESPONSE, "hybrid response", DV_MODE_HYBRID,
		 DV_HYBRID_RESPONSE_LEN, 1, 0),
	INITIATION(DV_MSG_PQ_INITIATION, "pqonly initiation", DV_MODE_PQONLY,
		   DV_PQ_INITIATION_LEN, 1, 1),
	RESPONSE(DV_MSG_PQ_RESPONSE, "pqonly response", DV_MODE_PQONLY,
		 DV_PQ_RESPONSE_LEN, 1, 1),
	/* docs/PROTOCOL-fragments.md: a 16-byte header, 1 to L bytes of the
	 * fragmented message, mac1 and mac2. Its own layout is checked by
	 * device/fragment.c. */
	[DV_MSG_FRAGMENT] = {
		.type = DV_MSG_FRAGMENT, .name = "handshake fragment",
		.kind = DV_KIND_FRAGMENT,
		.min_len = 16 + 1 + DV_MACS_LEN,
		.off_sender = DV_OFF_SENDER,
	},
};

#define N_MSGS (sizeof(dv_msgs) / sizeof(dv_msgs[0]))

_Static_assert(DV_MAX_HANDSHAKE_LEN >= DV_PQ_INITIATION_LEN &&
	       DV_MAX_HANDSHAKE_LEN >= DV_PQ_RESPONSE_LEN,
	       "DV_MAX_HANDSHAKE_LEN holds every handshake message");

const struct dv_mode_desc *dv_mode_desc(enum dv_mode m)
{
	return (unsigned)m < DV_MODE_COUNT ? &dv_modes[m] : NULL;
}

const struct dv_msg_desc *dv_msg_desc(uint8_t type)
{
	/* Rows left out of the designated initialisers have kind 0. */
	return type < N_MSGS && dv_msgs[type].kind ? &dv_msgs[type] : NULL;
}

const struct dv_msg_desc *dv_mode_msg(enum dv_mode m, enum dv_msg_kind kind)
{
	for (size_t t = 0; t < N_MSGS; t++) {
		if (dv_msgs[t].kind == kind && dv_msgs[t].mode == m &&
		    (kind == DV_KIND_INITIATION || kind == DV_KIND_RESPONSE))
			return &dv_msgs[t];
	}
	return NULL;
}

const struct dv_msg_desc *dv_msg_classify(const uint8_t *msg, size_t len)
{
	const struct dv_msg_desc *md = dv_msg_desc(dv_msg_type(msg, len));

	if (!md || len < md->min_len || (md->len && len != md->len))
		return NULL;
	return md;
}

bool dv_mode_needs_mldsa(enum dv_mode m)
{
	const struct dv_mode_desc *d = dv_mode_desc(m);

	return d && d->needs_mldsa;
}

const char *dv_mode_name(enum dv_mode m)
{
	const struct dv_mode_desc *d = dv_mode_desc(m);

	return d ? d->name : "unknown";
}

int dv_mode_parse(const char *s, enum dv_mode *out)
{
	for (unsigned m = 0; m < DV_MODE_COUNT; m++) {
		if (!strcmp(s, dv_modes[m].name) ||
		    (dv_modes[m].alias && !strcmp(s, dv_modes[m].alias))) {
			*out = (enum dv_mode)m;
			return 0;
		}
	}
	return -1;
}
