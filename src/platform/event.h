/* One epoll source: the loop calls fn with the ready events. Modules embed
 * a struct dv_ev in their own state and recover it with DV_CONTAINER_OF,
 * so the loop needs no switch over source kinds. */
#ifndef DV_PLATFORM_EVENT_H
#define DV_PLATFORM_EVENT_H

#include <stddef.h>
#include <stdint.h>

/* The struct of type T whose member M is at p. */
#define DV_CONTAINER_OF(p, T, M) ((T *)(void *)((char *)(p) - offsetof(T, M)))

struct dv_ev {
	int fd;
	void (*fn)(struct dv_ev *ev, uint32_t events);
};

/* epoll_ctl wrappers (level-triggered); 0 or -1 with errno set. */
int dv_ev_add(int epfd, struct dv_ev *ev, uint32_t events);
int dv_ev_mod(int epfd, struct dv_ev *ev, uint32_t events);
void dv_ev_del(int epfd, struct dv_ev *ev);

#endif
