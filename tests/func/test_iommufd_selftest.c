// SPDX-License-Identifier: MIT
/*
 * IOMMU_TEST_CMD operations (reference iommufd.md §2) and dirty tracking
 * (§4.8) through real ioctls:
 *
 *  - the multiplexer: sizes, unknown ops (the dma-buf ops are in
 *    test_iommufd_dmabuf.c);
 *  - ADD_RESERVED, MD_CHECK_MAP (every 2 KiB alignment, memfd maps through
 *    the library's alias, EFAULT / EINVAL), MD_CHECK_REFS (pins per page,
 *    shared pages of COPY and MAP_FILE, the selftest's close-and-reopen
 *    check);
 *  - access fds: CREATE_ACCESS, ACCESS_PAGES (EBADE, EOPNOTSUPP, unmap
 *    callbacks), DESTROY_ACCESS_PAGES, ACCESS_RW, ACCESS_REPLACE_IOAS,
 *    syzkaller IOVAs, EBADFD, closing destroys;
 *  - dirty tracking: SET_DIRTY_TRACKING and GET_DIRTY_BITMAP errnos, the
 *    DIRTY op, bitmaps at unaligned addresses, NO_CLEAR, 1 MiB IOPTEs, holes.
 */
#include <sys/stat.h>

#include "iommufd_internal.h"
#include "iommufd_objs.h"

static void test_multiplexer(void *arg)
{
	struct {
		struct iommu_test_cmd cmd;
		uint8_t extra;
	} big = {0};
	struct iommu_test_cmd cmd = {0};

	iommufd_setup();
	cmd.op = 9999;
	CHECK_ERRNO(EOPNOTSUPP, _test_cmd(&cmd));
	cmd.op = IOMMU_TEST_OP_MD_CHECK_DMABUF + 1;
	CHECK_ERRNO(EOPNOTSUPP, _test_cmd(&cmd));
	/* Sizes: the minimum ends at last. */
	big.cmd.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT;
	big.cmd.memory_limit.limit = 65536;
	big.cmd.size = offsetof(struct iommu_test_cmd, last) + 3;
	CHECK_ERRNO(EINVAL, uiommu_ioctl(self_file, IOMMU_TEST_CMD, &big));
	big.cmd.size = sizeof(big.cmd) + 1;
	big.extra = 1;
	CHECK_ERRNO(E2BIG, uiommu_ioctl(self_file, IOMMU_TEST_CMD, &big));
	big.extra = 0;
	CHECK_OK(uiommu_ioctl(self_file, IOMMU_TEST_CMD, &big));
	big.cmd.size = offsetof(struct iommu_test_cmd, last) + 4;
	CHECK_OK(uiommu_ioctl(self_file, IOMMU_TEST_CMD, &big));
	/* SET_TEMP_MEMORY_LIMIT needs room for one batch element. */
	CHECK_ERRNO(EINVAL, _set_temp_memory_limit(11));
	CHECK_OK(_set_temp_memory_limit(12));
	CHECK_OK(_set_temp_memory_limit(65536));
	iommufd_teardown();
}

static void test_add_reserved_op(void *arg)
{
	struct iommu_iova_range r[3];
	uint32_t ioas, num;
	uint64_t iova;

	iommufd_setup();
	ioas = ioas_alloc();
	CHECK_ERRNO(EINVAL, _add_reserved(ioas, 1 << 20, 0));
	CHECK_ERRNO(EOVERFLOW, _add_reserved(ioas, UINT64_MAX, 2));
	CHECK_ERRNO(ENOENT, _add_reserved(9999, 1 << 20, PAGE_SIZE));
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 1 << 20);
	CHECK_ERRNO(EADDRINUSE, _add_reserved(ioas, 1 << 20, 1));
	r[0] = (struct iommu_iova_range){.start = 4 << 20, .last = (5 << 20) - 1};
	CHECK_OK(_allow_iovas(ioas, r, 1));
	CHECK_ERRNO(EADDRINUSE, _add_reserved(ioas, (5 << 20) - PAGE_SIZE, 2 * PAGE_SIZE));
	CHECK_OK(_allow_iovas(ioas, NULL, 0));
	CHECK_OK(_add_reserved(ioas, 2 << 20, 1 << 20));
	num = 3;
	CHECK_OK(_iova_ranges(ioas, r, &num, NULL));
	TAP_CHECK(num == 2 && r[0].last == (2 << 20) - 1 && r[1].start == 3 << 20, "hole");
	iova = 2 << 20;
	CHECK_ERRNO(EINVAL,
		    _ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	/* Reservations go with the IOAS. */
	CHECK_OK(_destroy(ioas));
	iommufd_teardown();
}

