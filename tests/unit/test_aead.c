/* crypto/aead: OpenSSL's ChaCha20-Poly1305 as the data path calls it,
 * against libsodium's independent implementation of the same AEAD, and
 * the memory its first use costs. */
#include <malloc.h>
#include <openssl/opensslconf.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "crypto/aead.h"
#include "t.h"

/* WireGuard's nonce: 32 zero bits || LE64(counter). */
static void nonce_of(uint8_t n[12], uint64_t counter)
{
	memset(n, 0, 4);
	for (int i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* Runs first, in a fresh process: the cipher's first use must not build
 * OpenSSL's provider tables of every algorithm (about 250 kB of heap kept
 * for the life of the daemon); the context and its ENGINE are ~5 kB. */
static void test_first_use_heap(void)
{
	struct mallinfo2 a = mallinfo2(), b;
	uint8_t key[32] = { 1 }, buf[64 + 16] = { 0 };

	T_CHECK(dv_aead_seal(buf, buf, 64, NULL, 0, 1, key) == 0);
	T_CHECK(dv_aead_open(buf, buf, sizeof(buf), NULL, 0, 1, key) == 0);
	b = mallinfo2();
#ifndef OPENSSL_NO_ENGINE
	printf("first use of the AEAD: +%zu bytes of heap\n", b.uordblks - a.uordblks);
	T_CHECK(b.uordblks - a.uordblks < 32 * 1024);
#endif
}

static void test_against_libsodium(void)
{
	static const size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 255, 256, 1420, 1500, 4096 };
	static uint8_t pt[4096], ad[64], ct[4096 + 16], ref[4096 + 16], back[4096 + 16];
	uint8_t key[32], nonce[12];

	T_CHECK(sodium_init() >= 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t len = lens[i], adlen = i % 3 == 0 ? 0 : 13 + i;
		uint64_t counter = i == 0 ? 0 : (uint64_t)-1 / (i + 1);
		unsigned long long rlen;

		randombytes_buf(key, sizeof(key));
		randombytes_buf(pt, len);
		randombytes_buf(ad, adlen);
		nonce_of(nonce, counter);
		T_CHECK(dv_aead_seal(ct, pt, len, ad, adlen, counter, key) == 0);
		crypto_aead_chacha20poly1305_ietf_encrypt(ref, &rlen, pt, len, ad, adlen,
							  NULL, nonce, key);
		T_CHECK(rlen == len + DV_AEAD_TAG_LEN);
		T_EQ_MEM(ct, ref, len + DV_AEAD_TAG_LEN);
		T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter, key) == 0);
		T_EQ_MEM(back, pt, len);
		/* In place, both ways. */
		memcpy(back, pt, len);
		T_CHECK(dv_aead_seal(back, back, len, ad, adlen, counter, key) == 0);
		T_EQ_MEM(back, ref, len + DV_AEAD_TAG_LEN);
		T_CHECK(dv_aead_open(back, back, len + 16, ad, adlen, counter, key) == 0);
		T_EQ_MEM(back, pt, len);
		/* A flipped bit of the ciphertext or the tag, another counter,
		 * other associated data: refused, the output zeroed. */
		ct[(len + 16) / 2] ^= 0x20;
		memset(back, 0xaa, len);
		T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter, key) == -1);
		T_CHECK(len == 0 || (back[0] == 0 && back[len - 1] == 0));
		ct[(len + 16) / 2] ^= 0x20;
		T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter + 1, key) == -1);
		if (adlen) {
			ad[0] ^= 1;
			T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter, key) == -1);
			ad[0] ^= 1;
		}
		T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter, key) == 0);
		/* The context re-keyed with zeros in between changes nothing. */
		dv_aead_scrub();
		T_CHECK(dv_aead_open(back, ct, len + 16, ad, adlen, counter, key) == 0);
		T_EQ_MEM(back, pt, len);
	}
	T_CHECK(dv_aead_open(back, ct, 15, NULL, 0, 0, key) == -1);
}

/* Each thread its own context, all sharing the one ENGINE. */
static void *thread_main(void *arg)
{
	uint8_t key[32], buf[1420 + 16], pt[1420];
	int *ok = arg;

	memset(key, 7, sizeof(key));
	memset(pt, 3, sizeof(pt));
	*ok = 1;
	for (uint64_t c = 0; c < 200; c++) {
		*ok &= dv_aead_seal(buf, pt, sizeof(pt), NULL, 0, c, key) == 0;
		*ok &= dv_aead_open(buf, buf, sizeof(buf), NULL, 0, c, key) == 0;
		*ok &= memcmp(buf, pt, sizeof(pt)) == 0;
	}
	dv_aead_thread_done();
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];
	int ok[4] = { 0 };

	for (int i = 0; i < 4; i++)
		T_CHECK(pthread_create(&th[i], NULL, thread_main, &ok[i]) == 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		T_CHECK(ok[i] == 1);
	}
}

int main(void)
{
	T_RUN(test_first_use_heap);
	T_RUN(test_against_libsodium);
	T_RUN(test_threads);
	dv_aead_thread_done();
	return t_done();
}
