/* SPDX-License-Identifier: MIT */
/*
 * Shared by the lib/uiommu*.c files that implement the public API: the
 * marker that exports a definition. Everything else in the library is
 * compiled with hidden visibility, and lib/libuiommu.map keeps only
 * uiommu_* in the dynamic symbol table.
 */
#ifndef UIOMMU_LIB_PRIVATE_H
#define UIOMMU_LIB_PRIVATE_H

#define UIOMMU_EXPORT __attribute__((visibility("default")))

#include <stdbool.h>
#include <stddef.h>

struct uiommu_file;

/*
 * uiommu_path.c: lexical normalisation of an absolute path (0, -EINVAL for
 * a relative one, -ENAMETOOLONG), and open(2) of a path of the emulated
 * namespace (NULL with *err = -errno).
 */
int upath_normalize(const char *path, char *out, size_t size, bool *trailing_slash);
struct uiommu_file *upath_open(const char *path, int flags, int *err);

/*
 * uiommu_sysfs.c: the sysfs entries of VFIO's PCI devices. usysfs_shape():
 * whether a normalised path could be one (a prefix test, cheap).
 * usysfs_lookup(): 0 when the path is not ours (the host's); 1 when it is,
 * with *n saying what is there: nothing (ENOENT), a directory, or a
 * symbolic link (not followed when it is the last component and @follow is
 * false); @canon is the node's canonical path (its identity).
 */
enum usysfs_kind { USYSFS_NONE, USYSFS_DIR, USYSFS_LINK };
struct usysfs_node {
	enum usysfs_kind kind;
	char canon[96];
	char target[64];
};
bool usysfs_shape(const char *norm);
int usysfs_lookup(const char *norm, bool follow, struct usysfs_node *n);

/*
 * uiommu_file.c: what a call on a file does in the process that owns it,
 * once the call's checks for the file as a whole are done (the caller holds
 * the gate and a reference). Value >= 0 or -errno. ufile_op_rw() with @pos
 * is pread/pwrite at @offset, without it read/write at the file position.
 */
#include <stdint.h>
#include <sys/types.h>
long ufile_op_ioctl(struct uiommu_file *file, unsigned long request, unsigned long arg);
ssize_t ufile_op_rw(struct uiommu_file *file, void *buf, size_t count, int64_t offset, bool pos,
		    bool write);
unsigned int ufile_op_poll(struct uiommu_file *file);
long ufile_op_fcntl(struct uiommu_file *file, int cmd, unsigned long arg);

/*
 * uiommu_remote.c: a call on a file inherited over fork(), made by the
 * owner on our behalf (value >= 0 or -errno; -EBADF when the owner is gone
 * or the file is dead). @a, @b: request and argument (ioctl), buffer and
 * count (read/write); @offset for pread/pwrite.
 */
enum uremote_op {
	UREMOTE_IOCTL = 1,
	UREMOTE_READ,
	UREMOTE_WRITE,
	UREMOTE_PREAD,
	UREMOTE_PWRITE,
	UREMOTE_POLL,
	UREMOTE_RELEASE,
	UREMOTE_EXIT,
	UREMOTE_FCNTL,	   /* @a: F_GETFL or F_SETFL, @b: its argument */
	UREMOTE_MMAP,	   /* uremote_mmap() */
	UREMOTE_VMA_CLOSE, /* internal: a mapping the owner made for us is gone */
	UREMOTE_FORK,	   /* internal: a channel for our child, with the files named before */
	UREMOTE_ANSWER,	   /* internal: the answer to the owner's request */
	UREMOTE_FORK_FILES, /* internal: files for the next UREMOTE_FORK (a chunk of them) */
};

long uremote_call(struct uiommu_file *file, enum uremote_op op, uint64_t a, uint64_t b,
		  int64_t offset);

/* mmap(2) of a remote file: the owner resolves it and passes the memory over. 0 or -errno. */
int uremote_mmap(struct uiommu_file *file, void *addr, size_t length, int prot, int flags,
		 int64_t offset, void **out);

/* The process is exiting: the owner drops what it holds for us, and we wait for that. */
void uremote_process_exit(void);
/*
 * daemon()'s child: the channels, conns and agents of its parent are its
 * own (threads restarted). 0, or -ENOMEM / -EAGAIN when a thread could not
 * be had (what it served then fails as if we had exited).
 */
int uremote_take_over(pid_t parent);

/* uiommu_process.c: read the process-wide settings of the environment (once). */
void uiommu_process_init(void);

#endif
