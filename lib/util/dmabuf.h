/* SPDX-License-Identifier: MIT */
/*
 * dmabuf.h - dma-buf: a buffer an exporter hands out as a file descriptor
 * and importers map without knowing where it lives (Linux's drivers/dma-buf).
 *
 * An exporter (the selftest's IOMMU_TEST_OP_DMABUF_GET today, a VFIO
 * device region later) makes a dma_buf with dma_buf_export(): an emulated
 * file (util/file.h) whose private data is the dma_buf, installed as a new
 * fd of this process. An importer (iommufd's IOMMU_IOAS_MAP_FILE) finds it
 * again with dma_buf_get(fd), attaches with dma_buf_dynamic_attach() and
 * asks the exporter where the memory is (dma_buf_phys()). When the exporter
 * takes the memory away (revokes it), dma_buf_move_notify() calls every
 * attachment's move_notify, and the importer must stop using the memory
 * before that call returns.
 *
 * Lifetime: the dma_buf lives as long as its file: each installed fd
 * number and each dma_buf_get() hold a reference (dma_buf_put() drops
 * one), so an importer that keeps its reference keeps the buffer after the
 * program closed every fd. The last reference calls the exporter's
 * release, which frees the memory.
 *
 * Locks: @resv (Linux's reservation lock) guards the attachment list and
 * the exporter's own state (its revoked flag); move_notify and
 * ops->phys run under it. It nests inside an io_pagetable's iova_rwsem
 * and outside an importer's own locks (iopt_pages::mutex).
 */
#ifndef UIOMMU_UTIL_DMABUF_H
#define UIOMMU_UTIL_DMABUF_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "util/list.h"

struct dma_buf;
struct dma_buf_attachment;
struct uiommu_file;

struct dma_buf_ops {
	/*
	 * Where the memory is: one host range [*addr, *addr + *len) (a
	 * "physical" address is a host address here, DESIGN.md §1), or -errno
	 * (-ENODEV: revoked). Under @resv.
	 */
	int (*phys)(struct dma_buf *dmabuf, uintptr_t *addr, size_t *len);
	/* The last reference is gone: free @priv and the memory. */
	void (*release)(struct dma_buf *dmabuf);
};

struct dma_buf_attach_ops {
	/* The exporter moved or revoked the memory. Under @resv. */
	void (*move_notify)(struct dma_buf_attachment *attach);
};

struct dma_buf {
	size_t size;
	const struct dma_buf_ops *ops;
	void *priv;
	struct uiommu_file *file;
	pthread_mutex_t resv;
	/* dma_buf_attachment::node; under @resv. */
	struct list_head attachments;
};

struct dma_buf_attachment {
	struct dma_buf *dmabuf;
	const struct dma_buf_attach_ops *importer_ops;
	void *importer_priv;
	struct list_head node;
};

/*
 * Make a dma_buf of @size bytes and install a new fd for it, with @flags
 * as open flags (O_ACCMODE and O_NONBLOCK kept as the file's flags,
 * O_CLOEXEC for the fd; other bits ignored, as Linux does). Returns the
 * new fd (>= 0), *out set to the buffer, which the fd holds; or -errno, and
 * then the caller still owns @priv.
 */
int dma_buf_export(const struct dma_buf_ops *ops, void *priv, size_t size, int flags,
		   struct dma_buf **out);

/*
 * The dma_buf behind fd @fd, with a reference. -EBADF when @fd is not an
 * open fd, -EINVAL when it is open but not a dma-buf.
 */
struct dma_buf *dma_buf_get(int fd);
void dma_buf_put(struct dma_buf *dmabuf);

/* The reservation lock (Linux's dma_resv_lock()). */
void dma_buf_lock(struct dma_buf *dmabuf);
void dma_buf_unlock(struct dma_buf *dmabuf);

/*
 * Attach an importer; its move_notify will be called on every
 * dma_buf_move_notify() until dma_buf_detach(). Returns the attachment
 * (which holds no reference: the importer keeps its own from
 * dma_buf_get()), or NULL when out of memory.
 */
struct dma_buf_attachment *dma_buf_dynamic_attach(struct dma_buf *dmabuf,
						  const struct dma_buf_attach_ops *importer_ops,
						  void *importer_priv);
void dma_buf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach);

/* The exporter's answer (ops->phys); the caller holds the reservation lock. */
int dma_buf_phys(struct dma_buf_attachment *attach, uintptr_t *addr, size_t *len);

/* Tell every attachment the memory moved. The caller holds the reservation lock. */
void dma_buf_move_notify(struct dma_buf *dmabuf);

#endif
