/* SPDX-License-Identifier: MIT */
/*
 * tests/func/shim_utils.h - helpers for the tests of the preload shim.
 *
 * These programs are what the shim exists for: they know nothing of
 * libuiommu. They use libc and the uAPI headers only (open("/dev/iommu"),
 * ioctl(2), read(2), poll(2) ...) and run with LD_PRELOAD set to the built
 * libuiommu-preload.so (tests/func/meson.build); shim_check_preloaded()
 * makes sure of it, so a test never passes against a host's real device
 * (or its absence) by accident.
 *
 * Helper pairs as in iommufd_utils.h: _name() returns what ioctl(2) returns
 * (0, or -1 with errno), name() checks success (TAP_CHECK).
 */
#ifndef UIOMMU_TESTS_FUNC_SHIM_UTILS_H
#define UIOMMU_TESTS_FUNC_SHIM_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "tap.h"

/*
 * The dmatest function's registers (doc/dmatest.md, the data sheet), as a
 * driver of it spells them: the shim tests are programs that know the
 * device, not the library's headers.
 */
#define DT_ID	      0x000
#define DT_ID_VALUE   0x4d444955u /* "UIDM" */
#define DT_VENDOR     0x5549
#define DT_DEVICE     0x444d
#define DT_SRC	      0x010
#define DT_DST	      0x018
#define DT_LEN	      0x020
#define DT_OP	      0x028
#define DT_CTRL	      0x02c
#define DT_GO	      0x038
#define DT_STATUS     0x03c
#define DT_FAULT_IOVA 0x040
#define DT_FAULT_INFO 0x048
#define DT_DONE_BYTES 0x050
#define DT_BUF	      0x8000 /* the buffer, the BAR's mmap-able part */
#define DT_BUF_SIZE   0x8000
#define OP_WRITE      2
#define OP_COPY	      3
#define ST_DONE	      (1u << 1)
#define ST_ERROR      (1u << 2)
#define CTRL_DONE_IRQ 1u
#define ERR_DMA_FAULT 4u /* STATUS [15:8]: a DMA the IOMMU refused */

#define SHIM_PAGE	4096UL
#define ARRAY_SIZE_T(a) (sizeof(a) / sizeof((a)[0]))

#define CHECK_ERRNO(expected, call)                                                           \
	do {                                                                                  \
		long rc_ = (long)(call);                                                      \
		int e_ = errno;                                                               \
		TAP_CHECK(rc_ == -1 && e_ == (expected), "%s: rc %ld errno %d (%s), want %s", \
			  #call, rc_, rc_ == -1 ? e_ : 0, rc_ == -1 ? strerror(e_) : "-",     \
			  strerror(expected));                                                \
	} while (0)

#define CHECK_OK(call)                                                             \
	do {                                                                       \
		long rc_ = (long)(call);                                           \
		TAP_CHECK(rc_ == 0, "%s: rc %ld errno %d (%s)", #call, rc_, errno, \
			  strerror(errno));                                        \
	} while (0)

/* The test runs under the shim: LD_PRELOAD names it and /dev/iommu opens. */
static inline void shim_check_preloaded(void)
{
	const char *p = getenv("LD_PRELOAD");

	if (!p || !strstr(p, "libuiommu-preload.so")) {
		printf("Bail out! LD_PRELOAD does not name libuiommu-preload.so\n");
		exit(1);
	}
}

static inline int iommufd_open(void)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	TAP_CHECK(fd >= 0, "open /dev/iommu: %s", strerror(errno));
	return fd;
}

static inline int _ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = {.size = sizeof(cmd)};
	int rc = ioctl(fd, IOMMU_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline uint32_t ioas_alloc(int fd)
{
	uint32_t id = 0;

	CHECK_OK(_ioas_alloc(fd, &id));
	TAP_CHECK(id, "IOAS id 0");
	return id;
}

static inline int _destroy(int fd, uint32_t id)
{
	struct iommu_destroy cmd = {.size = sizeof(cmd), .id = id};

	return ioctl(fd, IOMMU_DESTROY, &cmd);
}

/* IOVA_RANGES of @ioas_id: 0 when the IOAS exists in this context. */
static inline int _ioas_ranges(int fd, uint32_t ioas_id)
{
	struct iommu_iova_range r[4];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = 4,
		.allowed_iovas = (uintptr_t)r,
	};

	return ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);
}

static inline int _ioas_map(int fd, uint32_t ioas_id, void *buf, uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

static inline int _ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static inline int _test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return ioctl(fd, IOMMU_TEST_CMD, cmd);
}

