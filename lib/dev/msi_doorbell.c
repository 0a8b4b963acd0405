// SPDX-License-Identifier: MIT
/*
 * msi_doorbell.c - doorbell pages that turn device message writes into
 * eventfd signals (msi_doorbell.h has the model).
 *
 * What it owns: each doorbell's page (an anonymous mapping of one host
 * page, so it can be pinned and mapped for DMA like program memory), its
 * event table (event ID -> eventfd, per-event counters) and its place on
 * the process-wide list.
 *
 * Invariants: a doorbell is on the list from create to destroy; its page
 * is never written by this code (a message is not stored), so what a
 * program reads there is what it put there.
 *
 * Locks: doorbells_lock (rwlock) guards the list and every doorbell's
 * event table: message writes and the setters take it for reading or
 * writing; the counters are atomics, as several message writers may hold
 * the read lock at once. The eventfd write happens under the read lock so
 * that destroy (write lock) cannot return while a write to one of its
 * eventfds is still on its way. Message writes come from device models
 * holding their own locks: the order is device lock, then doorbells_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "dev/msi_doorbell.h"
#include "util/alloc.h"
#include "util/list.h"

#define MSI_DOORBELL_MAX_EVENTS 4096u

struct msi_event {
	int fd;
	uint64_t count; /* atomic */
};

struct msi_doorbell {
	struct list_head node;
	uint8_t *page;
	size_t size;
	unsigned int nr_events;
	struct msi_event *events;
	uint64_t signalled, unrouted, stray; /* atomics */
};

static pthread_rwlock_t doorbells_lock = PTHREAD_RWLOCK_INITIALIZER;
static LIST_HEAD(doorbells);

size_t msi_doorbell_page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

struct msi_doorbell *msi_doorbell_create(unsigned int nr_events, int *err)
{
	struct msi_doorbell *db;
	void *page;

	if (!nr_events || nr_events > MSI_DOORBELL_MAX_EVENTS) {
		*err = -EINVAL;
		return NULL;
	}
	db = uzalloc(sizeof(*db));
	if (!db)
		goto nomem;
	db->events = ucalloc(nr_events, sizeof(*db->events));
	if (!db->events)
		goto nomem;
	db->size = msi_doorbell_page_size();
	page = ualloc_should_fail() ? MAP_FAILED
				    : mmap(NULL, db->size, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		goto nomem;
	db->page = page;
	db->nr_events = nr_events;
	for (unsigned int i = 0; i < nr_events; i++)
		db->events[i].fd = -1;
	pthread_rwlock_wrlock(&doorbells_lock);
	list_add_tail(&db->node, &doorbells);
	pthread_rwlock_unlock(&doorbells_lock);
	*err = 0;
	return db;

nomem:
	if (db)
		ufree(db->events);
	ufree(db);
	*err = -ENOMEM;
	return NULL;
}

void msi_doorbell_destroy(struct msi_doorbell *db)
{
	if (!db)
		return;
	pthread_rwlock_wrlock(&doorbells_lock);
	list_del(&db->node);
	pthread_rwlock_unlock(&doorbells_lock);
	munmap(db->page, db->size);
	ufree(db->events);
	ufree(db);
}

void *msi_doorbell_page(const struct msi_doorbell *db)
{
	return db->page;
}

int msi_doorbell_set_eventfd(struct msi_doorbell *db, uint32_t event, int fd)
{
	if (event >= db->nr_events)
		return -EINVAL;
	pthread_rwlock_wrlock(&doorbells_lock);
	db->events[event].fd = fd < 0 ? -1 : fd;
	pthread_rwlock_unlock(&doorbells_lock);
	return 0;
}

void msi_doorbell_stats(const struct msi_doorbell *db, struct msi_doorbell_stats *st)
{
	st->signalled = __atomic_load_n(&db->signalled, __ATOMIC_RELAXED);
	st->unrouted = __atomic_load_n(&db->unrouted, __ATOMIC_RELAXED);
	st->stray = __atomic_load_n(&db->stray, __ATOMIC_RELAXED);
}

uint64_t msi_doorbell_event_count(const struct msi_doorbell *db, uint32_t event)
{
	if (event >= db->nr_events)
		return 0;
	return __atomic_load_n(&db->events[event].count, __ATOMIC_RELAXED);
}

/* Under doorbells_lock (read). */
static void doorbell_message(struct msi_doorbell *db, uint32_t event)
{
	static const uint64_t one = 1;
	struct msi_event *ev;

	if (event >= db->nr_events) {
		__atomic_fetch_add(&db->unrouted, 1, __ATOMIC_RELAXED);
		return;
	}
	ev = &db->events[event];
	__atomic_fetch_add(&ev->count, 1, __ATOMIC_RELAXED);
	/* A full counter (EAGAIN) still leaves the eventfd readable: signalled. */
	if (ev->fd < 0 || (write(ev->fd, &one, sizeof(one)) < 0 && errno != EAGAIN)) {
		__atomic_fetch_add(&db->unrouted, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&db->signalled, 1, __ATOMIC_RELAXED);
}

bool msi_doorbell_write(void *host, unsigned int len, uint32_t data)
{
	uintptr_t a = (uintptr_t)host;
	struct msi_doorbell *db;
	bool ours = false;

	pthread_rwlock_rdlock(&doorbells_lock);
	list_for_each_entry(db, &doorbells, node)
	{
		uintptr_t base = (uintptr_t)db->page;

		if (a < base || a - base >= db->size)
			continue;
		ours = true;
		if (a - base == MSI_DOORBELL_TRANSLATER && len == 4)
			doorbell_message(db, data);
		else
			__atomic_fetch_add(&db->stray, 1, __ATOMIC_RELAXED);
		break;
	}
	pthread_rwlock_unlock(&doorbells_lock);
	return ours;
}

bool msi_doorbell_is_register(const void *host)
{
	uintptr_t a = (uintptr_t)host;
	struct msi_doorbell *db;
	bool hit = false;

	pthread_rwlock_rdlock(&doorbells_lock);
	list_for_each_entry(db, &doorbells, node)
	{
		if (a == (uintptr_t)db->page + MSI_DOORBELL_TRANSLATER) {
			hit = true;
			break;
		}
	}
	pthread_rwlock_unlock(&doorbells_lock);
	return hit;
}
