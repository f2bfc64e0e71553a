/* SPDX-License-Identifier: MIT */
/* profile_build.c — from captured addresses to functions with inclusive and self counts.
 *
 * Steps: resolve each distinct lookup address once, in address order (inline chains expand
 * into several functions, each marked inlined or not), fold compiler clone names into their base
 * function, rewrite every stack as function indices with inlined marks, merge stacks that became
 * equal, count self (the leaf) and inclusive (once per stack, so recursion never exceeds 100 %),
 * make names unique, sort. Invariant: sum of self_samples == total_samples. */
#include "symbolize/profile_build.h"

#include "core/array.h"
#include "core/hashmap.h"
#include "core/intern.h"
#include "core/sort.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per expanded frame: FR_INLINED when it is inlined into the next frame out, FR_CLONE when
 * its name carried a clone suffix that was folded away. */
enum { FR_INLINED = 1, FR_CLONE = 2 };

struct frames {
    uint32_t *fn;
    uint8_t *flags;
    size_t len, capfn, capflags;
};

static int frames_push(struct frames *a, uint32_t fn, uint8_t flags)
{
    if (ARRAY_GROW(a->fn, a->len, a->capfn) < 0 || ARRAY_GROW(a->flags, a->len, a->capflags) < 0)
        return -1;
    a->fn[a->len] = fn;
    a->flags[a->len++] = flags;
    return 0;
}

/* A resolved lookup address: its frames are addr_funcs[first .. first + count). */
struct addr_span {
    uint32_t first, count;
};

/* Lookup address -> index into the builder's addrs: open addressing, a multiplicative hash
 * and linear probing, at most half full. Every pc of the stacks is looked up here (25,000 at
 * an exit of assimp's tests, 2,000 of them distinct), where the general map (the key's bytes
 * hashed, lengths and bytes compared) took 46 cycles a pc. */
struct addr_slot {
    uint64_t addr;
    uint32_t ai; /* UINT32_MAX: empty */
};

struct addr_table {
    struct addr_slot *slots;
    unsigned bits;
    size_t n;
};

static struct addr_slot *addr_slot_of(struct addr_slot *slots, unsigned bits, uint64_t addr)
{
    size_t mask = ((size_t)1 << bits) - 1;
    for (size_t i = (size_t)((addr * 0x9e3779b97f4a7c15ULL) >> (64 - bits));; i = (i + 1) & mask)
        if (slots[i].ai == UINT32_MAX || slots[i].addr == addr)
            return &slots[i];
}

static int addr_table_grow(struct addr_table *t)
{
    unsigned bits = t->slots ? t->bits + 1 : 12;
    struct addr_slot *v = malloc(((size_t)1 << bits) * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < (size_t)1 << bits; i++)
        v[i].ai = UINT32_MAX;
    for (size_t i = 0; t->slots && i < (size_t)1 << t->bits; i++)
        if (t->slots[i].ai != UINT32_MAX)
            *addr_slot_of(v, bits, t->slots[i].addr) = t->slots[i];
    free(t->slots);
    t->slots = v;
    t->bits = bits;
    return 0;
}

/* *ai: addr's index, ai_if_new when it had none (then returns 1); 0 when it had one; -1
 * when out of memory. */
static int addr_table_intern(struct addr_table *t, uint64_t addr, uint32_t ai_if_new, uint32_t *ai)
{
    if ((!t->slots || 2 * (t->n + 1) > (size_t)1 << t->bits) && addr_table_grow(t) < 0)
        return -1;
    struct addr_slot *s = addr_slot_of(t->slots, t->bits, addr);
    if (s->ai != UINT32_MAX) {
        *ai = s->ai;
        return 0;
    }
    *s = (struct addr_slot){addr, ai_if_new};
    t->n++;
    *ai = ai_if_new;
    return 1;
}

