// SPDX-License-Identifier: MIT
/*
 * The preload shim's sysfs entries of the emulated PCI devices: what a VMM
 * reads to find a device's VFIO group (QEMU: stat of /sys/bus/pci/devices/
 * BDF, readlink of its iommu_group), answered as Linux's sysfs would for
 * the default topology (0000:00:01.0 in group 1, 0000:00:02.0 in group 2).
 *
 * /sys/bus/pci/devices/BDF is a link to ../../../devices/pciDDDD:BB/BDF,
 * the device's directory; its iommu_group links to
 * ../../../kernel/iommu_groups/N. stat(2) follows links, lstat(2),
 * fstatat(AT_SYMLINK_NOFOLLOW) and statx(AT_SYMLINK_NOFOLLOW) do not;
 * readlink(2) returns the target without a NUL, cut to the buffer, EINVAL
 * for size 0 or a directory. Nothing else exists below the device (ENOENT,
 * even where the host has a device of that address), and the directories
 * cannot be opened (EOPNOTSUPP, EISDIR for writing; ELOOP with
 * O_NOFOLLOW on a link). An address the topology lacks is the host's:
 * the same answer as the raw system call.
 */
#include <dirent.h>
#include <sys/syscall.h>

#include "shim_utils.h"

#define DEV1 "/sys/bus/pci/devices/0000:00:01.0"
#define DEV2 "/sys/bus/pci/devices/0000:00:02.0"
#define DIR1 "/sys/devices/pci0000:00/0000:00:01.0"
#define GRP1 "/sys/kernel/iommu_groups/1"

ssize_t __readlink_chk(const char *path, char *buf, size_t size, size_t buflen);
ssize_t __readlinkat_chk(int dirfd, const char *path, char *buf, size_t size, size_t buflen);

/* readlink(@path) is exactly @want: the length returned, no NUL written after it. */
static void check_link(const char *path, const char *want)
{
	char buf[128];
	size_t n = strlen(want);
	ssize_t r;

	memset(buf, 'x', sizeof(buf));
	r = readlink(path, buf, sizeof(buf));
	TAP_CHECK(r == (ssize_t)n && !memcmp(buf, want, n) && buf[n] == 'x',
		  "readlink %s: %zd %.*s (%s)", path, r, r > 0 ? (int)r : 0, buf, strerror(errno));
	memset(buf, 'x', sizeof(buf));
	r = readlinkat(AT_FDCWD, path, buf, sizeof(buf));
	TAP_CHECK(r == (ssize_t)n && !memcmp(buf, want, n), "readlinkat %s: %zd", path, r);
	memset(buf, 'x', sizeof(buf));
	r = __readlink_chk(path, buf, sizeof(buf), sizeof(buf));
	TAP_CHECK(r == (ssize_t)n && !memcmp(buf, want, n), "__readlink_chk %s: %zd", path, r);
	memset(buf, 'x', sizeof(buf));
	r = __readlinkat_chk(AT_FDCWD, path, buf, 5, sizeof(buf));
	TAP_CHECK(r == 5 && !memcmp(buf, want, 5) && buf[5] == 'x',
		  "__readlinkat_chk %s cut to 5: %zd", path, r);
}

static void test_links(void *arg)
{
	char buf[8];

	check_link(DEV1, "../../../devices/pci0000:00/0000:00:01.0");
	check_link(DEV2, "../../../devices/pci0000:00/0000:00:02.0");
	check_link(DEV1 "/iommu_group", "../../../kernel/iommu_groups/1");
	check_link(DEV2 "/iommu_group", "../../../kernel/iommu_groups/2");
	check_link(DIR1 "/iommu_group", "../../../kernel/iommu_groups/1");
	check_link("/sys/bus/pci/devices//0000:00:01.0/./iommu_group",
		   "../../../kernel/iommu_groups/1");
	CHECK_ERRNO(EINVAL, readlink(DEV1, buf, 0));
	/* Not links: the directories, a trailing slash (which follows), nothing. */
	CHECK_ERRNO(EINVAL, readlink(DIR1, buf, sizeof(buf)));
	CHECK_ERRNO(EINVAL, readlink(GRP1, buf, sizeof(buf)));
	CHECK_ERRNO(EINVAL, readlink(DEV1 "/", buf, sizeof(buf)));
	CHECK_ERRNO(EINVAL, readlink(DEV1 "/iommu_group/", buf, sizeof(buf)));
	CHECK_ERRNO(ENOENT, readlink(DEV1 "/driver", buf, sizeof(buf)));
	CHECK_ERRNO(ENOENT, readlink(DEV1 "/iommu_group/devices", buf, sizeof(buf)));
	CHECK_ERRNO(ENOENT, readlink("/sys/kernel/iommu_groups/1/type", buf, sizeof(buf)));
	/* A host link still reads. */
	TAP_CHECK(readlink("/proc/self/exe", buf, sizeof(buf)) > 0, "/proc/self/exe: %s",
		  strerror(errno));
}

