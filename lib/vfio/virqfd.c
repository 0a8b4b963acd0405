// SPDX-License-Identifier: MIT
/*
 * virqfd.c - the program's eventfds inside VFIO: our reference to one, a
 * signal into one, and a "virqfd", an action run when one is signalled
 * (Linux's drivers/vfio/virqfd.c, used for VFIO_DEVICE_IOEVENTFD and for
 * the INTx unmask eventfd of SET_IRQS).
 *
 * What it owns: our references to the program's eventfds, every virqfd of
 * the process (one list), and the watcher thread that runs their actions.
 *
 * References. The kernel keeps an eventfd_ctx; we keep a descriptor: the
 * program's number is recognised as an eventfd by its /proc/self/fd link
 * ("anon_inode:[eventfd]": EBADF for a closed number, EINVAL for anything
 * else, one of our emulated files too, whatever is behind it, as
 * eventfd_ctx_fdget() answers) and duplicated close-on-exec, so
 * the program may close its own. A forked child's number (a call the
 * owner serves for it) comes over the channel (util/file.h
 * ufile_real_fd()): the same open file, so the child's signals reach us.
 * Our descriptors (references, the watcher's epoll and wake-up fds) are
 * registered as the library's own (util/intfd.h): the program's
 * close_range() passes them by, a dup2() onto one moves it (the epoll set
 * learns the new number, virqfd_moved()), so they are kept by name and
 * resolved with intfd_fd() at each use; and a scan of the process's
 * descriptors can tell the program's from ours (below).
 *
 * Virqfds. Each holds a reference, the handler and its arguments, and the
 * slot that points at it (*pvirqfd, as Linux's). One watcher thread per
 * process, started with the first virqfd and told to end with the last,
 * waits in epoll_wait() on every reference, edge-triggered, so that each
 * signal (each write(2) to the eventfd) is one event, as each write is one
 * wake-up of Linux's wait-queue entry. For an event it consumes the count
 * the way eventfd_ctx_do_read() does (all of it; one for an EFD_SEMAPHORE
 * eventfd), by a read that cannot block (RWF_NOWAIT: the O_NONBLOCK flag
 * is the program's, shared with our duplicate), then runs the handler.
 * Differences from Linux, where the handler runs inside the signalling
 * write(2): here it runs shortly after, in the watcher; signals that come
 * before the watcher has looked are one event (one run, the whole count
 * consumed); a count already there at registration is consumed and acted
 * on by the watcher (Linux acts on it inside the ioctl and leaves the
 * count for the next signal to consume). ThreadSanitizer does not see the
 * order a signal gives (it does not intercept preadv2()): what the program
 * wrote before signalling and a handler then reads must also be ordered by
 * something it sees (the device model's lock, for a BAR write).
 *
 * Hang-up. Linux ends a virqfd when the eventfd's file is released (the
 * program closed its last descriptor: EPOLLHUP), which frees its slot;
 * QEMU relies on that to drop an INTx unmask eventfd. Our reference keeps
 * the file open, so no hang-up ever comes; instead a slot found in use by
 * vfio_virqfd_enable() is freed when no descriptor of this process but
 * ours names the eventfd (kcmp(KCMP_FILE) against every number of
 * /proc/self/fd). Descriptors of other processes (a forked child, one
 * given over a socket) are not seen; a virqfd made for a forked child, or
 * a kernel without kcmp, is taken as still held: EBUSY. Until then a
 * virqfd whose eventfd the program closed keeps its action and our
 * reference (nothing can signal it but another holder of the file).
 *
 * Ending one. vfio_virqfd_disable() unlinks the virqfd and removes it
 * from the epoll set under virqfd_lock, then waits until its handler is
 * not running; it waits for nothing else (not for the watcher's other
 * handlers), so a caller holding a lock another handler needs cannot
 * deadlock with it. The watcher marks a virqfd running under the lock
 * after finding it by its ID (64-bit, never reused), so an event still in
 * the watcher's hands for a virqfd that is gone finds nothing.
 *
 * fork(). The watcher waits, takes virqfd_lock and runs handlers only
 * inside the fork gate (util/forkgate.h), as every caller of the enable /
 * disable calls is (an ioctl), so at fork() no lock here is held, no
 * handler is halfway and no number it uses changes under it; whoever
 * closes the gate kicks it out of epoll_wait() first (virqfd_kick(): a
 * write to its wake-up eventfd, taken back when it wakes). A watcher that ends does so without waiting for anyone (it
 * is detached and frees itself; nobody joins it, since a caller inside
 * the gate waiting for a watcher that waits at a closed gate would stop
 * fork() forever). The child has no watcher: its device files are the
 * owner's, served by the owner, whose watcher goes on acting on signals,
 * the child's included (its eventfds are the same files). So the child's
 * handler (pthread_atfork, registered at the first virqfd) drops the
 * parent's: every virqfd is ended as by a hang-up (its slot NULL, our
 * descriptor closed), the watchers' epoll and wake descriptors are
 * closed (the epoll set is the parent's object: the child must not touch
 * it). A fork that runs no handlers (_Fork()) leaves them in the child
 * (which the shim then keeps away from the library). daemon()'s fork
 * leaves them too, and its child takes them over: a watcher thread of its
 * own waits on the same epoll set (vfio_virqfd_take_over()).
 *
 * Locks: virqfd_lock (list, IDs, slots, running, the watcher) is a leaf
 * except that disable waits on virqfd_cond with it, and is taken inside
 * the gate's closing (the kick, with gate_mutex held) and in a move's
 * hook. Handlers run without it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kcmp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/intfd.h"
#include "util/list.h"
#include "util/uaccess.h"
#include "vfio/virqfd.h"

/* ------------------------------------------------------------------ */
/* Our references                                                     */

