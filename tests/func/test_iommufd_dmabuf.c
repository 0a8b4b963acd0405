// SPDX-License-Identifier: MIT
/*
 * dma-buf through iommufd (v6.19): the selftest exporter
 * (IOMMU_TEST_OP_DMABUF_GET / DMABUF_REVOKE) and IOMMU_IOAS_MAP_FILE of
 * its fd, through real ioctls, as Linux defines them:
 *
 *  - GET: the length is rounded up to pages, 0 or more than 512 pages is
 *    EINVAL, the fd is the ioctl's value, O_CLOEXEC is honoured and other
 *    open flags are not checked (dma_buf_export() does not);
 *  - REVOKE: EBADF for a number that is not open, EINVAL for an open file
 *    that is not a dma-buf (a memfd, the iommufd, an access fd);
 *  - MAP_FILE of a dma-buf: the upstream dmabuf_simple bounds (length 0,
 *    start at the end, one byte past it: EINVAL), EOVERFLOW, sub-page
 *    starts; the mock domain maps the buffer's own memory (MD_CHECK_MAP
 *    against the exporter's address, read from inside the library), in a
 *    domain attached later too, and in another IOAS after COPY; no pinned
 *    page is charged; accesses get EINVAL (pin and rw); a split is
 *    EOPNOTSUPP;
 *  - revocation (upstream dmabuf_revoke): the domains stop mapping the
 *    buffer, a new MAP_FILE is ENODEV, a domain attached while revoked maps
 *    nothing, un-revoking lets new maps work but does not bring the old
 *    one back; every REVOKE call moves the buffer (also "revoked = 0");
 *  - lifetime: closing the fd while mapped keeps the buffer (the area's
 *    reference), unmapping then frees it (ASan would report a leak or a
 *    use after free); a context closed with the buffer mapped releases it;
 *  - MD_CHECK_DMABUF (the maintainer tree's op after v6.19): a mock domain
 *    against the buffer's bytes, its errnos, a revoked buffer;
 *  - a race of revocation against map / check / unmap / domain attach
 *    (also under TSan).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "iommufd_internal.h"
#include "iommufd_objs.h"
#include "util/dmabuf.h"

#define DMABUF_PAGES_MAX 512
#define BUF_SIZE	 (4 * PAGE_SIZE)

static int _dmabuf_get(uint32_t length, uint32_t open_flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = {.length = length, .open_flags = open_flags},
	};

	return _test_cmd(&cmd);
}

static int dmabuf_get(uint32_t length)
{
	int fd = _dmabuf_get(length, O_CLOEXEC);

	TAP_CHECK(fd >= 0, "DMABUF_GET(%u): %s", length, strerror(errno));
	return fd;
}

static int _dmabuf_revoke(int fd, uint32_t revoked)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = {.dmabuf_fd = fd, .revoked = revoked},
	};

	return _test_cmd(&cmd);
}

/*
 * Where the exporter keeps the buffer: what an importer learns from
 * dma_buf_phys(), through an attachment of our own.
 */
static void *dmabuf_memory(int fd, size_t *len)
{
	static const struct dma_buf_attach_ops none;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	uintptr_t addr = 0;
	size_t l = 0;
	int rc;

	dmabuf = dma_buf_get(fd);
	TAP_CHECK(!IS_ERR(dmabuf), "dma_buf_get(%d): %ld", fd, PTR_ERR(dmabuf));
	attach = dma_buf_dynamic_attach(dmabuf, &none, NULL);
	TAP_CHECK(attach, "attach");
	dma_buf_lock(dmabuf);
	rc = dma_buf_phys(attach, &addr, &l);
	dma_buf_unlock(dmabuf);
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
	TAP_CHECK(rc == 0, "dma_buf_phys: %d", rc);
	if (len)
		*len = l;
	return (void *)addr;
}

/* The exporter refuses a revoked buffer (-ENODEV). */
static bool dmabuf_memory_gone(int fd)
{
	static const struct dma_buf_attach_ops none;
	struct dma_buf_attachment *attach;
	struct dma_buf *dmabuf;
	uintptr_t addr;
	size_t l;
	int rc;

	dmabuf = dma_buf_get(fd);
	TAP_CHECK(!IS_ERR(dmabuf), "dma_buf_get(%d): %ld", fd, PTR_ERR(dmabuf));
	attach = dma_buf_dynamic_attach(dmabuf, &none, NULL);
	TAP_CHECK(attach, "attach");
	dma_buf_lock(dmabuf);
	rc = dma_buf_phys(attach, &addr, &l);
	dma_buf_unlock(dmabuf);
	dma_buf_detach(dmabuf, attach);
	dma_buf_put(dmabuf);
	return rc == -ENODEV;
}