static void test_stat(void *arg)
{
	struct stat st, dir, grp, lnk;
	struct statx stx;

	CHECK_OK(stat(DEV1, &st));
	CHECK_OK(stat(DIR1, &dir));
	CHECK_OK(stat(GRP1, &grp));
	TAP_CHECK(S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0755 && st.st_uid == 0,
		  "the device entry leads to a root directory: mode 0%o uid %u", st.st_mode,
		  st.st_uid);
	TAP_CHECK(st.st_ino == dir.st_ino && st.st_dev == dir.st_dev, "the link's target");
	TAP_CHECK(S_ISDIR(grp.st_mode) && grp.st_ino != dir.st_ino, "the group's directory");
	CHECK_OK(stat(DEV1 "/iommu_group", &st));
	TAP_CHECK(S_ISDIR(st.st_mode) && st.st_ino == grp.st_ino, "iommu_group leads to group 1");
	CHECK_OK(stat(DEV1 "/iommu_group/", &st));
	TAP_CHECK(st.st_ino == grp.st_ino, "a trailing slash follows too");

	CHECK_OK(lstat(DEV1, &lnk));
	TAP_CHECK(S_ISLNK(lnk.st_mode) && (lnk.st_mode & 07777) == 0777 && lnk.st_uid == 0 &&
			  lnk.st_ino != dir.st_ino,
		  "lstat: a link, 0777, root's: mode 0%o", lnk.st_mode);
	CHECK_OK(lstat(DEV1 "/iommu_group", &st));
	TAP_CHECK(S_ISLNK(st.st_mode) && st.st_ino != lnk.st_ino, "lstat iommu_group: a link");
	CHECK_OK(lstat(DIR1, &st));
	TAP_CHECK(S_ISDIR(st.st_mode), "lstat of the directory itself");
	CHECK_OK(fstatat(AT_FDCWD, DEV1, &st, AT_SYMLINK_NOFOLLOW));
	TAP_CHECK(S_ISLNK(st.st_mode) && st.st_ino == lnk.st_ino, "fstatat(AT_SYMLINK_NOFOLLOW)");
	CHECK_OK(fstatat(AT_FDCWD, DEV1, &st, 0));
	TAP_CHECK(S_ISDIR(st.st_mode) && st.st_ino == dir.st_ino, "fstatat follows");
	CHECK_OK(statx(AT_FDCWD, DEV1, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx));
	TAP_CHECK(S_ISLNK(stx.stx_mode) && stx.stx_ino == lnk.st_ino, "statx(AT_SYMLINK_NOFOLLOW)");
	CHECK_OK(statx(AT_FDCWD, DEV1 "/iommu_group", 0, STATX_BASIC_STATS, &stx));
	TAP_CHECK(S_ISDIR(stx.stx_mode) && stx.stx_ino == grp.st_ino, "statx follows");
	CHECK_OK(access(DEV1 "/iommu_group", R_OK | X_OK));
	CHECK_OK(access(DEV2, F_OK));
}

/* Below the device only iommu_group exists, whatever the host has at that address. */
static void test_nothing_else(void *arg)
{
	static const char *const absent[] = {
		DEV1 "/vendor",		  DEV1 "/config",
		DEV1 "/driver",		  DEV1 "/subsystem",
		DEV1 "/iommu_group/type", DIR1 "/resource",
		GRP1 "/devices",	  GRP1 "/devices/0000:00:01.0",
	};
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE_T(absent); i++) {
		CHECK_ERRNO(ENOENT, stat(absent[i], &st));
		CHECK_ERRNO(ENOENT, open(absent[i], O_RDONLY));
		CHECK_ERRNO(ENOENT, access(absent[i], F_OK));
	}
}

static void test_open(void *arg)
{
	CHECK_ERRNO(EOPNOTSUPP, open(DEV1, O_RDONLY));
	CHECK_ERRNO(EOPNOTSUPP, open(DIR1, O_RDONLY | O_DIRECTORY));
	CHECK_ERRNO(EOPNOTSUPP, open(DEV1 "/iommu_group", O_RDONLY));
	CHECK_ERRNO(EISDIR, open(GRP1, O_WRONLY));
	CHECK_ERRNO(ELOOP, open(DEV1, O_RDONLY | O_NOFOLLOW));
	CHECK_ERRNO(ELOOP, open(DEV1 "/iommu_group", O_RDONLY | O_NOFOLLOW));
	CHECK_ERRNO(EOPNOTSUPP, opendir(DEV1) ? 0 : -1);
}

