// SPDX-License-Identifier: MIT
/*
 * uiommu_path.c - the emulated file-system namespace: which paths the
 * library owns, what stat(2) and access(2) say about them, and which open
 * function each one has.
 *
 * What it owns: the node table (/dev/iommu; the VFIO nodes come from
 * lib/vfio's registry of the topology), the fail-nth files of
 * util/failnth.c, and the lexical normalisation of paths. The directories
 * /dev/vfio and /dev/vfio/devices exist for stat(2) (the latter while a
 * device does), but cannot be opened or listed (EOPNOTSUPP). The namespace is
 *
 *	/dev/iommu                    the iommufd
 *	/dev/vfio and all below it    VFIO: the container /dev/vfio/vfio, the
 *	                              groups /dev/vfio/<N> and device cdevs
 *	                              /dev/vfio/devices/vfio<N> the topology has
 *	                              (lib/vfio); everything else is ENOENT,
 *	                              never the host's
 *	/proc/.../fail-nth            of this process, see util/failnth.h
 *	/sys/bus/pci/devices/BDF ...  the sysfs entries of VFIO's PCI devices
 *	                              and groups (uiommu_sysfs.c), where the
 *	                              topology has that device or group
 *
 * A path in the namespace is answered here and never reaches the host's
 * kernel; every other path is not ours (uiommu_path_emulated() says which).
 *
 * Normalisation is lexical, as the kernel's lookup would resolve it with no
 * symbolic links in the way: repeated slashes and "." vanish, ".." removes
 * the previous component (at the root it stays at the root). A trailing
 * slash is remembered: it makes a non-directory ENOTDIR. The only symbolic
 * links are the sysfs ones; stat(2), access(2) and open(2) follow them,
 * lstat(2) and readlink(2) (uiommu_readlink()) do not.
 *
 * Node identity (reference: drivers/char/misc.c, drivers/vfio):
 *   /dev/iommu      char 10:256, 0666 root:root. Linux registers it as a
 *                   misc device with a dynamic minor (6.12 hands those out
 *                   from 256 up) and mode 0660; udev rules commonly open it
 *                   to everyone, and an unprivileged program using the
 *                   emulation must be able to open it, so 0666.
 *   /dev/vfio/vfio  char 10:196 (VFIO_MINOR), 0666 root:root; the groups and
 *                   cdevs: see vfio_container_node below.
 *
 * The machine (lib/vmm/machine.h): stat(2), access(2) and open(2) of a
 * path under /dev/vfio first make sure the process's machine exists, so
 * the groups and cdevs of UIOMMU_CONFIG's topology (or the default one)
 * are there however a program first looks. So does any call on a path of
 * the sysfs shapes (uiommu_sysfs.c), uiommu_path_emulated() included: a
 * VMM looks at /sys/bus/pci/devices/BDF before it opens anything, and
 * whether that path is ours depends on the devices the machine has. A
 * configuration that fails fails open(2) under /dev/vfio with its errno
 * (EINVAL, ENOMEM); stat(2) and access(2) then answer from what exists,
 * and the sysfs paths are the host's (the message is logged either way).
 * Otherwise uiommu_path_emulated() never builds anything: the shim asks
 * it about every path.
 *
 * No locks, and no library state of its own: the table is constant,
 * lib/vfio answers which groups, cdevs and PCI devices exist (inside the
 * fork gate, for its registry lock), failnth_path() asks the host's /proc
 * whether a thread exists. So only those registry look-ups pass the fork
 * gate, and a program that only looks at other paths (every program under
 * the shim looks at some) never sets it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <uiommu/uiommu.h>

#include "iommufd/iommufd_private.h"
#include "uiommu_private.h"
#include "util/failnth.h"
#include "util/file.h"
#include "util/forkgate.h"
#include "util/numparse.h"
#include "vfio/vfio.h"
#include "vmm/machine.h"

struct uiommu_devnode {
	const char *path;
	const struct ufile_node *node;
	struct uiommu_file *(*open)(int flags, int *err);
};

static const struct uiommu_devnode devnodes[] = {
	{"/dev/iommu", &iommufd_node, iommufd_fops_open},
};

/* Namespace prefixes: a path equal to one, or below one ("prefix/..."). */
static const char *const owned_trees[] = {
	"/dev/iommu",
	"/dev/vfio",
};

