// SPDX-License-Identifier: MIT
/*
 * The preload shim: a program that uses the selftest's dma-buf ops
 * (IOMMU_TEST_OP_DMABUF_GET / DMABUF_REVOKE, v6.19) through /dev/iommu
 * with libc alone, as the kernel selftest's dmabuf_simple and
 * dmabuf_revoke do:
 *
 *  - GET returns a new fd as the ioctl's value: a real descriptor with
 *    FD_CLOEXEC as asked, an anonymous inode; read EINVAL, write EBADF
 *    (opened read-only: open_flags had no O_RDWR), mmap EINVAL (the
 *    exporter has no CPU access), ioctl ENOTTY;
 *  - MAP_FILE of it and of a memfd side by side; bounds EINVAL; the mock
 *    domain maps the buffer's bytes (MD_CHECK_DMABUF), and no longer after
 *    a revoke;
 *  - REVOKE through a dup() of the fd; a revoked buffer gives ENODEV to a
 *    new MAP_FILE, a restored one maps again; EINVAL on /dev/null, EBADF
 *    on a closed number;
 *  - closing every fd of a mapped buffer keeps the mapping (it unmaps
 *    normally afterwards), and nothing is left open at the end.
 */
#include <sys/syscall.h>

#include "shim_utils.h"

#define BUF_SIZE (4 * SHIM_PAGE)

static int _dmabuf_get(int fd, uint32_t length, uint32_t open_flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_GET,
		.dmabuf_get = {.length = length, .open_flags = open_flags},
	};

	return _test_cmd(fd, &cmd);
}

static int _dmabuf_revoke(int fd, int dfd, uint32_t revoked)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DMABUF_REVOKE,
		.dmabuf_revoke = {.dmabuf_fd = dfd, .revoked = revoked},
	};

	return _test_cmd(fd, &cmd);
}

static int _check_dmabuf(int fd, uint32_t hwpt, int dfd, uint64_t iova, uint64_t length)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_DMABUF,
		.id = hwpt,
		.check_dmabuf = {.dmabuf_fd = dfd, .iova = iova, .length = length},
	};

	return _test_cmd(fd, &cmd);
}

static int _map_file(int fd, uint32_t ioas, int mfd, uint64_t start, uint64_t length,
		     uint64_t *iova)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = mfd,
		.start = start,
		.length = length,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

static void test_fd(void *arg)
{
	int fd = iommufd_open(), dfd, fl;
	struct stat st;
	char buf[8];
	void *p;

	dfd = _dmabuf_get(fd, BUF_SIZE, O_CLOEXEC);
	TAP_CHECK(dfd > fd, "DMABUF_GET: %d (%s)", dfd, strerror(errno));
	fl = fcntl(dfd, F_GETFD);
	TAP_CHECK(fl >= 0 && (fl & FD_CLOEXEC), "FD_CLOEXEC: %#x", fl);
	CHECK_OK(fstat(dfd, &st));
	TAP_CHECK_EQ(st.st_mode, 0600, "an anonymous inode");
	CHECK_ERRNO(EINVAL, read(dfd, buf, sizeof(buf)));
	CHECK_ERRNO(EBADF, write(dfd, buf, sizeof(buf)));
	p = mmap(NULL, SHIM_PAGE, PROT_READ, MAP_SHARED, dfd, 0);
	TAP_CHECK(p == MAP_FAILED && errno == EINVAL, "mmap: %p %s", p, strerror(errno));
	CHECK_ERRNO(ENOTTY, ioctl(dfd, IOMMU_IOAS_ALLOC, buf));
	CHECK_OK(close(dfd));
	dfd = _dmabuf_get(fd, SHIM_PAGE, 0);
	TAP_CHECK(dfd >= 0, "DMABUF_GET without O_CLOEXEC: %s", strerror(errno));
	fl = fcntl(dfd, F_GETFD);
	TAP_CHECK(fl >= 0 && !(fl & FD_CLOEXEC), "no FD_CLOEXEC: %#x", fl);
	CHECK_OK(close(dfd));
	CHECK_ERRNO(EINVAL, _dmabuf_get(fd, 0, O_CLOEXEC));
	CHECK_ERRNO(EINVAL, _dmabuf_get(fd, 512 * SHIM_PAGE + 1, O_CLOEXEC));
	close(fd);
}

