/* SPDX-License-Identifier: MIT */
/*
 * lib/dev/msi_doorbell.h - a small interrupt controller for emulated
 * devices: a doorbell page whose message writes signal eventfds.
 *
 * The model is a GIC ITS translation register: a device signals an
 * interrupt by writing a 32-bit event ID to one doorbell address, and the
 * controller turns the event ID into an interrupt (here: a write to the
 * eventfd registered for that ID). The doorbell is one host page, so a
 * program maps it for DMA like any memory (IOMMU_IOAS_MAP of
 * msi_doorbell_page(), at the IOVA its MSI-X table entries will name);
 * the device's message write then goes through the IOMMU like any DMA
 * write, and a device whose translated target lands on a doorbell hands
 * the write here instead of storing it (msi_doorbell_write()).
 *
 * Only a 4-byte write at MSI_DOORBELL_TRANSLATER is a message; any other
 * write into the page is dropped and counted as stray (an ITS ignores
 * writes to its other registers from devices). An event ID of
 * @nr_events or more, or one with no eventfd, is counted as unrouted.
 *
 * Every doorbell is on one process-wide list (the platform's address map
 * of interrupt controllers), read-locked by message writes and
 * write-locked by create and destroy, so destroy waits for writes in
 * progress. Thread safe.
 */
#ifndef UIOMMU_DEV_MSI_DOORBELL_H
#define UIOMMU_DEV_MSI_DOORBELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MSI_DOORBELL_TRANSLATER 0x40u /* offset of the doorbell register in the page */

struct msi_doorbell;

/* A doorbell routing event IDs 0 .. @nr_events - 1 (1 .. 4096). NULL with *err (-EINVAL, -ENOMEM).
 */
struct msi_doorbell *msi_doorbell_create(unsigned int nr_events, int *err);
/* Waits for message writes in progress; the eventfds are the caller's (not closed). */
void msi_doorbell_destroy(struct msi_doorbell *db);

/* The doorbell page (host memory, page aligned, read-write) and its size. */
void *msi_doorbell_page(const struct msi_doorbell *db);
size_t msi_doorbell_page_size(void);

/* Route @event to eventfd @fd (-1: no route). -EINVAL for an event out of range. */
int msi_doorbell_set_eventfd(struct msi_doorbell *db, uint32_t event, int fd);

struct msi_doorbell_stats {
	uint64_t signalled; /* messages that wrote an eventfd */
	uint64_t unrouted;  /* messages with an event ID out of range or without eventfd */
	uint64_t stray;	    /* writes into the page that were not a message */
};
void msi_doorbell_stats(const struct msi_doorbell *db, struct msi_doorbell_stats *st);
/* Messages received for @event (signalled or not); 0 out of range. */
uint64_t msi_doorbell_event_count(const struct msi_doorbell *db, uint32_t event);

/*
 * Device side: a @len-byte write of @data to host address @host, which the
 * IOMMU translated the device's address to. true when @host is inside a
 * doorbell page (the write was the doorbell's, message or stray), false
 * when it is ordinary memory that the caller must write itself.
 */
bool msi_doorbell_write(void *host, unsigned int len, uint32_t data);

/*
 * Host side: is @host (an address the IOMMU translated a message to) the
 * doorbell register of some doorbell? Counts nothing: for an owner that
 * takes its device's messages itself (VFIO's host-owned MSI-X), whose
 * interrupt is delivered only when the message reaches the register.
 */
bool msi_doorbell_is_register(const void *host);

#endif
