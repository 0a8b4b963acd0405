// SPDX-License-Identifier: MIT
/*
 * The /dev/iommu dispatcher and object table through real ioctls
 * (reference iommufd.md §1.1, §1.2, §4.1): the errno ladder (EFAULT, ENOTTY,
 * EINVAL, E2BIG), the selftest's cmd_length rules for every implemented
 * command, write-backs limited to the user's size, ID allocation (lowest
 * free from 1, reuse, no ID consumed by a failed ioctl), DESTROY, close,
 * the file API (fd, poll, read/write, mmap, from_fd).
 */
#include <poll.h>
#include <sys/ioctl.h>

#include "iommufd_utils.h"

static void test_cmd_fail(void *arg)
{
	struct iommu_destroy cmd = {.size = sizeof(cmd), .id = 0};

	iommufd_setup();
	/* Object id 0 is never valid. */
	CHECK_ERRNO(ENOENT, _destroy(0));
	/* Bad pointers. */
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_DESTROY, NULL));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_DESTROY, (void *)16));
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, (void *)-8L));
	/* Unknown ioctl below the iommufd range goes to VFIO compat: ENOTTY. */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE - 1), &cmd));
	/* Empty slot in the table. */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, _IO(IOMMUFD_TYPE, 0x9f), &cmd));
	/* The slot reads the size first: a NULL pointer there is EFAULT. */
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, _IO(IOMMUFD_TYPE, 0x9f), NULL));
	/* Past the table: VFIO compat again. */
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, _IO(IOMMUFD_TYPE, 0xc0), &cmd));
	/* Right nr, wrong full request number (direction / size / type bits). */
	CHECK_ERRNO(ENOTTY,
		    uiommu_ioctl(self_file,
				 _IOWR(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY, struct iommu_destroy),
				 &cmd));
	CHECK_ERRNO(ENOTTY, uiommu_ioctl(self_file, _IO('Q', IOMMUFD_CMD_DESTROY), &cmd));
	/* The request is an unsigned int in the kernel: high bits are dropped. */
	CHECK_ERRNO(ENOENT, uiommu_ioctl(self_file, (1UL << 32) | IOMMU_DESTROY, &cmd));
	iommufd_teardown();
}

/* A struct that ends exactly at an unreadable page. */
static void test_fault_edges(void *arg)
{
	uint8_t *two = mmap(NULL, 2 * PAGE_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iommu_ioas_alloc *tail;
	uint32_t *size;

	TAP_CHECK(two != MAP_FAILED, "mmap");
	TAP_CHECK(!mprotect(two + PAGE_SIZE, PAGE_SIZE, PROT_NONE), "mprotect");
	iommufd_setup();

	/* The size word is readable, the struct runs into the guard page: EFAULT. */
	tail = (void *)(two + PAGE_SIZE - 8);
	tail->size = sizeof(*tail);
	tail->flags = 0;
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, tail));
	/* The size word itself straddles the guard page. */
	size = (void *)(two + PAGE_SIZE - 2);
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_DESTROY, size));
	/* A read-only struct: reading works, the write-back faults. */
	tail = (void *)two;
	memset(tail, 0, sizeof(*tail));
	tail->size = sizeof(*tail);
	TAP_CHECK(!mprotect(two, PAGE_SIZE, PROT_READ), "mprotect");
	CHECK_ERRNO(EFAULT, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, tail));
	/* ... and left nothing behind: the next IOAS still gets ID 1. */
	TAP_CHECK_EQ(ioas_alloc(), 1, "a failed ALLOC consumed an ID");

	iommufd_teardown();
	munmap(two, 2 * PAGE_SIZE);
}

/*
 * The selftest's cmd_length: min_size - 1 is EINVAL; sizeof + 1 with a
 * non-zero extra byte is E2BIG; sizeof and sizeof + 1 with a zero byte give
 * the same result.
 */
