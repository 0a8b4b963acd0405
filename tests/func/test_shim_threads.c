// SPDX-License-Identifier: MIT
/*
 * The preload shim under threads: 8 threads issue ioctls at once through
 * one iommufd number and their own dups and contexts (every call succeeds,
 * every IOAS ID is handed out once, no fd is left behind), and a thread
 * keeps using a number while another closes it (each call either works or
 * is EBADF, and once EBADF it stays so: never a crash, never another
 * errno). Also run under ThreadSanitizer (make check-tsan).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "shim_utils.h"

#define NTHREADS 8
#define ROUNDS	 100

static int shared_fd;
static uint8_t *buffers;
static atomic_uint failures;
static uint32_t ids[NTHREADS][ROUNDS];

#define FAIL(...)                                    \
	do {                                         \
		if (!atomic_fetch_add(&failures, 1)) \
			printf("# " __VA_ARGS__);    \
	} while (0)

static void *worker(void *arg)
{
	unsigned int t = (unsigned int)(uintptr_t)arg;
	uint8_t *buf = buffers + t * 4 * SHIM_PAGE;

	for (unsigned int r = 0; r < ROUNDS; r++) {
		uint32_t id, own;
		uint64_t iova;
		int d, ctx;

		if (_ioas_alloc(shared_fd, &id)) {
			FAIL("thread %u round %u: IOAS_ALLOC: %s\n", t, r, strerror(errno));
			break;
		}
		ids[t][r] = id;
		d = dup(shared_fd);
		if (d < 0 || _ioas_map(d, id, buf, 4 * SHIM_PAGE, &iova) || _ioas_ranges(d, id) ||
		    _ioas_unmap(shared_fd, id, iova, 4 * SHIM_PAGE) || close(d)) {
			FAIL("thread %u round %u: map/unmap through a dup: %s\n", t, r,
			     strerror(errno));
			break;
		}
		ctx = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		if (ctx < 0 || _ioas_alloc(ctx, &own) || own != 1 || close(ctx)) {
			FAIL("thread %u round %u: own context: %s\n", t, r, strerror(errno));
			break;
		}
		if (_destroy(shared_fd, id)) {
			FAIL("thread %u round %u: DESTROY: %s\n", t, r, strerror(errno));
			break;
		}
	}
	return NULL;
}

static void test_concurrent_ioctls(void *arg)
{
	pthread_t th[NTHREADS];
	int base = count_fds();
	uint32_t last;

	buffers = mmap(NULL, NTHREADS * 4 * SHIM_PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(buffers != MAP_FAILED, "mmap");
	shared_fd = iommufd_open();
	for (unsigned int t = 0; t < NTHREADS; t++)
		TAP_CHECK(!pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t), "thread");
	for (unsigned int t = 0; t < NTHREADS; t++)
		pthread_join(th[t], NULL);
	TAP_CHECK_EQ(atomic_load(&failures), 0, "failed calls");
	/* Every IOAS was destroyed: the table is empty again, so the next ID is 1. */
	last = ioas_alloc(shared_fd);
	TAP_CHECK_EQ(last, 1, "all destroyed");
	CHECK_OK(close(shared_fd));
	munmap(buffers, NTHREADS * 4 * SHIM_PAGE);
	TAP_CHECK_EQ(count_fds(), base, "no fd left behind");
}

struct closer {
	int fd;
	uint32_t ioas;
	atomic_bool stop;
	atomic_uint ok, ebadf;
	atomic_int bad_errno;
	atomic_bool ok_after_ebadf;
};

static void *user(void *arg)
{
	struct closer *c = arg;

	while (!atomic_load(&c->stop)) {
		if (!_ioas_ranges(c->fd, c->ioas)) {
			atomic_fetch_add(&c->ok, 1);
			if (atomic_load(&c->ebadf))
				atomic_store(&c->ok_after_ebadf, true);
		} else if (errno == EBADF) {
			atomic_fetch_add(&c->ebadf, 1);
		} else {
			atomic_store(&c->bad_errno, errno);
		}
	}
	return NULL;
}

static void test_close_while_used(void *arg)
{
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd);

	for (int round = 0; round < 20; round++) {
		struct closer c = {.ioas = ioas};
		pthread_t th;

		c.fd = dup(fd);
		TAP_CHECK(c.fd >= 0, "dup");
		TAP_CHECK(!pthread_create(&th, NULL, user, &c), "thread");
		/* Let it run a little (nothing below depends on how long). */
		for (int i = 0; i < 200 && !atomic_load(&c.ok); i++)
			usleep(100);
		CHECK_OK(close(c.fd));
		while (!atomic_load(&c.ebadf) && !atomic_load(&c.bad_errno))
			usleep(100);
		atomic_store(&c.stop, true);
		pthread_join(th, NULL);
		TAP_CHECK_EQ(atomic_load(&c.bad_errno), 0, "round %d: an errno other than EBADF",
			     round);
		TAP_CHECK(!atomic_load(&c.ok_after_ebadf),
			  "round %d: the number worked again after EBADF", round);
	}
	/* The original number never stopped working. */
	CHECK_OK(_ioas_ranges(fd, ioas));
	CHECK_OK(close(fd));
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(2);
	tap_run("8 threads issue ioctls at once through one fd, dups and own contexts",
		test_concurrent_ioctls, NULL);
	tap_run("a number closed while another thread uses it", test_close_while_used, NULL);
	return tap_done();
}