static bool is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return !strcmp(target, "anon_inode:[eventfd]");
}

int vfio_eventfd_get(int ufd, int *out)
{
	struct uiommu_file *file;
	bool owned;
	int fd, rc;

	if (ufd < 0)
		return -EBADF;
	/* One of our files (a fault queue has an eventfd behind it) is not an eventfd. */
	file = ufile_lookup(ufd);
	if (file) {
		ufile_put(file);
		return -EINVAL;
	}
	/* Ours for a forked child's number (owned), or the number itself. */
	fd = ufile_real_fd(ufd, &owned);
	if (fd < 0)
		return -EBADF;
	if (!is_eventfd(fd)) {
		rc = fcntl(fd, F_GETFD) < 0 ? -EBADF : -EINVAL;
		if (owned)
			close(fd);
		return rc;
	}
	if (!owned) {
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	}
	/* Ours, out of the program's reach (util/intfd.h); close-on-exec. */
	rc = intfd_add(&fd);
	if (rc) {
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

void vfio_eventfd_put(int *fd)
{
	intfd_close(fd);
}

void vfio_eventfd_signal(int fd)
{
	uint64_t one = 1;

	/* A counter at its maximum (EAGAIN on a non-blocking fd) just stays there. */
	if (fd >= 0 && write(intfd_fd(fd), &one, sizeof(one)) != sizeof(one))
		return;
}

/*
 * Does a descriptor of this process other than ours name the eventfd of
 * our reference @name? True when that cannot be told (no /proc, no kcmp).
 */
static bool program_holds(int name)
{
	struct dirent64_hdr {
		uint64_t ino;
		int64_t off;
		unsigned short reclen;
		unsigned char type;
		char name[];
	};
	char buf[4096] __attribute__((aligned(8)));
	pid_t pid = getpid();
	bool found = false;
	int dfd, fd = intfd_fd(name);

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return true;
	while (!found) {
		long len = syscall(SYS_getdents64, dfd, buf, sizeof(buf));

		if (len <= 0) {
			found = len < 0;
			break;
		}
		for (long off = 0; off < len && !found;) {
			struct dirent64_hdr *de = (void *)(buf + off);
			char *end;
			long num = strtol(de->name, &end, 10), same;

			off += de->reclen;
			if (end == de->name || *end || num == dfd || intfd_has((int)num))
				continue;
			errno = 0;
			same = syscall(SYS_kcmp, pid, pid, KCMP_FILE, (int)num, fd);
			/* 0: the same file; EBADF: closed since the listing; else no kcmp. */
			if (!same || (same < 0 && errno != EBADF))
				found = true;
		}
	}
	close(dfd);
	return found;
}

/* ------------------------------------------------------------------ */
/* Virqfds and the watcher                                            */

struct virqfd {
	struct list_head next; /* virqfd_list */
	uint64_t id;	       /* the epoll event's data */
	int fd;		       /* our reference */
	bool remote;	       /* made for a forked child: its descriptors are not ours to scan */
	bool running;	       /* the watcher is in its handler */
	void (*handler)(void *opaque, void *data);
	void *opaque, *data;
	struct virqfd **pvirqfd;
};

struct virqfd_watcher {
	struct list_head next; /* watcher_list */
	int epfd, stopfd;      /* the epoll set; an eventfd in it (ID 0) that says "end" */
	bool stop;	       /* under virqfd_lock */
};

static pthread_mutex_t virqfd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t virqfd_cond = PTHREAD_COND_INITIALIZER;
static LIST_HEAD(virqfd_list);
static unsigned int virqfd_nr;
static uint64_t virqfd_next_id = 1;
/* Watchers that have not freed themselves yet; the first, unless stopped, is the current one. */
static LIST_HEAD(watcher_list);
static struct virqfd_watcher *watcher; /* the current one, or NULL */
static pthread_once_t virqfd_once = PTHREAD_ONCE_INIT;

#define VIRQFD_EVENTS 32

static struct virqfd *virqfd_find_locked(uint64_t id)
{
	struct virqfd *v;

	list_for_each_entry(v, &virqfd_list, next)
		if (v->id == id)
			return v;
	return NULL;
}

/* One event: consume the count, run the handler. Inside the gate, without the lock. */
static void virqfd_run(uint64_t id)
{
	struct iovec iov;
	struct virqfd *v;
	uint64_t cnt;

	pthread_mutex_lock(&virqfd_lock);
	v = virqfd_find_locked(id);
	if (v)
		v->running = true;
	pthread_mutex_unlock(&virqfd_lock);
	if (!v)
		return;
	/* eventfd_ctx_do_read(): all of the count, or one of a semaphore's; never blocks. */
	iov = (struct iovec){.iov_base = &cnt, .iov_len = sizeof(cnt)};
	(void)preadv2(intfd_fd(v->fd), &iov, 1, -1, RWF_NOWAIT);
	v->handler(v->opaque, v->data);
	pthread_mutex_lock(&virqfd_lock);
	v->running = false;
	pthread_cond_broadcast(&virqfd_cond);
	pthread_mutex_unlock(&virqfd_lock);
}

static void *virqfd_watch(void *arg)
{
	struct virqfd_watcher *w = arg;
	struct epoll_event ev[VIRQFD_EVENTS];
	bool stop = false;

	while (!stop) {
		int n;

		/*
		 * It waits inside the gate, so that no number it uses changes
		 * under it (util/intfd.h); whoever closes the gate kicks it out
		 * first (virqfd_kick()).
		 */
		fork_gate_enter();
		/*
		 * The system call itself, not libc's: a sanitizer that intercepts
		 * epoll_wait() ahead of the preload shim would take the program's
		 * close() of this number (EBADF: it is ours, util/intfd.h) for a
		 * race on it. The handlers' data is ordered by virqfd_lock.
		 */
		n = (int)syscall(SYS_epoll_pwait, intfd_fd(w->epfd), ev, VIRQFD_EVENTS, -1, NULL,
				 (size_t)8);
		pthread_mutex_lock(&virqfd_lock);
		stop = w->stop;
		pthread_mutex_unlock(&virqfd_lock);
		for (int i = 0; i < n && !stop; i++) {
			uint64_t cnt;

			if (ev[i].data.u64)
				virqfd_run(ev[i].data.u64);
			else /* a kick: taken, so that it wakes us once */
				(void)!read(intfd_fd(w->stopfd), &cnt, sizeof(cnt));
		}
		if (stop) {
			/* Gone inside the gate: a fork() sees this watcher whole or not at all. */
			pthread_mutex_lock(&virqfd_lock);
			list_del(&w->next);
			pthread_mutex_unlock(&virqfd_lock);
			intfd_close(&w->epfd);
			intfd_close(&w->stopfd);
			ufree(w);
		}
		fork_gate_exit();
	}
	return NULL;
}

/* The gate is closing (a fork, a move): every watcher leaves it. */
static void virqfd_kick(void)
{
	struct virqfd_watcher *w;
	uint64_t one = 1;

	pthread_mutex_lock(&virqfd_lock);
	list_for_each_entry(w, &watcher_list, next)
		(void)!write(intfd_fd(w->stopfd), &one, sizeof(one));
	pthread_mutex_unlock(&virqfd_lock);
}

/*
 * Our reference @name moves from @oldfd to @newfd (the program dup2()s onto
 * @oldfd; the gate is closed): the epoll set knows it by number.
 */
static void virqfd_moved(int name, int oldfd, int newfd)
{
	struct virqfd *v;

	pthread_mutex_lock(&virqfd_lock);
	list_for_each_entry(v, &virqfd_list, next) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = v->id};
		int epfd;

		if (v->fd != name || !watcher)
			continue;
		epfd = intfd_fd(watcher->epfd);
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, oldfd, NULL);
		(void)epoll_ctl(epfd, EPOLL_CTL_ADD, newfd, &ev);
	}
	pthread_mutex_unlock(&virqfd_lock);
}

