// SPDX-License-Identifier: MIT
/*
 * intfd.c - the registry of the library's internal descriptors
 * (util/intfd.h): which numbers of the program's fd table are the
 * library's own, and what number each holder's name stands for.
 *
 * What it owns: a bitmap of the internal numbers and a list of aliases
 * (name -> number) of the descriptors that were moved, each published as
 * an immutable array behind an atomic pointer, so that the shim's look-ups
 * (every close() of the program, while any internal descriptor exists) and
 * the holders' resolutions take no lock. A change copies the array it
 * changes and publishes the copy; the old one is kept (never freed) on a
 * list, because a reader may still be in it. They are few: the bitmap
 * doubles as it grows and aliases change only when the program dup2()s
 * onto one of our numbers.
 *
 * Invariants: a number's bit is set exactly while it is an internal
 * descriptor; an alias's name is never the number of another internal
 * descriptor (intfd_add() renumbers a new one that would be), and its
 * number's bit is set; every internal descriptor is close-on-exec.
 *
 * Users outside the fork gate (intfd_user_enter(): the agent thread of
 * lib/uiommu_remote.c, which waits for its owner's requests while a call
 * of its own process may wait inside the gate for the owner, so it cannot
 * enter the gate to use its socket). Every other holder resolves and uses
 * its numbers inside the fork gate, which a move closes; these resolve
 * and use theirs inside the users' gate, which intfd_move() closes too:
 * it kicks them out of their wait (the user kick, e.g. an eventfd their
 * poll() watches), waits until none is inside, moves, takes the kick back
 * and lets them in again, so they resolve the name anew. A user waits
 * inside for nothing but its own descriptors, so the mover's wait ends.
 *
 * Descriptors made and closed within one piece of work (a transient: a
 * memfd or eventfd made for a call, a descriptor received over a channel
 * and used at once, a file of /proc read and closed). What registering
 * buys is only this: that the program's dup2() onto the number, or its
 * close_range(), cannot reach the descriptor while it exists. The facts
 * that decide which need it:
 *   - Linux's own work in a system call takes no number of the caller's
 *     table but the one the call returns; but glibc's functions do: they
 *     open and close descriptors of their own (close-on-exec) inside the
 *     call, on the caller's thread (getpwnam()'s nss_files, opendir(),
 *     syslog()), and no program is protected from those: a program that
 *     dup2()s onto, or closes, a number it does not hold while another of
 *     its threads is inside such a call races with libc, and with its own
 *     threads' open()s (POSIX gives the lowest free number, which another
 *     thread may take first), so a multi-threaded program cannot rely on a
 *     number it does not hold being free;
 *   - but a program with one thread of its own may: in Linux nothing else
 *     makes descriptors in its table, so its dup2(fd, 7) onto a number it
 *     knows free is correct, and so is its blind close_range();
 *   - the program's close_range() and closefrom() run with the fork gate
 *     closed (uiommu_close_range()), and dup2() / dup3() onto a registered
 *     number with it closed too; a dup2() onto a number that is not
 *     registered goes straight to libc.
 * So: a transient made and closed inside a call of the program's, on the
 * thread that made the call (inside the fork gate, waiting for no other
 * process), is left unregistered, as glibc's are: no thread of the
 * program's own that is not racing with libc can reach it, and no
 * close_range() runs meanwhile (in this library: the /proc and config
 * files read and closed, the summary files at exit). A transient
 * that exists while no call of the program's is under way (made by the
 * library's own threads: the server serving a forked child, the swap
 * agent, the virqfd watcher) or that stays open while we wait for another
 * process (an answer over a channel) is registered as soon as it exists,
 * and closed with intfd_close(): the low-power memfd of
 * vfio_pci_bar_maps_update() (held while forked children's agents swap
 * their mappings onto it), the agent channel end that hook_rvma_get()
 * passes to the caller, and the file the agent maps in a swap
 * (lib/uiommu_remote.c). What stays is the moment between the kernel's
 * making of such a number (the lowest free one: there is no way to ask
 * for a high one) and intfd_add()'s move of it, a few instructions, not
 * a wait. The descriptors the server thread makes or receives and uses
 * at once, waiting for nobody, have only that moment too, registered or
 * not, and are left as they are: a forked child's file for IOAS_MAP_FILE
 * (mapped and closed), /proc/<pid>/mem of a child whose memory a call
 * reaches (util/remote_mm.c), a region memfd until its holder registers
 * it; an eventfd for an action virqfd.c registers at once.
 *
 * Numbering. intfd_add() and intfd_move() make a number at INTFD_HIGH or
 * above (F_DUPFD_CLOEXEC), sometimes close one that is a name in the way,
 * and register it; a program thread that dup2()s blind onto numbers up
 * there (as test_shim_closefd's threads do) could replace the new
 * descriptor before it is registered, or have its own closed by us. So
 * number_lock is held from the making to the registration (and across a
 * move's giving up of the old number), and the shim makes the program's
 * dup2() / dup3() onto a number at INTFD_HIGH or above under it
 * (intfd_number_lock(), after moving ours off the number; if one of ours
 * landed there meanwhile it moves that too). Below INTFD_HIGH our numbers
 * are only the kernel's lowest free ones, left as the transients above.
 *
 * Locks: lock guards every change (a leaf: nothing is taken inside, no
 * system call is made under it, since a library thread's calls go through
 * the preload shim, which looks files up under the file table's lock; the
 * move hook runs with it released). Readers take nothing. users_lock
 * guards users and movers (a leaf; the kick runs without it). number_lock
 * is taken before lock and after the users' gate is shut; what runs under
 * it makes only raw system calls on numbers (syscall(2): not through the
 * preload shim, whose look-ups take the file table's lock, held by fork's
 * prepare while it registers), and the program's dup2() under it is
 * libc's alone, so it waits for nothing that could wait for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/intfd.h"

/*
 * The system calls made under number_lock: straight to the kernel, so that
 * none passes through the preload shim (whose look-ups take the file
 * table's lock, which fork's prepare holds while it registers). They act
 * on numbers the registry is making or giving up, never on a file of the
 * library's table.
 */
