// SPDX-License-Identifier: MIT
/*
 * uiommu_remote.c - emulated files shared across fork(): a forked child's
 * calls on an inherited file run in the process that owns the file's state.
 *
 * In Linux an fd inherited over fork() refers to the same open file, so a
 * child's ioctl acts on its parent's iommufd context. Here the context is
 * memory of the process that opened it, and the child has only a copy. So
 * the child forwards: its inherited files are "remote" (util/file.h), and
 * every ioctl, read, write, pread, pwrite and poll on one travels to the
 * owner, which runs it and sends back the result.
 *
 * The channel. fork() makes one SOCK_SEQPACKET socketpair per child, in
 * the prepare handler (util/forkgate.h hooks: the gate is closed, no thread
 * is inside the library), and only when this process has files of its own
 * installed. The owner keeps one end, registered with its server thread;
 * the child keeps the other. A request carries the file (its address, the
 * same in both processes), the operation, its arguments and the caller's
 * PID; the reply carries the result or -errno. Requests of one child are
 * sent one at a time (owner_lock).
 *
 * The server thread starts with the first such fork (the parent handler),
 * so a program that never forks with emulated files open never has it. It
 * poll()s every child's end and an eventfd that announces new ones, and
 * serves one request at a time, inside the fork gate, with user memory
 * redirected to the caller (util/uaccess.h uaccess_use_mm(), the kernel's
 * "current->mm"). Memory the child maps into an IOAS is recorded as the
 * child's and reached when first pinned (lib/iommufd/pages.c,
 * util/remote_mm.h): a shared mapping is aliased, private memory and a
 * child that has exited give EFAULT.
 *
 * Lifetimes, as in Linux where every process's fd holds the open file:
 *   - the channel holds a reference on each file installed at fork time, so
 *     the owner closing all its numbers leaves the context alive for the
 *     child;
 *   - the child's last reference to a file (its last number closed, or the
 *     child exiting) is reported with UREMOTE_RELEASE, and the end of the
 *     channel (the child exited) drops whatever it still holds; only then
 *     can the owner's release run;
 *   - a child that exits through exit() or _exit() (uiommu_process_exit())
 *     says so (UREMOTE_EXIT) and waits for the owner to drop what the
 *     channel holds and close its end, so that, as in Linux, a waitpid()
 *     that returns finds the child's references gone and no descriptor
 *     left open for it; a child killed by a signal has them
 *     dropped a moment later, when the server sees the channel end;
 *   - an owner that exits leaves its children's inherited files dead: every
 *     call fails with EBADF, poll reports POLLERR | POLLHUP, close works.
 *
 * What is not shared: a file the child opens itself is its own; a file the
 * child inherited from its own parent is dead in a grandchild (its owner is
 * not the grandchild's parent); mmap of a remote file fails with ENODEV;
 * ioctls that would create a new fd (FAULT_QUEUE_ALLOC, VEVENTQ_ALLOC, the
 * selftest's CREATE_ACCESS, VFIO_GROUP_GET_DEVICE_FD) fail with EOPNOTSUPP
 * for a remote caller, since the number would be the owner's; per-task
 * fail-nth settings of the child do not apply to calls served for it.
 *
 * Locks: conns_lock guards the owner's list of channels (the server thread
 * removes, the parent handler adds); owner_lock serialises a child's
 * requests. Neither is held while an operation runs. Both, and everything
 * else here, are reset in the child handler, which also closes the owner's
 * channel ends it inherited (they are not its to serve).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uiommu_private.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/remote_mm.h"
#include "util/uaccess.h"

struct remote_req {
	uint32_t op;
	int32_t pid;
	uint64_t file;
	uint64_t a, b;
	int64_t offset;
};

struct remote_reply {
	int64_t rc;
};

/* The owner's end of one child's channel, and the files it holds for the child. */
struct conn {
	struct conn *next;
	int fd;
	unsigned int nfiles;
	struct uiommu_file **files;
};

/* Owner side. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static int wake_fd = -1;
static bool server_running;
/* Between prepare and parent/child: the channel of the child being made. */
static struct conn *pending;
static int pending_child_fd = -1;

/* Child side: the channel to the owner of our remote files. */
static pthread_mutex_t owner_lock = PTHREAD_MUTEX_INITIALIZER;
static int owner_fd = -1;
/* The process the channel is for (a vfork() child shares our memory, not our channel). */
static pid_t owner_user;

/* ---------------------------------------------------------------------- */
/* Child side                                                             */