static void test_check_map(void *arg)
{
	struct mock_dev_ids d;
	uint32_t ioas, nested, parent;
	uint64_t iova;
	uint8_t *user, *hole;
	int mfd;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);

	/* Every start and length at the mock's 2 KiB granule, as all_aligns does. */
	for (uint64_t start = 0; start < 2 * PAGE_SIZE; start += MOCK_PAGE_SIZE) {
		for (uint64_t end = start + MOCK_PAGE_SIZE; end <= 4 * PAGE_SIZE;
		     end += MOCK_PAGE_SIZE) {
			iova = 0;
			CHECK_OK(_ioas_map(ioas, (uint8_t *)buffer + start, end - start, &iova,
					   MAP_RW));
			CHECK_OK(_check_map(d.hwpt, iova, end - start, (uint8_t *)buffer + start));
			/* Off by one granule: a mismatch. */
			if (end - start > MOCK_PAGE_SIZE)
				CHECK_ERRNO(EINVAL,
					    _check_map(d.hwpt, iova, end - start - MOCK_PAGE_SIZE,
						       (uint8_t *)buffer + start + MOCK_PAGE_SIZE));
			CHECK_OK(_check_refs((uint8_t *)buffer + start / PAGE_SIZE * PAGE_SIZE,
					     (end + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE -
						     start / PAGE_SIZE * PAGE_SIZE,
					     1));
			ioas_unmap(ioas, iova, end - start);
		}
	}
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 0));

	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova + 1, MOCK_PAGE_SIZE, buffer));
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova, MOCK_PAGE_SIZE + 1, buffer));
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova, MOCK_PAGE_SIZE, (uint8_t *)buffer + 1));
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova, MOCK_PAGE_SIZE,
				       (void *)(uintptr_t)(UINT64_MAX & ~(MOCK_PAGE_SIZE - 1ULL))));
	/* Not mapped in the domain. */
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova + PAGE_SIZE, MOCK_PAGE_SIZE, buffer));
	/* Not a paging HWPT, not a HWPT. */
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested = hwpt_alloc_nested(d.idev, parent, 0);
	CHECK_ERRNO(ENOENT, _check_map(nested, iova, MOCK_PAGE_SIZE, buffer));
	CHECK_ERRNO(ENOENT, _check_map(ioas, iova, MOCK_PAGE_SIZE, buffer));
	CHECK_OK(_check_map(parent, iova, PAGE_SIZE, buffer));
	/* User memory that is not there: EFAULT, as GUP gives. */
	hole = mmap(NULL, PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(hole != MAP_FAILED, "mmap");
	CHECK_ERRNO(EFAULT, _check_map(d.hwpt, iova, PAGE_SIZE, hole));
	CHECK_ERRNO(EFAULT, _check_refs(hole, PAGE_SIZE, 0));
	munmap(hole, PAGE_SIZE);
	ioas_unmap(ioas, iova, PAGE_SIZE);

	/* A memfd: MAP_FILE pages are the same memory as the program's mapping of the file. */
	mfd = memfd_create("check_map", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0 && !ftruncate(mfd, 4 * PAGE_SIZE), "memfd");
	user = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	TAP_CHECK(user != MAP_FAILED, "mmap");
	iova = 0;
	CHECK_OK(_map_file(ioas, mfd, PAGE_SIZE, 2 * PAGE_SIZE, &iova, MAP_RW));
	CHECK_OK(_check_map(d.hwpt, iova, 2 * PAGE_SIZE, user + PAGE_SIZE));
	CHECK_ERRNO(EINVAL, _check_map(d.hwpt, iova, 2 * PAGE_SIZE, user));
	CHECK_OK(_check_refs(user + PAGE_SIZE, 2 * PAGE_SIZE, 1));
	CHECK_OK(_check_refs(user, PAGE_SIZE, 0));
	/* Mapped a second time through the user address: two pins, as two GUPs. */
	{
		uint64_t iova2 = ioas_map(ioas, user + PAGE_SIZE, PAGE_SIZE);

		CHECK_OK(_check_refs(user + PAGE_SIZE, PAGE_SIZE, 2));
		CHECK_OK(_check_map(d.hwpt, iova2, PAGE_SIZE, user + PAGE_SIZE));
		ioas_unmap(ioas, iova2, PAGE_SIZE);
	}
	CHECK_ERRNO(EIO, _check_refs(user + PAGE_SIZE, PAGE_SIZE, 2));
	ioas_unmap(ioas, iova, 2 * PAGE_SIZE);
	CHECK_OK(_check_refs(user, 4 * PAGE_SIZE, 0));
	munmap(user, 4 * PAGE_SIZE);
	close(mfd);
	iommufd_teardown();
}

