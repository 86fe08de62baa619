#include "noise/selftest.h"

#include "crypto/classic.h"
#include "crypto/ct.h"
#include "protocol.h"

#include <string.h>

static struct noise_peer *selftest_lookup(void *arg, const uint8_t pub[DV_KEY_LEN])
{
	struct noise_peer *p = arg;

	return ct_memcmp(p->remote_static, pub, DV_KEY_LEN) ? NULL : p;
}

static int selftest_identity(struct noise_selftest_side *s, enum dv_mode m)
{
	uint8_t seed[DV_KEY_LEN];
	int ret;

	dv_random(seed, sizeof(seed));
	dv_x25519_clamp(seed);
	ret = noise_local_init(&s->local, seed);
	if (!ret && dv_mode_needs_mldsa(m)) {
		dv_random(seed, sizeof(seed));
		ret = noise_local_set_mldsa_seed(&s->local, seed);
	}
	ct_wipe(seed, sizeof(seed));
	return ret;
}

int noise_selftest_init(struct noise_selftest *t, enum dv_mode m)
{
	int ret;

	memset(t, 0, sizeof(*t));
	t->mode = m;
	t->i.peer.hs = &t->i.hs;
	t->r.peer.hs = &t->r.hs;
	if ((ret = selftest_identity(&t->i, m)) ||
	    (ret = selftest_identity(&t->r, m)) ||
	    (ret = noise_peer_init(&t->i.peer, &t->i.local, m, t->r.local.pub, NULL)) ||
	    (ret = noise_peer_init(&t->r.peer, &t->r.local, m, t->i.local.pub, NULL))) {
		noise_selftest_clear(t);
		return ret;
	}
	if (dv_mode_needs_mldsa(m)) {
		noise_peer_set_mldsa_pk(&t->i.peer, t->r.local.mldsa_pk);
		noise_peer_set_mldsa_pk(&t->r.peer, t->i.local.mldsa_pk);
	}
	return 0;
}

int noise_selftest_run(struct noise_selftest *t)
{
	struct noise_selftest_side *i = &t->i, *r = &t->r;
	uint8_t ts[DV_TAI64N_LEN];
	struct noise_peer *found;
	size_t len;
	int ret;

	t->ts_sec++;
	t->now_ns += 1000000000u;
	dv_tai64n(ts, t->ts_sec, 0);
	len = sizeof(i->msg);
	if ((ret = noise_create_initiation(&i->local, &i->peer, 1, ts, NULL, i->msg, &len)) ||
	    (ret = noise_consume_initiation(&r->local, i->msg, len, selftest_lookup,
					    &r->peer, t->now_ns, &found)))
		return ret;
	len = sizeof(r->msg);
	if ((ret = noise_create_response(&r->local, found, 2, NULL, r->msg, &len)) ||
	    (ret = noise_consume_response(&i->local, &i->peer, r->msg, len)) ||
	    (ret = noise_derive_keys(&i->peer, &i->kp)) ||
	    (ret = noise_derive_keys(&r->peer, &r->kp)))
		return ret;
	if (ct_memcmp(i->kp.send, r->kp.recv, DV_KEY_LEN) ||
	    ct_memcmp(i->kp.recv, r->kp.send, DV_KEY_LEN) ||
	    i->kp.remote_index != 2 || r->kp.remote_index != 1)
		return NOISE_ERR_INTERNAL;
	return 0;
}

void noise_selftest_clear(struct noise_selftest *t)
{
	noise_local_clear(&t->i.local);
	noise_local_clear(&t->r.local);
	ct_wipe(t, sizeof(*t));
}
