#include "platform/event.h"

#include <stddef.h>
#include <sys/epoll.h>

static int ev_ctl(int epfd, int op, struct dv_ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(epfd, op, ev->fd, &e);
}

int dv_ev_add(int epfd, struct dv_ev *ev, uint32_t events)
{
	return ev_ctl(epfd, EPOLL_CTL_ADD, ev, events);
}

int dv_ev_mod(int epfd, struct dv_ev *ev, uint32_t events)
{
	return ev_ctl(epfd, EPOLL_CTL_MOD, ev, events);
}

void dv_ev_del(int epfd, struct dv_ev *ev)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}