/* A mock device on @pt_id. */
struct shim_mock_dev {
	uint32_t stdev, hwpt, idev;
};

static inline struct shim_mock_dev mock_domain(int fd, uint32_t pt_id)
{
	struct iommu_test_cmd cmd = {.op = IOMMU_TEST_OP_MOCK_DOMAIN, .id = pt_id};
	struct shim_mock_dev d;

	CHECK_OK(_test_cmd(fd, &cmd));
	d.stdev = cmd.mock_domain.out_stdev_id;
	d.hwpt = cmd.mock_domain.out_hwpt_id;
	d.idev = cmd.mock_domain.out_idev_id;
	TAP_CHECK(d.stdev && d.hwpt && d.idev, "IDs %u %u %u", d.stdev, d.hwpt, d.idev);
	return d;
}

static inline int _hwpt_alloc(int fd, uint32_t dev, uint32_t pt, uint32_t flags, uint32_t fault_id,
			      uint32_t data_type, void *data, uint32_t data_len, uint32_t *out)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev,
		.pt_id = pt,
		.data_type = data_type,
		.data_len = data_len,
		.data_uptr = (uintptr_t)data,
		.fault_id = fault_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc)
		*out = cmd.out_hwpt_id;
	return rc;
}

static inline int _fault_alloc(int fd, uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = {.size = sizeof(cmd)};
	int rc = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*fault_id = cmd.out_fault_id;
		*fault_fd = (int)cmd.out_fault_fd;
	}
	return rc;
}

/* A mock device on a nested HWPT whose page requests go to a new fault queue. */
struct shim_iopf {
	uint32_t ioas, parent, nested, fault_id;
	int fault_fd;
	struct shim_mock_dev d;
};

static inline void iopf_setup(int fd, struct shim_iopf *s)
{
	struct iommu_hwpt_selftest data = {.iotlb = IOMMU_TEST_IOTLB_DEFAULT};
	struct iommu_test_cmd replace = {.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE};

	s->ioas = ioas_alloc(fd);
	s->d = mock_domain(fd, s->ioas);
	CHECK_OK(_hwpt_alloc(fd, s->d.idev, s->ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
			     IOMMU_HWPT_DATA_NONE, NULL, 0, &s->parent));
	CHECK_OK(_fault_alloc(fd, &s->fault_id, &s->fault_fd));
	CHECK_OK(_hwpt_alloc(fd, s->d.idev, s->parent, IOMMU_HWPT_FAULT_ID_VALID, s->fault_id,
			     IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data), &s->nested));
	replace.id = s->d.stdev;
	replace.mock_domain_replace.pt_id = s->nested;
	CHECK_OK(_test_cmd(fd, &replace));
}

static inline int _trigger_iopf(int fd, uint32_t idev, uint32_t grpid, uint64_t addr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {.dev_id = idev,
				 .grpid = grpid,
				 .perm = IOMMU_PGFAULT_PERM_READ,
				 .addr = addr},
	};

	return _test_cmd(fd, &cmd);
}

/* poll(2) of one fd without waiting: its revents. */
static inline short poll_now(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, 0);

	TAP_CHECK(n >= 0, "poll: %s", strerror(errno));
	return n ? p.revents : 0;
}

/* Open fds of this process below 4096. */
static inline int count_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/* fork(); the child dies with the parent, so a failed check never leaves it waiting. */
static inline pid_t fork_child(void)
{
	pid_t parent = getpid(), pid = fork();

	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(100);
	}
	return pid;
}

/* A child's exit status (checked to be an exit), or -1. */
static inline int wait_child(pid_t pid)
{
	int status;

	TAP_CHECK_EQ(waitpid(pid, &status, 0), pid, "waitpid");
	TAP_CHECK(WIFEXITED(status), "child status 0x%x", status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The countdown of a fail-nth file (/proc/self/task/TID/fail-nth): armed with @n (0 disarms). */
static inline void fail_nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	TAP_CHECK(pwrite(fd, buf, (size_t)len, 0) == len, "fail-nth write: %s", strerror(errno));
}

/* What is left of it: 0 once the armed failure happened (or when it was never armed). */
static inline long fail_nth_left(int fd)
{
	char buf[16] = {0};

	TAP_CHECK(pread(fd, buf, sizeof(buf) - 1, 0) > 0, "fail-nth read: %s", strerror(errno));
	return strtol(buf, NULL, 10);
}

#endif
