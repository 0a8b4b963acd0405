// SPDX-License-Identifier: MIT
/*
 * IOAS ioctls through real ioctls, without domains (reference iommufd.md
 * §4.2, §4.9): IOVA_RANGES (counts, EMSGSIZE with the count written back),
 * ALLOW_IOVAS, MAP and its errno order, automatic IOVAs checked against the
 * alignment rule computed by hand, UNMAP (whole areas only, unmap-all, the
 * length written back), COPY, MAP_FILE, the HUGE_PAGES and RLIMIT_MODE
 * options, CHANGE_PROCESS. Reserved ranges come from the test helper that
 * stands for the selftest's ADD_RESERVED.
 */
#include "iommufd_internal.h"

static void test_ioas_alloc_destroy(void *arg)
{
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 0);
	/* An IOAS with areas but no users can be destroyed. */
	CHECK_OK(_destroy(ioas));
	CHECK_ERRNO(ENOENT, _destroy(ioas));
	iommufd_teardown();
}

static void test_iova_ranges(void *arg)
{
	struct iommu_iova_range ranges[4];
	uint64_t align;
	uint32_t ioas, num;

	iommufd_setup();
	ioas = ioas_alloc();

	num = 4;
	memset(ranges, 0xaa, sizeof(ranges));
	CHECK_OK(_iova_ranges(ioas, ranges, &num, &align));
	TAP_CHECK_EQ(num, 1, "one range");
	TAP_CHECK(ranges[0].start == 0 && ranges[0].last == UINT64_MAX, "whole space");
	TAP_CHECK_EQ(align, 1, "alignment of an IOAS without domains");
	TAP_CHECK(ranges[1].start == 0xaaaaaaaaaaaaaaaaULL, "only num_iovas entries written");

	/* Too small: the count is written back, nothing else. */
	num = 0;
	memset(ranges, 0, sizeof(ranges));
	CHECK_ERRNO(EMSGSIZE, _iova_ranges(ioas, ranges, &num, NULL));
	TAP_CHECK_EQ(num, 1, "count written back with EMSGSIZE");
	TAP_CHECK(!ranges[0].start && !ranges[0].last, "nothing written");
	/* ... even with a NULL array. */
	num = 0;
	CHECK_ERRNO(EMSGSIZE, _iova_ranges(ioas, NULL, &num, NULL));
	TAP_CHECK_EQ(num, 1, "count");
	/* A bad array pointer is EFAULT. */
	num = 1;
	CHECK_ERRNO(EFAULT, _iova_ranges(ioas, (void *)8, &num, NULL));
	/* Bad IOAS. */
	num = 4;
	CHECK_ERRNO(ENOENT, _iova_ranges(ioas + 1, ranges, &num, NULL));

	/* Two holes around a reservation. */
	TAP_CHECK_EQ(test_add_reserved(ioas, PAGE_SIZE, PAGE_SIZE), 0, "reserve");
	num = 4;
	CHECK_OK(_iova_ranges(ioas, ranges, &num, NULL));
	TAP_CHECK_EQ(num, 2, "two ranges");
	TAP_CHECK(ranges[0].start == 0 && ranges[0].last == PAGE_SIZE - 1, "first");
	TAP_CHECK(ranges[1].start == 2 * PAGE_SIZE && ranges[1].last == UINT64_MAX, "second");
	num = 1;
	memset(ranges, 0, sizeof(ranges));
	CHECK_ERRNO(EMSGSIZE, _iova_ranges(ioas, ranges, &num, NULL));
	TAP_CHECK_EQ(num, 2, "count 2");
	TAP_CHECK(ranges[0].start == 0 && ranges[0].last == PAGE_SIZE - 1, "first filled");
	TAP_CHECK(!ranges[1].start && !ranges[1].last, "second not written");
	/* Areas do not change the ranges (they are usable IOVA). */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 4 * PAGE_SIZE);
	num = 4;
	CHECK_OK(_iova_ranges(ioas, ranges, &num, NULL));
	TAP_CHECK_EQ(num, 2, "areas are not holes");
	iommufd_teardown();
}