/*
 * VFIO's nodes (lib/vfio opens them, vfio_path_open()). The container is a
 * misc device (10:196, VFIO_MINOR) open to everyone. Groups and cdevs are
 * character devices of dynamic majors (the numbers here are typical ones)
 * whose nodes Linux makes root's and 0600; a user is given a device by
 * udev rules or chown, and a program using the emulation must be able to
 * open what it is given, so they show the caller as owner. The minor is
 * the group or cdev number (Linux's are allocation order).
 */
#define VFIO_MINOR	  196
#define VFIO_GROUP_MAJOR  242
#define VFIO_DEVICE_MAJOR 241
static const struct ufile_node vfio_container_node = {
	.path = "/dev/vfio/vfio",
	.mode = S_IFCHR | 0666,
	.major = 10,
	.minor = VFIO_MINOR,
};
static const struct ufile_node vfio_dir_node = {.mode = S_IFDIR | 0755};
/* sysfs: root's directories, and links, which always show 0777. */
static const struct ufile_node sysfs_dir_node = {.mode = S_IFDIR | 0755};
static const struct ufile_node sysfs_link_node = {.mode = S_IFLNK | 0777};
#define NODE_DEV_SYSFS makedev(0, 21)

int upath_normalize(const char *path, char *out, size_t size, bool *trailing_slash)
{
	size_t len = 0;
	const char *p = path;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (size < 2)
		return -ENAMETOOLONG;
	*trailing_slash = false;
	while (*p) {
		const char *start, *end;
		size_t n;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != '/')
			p++;
		end = p;
		n = (size_t)(end - start);
		*trailing_slash = *p == '/';
		if (n == 1 && start[0] == '.')
			continue;
		if (n == 2 && start[0] == '.' && start[1] == '.') {
			while (len && out[len - 1] != '/')
				len--;
			if (len)
				len--; /* the slash before it */
			continue;
		}
		if (len + 1 + n + 1 > size)
			return -ENAMETOOLONG;
		out[len++] = '/';
		memcpy(out + len, start, n);
		len += n;
	}
	if (!len)
		out[len++] = '/';
	out[len] = '\0';
	return 0;
}

static bool in_tree(const char *norm)
{
	for (size_t i = 0; i < sizeof(owned_trees) / sizeof(owned_trees[0]); i++) {
		size_t n = strlen(owned_trees[i]);

		if (!strncmp(norm, owned_trees[i], n) && (norm[n] == '\0' || norm[n] == '/'))
			return true;
	}
	return false;
}

/*
 * A component that leads into the emulated sysfs: a PCI name (DDDD:BB:DD.F,
 * checked properly once the path is absolute), pciDDDD:BB, iommu_group or
 * iommu_groups. Anything may follow it.
 */
static bool sysfs_component(const char *s, size_t n)
{
	return (n == 12 && s[4] == ':' && s[7] == ':' && s[10] == '.') ||
	       (n == 10 && !strncmp(s, "pci", 3) && s[7] == ':') ||
	       (n == 11 && !strncmp(s, "iommu_group", 11)) ||
	       (n == 12 && !strncmp(s, "iommu_groups", 12));
}

/*
 * Whether a relative path has a chance of being ours: a component leads
 * into the emulated sysfs, or it ends in a name the rest of the namespace
 * uses.
 */
static bool candidate_relative(const char *path)
{
	const char *leaf = strrchr(path, '/');
	size_t n;

	for (const char *c = path; *c;) {
		size_t len = strcspn(c, "/");

		if (sysfs_component(c, len))
			return true;
		c += len;
		c += strspn(c, "/");
	}
	leaf = leaf ? leaf + 1 : path;
	if (!*leaf) {
		/* "dir/": the component before the slash. */
		n = strlen(path);
		while (n && path[n - 1] == '/')
			n--;
		leaf = path;
		for (size_t i = n; i; i--)
			if (path[i - 1] == '/') {
				leaf = path + i;
				break;
			}
		return n > (size_t)(leaf - path);
	}
	if (!strcmp(leaf, "iommu") || !strcmp(leaf, "vfio") || !strcmp(leaf, "devices") ||
	    !strcmp(leaf, "fail-nth") || !strcmp(leaf, ".") || !strcmp(leaf, ".."))
		return true;
	if (!strncmp(leaf, "vfio", 4))
		leaf += 4;
	n = strspn(leaf, "0123456789");
	return n && !leaf[n];
}

