// SPDX-License-Identifier: MIT
/*
 * lib/util/intfd: the registry of the library's own descriptors. Adding
 * makes a descriptor close-on-exec and puts it high; look-ups, the next
 * internal number; a move gives it a new number (the hook sees both), its
 * name resolves to it, the old number is closed and a new descriptor that
 * lands on the name is renumbered; close through a name closes the moved
 * one; fail-nth: -ENOMEM leaves the registry and the descriptors as they
 * were; a user outside the fork gate (intfd_user_enter()) is kicked out
 * of its wait before a move and never holds a number that moved.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/alloc.h"
#include "util/intfd.h"

static bool is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* A pipe's read end, not close-on-exec (the write end closed). */
static int plain_fd(void)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	close(p[1]);
	return p[0];
}

static void test_add_del(void **state)
{
	unsigned int before = intfd_count();
	int fd = plain_fd(), orig = fd, next;

	(void)state;
	assert_false(intfd_has(fd));
	assert_int_equal(intfd_add(&fd), 0);
	/* Renumbered high (the program's numbers are Linux's), close-on-exec. */
	assert_true(fd >= 512);
	assert_false(is_open(orig));
	assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);
	assert_true(intfd_has(fd));
	assert_true(intfd_any());
	assert_int_equal(intfd_count(), before + 1);
	assert_int_equal(intfd_fd(fd), fd);
	assert_int_equal(intfd_next(0), fd);
	assert_int_equal(intfd_next((unsigned int)fd), fd);
	next = intfd_next((unsigned int)fd + 1);
	assert_true(next == -1 || next > fd);
	intfd_close(&fd);
	assert_int_equal(fd, -1);
	assert_int_equal(intfd_count(), before);
	assert_false(intfd_has(orig));
	/* -1 and a closed number. */
	assert_int_equal(intfd_fd(-1), -1);
	fd = -1;
	intfd_close(&fd);
	fd = orig;
	assert_int_equal(intfd_add(&fd), -EBADF);
}

static int hook_name = -1, hook_old = -1, hook_new = -1;

static void hook(int name, int oldfd, int newfd)
{
	hook_name = name;
	hook_old = oldfd;
	hook_new = newfd;
	/* Both open while the hook runs. */
	assert_true(is_open(oldfd) && is_open(newfd));
}

static void test_move(void **state)
{
	int a = plain_fd(), b, name, moved, k;

	(void)state;
	intfd_set_move_hook(hook);
	assert_int_equal(intfd_add(&a), 0);
	name = a;
	/* Not internal: nothing. */
	b = plain_fd();
	assert_int_equal(intfd_move(b), 0);
	assert_true(is_open(b));
	assert_int_equal(hook_name, -1);

	assert_int_equal(intfd_move(a), 0);
	moved = intfd_fd(name);
	assert_int_not_equal(moved, name);
	assert_int_equal(hook_name, name);
	assert_int_equal(hook_old, name);
	assert_int_equal(hook_new, moved);
	assert_false(is_open(name)); /* the program's to take */
	assert_false(intfd_has(name));
	assert_true(intfd_has(moved));
	assert_int_equal(fcntl(moved, F_GETFD), FD_CLOEXEC);

	/* Moved again: found by its number, its name follows. */
	assert_int_equal(intfd_move(moved), 0);
	assert_int_equal(hook_name, name);
	assert_int_equal(hook_old, moved);
	assert_false(is_open(moved));
	moved = intfd_fd(name);
	assert_true(intfd_has(moved));

	/* A new descriptor of ours on the name's number gets another. */
	assert_int_equal(dup2(b, name), name);
	k = name;
	assert_int_equal(intfd_add(&k), 0);
	assert_int_not_equal(k, name);
	assert_false(is_open(name));
	assert_int_equal(intfd_fd(name), moved);
	assert_int_equal(intfd_fd(k), k);

	/* Closing through the name closes the moved descriptor and drops the alias. */
	intfd_close(&name);
	assert_false(is_open(moved));
	assert_false(intfd_has(moved));
	intfd_close(&k);
	close(b);
	intfd_set_move_hook(NULL);
	hook_name = hook_old = hook_new = -1;
}

