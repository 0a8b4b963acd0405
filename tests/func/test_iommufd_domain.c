// SPDX-License-Identifier: MIT
/*
 * IOAS with attached domains and accesses (reference iommufd.md §4.2, §4.3):
 * every ioctl is real; the domains are an in-test IOMMU model attached the
 * way a HWPT attaches (iommufd_internal.h), the accesses are the library's
 * access API.
 *
 *  - attach: the aperture becomes reserved (IOVA_RANGES shows it), the
 *    smallest page size becomes the alignment, existing areas are mapped,
 *    refusals (EINVAL, EADDRINUSE) change nothing;
 *  - MAP with domains pins: unmapped memory EFAULT, read-only memory under
 *    WRITEABLE EFAULT, file pages past EOF EINVAL; every domain maps every
 *    area; a domain failing mid-way unwinds everything;
 *  - pin counts per page and iopt_pages (what MD_CHECK_REFS will read);
 *  - RLIMIT_MEMLOCK accounting in USER and MM mode (a child without
 *    CAP_IPC_LOCK, with a small limit);
 *  - EBUSY of DESTROY while a domain or an access holds the IOAS;
 *  - accesses: pin/unpin, unmap callbacks, rw, replace, internal locks.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <linux/iommufd_test.h>

#include "hw/mock/mock.h"
#include "iommufd_internal.h"

#define APERTURE_START (1ULL << 24)
#define APERTURE_LAST  ((1ULL << 31) - 1)
/* The mock's page sizes: 2 KiB and 1 MiB (512 x 2 KiB), plus 4 KiB here. */
#define TEST_PGSIZES (2048ULL | 4096ULL | (1ULL << 20))

static struct test_domain td1, td2;

static void domains_cleanup(void)
{
	test_domain_detach(&td1);
	test_domain_detach(&td2);
}

static void test_attach(void *arg)
{
	struct iommu_iova_range r[4];
	uint64_t align, val;
	uint32_t ioas, num;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, APERTURE_START);

	/* A domain whose smallest page is above PAGE_SIZE cannot attach. */
	test_domain_init(&td1, 8192, APERTURE_START, APERTURE_LAST);
	TAP_CHECK_EQ(_test_domain_attach(&td1, ioas), -EINVAL, "8K pages");
	/* An aperture that excludes an area: EADDRINUSE, nothing changed. */
	test_domain_init(&td1, TEST_PGSIZES, APERTURE_START + PAGE_SIZE, APERTURE_LAST);
	TAP_CHECK_EQ(_test_domain_attach(&td1, ioas), -EADDRINUSE, "aperture over an area");
	num = 4;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK(num == 1 && align == 1, "unchanged");

	test_domain_init(&td1, TEST_PGSIZES, APERTURE_START, APERTURE_LAST);
	test_domain_attach(&td1, ioas);
	num = 4;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK_EQ(num, 1, "one range");
	TAP_CHECK(r[0].start == APERTURE_START && r[0].last == APERTURE_LAST, "aperture");
	TAP_CHECK_EQ(align, 2048, "smallest page size");
	/* The existing area is mapped, and pinned. */
	check_domain_map(&td1, APERTURE_START, buffer, 4 * PAGE_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "pinned once");
	/* Alignment applies to new maps now. */
	{
		uint64_t iova = APERTURE_START + 1024;

		CHECK_ERRNO(EINVAL, _ioas_map(ioas, buffer, PAGE_SIZE, &iova,
					      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
		iova = 0;
		CHECK_ERRNO(EINVAL, _ioas_map(ioas, buffer, 1024, &iova, MAP_RW));
	}
	/* Outside the aperture is reserved. */
	{
		uint64_t iova = 0;

		CHECK_ERRNO(EINVAL, _ioas_map(ioas, buffer, PAGE_SIZE, &iova,
					      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	}
	/* Allowed ranges may not meet the reserved outside. */
	r[0] = (struct iommu_iova_range){.start = 0, .last = APERTURE_START};
	CHECK_ERRNO(EADDRINUSE, _allow_iovas(ioas, r, 1));
	/* The IOAS is busy while a domain uses it. */
	CHECK_ERRNO(EBUSY, _destroy(ioas));
	/* Huge pages cannot be turned off once a domain holds mappings. */
	val = 0;
	CHECK_ERRNO(EINVAL, _option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));

	/* A second domain: mapped too; pins are not doubled. */
	test_domain_init(&td2, 4096 | (2ULL << 20), 0, UINT64_MAX);
	test_domain_attach(&td2, ioas);
	check_domain_map(&td2, APERTURE_START, buffer, 4 * PAGE_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "still pinned once");
	num = 4;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK(num == 1 && align == 4096, "alignment of the larger smallest page");

	/* Unmapping removes from both; detaching the last unpins. */
	ioas_unmap(ioas, APERTURE_START, 4 * PAGE_SIZE);
	TAP_CHECK(interval_tree_empty(&td1.runs) && interval_tree_empty(&td2.runs), "unmapped");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "unpinned");
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, APERTURE_START);
	test_domain_detach(&td1);
	check_domain_map(&td2, APERTURE_START, buffer, BUFFER_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer + PAGE_SIZE), 1, "pinned by td2");
	num = 4;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK(num == 1 && r[0].start == 0 && r[0].last == UINT64_MAX && align == 4096,
		  "td1's reservations left with it");
	test_domain_detach(&td2);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer + PAGE_SIZE), 0, "lazy again");
	num = 4;
	CHECK_OK(_iova_ranges(ioas, r, &num, &align));
	TAP_CHECK_EQ(align, 1, "alignment back to 1");
	CHECK_OK(_destroy(ioas));
	iommufd_teardown();
}

