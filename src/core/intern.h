/* SPDX-License-Identifier: MIT */
/* intern.h — interning functions and stacks into the tables being built, one way for every
 * builder (profile_build.c, profile.c's merge, export.c's folded reader, average.c).
 *
 * A function is known by its identity: its name alone, or (FN_BY_IDENTITY, the profile
 * builder's) its name, module and defining file; a stack by its frame index sequence, root
 * first, and its region (stacks of different regions stay apart), and with STACK_BY_INLINED
 * its inlined marks too. Each table maps the key to the
 * caller's array index; the arrays stay the caller's. Not for the signal handler (it
 * allocates). */
#ifndef PROFREG_INTERN_H
#define PROFREG_INTERN_H

#include "core/hashmap.h"
#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* strdup, or NULL for NULL (and when out of memory). */
char *dup_or_null(const char *s);

enum fn_key { FN_BY_NAME, FN_BY_IDENTITY };

struct fn_intern {
    struct hmap map; /* key -> index into the caller's functions */
    enum fn_key by;
    size_t cap; /* capacity of the pr_function array fn_intern_add grows */
};

void fn_intern_init(struct fn_intern *t, enum fn_key by);
void fn_intern_free(struct fn_intern *t);

/* The index of the function (name[0..len), module, defining file; the last two only with
 * FN_BY_IDENTITY, NULL for none) when known: 0 and *idx; else it is recorded as index
 * `next` (the caller appends it there): 1 and *idx = next. -1 when out of memory. */
int fn_intern(struct fn_intern *t, const char *name, size_t len, const char *module,
              const char *path, uint32_t next, uint32_t *idx);

/* Records the functions fs[0..n) (a table that exists already); a repeated key keeps the
 * first index. 0, or -1 when out of memory. */
int fn_intern_seed(struct fn_intern *t, const struct pr_function *fs, size_t n);

/* fn_intern into the array *fs of *n functions: a new function is appended zeroed, with
 * its name copied, line -1 and has_self (the caller fills in the rest). 1 new, 0 known, -1
 * when out of memory. */
int fn_intern_add(struct fn_intern *t, struct pr_function **fs, size_t *n, const char *name,
                  size_t len, const char *module, const char *path, uint32_t *idx);

enum stack_key { STACK_BY_FRAMES, STACK_BY_INLINED };

struct stack_intern {
    struct hmap map; /* key -> index into the caller's stacks */
    enum stack_key by;
    size_t cap;              /* capacity of the pr_stack array */
    uint8_t *key;            /* scratch: the key of one stack */
    uint32_t *frames;        /* scratch: stack_intern_frames */
    size_t keycap, framecap; /* in bytes; in frames */
};

void stack_intern_init(struct stack_intern *t, enum stack_key by);
void stack_intern_free(struct stack_intern *t);

/* A buffer of room for depth frames (at least 1) owned by t, for the caller to assemble a
 * stack in before stack_intern_add; valid until the next call. NULL when out of memory. */
uint32_t *stack_intern_frames(struct stack_intern *t, uint32_t depth);

/* Records the stacks ss[0..n) (a table that exists already); a repeated key keeps the first
 * index. 0, or -1 when out of memory. */
int stack_intern_seed(struct stack_intern *t, const struct pr_stack *ss, size_t n);

/* Adds count to the stack frames[0..depth) (inlined marks inl, NULL when none; region as
 * pr_stack.region) in the array *ss of *n stacks: a known stack's count grows; a new one is appended with copies of the
 * frames and of the marks when any is set. *idx is its index. 0; or -1 when out of memory,
 * or with errno EOVERFLOW (nothing changed) when the count would pass PR_MAX_SAMPLES. */
int stack_intern_add(struct stack_intern *t, struct pr_stack **ss, size_t *n,
                     const uint32_t *frames, const uint8_t *inl, uint32_t depth, uint64_t count,
                     uint32_t region, uint32_t *idx);

#endif
