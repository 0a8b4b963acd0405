/* SPDX-License-Identifier: MIT */
/*
 * preload/shim.h - what the interposers of libuiommu-preload.so share.
 *
 * The shim recognises the fds and paths that belong to libuiommu and
 * forwards those calls to it; every other call goes to the next definition
 * (libc) unchanged, errno included. It has no behaviour of its own.
 *
 * Re-entry. libuiommu is linked into the shim, and its own calls of open,
 * close, dup3, mmap, read, write ... resolve to the shim's definitions. A
 * thread-local depth counter, raised around every call into the library,
 * sends those straight to libc (SHIM_BYPASS()). It is initial-exec TLS, so
 * reading it never allocates.
 *
 * libc. real_fn(SYM_x) resolves symbol x with dlsym(RTLD_NEXT) on first
 * use, from any thread, at any time (even before the shim's constructor:
 * the dynamic loader and other libraries' constructors call open and
 * friends early). Resolution is idempotent, so racing threads simply store
 * the same pointer.
 */
#ifndef UIOMMU_PRELOAD_SHIM_H
#define UIOMMU_PRELOAD_SHIM_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <uiommu/uiommu.h>

/* The libc functions the shim calls. */
/* clang-format off */
#define SHIM_SYMBOLS(X)                                                          \
	X(open) X(open64) X(openat) X(openat64) X(creat) X(creat64) X(close)   \
	X(close_range) X(closefrom) X(dup) X(dup2) X(dup3) X(fcntl) X(fcntl64) \
	X(ioctl) X(read) X(write) X(pread) X(pread64) X(pwrite) X(pwrite64)    \
	X(__read_chk) X(__pread_chk) X(__pread64_chk) X(mmap) X(mmap64)        \
	X(munmap) X(stat) X(stat64) X(lstat) X(lstat64) X(fstat) X(fstat64)   \
	X(fstatat) X(fstatat64) X(statx) X(access) X(faccessat) X(euidaccess)  \
	X(eaccess) X(opendir) X(chdir) X(fopen) X(fopen64) X(_exit) X(_Exit)   \
	X(__open_2) X(__open64_2) X(__openat_2) X(__openat64_2) X(__xstat)     \
	X(__xstat64) X(__lxstat) X(__lxstat64) X(__fxstat) X(__fxstat64)       \
	X(__fxstatat) X(__fxstatat64) X(fork) X(readlink) X(readlinkat)        \
	X(__readlink_chk) X(__readlinkat_chk) X(daemon) X(_Fork)
/* clang-format on */

enum shim_sym {
#define SHIM_ENUM(name) SYM_##name,
	SHIM_SYMBOLS(SHIM_ENUM)
#undef SHIM_ENUM
		SHIM_NR_SYMS
};

void *shim_real(enum shim_sym sym);

/* The next definition of @name, with its own type: REAL(close)(fd). */
#define REAL(name) ((__typeof__(&name))shim_real(SYM_##name))

extern __thread unsigned int shim_depth __attribute__((tls_model("initial-exec")));

/*
 * The child of a _Fork() made while the library had state (shim.c): a copy
 * it must not use, so every call of the process goes straight to libc.
 */
extern bool shim_stale;

#define SHIM_BYPASS() (shim_depth != 0 || __atomic_load_n(&shim_stale, __ATOMIC_RELAXED))

/*
 * Is this a vfork() child (the library's memory is its parent's, the fd
 * table its own)? A system call: ask only when a descriptor is ours.
 */
bool shim_vforked(void);

/* Bracket every call into libuiommu. */
static inline void shim_enter(void)
{
	shim_depth++;
}

static inline void shim_leave(void)
{
	shim_depth--;
}

/* Evaluate a call into libuiommu with the depth raised; errno is the library's. */
#define LIB(expr)                        \
	({                               \
		__typeof__(expr) lib_r_; \
		shim_enter();            \
		lib_r_ = (expr);         \
		shim_leave();            \
		lib_r_;                  \
	})

/* The emulated file behind @fd, held (uiommu_file_get); NULL, errno untouched, if none. */
static inline struct uiommu_file *shim_file_get(int fd)
{
	struct uiommu_file *file;
	int saved;

	if (fd < 0)
		return NULL;
	saved = errno;
	shim_enter();
	file = uiommu_file_get(fd);
	shim_leave();
	errno = saved;
	return file;
}

static inline void shim_file_put(struct uiommu_file *file)
{
	int saved = errno;

	shim_enter();
	uiommu_file_put(file);
	shim_leave();
	errno = saved;
}

/* Is @fd one of ours (nothing held)? errno untouched. */
bool shim_fd_ours(int fd);

/*
 * Where a path goes. SHIM_PATH_EMULATED: @abs holds the absolute path to
 * give the library. SHIM_PATH_REDIRECT: @abs holds the host path to use
 * instead (the private debugfs stand-in). SHIM_PATH_HOST: the original
 * arguments go to libc. SHIM_PATH_ERROR: errno says why (e.g. ENOTDIR for a
 * relative path against an emulated fd).
 */
enum shim_path {
	SHIM_PATH_HOST,
	SHIM_PATH_EMULATED,
	SHIM_PATH_REDIRECT,
	SHIM_PATH_ERROR,
};

enum shim_path shim_classify(int dirfd, const char *path, char *abs, size_t size);

/* Write the summary / clean up, once (uiommu_process_exit()). */
void shim_process_exit(void);

#endif