static void test_map_revoke(void *arg)
{
	int fd = iommufd_open(), dfd, dup_fd, mfd, nullfd, nfds = count_fds();
	uint64_t iova, iova2, miova;
	struct shim_mock_dev md;
	uint32_t ioas;

	ioas = ioas_alloc(fd);
	md = mock_domain(fd, ioas);
	dfd = _dmabuf_get(fd, BUF_SIZE, O_CLOEXEC);
	TAP_CHECK(dfd >= 0, "DMABUF_GET: %s", strerror(errno));

	/* Upstream's dmabuf_simple. */
	CHECK_ERRNO(EINVAL, _map_file(fd, ioas, dfd, 0, 0, &iova));
	CHECK_ERRNO(EINVAL, _map_file(fd, ioas, dfd, BUF_SIZE, BUF_SIZE, &iova));
	CHECK_ERRNO(EINVAL, _map_file(fd, ioas, dfd, 0, BUF_SIZE + 1, &iova));
	CHECK_OK(_map_file(fd, ioas, dfd, 0, BUF_SIZE, &iova));
	/* The mock domain maps the buffer's own bytes (MD_CHECK_DMABUF). */
	CHECK_OK(_check_dmabuf(fd, md.hwpt, dfd, iova, BUF_SIZE));
	/* A memfd is still a file: it maps beside the dma-buf. */
	mfd = syscall(SYS_memfd_create, "shim-dmabuf", 1 /* MFD_CLOEXEC */);
	TAP_CHECK(mfd >= 0, "memfd_create: %s", strerror(errno));
	CHECK_OK(ftruncate(mfd, BUF_SIZE));
	CHECK_OK(_map_file(fd, ioas, mfd, 0, BUF_SIZE, &miova));

	/* Upstream's dmabuf_revoke, through another number of the same file. */
	dup_fd = dup(dfd);
	TAP_CHECK(dup_fd >= 0, "dup: %s", strerror(errno));
	CHECK_OK(_dmabuf_revoke(fd, dup_fd, 1));
	CHECK_ERRNO(EINVAL, _check_dmabuf(fd, md.hwpt, dfd, iova, BUF_SIZE));
	CHECK_ERRNO(ENODEV, _map_file(fd, ioas, dfd, 0, BUF_SIZE, &iova2));
	CHECK_OK(_dmabuf_revoke(fd, dfd, 0));
	CHECK_OK(_map_file(fd, ioas, dfd, 0, BUF_SIZE, &iova2));
	CHECK_OK(_check_dmabuf(fd, md.hwpt, dfd, iova2, BUF_SIZE));
	CHECK_OK(_ioas_unmap(fd, ioas, iova, BUF_SIZE));

	/* Not dma-bufs. */
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	TAP_CHECK(nullfd >= 0, "/dev/null");
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(fd, nullfd, 1));
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(fd, mfd, 1));
	CHECK_ERRNO(EINVAL, _dmabuf_revoke(fd, fd, 1));
	close(nullfd);
	CHECK_ERRNO(EBADF, _dmabuf_revoke(fd, nullfd, 1));

	/* Every fd closed: the mapping holds the buffer and unmaps normally. */
	CHECK_OK(close(dfd));
	CHECK_OK(close(dup_fd));
	CHECK_ERRNO(EBADF, _dmabuf_revoke(fd, dfd, 1));
	CHECK_OK(_ioas_unmap(fd, ioas, iova2, BUF_SIZE));
	CHECK_OK(_ioas_unmap(fd, ioas, miova, BUF_SIZE));
	close(mfd);
	close(fd);
	TAP_CHECK_EQ(count_fds(), nfds - 1, "fds left open");
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(2);
	tap_run("DMABUF_GET: a real fd, FD_CLOEXEC, read/write/mmap/ioctl errnos", test_fd, NULL);
	tap_run("MAP_FILE of a dma-buf under the shim: bounds, revoke through a dup, close",
		test_map_revoke, NULL);
	return tap_done();
}
