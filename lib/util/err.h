/* SPDX-License-Identifier: MIT */
/*
 * Error pointers, as in the kernel: a function returning a pointer can
 * return a negative errno folded into the top 4095 values of the address
 * space instead. Used by the iommufd object layer so its code reads like
 * the kernel's (iommufd_get_ioas() returns an IOAS or ERR_PTR(-ENOENT)).
 */
#ifndef UIOMMU_UTIL_ERR_H
#define UIOMMU_UTIL_ERR_H

#include <stdbool.h>
#include <stdint.h>

#define MAX_ERRNO 4095

static inline void *ERR_PTR(long error)
{
	return (void *)(intptr_t)error;
}

static inline long PTR_ERR(const void *ptr)
{
	return (long)(intptr_t)ptr;
}

static inline bool IS_ERR(const void *ptr)
{
	return (uintptr_t)ptr >= (uintptr_t)-MAX_ERRNO;
}

static inline bool IS_ERR_OR_NULL(const void *ptr)
{
	return !ptr || IS_ERR(ptr);
}

/* The same error pointer, retyped. */
static inline void *ERR_CAST(const void *ptr)
{
	return (void *)(uintptr_t)ptr;
}

#endif