static void test_allow_iovas(void *arg)
{
	struct iommu_iova_range r[3];
	uint64_t iova;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();

	/* start must be below last; ranges may not overlap. */
	r[0] = (struct iommu_iova_range){.start = 1 << 20, .last = 1 << 20};
	CHECK_ERRNO(EINVAL, _allow_iovas(ioas, r, 1));
	r[0] = (struct iommu_iova_range){.start = 2 << 20, .last = 1 << 20};
	CHECK_ERRNO(EINVAL, _allow_iovas(ioas, r, 1));
	r[0] = (struct iommu_iova_range){.start = 1 << 20, .last = (4 << 20) - 1};
	r[1] = (struct iommu_iova_range){.start = 3 << 20, .last = (8 << 20) - 1};
	CHECK_ERRNO(EINVAL, _allow_iovas(ioas, r, 2));
	CHECK_ERRNO(EFAULT, _allow_iovas(ioas, NULL, 1));
	CHECK_ERRNO(ENOENT, _allow_iovas(ioas + 1, r, 1));

	/* Automatic IOVAs come from the allowed ranges. */
	r[0] = (struct iommu_iova_range){.start = 256 << 20, .last = (257 << 20) - 1};
	CHECK_OK(_allow_iovas(ioas, r, 1));
	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	TAP_CHECK(iova >= r[0].start && iova + PAGE_SIZE - 1 <= r[0].last, "iova 0x%llx in range",
		  (unsigned long long)iova);
	/* A fixed IOVA outside is allowed. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 16 * PAGE_SIZE);
	/* Too big for the allowed range: ENOSPC. */
	iova = 0;
	CHECK_ERRNO(ENOSPC, _ioas_map(ioas, buffer, 2 << 20, &iova, MAP_RW));

	/* Allowed and reserved may not meet: either way round. */
	TAP_CHECK_EQ(test_add_reserved(ioas, (256 << 20) + 8 * PAGE_SIZE, PAGE_SIZE), -EADDRINUSE,
		     "reserve over allowed");
	TAP_CHECK_EQ(test_add_reserved(ioas, 1 << 30, PAGE_SIZE), 0, "reserve elsewhere");
	r[1] = (struct iommu_iova_range){.start = (1 << 30) - PAGE_SIZE, .last = (1 << 30)};
	CHECK_ERRNO(EADDRINUSE, _allow_iovas(ioas, r, 2));
	/* The failed replacement kept the old list. */
	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	TAP_CHECK(iova >= r[0].start && iova <= r[0].last, "old list kept");
	/* A reservation may not cover an area either. */
	TAP_CHECK_EQ(test_add_reserved(ioas, 16 * PAGE_SIZE, 1), -EADDRINUSE, "reserve over area");

	/* Clearing the list: anywhere again (never 0). */
	CHECK_OK(_allow_iovas(ioas, NULL, 0));
	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	TAP_CHECK(iova != 0, "never IOVA 0");
	iommufd_teardown();
}

/* A raw MAP with every field given; defaults are a valid one-page map. */
struct map_args {
	uint32_t flags, ioas_id;
	uint64_t user_va, length, iova;
};

static int map_raw(struct map_args a)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = a.flags,
		.ioas_id = a.ioas_id,
		.user_va = a.user_va,
		.length = a.length,
		.iova = a.iova,
	};

	return uiommu_ioctl(self_file, IOMMU_IOAS_MAP, &m);
}