struct builder {
    struct pr_profile *p;
    pb_resolve_fn resolve;
    pb_prepare_fn prepare;
    void *ctx;
    struct addr_table addr_map; /* lookup address -> index into addrs */
    uint32_t *pc_addr;    /* per pc of the raw stacks, in order: index into addrs */
    struct addr_span *addrs;
    size_t naddrs, cap_addrs;
    struct frames addr_funcs;   /* the frames of every resolved address, innermost first */
    struct fn_intern funcs;     /* identity (name, module, defining file) -> function index */
    struct hmap by_ptrs;        /* a frame's string addresses (struct frame_ptrs) -> the
                                   function index << 1 | its clone mark */
    struct stack_intern stacks; /* function index sequence and inlined marks -> stack index */
};

/* The strings that make a function's identity, by address: most frames of an exit come from
 * the symbol cache, whose strings are each kept once, so a function met again is found
 * without folding its name and building its identity key (2,700 instructions a frame on
 * assimp's tests, 0.7 ms of a cached exit). Equal strings elsewhere take the long way. */
struct frame_ptrs {
    const char *name, *module, *path;
};

/* Index of the function with this identity (clone-folded name, module, defining file),
 * added if new; *clone tells whether the name had a clone suffix. */
static long intern_function_by_content(struct builder *b, const struct sym_frame *f, bool *clone)
{
    char *folded = name_fold_clones(f->name);
    const char *name = folded ? folded : f->name;
    *clone = folded != NULL;
    struct pr_profile *p = b->p;
    uint32_t idx;
    int r = fn_intern_add(&b->funcs, &p->functions, &p->nfunctions, name, strlen(name), f->module,
                          f->source_path, &idx);
    free(folded);
    if (r < 0)
        return -1;
    struct pr_function *fn = &p->functions[idx];
    if (r == 0) {
        if (*clone && !fn->raw_name && !(fn->raw_name = strdup(f->name)))
            return -1; /* the first raw name seen, even when the plain name came first */
        return (long)idx;
    }
    fn->raw_name = *clone ? strdup(f->name) : NULL;
    fn->source_file = dup_or_null(f->source_file);
    fn->source_path = dup_or_null(f->source_path);
    fn->module = dup_or_null(f->module);
    fn->line = f->line;
    if (*clone && !fn->raw_name)
        return -1;
    return (long)idx;
}

/* intern_function_by_content, first by the addresses of the frame's strings. */
static long intern_function(struct builder *b, const struct sym_frame *f, bool *clone)
{
    struct frame_ptrs key = {f->name, f->module, f->source_path};
    uint32_t v;
    if (hmap_get(&b->by_ptrs, &key, sizeof key, &v)) {
        *clone = v & 1;
        return (long)(v >> 1);
    }
    long idx = intern_function_by_content(b, f, clone);
    if (idx >= 0 && (uint64_t)idx < UINT32_MAX / 2)
        (void)hmap_intern(&b->by_ptrs, &key, sizeof key, (uint32_t)idx << 1 | (*clone ? 1 : 0),
                          &v); /* (out of memory: the next frame takes the long way too) */
    return idx;
}

/* Resolves addr, the lookup address of b->addrs[ai]: its functions (innermost first) and
 * their flags go to the end of b->addr_funcs. */
static int resolve_address(struct builder *b, uint64_t addr, uint32_t ai)
{
    struct sym_frame frames[SYM_MAX_FRAMES];
    size_t n = b->resolve(b->ctx, addr, frames, SYM_MAX_FRAMES);
    b->addrs[ai] = (struct addr_span){(uint32_t)b->addr_funcs.len, (uint32_t)n};
    for (size_t i = 0; i < n; i++) {
        bool clone;
        long fi = intern_function(b, &frames[i], &clone);
        uint8_t flags = (uint8_t)((frames[i].inlined ? FR_INLINED : 0) | (clone ? FR_CLONE : 0));
        if (fi < 0 || frames_push(&b->addr_funcs, (uint32_t)fi, flags) < 0)
            return -1;
    }
    return 0;
}

