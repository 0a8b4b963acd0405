/* SPDX-License-Identifier: MIT */
/*
 * Removing a directory tree that this process made (the debugfs-style
 * directory of `uiommu exec` and of the library's process hooks).
 */
#ifndef UIOMMU_UTIL_RMTREE_H
#define UIOMMU_UTIL_RMTREE_H

/*
 * Remove @name (relative to @dirfd, or AT_FDCWD) and everything below it;
 * no symbolic link is followed. Best effort: what cannot be removed stays.
 */
void remove_tree(int dirfd, const char *name);

#endif
