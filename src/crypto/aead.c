/* ChaCha20-Poly1305 through OpenSSL's EVP interface, one context per thread,
 * reused for every packet: on this class of machine it seals a 1420-byte
 * packet in about 0.9 us (`dybervpn benchmark`), libsodium's in about 1.4x
 * that.
 *
 * The context keeps what it was last keyed with: the ChaCha20 key words,
 * the Poly1305 state and the last keystream block. A keypair's keys are
 * wiped when it is freed, so the context must not keep a copy that
 * outlives it: dv_aead_scrub re-keys it with the zero key and nonce and
 * runs it once, which overwrites all three. The event loop's thread calls
 * it at the end of every turn (dv_device_timers, after each wake-up of the
 * loop), a crypto worker before it sleeps (device/workers.c), not after
 * every packet: a scrub per packet made a 1420-byte seal 1.3 us
 * -> 1.7 us (`dybervpn benchmark -n 2000`), once per batch it is noise. */
/*
 * Which implementation: OpenSSL 3 offers the cipher two ways. Looked up
 * by name (EVP_chacha20_poly1305() with no ENGINE), the first use loads
 * the default provider and builds its tables of every algorithm it has,
 * about 250 kB of heap that stays for the life of the process. Handed to
 * the context through an ENGINE of our own whose one cipher is OpenSSL's
 * built-in EVP_chacha20_poly1305() method, the context runs that method
 * directly: the same assembly (ChaCha20_ctr32, Poly1305), no provider,
 * no tables. The ENGINE interface is deprecated in OpenSSL 3 but present
 * in Debian's build; where it is missing or fails, the provider is used.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include "crypto/aead.h"

#include "crypto/ct.h"

#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <string.h>

#if !defined(OPENSSL_NO_ENGINE) && OPENSSL_VERSION_MAJOR == 3
#define DV_AEAD_ENGINE 1
#include <openssl/engine.h>
#include <openssl/objects.h>
#endif

static _Thread_local EVP_CIPHER_CTX *tl_ctx;

#ifdef DV_AEAD_ENGINE
static ENGINE *engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static int engine_ciphers(ENGINE *e, const EVP_CIPHER **cipher, const int **nids, int nid)
{
	static const int list[] = { NID_chacha20_poly1305 };

	(void)e;
	if (!cipher) {
		*nids = list;
		return 1;
	}
	*cipher = nid == NID_chacha20_poly1305 ? EVP_chacha20_poly1305() : NULL;
	return *cipher != NULL;
}

/* Made once for the process and kept: contexts hold references to it. */
static void engine_make(void)
{
	ENGINE *e = ENGINE_new();

	if (e && ENGINE_set_id(e, "dybervpn-chacha20-poly1305") &&
	    ENGINE_set_name(e, "OpenSSL's built-in ChaCha20-Poly1305 method") &&
	    ENGINE_set_ciphers(e, engine_ciphers)) {
		engine = e;
		return;
	}
	ENGINE_free(e);
}
#endif

static EVP_CIPHER_CTX *ctx_get(void)
{
	int ok = 0;

	if (tl_ctx)
		return tl_ctx;
	tl_ctx = EVP_CIPHER_CTX_new();
	if (!tl_ctx)
		return NULL;
#ifdef DV_AEAD_ENGINE
	pthread_once(&engine_once, engine_make);
	if (engine)
		ok = EVP_CipherInit_ex(tl_ctx, EVP_chacha20_poly1305(), engine, NULL, NULL, -1);
	if (!ok)
		EVP_CIPHER_CTX_reset(tl_ctx);
#endif
	if (!ok)
		ok = EVP_CipherInit_ex(tl_ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL, -1);
	if (!ok) {
		EVP_CIPHER_CTX_free(tl_ctx);
		tl_ctx = NULL;
	}
	return tl_ctx;
}

static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void dv_aead_scrub(void)
{
	static const uint8_t zero[32];
	EVP_CIPHER_CTX *c = tl_ctx;
	uint8_t tag[16];
	int outl;

	if (!c)
		return;
	if (EVP_CipherInit_ex(c, NULL, NULL, zero, zero, 1) &&
	    EVP_CipherUpdate(c, tag, &outl, zero, 1))
		(void)EVP_CipherFinal_ex(c, tag, &outl);
}

static int aead_crypt(int enc, uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t *ad, size_t adlen, uint64_t counter,
		 const uint8_t key[32], uint8_t tag[16])
{
	EVP_CIPHER_CTX *c = ctx_get();
	uint8_t nonce[12];
	int outl, ok;

	if (!c || len > 0x7fffffff || adlen > 0x7fffffff)
		return -1;
	make_nonce(nonce, counter);
	ok = EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc);
	if (ok && !enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, tag);
	if (ok && adlen)
		ok = EVP_CipherUpdate(c, NULL, &outl, ad, (int)adlen);
	if (ok && len)
		ok = EVP_CipherUpdate(c, dst, &outl, src, (int)len);
	if (ok)
		ok = EVP_CipherFinal_ex(c, dst + len, &outl);
	if (ok && enc)
		ok = EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag);
	return ok ? 0 : -1;
}

int dv_aead_prepare(void)
{
	if (!ctx_get())
		return -1;
	dv_aead_scrub();
	return 0;
}

void dv_aead_thread_done(void)
{
	/* EVP_CIPHER_CTX_free cleanses the context before freeing it. */
	EVP_CIPHER_CTX_free(tl_ctx);
	tl_ctx = NULL;
}

int dv_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t *ad, size_t adlen, uint64_t counter,
		 const uint8_t key[DV_AEAD_KEY_LEN])
{
	if (aead_crypt(1, dst, src, len, ad, adlen, counter, key, dst + len)) {
		memset(dst, 0, len + DV_AEAD_TAG_LEN);
		return -1;
	}
	/* Ciphertext and tag are what goes on the wire: their secrecy rests
	 * on the key, not on being hidden from timing. */
	ct_declassify(dst, len + DV_AEAD_TAG_LEN);
	return 0;
}

int dv_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		 const uint8_t *ad, size_t adlen, uint64_t counter,
		 const uint8_t key[DV_AEAD_KEY_LEN])
{
	uint8_t tag[DV_AEAD_TAG_LEN];
	int ret;

	if (len < DV_AEAD_TAG_LEN)
		return -1;
	len -= DV_AEAD_TAG_LEN;
	memcpy(tag, src + len, sizeof(tag));
	ret = aead_crypt(0, dst, src, len, ad, adlen, counter, key, tag);
	/* Whether the tag verified is public: the packet is dropped or not. */
	ct_declassify(&ret, sizeof(ret));
	if (ret) {
		memset(dst, 0, len);
		return -1;
	}
	return 0;
}