enum lookup_kind {
	LK_NONE,    /* nothing of ours exists there */
	LK_DEVNODE, /* devnodes[] */
	LK_VFIO,    /* a node lib/vfio opens */
	LK_DIR,	    /* /dev/vfio, /dev/vfio/devices */
	LK_FAILNTH, /* a fail-nth file */
	LK_LINK,    /* a sysfs symbolic link, not followed */
};

/* Where a normalised path lands. */
struct uiommu_lookup {
	enum lookup_kind kind;
	const struct uiommu_devnode *dev;
	struct ufile_node node; /* what stat(2) shows, when kind != LK_NONE */
	pid_t tid;		/* fail-nth: the thread */
	int failnth;		/* failnth_path()'s answer */
	bool owned;		/* in the namespace at all */
	bool sysfs;		/* a sysfs node: */
	struct usysfs_node sys; /* which (its identity and link target) */
};

static void lookup_vfio(const char *norm, struct uiommu_lookup *l)
{
	static const char cdev_prefix[] = "/dev/vfio/devices/vfio";
	unsigned int n;

	if (!strcmp(norm, "/dev/vfio")) {
		l->kind = LK_DIR;
	} else if (!strcmp(norm, "/dev/vfio/vfio")) {
		l->kind = LK_VFIO;
		l->node = vfio_container_node;
	} else if (!strcmp(norm, "/dev/vfio/devices")) {
		if (vfio_device_count())
			l->kind = LK_DIR;
	} else if (!strncmp(norm, cdev_prefix, sizeof(cdev_prefix) - 1) &&
		   parse_dec_index(norm + sizeof(cdev_prefix) - 1, &n)) {
		if (vfio_cdev_exists(n)) {
			l->kind = LK_VFIO;
			l->node = (struct ufile_node){.mode = S_IFCHR | 0600,
						      .major = VFIO_DEVICE_MAJOR,
						      .minor = n,
						      .caller_owns = true};
		}
	} else if (parse_dec_index(norm + strlen("/dev/vfio/"), &n)) {
		if (vfio_group_exists(n)) {
			l->kind = LK_VFIO;
			l->node = (struct ufile_node){.mode = S_IFCHR | 0600,
						      .major = VFIO_GROUP_MAJOR,
						      .minor = n,
						      .caller_owns = true};
		}
	}
	if (l->kind == LK_DIR)
		l->node = vfio_dir_node;
}

/*
 * Under /dev/vfio, or of a sysfs shape: the process's machine, built now if
 * this is the first look.
 */
static int machine_for(const char *norm)
{
	int rc;

	if ((strncmp(norm, "/dev/vfio", 9) || (norm[9] && norm[9] != '/')) && !usysfs_shape(norm))
		return 0;
	fork_gate_enter();
	rc = vmm_machine_ensure();
	fork_gate_exit();
	return rc;
}

/* A sysfs path: false when it is not ours (the host's). */
static bool lookup_sysfs(const char *norm, bool follow, struct uiommu_lookup *l)
{
	int rc;

	fork_gate_enter();
	rc = usysfs_lookup(norm, follow, &l->sys);
	fork_gate_exit();
	if (rc <= 0)
		return false;
	l->owned = true;
	l->sysfs = true;
	if (l->sys.kind == USYSFS_DIR) {
		l->kind = LK_DIR;
		l->node = sysfs_dir_node;
	} else if (l->sys.kind == USYSFS_LINK) {
		l->kind = LK_LINK;
		l->node = sysfs_link_node;
	}
	return true;
}

