/* SPDX-License-Identifier: MIT */
/* dlsym_alloc.c — a dlsym that allocates, as older glibc's did (its error buffers) and as a
 * sanitizer or another preload may: preloaded after libprofreg.so, it makes profreg's lookup of
 * the real allocator allocate while that lookup is under way, so that the bootstrap arena
 * serves those allocations (check_memory). Each call allocates, grows and frees a little; the
 * real dlsym does the lookup (from this library, which RTLD_NEXT then counts from: libc comes
 * after it as after libprofreg.so). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef void *(*dlsym_fn)(void *, const char *);

__attribute__((visibility("default"))) void *dlsym(void *handle, const char *name)
{
    static dlsym_fn real;
    if (!real)
        real = (dlsym_fn)dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    char *p = calloc(1, 64);
    if (p) {
        strcpy(p, "lookup");
        p = realloc(p, 256);
    }
    void *q = malloc(32);
    free(q);
    free(p);
    return real ? real(handle, name) : NULL;
}
