/* SPDX-License-Identifier: MIT */
/* flame.c — see flame.h. */
#include "analysis/render/flame.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/array.h"

void flame_free(struct flame_tree *t)
{
    free(t->nodes);
    hmap_free(&t->children);
    memset(t, 0, sizeof *t);
}

/* The key of a child: its parent's index, then its name. */
static char *child_key(uint32_t parent, const char *name, size_t *len, char *buf, size_t buflen)
{
    size_t nl = strlen(name);
    *len = sizeof parent + nl;
    char *k = *len <= buflen ? buf : malloc(*len);
    if (!k)
        return NULL;
    memcpy(k, &parent, sizeof parent);
    memcpy(k + sizeof parent, name, nl);
    return k;
}

uint32_t flame_child(const struct flame_tree *t, uint32_t parent, const char *name)
{
    char buf[512];
    size_t len;
    char *k = child_key(parent, name, &len, buf, sizeof buf);
    uint32_t v = FLAME_NONE;
    if (k && !hmap_get(&t->children, k, len, &v))
        v = FLAME_NONE;
    if (k != buf)
        free(k);
    return v;
}

/* The child of parent named name (function f), created when missing. FLAME_NONE when out of
 * memory. */
static uint32_t child_of(struct flame_tree *t, uint32_t parent, const char *name, uint32_t f)
{
    char buf[512];
    size_t len;
    char *k = child_key(parent, name, &len, buf, sizeof buf);
    if (!k)
        return FLAME_NONE;
    uint32_t v;
    int ins = hmap_intern(&t->children, k, len, (uint32_t)t->n, &v);
    if (k != buf)
        free(k);
    if (ins < 0)
        return FLAME_NONE;
    if (ins == 1) {
        if (ARRAY_GROW(t->nodes, t->n, t->cap) < 0)
            return FLAME_NONE;
        struct flame_node *c = &t->nodes[t->n++];
        memset(c, 0, sizeof *c);
        c->name = name;
        c->function = f;
        c->parent = parent;
        c->first_child = c->next_sibling = FLAME_NONE;
        c->depth = t->nodes[parent].depth + 1;
        if (c->depth > t->max_depth)
            t->max_depth = c->depth;
    }
    return v;
}

static int cmp_child(const void *a, const void *b, void *ctx)
{
    const struct flame_tree *t = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return strcmp(t->nodes[x].name, t->nodes[y].name);
}

/* Links every node into its parent's child list, ordered by name. */
static int link_children(struct flame_tree *t)
{
    uint32_t *order = malloc((t->n ? t->n : 1) * sizeof *order);
    if (!order)
        return -1;
    size_t k = 0;
    for (size_t i = 1; i < t->n; i++)
        order[k++] = (uint32_t)i;
    array_sort_r(order, k, sizeof *order, cmp_child, t);
    /* walking names in reverse and pushing to the front leaves each list in name order */
    for (size_t j = k; j-- > 0;) {
        struct flame_node *c = &t->nodes[order[j]];
        c->next_sibling = t->nodes[c->parent].first_child;
        t->nodes[c->parent].first_child = order[j];
    }
    free(order);
    return 0;
}

int flame_build(const struct pr_profile *p, bool reverse, struct flame_tree *t)
{
    memset(t, 0, sizeof *t);
    hmap_init(&t->children);
    if (ARRAY_GROW(t->nodes, t->n, t->cap) < 0)
        return -1;
    struct flame_node *root = &t->nodes[t->n++];
    memset(root, 0, sizeof *root);
    root->name = "all";
    root->function = FLAME_NONE;
    root->parent = root->first_child = root->next_sibling = FLAME_NONE;
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct pr_stack *st = &p->stacks[s];
        double count = (double)st->count;
        uint32_t at = 0;
        t->nodes[0].total += count;
        for (uint32_t d = 0; d < st->depth; d++) {
            uint32_t f = st->frames[reverse ? st->depth - 1 - d : d];
            if (f >= p->nfunctions)
                continue;
            at = child_of(t, at, p->functions[f].name, f);
            if (at == FLAME_NONE) {
                flame_free(t);
                return -1;
            }
            t->nodes[at].total += count;
        }
        t->nodes[at].self += count;
    }
    if (link_children(t) != 0) {
        flame_free(t);
        return -1;
    }
    return 0;
}

uint32_t flame_same_path(const struct flame_tree *t, const struct flame_tree *other, uint32_t i)
{
    if (i == 0)
        return 0;
    uint32_t parent = flame_same_path(t, other, other->nodes[i].parent);
    return parent == FLAME_NONE ? FLAME_NONE : flame_child(t, parent, other->nodes[i].name);
}

/* ---- cutting for storage ------------------------------------------------------------------ */

static uint64_t total_of(const struct flame_tree *t, uint32_t i)
{
    return (uint64_t)t->nodes[i].total;
}

/* Appends node (FLAME_NONE: cut children) under the node listed at parent_pos (SIZE_MAX: a
 * root). */
static size_t cut_append(struct flame_cut *c, uint32_t node, size_t parent_pos, uint64_t self)
{
    size_t pos = c->n++;
    c->node[pos] = node;
    c->up[pos] = parent_pos == SIZE_MAX ? 0 : (uint32_t)(pos - parent_pos);
    c->self[pos] = self;
    return pos;
}

/* Lists the children of tree node `node` (listed at pos) that stay, preceded by one node for
 * those cut. A lone light leaf stays: the node standing for it would take as many bytes.
 * Recursion depth is the tree's depth (a stack's frames). */
static void cut_children(const struct flame_tree *t, const uint32_t *size, uint64_t min,
                         struct flame_cut *c, uint32_t node, size_t pos)
{
    uint64_t cut = 0;
    size_t cut_nodes = 0;
    for (uint32_t k = t->nodes[node].first_child; k != FLAME_NONE; k = t->nodes[k].next_sibling)
        if (total_of(t, k) < min) {
            cut += total_of(t, k);
            cut_nodes += size[k];
        }
    uint64_t keep_below = cut_nodes > 1 ? min : 1;
    if (cut_nodes > 1) {
        cut_append(c, FLAME_NONE, pos, cut);
        c->cut_samples += cut;
    }
    for (uint32_t k = t->nodes[node].first_child; k != FLAME_NONE; k = t->nodes[k].next_sibling)
        if (total_of(t, k) >= keep_below)
            cut_children(t, size, min, c, k, cut_append(c, k, pos, (uint64_t)t->nodes[k].self));
}

int flame_cut(const struct flame_tree *t, uint64_t min_total, struct flame_cut *out)
{
    memset(out, 0, sizeof *out);
    /* each kept node, at most one node of cut children under it, and one among the roots */
    size_t cap = 2 * t->n + 1;
    out->node = malloc(cap * sizeof *out->node);
    out->up = malloc(cap * sizeof *out->up);
    out->self = malloc(cap * sizeof *out->self);
    uint32_t *size = malloc((t->n ? t->n : 1) * sizeof *size);
    if (!out->node || !out->up || !out->self || !size) {
        free(size);
        flame_cut_free(out);
        return -1;
    }
    /* nodes in each subtree: a node is created after its parent */
    for (size_t i = 0; i < t->n; i++)
        size[i] = 1;
    for (size_t i = t->n; i-- > 1;)
        size[t->nodes[i].parent] += size[i];
    if (t->n)
        cut_children(t, size, min_total ? min_total : 1, out, 0, SIZE_MAX);
    free(size);
    return 0;
}

void flame_cut_free(struct flame_cut *c)
{
    free(c->node);
    free(c->up);
    free(c->self);
    memset(c, 0, sizeof *c);
}