/* @follow: whether a symbolic link as the last component is followed. */
static void lookup(const char *norm, bool follow, struct uiommu_lookup *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < sizeof(devnodes) / sizeof(devnodes[0]); i++) {
		if (!strcmp(norm, devnodes[i].path)) {
			l->kind = LK_DEVNODE;
			l->dev = &devnodes[i];
			l->node = *devnodes[i].node;
			l->owned = true;
			return;
		}
	}
	if (!strncmp(norm, "/dev/vfio", 9) && (!norm[9] || norm[9] == '/')) {
		/* lib/vfio's registry has a lock: inside the gate, against a fork(). */
		fork_gate_enter();
		lookup_vfio(norm, l);
		fork_gate_exit();
		l->owned = true;
		return;
	}
	if (usysfs_shape(norm) && lookup_sysfs(norm, follow, l))
		return;
	l->failnth = failnth_path(norm, &l->tid);
	if (l->failnth == 1) {
		l->kind = LK_FAILNTH;
		l->node = failnth_node;
	}
	l->owned = l->failnth != 0 || in_tree(norm);
}

UIOMMU_EXPORT int uiommu_path_emulated(const char *path)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	bool slash;

	if (!path || !*path)
		return 0;
	if (path[0] != '/')
		return candidate_relative(path);
	if (upath_normalize(path, norm, sizeof(norm), &slash))
		return 0;
	/* Which sysfs paths are ours depends on the machine's devices. */
	if (usysfs_shape(norm) && machine_for(norm))
		return 0;
	lookup(norm, true, &l);
	return l.owned;
}

/*
 * Resolve @path for open/stat/access/readlink: 0 with *l filled for an
 * existing node, else -ENOENT / -ENOTDIR / -ENAMETOOLONG / -EFAULT.
 * *machine_rc: what building the machine answered (0 outside /dev/vfio and
 * the sysfs shapes). @follow: follow a symbolic link as the last component
 * (a trailing slash always does, as in Linux).
 */
static int resolve(const char *path, struct uiommu_lookup *l, char *norm, size_t size,
		   int *machine_rc, bool follow)
{
	bool slash;
	int rc;

	*machine_rc = 0;
	if (!path)
		return -EFAULT;
	if (!*path)
		return -ENOENT;
	rc = upath_normalize(path, norm, size, &slash);
	if (rc)
		return rc == -EINVAL ? -ENOENT : rc;
	*machine_rc = machine_for(norm);
	lookup(norm, follow || slash, l);
	if (l->kind == LK_NONE)
		return l->failnth < 0 ? l->failnth : -ENOENT;
	if (slash && l->kind != LK_DIR)
		return -ENOTDIR;
	return 0;
}

static int node_stat(const struct uiommu_lookup *l, const char *norm, struct stat *st)
{
	ufile_node_stat(&l->node, l->sysfs ? l->sys.canon : norm, st);
	if (l->sysfs)
		st->st_dev = NODE_DEV_SYSFS;
	if (l->kind == LK_FAILNTH)
		st->st_ino = 0x40000000u + (uint64_t)l->tid;
	if (l->kind == LK_DIR)
		st->st_nlink = 2;
	return 0;
}