static void test_check_refs(void *arg)
{
	struct mock_dev_ids d;
	uint32_t ioas, ioas2;
	uint64_t iova, iova2;

	iommufd_setup();
	ioas = ioas_alloc();
	CHECK_ERRNO(EINVAL, _check_refs((uint8_t *)buffer + 1, PAGE_SIZE, 0));
	CHECK_ERRNO(EINVAL, _check_refs(buffer, PAGE_SIZE + 1, 0));
	CHECK_ERRNO(EINVAL, _check_refs((void *)(uintptr_t)(UINT64_MAX & PAGE_MASK), PAGE_SIZE, 0));
	/* No domain: mapping pins nothing yet. */
	iova = MOCK_APERTURE_START;
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, iova);
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 0));
	/* The first domain pins, once. */
	d = mock_domain(ioas, 0);
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 1));
	CHECK_ERRNO(EIO, _check_refs(buffer, BUFFER_SIZE, 0));
	/* COPY shares the pages: still one pin. */
	ioas2 = ioas_alloc();
	mock_domain(ioas2, 0);
	iova2 = 0;
	CHECK_OK(_copy(ioas2, &iova2, ioas, iova, BUFFER_SIZE, MAP_RW));
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 1));
	/* A second MAP of the same memory is a second pin. */
	{
		uint64_t iova3 = ioas_map(ioas2, buffer, PAGE_SIZE);

		CHECK_OK(_check_refs(buffer, PAGE_SIZE, 2));
		CHECK_OK(_check_refs((uint8_t *)buffer + PAGE_SIZE, PAGE_SIZE, 1));
		ioas_unmap(ioas2, iova3, PAGE_SIZE);
	}
	CHECK_OK(_destroy(d.stdev));
	/* The copy's IOAS still has a domain: pinned. */
	ioas_unmap(ioas, iova, BUFFER_SIZE);
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 1));
	ioas_unmap(ioas2, iova2, BUFFER_SIZE);
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 0));

	/* The selftest's teardown check: close with pins, reopen, expect none. */
	ioas_map(ioas2, buffer, BUFFER_SIZE);
	iommufd_teardown();
	iommufd_setup();
	CHECK_OK(_check_refs(buffer, BUFFER_SIZE, 0));
	iommufd_teardown();
}