static void test_pin_errors(void *arg)
{
	uint8_t *ro, *hole;
	uint32_t ioas;
	uint64_t iova;
	int mfd;

	iommufd_setup();
	ioas = ioas_alloc();
	test_domain_init(&td1, TEST_PGSIZES, APERTURE_START, APERTURE_LAST);
	test_domain_attach(&td1, ioas);

	/* Unmapped memory. */
	hole = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
		    0);
	TAP_CHECK(hole != MAP_FAILED, "mmap");
	munmap(hole + PAGE_SIZE, PAGE_SIZE);
	iova = 0;
	CHECK_ERRNO(EFAULT, _ioas_map(ioas, hole, 4 * PAGE_SIZE, &iova, MAP_RW));
	CHECK_ERRNO(EFAULT, _ioas_map(ioas, (void *)(1UL << 40), PAGE_SIZE, &iova, MAP_RW));
	/* Nothing was left behind by the failures. */
	TAP_CHECK(interval_tree_empty(&td1.runs), "domain untouched");
	CHECK_ERRNO(ENOENT,
		    _ioas_unmap(ioas, APERTURE_START, APERTURE_LAST - APERTURE_START + 1, NULL));
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)hole), 0, "no pin");
	/* The mapped part alone is fine. */
	iova = ioas_map(ioas, hole, PAGE_SIZE);
	check_domain_map(&td1, iova, hole, PAGE_SIZE);
	ioas_unmap(ioas, iova, PAGE_SIZE);

	/* Read-only memory: READABLE pins, WRITEABLE does not (GUP FOLL_WRITE: EFAULT). */
	ro = mmap(NULL, 2 * PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	TAP_CHECK(ro != MAP_FAILED, "mmap");
	iova = 0;
	CHECK_ERRNO(EFAULT, _ioas_map(ioas, ro, 2 * PAGE_SIZE, &iova, MAP_RW));
	iova = 0;
	CHECK_OK(_ioas_map(ioas, ro, 2 * PAGE_SIZE, &iova, IOMMU_IOAS_MAP_READABLE));
	/* PROT_NONE. */
	TAP_CHECK(!mprotect(hole, PAGE_SIZE, PROT_NONE), "mprotect");
	iova = 0;
	CHECK_ERRNO(EFAULT, _ioas_map(ioas, hole, PAGE_SIZE, &iova, IOMMU_IOAS_MAP_READABLE));

	/* Files: pages past EOF, a non-memfd file. */
	mfd = memfd_create("pin", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0 && !ftruncate(mfd, 2 * PAGE_SIZE), "memfd");
	iova = 0;
	CHECK_ERRNO(EINVAL, _map_file(ioas, mfd, 0, 2 * PAGE_SIZE + 1, &iova, MAP_RW));
	CHECK_OK(_map_file(ioas, mfd, PAGE_SIZE, PAGE_SIZE, &iova, MAP_RW));
	TAP_CHECK(!ftruncate(mfd, 0), "truncate");
	iova = 0;
	CHECK_ERRNO(EINVAL, _map_file(ioas, mfd, 0, PAGE_SIZE, &iova, MAP_RW));
	close(mfd);
	{
		char path[] = "/tmp/uiommu-test-XXXXXX";
		int fd = mkstemp(path);

		TAP_CHECK(fd >= 0, "mkstemp");
		unlink(path);
		TAP_CHECK(!ftruncate(fd, PAGE_SIZE), "truncate");
		iova = 0;
		if (_map_file(ioas, fd, 0, PAGE_SIZE, &iova, MAP_RW))
			TAP_CHECK_EQ(errno, EINVAL, "a regular file is not memfd-like");
		close(fd);
	}

	CHECK_OK(_ioas_unmap(ioas, 0, UINT64_MAX, NULL));
	test_domain_detach(&td1);
	munmap(ro, 2 * PAGE_SIZE);
	munmap(hole, 4 * PAGE_SIZE);
	iommufd_teardown();
}

/*
 * Pinning checks small ranges by touching each page and large ones with
 * madvise(MADV_POPULATE_*) (pages.c, IOPT_PROBE_MAX_PAGES): the same
 * answers either way. For each size: a hole in the last page (EFAULT),
 * read-only memory under WRITEABLE (EFAULT), a memfd past EOF (EINVAL),
 * and copy-on-write: a WRITEABLE pin of a private file mapping gets the
 * process its own copy (FOLL_WRITE), so a later write to the file no
 * longer shows there, while a READABLE pin leaves the mapping on the file.
 */
static size_t pin_paths_pages;

static void pin_paths_diag(void *arg)
{
	tap_diag("with %zu pages", pin_paths_pages);
}