/* Appends the functions of lookup address ai (innermost first) with their flags to out. */
static int push_address(struct builder *b, uint32_t ai, struct frames *out)
{
    struct addr_span span = b->addrs[ai];
    for (uint32_t i = 0; i < span.count; i++)
        if (frames_push(out, b->addr_funcs.fn[span.first + i],
                        b->addr_funcs.flags[span.first + i]) < 0)
            return -1;
    return 0;
}

/* Turns one leaf-first expansion into a root-first stack in root/inl (room for leaf->len
 * each): frames that fold into the function of the frame outside them (foo.part.0 called by
 * foo, foo.cold) become one frame when either was a clone; the root is never marked
 * inlined. Returns the root-first depth. */
static size_t to_root_first(const struct frames *leaf, uint32_t *root, uint8_t *inl)
{
    size_t len = 0;
    uint8_t prev_flags = 0;
    for (size_t k = leaf->len; k-- > 0;) {
        uint32_t f = leaf->fn[k];
        uint8_t flags = leaf->flags[k];
        if (len > 0 && root[len - 1] == f && ((flags | prev_flags) & FR_CLONE)) {
            prev_flags = flags;
            continue;
        }
        inl[len] = len > 0 && (flags & FR_INLINED) ? 1 : 0;
        root[len++] = f;
        prev_flags = flags;
    }
    return len;
}

/* A distinct lookup address, and its index in b->addrs (the address first: the sort key). */
struct pending {
    uint64_t addr, ai;
};

/* Gives every pc of the stacks, in their order, the index of its lookup address in b->addrs
 * (b->pc_addr; UINT32_MAX for a zero pc), then resolves every distinct address once, in
 * address order: the addresses of one function, one compilation unit and one module then
 * come one after another, so the debug information each needs is still in the caches (in
 * the order the stacks met them, on assimp's tests: first runs 90 ms at exit, cached runs
 * 35.6 ms; in address order 71.5 and 32.9, ABBA). */
static int resolve_all(struct builder *b, const struct pb_raw_stack *raw, size_t nraw)
{
    size_t total = 0;
    for (size_t i = 0; i < nraw; i++)
        total += raw[i].depth;
    if (!(b->pc_addr = malloc((total ? total : 1) * sizeof *b->pc_addr)))
        return -1;
    struct pending *pend = NULL;
    size_t npend = 0, cap = 0, k = 0;
    int rc = 0;
    for (size_t i = 0; i < nraw && rc == 0; i++) {
        for (uint32_t d = 0; d < raw[i].depth; d++) {
            uint64_t pc = raw[i].pcs[d];
            if ((pc & ~PB_EXACT_PC) == 0) {
                b->pc_addr[k++] = UINT32_MAX;
                continue;
            }
            uint64_t addr = (pc & PB_EXACT_PC) ? (pc & ~PB_EXACT_PC) : pc - 1;
            uint32_t ai;
            int r = addr_table_intern(&b->addr_map, addr, (uint32_t)b->naddrs, &ai);
            if (r == 1 && (ARRAY_GROW(b->addrs, b->naddrs, b->cap_addrs) < 0 ||
                           ARRAY_GROW(pend, npend, cap) < 0))
                r = -1;
            if (r < 0) {
                rc = -1;
                break;
            }
            if (r == 1) {
                b->addrs[b->naddrs++] = (struct addr_span){0, 0};
                pend[npend++] = (struct pending){addr, ai};
            }
            b->pc_addr[k++] = ai;
        }
    }
    _Static_assert(offsetof(struct pending, addr) == 0, "the key first");
    if (rc == 0 && sort_by_u64_key(pend, npend, sizeof *pend) < 0)
        array_sort(pend, npend, sizeof *pend, u64_key_cmp);
    uint64_t *sorted = rc == 0 && b->prepare ? malloc((npend ? npend : 1) * sizeof *sorted) : NULL;
    if (sorted) { /* (without it, the resolver works as asked) */
        for (size_t j = 0; j < npend; j++)
            sorted[j] = pend[j].addr;
        b->prepare(b->ctx, sorted, npend);
        free(sorted);
    }
    for (size_t j = 0; j < npend && rc == 0; j++)
        rc = resolve_address(b, pend[j].addr, (uint32_t)pend[j].ai);
    free(pend);
    return rc;
}