static void test_access(void *arg)
{
	unsigned int files = ufile_count();
	uint8_t tmp[3 * PAGE_SIZE];
	uint32_t ioas, ioas2, item, item2, num;
	struct iommu_iova_range r;
	uint64_t iova, align;
	int afd, afd2, fl;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas2 = ioas_alloc();
	CHECK_ERRNO(EOPNOTSUPP, _create_access(ioas, 2, &afd));
	CHECK_ERRNO(ENOENT, _create_access(9999, 0, &afd));
	TAP_CHECK_EQ(ufile_count(), files + 1, "no fd left behind");

	CHECK_OK(_create_access(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, &afd));
	fl = fcntl(afd, F_GETFD);
	TAP_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "FD_CLOEXEC");
	/* A pinning access raises the alignment to PAGE_SIZE; it holds the IOAS. */
	num = 1;
	CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
	TAP_CHECK_EQ(align, PAGE_SIZE, "alignment");
	CHECK_ERRNO(EBUSY, _destroy(ioas));

	iova = ioas_map(ioas, buffer, 4 * PAGE_SIZE);
	/* Errnos. */
	CHECK_ERRNO(ENOMEM, _access_pages(afd, iova, (16 << 20) + 1, buffer, 0, &item));
	CHECK_ERRNO(EOPNOTSUPP, _access_pages(afd, iova, PAGE_SIZE, buffer, 2, &item));
	CHECK_ERRNO(EBADFD, _access_pages(9999, iova, PAGE_SIZE, buffer, 0, &item));
	CHECK_ERRNO(EBADFD,
		    _access_pages(uiommu_file_fd(self_file), iova, PAGE_SIZE, buffer, 0, &item));
	CHECK_ERRNO(ENOENT, _access_pages(afd, iova + 4 * PAGE_SIZE, PAGE_SIZE, buffer, 0, &item));
	CHECK_ERRNO(EINVAL, _access_pages(afd, iova, 0, buffer, 0, &item));
	CHECK_ERRNO(EBADE,
		    _access_pages(afd, iova, PAGE_SIZE, (uint8_t *)buffer + PAGE_SIZE, 0, &item));
	CHECK_OK(_check_refs(buffer, 4 * PAGE_SIZE, 0));

	/* Pin two ranges: pages pinned once each. */
	CHECK_OK(_access_pages(afd, iova, 2 * PAGE_SIZE, buffer, 0, &item));
	CHECK_OK(_access_pages(afd, iova + PAGE_SIZE, PAGE_SIZE, (uint8_t *)buffer + PAGE_SIZE,
			       MOCK_FLAGS_ACCESS_WRITE, &item2));
	TAP_CHECK(item2 == item + 1, "item IDs %u %u", item, item2);
	CHECK_OK(_check_refs(buffer, 2 * PAGE_SIZE, 1));
	CHECK_OK(_check_refs((uint8_t *)buffer + 2 * PAGE_SIZE, PAGE_SIZE, 0));
	CHECK_OK(_destroy_access_pages(afd, item2));
	CHECK_ERRNO(ENOENT, _destroy_access_pages(afd, item2));
	CHECK_OK(_check_refs(buffer, 2 * PAGE_SIZE, 1));
	/* UNMAP of a pinned range: the access lets go (unmap callback). */
	ioas_unmap(ioas, iova, 4 * PAGE_SIZE);
	CHECK_ERRNO(ENOENT, _destroy_access_pages(afd, item));
	CHECK_OK(_check_refs(buffer, 4 * PAGE_SIZE, 0));

	/* syzkaller IOVAs: {nth area, offset}. */
	iova = ioas_map(ioas, buffer, 4 * PAGE_SIZE);
	CHECK_OK(_access_pages(afd, (uint64_t)PAGE_SIZE << 32, PAGE_SIZE,
			       (uint8_t *)buffer + PAGE_SIZE, MOCK_FLAGS_ACCESS_SYZ, &item));
	CHECK_OK(_check_refs((uint8_t *)buffer + PAGE_SIZE, PAGE_SIZE, 1));

	/* ACCESS_RW, both directions, any offset and length. */
	for (size_t i = 0; i < sizeof(tmp); i++)
		tmp[i] = (uint8_t)(i * 7);
	CHECK_OK(_access_rw(afd, iova + 5, tmp, 2 * PAGE_SIZE + 3, MOCK_ACCESS_RW_WRITE));
	TAP_CHECK(!memcmp((uint8_t *)buffer + 5, tmp, 2 * PAGE_SIZE + 3), "written");
	memset(tmp, 0, sizeof(tmp));
	CHECK_OK(_access_rw(afd, iova + 1, tmp, 7, MOCK_ACCESS_RW_SLOW_PATH));
	TAP_CHECK(!memcmp((uint8_t *)buffer + 1, tmp, 7), "read");
	CHECK_ERRNO(ENOENT, _access_rw(afd, iova + 4 * PAGE_SIZE - 1, tmp, 2, 0));
	CHECK_ERRNO(EOPNOTSUPP, _access_rw(afd, iova, tmp, 1, 2));
	CHECK_ERRNO(ENOMEM, _access_rw(afd, iova, tmp, (16 << 20) + 1, 0));
	CHECK_ERRNO(EFAULT, _access_rw(afd, iova, (void *)(uintptr_t)0x10000000000ULL, 8, 0));
	CHECK_ERRNO(EFAULT, _access_rw(afd, iova, (void *)(uintptr_t)0x10000000000ULL, 8,
				       MOCK_ACCESS_RW_WRITE));
	/* A read-only area refuses writes. */
	{
		uint64_t ro = 0;

		CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &ro, IOMMU_IOAS_MAP_READABLE));
		CHECK_ERRNO(EPERM, _access_rw(afd, ro, tmp, 8, MOCK_ACCESS_RW_WRITE));
		CHECK_OK(_access_rw(afd, ro, tmp, 8, 0));
		ioas_unmap(ioas, ro, PAGE_SIZE);
	}

	/* A non-pinning access cannot pin, but can copy. */
	CHECK_OK(_create_access(ioas, 0, &afd2));
	CHECK_ERRNO(EOPNOTSUPP, _access_pages(afd2, iova, PAGE_SIZE, buffer, 0, &item2));
	CHECK_OK(_access_rw(afd2, iova, tmp, 16, 0));
	CHECK_OK(fd_close(afd2));

	/* Replacing the IOAS drops every pin. */
	CHECK_ERRNO(ENOENT, _access_replace_ioas(afd, 9999));
	CHECK_OK(_access_replace_ioas(afd, ioas2));
	CHECK_ERRNO(ENOENT, _destroy_access_pages(afd, item));
	CHECK_OK(_check_refs(buffer, 4 * PAGE_SIZE, 0));
	CHECK_OK(_destroy(ioas));
	CHECK_ERRNO(EBUSY, _destroy(ioas2));

	/* Closing the fd unpins and destroys the access. */
	iova = ioas_map(ioas2, buffer, PAGE_SIZE);
	CHECK_OK(_access_pages(afd, iova, PAGE_SIZE, buffer, 0, &item));
	CHECK_OK(_check_refs(buffer, PAGE_SIZE, 1));
	CHECK_OK(fd_close(afd));
	CHECK_OK(_check_refs(buffer, PAGE_SIZE, 0));
	CHECK_ERRNO(EBADFD, _access_pages(afd, iova, PAGE_SIZE, buffer, 0, &item));
	CHECK_OK(_destroy(ioas2));

	/* An access fd keeps the context after the iommufd is closed. */
	ioas = ioas_alloc();
	CHECK_OK(_create_access(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, &afd));
	iova = ioas_map(ioas, buffer, PAGE_SIZE);
	CHECK_OK(_access_pages(afd, iova, PAGE_SIZE, buffer, 0, &item));
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "still pinned");
	CHECK_OK(fd_close(afd));
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "released");
	TAP_CHECK_EQ(ufile_count(), files, "no file left");
}