static void test_pin_paths(void *arg)
{
	static const size_t sizes[] = {1, 2, 16, 17, 64};
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	test_domain_init(&td1, TEST_PGSIZES, APERTURE_START, APERTURE_LAST);
	test_domain_attach(&td1, ioas);
	for (unsigned int i = 0; i < ARRAY_SIZE_T(sizes); i++) {
		size_t n = sizes[i], len = n * PAGE_SIZE;
		uint8_t *m, *priv, *rdonly;
		uint64_t iova;
		int mfd;

		pin_paths_pages = n;
		tap.on_fail = pin_paths_diag;
		m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		TAP_CHECK(m != MAP_FAILED, "mmap");
		munmap(m + len - PAGE_SIZE, PAGE_SIZE);
		iova = 0;
		CHECK_ERRNO(EFAULT, _ioas_map(ioas, m, len, &iova, MAP_RW));
		CHECK_ERRNO(EFAULT, _ioas_map(ioas, m, len, &iova, IOMMU_IOAS_MAP_READABLE));
		if (n > 1)
			munmap(m, len - PAGE_SIZE);

		rdonly = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		TAP_CHECK(rdonly != MAP_FAILED, "mmap");
		iova = 0;
		CHECK_ERRNO(EFAULT, _ioas_map(ioas, rdonly, len, &iova, MAP_RW));
		iova = 0;
		CHECK_OK(_ioas_map(ioas, rdonly, len, &iova, IOMMU_IOAS_MAP_READABLE));
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)rdonly + len - PAGE_SIZE), 1,
			     "last page pinned");
		ioas_unmap(ioas, iova, len);
		munmap(rdonly, len);

		mfd = memfd_create("pin-paths", MFD_CLOEXEC);
		TAP_CHECK(mfd >= 0 && !ftruncate(mfd, (off_t)len), "memfd");
		iova = 0;
		CHECK_ERRNO(EINVAL, _map_file(ioas, mfd, 0, len + 1, &iova, MAP_RW));

		for (int w = 0; w <= 1; w++) {
			uint8_t v = (uint8_t)(0x10 + w), nv = (uint8_t)(0x20 + w);

			TAP_CHECK_EQ(pwrite(mfd, &v, 1, (off_t)(len - PAGE_SIZE)), 1, "pwrite");
			priv = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, mfd, 0);
			TAP_CHECK(priv != MAP_FAILED, "mmap private");
			TAP_CHECK_EQ(priv[len - PAGE_SIZE], v, "sees the file");
			iova = 0;
			CHECK_OK(_ioas_map(ioas, priv, len, &iova,
					   w ? MAP_RW : IOMMU_IOAS_MAP_READABLE));
			TAP_CHECK_EQ(priv[len - PAGE_SIZE], v, "pinning changes no byte");
			TAP_CHECK_EQ(pwrite(mfd, &nv, 1, (off_t)(len - PAGE_SIZE)), 1, "pwrite");
			TAP_CHECK_EQ(priv[len - PAGE_SIZE], w ? v : nv,
				     w ? "a writeable pin broke COW" : "a readable pin did not");
			ioas_unmap(ioas, iova, len);
			munmap(priv, len);
		}
		close(mfd);
	}
	test_domain_detach(&td1);
	iommufd_teardown();
}

/* A memfd mapping stays valid after the program closes and unmaps its side. */
static void test_file_backing(void *arg)
{
	uint8_t *user;
	uint64_t iova = 0;
	uint32_t ioas;
	int mfd;

	iommufd_setup();
	ioas = ioas_alloc();
	test_domain_init(&td1, TEST_PGSIZES, APERTURE_START, APERTURE_LAST);
	test_domain_attach(&td1, ioas);
	mfd = memfd_create("backing", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0 && !ftruncate(mfd, 4 * PAGE_SIZE), "memfd");
	user = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	TAP_CHECK(user != MAP_FAILED, "mmap");
	memset(user, 0x5a, 4 * PAGE_SIZE);

	CHECK_OK(_map_file(ioas, mfd, PAGE_SIZE, 2 * PAGE_SIZE, &iova, MAP_RW));
	{
		struct stat st;

		TAP_CHECK(!fstat(mfd, &st), "fstat");
		TAP_CHECK_EQ(iopt_pages_file_pin_count(st.st_dev, st.st_ino, 1), 1, "file page 1");
		TAP_CHECK_EQ(iopt_pages_file_pin_count(st.st_dev, st.st_ino, 0), 0, "file page 0");
	}
	munmap(user, 4 * PAGE_SIZE);
	close(mfd);
	/* The domain's host address is the library's own mapping of the file. */
	{
		uint8_t *host = (uint8_t *)(uintptr_t)test_domain_phys(&td1, iova);

		TAP_CHECK(host, "mapped");
		TAP_CHECK(host[0] == 0x5a && host[2 * PAGE_SIZE - 1] == 0x5a, "file data");
		host[0] = 0xa5;
	}
	ioas_unmap(ioas, iova, 2 * PAGE_SIZE);
	test_domain_detach(&td1);
	iommufd_teardown();
}

static void test_pin_counts(void *arg)
{
	uint32_t a, b;
	uint64_t ia, ib, ic;
	uint8_t *page = buffer;

	iommufd_setup();
	a = ioas_alloc();
	b = ioas_alloc();
	test_domain_init(&td1, TEST_PGSIZES, 0, UINT64_MAX);
	test_domain_attach(&td1, a);
	/* Lazy without domains. */
	ib = ioas_map(b, buffer, BUFFER_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 0, "no domain, no pin");
	/* Two MAPs of the same memory: two iopt_pages, two pins. */
	ia = ioas_map(a, buffer, BUFFER_SIZE);
	ic = ioas_map(a, page + PAGE_SIZE, PAGE_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 1, "page 0");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page + PAGE_SIZE + 17), 2, "page 1");
	/* COPY shares the pages: still one pin for them. */
	{
		uint64_t dst = 0;

		CHECK_OK(_copy(a, &dst, a, ia, BUFFER_SIZE, MAP_RW));
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 1, "copy shares");
		ioas_unmap(a, ia, BUFFER_SIZE);
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 1, "the copy keeps it");
		ioas_unmap(a, dst, BUFFER_SIZE);
	}
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 0, "page 0 free");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page + PAGE_SIZE), 1, "page 1 by ic");
	ioas_unmap(a, ic, PAGE_SIZE);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page + PAGE_SIZE), 0, "all free");
	/* Sub-page areas pin whole pages. */
	{
		uint64_t iova = APERTURE_START + 2048;

		CHECK_OK(_ioas_map(a, page + 2048, PAGE_SIZE, &iova,
				   MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 1, "first page");
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page + PAGE_SIZE), 1, "second page");
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page + 2 * PAGE_SIZE), 0, "third");
		check_domain_map(&td1, iova, page + 2048, PAGE_SIZE);
		ioas_unmap(a, iova, PAGE_SIZE);
	}
	ioas_unmap(b, ib, BUFFER_SIZE);
	test_domain_detach(&td1);
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)page), 0, "nothing after close");
}