/* Each allocation of add and move failing: -ENOMEM, nothing changed. */
static void test_failnth(void **state)
{
	int failures = 0;

	(void)state;
	for (unsigned long n = 1; n < 20; n++) {
		unsigned int before = intfd_count();
		int fd = plain_fd(), orig = fd, rc, name, moved;

		ualloc_fail_nth(n);
		rc = intfd_add(&fd);
		if (rc) {
			ualloc_fail_nth(0);
			assert_int_equal(rc, -ENOMEM);
			assert_int_equal(fd, orig);
			assert_true(is_open(fd));
			assert_int_equal(intfd_count(), before);
			close(fd);
			failures++;
			continue;
		}
		name = fd;
		rc = intfd_move(fd);
		ualloc_fail_nth(0);
		if (rc) {
			assert_int_equal(rc, -ENOMEM);
			/* Still where it was, still ours. */
			assert_int_equal(intfd_fd(name), name);
			assert_true(intfd_has(name) && is_open(name));
			assert_int_equal(intfd_count(), before + 1);
			intfd_close(&name);
			failures++;
			continue;
		}
		moved = intfd_fd(name);
		assert_true(moved != name && is_open(moved));
		intfd_close(&name);
		assert_false(is_open(moved));
		assert_int_equal(intfd_count(), before);
		break;
	}
	/* At least the alias list of the move. */
	assert_true(failures >= 1);
}

/* The users' gate: a kick that an eventfd-like pipe carries, and what it saw. */
static int kick_pipe[2];
static atomic_int kicks_started, kicks_ended, user_errors, user_rounds, user_entered, stop_users;

static void user_kick(bool start)
{
	char c = 'k';

	if (start) {
		atomic_fetch_add(&kicks_started, 1);
		assert_int_equal(write(kick_pipe[1], &c, 1), 1);
	} else {
		atomic_fetch_add(&kicks_ended, 1);
		assert_int_equal(read(kick_pipe[0], &c, 1), 1);
	}
}

struct user_arg {
	int name;
	ino_t ino;
};

/* A user outside the fork gate: resolves inside the users' gate, waits there in poll(). */
static void *user_main(void *p)
{
	struct user_arg *u = p;

	while (!atomic_load(&stop_users)) {
		struct pollfd pf = {.fd = kick_pipe[0], .events = POLLIN};
		struct stat st;
		int fd;

		intfd_user_enter();
		atomic_store(&user_entered, 1);
		fd = intfd_fd(u->name);
		/* The number is ours (our pipe) from the resolution to the end of the wait. */
		if (fstat(fd, &st) || st.st_ino != u->ino)
			atomic_fetch_add(&user_errors, 1);
		(void)poll(&pf, 1, -1);
		if (fstat(fd, &st) || st.st_ino != u->ino)
			atomic_fetch_add(&user_errors, 1);
		intfd_user_exit();
		atomic_fetch_add(&user_rounds, 1);
	}
	return NULL;
}

/*
 * intfd_move() with a user inside the users' gate: it kicks, waits for the
 * user to leave, moves, takes the kick back; the user never finds its
 * resolved number taken by another file (each old number is given to a
 * different file at once, as the program's dup2() would).
 */
static void test_users(void **state)
{
	struct user_arg u;
	struct stat st;
	pthread_t t;
	int other = plain_fd();

	(void)state;
	assert_int_equal(pipe(kick_pipe), 0);
	u.name = plain_fd();
	assert_int_equal(fstat(u.name, &st), 0);
	u.ino = st.st_ino;
	assert_int_equal(intfd_add(&u.name), 0);
	intfd_set_user_kick(user_kick);
	assert_int_equal(pthread_create(&t, NULL, user_main, &u), 0);
	/* The first move finds the user inside. */
	while (!atomic_load(&user_entered))
		sched_yield();
	for (int i = 0; i < 50; i++) {
		int old = intfd_fd(u.name);

		assert_int_equal(intfd_move(old), 0);
		/* The number is the program's now: another file there at once. */
		assert_int_equal(dup2(other, old), old);
		close(old);
	}
	intfd_set_user_kick(NULL);
	atomic_store(&stop_users, 1);
	{
		char c = 's';

		assert_int_equal(write(kick_pipe[1], &c, 1), 1);
	}
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&user_errors), 0);
	assert_int_equal(atomic_load(&kicks_started), 50);
	assert_int_equal(atomic_load(&kicks_ended), 50);
	assert_true(atomic_load(&user_rounds) >= 1);
	intfd_close(&u.name);
	close(other);
	close(kick_pipe[0]);
	close(kick_pipe[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_failnth),
		cmocka_unit_test(test_users),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