/* ------------------------------------------------------------------ */
/* Dirty tracking                                                     */

static bool bit(const uint8_t *map, uint64_t n)
{
	return map[n / 8] & (1u << (n % 8));
}

/*
 * The selftest's _test_mock_dirty_bitmaps(): mark every second IOPTE dirty
 * through the DIRTY op, read the bitmap, read it again.
 */
static void dirty_round(uint32_t hwpt, uint64_t length, uint64_t iova, uint64_t page_size,
			uint64_t pte_size, uint8_t *bitmap, uint32_t flags)
{
	uint64_t npte = pte_size / page_size, pteset = 2 * npte;
	uint64_t nbits = length / page_size, out = 0, nr = nbits / pteset ? nbits / pteset : 1;
	size_t bytes = (size_t)((nbits + 7) / 8);

	memset(bitmap, 0, bytes);
	for (uint64_t i = 0; i < nbits; i += pteset)
		bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
	CHECK_OK(_dirty(hwpt, iova, length, page_size, bitmap, &out));
	TAP_CHECK_EQ(out, nr, "IOPTEs dirtied");

	memset(bitmap, 0, bytes);
	CHECK_OK(_get_dirty_bitmap(hwpt, iova, length, page_size, bitmap, flags));
	for (uint64_t i = 0; i < nbits; i++)
		TAP_CHECK(bit(bitmap, i) == ((i % pteset) < npte), "bit %llu",
			  (unsigned long long)i);

	memset(bitmap, 0, bytes);
	CHECK_OK(_get_dirty_bitmap(hwpt, iova, length, page_size, bitmap, flags));
	for (uint64_t i = 0; i < nbits; i++)
		TAP_CHECK(bit(bitmap, i) == ((i % pteset) < npte &&
					     (flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR)),
			  "second read, bit %llu", (unsigned long long)i);
}