static void test_domain_failure(void *arg)
{
	uint32_t ioas;
	uint64_t iova;

	iommufd_setup();
	ioas = ioas_alloc();
	test_domain_init(&td1, TEST_PGSIZES, 0, UINT64_MAX);
	test_domain_init(&td2, TEST_PGSIZES, 0, UINT64_MAX);
	test_domain_attach(&td1, ioas);
	test_domain_attach(&td2, ioas);
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 1 << 20);

	/* td2 refuses: td1 is rolled back, nothing is pinned or mapped. */
	td2.fail_after = PAGE_SIZE + 1;
	iova = 2 << 20;
	CHECK_ERRNO(ENOMEM, _ioas_map(ioas, (uint8_t *)buffer + PAGE_SIZE, 2 * PAGE_SIZE, &iova,
				      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	TAP_CHECK_EQ(td1.mapped_bytes, PAGE_SIZE, "td1 rolled back");
	TAP_CHECK_EQ(td2.mapped_bytes, PAGE_SIZE, "td2 unchanged");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer + PAGE_SIZE), 0, "not pinned");
	CHECK_ERRNO(ENOENT, _ioas_unmap(ioas, 2 << 20, 2 * PAGE_SIZE, NULL));

	/* A domain that cannot take the existing areas does not attach. */
	{
		struct test_domain td3;

		test_domain_detach(&td2);
		test_domain_detach(&td1);
		ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, 4 << 20);
		test_domain_init(&td3, TEST_PGSIZES, 0, UINT64_MAX);
		td3.fail_after = 2 * PAGE_SIZE;
		TAP_CHECK_EQ(_test_domain_attach(&td3, ioas), -ENOMEM, "attach fails");
		TAP_CHECK(interval_tree_empty(&td3.runs), "td3 emptied");
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "pins dropped");
		TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer + 3 * PAGE_SIZE), 0, "all");
		/* The table is as before: the alignment too. */
		{
			uint32_t num = 1;
			uint64_t align;
			struct iommu_iova_range r;

			CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
			TAP_CHECK(num == 1 && align == 1 && r.start == 0, "unchanged");
		}
	}
	CHECK_OK(_destroy(ioas));
	iommufd_teardown();
}

