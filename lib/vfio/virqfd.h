/* SPDX-License-Identifier: MIT */
/*
 * lib/vfio/virqfd.h - the user's eventfds inside lib/vfio (virqfd.c):
 * our reference to one, a signal into one, and an action run when one is
 * signalled (Linux's drivers/vfio/virqfd.c).
 */
#ifndef UIOMMU_VFIO_VIRQFD_H
#define UIOMMU_VFIO_VIRQFD_H

/*
 * Our own reference to the program's eventfd @ufd (the number of the
 * caller, a forked child's too) in *out: 0, -EBADF (not open), -EINVAL
 * (not an eventfd), -EMFILE / -ENOMEM. Drop it with vfio_eventfd_put().
 */
int vfio_eventfd_get(int ufd, int *out);
/* Drop the reference in *fd (if any) and set it to -1. */
void vfio_eventfd_put(int *fd);
/* Add 1 to the counter of our reference @fd (nothing for -1). */
void vfio_eventfd_signal(int fd);

struct virqfd;

/*
 * Watch the program's eventfd @ufd: each time it is signalled, its count
 * is consumed and @handler(@opaque, @data) runs in the watcher thread
 * (inside the fork gate, with no lock of virqfd.c held). A count already
 * there acts as a signal. *pvirqfd, which must be NULL (else -EBUSY,
 * unless the eventfd behind it has been closed by the program: that one
 * is ended first), becomes the handle. Errors, in Linux's order: -ENOMEM,
 * -EBADF, -EINVAL, -EBUSY; then -EMFILE / -ENOMEM / -EAGAIN when the
 * watcher cannot be had. Calls on one slot are serialised by its owner.
 */
int vfio_virqfd_enable(void *opaque, void (*handler)(void *opaque, void *data), void *data,
		       struct virqfd **pvirqfd, int ufd);
/*
 * End the virqfd in *pvirqfd (if any) and set it to NULL; on return its
 * handler is not running and will not run again. Must not be called from
 * a handler, nor with a lock a handler takes.
 */
void vfio_virqfd_disable(struct virqfd **pvirqfd);

/*
 * daemon()'s child (util/forkgate.h fork_gate_handover()): the virqfds are
 * its own; a watcher thread of its own waits on their epoll set again.
 * 0, or -ENOMEM / -EAGAIN when that thread cannot be had (the actions then
 * stop, as they would if the process had exited).
 */
int vfio_virqfd_take_over(void);

/* Live virqfds of the process and watcher threads not yet gone (tests). */
unsigned int vfio_virqfd_count(void);
unsigned int vfio_virqfd_watchers(void);

#endif
