// SPDX-License-Identifier: MIT
/*
 * uiommu_remote.c - emulated files shared across fork(): a forked child's
 * calls on an inherited file run in the process that owns the file's state.
 *
 * In Linux an fd inherited over fork() refers to the same open file, so a
 * child's ioctl acts on its parent's iommufd context. Here the context is
 * memory of the process that opened it, and the child has only a copy. So
 * the child forwards: its inherited files are "remote" (util/file.h), and
 * every ioctl, read, write, pread, pwrite, poll, fcntl(F_GETFL/F_SETFL)
 * and mmap on one travels to the owner, which runs it and sends back the
 * result.
 *
 * The channel. fork() makes one SOCK_SEQPACKET socketpair per child, in
 * the prepare handler (util/forkgate.h hooks: the gate is closed, no thread
 * is inside the library), and only when this process has files of its own
 * installed. The owner keeps one end (a "conn"), registered with its server
 * thread; the child keeps the other (a "chan"). A request carries the file
 * (its address in the owner), the operation, its arguments and the
 * caller's PID; the reply carries the result or -errno. Requests on one
 * chan are sent one at a time (chan->lock).
 *
 * While it serves a request the owner may ask the caller to do what only
 * the caller can do in its own process, and waits for the answer:
 *   - INSTALL: an ioctl that makes a new file (a fault queue, a vEVENTQ,
 *     the selftest's access, a VFIO device fd, a dma-buf) makes it here as
 *     a "served" file (util/file.h) and passes its backing fd over the
 *     channel (SCM_RIGHTS): the caller's kernel gives it the caller's
 *     lowest free number, as Linux's get_unused_fd_flags() would, the
 *     caller installs a remote file there bound to the new file's address,
 *     and the number is what the ioctl writes back. The conn holds the
 *     file's reference; CLOSE takes the number back when the ioctl fails
 *     after making it;
 *   - MAP / UNMAP: an mmap op maps the memfd behind the region (a BAR, the
 *     DMA fault ring, a vIOMMU page): the fd travels to the caller, which
 *     maps it and registers the mapping (its own munmap tracking) before
 *     answering, so both processes (and emulated DMA) see the same pages.
 *     The conn keeps what the mapping holds (the op's ufile_vma_add())
 *     until the caller has unmapped every page (UREMOTE_VMA_CLOSE) or is
 *     gone;
 *   - AGENT: a mapping whose pages the owner swaps later from any thread
 *     (an sPAPR BAR under EEH, util/file.h ufile_rvma_get()) needs a
 *     thread of the caller's that answers at any time: the first one
 *     starts an agent thread in the caller on a second socketpair, and
 *     every swap after is a MSG_SWAP to it (the agent lock serialises the
 *     owner's threads), done with ufile_vma_swap() on the caller's own
 *     registration.
 *
 * The server thread starts with the first such fork (in prepare), so a
 * program that never forks with emulated files open never has it. It
 * waits in poll() inside the fork gate (poll looks its descriptors up
 * again at every wake-up, so a number must not change under it), and a
 * closing gate kicks it out (server_kick(), through its wake-up eventfd).
 *
 * Every descriptor here is the library's own (util/intfd.h): registered
 * as it is made, kept by name, resolved at each use (send_with_fd() and
 * recv_with_fd() take names), so the program's close_range() passes them
 * by and a dup2() onto one moves it. The agent thread waits outside the
 * gate (below), in the registry's users' gate instead (util/intfd.h
 * intfd_user_enter()), which a move closes too.
 *
 * daemon()'s child (uremote_take_over()) keeps the channels, conns and
 * agents of its parent, which exits at once without telling the owners,
 * and starts the server and agent threads again.
 *
 * fork() fails as fork(2) does when the child's share cannot be made:
 * prepare (run by uiommu_fork() before libc's fork(), util/forkgate.h)
 * makes everything the child will need (the held files, the channel, the
 * server thread, each owner's channel for a grandchild) and, when
 * something cannot be had, undoes the rest and says ENOMEM (memory) or
 * EAGAIN (a descriptor or thread); the child's adoption allocates nothing.
 * A grandchild's files are named to the owner FORK_CHUNK to a message
 * (UREMOTE_FORK_FILES), so their number has no bound but RLIMIT_NOFILE. It
 * poll()s every child's end and an eventfd that announces new ones, and
 * serves one request at a time, inside the fork gate, with user memory
 * redirected to the caller (util/uaccess.h uaccess_use_mm(), the kernel's
 * "current->mm"). Memory the child maps into an IOAS is recorded as the
 * child's and reached when first pinned (lib/iommufd/pages.c,
 * util/remote_mm.h): a shared mapping is aliased, private memory and a
 * child that has exited give EFAULT.
 *
 * Grandchildren. A process with remote files that forks asks each owner
 * (UREMOTE_FORK, from the prepare handler) for a channel of the new child's
 * own, naming the files the child inherits; the owner makes a conn holding
 * a reference on each and passes the other end back, which only the new
 * child keeps. So a grandchild talks to the owner directly (its calls act
 * on the owner's context, its memory is reached by its own PID), and its
 * parent may exit without taking the files with it.
 *
 * Lifetimes, as in Linux where every process's fd holds the open file:
 *   - a conn holds a reference on each file it was made with (or that was
 *     installed through it), so the owner closing all its numbers leaves
 *     the context alive for the child;
 *   - the child's last reference to a file (its last number closed, or the
 *     child exiting) is reported with UREMOTE_RELEASE, and the end of the
 *     channel (the child exited) drops whatever it still holds; only then
 *     can the owner's release run;
 *   - a child that exits through exit() or _exit() (uiommu_process_exit())
 *     says so (UREMOTE_EXIT) on each channel and waits for the owner to
 *     drop what the channel holds and close its end, so that, as in Linux,
 *     a waitpid() that returns finds the child's references gone and no
 *     descriptor left open for it; a child killed by a signal has them
 *     dropped a moment later, when the server sees the channel end;
 *   - an owner that exits leaves its children's inherited files dead: every
 *     call fails with EBADF, poll reports POLLERR | POLLHUP, close works.
 *
 * An fd number given as an ioctl argument (the selftest's access, a
 * vEVENTQ or dma-buf, BIND_IOMMUFD's iommufd, SET_CONTAINER's container) is
 * the caller's: the owner's ufile_lookup() asks the caller (LOOKUP) which
 * of the owner's files it names, and a real file's descriptor
 * (IOAS_MAP_FILE's memfd, util/file.h ufile_real_fd()) comes over the
 * channel (GETFD).
 *
 * What is not shared: a file the child opens itself is its own (its own
 * server serves it to the child's children), and its number given to the
 * owner in an ioctl is not one of the owner's files there; a mapping the
 * child inherited is its own pages (an sPAPR BAR's does not follow later
 * EEH freezes there); per-task fail-nth settings of the child do not
 * apply to calls served for it.
 *
 * Locks: conns_lock guards the owner's list of conns (the server thread
 * adds and removes, the parent handler adds); a conn's files and mappings
 * are the server thread's alone. agent->lock serialises the owner's swaps
 * on one agent channel (taken under the sPAPR PE's watch lock; the agent
 * takes the caller's mapping lock). chan->lock serialises a chan's requests;
 * the list of chans changes only in the child handler. None is held while
 * an operation of the owner runs in another thread. Everything of the
 * owner's side is reset in the child handler, which also closes the
 * channel ends it inherited and are not its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "uiommu_private.h"
#include "util/alloc.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/intfd.h"
#include "util/remote_mm.h"
#include "util/uaccess.h"

/*
 * Files named in one UREMOTE_FORK_FILES message. A child hands on as many
 * as it has (its RLIMIT_NOFILE is the bound), in as many messages as it
 * takes; the owner gathers them in the conn until UREMOTE_FORK.
 */