static int raw_fcntl(int fd, int cmd, long arg)
{
	return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

static void raw_close(int fd)
{
	(void)syscall(SYS_close, fd);
}

/* Where internal descriptors go, when RLIMIT_NOFILE allows: above what programs number. */
#define INTFD_HIGH 512

struct intfd_map {
	struct intfd_map *retired; /* the list of replaced maps */
	size_t nwords;
	_Atomic uint64_t words[];
};

struct intfd_alias {
	int name, fd;
};

struct intfd_aliases {
	struct intfd_aliases *retired;
	unsigned int n;
	struct intfd_alias a[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct intfd_map *_Atomic map;
static struct intfd_aliases *_Atomic aliases;
/* Replaced arrays: a lock-free reader may still be in one. */
static struct intfd_map *map_retired;
static struct intfd_aliases *aliases_retired;
static atomic_uint nr_fds, nr_aliases;
static void (*_Atomic move_hook)(int name, int oldfd, int newfd);
/*
 * Numbering (intfd_number_lock()): a number at INTFD_HIGH or above is made
 * and registered, or given up by a move, under it, and the program's
 * dup2() onto such a number (the preload shim) is made under it too.
 */
static pthread_mutex_t number_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool numbered;
/* The users' gate (intfd_user_enter()): users inside, and moves under way. */
static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t users_cond = PTHREAD_COND_INITIALIZER;
static unsigned int users, movers;
static void (*_Atomic user_kick)(bool start);

bool intfd_any(void)
{
	return atomic_load_explicit(&nr_fds, memory_order_relaxed) != 0;
}

unsigned int intfd_count(void)
{
	return atomic_load_explicit(&nr_fds, memory_order_relaxed);
}

static bool map_test(const struct intfd_map *m, unsigned int fd)
{
	return m && fd / 64 < m->nwords &&
	       (atomic_load_explicit(&m->words[fd / 64], memory_order_acquire) >> (fd % 64) & 1);
}

bool intfd_has(int fd)
{
	if (fd < 0 || !intfd_any())
		return false;
	return map_test(atomic_load_explicit(&map, memory_order_acquire), (unsigned int)fd);
}

int intfd_next(unsigned int from)
{
	struct intfd_map *m = atomic_load_explicit(&map, memory_order_acquire);

	if (!m || !intfd_any())
		return -1;
	for (size_t w = from / 64; w < m->nwords; w++) {
		uint64_t bits = atomic_load_explicit(&m->words[w], memory_order_acquire);

		if (w == from / 64)
			bits &= ~0ULL << (from % 64);
		if (bits)
			return (int)(w * 64 + (size_t)__builtin_ctzll(bits));
	}
	return -1;
}

/* The alias of @name, or NULL. Lock-free. */
static const struct intfd_alias *alias_of(const struct intfd_aliases *al, int name)
{
	for (unsigned int i = 0; al && i < al->n; i++)
		if (al->a[i].name == name)
			return &al->a[i];
	return NULL;
}

int intfd_fd(int name)
{
	const struct intfd_alias *a;

	if (name < 0 || !atomic_load_explicit(&nr_aliases, memory_order_relaxed))
		return name;
	a = alias_of(atomic_load_explicit(&aliases, memory_order_acquire), name);
	return a ? a->fd : name;
}

/*
 * Is @fd the name of a moved descriptor? Lock-free: a name is made only
 * of a number that is internal, so a number the caller just got from the
 * kernel cannot become one while it looks.
 */
static bool is_alias_name(int fd)
{
	return atomic_load_explicit(&nr_aliases, memory_order_acquire) &&
	       alias_of(atomic_load_explicit(&aliases, memory_order_acquire), fd);
}

/* Under lock: make room for bit @fd. 0 or -ENOMEM. */
static int map_reserve(unsigned int fd)
{
	struct intfd_map *m = atomic_load_explicit(&map, memory_order_relaxed), *n;
	size_t nwords = m ? m->nwords : 0, want = nwords ? nwords : 2;

	if (fd / 64 < nwords)
		return 0;
	while (want <= fd / 64)
		want *= 2;
	n = uzalloc(sizeof(*n) + want * sizeof(n->words[0]));
	if (!n)
		return -ENOMEM;
	n->nwords = want;
	for (size_t w = 0; w < nwords; w++)
		atomic_init(&n->words[w], atomic_load_explicit(&m->words[w], memory_order_relaxed));
	if (m) {
		m->retired = map_retired;
		map_retired = m;
	}
	atomic_store_explicit(&map, n, memory_order_release);
	return 0;
}

static void map_set(unsigned int fd, bool on)
{
	struct intfd_map *m = atomic_load_explicit(&map, memory_order_relaxed);
	uint64_t bit = 1ULL << (fd % 64);

	if (on) {
		atomic_fetch_or_explicit(&m->words[fd / 64], bit, memory_order_release);
		atomic_fetch_add_explicit(&nr_fds, 1, memory_order_relaxed);
	} else {
		atomic_fetch_and_explicit(&m->words[fd / 64], ~bit, memory_order_release);
		atomic_fetch_sub_explicit(&nr_fds, 1, memory_order_relaxed);
	}
}

/*
 * Under lock: publish the aliases less @drop's entry (a name, or -1) plus
 * {@name, @fd} (unless @name is -1). 0 or -ENOMEM, nothing changed.
 */
static int aliases_update(int drop, int name, int fd)
{
	struct intfd_aliases *old = atomic_load_explicit(&aliases, memory_order_relaxed), *n;
	unsigned int cnt = 0, max = (old ? old->n : 0) + 1;

	n = uzalloc(sizeof(*n) + max * sizeof(n->a[0]));
	if (!n)
		return -ENOMEM;
	for (unsigned int i = 0; old && i < old->n; i++)
		if (old->a[i].name != drop)
			n->a[cnt++] = old->a[i];
	if (name >= 0)
		n->a[cnt++] = (struct intfd_alias){.name = name, .fd = fd};
	n->n = cnt;
	if (old) {
		old->retired = aliases_retired;
		aliases_retired = old;
	}
	atomic_store_explicit(&aliases, n, memory_order_release);
	atomic_store_explicit(&nr_aliases, cnt, memory_order_relaxed);
	return 0;
}

/*
 * A close-on-exec duplicate of @fd whose number is neither @fd nor a name
 * in use, at INTFD_HIGH or above when the limit allows (@high), else the
 * lowest free. The number, or -errno. Under number_lock, not lock.
 */
static int dup_unnamed(int fd, bool high)
{
	int min = high ? INTFD_HIGH : 0, n;

	for (;;) {
		n = raw_fcntl(fd, F_DUPFD_CLOEXEC, min);
		if (n < 0 && min == INTFD_HIGH && (errno == EINVAL || errno == EMFILE)) {
			min = 0;
			continue;
		}
		if (n < 0)
			return -errno;
		if (!is_alias_name(n))
			return n;
		/* A name in the way (rare): look above it. */
		raw_close(n);
		min = n + 1;
	}
}

bool intfd_number_lock(int fd)
{
	/* Below INTFD_HIGH our numbers are only the kernel's lowest free ones (see the essay). */
	if (fd < INTFD_HIGH || !atomic_load_explicit(&numbered, memory_order_acquire))
		return false;
	pthread_mutex_lock(&number_lock);
	return true;
}

void intfd_number_unlock(void)
{
	pthread_mutex_unlock(&number_lock);
}

static int add_numbered(int *fd);

int intfd_add(int *fd)
{
	int rc;

	if (*fd < 0)
		return -EBADF;
	atomic_store_explicit(&numbered, true, memory_order_release);
	pthread_mutex_lock(&number_lock);
	rc = add_numbered(fd);
	pthread_mutex_unlock(&number_lock);
	return rc;
}

/* intfd_add() under number_lock. */
static int add_numbered(int *fd)
{
	int rc, n = *fd, fl;

	fl = raw_fcntl(n, F_GETFD, 0);
	if (fl < 0)
		return -errno;
	if (!(fl & FD_CLOEXEC) && raw_fcntl(n, F_SETFD, fl | FD_CLOEXEC))
		return -errno;
	/*
	 * High, where the program does not number (the numbers it gets are then
	 * the ones Linux would give it); and never the name of a moved one.
	 */
	if (n < INTFD_HIGH || is_alias_name(n)) {
		int m = dup_unnamed(n, true);

		if (m < 0 && is_alias_name(n))
			return m;
		if (m >= 0)
			n = m;
	}
	pthread_mutex_lock(&lock);
	rc = map_reserve((unsigned int)n);
	if (!rc)
		map_set((unsigned int)n, true);
	pthread_mutex_unlock(&lock);
	/* No system call under the lock (see dup_unnamed()). */
	if (rc) {
		if (n != *fd)
			raw_close(n);
		return rc;
	}
	if (n != *fd) {
		raw_close(*fd);
		*fd = n;
	}
	return 0;
}

void intfd_del(int name)
{
	const struct intfd_alias *a;
	int fd;

	if (name < 0)
		return;
	pthread_mutex_lock(&lock);
	a = is_alias_name(name)
		    ? alias_of(atomic_load_explicit(&aliases, memory_order_relaxed), name)
		    : NULL;
	fd = a ? a->fd : name;
	if (map_test(atomic_load_explicit(&map, memory_order_relaxed), (unsigned int)fd)) {
		map_set((unsigned int)fd, false);
		/* Without memory the alias stays: a name of nothing, which only costs a look-up. */
		if (a)
			(void)aliases_update(name, -1, -1);
	}
	pthread_mutex_unlock(&lock);
}

int intfd_take(int *name)
{
	int fd = intfd_fd(*name);

	intfd_del(*name);
	*name = -1;
	return fd;
}

void intfd_close(int *name)
{
	int fd;

	if (*name < 0)
		return;
	fd = intfd_fd(*name);
	intfd_del(*name);
	close(fd);
	*name = -1;
}

void intfd_user_enter(void)
{
	pthread_mutex_lock(&users_lock);
	while (movers)
		pthread_cond_wait(&users_cond, &users_lock);
	users++;
	pthread_mutex_unlock(&users_lock);
}

void intfd_user_exit(void)
{
	pthread_mutex_lock(&users_lock);
	if (!--users && movers)
		pthread_cond_broadcast(&users_cond);
	pthread_mutex_unlock(&users_lock);
}

void intfd_set_user_kick(void (*kick)(bool start))
{
	atomic_store(&user_kick, kick);
}

/* Keep the users out (and wait for those inside to leave) for a move. */
static void users_block(void)
{
	void (*kick)(bool) = atomic_load(&user_kick);

	pthread_mutex_lock(&users_lock);
	movers++;
	pthread_mutex_unlock(&users_lock);
	/* The kick's system calls are made without the lock (the shim may look files up). */
	if (kick)
		kick(true);
	pthread_mutex_lock(&users_lock);
	while (users)
		pthread_cond_wait(&users_cond, &users_lock);
	pthread_mutex_unlock(&users_lock);
}

static void users_unblock(void)
{
	void (*kick)(bool) = atomic_load(&user_kick);
	bool last;

	/* No user is inside: the kick may take back what it started. */
	pthread_mutex_lock(&users_lock);
	last = movers == 1;
	pthread_mutex_unlock(&users_lock);
	if (kick && last)
		kick(false);
	pthread_mutex_lock(&users_lock);
	if (!--movers)
		pthread_cond_broadcast(&users_cond);
	pthread_mutex_unlock(&users_lock);
}

void intfd_set_move_hook(void (*hook)(int name, int oldfd, int newfd))
{
	atomic_store(&move_hook, hook);
}

int intfd_move(int fd)
{
	const struct intfd_aliases *al;
	void (*hook)(int, int, int);
	int name = fd, n, rc;

	if (!intfd_has(fd))
		return 0;
	/* No user outside the fork gate holds a number while it changes. */
	users_block();
	pthread_mutex_lock(&number_lock);
	n = dup_unnamed(fd, true);
	if (n < 0) {
		pthread_mutex_unlock(&number_lock);
		users_unblock();
		return n;
	}
	pthread_mutex_lock(&lock);
	al = atomic_load_explicit(&aliases, memory_order_relaxed);
	for (unsigned int i = 0; al && i < al->n; i++)
		if (al->a[i].fd == fd)
			name = al->a[i].name;
	rc = map_reserve((unsigned int)n);
	if (!rc)
		rc = aliases_update(name, name, n);
	if (!rc)
		map_set((unsigned int)n, true);
	pthread_mutex_unlock(&lock);
	if (rc) {
		raw_close(n);
		pthread_mutex_unlock(&number_lock);
		users_unblock();
		return rc;
	}
	/*
	 * The hook without number_lock (it takes its holder's locks, under
	 * which new descriptors are registered); the old number stays
	 * registered meanwhile, so no dup2() of the program's reaches it.
	 */
	pthread_mutex_unlock(&number_lock);
	hook = atomic_load(&move_hook);
	if (hook)
		hook(name, fd, n);
	/* The number is the program's now: nothing of ours is left behind it. */
	pthread_mutex_lock(&number_lock);
	pthread_mutex_lock(&lock);
	map_set((unsigned int)fd, false);
	pthread_mutex_unlock(&lock);
	raw_close(fd);
	pthread_mutex_unlock(&number_lock);
	users_unblock();
	return 0;
}

void intfd_fork_child(void)
{
	lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	number_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	/* The users were threads of the parent's; a move needs the fork gate, which was closed. */
	users_lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	users_cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	users = 0;
	movers = 0;
}
