// SPDX-License-Identifier: MIT
/*
 * lib/util/intfd: the registry of the library's own descriptors. Adding
 * makes a descriptor close-on-exec and puts it high; look-ups, the next
 * internal number; a move gives it a new number (the hook sees both), its
 * name resolves to it, the old number is closed and a new descriptor that
 * lands on the name is renumbered; close through a name closes the moved
 * one; fail-nth: -ENOMEM leaves the registry and the descriptors as they
 * were.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_failnth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
