/* SPDX-License-Identifier: MIT */
/*
 * Intrusive circular doubly linked lists with the kernel's names
 * (list_head, list_add_tail, list_for_each_entry ...), so code that keeps
 * the kernel's structure (iommufd's hwpt_list, access lists) reads the same.
 * Not locked: the owner of the list serialises.
 */
#ifndef UIOMMU_UTIL_LIST_H
#define UIOMMU_UTIL_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "util/bits.h"

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)     \
	{                        \
		&(name), &(name) \
	}
#define LIST_HEAD(name) struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline void list_insert_between(struct list_head *entry, struct list_head *prev,
				       struct list_head *next)
{
	next->prev = entry;
	entry->next = next;
	entry->prev = prev;
	prev->next = entry;
}

static inline void list_add(struct list_head *entry, struct list_head *head)
{
	list_insert_between(entry, head, head->next);
}

static inline void list_add_tail(struct list_head *entry, struct list_head *head)
{
	list_insert_between(entry, head->prev, head);
}

/* Unlink @entry and point it at itself (so list_empty(entry) is then true). */
static inline void list_del_init(struct list_head *entry)
{
	entry->next->prev = entry->prev;
	entry->prev->next = entry->next;
	INIT_LIST_HEAD(entry);
}

static inline void list_del(struct list_head *entry)
{
	list_del_init(entry);
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

#define list_entry(ptr, type, member)	    container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) list_entry((ptr)->next, type, member)
#define list_first_entry_or_null(ptr, type, member) \
	(list_empty(ptr) ? NULL : list_first_entry(ptr, type, member))
#define list_next_entry(pos, member) list_entry((pos)->member.next, __typeof__(*(pos)), member)

#define list_for_each_entry(pos, head, member)                                                 \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_next_entry(pos, member))

#define list_for_each_entry_safe(pos, n, head, member)                 \
	for (pos = list_entry((head)->next, __typeof__(*pos), member), \
	    n = list_next_entry(pos, member);                          \
	     &pos->member != (head); pos = n, n = list_next_entry(n, member))

#endif