/* The huge-pages option and VFIO type1: PAGE_SIZE IOPTEs only. */
static void test_small_pages(void *arg)
{
	uint64_t val = 0, iova;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	test_domain_init(&td1, TEST_PGSIZES, 0, UINT64_MAX);
	test_domain_attach(&td1, ioas);
	iova = 2 << 20;
	CHECK_OK(_ioas_map(ioas, buffer, BUFFER_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	TAP_CHECK_EQ(td1.map_calls, BUFFER_SIZE / PAGE_SIZE, "one call per page");
	ioas_unmap(ioas, iova, BUFFER_SIZE);
	/* Huge pages on: one 1 MiB mapping of a 1 MiB aligned range, fewer calls. */
	val = 1;
	CHECK_OK(_option(IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas, &val));
	{
		size_t len = 4UL << 20;
		uint8_t *big =
			mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint8_t *al = (uint8_t *)(((uintptr_t)big + (1 << 20) - 1) & ~((1UL << 20) - 1));

		TAP_CHECK(big != MAP_FAILED, "mmap");
		td1.map_calls = 0;
		iova = 0;
		CHECK_OK(_ioas_map(ioas, al, 2 << 20, &iova, MAP_RW));
		TAP_CHECK_EQ(iova % (1 << 20), 0, "1 MiB aligned IOVA");
		TAP_CHECK_EQ(td1.map_calls, 1, "one call of 2 x 1 MiB");
		check_domain_map(&td1, iova, al, 2 << 20);
		ioas_unmap(ioas, iova, 2 << 20);
		munmap(big, len);
	}
	test_domain_detach(&td1);
	iommufd_teardown();
}

/* Drop CAP_IPC_LOCK from the effective set (this process only). */
static bool (*real_capable)(int cap);
static bool no_ipc_lock_but_resource(int cap)
{
	if (cap == IOMMUFD_CAP_IPC_LOCK)
		return false;
	if (cap == IOMMUFD_CAP_SYS_RESOURCE)
		return true;
	return real_capable(cap);
}

static int rlimit_child(bool mm_mode)
{
	struct rlimit rl;
	struct iommufd_pin_stats st;
	uint64_t iova, first, val = mm_mode;
	uint32_t ioas;

	real_capable = iommufd_capable;
	iommufd_capable = no_ipc_lock_but_resource;
	if (getrlimit(RLIMIT_MEMLOCK, &rl))
		return 10;
	rl.rlim_cur = 8 * PAGE_SIZE;
	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return 10;
	self_file = uiommu_open("/dev/iommu", O_RDWR);
	if (!self_file)
		return 11;
	if (_option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &val))
		return 12;
	ioas = 0;
	if (_ioas_alloc(&ioas))
		return 13;
	/* SET needs an empty context. */
	val = 0;
	if (!_option(IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_SET, 0, &val) || errno != EBUSY)
		return 14;
	test_domain_init(&td1, TEST_PGSIZES, 0, UINT64_MAX);
	if (_test_domain_attach(&td1, ioas))
		return 15;
	/* 8 pages fit, the 9th does not. */
	first = 0;
	if (_ioas_map(ioas, buffer, 8 * PAGE_SIZE, &first, MAP_RW))
		return 16;
	iommufd_pin_stats(&st);
	if ((mm_mode ? st.mm_locked_vm : st.user_locked_vm) != 8 || st.mm_pinned_vm != 8)
		return 17;
	iova = 0;
	if (!_ioas_map(ioas, (uint8_t *)buffer + 8 * PAGE_SIZE, PAGE_SIZE, &iova, MAP_RW) ||
	    errno != ENOMEM)
		return 18;
	/* The same pages mapped again are a second iopt_pages: charged again. */
	if (!_ioas_map(ioas, buffer, PAGE_SIZE, &iova, MAP_RW) || errno != ENOMEM)
		return 19;
	/* A COPY shares the pages: no new charge, so it fits. */
	iova = 0;
	if (_copy(ioas, &iova, ioas, first, 8 * PAGE_SIZE, MAP_RW))
		return 20;
	iommufd_pin_stats(&st);
	if (st.mm_pinned_vm != 8)
		return 21;
	/* Unmap everything: all uncharged. */
	if (_ioas_unmap(ioas, 0, UINT64_MAX, NULL))
		return 22;
	iommufd_pin_stats(&st);
	if (st.mm_locked_vm || st.user_locked_vm || st.mm_pinned_vm)
		return 23;
	test_domain_detach(&td1);
	uiommu_close(self_file);
	return 0;
}

static void test_rlimit(void *arg)
{
	for (int mm = 0; mm <= 1; mm++) {
		int status;
		pid_t pid = fork();

		TAP_CHECK(pid >= 0, "fork");
		if (!pid)
			_exit(rlimit_child(mm));
		TAP_CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
		TAP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "%s mode child failed at step %d", mm ? "MM" : "USER",
			  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
}

/* ------------------------------------------------------------------ */
/* Accesses                                                           */

struct pinned {
	uint64_t iova, length;
	bool live;
};

struct test_access {
	struct iommufd_access *access;
	struct pinned pins[8];
	unsigned int unmap_calls;
	bool cooperate;
};

static void test_access_unmap(void *data, uint64_t iova, uint64_t length)
{
	struct test_access *ta = data;

	ta->unmap_calls++;
	if (!ta->cooperate)
		return;
	for (unsigned int i = 0; i < 8; i++) {
		struct pinned *p = &ta->pins[i];

		if (p->live && p->iova <= iova + (length - 1) && iova <= p->iova + p->length - 1) {
			iommufd_access_unpin_pages(ta->access, p->iova, p->length);
			p->live = false;
		}
	}
}

static const struct iommufd_access_ops pin_ops = {
	.needs_pin_pages = true,
	.unmap = test_access_unmap,
};

static const struct iommufd_access_ops rw_ops = {
	.unmap = test_access_unmap,
};

static int access_pin(struct test_access *ta, uint64_t iova, uint64_t length, void **pages)
{
	int rc = iommufd_access_pin_pages(ta->access, iova, length, pages, 0);

	if (!rc) {
		for (unsigned int i = 0; i < 8; i++) {
			if (!ta->pins[i].live) {
				ta->pins[i] = (struct pinned){iova, length, true};
				break;
			}
		}
	}
	return rc;
}

static void test_access_pin(void *arg)
{
	struct test_access ta = {.cooperate = true};
	void *pages[16];
	uint32_t ioas, id, num;
	uint64_t align;
	struct iommu_iova_range r;

	iommufd_setup();
	ioas = ioas_alloc();
	ta.access = iommufd_access_create(test_ictx(), &pin_ops, &ta, &id);
	TAP_CHECK(!IS_ERR(ta.access), "create");
	TAP_CHECK(id > ioas, "an object ID");
	TAP_CHECK_EQ(access_pin(&ta, 0, PAGE_SIZE, pages), -ENOENT, "not attached");
	TAP_CHECK_EQ(iommufd_access_attach(ta.access, 999), -ENOENT, "bad IOAS");
	TAP_CHECK_EQ(iommufd_access_attach(ta.access, ioas), 0, "attach");
	TAP_CHECK_EQ(iommufd_access_attach(ta.access, ioas), -EINVAL, "attached twice");
	/* A pinning access raises the alignment to PAGE_SIZE. */
	num = 1;
	CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
	TAP_CHECK_EQ(align, PAGE_SIZE, "alignment");
	/* It holds the IOAS. */
	CHECK_ERRNO(EBUSY, _destroy(ioas));

	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, 1 << 20);
	TAP_CHECK_EQ(access_pin(&ta, 1 << 20, 4 * PAGE_SIZE, pages), 0, "pin");
	for (int i = 0; i < 4; i++)
		TAP_CHECK(pages[i] == (uint8_t *)buffer + i * PAGE_SIZE, "page %d host", i);
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "pinned by the access");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer + 4 * PAGE_SIZE), 0, "not beyond");
	/* The same range again: counted, one pin. */
	TAP_CHECK_EQ(access_pin(&ta, 1 << 20, 4 * PAGE_SIZE, pages), 0, "pin twice");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 1, "still one");
	iommufd_access_unpin_pages(ta.access, 1 << 20, 4 * PAGE_SIZE);
	ta.pins[1].live = false;
	/* Errors. */
	TAP_CHECK_EQ(access_pin(&ta, (1 << 20) + 100, PAGE_SIZE, pages), -EINVAL, "unaligned");
	TAP_CHECK_EQ(access_pin(&ta, 0, PAGE_SIZE, pages), -ENOENT, "not mapped");
	TAP_CHECK_EQ(access_pin(&ta, (1 << 20) + BUFFER_SIZE - PAGE_SIZE, 2 * PAGE_SIZE, pages),
		     -ENOENT, "runs off the end");
	TAP_CHECK_EQ(access_pin(&ta, 1 << 20, 0, pages), -EINVAL, "length 0");
	{
		uint64_t v = 8 << 20;

		CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &v,
				   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
		TAP_CHECK_EQ(iommufd_access_pin_pages(ta.access, 8 << 20, PAGE_SIZE, pages,
						      IOMMUFD_ACCESS_RW_WRITE),
			     -EPERM, "write pin of a read-only area");
	}
	/* Unmap of a pinned range calls back and succeeds. */
	ta.unmap_calls = 0;
	ioas_unmap(ioas, 1 << 20, BUFFER_SIZE);
	TAP_CHECK(ta.unmap_calls >= 1, "callback");
	TAP_CHECK(!ta.pins[0].live, "unpinned by the callback");
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "unpinned");

	/* A non-cooperating access: UNMAP gives up with EDEADLK. */
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 1 << 20);
	TAP_CHECK_EQ(access_pin(&ta, 1 << 20, PAGE_SIZE, pages), 0, "pin");
	ta.cooperate = false;
	CHECK_ERRNO(EDEADLK, _ioas_unmap(ioas, 1 << 20, PAGE_SIZE, NULL));
	/* While an unmap is pending on the area, new pins are refused. */
	TAP_CHECK_EQ(iommufd_access_pin_pages(ta.access, 1 << 20, PAGE_SIZE, pages, 0), -EINVAL,
		     "prevent_access");
	ta.cooperate = true;
	ioas_unmap(ioas, 1 << 20, PAGE_SIZE);

	/* Replace moves the access; detaching calls unmap for everything. */
	{
		uint32_t ioas2 = ioas_alloc();

		TAP_CHECK_EQ(iommufd_access_replace(ta.access, 999), -ENOENT, "bad target");
		TAP_CHECK_EQ(iommufd_access_replace(ta.access, ioas2), 0, "replace");
		CHECK_OK(_destroy(ioas));
		CHECK_ERRNO(EBUSY, _destroy(ioas2));
		iommufd_access_detach(ta.access);
		TAP_CHECK_EQ(iommufd_access_replace(ta.access, ioas2), -ENOENT, "detached");
		CHECK_OK(_destroy(ioas2));
	}
	/* The access is an object: DESTROY by the user is EBUSY (the driver holds it). */
	CHECK_ERRNO(EBUSY, _destroy(id));
	iommufd_access_destroy(ta.access);
	CHECK_ERRNO(ENOENT, _destroy(id));
	iommufd_teardown();
}