long uremote_call(struct uiommu_file *file, enum uremote_op op, uint64_t a, uint64_t b,
		  int64_t offset)
{
	struct remote_req req = {
		.op = op,
		.pid = (int32_t)getpid(),
		.file = (uintptr_t)file,
		.a = a,
		.b = b,
		.offset = offset,
	};
	struct remote_reply rep;
	ssize_t n;
	long rc = -EBADF;

	if (file && (file->dead || !file->remote))
		return -EBADF;
	pthread_mutex_lock(&owner_lock);
	if (owner_fd < 0 || owner_user != getpid())
		goto out;
	do
		n = send(owner_fd, &req, sizeof(req), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(req))
		goto gone;
	do
		n = recv(owner_fd, &rep, sizeof(rep), 0);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(rep))
		goto gone;
	rc = (long)rep.rc;
	goto out;
gone:
	/* The owner has exited: nothing will answer again. */
	close(owner_fd);
	owner_fd = -1;
out:
	pthread_mutex_unlock(&owner_lock);
	return rc;
}

void uremote_process_exit(void)
{
	pthread_mutex_lock(&owner_lock);
	if (owner_fd < 0 || owner_user != getpid()) {
		pthread_mutex_unlock(&owner_lock);
		return;
	}
	pthread_mutex_unlock(&owner_lock);
	/*
	 * Our files are closed as exit closes them, before a waitpid() can
	 * return: the owner drops them, then closes its end of the channel,
	 * and that end (no reply) is what the call waits for.
	 */
	(void)uremote_call(NULL, UREMOTE_EXIT, 0, 0, 0);
	pthread_mutex_lock(&owner_lock);
	if (owner_fd >= 0 && owner_user == getpid()) {
		close(owner_fd);
		owner_fd = -1;
	}
	pthread_mutex_unlock(&owner_lock);
}

/* The last reference of this process to a remote file is gone (util/file.c). */
static void remote_release(struct uiommu_file *file)
{
	(void)uremote_call(file, UREMOTE_RELEASE, 0, 0, 0);
}

/* ---------------------------------------------------------------------- */
/* Owner side                                                             */

/* The slot of @file among the files @c holds, or -1. */
static int conn_slot(const struct conn *c, uint64_t file)
{
	for (unsigned int i = 0; i < c->nfiles; i++)
		if (c->files[i] && (uintptr_t)c->files[i] == file)
			return (int)i;
	return -1;
}

/* Drop what @c holds and free it (not on any list). Call outside the gate. */
static void conn_free(struct conn *c, bool put)
{
	if (put) {
		fork_gate_enter();
		for (unsigned int i = 0; i < c->nfiles; i++)
			if (c->files[i])
				ufile_put(c->files[i]);
		fork_gate_exit();
	}
	if (c->fd >= 0)
		close(c->fd);
	ufree(c->files);
	ufree(c);
}