/* MAP errors, each struct arranged so two checks fail: the earlier one wins. */
static void test_map_errno_order(void *arg)
{
	uint32_t ioas;
	uint64_t iova;

	iommufd_setup();
	ioas = ioas_alloc();

	/* flags/reserved before everything. */
	CHECK_ERRNO(EOPNOTSUPP, map_raw((struct map_args){.flags = 1u << 5,
							  .ioas_id = 999,
							  .user_va = (uintptr_t)buffer,
							  .length = PAGE_SIZE,
							  .iova = UINT64_MAX}));
	/* Then IOVA / length overflow. */
	CHECK_ERRNO(EOVERFLOW, map_raw((struct map_args){.flags = 0,
							 .ioas_id = 999,
							 .user_va = (uintptr_t)buffer,
							 .length = PAGE_SIZE,
							 .iova = UINT64_MAX}));
	CHECK_ERRNO(EOVERFLOW, map_raw((struct map_args){.flags = 0,
							 .ioas_id = ioas,
							 .user_va = (uintptr_t)buffer,
							 .length = UINT64_MAX,
							 .iova = 0}));
	/* Then a permission bit. */
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = 999,
						      .user_va = (uintptr_t)buffer,
						      .length = PAGE_SIZE,
						      .iova = 0}));
	/* Then the IOAS. */
	CHECK_ERRNO(ENOENT, map_raw((struct map_args){.flags = MAP_RW,
						      .ioas_id = 999,
						      .user_va = (uintptr_t)buffer,
						      .length = 0,
						      .iova = 0}));
	CHECK_ERRNO(ENOENT, map_raw((struct map_args){.flags = MAP_RW,
						      .ioas_id = 0,
						      .user_va = (uintptr_t)buffer,
						      .length = PAGE_SIZE,
						      .iova = 0}));
	/* Then the user range wrapping, then a zero length. */
	CHECK_ERRNO(EOVERFLOW, map_raw((struct map_args){.flags = MAP_RW,
							 .ioas_id = ioas,
							 .user_va = UINT64_MAX - 100,
							 .length = 200,
							 .iova = 0}));
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = MAP_RW,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = 0,
						      .iova = 0}));
	/* Fixed: wrapping IOVA range. */
	CHECK_ERRNO(EOVERFLOW,
		    map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
					      .ioas_id = ioas,
					      .user_va = (uintptr_t)buffer,
					      .length = 2 * PAGE_SIZE,
					      .iova = UINT64_MAX - PAGE_SIZE + 1}));
	/* Fixed: reserved before occupied. */
	ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, 1 << 20);
	TAP_CHECK_EQ(test_add_reserved(ioas, (1 << 20) + 8 * PAGE_SIZE, PAGE_SIZE), 0, "reserve");
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = 8 * PAGE_SIZE,
						      .iova = (1 << 20) + 3 * PAGE_SIZE}));
	CHECK_ERRNO(EEXIST, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = 2 * PAGE_SIZE,
						      .iova = (1 << 20) + 3 * PAGE_SIZE}));
	CHECK_ERRNO(EEXIST, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = 2 * PAGE_SIZE,
						      .iova = (1 << 20) - PAGE_SIZE}));
	/* Existing mappings are never replaced: the old one is still there. */
	ioas_unmap(ioas, 1 << 20, 4 * PAGE_SIZE);

	/* Alignment: huge pages off makes it PAGE_SIZE. */
	{
		uint64_t v = 0;

		CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &v));
	}
	/* Unaligned length before unaligned IOVA. */
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = PAGE_SIZE + 1,
						      .iova = 100}));
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer,
						      .length = PAGE_SIZE,
						      .iova = 100}));
	/* The source's in-page offset must be aligned too. */
	CHECK_ERRNO(EINVAL, map_raw((struct map_args){.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
						      .ioas_id = ioas,
						      .user_va = (uintptr_t)buffer + 2048,
						      .length = PAGE_SIZE,
						      .iova = 1 << 24}));
	/* Automatic: a source aligned below the IOAS alignment cannot be placed. */
	iova = 0;
	CHECK_ERRNO(EINVAL, _ioas_map(ioas, (uint8_t *)buffer + 2048, PAGE_SIZE, &iova, MAP_RW));
	iommufd_teardown();
}

static void check_auto(uint32_t ioas, void *src, uint64_t length)
{
	uint64_t iova = ioas_map(ioas, src, length);
	uint64_t align = expected_auto_align((uintptr_t)src, length);

	TAP_CHECK(iova != 0, "IOVA 0 for length 0x%llx", (unsigned long long)length);
	TAP_CHECK(((iova & ~(PAGE_SIZE - 1)) % MIN(align, PAGE_SIZE) == 0) &&
			  (align <= PAGE_SIZE || iova % align == 0),
		  "iova 0x%llx not aligned to 0x%llx (src %p len 0x%llx)", (unsigned long long)iova,
		  (unsigned long long)align, src, (unsigned long long)length);
	TAP_CHECK(iova % PAGE_SIZE == (uintptr_t)src % PAGE_SIZE,
		  "in-page offset not kept: iova 0x%llx src %p", (unsigned long long)iova, src);
	ioas_unmap(ioas, iova, length);
}