static int _check_dmabuf(uint32_t hwpt, int fd, uint64_t iova, uint64_t length, uint64_t offset)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_DMABUF,
		.id = hwpt,
		.check_dmabuf = {.dmabuf_fd = fd, .iova = iova, .length = length, .offset = offset},
	};

	return _test_cmd(&cmd);
}

static uint64_t map_dmabuf(uint32_t ioas, int fd, uint64_t start, uint64_t length)
{
	uint64_t iova = 0;

	CHECK_OK(_map_file(ioas, fd, start, length, &iova, MAP_RW));
	return iova;
}

static void test_get(void *arg)
{
	size_t len;
	int fd, fl;

	iommufd_setup();
	CHECK_ERRNO(EINVAL, _dmabuf_get(0, O_CLOEXEC));
	CHECK_ERRNO(EINVAL, _dmabuf_get(DMABUF_PAGES_MAX * PAGE_SIZE + 1, O_CLOEXEC));
	CHECK_ERRNO(EINVAL, _dmabuf_get(UINT32_MAX, O_CLOEXEC));

	/* One byte is one page; 512 pages is the most. */
	fd = dmabuf_get(1);
	dmabuf_memory(fd, &len);
	TAP_CHECK_EQ(len, PAGE_SIZE, "rounded up");
	fl = fcntl(fd, F_GETFD);
	TAP_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "O_CLOEXEC: %#x", fl);
	CHECK_OK(fd_close(fd));
	fd = dmabuf_get(DMABUF_PAGES_MAX * PAGE_SIZE);
	dmabuf_memory(fd, &len);
	TAP_CHECK_EQ(len, DMABUF_PAGES_MAX * PAGE_SIZE, "512 pages");
	CHECK_OK(fd_close(fd));

	/* The flags are the fd's, not checked: no O_CLOEXEC, unknown bits. */
	fd = _dmabuf_get(PAGE_SIZE, 0);
	TAP_CHECK(fd >= 0, "flags 0: %s", strerror(errno));
	fl = fcntl(fd, F_GETFD);
	TAP_CHECK(fl >= 0 && !(fl & FD_CLOEXEC), "no O_CLOEXEC: %#x", fl);
	CHECK_OK(fd_close(fd));
	fd = _dmabuf_get(PAGE_SIZE, O_CLOEXEC | O_NONBLOCK | 0x40000000);
	TAP_CHECK(fd >= 0, "unknown bits: %s", strerror(errno));
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
}

static void test_revoke_errnos(void *arg)
{
	uint32_t ioas;
	int mfd, afd, fd, self_fd;

	iommufd_setup();
	ioas = ioas_alloc();
	CHECK_ERRNO(EBADF, _dmabuf_revoke(-1, 1));
	/* A number that is not open (one past one just closed). */
	mfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0, "memfd_create");
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(mfd, 1));
	close(mfd);
	CHECK_ERRNO(EBADF, _dmabuf_revoke(mfd, 1));
	/* Files of the library that are not dma-bufs. */
	self_fd = uiommu_file_fd(self_file);
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(self_fd, 1));
	CHECK_OK(_create_access(ioas, 0, &afd));
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(afd, 1));
	CHECK_OK(fd_close(afd));
	/* A closed dma-buf. */
	fd = dmabuf_get(PAGE_SIZE);
	CHECK_OK(_dmabuf_revoke(fd, 1));
	CHECK_OK(_dmabuf_revoke(fd, 0));
	CHECK_OK(fd_close(fd));
	CHECK_ERRNO(EBADF, _dmabuf_revoke(fd, 1));
	iommufd_teardown();
}