#define TEST_LENGTH(_struct, _ioctl, _last)                                                        \
	do {                                                                                       \
		size_t min_size = offsetofend(struct _struct, _last);                              \
		struct {                                                                           \
			struct _struct cmd;                                                        \
			uint8_t extra;                                                             \
		} __attribute__((packed)) c = {.cmd = {.size = min_size - 1}, .extra = UINT8_MAX}; \
		int rc1, rc2, e1, e2;                                                              \
                                                                                                   \
		CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, _ioctl, &c));                          \
		c.cmd.size = sizeof(struct _struct) + 1;                                           \
		CHECK_ERRNO(E2BIG, uiommu_ioctl(self_file, _ioctl, &c));                           \
		c.cmd.size = sizeof(struct _struct);                                               \
		rc1 = uiommu_ioctl(self_file, _ioctl, &c);                                         \
		e1 = errno;                                                                        \
		c.cmd.size = sizeof(struct _struct) + 1;                                           \
		c.extra = 0;                                                                       \
		rc2 = uiommu_ioctl(self_file, _ioctl, &c);                                         \
		e2 = errno;                                                                        \
		TAP_CHECK(rc1 == rc2 && (rc1 == 0 || e1 == e2),                                    \
			  #_ioctl ": sizeof gives %d/%d, sizeof+1 gives %d/%d", rc1, e1, rc2, e2); \
		tested++;                                                                          \
	} while (0)

static void test_cmd_length(void *arg)
{
	unsigned int tested = 0;

	iommufd_setup();
	TEST_LENGTH(iommu_destroy, IOMMU_DESTROY, id);
	TEST_LENGTH(iommu_ioas_alloc, IOMMU_IOAS_ALLOC, out_ioas_id);
	TEST_LENGTH(iommu_ioas_iova_ranges, IOMMU_IOAS_IOVA_RANGES, out_iova_alignment);
	TEST_LENGTH(iommu_ioas_allow_iovas, IOMMU_IOAS_ALLOW_IOVAS, allowed_iovas);
	TEST_LENGTH(iommu_ioas_map, IOMMU_IOAS_MAP, iova);
	TEST_LENGTH(iommu_ioas_copy, IOMMU_IOAS_COPY, src_iova);
	TEST_LENGTH(iommu_ioas_unmap, IOMMU_IOAS_UNMAP, length);
	TEST_LENGTH(iommu_option, IOMMU_OPTION, val64);
	TEST_LENGTH(iommu_vfio_ioas, IOMMU_VFIO_IOAS, __reserved);
	TEST_LENGTH(iommu_ioas_map_file, IOMMU_IOAS_MAP_FILE, iova);
	TEST_LENGTH(iommu_ioas_change_process, IOMMU_IOAS_CHANGE_PROCESS, __reserved);
	TAP_CHECK_EQ(tested, 11, "commands covered");
	iommufd_teardown();
}

static void test_cmd_ex_fail(void *arg)
{
	struct {
		struct iommu_destroy cmd;
		uint64_t future;
	} cmd = {.cmd = {.size = sizeof(cmd), .id = 0}};

	iommufd_setup();
	/* Object id is invalid and the command is longer. */
	CHECK_ERRNO(ENOENT, uiommu_ioctl(self_file, IOMMU_DESTROY, &cmd));
	/* The future area is non-zero. */
	cmd.future = 1;
	CHECK_ERRNO(E2BIG, uiommu_ioctl(self_file, IOMMU_DESTROY, &cmd));
	/* The original command "works". */
	cmd.cmd.size = sizeof(cmd.cmd);
	CHECK_ERRNO(ENOENT, uiommu_ioctl(self_file, IOMMU_DESTROY, &cmd));
	/* A short command fails. */
	cmd.cmd.size = sizeof(cmd.cmd) - 1;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, IOMMU_DESTROY, &cmd));
	/* A huge size whose tail is zero is fine. */
	{
		uint8_t *big = calloc(1, 8192);
		struct iommu_ioas_alloc *a = (void *)big;

		a->size = 8192;
		CHECK_OK(uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, a));
		TAP_CHECK_EQ(a->out_ioas_id, 1, "id");
		/* Nothing past our struct size was written. */
		for (unsigned int i = sizeof(*a); i < 8192; i++)
			TAP_CHECK(!big[i], "byte %u written", i);
		big[8191] = 1;
		CHECK_ERRNO(E2BIG, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, a));
		free(big);
	}
	iommufd_teardown();
}