#define FORK_CHUNK 512

/* Caller to owner. */
struct remote_req {
	uint32_t op;
	int32_t pid;
	uint64_t file; /* the file's address in the owner */
	uint64_t a, b, c, d;
	int64_t offset;
	uint32_t nfiles; /* UREMOTE_FORK_FILES: addresses that follow (at most FORK_CHUNK) */
	uint32_t pad;
};

/* Owner to caller: the reply, or a request of the owner's (answered with UREMOTE_ANSWER). */
enum msg_kind {
	MSG_REPLY = 1,
	MSG_INSTALL, /* + fd; a: file, b: its ops, c: f_flags, d: backing. Answer: number */
	MSG_CLOSE,   /* a: number, b: file */
	MSG_MAP,     /* + fd; a: addr, b: length, c: prot, d: flags, e: offset. Answer: address */
	MSG_UNMAP,   /* a: addr, b: length */
	MSG_LOOKUP,  /* a: number. Answer: the file's address in the owner */
	MSG_GETFD,   /* a: number. Answer: 0 + that fd (a real file), or -EBADF */
	MSG_AGENT,   /* + fd: the agent's end. Answer: 0 once the agent thread runs */
	MSG_SWAP,    /* agent; (+ fd); a: addr, b: ones, c: prot, e: fd offset. Answer: 0 or -errno */
};

struct remote_msg {
	uint32_t kind;
	uint32_t pad;
	int64_t rc;
	uint64_t a, b, c, d, e;
};

/* A mapping made in a caller: what it holds, until the caller unmaps it all. */
struct conn_vma {
	struct conn_vma *next;
	uint64_t start;
	void (*close)(void *priv);
	void *priv;
};

/*
 * The owner's end of a child's agent channel (a second socketpair, made at
 * the first mapping the owner must swap later): any thread of the owner
 * sends MSG_SWAP on it, under @lock, and the child's agent thread answers.
 * Held by the conn and by each ufile_rvma.
 */
struct agent {
	pthread_mutex_t lock;
	int fd;
	atomic_uint refs;
};

struct ufile_rvma {
	struct agent *ag;
	uint64_t addr;
};

/* The owner's end of one child's channel, and the files it holds for the child. */
struct conn {
	struct conn *next;
	int fd;
	unsigned int nfiles;
	struct uiommu_file **files;
	struct conn_vma *vmas;
	/* UREMOTE_FORK_FILES so far: the files the next UREMOTE_FORK hands on. */
	uint64_t *fork_addrs;
	unsigned int fork_n, fork_cap;
	struct agent *agent; /* or NULL: none needed yet */
};

/* The caller's end of a channel to the owner of some of our remote files. */
struct chan {
	struct chan *next;
	pthread_mutex_t lock;
	int fd;
	/* The process the channel is for (a vfork() child shares our memory, not our channel). */
	pid_t user;
	/* Between prepare and parent/child: the end the owner made for the child being made. */
	int handoff;
	/* Our agent thread's end of the owner's agent channel, or -1 (it never closes it). */
	int agent_fd;
};

/* Owner side. */
static pthread_mutex_t conns_lock = PTHREAD_MUTEX_INITIALIZER;
static struct conn *conns;
static int wake_fd = -1;
static bool server_running;
/* The conn whose request this thread is serving (the server thread only). */
static _Thread_local struct conn *serving;
/* Between prepare and parent/child: the channel of the child being made. */
static struct conn *pending;
static struct chan *pending_chan;
static int pending_child_fd = -1;

/* Caller side: every channel this process has had (they are few, and never freed). */
static struct chan *chans;

/* ---------------------------------------------------------------------- */
/* Messages with a descriptor                                             */

/* @sock is a name (util/intfd.h); @fd a number. */
static ssize_t send_with_fd(int sock, const void *buf, size_t len, int fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.space;
		mh.msg_controllen = sizeof(ctl.space);
		ctl.h.cmsg_level = SOL_SOCKET;
		ctl.h.cmsg_type = SCM_RIGHTS;
		ctl.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&ctl.h), &fd, sizeof(int));
	}
	do
		n = sendmsg(intfd_fd(sock), &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

/* A message and the descriptor it carries (*fd, close-on-exec; -1 if none). */
static ssize_t recv_with_fd(int sock, void *buf, size_t len, int flags, int *fd)
{
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.space,
		.msg_controllen = sizeof(ctl.space),
	};
	struct cmsghdr *h;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(intfd_fd(sock), &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return n;
	for (h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h))
		if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
		    h->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(h), sizeof(int));
	if (*fd >= 0 && (mh.msg_flags & MSG_TRUNC)) {
		close(*fd);
		*fd = -1;
	}
	return (mh.msg_flags & MSG_TRUNC) ? (ssize_t)len + 1 : n;
}

/* ---------------------------------------------------------------------- */
/* Caller side                                                            */

static void chan_vma_close(void *priv);

/* What a mapping the owner made in this process holds there. */
struct chan_vma {
	struct chan *ch;
	uint64_t start;
};

/*
 * The agents' wake-up eventfd (a name; -1 until the first agent): the
 * registry's user kick (util/intfd.h intfd_set_user_kick()) makes it
 * readable while a descriptor moves, so that every agent leaves its poll()
 * and the users' gate, and drains it before they enter again.
 */
static atomic_int agent_wake = -1;

