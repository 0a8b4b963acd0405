/* SPDX-License-Identifier: MIT */
/*
 * tests/func/iommufd_utils.h - helpers for the functional tests of
 * /dev/iommu: every call is a real ioctl through the public API
 * (uiommu_open() / uiommu_ioctl()) with the uAPI structs of
 * <linux/iommufd.h>.
 *
 * Helper pairs, in the kernel selftest's habit: _ioas_map() returns 0 or an
 * errno, ioas_map() checks success (TAP_CHECK, which ends the test point).
 * The file under test is the global `self_file` (opened by iommufd_setup()).
 */
#ifndef UIOMMU_TESTS_FUNC_IOMMUFD_UTILS_H
#define UIOMMU_TESTS_FUNC_IOMMUFD_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <uiommu/uiommu.h>

#include "tap.h"

#ifndef PAGE_SIZE
#define PAGE_SIZE 4096UL
#endif
#define HUGEPAGE_SIZE		  (2UL << 20)
#define BUFFER_SIZE		  (16 * PAGE_SIZE)
#define ARRAY_SIZE_T(a)		  (sizeof(a) / sizeof((a)[0]))
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))

static struct uiommu_file *self_file;
static void *buffer; /* BUFFER_SIZE bytes, 2 MiB aligned, MAP_SHARED | MAP_ANONYMOUS */

/* errno of a call that returned -1, 0 on success (the value is ignored). */
#define IOCTL_ERRNO(req, arg) (uiommu_ioctl(self_file, (req), (arg)) ? errno : 0)

#define CHECK_ERRNO(expected, call)                                                          \
	do {                                                                                 \
		int rc_ = (call);                                                            \
		int e_ = errno;                                                              \
		TAP_CHECK(rc_ == -1 && e_ == (expected), "%s: rc %d errno %d (%s), want %s", \
			  #call, rc_, rc_ == -1 ? e_ : 0, rc_ == -1 ? strerror(e_) : "-",    \
			  strerror(expected));                                               \
	} while (0)

#define CHECK_OK(call)                                                            \
	do {                                                                      \
		int rc_ = (call);                                                 \
		TAP_CHECK(rc_ == 0, "%s: rc %d errno %d (%s)", #call, rc_, errno, \
			  strerror(errno));                                       \
	} while (0)

static inline void buffer_init(void)
{
	void *p;
	int rc;

	if (buffer)
		return;
	rc = posix_memalign(&p, HUGEPAGE_SIZE, BUFFER_SIZE);
	if (rc) {
		printf("Bail out! posix_memalign\n");
		exit(1);
	}
	buffer = mmap(p, BUFFER_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (buffer != p) {
		printf("Bail out! mmap buffer\n");
		exit(1);
	}
	memset(buffer, 0, BUFFER_SIZE);
}

static inline void iommufd_setup(void)
{
	buffer_init();
	self_file = uiommu_open("/dev/iommu", O_RDWR | O_CLOEXEC);
	TAP_CHECK(self_file, "uiommu_open: %s", strerror(errno));
}

static inline void iommufd_teardown(void)
{
	if (self_file)
		TAP_CHECK(uiommu_close(self_file) == 0, "close: %s", strerror(errno));
	self_file = NULL;
}

static inline int _ioas_alloc(uint32_t *id)
{
	struct iommu_ioas_alloc cmd = {.size = sizeof(cmd)};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline uint32_t ioas_alloc(void)
{
	uint32_t id = 0;

	CHECK_OK(_ioas_alloc(&id));
	TAP_CHECK(id != 0, "IOAS id 0");
	return id;
}

static inline int _destroy(uint32_t id)
{
	struct iommu_destroy cmd = {.size = sizeof(cmd), .id = id};

	return uiommu_ioctl(self_file, IOMMU_DESTROY, &cmd);
}

static inline int _ioas_map(uint32_t ioas_id, void *buf, uint64_t length, uint64_t *iova,
			    uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = *iova,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

#define MAP_RW (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* Automatic IOVA. */
static inline uint64_t ioas_map(uint32_t ioas_id, void *buf, uint64_t length)
{
	uint64_t iova = 0;

	CHECK_OK(_ioas_map(ioas_id, buf, length, &iova, MAP_RW));
	return iova;
}

static inline void ioas_map_fixed(uint32_t ioas_id, void *buf, uint64_t length, uint64_t iova)
{
	uint64_t v = iova;

	CHECK_OK(_ioas_map(ioas_id, buf, length, &v, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	TAP_CHECK(v == iova, "fixed map moved: 0x%llx", (unsigned long long)v);
}

static inline int _ioas_unmap(uint32_t ioas_id, uint64_t iova, uint64_t length, uint64_t *out_len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_UNMAP, &cmd);

	if (out_len)
		*out_len = cmd.length;
	return rc;
}

static inline void ioas_unmap(uint32_t ioas_id, uint64_t iova, uint64_t length)
{
	uint64_t out = 0;

	CHECK_OK(_ioas_unmap(ioas_id, iova, length, &out));
	TAP_CHECK(out == length, "unmapped 0x%llx, want 0x%llx", (unsigned long long)out,
		  (unsigned long long)length);
}

static inline int _iova_ranges(uint32_t ioas_id, struct iommu_iova_range *ranges, uint32_t *num,
			       uint64_t *align)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_IOVA_RANGES, &cmd);

	*num = cmd.num_iovas;
	if (align)
		*align = cmd.out_iova_alignment;
	return rc;
}

static inline int _allow_iovas(uint32_t ioas_id, struct iommu_iova_range *ranges, uint32_t num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)ranges,
	};

	return uiommu_ioctl(self_file, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

static inline int _option(uint32_t option_id, uint16_t op, uint32_t object_id, uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_OPTION, &cmd);

	*val = cmd.val64;
	return rc;
}

static inline int _copy(uint32_t dst_ioas, uint64_t *dst_iova, uint32_t src_ioas, uint64_t src_iova,
			uint64_t length, uint32_t flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = length,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_COPY, &cmd);

	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

static inline int _map_file(uint32_t ioas_id, int fd, uint64_t start, uint64_t length,
			    uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.fd = fd,
		.start = start,
		.length = length,
		.iova = *iova,
	};
	int rc = uiommu_ioctl(self_file, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

/* The lowest set bit of a non-zero value. */
static inline uint64_t lowbit(uint64_t v)
{
	return v & -v;
}

static inline uint64_t roundup_pow2(uint64_t v)
{
	uint64_t r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

/*
 * The alignment the automatic IOVA must have, computed by hand from the
 * rule: min(roundup_pow_of_two(length), lowest set bit of the source),
 * capped at 2 MiB.
 */
static inline uint64_t expected_auto_align(uint64_t src, uint64_t length)
{
	uint64_t a = roundup_pow2(length);

	if (src && lowbit(src) < a)
		a = lowbit(src);
	if (a > HUGEPAGE_SIZE)
		a = HUGEPAGE_SIZE;
	return a;
}

#endif