static void test_reserved_fields(void *arg)
{
	uint32_t ioas;
	uint64_t iova = 0, val = 0;

	iommufd_setup();
	ioas = ioas_alloc();
	{
		struct iommu_ioas_alloc a = {.size = sizeof(a), .flags = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, &a));
	}
	{
		struct iommu_ioas_iova_ranges r = {
			.size = sizeof(r), .ioas_id = ioas, .__reserved = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_IOVA_RANGES, &r));
	}
	{
		struct iommu_ioas_allow_iovas a = {
			.size = sizeof(a), .ioas_id = ioas, .__reserved = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOW_IOVAS, &a));
	}
	{
		struct iommu_ioas_map m = {.size = sizeof(m),
					   .flags = MAP_RW,
					   .ioas_id = ioas,
					   .__reserved = 1,
					   .user_va = (uintptr_t)buffer,
					   .length = PAGE_SIZE};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_MAP, &m));
	}
	{
		struct iommu_option o = {.size = sizeof(o), .__reserved = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_OPTION, &o));
	}
	{
		struct iommu_vfio_ioas v = {.size = sizeof(v), .__reserved = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &v));
		v.__reserved = 0;
		v.op = 3;
		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_VFIO_IOAS, &v));
	}
	{
		struct iommu_ioas_change_process c = {.size = sizeof(c), .__reserved = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_CHANGE_PROCESS, &c));
	}
	/* Unknown flag bits. */
	CHECK_ERRNO(EOPNOTSUPP, _ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW | (1u << 3)));
	CHECK_ERRNO(EOPNOTSUPP, _map_file(ioas, 0, 0, PAGE_SIZE, &iova, MAP_RW | (1u << 31)));
	CHECK_ERRNO(EOPNOTSUPP, _copy(ioas, &iova, ioas, 0, PAGE_SIZE, MAP_RW | (1u << 8)));
	/* Unknown option / op. */
	CHECK_ERRNO(EOPNOTSUPP, _option(2, IOMMU_OPTION_OP_GET, 0, &val));
	CHECK_ERRNO(EOPNOTSUPP, _option(IOMMU_OPTION_RLIMIT_MODE, 2, 0, &val));
	CHECK_ERRNO(EOPNOTSUPP, _option(IOMMU_OPTION_HUGE_PAGES, 2, ioas, &val));
	iommufd_teardown();
}

static void test_ids(void *arg)
{
	uint32_t ids[8];

	iommufd_setup();
	for (unsigned int i = 0; i < 8; i++) {
		ids[i] = ioas_alloc();
		TAP_CHECK_EQ(ids[i], i + 1, "lowest free from 1");
	}
	/* Freed IDs come back lowest first. */
	CHECK_OK(_destroy(5));
	CHECK_OK(_destroy(2));
	CHECK_ERRNO(ENOENT, _destroy(2));
	TAP_CHECK_EQ(ioas_alloc(), 2, "reuse 2");
	TAP_CHECK_EQ(ioas_alloc(), 5, "reuse 5");
	TAP_CHECK_EQ(ioas_alloc(), 9, "then the next");
	/* A failed ioctl consumes no ID. */
	{
		struct iommu_ioas_alloc a = {.size = sizeof(a), .flags = 1};

		CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, &a));
	}
	TAP_CHECK_EQ(ioas_alloc(), 10, "no ID consumed");
	/* DESTROY takes any id: never-used and huge ones are ENOENT. */
	CHECK_ERRNO(ENOENT, _destroy(11));
	CHECK_ERRNO(ENOENT, _destroy(UINT32_MAX));
	CHECK_ERRNO(ENOENT, _destroy(0x80000000u));
	/* Objects in use by an ioctl are not affected by the destroy of others. */
	for (uint32_t id = 1; id <= 10; id++)
		CHECK_OK(_destroy(id));
	TAP_CHECK_EQ(ioas_alloc(), 1, "empty again");
	iommufd_teardown();
}

/* Close with objects and mappings: everything is freed (LSan checks in check-asan). */
static void test_close_frees(void *arg)
{
	for (unsigned int round = 0; round < 3; round++) {
		uint32_t a, b;

		iommufd_setup();
		a = ioas_alloc();
		b = ioas_alloc();
		for (unsigned int i = 0; i < 10; i++)
			ioas_map_fixed(a, buffer, PAGE_SIZE, (i + 1) * PAGE_SIZE);
		ioas_map(b, buffer, BUFFER_SIZE);
		{
			struct iommu_iova_range r = {.start = 1 << 20, .last = (2 << 20) - 1};

			CHECK_OK(_allow_iovas(b, &r, 1));
		}
		iommufd_teardown();
	}
}