static void test_access_rw(void *arg)
{
	struct test_access ta = {.cooperate = true};
	uint8_t tmp[64], *buf = buffer;
	uint32_t ioas, id;
	uint64_t iova;

	iommufd_setup();
	ioas = ioas_alloc();
	ta.access = iommufd_access_create(test_ictx(), &rw_ops, &ta, &id);
	TAP_CHECK(!IS_ERR(ta.access), "create");
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, 0, tmp, 1, 0), -ENOENT, "detached");
	TAP_CHECK_EQ(iommufd_access_attach(ta.access, ioas), 0, "attach");
	/* A pin-less access does not raise the alignment. */
	iova = (1 << 20) + 100;
	CHECK_OK(_ioas_map(ioas, buf + 100, BUFFER_SIZE - 200, &iova,
			   MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	for (unsigned int i = 0; i < BUFFER_SIZE; i++)
		buf[i] = (uint8_t)(i * 7);
	/* Reads and writes at every offset around a page boundary. */
	for (uint64_t at = (1 << 20) + PAGE_SIZE - 50; at < (1 << 20) + PAGE_SIZE + 50; at++) {
		for (size_t len = 1; len < sizeof(tmp); len += 5) {
			TAP_CHECK_EQ(iommufd_access_rw(ta.access, at, tmp, len, 0), 0, "read");
			TAP_CHECK(!memcmp(tmp, buf + (at - (1 << 20)), len), "read data");
			memset(tmp, (int)(at + len), len);
			TAP_CHECK_EQ(
				iommufd_access_rw(ta.access, at, tmp, len, IOMMUFD_ACCESS_RW_WRITE),
				0, "write");
			TAP_CHECK(!memcmp(tmp, buf + (at - (1 << 20)), len), "written");
		}
	}
	/* Errors: unmapped, beyond, length 0, overflow, permission. */
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, 1 << 20, tmp, 1, 0), -ENOENT, "before");
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, (1 << 20) + BUFFER_SIZE - 101, tmp, 2, 0),
		     -ENOENT, "across the end");
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, iova, tmp, 0, 0), -EINVAL, "length 0");
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, UINT64_MAX, tmp, 2, 0), -EOVERFLOW, "wrap");
	{
		uint64_t v = 8 << 20;

		CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &v,
				   IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
		TAP_CHECK_EQ(iommufd_access_rw(ta.access, 8 << 20, tmp, 8, IOMMUFD_ACCESS_RW_WRITE),
			     -EPERM, "write to read-only");
		v = 9 << 20;
		CHECK_OK(_ioas_map(ioas, buffer, PAGE_SIZE, &v,
				   IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_FIXED_IOVA));
		TAP_CHECK_EQ(iommufd_access_rw(ta.access, 9 << 20, tmp, 8, 0), -EPERM,
			     "read of write-only");
	}
	/* Memory the program unmapped: EFAULT, no crash. */
	{
		uint8_t *gone = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		uint64_t v = 0;

		TAP_CHECK(gone != MAP_FAILED, "mmap");
		CHECK_OK(_ioas_map(ioas, gone, PAGE_SIZE, &v, MAP_RW));
		munmap(gone, PAGE_SIZE);
		TAP_CHECK_EQ(iommufd_access_rw(ta.access, v, tmp, 8, 0), -EFAULT, "gone");
		TAP_CHECK_EQ(iommufd_access_rw(ta.access, v, tmp, 8, IOMMUFD_ACCESS_RW_WRITE),
			     -EFAULT, "gone (write)");
	}
	iommufd_access_destroy(ta.access);
	iommufd_teardown();
}

/* An internal access (HW queue) locks what it pins: UNMAP is EBUSY. */
static void test_access_internal(void *arg)
{
	struct iommufd_access *access;
	struct iommufd_ioas *ioas_obj;
	void *pages[4];
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, 1 << 20);
	access = iommufd_access_create_internal(test_ictx());
	TAP_CHECK(!IS_ERR(access), "create");
	ioas_obj = iommufd_get_ioas(test_ictx(), ioas);
	TAP_CHECK(!IS_ERR(ioas_obj), "get");
	TAP_CHECK_EQ(iommufd_access_attach_internal(access, ioas_obj), 0, "attach");
	iommufd_put_object(test_ictx(), &ioas_obj->obj);
	TAP_CHECK_EQ(iommufd_access_pin_pages(access, 1 << 20, 2 * PAGE_SIZE, pages, 0), 0, "pin");
	CHECK_ERRNO(EBUSY, _ioas_unmap(ioas, 1 << 20, 4 * PAGE_SIZE, NULL));
	CHECK_ERRNO(EBUSY, _ioas_unmap(ioas, 0, UINT64_MAX, NULL));
	iommufd_access_unpin_pages(access, 1 << 20, 2 * PAGE_SIZE);
	ioas_unmap(ioas, 1 << 20, 4 * PAGE_SIZE);
	iommufd_access_detach(access);
	iommufd_access_destroy(access);
	iommufd_teardown();
}

