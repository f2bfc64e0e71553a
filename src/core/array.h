/* SPDX-License-Identifier: MIT */
/* array.h — growing a malloc'd array by doubling, the one way profreg does it; sorting one
 * that may be empty (with a context: array_sort_r).
 *
 *     if (ARRAY_GROW(items, n, cap) < 0) return -1;   // room for items[n]
 *     items[n++] = x;
 *
 * Not for the signal handler (it allocates). */
#ifndef PROFREG_ARRAY_H
#define PROFREG_ARRAY_H

#include <stdlib.h>
#include <string.h>

/* Makes room for element index len in *(T **)arrp of capacity *cap. 0, or -1 with the array
 * unchanged when out of memory. */
static inline int array_grow(void *arrp, size_t *cap, size_t len, size_t elem)
{
    if (len < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    while (ncap <= len)
        ncap *= 2;
    void *old;
    memcpy(&old, arrp, sizeof old);
    void *p = realloc(old, ncap * elem);
    if (!p)
        return -1;
    memcpy(arrp, &p, sizeof p);
    *cap = ncap;
    return 0;
}

#define ARRAY_GROW(arr, len, cap) array_grow(&(arr), &(cap), (len), sizeof *(arr))

/* qsort for arrays that may be empty and then NULL: qsort's base must never be NULL (glibc
 * declares it nonnull, so the compiler may drop later NULL checks, and UBSan reports it). */
static inline void array_sort(void *base, size_t n, size_t elem,
                              int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(base, n, elem, cmp);
}

/* The same with qsort_r: cmp gets ctx as its third argument (no global for the comparison's
 * context). */
static inline void array_sort_r(void *base, size_t n, size_t elem,
                                int (*cmp)(const void *, const void *, void *), void *ctx)
{
    if (n > 1)
        qsort_r(base, n, elem, cmp, ctx);
}

#endif