/* The child of fork(): the parent's virqfds and watchers are not ours (see the essay). */
static void virqfd_fork_child(void)
{
	struct virqfd_watcher *w, *wn;
	struct virqfd *v, *vn;

	/* daemon(): the child takes everything over (vfio_virqfd_take_over()). */
	if (fork_gate_handing_over())
		return;
	list_for_each_entry_safe(v, vn, &virqfd_list, next) {
		list_del(&v->next);
		*v->pvirqfd = NULL;
		vfio_eventfd_put(&v->fd);
		ufree(v);
	}
	virqfd_nr = 0;
	list_for_each_entry_safe(w, wn, &watcher_list, next) {
		list_del(&w->next);
		intfd_close(&w->epfd);
		intfd_close(&w->stopfd);
		ufree(w);
	}
	watcher = NULL;
}

static void virqfd_init_once(void)
{
	pthread_atfork(NULL, NULL, virqfd_fork_child);
	fork_gate_add_kick(virqfd_kick);
	intfd_set_move_hook(virqfd_moved);
}

/* Tell the current watcher to end (no virqfd is left); it frees itself. */
static void watcher_stop_locked(void)
{
	uint64_t one = 1;

	if (!watcher)
		return;
	watcher->stop = true;
	(void)!write(intfd_fd(watcher->stopfd), &one, sizeof(one));
	watcher = NULL;
}