static int build_stacks(struct builder *b, const struct pb_raw_stack *raw, size_t nraw,
                        uint32_t *stack_of)
{
    if (resolve_all(b, raw, nraw) < 0)
        return -1;
    struct frames leaf_first = {0};
    uint32_t *root = NULL;
    uint8_t *inl = NULL;
    size_t cap = 0;
    int rc = 0;
    size_t k = 0; /* the pc's index in b->pc_addr */
    for (size_t i = 0; i < nraw && rc == 0; i++) {
        leaf_first.len = 0;
        for (uint32_t d = 0; d < raw[i].depth && rc == 0; d++, k++)
            if (b->pc_addr[k] != UINT32_MAX)
                rc = push_address(b, b->pc_addr[k], &leaf_first);
        if (rc == 0 && leaf_first.len == 0) {
            struct sym_frame empty = {PB_EMPTY_STACK_NAME, NULL, NULL, NULL, -1, false};
            bool clone;
            long fi = intern_function(b, &empty, &clone);
            rc = fi < 0 ? -1 : frames_push(&leaf_first, (uint32_t)fi, 0);
        }
        if (rc != 0)
            break;
        size_t depth = leaf_first.len;
        if (depth > cap) {
            size_t ncap = depth * 2;
            uint8_t *ni = realloc(inl, ncap);
            uint32_t *nr = ni ? realloc(root, ncap * sizeof *root) : NULL;
            if (ni)
                inl = ni;
            if (nr)
                root = nr;
            if (!ni || !nr) {
                rc = -1;
                break;
            }
            cap = ncap;
        }
        depth = to_root_first(&leaf_first, root, inl);
        uint32_t si = 0;
        rc = stack_intern_add(&b->stacks, &b->p->stacks, &b->p->nstacks, root, inl, (uint32_t)depth,
                              raw[i].count, 0, &si);
        if (stack_of)
            stack_of[i] = si;
    }
    free(leaf_first.fn);
    free(leaf_first.flags);
    free(root);
    free(inl);
    return rc;
}

/* Inclusive counts once per stack (stamp = last stack that counted the function). */
static int count_samples(struct pr_profile *p)
{
    size_t *stamp = malloc((p->nfunctions ? p->nfunctions : 1) * sizeof *stamp);
    if (!stamp)
        return -1;
    for (size_t f = 0; f < p->nfunctions; f++)
        stamp[f] = SIZE_MAX;
    p->total_samples = 0;
    for (size_t s = 0; s < p->nstacks; s++) {
        const struct pr_stack *st = &p->stacks[s];
        p->total_samples += st->count;
        p->functions[st->frames[st->depth - 1]].self_samples += st->count;
        for (uint32_t d = 0; d < st->depth; d++) {
            uint32_t f = st->frames[d];
            if (stamp[f] != s) {
                stamp[f] = s;
                p->functions[f].samples += st->count;
            }
        }
    }
    free(stamp);
    return 0;
}

/* A function's name by its hash, for finding the names that functions share. */
struct name_ref {
    uint64_t hash, i;
};

static int by_name(const void *a, const void *b, void *ctx)
{
    const struct pr_function *f = ctx;
    return strcmp(f[((const struct name_ref *)a)->i].name, f[((const struct name_ref *)b)->i].name);
}

/* Marks in dup every function whose name another function has too: the names' hashes are
 * sorted, and only names of equal hashes compared (a hash table of the names copied each,
 * twice: 0.6 ms of a cached exit on assimp's tests). -1 when out of memory. */
