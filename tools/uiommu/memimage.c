// SPDX-License-Identifier: MIT
/*
 * memimage.c - walk tables found in a memory dump.
 *
 * The file is mapped private and writable: a walk with hardware A/D
 * updates may set bits in descriptors, and those stores must stay in this
 * process. The base must keep 8-byte descriptors 8-byte aligned in the
 * mapping, and base + size must not wrap; reads outside the image are walk
 * aborts, like any read outside a pt_mem.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memimage.h"
#include "parse.h"
#include "util/bits.h"

int memimage_parse_spec(const char *spec, char **file, uint64_t *base, char *err, size_t errlen)
{
	const char *at = strrchr(spec, '@');
	size_t flen = at ? (size_t)(at - spec) : strlen(spec);

	*base = 0;
	if (!flen) {
		snprintf(err, errlen, "expected FILE[@BASE], got '%s'", spec);
		return -EINVAL;
	}
	if (at && parse_u64(at + 1, base)) {
		snprintf(err, errlen,
			 "expected FILE@BASE with BASE a number such as 0x80000000, got '%s'",
			 spec);
		return -EINVAL;
	}
	if (*base & 7) {
		snprintf(err, errlen, "base 0x%llx is not 8-byte aligned",
			 (unsigned long long)*base);
		return -EINVAL;
	}
	*file = strndup(spec, flen);
	if (!*file) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int memimage_open(struct memimage *img, const char *file, uint64_t base, char *err, size_t errlen)
{
	struct stat st;
	int fd, e;

	memset(img, 0, sizeof(*img));
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -e;
	}
	if (fstat(fd, &st)) {
		e = errno;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		snprintf(err, errlen, "%s: %s", file,
			 S_ISREG(st.st_mode) ? "empty file" : "not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (range_wraps(base, (uint64_t)st.st_size)) {
		snprintf(err, errlen, "%s: %lld bytes at 0x%llx wrap past 2^64", file,
			 (long long)st.st_size, (unsigned long long)base);
		close(fd);
		return -EINVAL;
	}
	img->map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	e = errno;
	close(fd);
	if (img->map == MAP_FAILED) {
		img->map = NULL;
		snprintf(err, errlen, "%s: %s", file, strerror(e));
		return -e;
	}
	img->file = strdup(file);
	img->base = base;
	img->size = (uint64_t)st.st_size;
	return 0;
}

void memimage_close(struct memimage *img)
{
	if (img->map)
		munmap(img->map, img->size);
	free(img->file);
	memset(img, 0, sizeof(*img));
}

void memimage_add_region(const struct memimage *img, struct pt_mem *mem)
{
	if (mem->nr_regions >= PT_MEM_MAX_REGIONS)
		return;
	mem->region[mem->nr_regions++] =
		(struct pt_mem_region){.base = img->base, .size = img->size, .host = img->map};
}
