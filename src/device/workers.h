/* The crypto workers: threads that share the AEAD of a batch with the
 * thread that calls into the device.
 *
 * The device does everything that is per peer or shared (routing, the
 * choice of keypair, counters, the replay window, timers, handshakes) on
 * the caller's thread, in batch order, and hands only the sealing or
 * opening of each packet, which touches nothing but the packet and a key
 * that does not change during the batch, to dv_workers_run. That call
 * returns when every packet is done, so the serial pass that follows sees
 * them in order: per-peer order is kept the way WireGuard's parallel
 * crypt with serial per-peer queues keeps it, with no lock per packet
 * (one atomic compare-and-swap per chunk of packets, and a futex wake per
 * batch when the workers sleep).
 *
 * A worker waits for the next batch in futex_wait, spinning up to 20 us
 * first only while batches come back to back. It clears its AEAD context
 * (dv_aead_scrub) before it sleeps: a key it used stays in the context at
 * most while it spins (20 us), as the event loop's own context keeps one
 * until the end of the loop's turn (dv_device_timers). Keypairs end only
 * on the event loop's thread, between batches.
 */
#ifndef DV_DEVICE_WORKERS_H
#define DV_DEVICE_WORKERS_H

#include <stddef.h>

#define DV_WORKERS_MAX 64 /* threads, the caller included */

struct dv_workers;

/* threads counts the caller: threads - 1 workers start now (0 or 1: none).
 * NULL with errno set when a thread could not start. */
struct dv_workers *dv_workers_new(unsigned threads);
/* Stops and joins the workers. NULL is allowed. */
void dv_workers_free(struct dv_workers *w);
/* Threads that share a batch, the caller included (1 for NULL). */
unsigned dv_workers_threads(const struct dv_workers *w);
/* Calls fn(arg, i) once for every i in [0, n), spread over the caller and
 * the workers, and returns when all calls have returned. Small batches
 * (or w NULL) run on the caller alone. Not reentrant: one caller. */
void dv_workers_run(struct dv_workers *w, void (*fn)(void *arg, size_t i),
		    void *arg, size_t n);

/* Threads the `threads = 0` default means: the CPUs this process may run
 * on. */
unsigned dv_workers_default(void);

#endif