static void test_simple(void *arg)
{
	struct iommufd_pin_stats before, after;
	uint32_t ioas, ioas2, ioas3;
	struct mock_dev_ids md, md2, md3;
	uint64_t iova, iova2, iova3, iova_copy;
	struct iommufd_ioas *obj;
	uint8_t *mem;
	int fd, afd;

	iommufd_setup();
	ioas = ioas_alloc();
	md = mock_domain(ioas, 0);
	fd = dmabuf_get(BUF_SIZE);
	mem = dmabuf_memory(fd, NULL);

	/* Upstream's dmabuf_simple bounds. */
	iova = 0;
	CHECK_ERRNO(EINVAL, _map_file(ioas, fd, 0, 0, &iova, MAP_RW));
	CHECK_ERRNO(EINVAL, _map_file(ioas, fd, BUF_SIZE, BUF_SIZE, &iova, MAP_RW));
	CHECK_ERRNO(EINVAL, _map_file(ioas, fd, 0, BUF_SIZE + 1, &iova, MAP_RW));
	CHECK_ERRNO(EINVAL, _map_file(ioas, fd, PAGE_SIZE, BUF_SIZE - PAGE_SIZE + 1, &iova, MAP_RW));
	CHECK_ERRNO(EOVERFLOW, _map_file(ioas, fd, UINT64_MAX - 1, 3, &iova, MAP_RW));

	/* No pinned-page accounting for the dma-buf, as for user memory there is. */
	iommufd_pin_stats(&before);
	iova = map_dmabuf(ioas, fd, 0, BUF_SIZE);
	iommufd_pin_stats(&after);
	TAP_CHECK_EQ(after.mm_pinned_vm, before.mm_pinned_vm, "dma-buf map charged");
	TAP_CHECK_EQ(after.user_locked_vm, before.user_locked_vm, "dma-buf map charged");

	/* The domain maps the exporter's memory, and only that. */
	CHECK_OK(_check_map(md.hwpt, iova, BUF_SIZE, mem));
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, BUF_SIZE, buffer));
	/* A domain attached afterwards gets it too. */
	md2 = mock_domain(ioas, 0);
	CHECK_OK(_check_map(md2.hwpt, iova, BUF_SIZE, mem));

	/* A window with a sub-page start: the IOVA keeps the offset. */
	iova2 = map_dmabuf(ioas, fd, PAGE_SIZE + 2048, 2 * PAGE_SIZE);
	TAP_CHECK_EQ(iova2 % PAGE_SIZE, 2048, "sub-page offset");
	CHECK_OK(_check_map(md.hwpt, iova2, 2 * PAGE_SIZE, mem + PAGE_SIZE + 2048));
	/* (An access needs page-aligned areas: EADDRINUSE while this one is there.) */
	ioas_unmap(ioas, iova2, 2 * PAGE_SIZE);

	/* COPY shares the buffer with another IOAS and its domain. */
	ioas2 = ioas_alloc();
	md3 = mock_domain(ioas2, 0);
	iova_copy = 0;
	CHECK_OK(_copy(ioas2, &iova_copy, ioas, iova, BUF_SIZE, MAP_RW));
	CHECK_OK(_check_map(md3.hwpt, iova_copy, BUF_SIZE, mem));

	/* Accesses cannot use a dma-buf (no struct pages): EINVAL. */
	CHECK_OK(_create_access(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, &afd));
	CHECK_ERRNO(EINVAL, _access_rw(afd, iova, buffer, 64, 0));
	CHECK_ERRNO(EINVAL, _access_rw(afd, iova, buffer, 64, MOCK_ACCESS_RW_WRITE));
	CHECK_ERRNO(EINVAL, _access_pages(afd, iova, PAGE_SIZE, mem, 0, NULL));
	CHECK_OK(fd_close(afd));

	/* A split (VFIO type1 v1) is not supported on a dma-buf area. */
	ioas3 = ioas_alloc();
	iova3 = map_dmabuf(ioas3, fd, 0, BUF_SIZE);
	obj = iommufd_get_ioas(self_file->private_data, ioas3);
	TAP_CHECK(!IS_ERR(obj), "ioas");
	{
		uint64_t cut = iova3 + PAGE_SIZE - 1;

		TAP_CHECK_EQ(iopt_cut_iova(&obj->iopt, &cut, 1), -EOPNOTSUPP, "split");
	}
	iommufd_put_object(self_file->private_data, &obj->obj);

	/* Unmapped: the domains do not map it any more. */
	ioas_unmap(ioas, iova, BUF_SIZE);
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, BUF_SIZE, mem));
	CHECK_ERRNO(EINVAL, _check_map(md2.hwpt, iova, BUF_SIZE, mem));
	/* The COPY still maps it, with the fd closed too. */
	CHECK_OK(fd_close(fd));
	CHECK_OK(_check_map(md3.hwpt, iova_copy, BUF_SIZE, mem));
	iommufd_teardown();
}