static void test_auto_iova(void *arg)
{
	uint64_t iovas[10];
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	/* Every length from 1 byte to two pages (the selftest's ioas_iova_alloc). */
	for (uint64_t len = 1; len < 2 * PAGE_SIZE; len += 37)
		check_auto(ioas, buffer, len);
	/* Sources with every low-bit alignment. */
	for (unsigned int shift = 0; shift < 21; shift++)
		check_auto(ioas, (uint8_t *)buffer + (1UL << shift) % BUFFER_SIZE, PAGE_SIZE);
	/* Big lengths: capped at 2 MiB alignment; the address itself need not be mapped. */
	check_auto(ioas, (void *)(1UL << 40), 64UL << 20);
	check_auto(ioas, (void *)(3UL << 30), 3 * PAGE_SIZE);

	/* The selftest's area_auto_iova: i pages at 2 GiB, aligned to ffs(length). */
	for (int i = 0; i != 10; i++) {
		uint64_t length = PAGE_SIZE * (i + 1);

		iovas[i] = ioas_map(ioas, (void *)(1UL << 31), length);
		TAP_CHECK(iovas[i] % (1ULL << (__builtin_ffsll(length) - 1)) == 0, "aligned");
	}
	for (int i = 0; i != 10; i++)
		ioas_unmap(ioas, iovas[i], PAGE_SIZE * (i + 1));

	/* Avoids a reserved region. */
	TAP_CHECK_EQ(test_add_reserved(ioas, PAGE_SIZE * 4, PAGE_SIZE * 100), 0, "reserve");
	for (int i = 0; i != 10; i++) {
		uint64_t length = PAGE_SIZE * (i + 1);

		iovas[i] = ioas_map(ioas, buffer, length);
		TAP_CHECK(!(iovas[i] + length > PAGE_SIZE * 4 && iovas[i] < PAGE_SIZE * 104),
			  "inside the reservation");
	}
	for (int i = 0; i != 10; i++)
		ioas_unmap(ioas, iovas[i], PAGE_SIZE * (i + 1));
	/* The first fit: the smallest aligned hole, from PAGE_SIZE up. */
	TAP_CHECK_EQ(ioas_map(ioas, buffer, PAGE_SIZE), PAGE_SIZE, "first fit");
	TAP_CHECK_EQ(ioas_map(ioas, buffer, PAGE_SIZE), 2 * PAGE_SIZE, "second fit");
	TAP_CHECK_EQ(ioas_map(ioas, buffer, 2 * PAGE_SIZE), 104 * PAGE_SIZE, "after the hole");
	iommufd_teardown();
}

/* The selftest's reserved_overflow: the alignment round-up must not wrap. */
static void test_auto_iova_overflow(void *arg)
{
	uint64_t iova = 0;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	TAP_CHECK_EQ(test_add_reserved(ioas, 6, 0xffffffffffff8001ULL), 0, "reserve");
	CHECK_ERRNO(ENOSPC, _ioas_map(ioas, buffer, 0x5000, &iova, MAP_RW));
	/* Absurd lengths: EOVERFLOW from the search. */
	CHECK_ERRNO(EOVERFLOW, _ioas_map(ioas, (void *)0, UINT64_MAX / 2, &iova, MAP_RW));
	iommufd_teardown();
}

