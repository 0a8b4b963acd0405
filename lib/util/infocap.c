// SPDX-License-Identifier: MIT
/*
 * infocap.c - building VFIO-style capability chains (see infocap.h).
 *
 * The chain lives in one growing buffer; offsets inside it are relative to
 * the buffer until infocap_shift() moves them behind the INFO struct. The
 * first capability sits at offset 0, so "next == 0" can only mean "last".
 * No locks: a chain belongs to one ioctl call.
 */
#include <errno.h>
#include <string.h>

#include "util/alloc.h"
#include "util/infocap.h"

void *infocap_add(struct infocap *caps, size_t size, uint16_t id, uint16_t version)
{
	struct infocap_header *hdr, *tail;
	size_t padded = (size + 7) & ~(size_t)7;
	uint8_t *buf;

	if (caps->err)
		return NULL;
	buf = ualloc(caps->size + padded);
	if (!buf) {
		infocap_free(caps);
		caps->err = -ENOMEM;
		return NULL;
	}
	if (caps->size)
		memcpy(buf, caps->buf, caps->size);
	ufree(caps->buf);
	caps->buf = buf;

	hdr = (struct infocap_header *)(buf + caps->size);
	memset(hdr, 0, padded);
	hdr->id = id;
	hdr->version = version;
	if (caps->size) {
		/* Link from the current last capability. */
		for (tail = (struct infocap_header *)buf; tail->next;
		     tail = (struct infocap_header *)(buf + tail->next))
			;
		tail->next = (uint32_t)caps->size;
	}
	caps->size += padded;
	return hdr;
}

void infocap_shift(struct infocap *caps, size_t offset)
{
	struct infocap_header *cur;

	if (!caps->size)
		return;
	for (cur = (struct infocap_header *)caps->buf; cur->next;) {
		uint32_t next = cur->next;

		cur->next = (uint32_t)(next + offset);
		cur = (struct infocap_header *)(caps->buf + next);
	}
}

void infocap_free(struct infocap *caps)
{
	ufree(caps->buf);
	caps->buf = NULL;
	caps->size = 0;
}