static void test_revoke(void *arg)
{
	struct mock_dev_ids md;
	uint64_t iova, iova2, iova3;
	uint32_t ioas, ioas2, hwpt;
	uint8_t *mem;
	int fd;

	iommufd_setup();
	ioas = ioas_alloc();
	md = mock_domain(ioas, 0);
	fd = dmabuf_get(BUF_SIZE);
	mem = dmabuf_memory(fd, NULL);
	iova = map_dmabuf(ioas, fd, 0, BUF_SIZE);
	/* Inside the mock aperture, for the domain attached later. */
	ioas2 = ioas_alloc();
	iova3 = MOCK_APERTURE_START;
	CHECK_OK(_copy(ioas2, &iova3, ioas, iova, BUF_SIZE, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	CHECK_OK(_check_map(md.hwpt, iova, BUF_SIZE, mem));

	CHECK_OK(_dmabuf_revoke(fd, 1));
	/* Gone from the domain, in this IOAS and where COPY put it. */
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, MOCK_PAGE_SIZE, mem));
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova + BUF_SIZE - MOCK_PAGE_SIZE,
				       MOCK_PAGE_SIZE, mem + BUF_SIZE - MOCK_PAGE_SIZE));
	/* A domain attached now maps nothing of it; the area is still there. */
	hwpt = hwpt_alloc(md.idev, ioas, 0);
	CHECK_ERRNO(EINVAL, _check_map(hwpt, iova, MOCK_PAGE_SIZE, mem));
	{
		struct mock_dev_ids md2 = mock_domain(ioas2, 0);

		CHECK_ERRNO(EINVAL, _check_map(md2.hwpt, iova3, MOCK_PAGE_SIZE, mem));
	}
	/* New maps: ENODEV while revoked, before the IOVA is even looked at. */
	iova2 = iova;
	CHECK_ERRNO(ENODEV, _map_file(ioas, fd, 0, BUF_SIZE, &iova2,
				      MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	iova2 = 0;
	CHECK_ERRNO(ENODEV, _map_file(ioas, fd, 0, BUF_SIZE, &iova2, MAP_RW));

	/* Restored: new maps work, the old one stays unmapped. */
	CHECK_OK(_dmabuf_revoke(fd, 0));
	iova2 = map_dmabuf(ioas, fd, 0, BUF_SIZE);
	CHECK_OK(_check_map(md.hwpt, iova2, BUF_SIZE, mem));
	CHECK_OK(_check_map(hwpt, iova2, BUF_SIZE, mem));
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, MOCK_PAGE_SIZE, mem));
	/* Upstream's "restore the iova back". */
	ioas_unmap(ioas, iova, BUF_SIZE);
	iova3 = iova;
	CHECK_OK(_map_file(ioas, fd, 0, BUF_SIZE, &iova3, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	CHECK_OK(_check_map(md.hwpt, iova, BUF_SIZE, mem));

	/*
	 * Every REVOKE moves the buffer (dma_buf_move_notify()), and iommufd
	 * treats a move as a revocation: "revoked = 0" on a live buffer
	 * unmaps what was mapped too, though new maps still work.
	 */
	CHECK_OK(_dmabuf_revoke(fd, 0));
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, MOCK_PAGE_SIZE, mem));
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova2, MOCK_PAGE_SIZE, mem));
	iova3 = map_dmabuf(ioas, fd, 0, BUF_SIZE);
	CHECK_OK(_check_map(md.hwpt, iova3, BUF_SIZE, mem));

	/* Revoked areas unmap like any other; the domain detaches cleanly. */
	CHECK_OK(_ioas_unmap(ioas, 0, UINT64_MAX, NULL));
	CHECK_OK(_destroy(hwpt));
	CHECK_OK(_destroy(md.stdev));
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
}

static void test_revoke_no_domain(void *arg)
{
	struct mock_dev_ids md;
	uint64_t iova;
	uint32_t ioas;
	uint8_t *mem;
	int fd;

	iommufd_setup();
	ioas = ioas_alloc();
	fd = dmabuf_get(BUF_SIZE);
	mem = dmabuf_memory(fd, NULL);
	/* Mapped in an IOAS without domains, revoked, then a domain comes. */
	iova = MOCK_APERTURE_START;
	CHECK_OK(_map_file(ioas, fd, 0, BUF_SIZE, &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	CHECK_OK(_dmabuf_revoke(fd, 1));
	md = mock_domain(ioas, 0);
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, MOCK_PAGE_SIZE, mem));
	CHECK_OK(_destroy(md.stdev));
	ioas_unmap(ioas, iova, BUF_SIZE);
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
}