static void test_unmap(void *arg)
{
	uint64_t len;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	/* Nothing mapped. */
	for (int i = 0; i != 10; i++)
		CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, i * PAGE_SIZE, PAGE_SIZE, NULL));
	CHECK_ERRNO(EINVAL, _ioas_unmap(ioas, 0, 0, NULL));
	CHECK_ERRNO(EOVERFLOW, _ioas_unmap(ioas, UINT64_MAX, 1, NULL));
	CHECK_ERRNO(EOVERFLOW, _ioas_unmap(ioas, 1, UINT64_MAX, NULL));
	CHECK_ERRNO(EOVERFLOW, _ioas_unmap(ioas, UINT64_MAX - 10, 100, NULL));
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas + 1, 0, PAGE_SIZE, NULL));
	/* Unmap-all of an empty IOAS succeeds with length 0. */
	len = 1;
	CHECK_OK(_ioas_unmap(ioas, 0, UINT64_MAX, &len));
	TAP_CHECK_EQ(len, 0, "nothing unmapped");

	/* Page by page. */
	for (int i = 0; i != 10; i++)
		ioas_map_fixed(ioas, buffer, PAGE_SIZE, (16 + i) * PAGE_SIZE);
	for (int i = 0; i != 10; i++)
		ioas_unmap(ioas, (16 + i) * PAGE_SIZE, PAGE_SIZE);

	/* No splitting. */
	ioas_map_fixed(ioas, buffer, 2 * PAGE_SIZE, 16 * PAGE_SIZE);
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 16 * PAGE_SIZE, PAGE_SIZE, NULL));
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 17 * PAGE_SIZE, PAGE_SIZE, NULL));
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 15 * PAGE_SIZE, 2 * PAGE_SIZE, NULL));
	/* Over-mapping fails. */
	{
		uint64_t v;
		const uint32_t fx = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA;

		v = 16 * PAGE_SIZE;
		CHECK_ERRNO(EEXIST, _ioas_map(ioas, buffer, PAGE_SIZE * 2, &v, fx));
		v = 17 * PAGE_SIZE;
		CHECK_ERRNO(EEXIST, _ioas_map(ioas, buffer, PAGE_SIZE, &v, fx));
		v = 15 * PAGE_SIZE;
		CHECK_ERRNO(EEXIST, _ioas_map(ioas, buffer, PAGE_SIZE * 3, &v, fx));
	}
	/* Unmap-all returns what it removed. */
	len = 0;
	CHECK_OK(_ioas_unmap(ioas, 0, UINT64_MAX, &len));
	TAP_CHECK_EQ(len, 2 * PAGE_SIZE, "unmap-all length");

	/* The selftest's unmap_fully_contained_areas. */
	for (int i = 0; i != 4; i++)
		ioas_map_fixed(ioas, buffer, 8 * PAGE_SIZE, (1 << 20) + i * 16 * PAGE_SIZE);
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, (1 << 20) - 4 * PAGE_SIZE, 8 * PAGE_SIZE, NULL));
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, (1 << 20) + 3 * 16 * PAGE_SIZE + 4 * PAGE_SIZE,
					8 * PAGE_SIZE, NULL));
	len = 0;
	CHECK_OK(_ioas_unmap(ioas, (1 << 20) - 4 * PAGE_SIZE, 3 * 16 * PAGE_SIZE + 16 * PAGE_SIZE,
			     &len));
	TAP_CHECK_EQ(len, 32 * PAGE_SIZE, "four areas in one call");

	/* Areas before the one that sticks out are removed (no atomicity, as Linux). */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 0);
	ioas_map_fixed(ioas, buffer, 2 * PAGE_SIZE, 4 * PAGE_SIZE);
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 0, 5 * PAGE_SIZE, NULL));
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 0, PAGE_SIZE, NULL));
	ioas_unmap(ioas, 4 * PAGE_SIZE, 2 * PAGE_SIZE);
	iommufd_teardown();
}