static int64_t serve(struct conn *c, const struct remote_req *req)
{
	int slot = conn_slot(c, req->file);
	struct uiommu_file *file;
	struct remote_mm mm;
	int64_t rc;

	if (req->op == UREMOTE_EXIT) {
		fork_gate_enter();
		for (unsigned int i = 0; i < c->nfiles; i++) {
			if (c->files[i])
				ufile_put(c->files[i]);
			c->files[i] = NULL;
		}
		fork_gate_exit();
		return 0;
	}
	if (slot < 0)
		return -EBADF;
	file = c->files[slot];
	if (req->op == UREMOTE_RELEASE) {
		c->files[slot] = NULL;
		fork_gate_enter();
		ufile_put(file);
		fork_gate_exit();
		return 0;
	}
	/* The caller waits for the answer, so it is alive now; this names it for later. */
	if (remote_mm_init(&mm, req->pid))
		return -ESRCH;
	fork_gate_enter();
	uaccess_use_mm(&mm);
	switch (req->op) {
	case UREMOTE_IOCTL:
		rc = ufile_op_ioctl(file, (unsigned long)req->a, (unsigned long)req->b);
		break;
	case UREMOTE_READ:
	case UREMOTE_WRITE:
	case UREMOTE_PREAD:
	case UREMOTE_PWRITE:
		rc = ufile_op_rw(file, (void *)(uintptr_t)req->a, (size_t)req->b, req->offset,
				 req->op == UREMOTE_PREAD || req->op == UREMOTE_PWRITE,
				 req->op == UREMOTE_WRITE || req->op == UREMOTE_PWRITE);
		break;
	case UREMOTE_POLL:
		rc = ufile_op_poll(file);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	uaccess_use_mm(NULL);
	fork_gate_exit();
	return rc;
}

/* One request on @c: false when the channel has ended (the child is gone). */
static bool conn_serve_one(struct conn *c)
{
	struct remote_req req;
	struct remote_reply rep;
	ssize_t n;

	do
		n = recv(c->fd, &req, sizeof(req), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n != sizeof(req))
		return false;
	if (req.op == UREMOTE_EXIT) {
		/*
		 * No reply: the caller reads the end of the channel instead, which
		 * comes when the server loop has closed this end. So when the child
		 * has exited, and a waitpid() for it returns, no descriptor of ours
		 * is left for it: the program sees the fds it would see in Linux.
		 */
		(void)serve(c, &req);
		return false;
	}
	rep.rc = serve(c, &req);
	do
		n = send(c->fd, &rep, sizeof(rep), MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == sizeof(rep);
}

static void *server_main(void *unused)
{
	struct pollfd *pfds = NULL;
	struct conn **which = NULL;
	unsigned int cap = 0;

	(void)unused;
	for (;;) {
		unsigned int n = 1;
		struct conn *c;

		pthread_mutex_lock(&conns_lock);
		for (c = conns; c; c = c->next)
			n++;
		if (n > cap) {
			struct pollfd *np = ucalloc(n * 2, sizeof(*np));
			struct conn **nw = ucalloc(n * 2, sizeof(*nw));

			if (!np || !nw) {
				/* Serve the first ones now; the rest wait for memory. */
				ufree(np);
				ufree(nw);
				n = cap;
			} else {
				ufree(pfds);
				ufree(which);
				pfds = np;
				which = nw;
				cap = n * 2;
			}
		}
		n = 0;
		if (cap) {
			pfds[n++] = (struct pollfd){.fd = wake_fd, .events = POLLIN};
			for (c = conns; c && n < cap; c = c->next) {
				which[n] = c;
				pfds[n++] = (struct pollfd){.fd = c->fd, .events = POLLIN};
			}
		}
		pthread_mutex_unlock(&conns_lock);
		if (!n) {
			/* Nothing could be allocated: try again in a moment. */
			usleep(1000);
			continue;
		}
		if (poll(pfds, n, -1) < 0)
			continue;
		if (pfds[0].revents) {
			uint64_t v;

			(void)!read(wake_fd, &v, sizeof(v));
		}
		for (unsigned int i = 1; i < n; i++) {
			if (!pfds[i].revents)
				continue;
			c = which[i];
			if (conn_serve_one(c))
				continue;
			/* The child has exited (every copy of its end is closed). */
			pthread_mutex_lock(&conns_lock);
			for (struct conn **pp = &conns; *pp; pp = &(*pp)->next) {
				if (*pp == c) {
					*pp = c->next;
					break;
				}
			}
			pthread_mutex_unlock(&conns_lock);
			conn_free(c, true);
		}
	}
	return NULL;
}

/* Start the server thread (parent handler). 0 or -errno. */
static int server_start(void)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (server_running)
		return 0;
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0)
		return -errno;
	/* The program's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, server_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(wake_fd);
		wake_fd = -1;
		return -rc;
	}
	server_running = true;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* fork()                                                                 */

static void remote_prepare(void)
{
	struct uiommu_file **files;
	unsigned int n = ufile_fork_prepare(&files);
	int sv[2];

	pending = NULL;
	pending_child_fd = -1;
	if (!n)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		goto drop;
	pending = uzalloc(sizeof(*pending));
	if (!pending) {
		close(sv[0]);
		close(sv[1]);
		goto drop;
	}
	pending->fd = sv[0];
	pending->files = files;
	pending->nfiles = n;
	pending_child_fd = sv[1];
	return;
drop:
	/* Installed files: these are never the last references. */
	for (unsigned int i = 0; i < n; i++)
		ufile_put(files[i]);
	ufree(files);
}

static void remote_parent(void)
{
	struct conn *c = pending;
	uint64_t one = 1;

	ufile_fork_parent();
	pending = NULL;
	if (!c)
		return;
	close(pending_child_fd);
	pending_child_fd = -1;
	if (server_start()) {
		/* The child's calls will find the channel closed: EBADF. */
		for (unsigned int i = 0; i < c->nfiles; i++)
			ufile_put(c->files[i]);
		conn_free(c, false);
		return;
	}
	pthread_mutex_lock(&conns_lock);
	c->next = conns;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	(void)!write(wake_fd, &one, sizeof(one));
}

static void remote_child(void)
{
	struct conn *c, *next;

	ufile_fork_child(pending != NULL);
	/* The owner's side of our parent's other children is not ours to serve. */
	for (c = conns; c; c = next) {
		next = c->next;
		conn_free(c, false);
	}
	conns = NULL;
	conns_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	if (wake_fd >= 0)
		close(wake_fd);
	wake_fd = -1;
	server_running = false;
	/* Our parent's own remote files are dead here, and so is its channel. */
	if (owner_fd >= 0)
		close(owner_fd);
	owner_fd = -1;
	owner_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	if (pending) {
		conn_free(pending, false);
		pending = NULL;
		owner_fd = pending_child_fd;
		owner_user = getpid();
		pending_child_fd = -1;
	}
}

static const struct fork_gate_hooks remote_hooks = {
	.prepare = remote_prepare,
	.parent = remote_parent,
	.child = remote_child,
};

__attribute__((constructor)) static void remote_init(void)
{
	fork_gate_set_hooks(&remote_hooks);
	ufile_set_remote_release(remote_release);
}