static void agent_kick(bool start)
{
	int wake = atomic_load(&agent_wake);
	uint64_t v = 1;

	if (wake < 0)
		return;
	if (start)
		(void)!write(intfd_fd(wake), &v, sizeof(v));
	else
		(void)!read(intfd_fd(wake), &v, sizeof(v));
}

/*
 * The agent's next message on @sock (recv_with_fd()'s result, *fd the
 * descriptor it carries). Its numbers are resolved and used only inside
 * the registry's users' gate, which a move closes after kicking the poll.
 */
static ssize_t agent_recv(int sock, struct remote_msg *m, int *fd)
{
	for (;;) {
		struct pollfd p[2];
		ssize_t n = -1;
		int err = EAGAIN;

		*fd = -1;
		intfd_user_enter();
		p[0] = (struct pollfd){.fd = intfd_fd(sock), .events = POLLIN};
		p[1] = (struct pollfd){.fd = intfd_fd(atomic_load(&agent_wake)), .events = POLLIN};
		if (poll(p, 2, -1) > 0 && p[0].revents) {
			n = recv_with_fd(sock, m, sizeof(*m), MSG_DONTWAIT, fd);
			err = n < 0 ? errno : 0;
		}
		intfd_user_exit();
		if (n >= 0 || (err != EAGAIN && err != EINTR))
			return n;
		/* Kicked (a move), or nothing yet: enter again, after the move. */
	}
}

/*
 * The agent thread: swaps the pages of mappings the owner made here
 * (MSG_SWAP, ufile_vma_swap()) when the owner asks, from whichever of its
 * threads changes their state (an EEH freeze), while our threads do what
 * they do. It ends with the owner.
 *
 * It waits outside the fork gate: the owner may ask it while serving a
 * call of ours that waits inside (our fork's hand-on, our own DMA that
 * freezes the PE), and a closing gate would keep it out. Its socket and
 * wake-up numbers are resolved and used inside the registry's users' gate
 * instead (agent_recv()), so a dup2() of the program's onto one of them,
 * which moves ours (intfd_move(), with the fork gate closed), never finds
 * the agent holding the old number.
 */
static void *agent_main(void *arg)
{
	int sock = (int)(intptr_t)arg;
	struct remote_req ans = {.op = UREMOTE_ANSWER};
	struct remote_msg m;
	ssize_t n;
	int fd;

	for (;;) {
		if (agent_recv(sock, &m, &fd) != sizeof(m)) {
			if (fd >= 0)
				close(fd);
			break;
		}
		ans.a = (uint64_t)(int64_t)-EPROTO;
		/*
		 * The file to map is ours while the swap lasts (util/intfd.h): this
		 * thread is no call of the program's, which may take any number it
		 * does not hold (lib/util/intfd.c). The swap runs inside the users'
		 * gate, so that the number stays until it is closed.
		 */
		intfd_user_enter();
		if (fd >= 0 && intfd_add(&fd)) {
			close(fd);
			fd = -1;
			ans.a = (uint64_t)(int64_t)-ENOMEM;
		} else if (m.kind == MSG_SWAP) {
			/* A fork meanwhile: the child's copy forgets every registration. */
			ans.a = (uint64_t)(int64_t)ufile_vma_swap((void *)(uintptr_t)m.a, m.b != 0,
								  (int)m.c, intfd_fd(fd), m.e);
		}
		intfd_close(&fd);
		ans.pid = (int32_t)getpid();
		n = send_with_fd(sock, &ans, sizeof(ans), -1);
		intfd_user_exit();
		if (n != sizeof(ans))
			break;
	}
	return NULL;
}

/* The agents' wake-up eventfd, made with the first agent. 0 or -errno. */
static int agent_wake_make(void)
{
	int fd, rc;

	if (atomic_load(&agent_wake) >= 0)
		return 0;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	rc = intfd_add(&fd);
	if (rc) {
		close(fd);
		return rc;
	}
	atomic_store(&agent_wake, fd);
	return 0;
}

/* MSG_AGENT: run the agent thread on @fd (ours to keep). 0 or -errno. */
static int agent_start(struct chan *ch, int fd)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	if (ch->agent_fd >= 0) {
		close(fd);
		return -EBUSY;
	}
	rc = agent_wake_make();
	if (!rc)
		rc = intfd_add(&fd);
	if (rc) {
		close(fd);
		return rc;
	}
	/* The thread, as the kernel's work: injection reaches it as an allocation. */
	if (ualloc_should_fail()) {
		intfd_close(&fd);
		return -ENOMEM;
	}
	/* The program's signals are for its own threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, agent_main, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		intfd_close(&fd);
		return -rc;
	}
	(void)pthread_setname_np(tid, "uiommu-agent");
	ch->agent_fd = fd;
	return 0;
}

/*
 * The owner's request @m (with @fd, ours to keep or close), made of us on
 * @ch; a descriptor to send with the answer goes to *pass.
 */
