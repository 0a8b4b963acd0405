/* SPDX-License-Identifier: MIT */
/*
 * The emulated /proc fail-nth files: the kernel's per-task fault-injection
 * knob (Documentation/fault-injection/fault-injection.rst, "fail-nth"),
 * wired to the allocation wrapper's per-thread countdown (util/alloc.h), so
 * a program like the kernel's iommufd_fail_nth selftest sweeps every error
 * path of the library exactly as it sweeps the kernel's.
 *
 * Paths (after lexical normalisation, see uiommu_path.c), for this process
 * only (pid == getpid(), or a thread of it):
 *
 *	/proc/self/task/<tid>/fail-nth     /proc/<pid>/task/<tid>/fail-nth
 *	/proc/thread-self/fail-nth         /proc/self/fail-nth   /proc/<pid>/fail-nth
 *
 * The semantics are proc_fail_nth_read/write's: write() parses the buffer
 * (at most 34 bytes of it) like kstrtouint(s, 0): optional '+', decimal,
 * 0x-hex or 0-octal, one optional trailing newline; EINVAL for anything
 * else, ERANGE above UINT_MAX; it then arms the task's countdown and
 * returns the whole count (the position is ignored). read() returns
 * "%u\n" of the remaining count from the file position (pread at 0 reads it
 * again). The countdown counts every injection point on that thread: with
 * N written, N-1 calls succeed, the N-th fails, and the counter reads 0.
 */
#ifndef UIOMMU_UTIL_FAILNTH_H
#define UIOMMU_UTIL_FAILNTH_H

#include <stdbool.h>
#include <sys/types.h>

struct uiommu_file;

/*
 * Parse @path (absolute, normalised). Returns 1 with *tid set when it is a
 * fail-nth file of this process, -ENOENT when it names one of this process
 * but of a thread that does not exist (or a bad number), 0 when it is not a
 * fail-nth path of this process.
 */
int failnth_path(const char *path, pid_t *tid);

/* open(2) of the fail-nth file of thread @tid; NULL with *err = -errno. */
struct uiommu_file *failnth_open(pid_t tid, int flags, int *err);

/* The node stat(2) shows for a fail-nth file (a regular 0644 file of the caller). */
extern const struct ufile_node failnth_node;

/* kstrtouint(s, 0, &res) of the kernel, on a NUL-terminated string: 0 or -EINVAL / -ERANGE. */
int failnth_kstrtouint(const char *s, unsigned int *res);

#endif
