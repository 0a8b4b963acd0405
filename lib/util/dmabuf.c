// SPDX-License-Identifier: MIT
/*
 * dmabuf.c - the dma-buf object: an emulated file that carries an
 * exporter's buffer to importers (see dmabuf.h for the roles).
 *
 * What it owns: struct dma_buf (size, the exporter's ops and private
 * data, the reservation lock, the attachment list) and its file. The file
 * is the buffer's life: ufile references are the buffer's references, and
 * the file's release is where the exporter's release runs.
 *
 * What a program sees on the fd, as on a Linux dma-buf whose exporter has
 * no CPU access (the selftest's): ioctl ENOTTY (none of the DMA_BUF_IOCTL_*
 * are emulated), read/write EINVAL, mmap EINVAL, poll always ready.
 *
 * Invariants: every attachment on @attachments belongs to a live importer
 * (importers detach before they drop their reference); no attachment is
 * left when release runs.
 *
 * Locks: @resv guards @attachments and is held across every move_notify
 * (dma_buf_move_notify() is called with it held, as Linux's is).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/dmabuf.h"
#include "util/err.h"
#include "util/file.h"
#include "util/log.h"

static int dma_buf_file_mmap(struct uiommu_file *file, void *addr, size_t length, int prot,
			     int flags, int64_t offset, void **out)
{
	/* dma_buf_mmap_internal(): an exporter without mmap. */
	return -EINVAL;
}

static void dma_buf_file_release(struct uiommu_file *file)
{
	struct dma_buf *dmabuf = file->private_data;

	if (!list_empty(&dmabuf->attachments))
		ulog_warn("dmabuf: released with attachments left");
	dmabuf->ops->release(dmabuf);
	pthread_mutex_destroy(&dmabuf->resv);
	ufree(dmabuf);
}

static const struct ufile_ops dma_buf_fops = {
	.name = "dmabuf",
	.mmap = dma_buf_file_mmap,
	.release = dma_buf_file_release,
};

int dma_buf_export(const struct dma_buf_ops *ops, void *priv, size_t size, int flags,
		   struct dma_buf **out)
{
	struct uiommu_file *file;
	struct dma_buf *dmabuf;
	int err = 0;

	dmabuf = uzalloc(sizeof(*dmabuf));
	if (!dmabuf)
		return -ENOMEM;
	dmabuf->size = size;
	dmabuf->ops = ops;
	dmabuf->priv = priv;
	pthread_mutex_init(&dmabuf->resv, NULL);
	INIT_LIST_HEAD(&dmabuf->attachments);
	/* dma_buf_getfile() keeps O_ACCMODE | O_NONBLOCK; dma_buf_fd() O_CLOEXEC. */
	file = ufile_create(&dma_buf_fops, dmabuf, UFILE_BACKING_MEMFD,
			    flags & (O_ACCMODE | O_NONBLOCK | O_CLOEXEC), &err);
	if (!file) {
		pthread_mutex_destroy(&dmabuf->resv);
		ufree(dmabuf);
		return err;
	}
	dmabuf->file = file;
	*out = dmabuf;
	return file->fd;
}

struct dma_buf *dma_buf_get(int fd)
{
	struct uiommu_file *file;

	if (fd < 0)
		return ERR_PTR(-EBADF);
	file = ufile_lookup(fd);
	if (!file) {
		/* A file of the kernel's (fget() works) is not a dma-buf of ours. */
		bool owned;
		int real = ufile_real_fd(fd, &owned);

		if (owned)
			close(real);
		return ERR_PTR(real < 0 ? -EBADF : -EINVAL);
	}
	if (file->ops != &dma_buf_fops) {
		ufile_put(file);
		return ERR_PTR(-EINVAL);
	}
	return file->private_data;
}

void dma_buf_put(struct dma_buf *dmabuf)
{
	ufile_put(dmabuf->file);
}

void dma_buf_lock(struct dma_buf *dmabuf)
{
	pthread_mutex_lock(&dmabuf->resv);
}

void dma_buf_unlock(struct dma_buf *dmabuf)
{
	pthread_mutex_unlock(&dmabuf->resv);
}

struct dma_buf_attachment *dma_buf_dynamic_attach(struct dma_buf *dmabuf,
						  const struct dma_buf_attach_ops *importer_ops,
						  void *importer_priv)
{
	struct dma_buf_attachment *attach;

	attach = uzalloc(sizeof(*attach));
	if (!attach)
		return NULL;
	attach->dmabuf = dmabuf;
	attach->importer_ops = importer_ops;
	attach->importer_priv = importer_priv;
	dma_buf_lock(dmabuf);
	list_add_tail(&attach->node, &dmabuf->attachments);
	dma_buf_unlock(dmabuf);
	return attach;
}

void dma_buf_detach(struct dma_buf *dmabuf, struct dma_buf_attachment *attach)
{
	dma_buf_lock(dmabuf);
	list_del(&attach->node);
	dma_buf_unlock(dmabuf);
	ufree(attach);
}

int dma_buf_phys(struct dma_buf_attachment *attach, uintptr_t *addr, size_t *len)
{
	struct dma_buf *dmabuf = attach->dmabuf;

	return dmabuf->ops->phys(dmabuf, addr, len);
}

void dma_buf_move_notify(struct dma_buf *dmabuf)
{
	struct dma_buf_attachment *attach;

	list_for_each_entry(attach, &dmabuf->attachments, node)
	{
		if (attach->importer_ops->move_notify)
			attach->importer_ops->move_notify(attach);
	}
}