/* May the caller (real or effective IDs) access a node of @st with @mode (R_OK | W_OK | X_OK)? */
static int node_permission(const struct stat *st, int mode, bool effective)
{
	uid_t uid = effective ? geteuid() : getuid();
	gid_t gid = effective ? getegid() : getgid();
	mode_t bits;

	if (!(mode & (R_OK | W_OK | X_OK)))
		return 0;
	if (!uid) {
		/* Root: anything but executing a file no one may execute. */
		if ((mode & X_OK) && !(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
			return -EACCES;
		return 0;
	}
	if (st->st_uid == uid) {
		bits = (st->st_mode >> 6) & 7;
	} else {
		bool in_group = st->st_gid == gid;
		gid_t groups[256];
		int n = getgroups(256, groups);

		for (int i = 0; !in_group && i < n; i++)
			in_group = groups[i] == st->st_gid;
		bits = in_group ? (st->st_mode >> 3) & 7 : st->st_mode & 7;
	}
	if (((mode & R_OK) && !(bits & 4)) || ((mode & W_OK) && !(bits & 2)) ||
	    ((mode & X_OK) && !(bits & 1)))
		return -EACCES;
	return 0;
}

static int stat_common(const char *path, struct stat *st, bool follow)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	int rc, mrc;

	rc = resolve(path, &l, norm, sizeof(norm), &mrc, follow);
	if (!rc && !st)
		rc = -EFAULT;
	if (!rc)
		rc = node_stat(&l, norm, st);
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

UIOMMU_EXPORT int uiommu_stat(const char *path, struct stat *st)
{
	return stat_common(path, st, true);
}

UIOMMU_EXPORT int uiommu_lstat(const char *path, struct stat *st)
{
	return stat_common(path, st, false);
}

UIOMMU_EXPORT ssize_t uiommu_readlink(const char *path, char *buf, size_t size)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	int rc, mrc;
	size_t n;

	/* Linux checks the size first, as an int (do_readlinkat()). */
	if ((int)size <= 0) {
		errno = EINVAL;
		return -1;
	}
	rc = resolve(path, &l, norm, sizeof(norm), &mrc, false);
	if (!rc && l.kind != LK_LINK)
		rc = -EINVAL;
	if (!rc && !buf)
		rc = -EFAULT;
	if (rc) {
		errno = -rc;
		return -1;
	}
	/* No terminating NUL; a short buffer gets the start. */
	n = strlen(l.sys.target);
	if (n > size)
		n = size;
	memcpy(buf, l.sys.target, n);
	return (ssize_t)n;
}

UIOMMU_EXPORT int uiommu_access(const char *path, int mode, int flags)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	struct stat st;
	int rc, mrc;

	if (mode & ~(R_OK | W_OK | X_OK) || flags & ~AT_EACCESS) {
		errno = EINVAL;
		return -1;
	}
	rc = resolve(path, &l, norm, sizeof(norm), &mrc, true);
	if (!rc) {
		node_stat(&l, norm, &st);
		rc = node_permission(&st, mode, flags & AT_EACCESS);
	}
	if (rc) {
		errno = -rc;
		return -1;
	}
	return 0;
}

struct uiommu_file *upath_open(const char *path, int flags, int *err)
{
	char norm[PATH_MAX];
	struct uiommu_file *file;
	struct uiommu_lookup l;
	struct stat st;
	int rc, mrc, acc = 0;

	uiommu_process_init();
	rc = resolve(path, &l, norm, sizeof(norm), &mrc, !(flags & O_NOFOLLOW));
	/* The topology could not be built: every open under /dev/vfio fails with why. */
	if (mrc)
		rc = mrc;
	if (!rc && (flags & O_CREAT) && (flags & O_EXCL))
		rc = -EEXIST;
	/* O_NOFOLLOW on a link: ELOOP; with O_PATH it would be the link's own fd. */
	if (!rc && l.kind == LK_LINK)
		rc = (flags & O_PATH) ? -EOPNOTSUPP : -ELOOP;
	if (!rc && l.kind == LK_DIR)
		/* A real directory fd cannot be made up: only its errors are Linux's. */
		rc = (flags & O_ACCMODE) != O_RDONLY ? -EISDIR : -EOPNOTSUPP;
	if (!rc && (flags & O_DIRECTORY))
		rc = -ENOTDIR;
	if (!rc)
		node_stat(&l, norm, &st);
	if (!rc && !(flags & O_PATH)) {
		if ((flags & O_ACCMODE) != O_WRONLY)
			acc |= R_OK;
		if ((flags & O_ACCMODE) != O_RDONLY)
			acc |= W_OK;
		rc = node_permission(&st, acc, true);
	}
	if (rc) {
		*err = rc;
		return NULL;
	}
	switch (l.kind) {
	case LK_DEVNODE:
		file = l.dev->open(flags, err);
		break;
	case LK_VFIO:
		file = vfio_path_open(norm, flags, err);
		break;
	default:
		file = failnth_open(l.tid, flags, err);
		break;
	}
	/* The file shows the node it was opened by (fstat(2) agrees with stat(2)). */
	if (file)
		ufile_set_node(file, &l.node, st.st_ino);
	return file;
}