static int mark_shared_names(const struct pr_profile *p, bool *dup)
{
    size_t n = p->nfunctions;
    struct name_ref *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++)
        v[i] = (struct name_ref){hash_fast(p->functions[i].name, strlen(p->functions[i].name)), i};
    _Static_assert(offsetof(struct name_ref, hash) == 0, "the key first");
    if (sort_by_u64_key(v, n, sizeof *v) < 0)
        array_sort(v, n, sizeof *v, u64_key_cmp);
    for (size_t a = 0; a < n;) {
        size_t e = a + 1;
        while (e < n && v[e].hash == v[a].hash)
            e++;
        if (e - a > 1) { /* the same hash: equal names end up side by side */
            array_sort_r(v + a, e - a, sizeof *v, by_name, p->functions);
            for (size_t k = a + 1; k < e; k++)
                if (strcmp(p->functions[v[k].i].name, p->functions[v[k - 1].i].name) == 0)
                    dup[v[k].i] = dup[v[k - 1].i] = true;
        }
        a = e;
    }
    free(v);
    return 0;
}

/* Gives functions that share a name distinct names: "name [module:file]", then "#k". */
static int make_names_unique(struct pr_profile *p)
{
    for (int pass = 0; pass < 2; pass++) {
        bool *dup = calloc(p->nfunctions ? p->nfunctions : 1, sizeof *dup);
        int rc = dup && mark_shared_names(p, dup) == 0 ? 0 : -1;
        for (size_t i = 0; i < p->nfunctions && rc == 0; i++) {
            if (!dup[i])
                continue;
            struct pr_function *f = &p->functions[i];
            size_t len = strlen(f->name) + 64 + (f->module ? strlen(f->module) : 0) +
                         (f->source_file ? strlen(f->source_file) : 0);
            char *name = malloc(len);
            if (!name) {
                rc = -1;
                break;
            }
            if (pass == 0)
                snprintf(name, len, "%s [%s:%s]", f->name, f->module ? f->module : "?",
                         f->source_file ? f->source_file : "?");
            else
                snprintf(name, len, "%s #%zu", f->name, i);
            free(f->name);
            f->name = name;
        }
        free(dup);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int profile_build(struct pr_profile *p, const struct pb_raw_stack *stacks, size_t nstacks,
                  pb_resolve_fn resolve, void *ctx, char *err, size_t errlen)
{
    return profile_build_map(p, stacks, nstacks, resolve, NULL, ctx, NULL, err, errlen);
}

int profile_build_map(struct pr_profile *p, const struct pb_raw_stack *stacks, size_t nstacks,
                      pb_resolve_fn resolve, pb_prepare_fn prepare, void *ctx, uint32_t *stack_of,
                      char *err, size_t errlen)
{
    struct builder b;
    memset(&b, 0, sizeof b);
    b.p = p;
    b.resolve = resolve;
    b.prepare = prepare;
    b.ctx = ctx;
    fn_intern_init(&b.funcs, FN_BY_IDENTITY);
    hmap_init(&b.by_ptrs);
    stack_intern_init(&b.stacks, STACK_BY_INLINED);
    p->has_stacks = true;

    int rc = build_stacks(&b, stacks, nstacks, stack_of);
    if (rc == 0)
        rc = count_samples(p);
    if (rc == 0)
        rc = make_names_unique(p);
    if (rc == 0)
        rc = profile_sort(p);
    if (rc == 0) {
        uint64_t self = 0;
        for (size_t f = 0; f < p->nfunctions; f++)
            self += p->functions[f].self_samples;
        assert(self == p->total_samples); /* the invariant above */
        (void)self;
        profile_compute_percentages(p);
    } else {
        snprintf(err, errlen, "out of memory while building the profile");
    }

    free(b.addr_map.slots);
    fn_intern_free(&b.funcs);
    hmap_free(&b.by_ptrs);
    stack_intern_free(&b.stacks);
    free(b.addrs);
    free(b.pc_addr);
    free(b.addr_funcs.fn);
    free(b.addr_funcs.flags);
    return rc;
}