/* How the 1 MiB IOPTEs come: none, the 6.12 device flag, or the v6.19 page-table type. */
enum dirty_kind {
	DIRTY_SMALL,
	DIRTY_HUGE_IOVA,
	DIRTY_IOMMUPT_HUGE,
};

static void dirty_variant(uint64_t size, enum dirty_kind kind)
{
	bool huge = kind != DIRTY_SMALL;
	uint64_t page_size = MOCK_PAGE_SIZE, pte = huge ? MOCK_HUGE_PAGE_SIZE : MOCK_PAGE_SIZE;
	size_t bsize = (size_t)(size / page_size / 8) + PAGE_SIZE + 16;
	uint32_t ioas, hwpt;
	struct mock_dev_ids d;
	uint8_t *bitmap;
	void *buf;

	TAP_CHECK(!posix_memalign(&buf, HUGEPAGE_SIZE, size), "buffer");
	TAP_CHECK(!posix_memalign((void **)&bitmap, PAGE_SIZE, bsize), "bitmap");
	memset(buf, 0, size);
	iommufd_setup();
	ioas = ioas_alloc();
	if (kind == DIRTY_SMALL) {
		/* As the v6.19 selftest: PAGE_SIZE IOPTEs, so a set bit dirties one. */
		uint64_t off = 0;

		CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &off));
	}
	d = mock_domain(ioas, kind == DIRTY_HUGE_IOVA ? MOCK_FLAGS_DEVICE_HUGE_IOVA : 0);
	ioas_map_fixed(ioas, buf, size, MOCK_APERTURE_START);
	if (kind == DIRTY_IOMMUPT_HUGE) {
		struct iommu_hwpt_selftest data = {.pagetable_type = MOCK_IOMMUPT_HUGE};

		CHECK_OK(_hwpt_alloc_data(d.idev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 0,
					  IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data), &hwpt));
	} else {
		hwpt = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	}
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	for (int nc = 0; nc < 2; nc++) {
		uint32_t flags = nc ? IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR : 0;

		dirty_round(hwpt, size, MOCK_APERTURE_START, page_size, pte, bitmap, flags);
		dirty_round(hwpt, size, MOCK_APERTURE_START, page_size, pte,
			    bitmap + MOCK_PAGE_SIZE, flags);
		dirty_round(hwpt, size, MOCK_APERTURE_START, page_size, pte, bitmap + 0xff1, flags);
		/* NO_CLEAR left everything dirty: clear it for the next round. */
		CHECK_OK(_get_dirty_bitmap(hwpt, MOCK_APERTURE_START, size, page_size, bitmap, 0));
	}
	CHECK_OK(_destroy(hwpt));
	iommufd_teardown();
	free(bitmap);
	free(buf);
}

static void test_dirty_sizes(void *arg)
{
	static const uint64_t sizes[] = {8 << 10,   16 << 10,  64 << 10,
					 128 << 10, 320 << 10, 4 << 20};

	for (size_t i = 0; i < ARRAY_SIZE_T(sizes); i++)
		dirty_variant(sizes[i], DIRTY_SMALL);
	dirty_variant(4 << 20, DIRTY_HUGE_IOVA);
	dirty_variant(4 << 20, DIRTY_IOMMUPT_HUGE);
}

