// SPDX-License-Identifier: MIT
/*
 * rmtree.c - remove a directory tree, depth first, without following
 * symbolic links (O_NOFOLLOW on each directory, unlinkat() on the rest).
 *
 * Used by the library's process hooks and by `uiommu exec` to clean up
 * the directories they made. Best effort and silent: a caller that must
 * know checks the path afterwards. No allocation of its own (the
 * directory stream is libc's), no state, no locks.
 */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util/rmtree.h"

void remove_tree(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct dirent *de;
	DIR *d;

	if (fd < 0) {
		unlinkat(dirfd, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			remove_tree(fd, de->d_name);
		else
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}