static void test_file_api(void *arg)
{
	struct uiommu_file *f2;
	char byte;
	int fd;

	iommufd_setup();
	fd = uiommu_file_fd(self_file);
	TAP_CHECK(fd > 2, "backing fd %d", fd);
	TAP_CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "O_CLOEXEC applied");
	TAP_CHECK(uiommu_file_from_fd(fd) == self_file, "from_fd");
	TAP_CHECK(!uiommu_file_from_fd(0) && errno == EBADF, "stdin is not ours");
	TAP_CHECK(!uiommu_file_from_fd(-1) && errno == EBADF, "-1");

	/* No read/write on the iommufd. */
	TAP_CHECK(uiommu_read(self_file, &byte, 1) == -1 && errno == EINVAL, "read");
	TAP_CHECK(uiommu_write(self_file, &byte, 1) == -1 && errno == EINVAL, "write");
	/* No poll method: always ready, as Linux reports it; and poll(2) agrees. */
	TAP_CHECK_EQ(uiommu_poll(self_file, POLLIN | POLLOUT), POLLIN | POLLOUT, "poll");
	TAP_CHECK_EQ(uiommu_poll(self_file, POLLPRI), 0, "poll pri");
	{
		struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};

		TAP_CHECK_EQ(poll(&p, 1, 0), 1, "poll(2)");
		TAP_CHECK_EQ(p.revents, POLLIN | POLLOUT, "poll(2) revents");
	}
	/* mmap: Linux's checks, then no region (ENXIO). */
	TAP_CHECK(uiommu_mmap(self_file, NULL, 100, PROT_READ, MAP_SHARED, 0) == MAP_FAILED &&
			  errno == EINVAL,
		  "unaligned length");
	TAP_CHECK(uiommu_mmap(self_file, NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE, 0) ==
				  MAP_FAILED &&
			  errno == EINVAL,
		  "private");
	TAP_CHECK(uiommu_mmap(self_file, NULL, PAGE_SIZE, PROT_READ | PROT_EXEC, MAP_SHARED, 0) ==
				  MAP_FAILED &&
			  errno == EPERM,
		  "exec");
	TAP_CHECK(uiommu_mmap(self_file, NULL, PAGE_SIZE, PROT_READ, MAP_SHARED, 0) == MAP_FAILED &&
			  errno == ENXIO,
		  "no region");

	/* Two opens are two contexts with their own IDs. */
	f2 = uiommu_open("/dev/iommu", O_RDWR);
	TAP_CHECK(f2, "second open");
	TAP_CHECK(!(fcntl(uiommu_file_fd(f2), F_GETFD) & FD_CLOEXEC), "no O_CLOEXEC");
	{
		struct iommu_ioas_alloc a = {.size = sizeof(a)};

		CHECK_OK(uiommu_ioctl(f2, IOMMU_IOAS_ALLOC, &a));
		TAP_CHECK_EQ(a.out_ioas_id, 1, "own ID space");
	}
	TAP_CHECK_EQ(ioas_alloc(), 1, "own ID space");
	TAP_CHECK_EQ(uiommu_close(f2), 0, "close");

	/* Unknown paths. */
	TAP_CHECK(!uiommu_open("/dev/iommu0", O_RDWR) && errno == ENOENT, "ENOENT path");
	TAP_CHECK(!uiommu_open("/dev/null", O_RDWR) && errno == ENOENT, "not ours");
	TAP_CHECK(!uiommu_open(NULL, O_RDWR) && errno == EFAULT, "NULL path");

	iommufd_teardown();
	TAP_CHECK(!uiommu_file_from_fd(fd) || uiommu_file_from_fd(fd) != self_file,
		  "fd forgotten after close");
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"cmd_fail: ENOENT, EFAULT, ENOTTY ladder", test_cmd_fail},
		{"fault edges: straddling and read-only structs", test_fault_edges},
		{"cmd_length: min_size-1, sizeof+1 (E2BIG / zero tail)", test_cmd_length},
		{"cmd_ex_fail: a longer struct with a future field", test_cmd_ex_fail},
		{"reserved fields and unknown flags: EOPNOTSUPP", test_reserved_fields},
		{"object ids: lowest free, reuse, failed ioctls", test_ids},
		{"close frees objects and mappings", test_close_frees},
		{"file API: fd, from_fd, read/write, poll, mmap", test_file_api},
	};

	tap_plan(ARRAY_SIZE_T(tests));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