static void test_dirty_errors(void *arg)
{
	struct iommu_hwpt_get_dirty_bitmap g;
	struct iommu_hwpt_set_dirty_tracking st;
	uint32_t ioas, hwpt, plain, parent, nested;
	const uint64_t A = MOCK_APERTURE_START;
	uint8_t bitmap[64] = {0};
	struct mock_dev_ids d;
	uint64_t nr;

	iommufd_setup();
	ioas = ioas_alloc();
	d = mock_domain(ioas, 0);
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, A);
	hwpt = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
	plain = hwpt_alloc(d.idev, ioas, 0);
	parent = hwpt_alloc(d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT);
	nested = hwpt_alloc_nested(d.idev, parent, 0);

	/* SET_DIRTY_TRACKING. */
	st = (struct iommu_hwpt_set_dirty_tracking){
		.size = sizeof(st), .flags = 2, .hwpt_id = hwpt};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_SET_DIRTY_TRACKING, &st));
	st = (struct iommu_hwpt_set_dirty_tracking){
		.size = sizeof(st), .hwpt_id = hwpt, .__reserved = 1};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_SET_DIRTY_TRACKING, &st));
	CHECK_ERRNO(EOPNOTSUPP, _set_dirty_tracking(plain, true));
	CHECK_ERRNO(ENOENT, _set_dirty_tracking(nested, true));
	CHECK_ERRNO(ENOENT, _set_dirty_tracking(ioas, true));

	/* DIRTY before tracking is on: EINVAL. */
	bitmap[0] = 1;
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, &nr));
	/* GET with tracking off: success, no bits. */
	memset(bitmap, 0, sizeof(bitmap));
	CHECK_OK(_get_dirty_bitmap(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, 0));
	TAP_CHECK(!bitmap[0], "no bits");
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	CHECK_OK(_set_dirty_tracking(hwpt, true));

	/* DIRTY's own rules. */
	bitmap[0] = 0xff;
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A, PAGE_SIZE, 0, bitmap, &nr));
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A, 0, MOCK_PAGE_SIZE, bitmap, &nr));
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A + 1, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, &nr));
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A, PAGE_SIZE + 1, MOCK_PAGE_SIZE, bitmap, &nr));
	CHECK_ERRNO(EINVAL, _dirty(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE, NULL, &nr));
	CHECK_ERRNO(EOVERFLOW, _dirty(hwpt, 0, 1ULL << 40, 1, bitmap, &nr));
	CHECK_ERRNO(ENOENT, _dirty(nested, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, &nr));
	CHECK_ERRNO(EINVAL, _dirty(plain, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, &nr));
	CHECK_ERRNO(EFAULT, _dirty(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE,
				   (void *)(uintptr_t)0x10000000000ULL, &nr));
	/* Addresses with nothing mapped are not counted. */
	bitmap[0] = 0xf;
	CHECK_OK(_dirty(hwpt, A + BUFFER_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, MOCK_PAGE_SIZE, bitmap,
			&nr));
	TAP_CHECK_EQ(nr, 2, "two mapped IOPTEs");

	/* GET_DIRTY_BITMAP's rules. */
	g = (struct iommu_hwpt_get_dirty_bitmap){.size = sizeof(g),
						 .hwpt_id = hwpt,
						 .flags = 2,
						 .iova = A,
						 .length = PAGE_SIZE,
						 .page_size = MOCK_PAGE_SIZE,
						 .data = (uintptr_t)bitmap};
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
	g.flags = 0;
	g.__reserved = 1;
	CHECK_ERRNO(EOPNOTSUPP, uiommu_ioctl(self_file, IOMMU_HWPT_GET_DIRTY_BITMAP, &g));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A, 0, MOCK_PAGE_SIZE, bitmap, 0));
	CHECK_ERRNO(EOVERFLOW, _get_dirty_bitmap(hwpt, UINT64_MAX - 1, 4, 1, bitmap, 0));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A + 1024, PAGE_SIZE, 1024, bitmap, 0));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A, PAGE_SIZE + 1024, 1024, bitmap, 0));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A, PAGE_SIZE, 0, bitmap, 0));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A, 3 * 2048, 3 * 2048, bitmap, 0));
	CHECK_ERRNO(EINVAL, _get_dirty_bitmap(hwpt, A + 2048, PAGE_SIZE, PAGE_SIZE, bitmap, 0));
	CHECK_ERRNO(EOPNOTSUPP, _get_dirty_bitmap(plain, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, 0));
	CHECK_ERRNO(ENOENT, _get_dirty_bitmap(nested, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, 0));
	CHECK_ERRNO(EFAULT, _get_dirty_bitmap(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE,
					      (void *)(uintptr_t)0x10000000000ULL, 0));

	/* A range sticking out of the areas: the mapped part's bits, success. */
	memset(bitmap, 0, sizeof(bitmap));
	CHECK_OK(_get_dirty_bitmap(hwpt, A + BUFFER_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, MOCK_PAGE_SIZE,
				   bitmap, 0));
	TAP_CHECK_EQ(bitmap[0], 0x3, "bits of the mapped part only");
	/* Bits are only ORed in. */
	bitmap[0] = 0xf0;
	CHECK_OK(_get_dirty_bitmap(hwpt, A, PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, 0));
	TAP_CHECK_EQ(bitmap[0], 0xf0, "nothing cleared");

	/* Enabling clears stale dirty state: a clean first snapshot. */
	bitmap[0] = 0xff;
	CHECK_OK(_dirty(hwpt, A, 4 * PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, &nr));
	TAP_CHECK_EQ(nr, 8, "dirtied");
	CHECK_OK(_set_dirty_tracking(hwpt, false));
	CHECK_OK(_set_dirty_tracking(hwpt, true));
	memset(bitmap, 0, sizeof(bitmap));
	CHECK_OK(_get_dirty_bitmap(hwpt, A, 4 * PAGE_SIZE, MOCK_PAGE_SIZE, bitmap, 0));
	TAP_CHECK(!bitmap[0], "clean after enable: %#x", bitmap[0]);

	/* A PASID of a tracking device on a dirty HWPT; not for a NO_DIRTY device. */
	{
		uint32_t ph = hwpt_alloc(d.idev, ioas,
					 IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
		struct mock_dev_ids p = mock_domain(ph, MOCK_FLAGS_DEVICE_PASID);
		struct mock_dev_ids q =
			mock_domain(ioas, MOCK_FLAGS_DEVICE_PASID | MOCK_FLAGS_DEVICE_NO_DIRTY);

		CHECK_OK(_pasid_attach(p.stdev, 100, ph));
		CHECK_OK(_set_dirty_tracking(ph, true));
		CHECK_OK(_set_dirty_tracking(ph, false));
		CHECK_OK(_pasid_detach(p.stdev, 100));
		CHECK_ERRNO(EINVAL, _pasid_attach(q.stdev, 100, ph));
		CHECK_OK(_destroy(p.stdev));
		CHECK_OK(_destroy(q.stdev));
		CHECK_OK(_destroy(ph));
	}
	/* Enforcement: NO_DIRTY devices cannot use a dirty HWPT. */
	CHECK_ERRNO(EINVAL, _mock_domain_flags(hwpt, MOCK_FLAGS_DEVICE_NO_DIRTY, NULL, NULL, NULL));
	{
		struct mock_dev_ids e = mock_domain(hwpt, 0);

		CHECK_OK(_destroy(e.stdev));
	}
	CHECK_OK(_destroy(nested));
	CHECK_OK(_destroy(parent));
	CHECK_OK(_destroy(plain));
	CHECK_OK(_destroy(hwpt));
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"IOMMU_TEST_CMD: sizes, unknown ops, memory limit", test_multiplexer},
		{"ADD_RESERVED: errnos, holes", test_add_reserved_op},
		{"MD_CHECK_MAP: every alignment, memfd aliases, EINVAL / ENOENT / EFAULT",
		 test_check_map},
		{"MD_CHECK_REFS: pins per page, COPY, close and reopen", test_check_refs},
		{"access fds: pages, rw, replace, syzkaller IOVAs, EBADFD, close", test_access},
		{"dirty bitmaps: sizes 8K..4M, unaligned bitmaps, NO_CLEAR, 1 MiB IOPTEs",
		 test_dirty_sizes},
		{"dirty tracking errnos, holes, OR-only bits, clean enable", test_dirty_errors},
	};

	buffer_init();
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