static void test_copy(void *arg)
{
	uint32_t a, b;
	uint64_t iova;

	iommufd_setup();
	a = ioas_alloc();
	b = ioas_alloc();
	ioas_map_fixed(a, buffer, 4 * PAGE_SIZE, 1 << 20);

	/* Within one IOAS, then between two. */
	iova = (1 << 20) + 8 * PAGE_SIZE;
	CHECK_OK(_copy(a, &iova, a, 1 << 20, PAGE_SIZE, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	iova = 0;
	CHECK_OK(_copy(b, &iova, a, 1 << 20, 4 * PAGE_SIZE, MAP_RW));
	TAP_CHECK(iova != 0 && iova % (4 * PAGE_SIZE) == 0, "auto dst iova aligned");
	/* Any covered sub-range, at any byte offset (copy_sweep). */
	for (uint64_t off = 0; off + 2048 <= 4 * PAGE_SIZE; off += 511) {
		uint64_t dst = 0;

		CHECK_OK(_copy(b, &dst, a, (1 << 20) + off, 2048, MAP_RW));
		TAP_CHECK(dst % PAGE_SIZE == off % PAGE_SIZE, "offset kept");
		ioas_unmap(b, dst, 2048);
	}
	/* A range spanning two contiguous areas. */
	ioas_map_fixed(a, buffer, PAGE_SIZE, (1 << 20) + 4 * PAGE_SIZE);
	iova = 0;
	CHECK_OK(_copy(b, &iova, a, (1 << 20) + 3 * PAGE_SIZE, 2 * PAGE_SIZE, MAP_RW));

	/* Errors in order: flags, overflow, permission, src, src range, dst. */
	iova = 0;
	CHECK_ERRNO(EOPNOTSUPP, _copy(999, &iova, 999, 0, 0, 1u << 7));
	CHECK_ERRNO(EOVERFLOW, _copy(999, &iova, 999, UINT64_MAX, 0, 0));
	CHECK_ERRNO(EINVAL, _copy(999, &iova, 999, 0, PAGE_SIZE, 0));
	CHECK_ERRNO(ENOENT, _copy(b, &iova, 999, 1 << 20, 0, MAP_RW));
	CHECK_ERRNO(EINVAL, _copy(999, &iova, a, 1 << 20, 0, MAP_RW));
	CHECK_ERRNO(EOVERFLOW, _copy(999, &iova, a, UINT64_MAX - 1, 3, MAP_RW));
	/* Not covered: a gap, or past the end. */
	CHECK_ERRNO(ENOENT, _copy(999, &iova, a, (1 << 20) + 4 * PAGE_SIZE, 2 * PAGE_SIZE, MAP_RW));
	CHECK_ERRNO(ENOENT, _copy(b, &iova, a, 0, PAGE_SIZE, MAP_RW));
	CHECK_ERRNO(ENOENT, _copy(999, &iova, a, 1 << 20, PAGE_SIZE, MAP_RW));
	/* Destination rules are MAP's. */
	iova = 1 << 20;
	CHECK_ERRNO(EEXIST,
		    _copy(a, &iova, a, 1 << 20, PAGE_SIZE, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	/* Writeable copy of a read-only mapping: EPERM. */
	ioas_map_fixed(a, buffer, PAGE_SIZE, 64 * PAGE_SIZE);
	{
		uint64_t v = 128 * PAGE_SIZE;

		CHECK_OK(_ioas_map(a, buffer, PAGE_SIZE, &v,
				   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
		iova = 0;
		CHECK_ERRNO(EPERM, _copy(b, &iova, a, 128 * PAGE_SIZE, PAGE_SIZE, MAP_RW));
		CHECK_OK(_copy(b, &iova, a, 128 * PAGE_SIZE, PAGE_SIZE, IOMMU_IOAS_MAP_READABLE));
	}
	/* The source can go; the copy stays. */
	CHECK_OK(_ioas_unmap(a, 0, UINT64_MAX, NULL));
	CHECK_OK(_destroy(a));
	{
		uint32_t num = 0;

		CHECK_ERRNO(EMSGSIZE, _iova_ranges(b, NULL, &num, NULL));
	}
	ioas_unmap(b, iova, PAGE_SIZE);
	iommufd_teardown();
}

static int memfd_with(size_t size)
{
	int fd = memfd_create("test", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	return fd;
}

static void test_map_file(void *arg)
{
	uint32_t ioas;
	uint64_t iova;
	int mfd, rofd, fd;
	char path[64];

	iommufd_setup();
	ioas = ioas_alloc();
	mfd = memfd_with(4 * PAGE_SIZE);
	TAP_CHECK(mfd >= 0, "memfd");

	iova = 0;
	CHECK_OK(_map_file(ioas, mfd, 0, PAGE_SIZE, &iova, MAP_RW));
	TAP_CHECK(iova != 0, "auto iova");
	/* The file offset's alignment drives the automatic IOVA. */
	iova = 0;
	CHECK_OK(_map_file(ioas, mfd, PAGE_SIZE + 512, 512, &iova, MAP_RW));
	TAP_CHECK_EQ(iova % 1024, 512, "offset kept");
	iova = 1 << 20;
	CHECK_OK(_map_file(ioas, mfd, 0, 4 * PAGE_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));

	/* Errors: flags, overflow, permission, IOAS, fd, read-only fd, range. */
	iova = 0;
	CHECK_ERRNO(EOPNOTSUPP, _map_file(999, -1, 0, 0, &iova, 1u << 9));
	CHECK_ERRNO(EOVERFLOW, _map_file(999, -1, 0, UINT64_MAX, &iova, MAP_RW));
	CHECK_ERRNO(EINVAL, _map_file(999, -1, 0, PAGE_SIZE, &iova, 0));
	CHECK_ERRNO(ENOENT, _map_file(999, -1, 0, PAGE_SIZE, &iova, MAP_RW));
	CHECK_ERRNO(EBADF, _map_file(ioas, -1, 0, PAGE_SIZE, &iova, MAP_RW));
	CHECK_ERRNO(EBADF, _map_file(ioas, 1000, 0, PAGE_SIZE, &iova, MAP_RW));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	rofd = open(path, O_RDONLY | O_CLOEXEC);
	TAP_CHECK(rofd >= 0, "reopen read-only");
	CHECK_ERRNO(EPERM, _map_file(ioas, rofd, 0, PAGE_SIZE, &iova, MAP_RW));
	CHECK_OK(_map_file(ioas, rofd, 0, PAGE_SIZE, &iova, IOMMU_IOAS_MAP_READABLE));
	CHECK_ERRNO(EOVERFLOW, _map_file(ioas, mfd, UINT64_MAX - 10, 100, &iova, MAP_RW));
	CHECK_ERRNO(EINVAL, _map_file(ioas, mfd, 0, 0, &iova, MAP_RW));
	/* Without a domain nothing is pinned: past EOF is accepted until then. */
	CHECK_OK(_map_file(ioas, mfd, 0, 8 * PAGE_SIZE, &iova, MAP_RW));
	/* Closing our fds does not matter to the mappings. */
	close(rofd);
	close(mfd);
	/* A write-sealed memfd cannot be mapped writeable. */
	fd = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	TAP_CHECK(fd >= 0 && !ftruncate(fd, PAGE_SIZE), "memfd");
	TAP_CHECK(!fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), "seal");
	CHECK_ERRNO(EPERM, _map_file(ioas, fd, 0, PAGE_SIZE, &iova, MAP_RW));
	CHECK_OK(_map_file(ioas, fd, 0, PAGE_SIZE, &iova, IOMMU_IOAS_MAP_READABLE));
	close(fd);
	iommufd_teardown();
}

static void test_options(void *arg)
{
	struct iommu_iova_range r[2];
	uint32_t ioas, num;
	uint64_t val, align;

	iommufd_setup();
	/* RLIMIT_MODE: global, object_id 0, default USER (0). */
	val = 1;
	CHECK_OK(_option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &val));
	TAP_CHECK_EQ(val, 0, "user mode");
	CHECK_ERRNO(EOPNOTSUPP, _option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 1, &val));
	val = 1;
	if (uiommu_ioctl(self_file, IOMMU_OPTION,
			 &(struct iommu_option){.size = sizeof(struct iommu_option),
						.option_id = IOMMU_OPTION_RLIMIT_MODE,
						.op = IOMMU_OPTION_OP_SET,
						.val64 = 1})) {
		/* Without CAP_SYS_RESOURCE (test_iommufd_domain covers the rest). */
		TAP_CHECK_EQ(errno, EPERM, "SET needs CAP_SYS_RESOURCE");
	} else {
		val = 2;
		CHECK_ERRNO(EINVAL,
			    _option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &val));
		val = 0;
		CHECK_OK(_option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET, 0, &val));
		TAP_CHECK_EQ(val, 1, "mm mode");
		val = 0;
		CHECK_OK(_option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &val));
	}
	/* HUGE_PAGES: per IOAS. */
	val = 0;
	CHECK_ERRNO(ENOENT, _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, 0, &val));
	CHECK_ERRNO(ENOENT, _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, 0, &val));
	ioas = ioas_alloc();
	if (!uiommu_ioctl(self_file, IOMMU_OPTION,
			  &(struct iommu_option){.size = sizeof(struct iommu_option),
						 .option_id = IOMMU_OPTION_RLIMIT_MODE,
						 .op = IOMMU_OPTION_OP_SET}))
		TAP_CHECK(0, "RLIMIT_MODE SET with objects must fail");
	TAP_CHECK(errno == EPERM || errno == EBUSY, "EBUSY with objects");

	val = 3;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &val));
	TAP_CHECK_EQ(val, 1, "default on");
	val = 2;
	CHECK_ERRNO(EINVAL, _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	/* Off: alignment PAGE_SIZE. */
	val = 0;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	val = 3;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &val));
	TAP_CHECK_EQ(val, 0, "off");
	num = 2;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK_EQ(align, PAGE_SIZE, "alignment raised");
	/* The selftest's ioas_align_change. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 1 << 24);
	val = 0;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	{
		uint64_t v = (1 << 24) + PAGE_SIZE;

		CHECK_ERRNO(EINVAL, _ioas_map(ioas, (uint8_t *)buffer + 2048, PAGE_SIZE, &v,
					      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	}
	val = 1;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	num = 2;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK_EQ(align, 1, "alignment back to 1");
	ioas_map_fixed(ioas, (uint8_t *)buffer + 2048, PAGE_SIZE, (1 << 24) + PAGE_SIZE);
	val = 0;
	CHECK_ERRNO(EADDRINUSE, _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	val = 3;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET, ioas, &val));
	TAP_CHECK_EQ(val, 1, "unchanged after EADDRINUSE");
	ioas_unmap(ioas, (1 << 24) + PAGE_SIZE, PAGE_SIZE);
	ioas_unmap(ioas, 1 << 24, PAGE_SIZE);
	/* val64 is the only field written back. */
	{
		struct iommu_option o = {.size = sizeof(o),
					 .option_id = IOMMU_OPTION_HUGE_PAGES,
					 .op = IOMMU_OPTION_OP_GET,
					 .object_id = ioas,
					 .val64 = 7};

		CHECK_OK(uiommu_ioctl(self_file, IOMMU_OPTION, &o));
		TAP_CHECK(o.val64 == 1 && o.object_id == ioas && o.op == IOMMU_OPTION_OP_GET,
			  "write-back");
	}
	iommufd_teardown();
}

