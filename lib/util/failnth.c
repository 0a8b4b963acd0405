// SPDX-License-Identifier: MIT
/*
 * failnth.c - the emulated /proc/.../fail-nth files (util/failnth.h).
 *
 * What it owns: the path syntax of the fail-nth files, the kstrtouint
 * parser, and the file ops; the countdowns themselves are the allocation
 * wrapper's (util/alloc.c), addressed by thread ID.
 *
 * Invariants: a fail-nth file names one thread ID, fixed at open (like the
 * inode of /proc/<pid>/task/<tid>, which keeps naming its task); reading or
 * writing after that thread exited reads 0 / arms an entry nobody claims
 * (Linux says ESRCH; a thread ID here carries no liveness, see below).
 *
 * Locks: none of its own; file->pos is the file's (the emulated files'
 * positions are not locked, as with the other ops).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/failnth.h"
#include "util/file.h"
#include "util/uaccess.h"

struct failnth_file {
	pid_t tid;
};

const struct ufile_node failnth_node = {
	.path = NULL,
	.mode = S_IFREG | 0644,
	.caller_owns = true,
};

int failnth_kstrtouint(const char *s, unsigned int *res)
{
	unsigned long long v = 0;
	unsigned int base = 10;
	bool overflow = false;
	size_t digits = 0;

	if (*s == '+')
		s++;
	if (s[0] == '0') {
		if ((s[1] == 'x' || s[1] == 'X') &&
		    ((s[2] >= '0' && s[2] <= '9') ||
		     ((s[2] | 0x20) >= 'a' && (s[2] | 0x20) <= 'f'))) {
			base = 16;
			s += 2;
		} else {
			base = 8;
		}
	}
	for (;; s++, digits++) {
		unsigned int c = (unsigned char)*s, d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			break;
		if (d >= base)
			break;
		if (v > (ULLONG_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	if (overflow)
		return -ERANGE;
	if (!digits)
		return -EINVAL;
	if (*s == '\n')
		s++;
	if (*s)
		return -EINVAL;
	if (v > UINT_MAX)
		return -ERANGE;
	*res = (unsigned int)v;
	return 0;
}

/* A /proc PID component: digits without a leading zero (proc's name_to_int()). */
static int proc_number(const char *s, size_t len, pid_t *out)
{
	long v = 0;

	if (!len || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
		if (v > INT_MAX)
			return -EINVAL;
	}
	*out = (pid_t)v;
	return 0;
}

/* Is @tid a thread of this process? */
static bool our_thread(pid_t tid)
{
	char path[48];

	if (tid == getpid() || tid == gettid())
		return true;
	snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
	return access(path, F_OK) == 0;
}

int failnth_path(const char *path, pid_t *tid)
{
	const char *p, *slash;
	pid_t pid, t;

	size_t len = strlen(path);

	/* Cheap first: every other /proc/<pid> path would cost a look at /proc. */
	if (strncmp(path, "/proc/", 6) || len < 15 || strcmp(path + len - 9, "/fail-nth"))
		return 0;
	p = path + 6;
	if (!strcmp(p, "thread-self/fail-nth")) {
		*tid = gettid();
		return 1;
	}
	slash = strchr(p, '/');
	if (!slash)
		return 0;
	if ((size_t)(slash - p) == 4 && !strncmp(p, "self", 4))
		pid = getpid();
	else if (proc_number(p, (size_t)(slash - p), &pid) || !our_thread(pid))
		return 0; /* another process's (or no) file: not ours to emulate */
	p = slash + 1;
	if (!strcmp(p, "fail-nth")) {
		*tid = pid;
		return 1;
	}
	if (strncmp(p, "task/", 5))
		return 0;
	p += 5;
	slash = strchr(p, '/');
	if (!slash || strcmp(slash, "/fail-nth"))
		return 0;
	if (proc_number(p, (size_t)(slash - p), &t) || !our_thread(t))
		return -ENOENT;
	*tid = t;
	return 1;
}

static ssize_t failnth_read(struct uiommu_file *file, void *buf, size_t count, int64_t *ppos)
{
	struct failnth_file *ff = file->private_data;
	char num[16];
	int len;

	len = snprintf(num, sizeof(num), "%u\n", (unsigned int)ualloc_task_fail_nth_get(ff->tid));
	/* simple_read_from_buffer() */
	if (*ppos < 0)
		return -EINVAL;
	if (*ppos >= len || !count)
		return 0;
	if (count > (size_t)(len - *ppos))
		count = (size_t)(len - *ppos);
	if (copy_to_user(buf, num + *ppos, count))
		return -EFAULT;
	*ppos += (int64_t)count;
	return (ssize_t)count;
}

static ssize_t failnth_write(struct uiommu_file *file, const void *buf, size_t count, int64_t *ppos)
{
	struct failnth_file *ff = file->private_data;
	/* kstrtouint_from_user(): sign, 32 binary digits, newline, NUL. */
	char s[1 + 32 + 1 + 1];
	size_t n = count < sizeof(s) - 1 ? count : sizeof(s) - 1;
	unsigned int v;
	int rc;

	if (copy_from_user(s, buf, n))
		return -EFAULT;
	s[n] = '\0';
	rc = failnth_kstrtouint(s, &v);
	if (rc)
		return rc;
	rc = ualloc_task_fail_nth_set(ff->tid, v);
	if (rc)
		return rc;
	return (ssize_t)count;
}

static void failnth_release(struct uiommu_file *file)
{
	ufree(file->private_data);
}

static const struct ufile_ops failnth_fops = {
	.name = "fail-nth",
	.read = failnth_read,
	.write = failnth_write,
	.release = failnth_release,
	.node = &failnth_node,
	.fmode = UFILE_FMODE_PREAD,
};

struct uiommu_file *failnth_open(pid_t tid, int flags, int *err)
{
	struct failnth_file *ff;
	struct uiommu_file *file;

	ff = uzalloc(sizeof(*ff));
	if (!ff) {
		*err = -ENOMEM;
		return NULL;
	}
	ff->tid = tid;
	file = ufile_create(&failnth_fops, ff, UFILE_BACKING_MEMFD, flags, err);
	if (!file) {
		ufree(ff);
		return NULL;
	}
	file->ino = 0x40000000u + (uint64_t)tid;
	return file;
}
