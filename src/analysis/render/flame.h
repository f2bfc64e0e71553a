/* SPDX-License-Identifier: MIT */
/* flame.h — the call tree behind flame graphs: every distinct path of function names from
 * the root, with the weighted samples in it (total) and ending in it (self). Built from a
 * profile's stacks; children ordered by name, as FlameGraph orders them, so that the same
 * data always gives the same picture. Pure: no I/O. */
#ifndef PROFREG_FLAME_H
#define PROFREG_FLAME_H

#include "core/hashmap.h"
#include "core/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAME_NONE UINT32_MAX

struct flame_node {
    const char *name;      /* points into the profile's functions (the root: "all") */
    uint32_t function;     /* index into the profile's functions; FLAME_NONE for the root */
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

/* The tree cut for storage: the nodes whose total is at least min_total (a connected top of
 * the tree, as a node's total is at least its children's), in preorder (children by name),
 * and under each node whose children were partly cut one node standing for them (node
 * FLAME_NONE, self = their summed totals), first among its siblings, so every kept node keeps
 * its total. up[i]: how many places before i its parent is (0: a root); the tree's own root
 * ("all") is not listed. */
struct flame_cut {
    size_t n;
    uint32_t *node; /* index into the tree, or FLAME_NONE for the node of cut children */
    uint32_t *up;
    uint64_t *self;
    uint64_t cut_samples; /* the samples in the FLAME_NONE nodes */
};

/* Cuts t at min_total (at least 1: empty nodes always go). 0, or -1 when out of memory. */
int flame_cut(const struct flame_tree *t, uint64_t min_total, struct flame_cut *out);
void flame_cut_free(struct flame_cut *c);

#endif