static void test_change_process(void *arg)
{
	struct iommu_ioas_change_process cmd = {.size = sizeof(cmd)};
	uint32_t ioas;
	uint64_t iova;
	int mfd;

	iommufd_setup();
	CHECK_OK(uiommu_ioctl(self_file, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
	ioas = ioas_alloc();
	CHECK_OK(uiommu_ioctl(self_file, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
	/* Non-file maps cannot move. */
	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
	ioas_unmap(ioas, iova, PAGE_SIZE);
	/* File maps can (a no-op within one process). */
	mfd = memfd_with(PAGE_SIZE);
	TAP_CHECK(mfd >= 0, "memfd");
	iova = 0;
	CHECK_OK(_map_file(ioas, mfd, 0, PAGE_SIZE, &iova, MAP_RW));
	ioas_alloc();
	CHECK_OK(uiommu_ioctl(self_file, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
	close(mfd);
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"IOAS alloc and destroy", test_ioas_alloc_destroy},
		{"IOVA_RANGES: holes, EMSGSIZE with the count", test_iova_ranges},
		{"ALLOW_IOVAS: rules, EADDRINUSE, atomic replace", test_allow_iovas},
		{"MAP: errno order", test_map_errno_order},
		{"MAP: automatic IOVA alignment by hand", test_auto_iova},
		{"MAP: automatic IOVA near the top (ENOSPC, EOVERFLOW)", test_auto_iova_overflow},
		{"UNMAP: whole areas, unmap-all, length written back", test_unmap},
		{"COPY: sharing, sub-ranges, errno order, EPERM", test_copy},
		{"MAP_FILE: memfd, EBADF, EPERM, EOVERFLOW, EINVAL, seals", test_map_file},
		{"OPTION: RLIMIT_MODE, HUGE_PAGES, alignment change", test_options},
		{"IOAS_CHANGE_PROCESS", test_change_process},
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
