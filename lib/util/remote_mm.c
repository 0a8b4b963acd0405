// SPDX-License-Identifier: MIT
/*
 * remote_mm.c - another process's memory (util/remote_mm.h): identity,
 * copies, and aliases of its shared mappings.
 *
 * What it owns: nothing lasting. Each call reads /proc/<pid>/stat or
 * /proc/<pid>/maps afresh (a process's mappings change under us; a stale
 * answer is no better than a fresh one that may be stale a moment later,
 * and the callers only ask when they pin, which is rare).
 *
 * Invariants: a remote_mm whose start time no longer matches, or whose
 * process is a zombie, is dead, and nothing reads or aliases its memory.
 * An alias is made only of a shared mapping, and when the pages are already
 * at the same address here (the same shmem or file object at the same
 * offset, as after fork()) no new mapping is made.
 *
 * Locks: none.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util/remote_mm.h"

/* /proc/<pid>/stat: the state letter and the start time; -ESRCH if there is no such process. */
static int read_stat(pid_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* The command name may hold anything, ')' included: the last one ends it. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -ESRCH;
	p += 2;
	*state = *p;
	/* Field 3 is the state; the start time is field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -ESRCH;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

int remote_mm_init(struct remote_mm *mm, pid_t pid)
{
	char state;

	mm->pid = pid;
	mm->start = 0;
	if (pid <= 0)
		return -ESRCH;
	return read_stat(pid, &state, &mm->start);
}

bool remote_mm_alive(const struct remote_mm *mm)
{
	uint64_t start;
	char state;

	if (!mm->pid)
		return true;
	if (read_stat(mm->pid, &state, &start))
		return false;
	return start == mm->start && state != 'Z' && state != 'X';
}

static int remote_copy(const struct remote_mm *mm, void *local, uintptr_t remote, size_t n,
		       bool write)
{
	struct iovec l, r;
	ssize_t done;

	while (n) {
		l.iov_base = local;
		l.iov_len = n;
		r.iov_base = (void *)remote;
		r.iov_len = n;
		done = write ? process_vm_writev(mm->pid, &l, 1, &r, 1, 0)
			     : process_vm_readv(mm->pid, &l, 1, &r, 1, 0);
		if (done <= 0)
			return -EFAULT;
		local = (char *)local + done;
		remote += (uintptr_t)done;
		n -= (size_t)done;
	}
	return 0;
}

int remote_mm_read(const struct remote_mm *mm, void *local, uintptr_t remote, size_t n)
{
	return remote_copy(mm, local, remote, n, false);
}

int remote_mm_write(const struct remote_mm *mm, uintptr_t remote, const void *local, size_t n)
{
	return remote_copy(mm, (void *)local, remote, n, true);
}

/* One line of /proc/<pid>/maps. */
struct vma {
	uintptr_t start, end;
	uint64_t off, ino;
	unsigned int dev_major, dev_minor;
	bool read, write, shared;
};

/* The mapping of @pid (0: ours) that holds @addr: 0, or -EFAULT when none does. */
static int vma_find(pid_t pid, uintptr_t addr, struct vma *out)
{
	char path[64], buf[4096];
	size_t have = 0;
	int fd, rc = -EFAULT;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/maps");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	for (;;) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - 1 - have);
		char *line = buf, *nl;

		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		while ((nl = strchr(line, '\n'))) {
			unsigned long long s, e, off, ino;
			unsigned int ma, mi;
			char perms[8];

			*nl = '\0';
			if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu", &s, &e, perms, &off, &ma,
				   &mi, &ino) == 7 &&
			    addr >= s && addr < e) {
				out->start = (uintptr_t)s;
				out->end = (uintptr_t)e;
				out->off = off;
				out->ino = ino;
				out->dev_major = ma;
				out->dev_minor = mi;
				out->read = perms[0] == 'r';
				out->write = perms[1] == 'w';
				out->shared = perms[3] == 's';
				rc = 0;
				goto out;
			}
			line = nl + 1;
		}
		/* Keep the partial line; a line never fills the buffer (paths are short enough). */
		have = strlen(line);
		memmove(buf, line, have);
		if (have == sizeof(buf) - 1)
			have = 0;
	}
out:
	close(fd);
	return rc;
}

/* Same object at the same offset for address @a in both mappings? */
static bool same_pages(const struct vma *r, const struct vma *l, uintptr_t a)
{
	return l->shared && r->ino && l->ino == r->ino && l->dev_major == r->dev_major &&
	       l->dev_minor == r->dev_minor && r->off + (a - r->start) == l->off + (a - l->start);
}

/* Map [a, a + n) of the process's mapping @r at @at (MAP_FIXED) from /proc/<pid>/map_files/. */
static int map_piece(const struct remote_mm *mm, const struct vma *r, uintptr_t a, size_t n,
		     bool writable, uintptr_t at)
{
	char path[96];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIxPTR "-%" PRIxPTR, (int)mm->pid,
		 r->start, r->end);
	fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -EFAULT;
	p = mmap((void *)at, n, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED | MAP_FIXED, fd,
		 (off_t)(r->off + (a - r->start)));
	close(fd);
	return p == MAP_FAILED ? -EFAULT : 0;
}

int remote_mm_alias(const struct remote_mm *mm, uintptr_t addr, size_t len, bool writable,
		    uintptr_t *alias, size_t *mapped)
{
	uintptr_t a, end = addr + len;
	bool same = true;
	void *res;
	int rc;

	if (!mm->pid) {
		*alias = addr;
		*mapped = 0;
		return 0;
	}
	if (!len || end < addr || !remote_mm_alive(mm))
		return -EFAULT;
	/* Every page must be in a shared mapping with the access asked for. */
	for (a = addr; a < end;) {
		struct vma r, l;
		uintptr_t stop;

		if (vma_find(mm->pid, a, &r) || !r.shared || !r.read || (writable && !r.write))
			return -EFAULT;
		stop = r.end < end ? r.end : end;
		if (same && (vma_find(0, a, &l) || !same_pages(&r, &l, a)))
			same = false;
		else if (same && l.end < stop)
			stop = l.end;
		a = stop;
	}
	if (same) {
		/* Checked against the process we meant, not a successor with its PID. */
		if (!remote_mm_alive(mm))
			return -EFAULT;
		*alias = addr;
		*mapped = 0;
		return 0;
	}
	/* A new mapping of the same pages, piece by piece over a reservation. */
	res = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (res == MAP_FAILED)
		return -ENOMEM;
	for (a = addr; a < end;) {
		struct vma r;
		uintptr_t stop;

		if (vma_find(mm->pid, a, &r)) {
			rc = -EFAULT;
			goto fail;
		}
		stop = r.end < end ? r.end : end;
		rc = map_piece(mm, &r, a, stop - a, writable, (uintptr_t)res + (a - addr));
		if (rc)
			goto fail;
		a = stop;
	}
	if (!remote_mm_alive(mm)) {
		rc = -EFAULT;
		goto fail;
	}
	*alias = (uintptr_t)res;
	*mapped = len;
	return 0;
fail:
	munmap(res, len);
	return rc;
}