/* The thread of @w. 0 or -errno. */
static int watcher_run(struct virqfd_watcher *w)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	/* The thread, as the kernel's work: injection reaches it as an allocation. */
	if (ualloc_should_fail())
		return -ENOMEM;
	/* The program's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = -pthread_create(&tid, &attr, virqfd_watch, w);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!rc)
		(void)pthread_setname_np(tid, "uiommu-virqfd");
	return rc;
}

static int watcher_start_locked(void)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
	struct virqfd_watcher *w;
	int rc;

	w = uzalloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->stopfd = -1;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0) {
		rc = -errno;
		goto free;
	}
	rc = intfd_add(&w->epfd);
	if (rc) {
		close(w->epfd);
		goto free;
	}
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->stopfd < 0) {
		rc = -errno;
		goto close;
	}
	rc = intfd_add(&w->stopfd);
	if (rc) {
		close(w->stopfd);
		w->stopfd = -1;
		goto close;
	}
	if (epoll_ctl(intfd_fd(w->epfd), EPOLL_CTL_ADD, intfd_fd(w->stopfd), &ev)) {
		rc = -errno;
		goto close;
	}
	rc = watcher_run(w);
	if (rc)
		goto close;
	list_add(&w->next, &watcher_list);
	watcher = w;
	return 0;
close:
	intfd_close(&w->stopfd);
	intfd_close(&w->epfd);
free:
	ufree(w);
	return rc;
}

int vfio_virqfd_take_over(void)
{
	struct virqfd_watcher *w, *wn;
	int rc = 0;

	virqfd_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	virqfd_cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	pthread_mutex_lock(&virqfd_lock);
	list_for_each_entry_safe(w, wn, &watcher_list, next) {
		/* Stopped ones were ending in the parent's threads: theirs to free, here ours. */
		if (w == watcher)
			continue;
		list_del(&w->next);
		intfd_close(&w->epfd);
		intfd_close(&w->stopfd);
		ufree(w);
	}
	/* The epoll set is the same file: a thread of ours waits on it again. */
	if (watcher)
		rc = watcher_run(watcher);
	if (rc) {
		/* No thread: the actions stop (daemon() says so). */
		list_del(&watcher->next);
		intfd_close(&watcher->epfd);
		intfd_close(&watcher->stopfd);
		ufree(watcher);
		watcher = NULL;
	}
	pthread_mutex_unlock(&virqfd_lock);
	return rc;
}