/* Closing the iommufd while an access still exists keeps the context alive. */
static void test_access_outlives_fd(void *arg)
{
	struct test_access ta = {.cooperate = true};
	uint8_t tmp[8];
	uint32_t ioas, id;
	struct iommufd_ctx *ictx;

	iommufd_setup();
	ictx = test_ictx();
	ioas = ioas_alloc();
	ta.access = iommufd_access_create(ictx, &rw_ops, &ta, &id);
	TAP_CHECK(!IS_ERR(ta.access), "create");
	TAP_CHECK_EQ(iommufd_access_attach(ta.access, ioas), 0, "attach");
	ioas_map_fixed(ioas, buffer, PAGE_SIZE, 1 << 20);
	iommufd_teardown();
	/* The fd is gone; the access still reads through its IOAS. */
	memset(buffer, 0x3c, 8);
	TAP_CHECK_EQ(iommufd_access_rw(ta.access, 1 << 20, tmp, 8, 0), 0, "rw after close");
	TAP_CHECK_EQ(tmp[7], 0x3c, "data");
	/* Destroying the access releases the last reference: everything goes. */
	iommufd_access_destroy(ta.access);
}

/* Tombstones: the ID reads as ENOENT and is not reused until close. */
static void test_tombstone(void *arg)
{
	struct iommufd_access *access;
	uint32_t id, ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	access = iommufd_access_create(test_ictx(), &rw_ops, NULL, &id);
	TAP_CHECK(!IS_ERR(access), "create");
	TAP_CHECK_EQ(id, ioas + 1, "id");
	iommufd_object_tombstone_user(test_ictx(), &access->obj);
	CHECK_ERRNO(ENOENT, _destroy(id));
	TAP_CHECK_EQ(ioas_alloc(), id + 1, "the tombstone's ID is not reused");
	CHECK_OK(_destroy(ioas));
	TAP_CHECK_EQ(ioas_alloc(), ioas, "other IDs are");
	iommufd_teardown();
	/* A new context starts from 1 again. */
	iommufd_setup();
	TAP_CHECK_EQ(ioas_alloc(), 1, "fresh");
	iommufd_teardown();
}

/*
 * Close destroys leaf-first: an access the context owns alone (the driver
 * gave up its reference) holds the IOAS, so the first pass can only take
 * the access, the second the IOAS.
 */
static void test_close_leaf_first(void *arg)
{
	struct iommufd_access *access;
	struct iommufd_ioas *ioas_obj;
	uint32_t ioas;

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, 4 * PAGE_SIZE, 1 << 20);
	for (int i = 0; i < 3; i++) {
		access = iommufd_access_create_internal(test_ictx());
		TAP_CHECK(!IS_ERR(access), "create");
		ioas_obj = iommufd_get_ioas(test_ictx(), ioas);
		TAP_CHECK(!IS_ERR(ioas_obj), "get");
		TAP_CHECK_EQ(iommufd_access_attach_internal(access, ioas_obj), 0, "attach");
		iommufd_put_object(test_ictx(), &ioas_obj->obj);
		/* The driver's reference goes: only the table holds the access now. */
		refcount_dec(&access->obj.users);
	}
	CHECK_ERRNO(EBUSY, _destroy(ioas));
	iommufd_teardown();
	TAP_CHECK_EQ(iopt_pages_pin_count((uintptr_t)buffer), 0, "nothing pinned");
}

/* The file-alias resolver for mock_domain_check_map(). */
struct file_id {
	uint64_t dev, ino;
	uintptr_t user;
};

static uint64_t resolve_file(void *arg, uint64_t uva)
{
	struct file_id *f = arg;

	return iopt_pages_file_host(f->dev, f->ino, uva - f->user);
}