static int64_t answer(struct chan *ch, const struct remote_msg *m, int fd, int *pass)
{
	size_t psz = (size_t)sysconf(_SC_PAGESIZE);
	struct uiommu_file *file;
	struct chan_vma *v;
	int64_t rc;
	int err = 0;
	void *p;

	switch (m->kind) {
	case MSG_INSTALL:
		if (fd < 0)
			return -EBADF;
		/* The kernel gave us the lowest free number; close-on-exec is the file's to say. */
		if (!((int)m->c & O_CLOEXEC))
			(void)fcntl(fd, F_SETFD, 0);
		/* The owner is this process's ancestor: the ops are at the same address here. */
		file = ufile_install_remote((const struct ufile_ops *)(uintptr_t)m->b, (int)m->c,
					    (enum ufile_backing)m->d, fd, m->a, ch, &err);
		if (!file) {
			close(fd);
			return err;
		}
		return fd;
	case MSG_CLOSE:
		return ufile_drop_remote((int)m->a, m->b);
	case MSG_MAP:
		if (fd < 0)
			return -EBADF;
		v = uzalloc(sizeof(*v));
		if (!v) {
			close(fd);
			return -ENOMEM;
		}
		p = mmap((void *)(uintptr_t)m->a, (size_t)m->b, (int)m->c, (int)m->d, fd,
			 (off_t)m->e);
		rc = p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
		close(fd);
		if (rc < 0) {
			ufree(v);
			return rc;
		}
		/*
		 * Registered now, before the owner answers the call: its
		 * unmapping tells the owner (chan_vma_close()), and the owner may
		 * swap its pages (MSG_SWAP) from the moment it exists.
		 */
		v->ch = ch;
		v->start = (uintptr_t)p;
		err = ufile_vma_add(p, ((size_t)m->b + psz - 1) & ~(psz - 1), chan_vma_close, v);
		if (err) {
			munmap(p, (size_t)m->b);
			ufree(v);
			return err;
		}
		return rc;
	case MSG_UNMAP:
		/* The owner's call failed after mapping: the owner keeps nothing for it. */
		ufree(ufile_vma_del((void *)(uintptr_t)m->a));
		return munmap((void *)(uintptr_t)m->a, (size_t)m->b) ? -errno : 0;
	case MSG_AGENT:
		if (fd < 0)
			return -EBADF;
		return agent_start(ch, fd);
	case MSG_GETFD:
		if (fcntl((int)m->a, F_GETFD) < 0)
			return -EBADF;
		*pass = (int)m->a;
		return 0;
	case MSG_LOOKUP:
		/* Only a file of the owner's means anything there. */
		file = ufile_lookup((int)m->a);
		rc = file && file->remote && file->chan == ch ? (int64_t)file->remote_addr : -EBADF;
		if (file)
			ufile_put(file);
		return rc;
	default:
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
}

/*
 * Send @req (@len bytes) on @ch, answer what the owner asks meanwhile, and
 * return the reply; a descriptor coming with the reply goes to *pass (or is
 * closed). -EBADF when the owner cannot be reached.
 */
static long chan_call(struct chan *ch, const struct remote_req *req, size_t len, int *pass)
{
	struct remote_req ans = {.op = UREMOTE_ANSWER, .pid = req->pid};
	struct remote_msg m;
	long rc = -EBADF;
	int fd, pass_fd;
	ssize_t n;

	if (pass)
		*pass = -1;
	pthread_mutex_lock(&ch->lock);
	if (ch->fd < 0 || ch->user != getpid())
		goto out;
	if (send_with_fd(ch->fd, req, len, -1) != (ssize_t)len)
		goto gone;
	for (;;) {
		n = recv_with_fd(ch->fd, &m, sizeof(m), 0, &fd);
		if (n != sizeof(m)) {
			if (fd >= 0)
				close(fd);
			goto gone;
		}
		if (m.kind == MSG_REPLY)
			break;
		pass_fd = -1;
		ans.a = (uint64_t)answer(ch, &m, fd, &pass_fd);
		if (send_with_fd(ch->fd, &ans, sizeof(ans), pass_fd) != sizeof(ans))
			goto gone;
	}
	rc = (long)m.rc;
	if (pass)
		*pass = fd;
	else if (fd >= 0)
		close(fd);
	goto out;
gone:
	/* The owner has exited: nothing will answer again. */
	intfd_close(&ch->fd);
out:
	pthread_mutex_unlock(&ch->lock);
	return rc;
}

long uremote_call(struct uiommu_file *file, enum uremote_op op, uint64_t a, uint64_t b,
		  int64_t offset)
{
	struct remote_req req = {
		.op = op,
		.pid = (int32_t)getpid(),
		.a = a,
		.b = b,
		.offset = offset,
	};

	if (!file || file->dead || !file->remote || !file->chan)
		return -EBADF;
	req.file = file->remote_addr;
	return chan_call(file->chan, &req, sizeof(req), NULL);
}

/* Every page of the mapping is unmapped: the owner drops what it holds for it. */
static void chan_vma_close(void *priv)
{
	struct chan_vma *v = priv;
	struct remote_req req = {
		.op = UREMOTE_VMA_CLOSE,
		.pid = (int32_t)getpid(),
		.a = v->start,
	};

	(void)chan_call(v->ch, &req, sizeof(req), NULL);
	ufree(v);
}

int uremote_mmap(struct uiommu_file *file, void *addr, size_t length, int prot, int flags,
		 int64_t offset, void **out)
{
	struct remote_req req = {
		.op = UREMOTE_MMAP,
		.pid = (int32_t)getpid(),
		.a = (uintptr_t)addr,
		.b = length,
		.c = (uint64_t)(unsigned int)prot,
		.d = (uint64_t)(unsigned int)flags,
		.offset = offset,
	};
	long rc;

	if (file->dead || !file->remote || !file->chan)
		return -EBADF;
	req.file = file->remote_addr;
	/* The mapping is registered as the owner made it (answer(), MSG_MAP). */
	rc = chan_call(file->chan, &req, sizeof(req), NULL);
	if (rc < 0)
		return (int)rc;
	*out = (void *)(uintptr_t)rc;
	return 0;
}

void uremote_process_exit(void)
{
	struct remote_req req = {.op = UREMOTE_EXIT, .pid = (int32_t)getpid()};

	/*
	 * Our files are closed as exit closes them, before a waitpid() can
	 * return: each owner drops them, then closes its end of the channel,
	 * and that end (no reply) is what the call waits for.
	 */
	for (struct chan *ch = chans; ch; ch = ch->next)
		(void)chan_call(ch, &req, sizeof(req), NULL);
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

/* @c holds @file (the reference is the caller's to give). 0 or -ENOMEM. */
static int conn_add_file(struct conn *c, struct uiommu_file *file)
{
	struct uiommu_file **n;

	for (unsigned int i = 0; i < c->nfiles; i++) {
		if (!c->files[i]) {
			c->files[i] = file;
			return 0;
		}
	}
	n = ucalloc(c->nfiles * 2 + 4, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (c->nfiles)
		memcpy(n, c->files, c->nfiles * sizeof(*n));
	ufree(c->files);
	c->files = n;
	c->files[c->nfiles] = file;
	c->nfiles = c->nfiles * 2 + 4;
	return 0;
}

static void agent_put(struct agent *ag)
{
	if (atomic_fetch_sub_explicit(&ag->refs, 1, memory_order_acq_rel) != 1)
		return;
	intfd_close(&ag->fd);
	pthread_mutex_destroy(&ag->lock);
	ufree(ag);
}

/* Drop what @c holds for its child (files, mappings). Call outside the gate. */
static void conn_drop(struct conn *c)
{
	struct conn_vma *v;

	fork_gate_enter();
	while ((v = c->vmas)) {
		c->vmas = v->next;
		if (v->close)
			v->close(v->priv);
		ufree(v);
	}
	for (unsigned int i = 0; i < c->nfiles; i++) {
		if (c->files[i])
			ufile_put(c->files[i]);
		c->files[i] = NULL;
	}
	fork_gate_exit();
}

/* Free @c (not on any list), dropping what it holds when @put. Call outside the gate. */
static void conn_free(struct conn *c, bool put)
{
	struct conn_vma *v;

	if (put)
		conn_drop(c);
	while ((v = c->vmas)) {
		c->vmas = v->next;
		ufree(v);
	}
	intfd_close(&c->fd);
	if (c->agent)
		agent_put(c->agent);
	ufree(c->fork_addrs);
	ufree(c->files);
	ufree(c);
}

/*
 * Ask the caller of the request being served (@m, with @fd) and wait for
 * its answer; a descriptor coming with it goes to *got (or is closed).
 */
static int64_t owner_ask_fd(struct remote_msg *m, int fd, int *got)
{
	struct conn *c = serving;
	struct remote_req ans;
	ssize_t n;
	int in;

	if (got)
		*got = -1;
	if (!c)
		return -EOPNOTSUPP;
	if (send_with_fd(c->fd, m, sizeof(*m), fd) != sizeof(*m))
		return -ESRCH;
	n = recv_with_fd(c->fd, &ans, sizeof(ans), 0, &in);
	if (n != sizeof(ans) || ans.op != UREMOTE_ANSWER) {
		if (in >= 0)
			close(in);
		return n != sizeof(ans) ? -ESRCH : -EPROTO;
	}
	if (got)
		*got = in;
	else if (in >= 0)
		close(in);
	return (int64_t)ans.a;
}

static int64_t owner_ask(struct remote_msg *m, int fd)
{
	return owner_ask_fd(m, fd, NULL);
}

static int hook_install(struct uiommu_file *file, int backing_fd)
{
	struct remote_msg m = {
		.kind = MSG_INSTALL,
		.a = (uintptr_t)file,
		.b = (uintptr_t)file->ops,
		.c = (uint64_t)(unsigned int)file->f_flags,
		.d = file->backing,
	};
	struct conn *c = serving;
	int64_t rc;
	int slot;

	if (!c)
		return -EOPNOTSUPP;
	rc = conn_add_file(c, file);
	if (rc)
		return (int)rc;
	slot = conn_slot(c, (uintptr_t)file);
	rc = owner_ask(&m, intfd_fd(backing_fd));
	if (rc < 0) {
		c->files[slot] = NULL;
		return (int)rc;
	}
	return (int)rc;
}

static int hook_uninstall(struct uiommu_file *file)
{
	struct remote_msg m = {.kind = MSG_CLOSE, .a = (uint64_t)file->fd, .b = (uintptr_t)file};
	struct conn *c = serving;
	int slot = c ? conn_slot(c, (uintptr_t)file) : -1;

	/* Only the ioctl that made the file takes it back (its error path). */
	if (slot < 0)
		return -EBADF;
	c->files[slot] = NULL;
	(void)owner_ask(&m, -1);
	return 0;
}

static int hook_map(void *addr, size_t len, int prot, int flags, int fd, int64_t off, void **out)
{
	struct remote_msg m = {
		.kind = MSG_MAP,
		.a = (uintptr_t)addr,
		.b = len,
		.c = (uint64_t)(unsigned int)prot,
		.d = (uint64_t)(unsigned int)flags,
		.e = (uint64_t)off,
	};
	int64_t rc = owner_ask(&m, fd);

	if (rc < 0)
		return (int)rc;
	*out = (void *)(uintptr_t)rc;
	return 0;
}

static void hook_unmap(void *addr, size_t len)
{
	struct remote_msg m = {.kind = MSG_UNMAP, .a = (uintptr_t)addr, .b = len};

	(void)owner_ask(&m, -1);
}

static int hook_vma_add(void *addr, size_t len, void (*close)(void *priv), void *priv)
{
	struct conn *c = serving;
	struct conn_vma *v;

	(void)len;
	if (!c)
		return -ENODEV;
	v = uzalloc(sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->start = (uintptr_t)addr;
	v->close = close;
	v->priv = priv;
	v->next = c->vmas;
	c->vmas = v;
	return 0;
}

static struct uiommu_file *hook_lookup(int fd)
{
	struct remote_msg m = {.kind = MSG_LOOKUP, .a = (uint64_t)fd};
	struct conn *c = serving;
	struct uiommu_file *file;
	int64_t addr;
	int slot;

	if (!c)
		return NULL;
	addr = owner_ask(&m, -1);
	slot = addr < 0 ? -1 : conn_slot(c, (uint64_t)addr);
	if (slot < 0)
		return NULL;
	file = c->files[slot];
	ufile_get(file);
	return file;
}

static int hook_fetch_fd(int fd)
{
	struct remote_msg m = {.kind = MSG_GETFD, .a = (uint64_t)fd};
	int64_t rc;
	int got;

	rc = owner_ask_fd(&m, -1, &got);
	if (rc < 0 || got < 0) {
		if (got >= 0)
			close(got);
		return rc < 0 ? (int)rc : -EBADF;
	}
	return got;
}

/* ufile_rvma_get(): the caller's agent (started at the first), and a handle on @addr there. */
static struct ufile_rvma *hook_rvma_get(void *addr, int *err)
{
	struct remote_msg m = {.kind = MSG_AGENT};
	struct conn *c = serving;
	struct ufile_rvma *rv;
	struct agent *ag;
	int64_t rc;
	int sv[2];

	if (!c) {
		*err = -ENODEV;
		return NULL;
	}
	rv = uzalloc(sizeof(*rv));
	if (!rv) {
		*err = -ENOMEM;
		return NULL;
	}
	if (!c->agent) {
		ag = uzalloc(sizeof(*ag));
		if (!ag) {
			*err = -ENOMEM;
			goto free;
		}
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
			*err = -errno;
			ufree(ag);
			goto free;
		}
		/* Ours before the caller's agent starts on the other end. */
		rc = intfd_add(&sv[0]);
		if (rc) {
			close(sv[0]);
			close(sv[1]);
			*err = (int)rc;
			ufree(ag);
			goto free;
		}
		/*
		 * The caller's end, until the caller has it: ours (util/intfd.h),
		 * since we wait for the caller with it open, in the server thread,
		 * while no call of our program's is under way (lib/util/intfd.c).
		 */
		rc = intfd_add(&sv[1]);
		if (rc) {
			intfd_close(&sv[0]);
			close(sv[1]);
			*err = (int)rc;
			ufree(ag);
			goto free;
		}
		rc = owner_ask(&m, intfd_fd(sv[1]));
		intfd_close(&sv[1]);
		if (rc < 0) {
			*err = (int)rc;
			intfd_close(&sv[0]);
			ufree(ag);
			goto free;
		}
		pthread_mutex_init(&ag->lock, NULL);
		ag->fd = sv[0];
		atomic_init(&ag->refs, 1);
		c->agent = ag;
	}
	rv->ag = c->agent;
	atomic_fetch_add_explicit(&rv->ag->refs, 1, memory_order_relaxed);
	rv->addr = (uintptr_t)addr;
	return rv;
free:
	ufree(rv);
	return NULL;
}

/* ufile_rvma_swap(): ask the caller's agent, from any thread. */
static int hook_rvma_swap(struct ufile_rvma *rv, bool ones, int prot, int fd, uint64_t fd_off)
{
	struct remote_msg m = {
		.kind = MSG_SWAP,
		.a = rv->addr,
		.b = ones,
		.c = (uint64_t)(unsigned int)prot,
		.e = fd_off,
	};
	struct agent *ag = rv->ag;
	struct remote_req ans;
	int rc = -ESRCH, in;

	pthread_mutex_lock(&ag->lock);
	if (ag->fd >= 0 && send_with_fd(ag->fd, &m, sizeof(m), ones ? -1 : fd) == sizeof(m) &&
	    recv_with_fd(ag->fd, &ans, sizeof(ans), 0, &in) == sizeof(ans)) {
		if (in >= 0)
			close(in);
		rc = ans.op == UREMOTE_ANSWER ? (int)(int64_t)ans.a : -EPROTO;
	}
	pthread_mutex_unlock(&ag->lock);
	return rc;
}

static void hook_rvma_put(struct ufile_rvma *rv)
{
	agent_put(rv->ag);
	ufree(rv);
}

/* UREMOTE_FORK_FILES: @n more files (held by @c) for the next UREMOTE_FORK. */
static int64_t serve_fork_files(struct conn *c, const uint64_t *addrs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (conn_slot(c, addrs[i]) < 0)
			goto bad;
	if (c->fork_cap - c->fork_n < n) {
		unsigned int cap = c->fork_cap ? c->fork_cap : FORK_CHUNK;
		uint64_t *na;

		while (cap - c->fork_n < n)
			cap *= 2;
		na = ucalloc(cap, sizeof(*na));
		if (!na) {
			c->fork_n = 0;
			return -ENOMEM;
		}
		if (c->fork_n)
			memcpy(na, c->fork_addrs, c->fork_n * sizeof(*na));
		ufree(c->fork_addrs);
		c->fork_addrs = na;
		c->fork_cap = cap;
	}
	memcpy(c->fork_addrs + c->fork_n, addrs, n * sizeof(*addrs));
	c->fork_n += n;
	return 0;
bad:
	c->fork_n = 0;
	return -EBADF;
}

/* UREMOTE_FORK: a conn for the caller's child, holding the files named before; its other end in *pass. */
static int64_t serve_fork(struct conn *c, int *pass)
{
	const uint64_t *addrs = c->fork_addrs;
	unsigned int n = c->fork_n;
	uint64_t one = 1;
	struct conn *nc;
	int sv[2], e;

	/* Whatever happens, the next fork names its files again. */
	c->fork_n = 0;
	for (unsigned int i = 0; i < n; i++)
		if (conn_slot(c, addrs[i]) < 0)
			return -EBADF;
	nc = uzalloc(sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	nc->files = ucalloc(n ? n : 1, sizeof(*nc->files));
	if (!nc->files) {
		ufree(nc);
		return -ENOMEM;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		e = -errno;
		ufree(nc->files);
		ufree(nc);
		return e;
	}
	e = intfd_add(&sv[0]);
	if (e) {
		close(sv[0]);
		close(sv[1]);
		ufree(nc->files);
		ufree(nc);
		return e;
	}
	nc->fd = sv[0];
	nc->nfiles = n;
	fork_gate_enter();
	for (unsigned int i = 0; i < n; i++) {
		nc->files[i] = c->files[conn_slot(c, addrs[i])];
		ufile_get(nc->files[i]);
	}
	fork_gate_exit();
	pthread_mutex_lock(&conns_lock);
	nc->next = conns;
	conns = nc;
	pthread_mutex_unlock(&conns_lock);
	(void)!write(intfd_fd(wake_fd), &one, sizeof(one));
	*pass = sv[1];
	return 0;
}

static int64_t serve(struct conn *c, const struct remote_req *req, const uint64_t *addrs, int *pass)
{
	int slot = conn_slot(c, req->file);
	struct uiommu_file *file;
	struct remote_mm mm;
	void *out = NULL;
	int64_t rc;

	switch (req->op) {
	case UREMOTE_EXIT:
		conn_drop(c);
		return 0;
	case UREMOTE_FORK_FILES:
		return serve_fork_files(c, addrs, req->nfiles);
	case UREMOTE_FORK:
		return serve_fork(c, pass);
	case UREMOTE_VMA_CLOSE:
		for (struct conn_vma **pp = &c->vmas; *pp; pp = &(*pp)->next) {
			struct conn_vma *v = *pp;

			if (v->start != req->a)
				continue;
			*pp = v->next;
			fork_gate_enter();
			if (v->close)
				v->close(v->priv);
			fork_gate_exit();
			ufree(v);
			break;
		}
		return 0;
	default:
		break;
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
	serving = c;
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
	case UREMOTE_FCNTL:
		rc = ufile_op_fcntl(file, (int)req->a, (unsigned long)req->b);
		break;
	case UREMOTE_MMAP:
		rc = file->ops->mmap
			     ? file->ops->mmap(file, (void *)(uintptr_t)req->a, (size_t)req->b,
					       (int)req->c, (int)req->d, req->offset, &out)
			     : -ENODEV;
		if (!rc)
			rc = (int64_t)(uintptr_t)out;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	serving = NULL;
	uaccess_use_mm(NULL);
	fork_gate_exit();
	return rc;
}

/* One request on @c: false when the channel has ended (the child is gone). */
static bool conn_serve_one(struct conn *c)
{
	static union {
		struct remote_req req;
		char bytes[sizeof(struct remote_req) + FORK_CHUNK * sizeof(uint64_t)];
	} in;
	struct remote_msg rep = {.kind = MSG_REPLY};
	uint64_t addrs[1];
	const uint64_t *list = addrs;
	int fd, pass = -1;
	ssize_t n;

	n = recv_with_fd(c->fd, &in, sizeof(in), MSG_DONTWAIT, &fd);
	if (fd >= 0)
		close(fd);
	if (n < 0 && errno == EAGAIN)
		return true;
	if (n < (ssize_t)sizeof(in.req) || n > (ssize_t)sizeof(in))
		return false;
	if (in.req.op == UREMOTE_FORK_FILES) {
		if (in.req.nfiles > FORK_CHUNK ||
		    (size_t)n != sizeof(in.req) + in.req.nfiles * sizeof(uint64_t))
			return false;
		list = (const uint64_t *)(in.bytes + sizeof(in.req));
	}
	if (in.req.op == UREMOTE_EXIT) {
		/*
		 * No reply: the caller reads the end of the channel instead, which
		 * comes when the server loop has closed this end. So when the child
		 * has exited, and a waitpid() for it returns, no descriptor of ours
		 * is left for it: the program sees the fds it would see in Linux.
		 */
		(void)serve(c, &in.req, NULL, NULL);
		return false;
	}
	rep.rc = serve(c, &in.req, list, &pass);
	n = send_with_fd(c->fd, &rep, sizeof(rep), pass);
	if (pass >= 0)
		close(pass);
	return n == sizeof(rep);
}

static void *server_main(void *unused)
{
	struct pollfd *pfds = NULL;
	struct conn **which = NULL;
	unsigned int cap = 0;

	(void)unused;
	for (;;) {
		unsigned int n = 1, all;
		struct conn *c;

		/*
		 * Inside the gate while it waits, so that no number it polls
		 * changes under it (util/intfd.h); whoever closes the gate kicks
		 * it out first (server_kick()).
		 */
		fork_gate_enter();
		pthread_mutex_lock(&conns_lock);
		for (c = conns; c; c = c->next)
			n++;
		all = n;
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
			pfds[n++] = (struct pollfd){.fd = intfd_fd(wake_fd), .events = POLLIN};
			for (c = conns; c && n < cap; c = c->next) {
				which[n] = c;
				pfds[n++] = (struct pollfd){.fd = intfd_fd(c->fd), .events = POLLIN};
			}
		}
		pthread_mutex_unlock(&conns_lock);
		if (!n) {
			/* Nothing could be allocated: try again in a moment. */
			fork_gate_exit();
			usleep(1000);
			continue;
		}
		/* Some channels left out for want of memory: look again soon, not at their turn. */
		if (poll(pfds, n, n < all ? 1 : -1) < 0) {
			fork_gate_exit();
			continue;
		}
		if (pfds[0].revents) {
			uint64_t v;

			(void)!read(intfd_fd(wake_fd), &v, sizeof(v));
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
		fork_gate_exit();
	}
	return NULL;
}

/* The gate is closing (a fork, a move): the server leaves it. */
static void server_kick(void)
{
	uint64_t one = 1;

	if (server_running)
		(void)!write(intfd_fd(wake_fd), &one, sizeof(one));
}

/* The server thread on the conns there are. 0 or -errno. */
static int server_run(void)
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
	rc = pthread_create(&tid, &attr, server_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* Its name in /proc/<pid>/task/<tid>/comm (tests arm its fail-nth by it). */
	if (!rc)
		(void)pthread_setname_np(tid, "uiommu-remote");
	return -rc;
}

/* Start the server thread (parent handler). 0 or -errno. */
static int server_start(void)
{
	int rc;

	if (server_running)
		return 0;
	wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (wake_fd < 0)
		return -errno;
	rc = intfd_add(&wake_fd);
	if (rc) {
		close(wake_fd);
		wake_fd = -1;
		return rc;
	}
	rc = server_run();
	if (rc) {
		intfd_close(&wake_fd);
		return rc;
	}
	server_running = true;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* fork()                                                                 */

/* What fork(2) says when the child's share of the files cannot be made: ENOMEM, else EAGAIN. */
static int fork_errno(int err)
{
	return err == -ENOMEM ? -ENOMEM : -EAGAIN;
}

/*
 * Ask the owner behind @ch for a channel of the child being made, for the
 * files of @ch among @remote (ch->handoff: its end). 0, or -errno (a fork
 * errno) when the owner could not make it; an owner that is gone is no
 * failure: the files are dead for the child as they are for us.
 */
static int hand_on(struct chan *ch, struct uiommu_file **remote, unsigned int nremote)
{
	struct remote_req *req;
	uint64_t *addrs;
	unsigned int n = 0, i = 0;
	long rc = 0;

	ch->handoff = -1;
	if (ch->fd < 0 || ch->user != getpid())
		return 0;
	for (unsigned int k = 0; k < nremote; k++)
		n += remote[k]->chan == ch;
	if (!n)
		return 0;
	req = uzalloc(sizeof(*req) + FORK_CHUNK * sizeof(uint64_t));
	if (!req)
		return -ENOMEM;
	addrs = (uint64_t *)(req + 1);
	req->pid = (int32_t)getpid();
	/* The files, a chunk a message. */
	while (i < nremote && rc >= 0) {
		n = 0;
		for (; i < nremote && n < FORK_CHUNK; i++)
			if (remote[i]->chan == ch)
				addrs[n++] = remote[i]->remote_addr;
		if (!n)
			break;
		req->op = UREMOTE_FORK_FILES;
		req->nfiles = n;
		rc = chan_call(ch, req, sizeof(*req) + n * sizeof(uint64_t), NULL);
	}
	if (rc >= 0) {
		req->op = UREMOTE_FORK;
		req->nfiles = 0;
		rc = chan_call(ch, req, sizeof(*req), &ch->handoff);
	}
	ufree(req);
	if (rc >= 0 && ch->handoff < 0)
		rc = -EPROTO;
	if (rc >= 0) {
		rc = intfd_add(&ch->handoff);
		if (rc) {
			close(ch->handoff);
			ch->handoff = -1;
		}
	}
	if (rc < 0 && ch->handoff >= 0)
		intfd_close(&ch->handoff);
	/* chan_call() closed a channel whose owner is gone: nothing to hand on. */
	if (rc < 0 && ch->fd < 0)
		return 0;
	return rc < 0 ? fork_errno((int)rc) : 0;
}

/*
 * The prepare hook: each owner of our remote files makes a channel for the
 * child (hand_on()), and for the files of our own, a channel of ours and
 * the server thread. 0, or a fork errno with everything made undone but
 * the file table's lock (what the parent and child hooks release).
 */
static int remote_prepare(void)
{
	struct uiommu_file **files, **remote;
	unsigned int nremote, n;
	int sv[2] = {-1, -1}, rc;

	pending = NULL;
	pending_chan = NULL;
	pending_child_fd = -1;
	for (struct chan *ch = chans; ch; ch = ch->next)
		ch->handoff = -1;
	rc = ufile_fork_prepare(&files, &n, &remote, &nremote);
	if (rc)
		return rc;
	for (struct chan *ch = chans; ch && !rc; ch = ch->next)
		rc = hand_on(ch, remote, nremote);
	ufree(remote);
	if (rc || !n)
		goto drop;
	pending = uzalloc(sizeof(*pending));
	pending_chan = uzalloc(sizeof(*pending_chan));
	if (!pending || !pending_chan) {
		rc = -ENOMEM;
		goto free;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
		rc = fork_errno(-errno);
		goto free;
	}
	rc = intfd_add(&sv[0]);
	if (rc) {
		close(sv[0]);
		close(sv[1]);
		goto free;
	}
	rc = intfd_add(&sv[1]);
	if (rc) {
		intfd_close(&sv[0]);
		close(sv[1]);
		goto free;
	}
	/* Last: a failed fork leaves no thread behind. */
	rc = server_start();
	if (rc) {
		rc = fork_errno(rc);
		intfd_close(&sv[0]);
		intfd_close(&sv[1]);
		goto free;
	}
	pending_chan->agent_fd = -1;
	pending->fd = sv[0];
	pending->files = files;
	pending->nfiles = n;
	pending_child_fd = sv[1];
	return 0;
free:
	ufree(pending);
	ufree(pending_chan);
	pending = NULL;
	pending_chan = NULL;
drop:
	/* Installed files: these are never the last references. */
	for (unsigned int i = 0; i < n; i++)
		ufile_put(files[i]);
	ufree(files);
	if (rc) {
		/* The owners' channels for the child end with our ends of them. */
		for (struct chan *ch = chans; ch; ch = ch->next)
			intfd_close(&ch->handoff);
	}
	return rc;
}

static void remote_parent(void)
{
	struct conn *c = pending;
	uint64_t one = 1;

	ufile_fork_parent();
	for (struct chan *ch = chans; ch; ch = ch->next)
		intfd_close(&ch->handoff);
	ufree(pending_chan);
	pending_chan = NULL;
	pending = NULL;
	if (!c)
		return;
	intfd_close(&pending_child_fd);
	/* The server thread runs (remote_prepare()). */
	pthread_mutex_lock(&conns_lock);
	c->next = conns;
	conns = c;
	pthread_mutex_unlock(&conns_lock);
	(void)!write(intfd_fd(wake_fd), &one, sizeof(one));
}

/* ufile_fork_child(): does an installed file of the parent live on here, and through what? */
static bool child_keep(struct uiommu_file *file)
{
	if (file->remote)
		/* Handed on by its owner (hand_on()), or dead. */
		return file->chan && ((struct chan *)file->chan)->fd >= 0;
	if (!pending_chan)
		return false;
	/* One of the parent's own: the same address there. */
	file->remote_addr = (uintptr_t)file;
	file->chan = pending_chan;
	return true;
}

static void remote_child(void)
{
	struct conn *c, *next;
	struct chan *ch;

	/*
	 * Our parent's channels: the ones its owners made for us replace them
	 * (the parent's ends are closed once the table is unlocked: close()
	 * may be the shim's, which looks the number up).
	 */
	for (ch = chans; ch; ch = ch->next) {
		int fd = ch->fd;

		ch->fd = ch->handoff;
		ch->handoff = fd;
		ch->user = getpid();
		ch->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	}
	if (pending) {
		ch = pending_chan;
		ch->fd = pending_child_fd;
		ch->handoff = -1;
		ch->user = getpid();
		ch->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
		ch->next = chans;
		chans = ch;
	}
	ufile_fork_child(child_keep);
	for (ch = chans; ch; ch = ch->next) {
		intfd_close(&ch->handoff);
		/* Our parent's agent thread is not here: the owner's swaps are its. */
		intfd_close(&ch->agent_fd);
	}
	/* Nor its wake-up: our first agent makes ours. */
	{
		int wake = atomic_load(&agent_wake);

		intfd_close(&wake);
		atomic_store(&agent_wake, -1);
	}
	/*
	 * The owner's side of our parent's other children is not ours to serve,
	 * nor the backing fds our parent kept for the files it made for them.
	 */
	for (c = conns; c; c = next) {
		next = c->next;
		for (unsigned int i = 0; i < c->nfiles; i++)
			if (c->files[i] && c->files[i]->served)
				intfd_close(&c->files[i]->own_fd);
		/* Nor the agents of those children (the parent's copies of it hold it). */
		if (c->agent)
			intfd_close(&c->agent->fd);
		c->agent = NULL;
		conn_free(c, false);
	}
	conns = NULL;
	conns_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	intfd_close(&wake_fd);
	server_running = false;
	if (pending) {
		conn_free(pending, false);
		pending = NULL;
		pending_chan = NULL;
		pending_child_fd = -1;
	}
}

/*
 * daemon()'s child (util/forkgate.h fork_gate_handover()): the channels,
 * the conns and the agents are ours now, their threads are not here.
 */
int uremote_take_over(pid_t parent)
{
	int rc = 0;

	conns_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	for (struct chan *ch = chans; ch; ch = ch->next) {
		int fd = ch->agent_fd;

		ch->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
		if (ch->user != parent)
			continue;
		ch->user = getpid();
		/* The agent's end, for a thread of ours (agent_start() registers it again). */
		ch->agent_fd = -1;
		if (fd >= 0) {
			int real = intfd_fd(fd), err;

			intfd_del(fd);
			/* Without it, the owner's swaps of our mappings fail (ESRCH there). */
			err = agent_start(ch, real);
			if (err && !rc)
				rc = err;
		}
	}
	/* No thread to serve our children's calls: they fail as if we had exited. */
	if (server_running) {
		int err = server_run();

		if (err) {
			server_running = false;
			if (!rc)
				rc = err;
		}
	}
	return rc == -ENOMEM ? -ENOMEM : rc ? -EAGAIN : 0;
}

static const struct fork_gate_hooks remote_hooks = {
	.prepare = remote_prepare,
	.parent = remote_parent,
	.child = remote_child,
};

static const struct ufile_remote_ops remote_ops = {
	.release = remote_release,
	.install = hook_install,
	.uninstall = hook_uninstall,
	.map = hook_map,
	.unmap = hook_unmap,
	.vma_add = hook_vma_add,
	.lookup = hook_lookup,
	.fetch_fd = hook_fetch_fd,
	.rvma_get = hook_rvma_get,
	.rvma_swap = hook_rvma_swap,
	.rvma_put = hook_rvma_put,
};

__attribute__((constructor)) static void remote_init(void)
{
	fork_gate_set_hooks(&remote_hooks);
	fork_gate_add_kick(server_kick);
	intfd_set_user_kick(agent_kick);
	ufile_set_remote_ops(&remote_ops);
}