static void test_lifetime(void *arg)
{
	struct mock_dev_ids md;
	uint64_t iova;
	uint32_t ioas;
	uint8_t *mem;
	int fd;

	iommufd_setup();
	ioas = ioas_alloc();
	md = mock_domain(ioas, 0);
	fd = dmabuf_get(BUF_SIZE);
	mem = dmabuf_memory(fd, NULL);
	iova = map_dmabuf(ioas, fd, 0, BUF_SIZE);
	/* The area holds the buffer: closing the fd changes nothing. */
	CHECK_OK(fd_close(fd));
	CHECK_ERRNO(EBADF, _dmabuf_revoke(fd, 1));
	CHECK_OK(_check_map(md.hwpt, iova, BUF_SIZE, mem));
	/* The last reference goes with the unmap (ASan checks the free). */
	ioas_unmap(ioas, iova, BUF_SIZE);
	CHECK_ERRNO(EINVAL, _check_map(md.hwpt, iova, MOCK_PAGE_SIZE, buffer));

	/* A context closed with a buffer mapped (fd closed too) releases it. */
	fd = dmabuf_get(BUF_SIZE);
	map_dmabuf(ioas, fd, 0, BUF_SIZE);
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
	/* ... and one whose fd outlives the context: the fd still holds it. */
	iommufd_setup();
	ioas = ioas_alloc();
	fd = dmabuf_get(BUF_SIZE);
	map_dmabuf(ioas, fd, 0, BUF_SIZE);
	iommufd_teardown();
	iommufd_setup();
	CHECK_OK(_dmabuf_revoke(fd, 1));
	TAP_CHECK(dmabuf_memory_gone(fd), "revoked buffer still answers");
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
}

static void test_check_dmabuf(void *arg)
{
	struct mock_dev_ids md;
	uint64_t iova, iova2;
	uint32_t ioas;
	int fd, fd2, mfd;

	iommufd_setup();
	ioas = ioas_alloc();
	md = mock_domain(ioas, 0);
	fd = dmabuf_get(16 * PAGE_SIZE);
	fd2 = dmabuf_get(16 * PAGE_SIZE);
	iova = map_dmabuf(ioas, fd, 4 * PAGE_SIZE, 8 * PAGE_SIZE);
	CHECK_OK(_check_dmabuf(md.hwpt, fd, iova, 8 * PAGE_SIZE, 4 * PAGE_SIZE));
	CHECK_OK(_check_dmabuf(md.hwpt, fd, iova + MOCK_PAGE_SIZE, MOCK_PAGE_SIZE,
			       4 * PAGE_SIZE + MOCK_PAGE_SIZE));
	CHECK_OK(_check_dmabuf(md.hwpt, fd, iova, 0, 0));
	/* The wrong bytes, the wrong buffer: no match. */
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, 8 * PAGE_SIZE, 0));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd2, iova, 8 * PAGE_SIZE, 4 * PAGE_SIZE));
	/* Bounds and alignment. */
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, 8 * PAGE_SIZE, 9 * PAGE_SIZE));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, PAGE_SIZE, UINT64_MAX - 1));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova + 1, MOCK_PAGE_SIZE, 4 * PAGE_SIZE));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, 100, 4 * PAGE_SIZE));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, MOCK_PAGE_SIZE, 4 * PAGE_SIZE + 8));
	/* Lookups: the HWPT first, then the fd. */
	CHECK_ERRNO(ENOENT, _check_dmabuf(next_free_id(), fd, iova, PAGE_SIZE, 0));
	CHECK_ERRNO(ENOENT, _check_dmabuf(ioas, -1, iova, PAGE_SIZE, 0));
	CHECK_ERRNO(EBADF, _check_dmabuf(md.hwpt, -1, iova, PAGE_SIZE, 0));
	mfd = memfd_create("not-a-dmabuf", MFD_CLOEXEC);
	TAP_CHECK(mfd >= 0, "memfd_create");
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, mfd, iova, PAGE_SIZE, 0));
	close(mfd);
	/* Revoked: the domain no longer maps the buffer. */
	CHECK_OK(_dmabuf_revoke(fd, 1));
	CHECK_ERRNO(EINVAL, _check_dmabuf(md.hwpt, fd, iova, MOCK_PAGE_SIZE, 4 * PAGE_SIZE));
	CHECK_OK(_dmabuf_revoke(fd, 0));
	iova2 = map_dmabuf(ioas, fd, 0, 16 * PAGE_SIZE);
	CHECK_OK(_check_dmabuf(md.hwpt, fd, iova2, 16 * PAGE_SIZE, 0));
	CHECK_OK(fd_close(fd2));
	CHECK_OK(fd_close(fd));
	iommufd_teardown();
}

