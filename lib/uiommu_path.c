// SPDX-License-Identifier: MIT
/*
 * uiommu_path.c - the emulated file-system namespace: which paths the
 * library owns, what stat(2) and access(2) say about them, and which open
 * function each one has.
 *
 * What it owns: the node table (today /dev/iommu; the VFIO nodes
 * /dev/vfio/vfio, /dev/vfio/<group> and /dev/vfio/devices/vfio<N> join it
 * with the VFIO layer and the topology it is given), the fail-nth files of
 * util/failnth.c, and the lexical normalisation of paths. The namespace is
 *
 *	/dev/iommu                    the iommufd
 *	/dev/vfio and all below it    VFIO (only nodes of the topology exist;
 *	                              everything else is ENOENT, never the host's)
 *	/proc/.../fail-nth            of this process, see util/failnth.h
 *
 * A path in the namespace is answered here and never reaches the host's
 * kernel; every other path is not ours (uiommu_path_emulated() says which).
 *
 * Normalisation is lexical, as the kernel's lookup would resolve it with no
 * symbolic links in the way: repeated slashes and "." vanish, ".." removes
 * the previous component (at the root it stays at the root). A trailing
 * slash is remembered: it makes a non-directory ENOTDIR.
 *
 * Node identity (reference: drivers/char/misc.c, drivers/vfio):
 *   /dev/iommu      char 10:256, 0666 root:root. Linux registers it as a
 *                   misc device with a dynamic minor (6.12 hands those out
 *                   from 256 up) and mode 0660; udev rules commonly open it
 *                   to everyone, and an unprivileged program using the
 *                   emulation must be able to open it, so 0666.
 *   /dev/vfio/vfio  char 10:196 (VFIO_MINOR), 0666 root:root (the VFIO layer).
 *
 * No locks, and no library state: the table is constant, failnth_path()
 * asks the host's /proc whether a thread exists. So these calls need not
 * pass the fork gate, and a program that only looks at paths (every
 * program under the shim) never sets it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uiommu/uiommu.h>

#include "iommufd/iommufd_private.h"
#include "uiommu_private.h"
#include "util/failnth.h"
#include "util/file.h"

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

/* The names a relative path must end in to have a chance of being ours. */
static bool candidate_leaf(const char *path)
{
	const char *leaf = strrchr(path, '/');
	size_t n;

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

/* Where a normalised path lands: a device node, a fail-nth file, or nothing of ours. */
struct uiommu_lookup {
	const struct uiommu_devnode *dev;
	pid_t tid;   /* fail-nth: the thread */
	int failnth; /* failnth_path()'s answer */
	bool owned;  /* in the namespace at all */
};

static void lookup(const char *norm, struct uiommu_lookup *l)
{
	memset(l, 0, sizeof(*l));
	for (size_t i = 0; i < sizeof(devnodes) / sizeof(devnodes[0]); i++) {
		if (!strcmp(norm, devnodes[i].path)) {
			l->dev = &devnodes[i];
			l->owned = true;
			return;
		}
	}
	l->failnth = failnth_path(norm, &l->tid);
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
		return candidate_leaf(path);
	if (upath_normalize(path, norm, sizeof(norm), &slash))
		return 0;
	lookup(norm, &l);
	return l.owned;
}

/*
 * Resolve @path for open/stat/access: 0 with *l filled for an existing
 * node, else -ENOENT / -ENOTDIR / -ENAMETOOLONG / -EFAULT.
 */
static int resolve(const char *path, struct uiommu_lookup *l, char *norm, size_t size)
{
	bool slash;
	int rc;

	if (!path)
		return -EFAULT;
	if (!*path)
		return -ENOENT;
	rc = upath_normalize(path, norm, size, &slash);
	if (rc)
		return rc == -EINVAL ? -ENOENT : rc;
	lookup(norm, l);
	if (!l->dev && l->failnth != 1)
		return l->failnth < 0 ? l->failnth : -ENOENT;
	/* Every node is a non-directory. */
	if (slash)
		return -ENOTDIR;
	return 0;
}

static const struct ufile_node *node_of(const struct uiommu_lookup *l)
{
	return l->dev ? l->dev->node : &failnth_node;
}

static int node_stat(const struct uiommu_lookup *l, const char *norm, struct stat *st)
{
	ufile_node_stat(node_of(l), norm, st);
	if (!l->dev)
		st->st_ino = 0x40000000u + (uint64_t)l->tid;
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

UIOMMU_EXPORT int uiommu_stat(const char *path, struct stat *st)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	int rc;

	rc = resolve(path, &l, norm, sizeof(norm));
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

UIOMMU_EXPORT int uiommu_access(const char *path, int mode, int flags)
{
	char norm[PATH_MAX];
	struct uiommu_lookup l;
	struct stat st;
	int rc;

	if (mode & ~(R_OK | W_OK | X_OK) || flags & ~AT_EACCESS) {
		errno = EINVAL;
		return -1;
	}
	rc = resolve(path, &l, norm, sizeof(norm));
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
	struct uiommu_lookup l;
	struct stat st;
	int rc, acc = 0;

	uiommu_process_init();
	rc = resolve(path, &l, norm, sizeof(norm));
	if (!rc && (flags & O_CREAT) && (flags & O_EXCL))
		rc = -EEXIST;
	if (!rc && (flags & O_DIRECTORY))
		rc = -ENOTDIR;
	if (!rc && !(flags & O_PATH)) {
		node_stat(&l, norm, &st);
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
	if (l.dev)
		return l.dev->open(flags, err);
	return failnth_open(l.tid, flags, err);
}
