// SPDX-License-Identifier: MIT
/*
 * The preload shim: readiness of a fault queue's fd through poll(2),
 * select(2) and epoll(7), none of which the shim interposes. The fd is a
 * real eventfd whose readability the library keeps equal to "a page
 * request group is queued" (reference iommufd.md §4.6), so a program that
 * sleeps in the kernel wakes when a fault arrives: here a second thread
 * triggers the fault (IOMMU_TEST_OP_TRIGGER_IOPF) while the first blocks
 * in epoll_wait() and in poll() with no timeout. Also: a dup of the fd
 * shows the same readiness, read(2) of the message clears it, and the
 * response completes the group.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "shim_utils.h"

#define FSZ sizeof(struct iommu_hwpt_pgfault)

struct trigger {
	int fd;
	uint32_t idev, grpid;
	int rc, err;
};

static void *trigger_thread(void *arg)
{
	struct trigger *t = arg;

	/* Long enough that the waiter is very likely asleep; correctness does not depend on it. */
	usleep(20000);
	t->rc = _trigger_iopf(t->fd, t->idev, t->grpid, 0x10000);
	t->err = errno;
	return NULL;
}

static void read_and_respond(struct shim_iopf *s, int fd_for_read, uint32_t grpid)
{
	struct iommu_hwpt_pgfault f[2];
	struct iommu_hwpt_page_response resp = {.code = IOMMUFD_PAGE_RESP_SUCCESS};

	TAP_CHECK_EQ(read(fd_for_read, f, sizeof(f)), (ssize_t)FSZ, "one message");
	TAP_CHECK_EQ(f[0].grpid, grpid, "group");
	TAP_CHECK_EQ(f[0].dev_id, s->d.idev, "device");
	TAP_CHECK(f[0].cookie, "cookie");
	TAP_CHECK_EQ(poll_now(s->fault_fd, POLLIN | POLLOUT), POLLOUT, "drained: writable only");
	resp.cookie = f[0].cookie;
	TAP_CHECK_EQ(write(fd_for_read, &resp, sizeof(resp)), (ssize_t)sizeof(resp), "respond");
	CHECK_ERRNO(EINVAL, write(fd_for_read, &resp, sizeof(resp)));
}

static void test_poll_select(void *arg)
{
	struct shim_iopf s;
	int fd = iommufd_open(), d;
	fd_set rd;
	struct timeval tv = {0, 0};

	iopf_setup(fd, &s);
	d = dup(s.fault_fd);
	TAP_CHECK_EQ(poll_now(s.fault_fd, POLLIN | POLLOUT), POLLOUT, "empty: writable only");
	FD_ZERO(&rd);
	FD_SET(s.fault_fd, &rd);
	TAP_CHECK_EQ(select(s.fault_fd + 1, &rd, NULL, NULL, &tv), 0, "select: not readable");

	CHECK_OK(_trigger_iopf(fd, s.d.idev, 7, 0x10000));
	TAP_CHECK_EQ(poll_now(s.fault_fd, POLLIN), POLLIN, "poll: readable");
	TAP_CHECK_EQ(poll_now(d, POLLIN), POLLIN, "the dup too");
	FD_ZERO(&rd);
	FD_SET(s.fault_fd, &rd);
	TAP_CHECK_EQ(select(s.fault_fd + 1, &rd, NULL, NULL, &tv), 1, "select: readable");
	read_and_respond(&s, d, 7);
	TAP_CHECK_EQ(poll_now(d, POLLIN), 0, "the dup is drained too");

	/* Blocking: poll() with no timeout wakes when another thread queues a fault. */
	{
		struct trigger t = {.fd = fd, .idev = s.d.idev, .grpid = 9};
		struct pollfd p = {.fd = s.fault_fd, .events = POLLIN};
		pthread_t th;

		TAP_CHECK(!pthread_create(&th, NULL, trigger_thread, &t), "thread");
		TAP_CHECK_EQ(poll(&p, 1, -1), 1, "poll woke");
		pthread_join(th, NULL);
		TAP_CHECK(!t.rc, "trigger: %s", strerror(t.err));
		TAP_CHECK_EQ(p.revents, POLLIN, "revents");
		read_and_respond(&s, s.fault_fd, 9);
	}
	close(d);
	close(s.fault_fd);
	close(fd);
}

static void test_epoll(void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 0xfa17}, out[2];
	struct trigger t;
	struct shim_iopf s;
	int fd = iommufd_open(), ep;
	pthread_t th;

	iopf_setup(fd, &s);
	ep = epoll_create1(EPOLL_CLOEXEC);
	TAP_CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
	CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, s.fault_fd, &ev));
	TAP_CHECK_EQ(epoll_wait(ep, out, 2, 0), 0, "nothing yet");

	t = (struct trigger){.fd = fd, .idev = s.d.idev, .grpid = 3};
	TAP_CHECK(!pthread_create(&th, NULL, trigger_thread, &t), "thread");
	TAP_CHECK_EQ(epoll_wait(ep, out, 2, -1), 1, "epoll_wait woke");
	pthread_join(th, NULL);
	TAP_CHECK(!t.rc, "trigger: %s", strerror(t.err));
	TAP_CHECK_EQ(out[0].data.u32, 0xfa17, "the fault fd");
	TAP_CHECK(out[0].events & EPOLLIN, "EPOLLIN: 0x%x", out[0].events);
	read_and_respond(&s, s.fault_fd, 3);
	TAP_CHECK_EQ(epoll_wait(ep, out, 2, 0), 0, "drained");

	/* Level-triggered again for the next one. */
	CHECK_OK(_trigger_iopf(fd, s.d.idev, 4, 0x20000));
	TAP_CHECK_EQ(epoll_wait(ep, out, 2, 0), 1, "second fault");
	TAP_CHECK_EQ(epoll_wait(ep, out, 2, 0), 1, "still there until read");
	read_and_respond(&s, s.fault_fd, 4);
	close(ep);
	close(s.fault_fd);
	close(fd);
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(2);
	tap_run("poll and select on a fault fd and its dup; poll wakes on a fault",
		test_poll_select, NULL);
	tap_run("epoll on a fault fd", test_epoll, NULL);
	return tap_done();
}