/* The real mock IOMMU (lib/hw/mock) behind an IOAS: MD_CHECK_MAP semantics. */
static void test_mock_domain(void *arg)
{
	const struct iommu_ops *ops = mock_iommu_device()->ops;
	struct iommu_domain *dom, *huge;
	struct udev *dev;
	uint32_t ioas, num;
	uint64_t iova, align;
	struct iommu_iova_range r;
	int err, mfd;
	uint8_t *user;

	dev = mock_dev_create(0, &err);
	TAP_CHECK(dev, "mock device: %d", err);
	dom = ops->domain_alloc_paging_flags(dev, 0, NULL, &err);
	TAP_CHECK(dom, "mock domain: %d", err);

	iommufd_setup();
	ioas = ioas_alloc();
	ioas_map_fixed(ioas, buffer, BUFFER_SIZE, MOCK_APERTURE_START);
	{
		struct iommufd_ioas *o = iommufd_get_ioas(test_ictx(), ioas);

		TAP_CHECK(!IS_ERR(o), "get");
		TAP_CHECK_EQ(iopt_table_add_domain(&o->iopt, dom), 0, "attach the mock");
		iommufd_put_object(test_ictx(), &o->obj);
	}
	/* The selftest's iova_ranges with a mock domain. */
	num = 1;
	CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
	TAP_CHECK(r.start == MOCK_APERTURE_START && r.last == MOCK_APERTURE_LAST, "aperture");
	TAP_CHECK_EQ(align, MOCK_PAGE_SIZE, "2 KiB alignment");
	TAP_CHECK_EQ(mock_domain_check_map(dom, MOCK_APERTURE_START, BUFFER_SIZE, (uintptr_t)buffer,
					   NULL, NULL),
		     0, "MD_CHECK_MAP of the existing area");
	/* Sub-page (2 KiB) offsets, every alignment the mock allows. */
	for (uint64_t start = 0; start < PAGE_SIZE; start += MOCK_PAGE_SIZE) {
		for (uint64_t len = MOCK_PAGE_SIZE; len <= 3 * PAGE_SIZE; len += MOCK_PAGE_SIZE) {
			iova = 0;
			CHECK_OK(_ioas_map(ioas, (uint8_t *)buffer + start, len, &iova, MAP_RW));
			TAP_CHECK_EQ(mock_domain_check_map(dom, iova, len,
							   (uintptr_t)buffer + start, NULL, NULL),
				     0, "check map start %llu len %llu", (unsigned long long)start,
				     (unsigned long long)len);
			ioas_unmap(ioas, iova, len);
		}
	}
	/* A 1K length is below the mock's granule. */
	iova = 0;
	CHECK_ERRNO(EINVAL, _ioas_map(ioas, buffer, 1024, &iova, MAP_RW));

	/* MAP_FILE: the domain maps the library's alias of the memfd. */
	mfd = memfd_create("mock", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0 && !ftruncate(mfd, 4 * PAGE_SIZE), "memfd");
	user = mmap(NULL, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	TAP_CHECK(user != MAP_FAILED, "mmap");
	iova = 0;
	CHECK_OK(_map_file(ioas, mfd, PAGE_SIZE, 2 * PAGE_SIZE, &iova, MAP_RW));
	{
		struct file_id f = {.user = (uintptr_t)user};
		struct stat st;

		TAP_CHECK(!fstat(mfd, &st), "fstat");
		f.dev = st.st_dev;
		f.ino = st.st_ino;
		TAP_CHECK_EQ(mock_domain_check_map(dom, iova, 2 * PAGE_SIZE,
						   (uintptr_t)user + PAGE_SIZE, resolve_file, &f),
			     0, "check map through the alias");
		/* Without the resolver the user address is not what the domain maps. */
		TAP_CHECK_EQ(mock_domain_check_map(dom, iova, 2 * PAGE_SIZE,
						   (uintptr_t)user + PAGE_SIZE, NULL, NULL),
			     -EINVAL, "user address is not the alias");
	}
	munmap(user, 4 * PAGE_SIZE);
	close(mfd);

	/* A second, HUGE mock domain (4K | 1M pages): areas get 1 MiB leaves where they can. */
	{
		struct iommu_hwpt_selftest data = {.pagetable_type = MOCK_IOMMUPT_HUGE};
		struct iommu_user_data ud = {
			.type = IOMMU_HWPT_DATA_SELFTEST, .uptr = &data, .len = sizeof(data)};
		struct iommufd_ioas *o = iommufd_get_ioas(test_ictx(), ioas);

		huge = ops->domain_alloc_paging_flags(dev, 0, &ud, &err);
		TAP_CHECK(huge, "huge mock domain: %d", err);
		TAP_CHECK(!IS_ERR(o), "get");
		TAP_CHECK_EQ(iopt_table_add_domain(&o->iopt, huge), 0, "attach the huge mock");
		TAP_CHECK_EQ(mock_domain_check_map(huge, MOCK_APERTURE_START, BUFFER_SIZE,
						   (uintptr_t)buffer, NULL, NULL),
			     0, "filled");
		num = 1;
		CHECK_OK(_iova_ranges(ioas, &r, &num, &align));
		TAP_CHECK_EQ(align, PAGE_SIZE, "4 KiB alignment now");
		iopt_table_remove_domain(&o->iopt, huge);
		iommufd_put_object(test_ictx(), &o->obj);
		huge->ops->free(huge);
	}

	ioas_unmap(ioas, MOCK_APERTURE_START, BUFFER_SIZE);
	{
		struct iommufd_ioas *o = iommufd_get_ioas(test_ictx(), ioas);

		iopt_table_remove_domain(&o->iopt, dom);
		iommufd_put_object(test_ictx(), &o->obj);
	}
	dom->ops->free(dom);
	mock_dev_destroy(dev);
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"attach: aperture, alignment, refusals, two domains, detach", test_attach},
		{"pinning errors: holes, read-only, PROT_NONE, files past EOF", test_pin_errors},
		{"pinning by touch and by madvise: the same errors, COW broken", test_pin_paths},
		{"MAP_FILE pages outlive the program's fd and mapping", test_file_backing},
		{"pin counts per page and per iopt_pages (MD_CHECK_REFS)", test_pin_counts},
		{"a domain failing mid-way unwinds map and attach", test_domain_failure},
		{"huge pages off: PAGE_SIZE IOPTEs; on: large ones", test_small_pages},
		{"RLIMIT_MEMLOCK accounting, USER and MM modes", test_rlimit},
		{"access pin/unpin, unmap callbacks, replace, EBUSY", test_access_pin},
		{"access rw: every offset, ENOENT, EPERM, EFAULT", test_access_rw},
		{"internal access locks areas (EBUSY)", test_access_internal},
		{"an access keeps its context after close", test_access_outlives_fd},
		{"tombstones: ENOENT, ID kept until close", test_tombstone},
		{"close destroys leaf-first", test_close_leaf_first},
		{"the mock IOMMU's domains behind an IOAS (MD_CHECK_MAP)", test_mock_domain},
	};

	tap_plan(ARRAY_SIZE_T(tests));
	for (unsigned int i = 0; i < ARRAY_SIZE_T(tests); i++) {
		tap_run(tests[i].name, tests[i].fn, NULL);
		domains_cleanup();
		if (self_file) {
			uiommu_close(self_file);
			self_file = NULL;
		}
	}
	return tap_done();
}
