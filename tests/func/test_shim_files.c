// SPDX-License-Identifier: MIT
/*
 * The preload shim: what it must not touch, and what it must answer.
 *
 * Untouched: a regular file, a pipe and /dev/null behave under the shim as
 * without it, results and errno included (EBADF, ENOENT, ENOTTY, EISDIR
 * ...), and a successful pass-through call leaves errno alone.
 *
 * Answered by the library, never the host: /dev/iommu (open by any
 * spelling of the path, relative ones included; stat/lstat/fstatat/statx/
 * fstat agree; access as the mode says), the VFIO paths the (empty)
 * topology lacks (ENOENT), a trailing slash (ENOTDIR), an unknown ioctl
 * (ENOTTY), pread on a queue fd (ESPIPE), and mmap/munmap of a vIOMMU
 * region on the iommufd (the kernel's errnos, EBUSY on destroy while
 * mapped). /sys/kernel/debug is a private stand-in: the fault-injection
 * knobs a fail-nth test writes are there, and it is not debugfs.
 */
#include <dirent.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include <linux/vfio.h>

#include "shim_utils.h"

#define DEBUGFS_MAGIC 0x64626720

static char tmpdir[] = "/tmp/uiommu-shim-files.XXXXXX";

static void test_regular_file(void *arg)
{
	char path[128], buf[16] = {0};
	struct stat st, st2;
	int fd;
	char *map;

	snprintf(path, sizeof(path), "%s/f", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	TAP_CHECK(fd >= 0, "create: %s", strerror(errno));
	CHECK_ERRNO(EEXIST, open(path, O_RDWR | O_CREAT | O_EXCL, 0600));
	TAP_CHECK_EQ(write(fd, "hello world", 11), 11, "write");
	TAP_CHECK_EQ(pread(fd, buf, 5, 6), 5, "pread");
	TAP_CHECK(!memcmp(buf, "world", 5), "data");
	TAP_CHECK_EQ(pwrite(fd, "W", 1, 6), 1, "pwrite");
	CHECK_OK(fstat(fd, &st));
	CHECK_OK(stat(path, &st2));
	TAP_CHECK(S_ISREG(st.st_mode) && st.st_size == 11 && st.st_ino == st2.st_ino, "stat");
	CHECK_ERRNO(ENOTTY, ioctl(fd, IOMMU_IOAS_ALLOC, buf));
	map = mmap(NULL, 11, PROT_READ, MAP_SHARED, fd, 0);
	TAP_CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
	TAP_CHECK(!memcmp(map + 6, "World", 5), "mapped data");
	CHECK_OK(munmap(map, 11));
	CHECK_ERRNO(EINVAL, munmap((char *)map + 1, 11));
	{
		int d = dup(fd);

		TAP_CHECK_EQ(lseek(d, 0, SEEK_SET), 0, "lseek through a dup");
		TAP_CHECK_EQ(read(fd, buf, 5), 5, "shared offset");
		TAP_CHECK(!memcmp(buf, "hello", 5), "data");
		CHECK_OK(close(d));
	}
	CHECK_OK(access(path, R_OK | W_OK));
	CHECK_OK(close(fd));
	CHECK_ERRNO(EBADF, close(fd));
	CHECK_ERRNO(EBADF, read(fd, buf, 1));
	CHECK_ERRNO(EBADF, ioctl(fd, 0, 0));
	CHECK_ERRNO(EBADF, fstat(fd, &st));
	CHECK_OK(unlink(path));
	CHECK_ERRNO(ENOENT, open(path, O_RDONLY));
	CHECK_ERRNO(ENOENT, stat(path, &st));
	CHECK_ERRNO(ENOENT, access(path, F_OK));
	CHECK_ERRNO(EISDIR, open(tmpdir, O_WRONLY));
	CHECK_ERRNO(ENOTDIR, open("/dev/null/x", O_RDONLY));
}

static void test_pipe_and_null(void *arg)
{
	int p[2], n, d;
	char c;

	TAP_CHECK(!pipe(p), "pipe");
	d = dup(p[1]);
	TAP_CHECK_EQ(write(d, "ab", 2), 2, "write through a dup");
	TAP_CHECK_EQ(read(p[0], &c, 1), 1, "read");
	CHECK_ERRNO(ESPIPE, pread(p[0], &c, 1, 0));
	CHECK_ERRNO(ESPIPE, lseek(p[0], 0, SEEK_SET));
	CHECK_OK(fcntl(p[0], F_SETFL, O_NONBLOCK));
	TAP_CHECK_EQ(read(p[0], &c, 1), 1, "second byte");
	CHECK_ERRNO(EAGAIN, read(p[0], &c, 1));
	close(d);
	close(p[1]);
	TAP_CHECK_EQ(read(p[0], &c, 1), 0, "EOF");
	close(p[0]);

	n = open("/dev/null", O_RDWR);
	TAP_CHECK(n >= 0, "/dev/null");
	TAP_CHECK_EQ(write(n, "x", 1), 1, "write");
	TAP_CHECK_EQ(read(n, &c, 1), 0, "read");
	CHECK_ERRNO(ENOTTY, ioctl(n, IOMMU_IOAS_ALLOC, &c));
	close(n);

	/* A successful call passed through leaves errno alone. */
	errno = 4242;
	n = open("/dev/null", O_RDONLY);
	TAP_CHECK(n >= 0 && errno == 4242, "open kept errno: %d", errno);
	TAP_CHECK(!close(n) && errno == 4242, "close kept errno: %d", errno);
	/* ...and so does a successful emulated one. */
	n = open("/dev/iommu", O_RDWR);
	TAP_CHECK(n >= 0 && errno == 4242, "emulated open kept errno: %d", errno);
	TAP_CHECK(!close(n) && errno == 4242, "emulated close kept errno: %d", errno);
}

static void check_iommu_node(const struct stat *st)
{
	TAP_CHECK(S_ISCHR(st->st_mode), "char device: 0%o", st->st_mode);
	TAP_CHECK_EQ(st->st_mode & 07777, 0666, "mode");
	TAP_CHECK_EQ(st->st_uid, 0, "root's");
	TAP_CHECK_EQ(major(st->st_rdev), 10, "misc major");
}

static void test_namespace(void *arg)
{
	struct stat st, st2;
	struct statx stx;
	int fd, dirfd;

	CHECK_OK(stat("/dev/iommu", &st));
	check_iommu_node(&st);
	CHECK_OK(lstat("/dev//./iommu", &st2));
	TAP_CHECK(st2.st_ino == st.st_ino && st2.st_rdev == st.st_rdev, "same node");
	CHECK_OK(fstatat(AT_FDCWD, "/tmp/../dev/iommu", &st2, 0));
	TAP_CHECK(st2.st_ino == st.st_ino, "fstatat");
	CHECK_OK(statx(AT_FDCWD, "/dev/iommu", 0, STATX_BASIC_STATS, &stx));
	TAP_CHECK(stx.stx_ino == st.st_ino && stx.stx_rdev_major == 10 &&
			  stx.stx_rdev_minor == minor(st.st_rdev) && S_ISCHR(stx.stx_mode),
		  "statx");
	CHECK_ERRNO(ENOTDIR, stat("/dev/iommu/", &st2));
	CHECK_ERRNO(ENOTDIR, open("/dev/iommu/", O_RDWR));
	CHECK_ERRNO(ENOTDIR, open("/dev/iommu", O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(EEXIST, open("/dev/iommu", O_RDWR | O_CREAT | O_EXCL, 0600));
	CHECK_ERRNO(ENOTDIR, opendir("/dev/iommu") ? 0 : -1);

	CHECK_OK(access("/dev/iommu", F_OK));
	CHECK_OK(access("/dev/iommu", R_OK | W_OK));
	CHECK_ERRNO(EACCES, access("/dev/iommu", X_OK));
	CHECK_OK(faccessat(AT_FDCWD, "/dev/iommu", R_OK, AT_EACCESS));
	CHECK_OK(euidaccess("/dev/iommu", W_OK));
	CHECK_ERRNO(EINVAL, access("/dev/iommu", 8));

	/* The open file shows the same node. */
	fd = open("/dev/./iommu", O_RDWR);
	TAP_CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_OK(fstat(fd, &st2));
	TAP_CHECK(st2.st_ino == st.st_ino && st2.st_rdev == st.st_rdev, "fstat");
	CHECK_OK(fstatat(fd, "", &st2, AT_EMPTY_PATH));
	TAP_CHECK(st2.st_ino == st.st_ino, "fstatat AT_EMPTY_PATH");
	CHECK_OK(statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx));
	TAP_CHECK(stx.stx_ino == st.st_ino, "statx AT_EMPTY_PATH");
	CHECK_ERRNO(ENOTTY, ioctl(fd, 0x1234, 0));
	{
		/* An empty slot of the iommufd range: the size is read first (EFAULT), then ENOTTY.
		 */
		uint32_t size = 8;

		CHECK_ERRNO(EFAULT, ioctl(fd, _IO(IOMMUFD_TYPE, 0x9f), NULL));
		CHECK_ERRNO(ENOTTY, ioctl(fd, _IO(IOMMUFD_TYPE, 0x9f), &size));
	}
	CHECK_ERRNO(EINVAL, read(fd, &st2, 1));
	CHECK_ERRNO(EINVAL, pread(fd, &st2, 1, 0));
	CHECK_ERRNO(EINVAL, pread(fd, &st2, 1, -1));
	CHECK_ERRNO(ENOTDIR, openat(fd, "x", O_RDONLY));
	close(fd);

	/* Relative paths: from the working directory and from a directory fd. */
	dirfd = open("/dev", O_RDONLY | O_DIRECTORY);
	TAP_CHECK(dirfd >= 0, "open /dev: %s", strerror(errno));
	fd = openat(dirfd, "iommu", O_RDWR);
	TAP_CHECK(fd >= 0, "openat(/dev, iommu): %s", strerror(errno));
	CHECK_OK(_ioas_ranges(fd, ioas_alloc(fd)));
	close(fd);
	CHECK_OK(fstatat(dirfd, "./iommu", &st2, 0));
	TAP_CHECK(st2.st_ino == st.st_ino, "fstatat relative");
	fd = openat(dirfd, "vfio/vfio", O_RDWR);
	TAP_CHECK(fd >= 0, "openat(/dev, vfio/vfio): %s", strerror(errno));
	TAP_CHECK_EQ(ioctl(fd, VFIO_GET_API_VERSION), VFIO_API_VERSION, "a VFIO container");
	close(fd);
	CHECK_ERRNO(ENOENT, openat(dirfd, "vfio/7", O_RDWR));
	close(dirfd);
	{
		char cwd[4096];

		TAP_CHECK(getcwd(cwd, sizeof(cwd)), "getcwd");
		CHECK_OK(chdir("/dev"));
		fd = open("iommu", O_RDWR);
		TAP_CHECK(fd >= 0, "open(iommu) in /dev: %s", strerror(errno));
		close(fd);
		CHECK_OK(access("vfio/vfio", R_OK | W_OK));
		CHECK_ERRNO(ENOENT, access("vfio/7", F_OK));
		CHECK_OK(chdir(cwd));
	}

	/*
	 * VFIO: the container is always there; the groups and cdevs are the
	 * default topology's (lib/vmm: groups 1 and 2, cdevs 0 and 1).
	 */
	CHECK_OK(stat("/dev/vfio/vfio", &st2));
	TAP_CHECK(S_ISCHR(st2.st_mode) && major(st2.st_rdev) == 10 && minor(st2.st_rdev) == 196 &&
			  (st2.st_mode & 07777) == 0666,
		  "the container: char 10:196, 0666");
	CHECK_ERRNO(ENOENT, open("/dev/vfio/devices/vfio999", O_RDWR));
	CHECK_ERRNO(ENOENT, open("/dev/vfio/7", O_RDWR));
	CHECK_OK(stat("/dev/vfio/devices/vfio1", &st2));
	TAP_CHECK(S_ISCHR(st2.st_mode) && minor(st2.st_rdev) == 1, "cdev 1: a character device");
	CHECK_ERRNO(ENOENT, stat("/dev/vfio/devices/vfio2", &st2));
	CHECK_OK(stat("/dev/vfio/2", &st2));
	TAP_CHECK(S_ISCHR(st2.st_mode) && minor(st2.st_rdev) == 2, "group 2: a character device");
	CHECK_ERRNO(ENOENT, stat("/dev/vfio/3", &st2));
	CHECK_OK(access("/dev/vfio/devices", F_OK));
	CHECK_ERRNO(ENOTDIR, open("/dev/vfio/vfio/", O_RDWR));
	/* /dev/vfio is a directory, which the emulation cannot hand out. */
	CHECK_OK(stat("/dev/vfio", &st2));
	TAP_CHECK(S_ISDIR(st2.st_mode), "/dev/vfio: a directory (0%o)", st2.st_mode);
	CHECK_ERRNO(EISDIR, open("/dev/vfio", O_RDWR));
	CHECK_ERRNO(EOPNOTSUPP, open("/dev/vfio", O_RDONLY));
	CHECK_ERRNO(EOPNOTSUPP, opendir("/dev/vfio") ? 0 : -1);
	CHECK_ERRNO(EOPNOTSUPP, chdir("/dev/vfio"));
	/* A lookalike outside the namespace is the host's business. */
	CHECK_ERRNO(ENOENT, open("/dev/iommu2", O_RDWR));
}

static void test_queue_fd(void *arg)
{
	struct shim_iopf s;
	struct stat st;
	char buf[8];
	int fd = iommufd_open();

	iopf_setup(fd, &s);
	/* An anonymous inode, as Linux's: mode 0600 without a type, the caller's. */
	CHECK_OK(fstat(s.fault_fd, &st));
	TAP_CHECK_EQ(st.st_mode, 0600, "mode");
	TAP_CHECK_EQ(st.st_uid, geteuid(), "uid");
	CHECK_ERRNO(ESPIPE, pread(s.fault_fd, buf, 0, 0));
	CHECK_ERRNO(ESPIPE, pwrite(s.fault_fd, buf, 0, 0));
	CHECK_ERRNO(ESPIPE, read(s.fault_fd, buf, 3));
	CHECK_ERRNO(ENOTTY, ioctl(s.fault_fd, IOMMU_IOAS_ALLOC, buf));
	close(s.fault_fd);
	close(fd);
}

static void test_mmap(void *arg)
{
	struct iommu_viommu_selftest data = {.in_data = 0xbeef};
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	int fd = iommufd_open();
	struct shim_mock_dev d;
	uint32_t ioas, parent;
	uint32_t *map;
	off_t off;
	size_t len;

	ioas = ioas_alloc(fd);
	d = mock_domain(fd, ioas);
	CHECK_OK(_hwpt_alloc(fd, d.idev, ioas, IOMMU_HWPT_ALLOC_NEST_PARENT, 0,
			     IOMMU_HWPT_DATA_NONE, NULL, 0, &parent));
	cmd.dev_id = d.idev;
	cmd.hwpt_id = parent;
	CHECK_OK(ioctl(fd, IOMMU_VIOMMU_ALLOC, &cmd));
	off = (off_t)data.out_mmap_offset;
	len = data.out_mmap_length;
	TAP_CHECK(len == 2 * SHIM_PAGE, "region length %zu", len);

#define MMAP(l, o, prot, flags) mmap(NULL, (l), (prot), (flags), fd, (o))
	TAP_CHECK(MMAP(len, off + (off_t)SHIM_PAGE, PROT_READ, MAP_SHARED) == MAP_FAILED &&
			  errno == ENXIO,
		  "offset + page: %s", strerror(errno));
	TAP_CHECK(MMAP(len, off, PROT_READ, MAP_PRIVATE) == MAP_FAILED && errno == EINVAL,
		  "private: %s", strerror(errno));
	TAP_CHECK(MMAP(len, off, PROT_READ | PROT_EXEC, MAP_SHARED) == MAP_FAILED && errno == EPERM,
		  "exec: %s", strerror(errno));
	map = MMAP(len, off, PROT_READ | PROT_WRITE, MAP_SHARED);
	TAP_CHECK(map != MAP_FAILED, "mmap: %s", strerror(errno));
	TAP_CHECK_EQ(map[0], data.in_data, "the model's region");
	/* Busy until every page is unmapped, however many calls that takes. */
	CHECK_ERRNO(EBUSY, _destroy(fd, cmd.out_viommu_id));
	CHECK_OK(munmap(map, SHIM_PAGE));
	CHECK_ERRNO(EBUSY, _destroy(fd, cmd.out_viommu_id));
	CHECK_OK(munmap((char *)map + SHIM_PAGE, SHIM_PAGE));
	CHECK_OK(_destroy(fd, cmd.out_viommu_id));
	TAP_CHECK(MMAP(len, off, PROT_READ, MAP_SHARED) == MAP_FAILED && errno == ENXIO, "gone");
	/* An anonymous mapping next to it is the host's. */
	map = mmap(NULL, SHIM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, fd, 0);
	TAP_CHECK(map != MAP_FAILED, "anonymous mmap with a stray fd: %s", strerror(errno));
	CHECK_OK(munmap(map, SHIM_PAGE));
#undef MMAP
	close(fd);
}

static int write_at(int dfd, const char *name, const char *val)
{
	int fd = openat(dfd, name, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static void test_debugfs(void *arg)
{
	DIR *d = opendir("/sys/kernel/debug/");
	struct dirent *de;
	struct statfs sfs;
	unsigned int fail_dirs = 0;
	char buf[8] = {0};
	int fd;

	TAP_CHECK(d, "opendir: %s", strerror(errno));
	CHECK_OK(fstatfs(dirfd(d), &sfs));
	TAP_CHECK(sfs.f_type != DEBUGFS_MAGIC, "not the host's debugfs");
	CHECK_OK(write_at(dirfd(d), "failslab/ignore-gfp-wait", "N"));
	CHECK_OK(write_at(dirfd(d), "fail_page_alloc/ignore-gfp-highmem", "N"));
	while ((de = readdir(d))) {
		char fn[300];

		if (strncmp(de->d_name, "fail", 4))
			continue;
		snprintf(fn, sizeof(fn), "%s/verbose", de->d_name);
		CHECK_OK(write_at(dirfd(d), fn, "0"));
		fail_dirs++;
	}
	closedir(d);
	TAP_CHECK(fail_dirs >= 2, "%u fault-injection directories", fail_dirs);
	fd = open("/sys/kernel/debug/failslab/ignore-gfp-wait", O_RDONLY);
	TAP_CHECK(fd >= 0, "open by path: %s", strerror(errno));
	TAP_CHECK(read(fd, buf, sizeof(buf)) >= 1, "read: %s", strerror(errno));
	TAP_CHECK_EQ(buf[0], 'N', "what was written");
	close(fd);
	CHECK_OK(access("/sys/kernel/../kernel/debug/failslab", F_OK));
	CHECK_ERRNO(ENOENT, access("/sys/kernel/debug/no-such-knob", F_OK));
}

int main(void)
{
	shim_check_preloaded();
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	tap_plan(6);
	tap_run("a regular file: results and errno as without the shim", test_regular_file, NULL);
	tap_run("a pipe and /dev/null; errno kept on success", test_pipe_and_null, NULL);
	tap_run("/dev/iommu and /dev/vfio: stat, access, open by any path, ENOENT, ENOTTY",
		test_namespace, NULL);
	tap_run("a fault queue fd: anonymous inode, ESPIPE, ENOTTY", test_queue_fd, NULL);
	tap_run("mmap and munmap of a vIOMMU region on the iommufd", test_mmap, NULL);
	tap_run("/sys/kernel/debug is a private stand-in with the fault-injection knobs",
		test_debugfs, NULL);
	{
		/* What a failed point may have left. */
		char path[128];

		snprintf(path, sizeof(path), "%s/f", tmpdir);
		unlink(path);
		rmdir(tmpdir);
	}
	return tap_done();
}