/*
 * What the topology lacks is the host's: the shim's answer is the raw
 * system call's (an address no topology here has, group 99, the bus
 * directory itself).
 */
static void test_host(void *arg)
{
	static const char *const host[] = {
		"/sys/bus/pci/devices/0000:00:1f.7",
		"/sys/bus/pci/devices/0000:00:1f.7/iommu_group",
		"/sys/kernel/iommu_groups/99",
		"/sys/bus/pci/devices",
		"/sys/devices/pci0000:00/0000:00:1f.7",
		"/sys/bus/pci/devices/0000:00:01.00",
	};
	char buf[128], raw[128];

	for (size_t i = 0; i < ARRAY_SIZE_T(host); i++) {
		struct stat st, st_raw;
		long r, r_raw;
		int e, e_raw;

		errno = 0;
		r = stat(host[i], &st);
		e = errno;
		errno = 0;
		r_raw = syscall(SYS_newfstatat, AT_FDCWD, host[i], &st_raw, 0);
		e_raw = errno;
		TAP_CHECK(r == r_raw && (r ? e == e_raw : st.st_ino == st_raw.st_ino),
			  "stat %s: %ld/%d, raw %ld/%d", host[i], r, e, r_raw, e_raw);
		errno = 0;
		r = readlink(host[i], buf, sizeof(buf));
		e = errno;
		errno = 0;
		r_raw = syscall(SYS_readlinkat, AT_FDCWD, host[i], raw, sizeof(raw));
		e_raw = errno;
		TAP_CHECK(r == r_raw && (r < 0 ? e == e_raw : !memcmp(buf, raw, (size_t)r)),
			  "readlink %s: %ld/%d, raw %ld/%d", host[i], r, e, r_raw, e_raw);
	}
}

/* Relative to the host's /sys/bus/pci/devices (the working directory, a directory fd). */
static void test_relative(void *arg)
{
	char buf[128], cwd[PATH_MAX];
	struct stat st;
	ssize_t r;
	int dfd;

	dfd = open("/sys/bus/pci/devices", O_RDONLY | O_DIRECTORY);
	if (dfd < 0)
		tap_skip("the host has no /sys/bus/pci/devices: %s", strerror(errno));
	r = readlinkat(dfd, "0000:00:01.0/iommu_group", buf, sizeof(buf));
	TAP_CHECK(r == 30 && !memcmp(buf, "../../../kernel/iommu_groups/1", 30),
		  "readlinkat(dirfd): %zd", r);
	CHECK_OK(fstatat(dfd, "0000:00:02.0", &st, AT_SYMLINK_NOFOLLOW));
	TAP_CHECK(S_ISLNK(st.st_mode), "fstatat(dirfd, BDF, NOFOLLOW): a link");
	TAP_CHECK(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
	CHECK_OK(fchdir(dfd));
	r = readlink("0000:00:02.0/iommu_group", buf, sizeof(buf));
	TAP_CHECK(r == 30 && !memcmp(buf, "../../../kernel/iommu_groups/2", 30),
		  "readlink relative to the working directory: %zd", r);
	CHECK_OK(stat("0000:00:01.0", &st));
	TAP_CHECK(S_ISDIR(st.st_mode), "stat(BDF): the device's directory");
	CHECK_ERRNO(ENOENT, stat("0000:00:01.0/vendor", &st));
	CHECK_OK(chdir(cwd));
	close(dfd);
}

int main(void)
{
	shim_check_preloaded();
	tap_plan(6);
	tap_run("readlink: the device entries and iommu_group links, cut, EINVAL, ENOENT",
		test_links, NULL);
	tap_run("stat follows the links, lstat / AT_SYMLINK_NOFOLLOW show them", test_stat, NULL);
	tap_run("nothing else below a device or a group: ENOENT, never the host's",
		test_nothing_else, NULL);
	tap_run("open: EOPNOTSUPP for the directories, ELOOP with O_NOFOLLOW", test_open, NULL);
	tap_run("an address or group the topology lacks is the host's", test_host, NULL);
	tap_run("relative paths: readlinkat(dirfd), the working directory", test_relative, NULL);
	return tap_done();
}