/*
 * Revocation racing with the importer: one thread revokes and restores the
 * buffer, the other maps it (0, or ENODEV while revoked), checks and unmaps
 * it, and attaches and detaches a second mock domain. Every answer must be
 * one Linux could give; TSan (make check-tsan) checks the lock order
 * (iova_rwsem, reservation lock, pages->mutex). Failures are counted in the
 * threads and checked here.
 */
#define RACE_ROUNDS 300

struct race {
	uint32_t ioas, hwpt;
	int fd;
	atomic_int bad;
	atomic_bool done;
};

static void *race_revoker(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < RACE_ROUNDS; i++)
		if (_dmabuf_revoke(r->fd, 1) || _dmabuf_revoke(r->fd, 0))
			atomic_fetch_add(&r->bad, 1);
	atomic_store(&r->done, true);
	return NULL;
}

static void *race_importer(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < RACE_ROUNDS || !atomic_load(&r->done); i++) {
		uint64_t iova = 0;
		uint32_t stdev = 0;

		if (_map_file(r->ioas, r->fd, 0, BUF_SIZE, &iova, MAP_RW)) {
			if (errno != ENODEV)
				atomic_fetch_add(&r->bad, 1);
			continue;
		}
		/* Mapped or already revoked: either way the check answers 0 or EINVAL. */
		if (_check_dmabuf(r->hwpt, r->fd, iova, BUF_SIZE, 0) && errno != EINVAL)
			atomic_fetch_add(&r->bad, 1);
		if (!(i % 8) && _mock_domain(r->ioas, &stdev, NULL, NULL))
			atomic_fetch_add(&r->bad, 1);
		if (_ioas_unmap(r->ioas, iova, BUF_SIZE, NULL))
			atomic_fetch_add(&r->bad, 1);
		if (stdev && _destroy(stdev))
			atomic_fetch_add(&r->bad, 1);
	}
	return NULL;
}

static void test_race(void *arg)
{
	struct race r = {0};
	pthread_t a, b;
	uint64_t iova;

	iommufd_setup();
	r.ioas = ioas_alloc();
	r.hwpt = mock_domain(r.ioas, 0).hwpt;
	r.fd = dmabuf_get(BUF_SIZE);
	TAP_CHECK(!pthread_create(&a, NULL, race_revoker, &r), "pthread_create");
	TAP_CHECK(!pthread_create(&b, NULL, race_importer, &r), "pthread_create");
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	TAP_CHECK_EQ(atomic_load(&r.bad), 0, "unexpected answers in the race");
	/* Afterwards the buffer maps and checks as ever. */
	iova = map_dmabuf(r.ioas, r.fd, 0, BUF_SIZE);
	CHECK_OK(_check_dmabuf(r.hwpt, r.fd, iova, BUF_SIZE, 0));
	CHECK_OK(fd_close(r.fd));
	iommufd_teardown();
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void *);
	} tests[] = {
		{"DMABUF_GET: lengths, rounding, open flags", test_get},
		{"DMABUF_REVOKE: EBADF, EINVAL for files that are not dma-bufs", test_revoke_errnos},
		{"MAP_FILE of a dma-buf: bounds, domains, COPY, no charge, accesses, split",
		 test_simple},
		{"revoke: domains unmapped, ENODEV, restore, every move revokes", test_revoke},
		{"revoke before the first domain", test_revoke_no_domain},
		{"lifetime: fd closed while mapped, context closed while mapped", test_lifetime},
		{"MD_CHECK_DMABUF: match, windows, bounds, lookups, revoked", test_check_dmabuf},
		{"threads: revoke and restore while another maps, checks, unmaps, attaches",
		 test_race},
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
