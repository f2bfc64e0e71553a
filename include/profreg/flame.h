/* flame.h — the call tree behind flame graphs: every distinct path of function names from
 * the root, with the weighted samples in it (total) and ending in it (self). Built from a
 * profile's stacks; children ordered by name, as FlameGraph orders them, so that the same
 * data always gives the same picture. Pure: no I/O. */
#ifndef PROFREG_FLAME_H
#define PROFREG_FLAME_H

#include "profreg/hashmap.h"
#include "profreg/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAME_NONE UINT32_MAX

struct flame_node {
    const char *name;      /* points into the profile's functions (the root: "all") */
    uint32_t parent;       /* FLAME_NONE for the root */
    uint32_t first_child;  /* FLAME_NONE when none; siblings ordered by name */
    uint32_t next_sibling; /* FLAME_NONE when last */
    uint32_t depth;        /* root 0 */
    double total;          /* samples in this node and below */
    double self;           /* samples ending here */
};

struct flame_tree {
    struct flame_node *nodes; /* nodes[0] is the root */
    size_t n, cap;
    struct hmap children; /* (parent index, name) -> node index */
    uint32_t max_depth;
};

/* Builds the tree of p's stacks. reverse: innermost frame first (a "self" or bottom-up
 * flame graph: roots are where the samples were taken, above them their callers). The tree
 * points into p, which must outlive it. 0, or -1 when out of memory (t is then empty). */
int flame_build(const struct pr_profile *p, bool reverse, struct flame_tree *t);

void flame_free(struct flame_tree *t);

/* The child of `parent` named `name`, or FLAME_NONE. */
uint32_t flame_child(const struct flame_tree *t, uint32_t parent, const char *name);

/* The node of t at the same path of names as node `i` of `other`, or FLAME_NONE. */
uint32_t flame_same_path(const struct flame_tree *t, const struct flame_tree *other, uint32_t i);

#endif