/* End @v, already unlinked from its slot and list; virqfd_lock held, and released on return. */
static void virqfd_end_locked(struct virqfd *v)
{
	if (watcher)
		(void)epoll_ctl(intfd_fd(watcher->epfd), EPOLL_CTL_DEL, intfd_fd(v->fd), NULL);
	while (v->running)
		pthread_cond_wait(&virqfd_cond, &virqfd_lock);
	if (!--virqfd_nr)
		watcher_stop_locked();
	pthread_mutex_unlock(&virqfd_lock);
	vfio_eventfd_put(&v->fd);
	ufree(v);
}

void vfio_virqfd_disable(struct virqfd **pvirqfd)
{
	struct virqfd *v;

	pthread_mutex_lock(&virqfd_lock);
	v = *pvirqfd;
	if (!v) {
		pthread_mutex_unlock(&virqfd_lock);
		return;
	}
	*pvirqfd = NULL;
	list_del(&v->next);
	virqfd_end_locked(v);
}

int vfio_virqfd_enable(void *opaque, void (*handler)(void *opaque, void *data), void *data,
		       struct virqfd **pvirqfd, int ufd)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
	struct virqfd *v, *old;
	bool hung_up;
	int rc;

	pthread_once(&virqfd_once, virqfd_init_once);
	v = uzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	rc = vfio_eventfd_get(ufd, &v->fd);
	if (rc)
		goto free;
	v->remote = uaccess_current_mm() != NULL;
	v->handler = handler;
	v->opaque = opaque;
	v->data = data;
	v->pvirqfd = pvirqfd;

	/* The slot is in use: free it if the program has closed that eventfd (the hang-up). */
	pthread_mutex_lock(&virqfd_lock);
	old = *pvirqfd;
	pthread_mutex_unlock(&virqfd_lock);
	if (old) {
		/* The slot's owner serialises us: old stays while we look. */
		hung_up = !old->remote && !program_holds(old->fd);
		if (!hung_up) {
			rc = -EBUSY;
			goto put;
		}
		vfio_virqfd_disable(pvirqfd);
	}

	pthread_mutex_lock(&virqfd_lock);
	if (!watcher) {
		rc = watcher_start_locked();
		if (rc)
			goto unlock;
	}
	v->id = virqfd_next_id++;
	ev.data.u64 = v->id;
	if (epoll_ctl(intfd_fd(watcher->epfd), EPOLL_CTL_ADD, intfd_fd(v->fd), &ev)) {
		rc = -errno;
		if (!virqfd_nr)
			watcher_stop_locked();
		goto unlock;
	}
	list_add_tail(&v->next, &virqfd_list);
	virqfd_nr++;
	*pvirqfd = v;
	pthread_mutex_unlock(&virqfd_lock);
	return 0;
unlock:
	pthread_mutex_unlock(&virqfd_lock);
put:
	vfio_eventfd_put(&v->fd);
free:
	ufree(v);
	return rc;
}

unsigned int vfio_virqfd_count(void)
{
	unsigned int n;

	pthread_mutex_lock(&virqfd_lock);
	n = virqfd_nr;
	pthread_mutex_unlock(&virqfd_lock);
	return n;
}

unsigned int vfio_virqfd_watchers(void)
{
	struct virqfd_watcher *w;
	unsigned int n = 0;

	pthread_mutex_lock(&virqfd_lock);
	list_for_each_entry(w, &watcher_list, next)
		n++;
	pthread_mutex_unlock(&virqfd_lock);
	return n;
}
