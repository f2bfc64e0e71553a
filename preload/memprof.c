/* SPDX-License-Identifier: MIT */
/* memprof.c — the malloc family and C++ operator new/delete, interposed; allocations sampled
 * by bytes (PROFREG_MEMORY=1). See memprof.h for the interface and docs/design.md for why.
 *
 * Invariants:
 * - Off (the default, and before start, after stop, in processes not profiled), every
 *   interposer tests one flag and calls the real function; free also tests whether the
 *   pointer is in the bootstrap arena (allocations made while dlsym looked the real
 *   allocator up are served from a static arena and never reach the real free).
 * - On, a thread's fast path is a thread-local countdown of bytes; only the allocation that
 *   crosses zero (on average one per PROFREG_MEMORY_RATE bytes) takes the slow path, which
 *   sets a thread-local guard for its whole duration: allocations made meanwhile (libunwind,
 *   profreg, a signal handler interrupting it) are never sampled, so nothing recurses.
 * - Nothing here takes a lock that an allocation in a signal handler could wait for: the
 *   stack table and the table of sampled blocks are lock-free, the peak snapshot is taken
 *   with a try-lock, and freeing a sampled block is a compare-and-swap.
 * - errno is the real function's: the slow path saves and restores it. */
#include "memprof.h"

#include "intercept.h"
#include "stacktab.h"
#include "unwind.h"

#include "core/memory.h"
#include "symbolize/memory_build.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define TLS         __thread __attribute__((tls_model("initial-exec")))
#define LIKELY(x)   __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* glibc's own entry points: the fallback when dlsym cannot name the next allocator. */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);

/* ---- the real functions --------------------------------------------------------------- */

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef size_t (*usable_fn)(void *);

static struct {
    malloc_fn malloc, valloc, pvalloc;
    free_fn free;
    calloc_fn calloc;
    realloc_fn realloc;
    memalign_fn memalign, aligned_alloc;
    posix_memalign_fn posix_memalign;
    usable_fn usable;
} g_real;

/* C++: std::align_val_t is passed as a size_t, std::nothrow_t const& as a pointer. */
typedef void *(*new_fn)(size_t);
typedef void *(*new_nt_fn)(size_t, const void *);
typedef void *(*new_al_fn)(size_t, size_t);
typedef void *(*new_al_nt_fn)(size_t, size_t, const void *);
typedef void (*del_fn)(void *);
typedef void (*del_sz_fn)(void *, size_t);
typedef void (*del_nt_fn)(void *, const void *);
typedef void (*del_sz_al_fn)(void *, size_t, size_t);
typedef void (*del_al_nt_fn)(void *, size_t, const void *);

enum { NEW_PLAIN, NEW_ARRAY, NEW_KINDS };
static struct {
    new_fn n[NEW_KINDS];
    new_nt_fn nt[NEW_KINDS];
    new_al_fn al[NEW_KINDS];
    new_al_nt_fn al_nt[NEW_KINDS];
    del_fn d[NEW_KINDS];
    del_sz_fn d_sz[NEW_KINDS];
    del_nt_fn d_nt[NEW_KINDS];
    del_sz_fn d_al[NEW_KINDS]; /* (void *, align_val_t) has the (void *, size_t) shape */
    del_sz_al_fn d_sz_al[NEW_KINDS];
    del_al_nt_fn d_al_nt[NEW_KINDS];
    bool via_malloc; /* the next operator new allocates with malloc (libstdc++, libc++) */
} g_cxx;
static _Atomic int g_cxx_resolved;

/* ---- per-thread state (static TLS: no allocation on first access) ----------------------- */

struct tstate {
    uint64_t left;     /* bytes until the next sample; UINT64_MAX while busy */
    uint64_t rng;      /* xorshift64* state */
    uint64_t own_left; /* left, saved while in profreg's own work */
    bool busy;         /* inside profreg's slow path: allocations pass through */
    bool init;         /* left and rng are set */
    bool resolving;    /* looking the real allocator up: allocations go to the arena */
    uint8_t own;       /* nesting of memprof_own_begin */
};
static TLS struct tstate t_mem;

/* ---- the bootstrap arena ----------------------------------------------------------------- */

#define BOOT_BYTES (256 * 1024)
static _Alignas(64) unsigned char g_boot[BOOT_BYTES];
static _Atomic size_t g_boot_used;

static inline bool is_boot(const void *p)
{
    return (uintptr_t)p - (uintptr_t)g_boot < BOOT_BYTES;
}

/* size_t before each block: its size. Blocks are never freed (and already zero). */
static void *boot_alloc(size_t align, size_t n)
{
    if (align < 16)
        align = 16;
    if (n > BOOT_BYTES || (align & (align - 1)))
        return NULL;
    size_t at = atomic_load(&g_boot_used), start;
    do {
        start = (at + sizeof(size_t) + align - 1) & ~(align - 1);
        if (start + n > BOOT_BYTES) {
            errno = ENOMEM;
            return NULL;
        }
    } while (!atomic_compare_exchange_weak(&g_boot_used, &at, start + n));
    memcpy(g_boot + start - sizeof(size_t), &n, sizeof n);
    return g_boot + start;
}

static size_t boot_size(const void *p)
{
    size_t n;
    memcpy(&n, (const unsigned char *)p - sizeof n, sizeof n);
    return n;
}

static void *symbol(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

void memprof_resolve(void)
{
    struct tstate *t = &t_mem;
    if (t->resolving || g_real.free)
        return;
    t->resolving = true;
    int saved = errno;
    /* free first: what dlsym allocates meanwhile comes from the arena and may be freed */
    free_fn f = (free_fn)symbol("free");
    g_real.free = f ? f : __libc_free;
    malloc_fn m = (malloc_fn)symbol("malloc");
    calloc_fn c = (calloc_fn)symbol("calloc");
    realloc_fn r = (realloc_fn)symbol("realloc");
    memalign_fn ma = (memalign_fn)symbol("memalign");
    memalign_fn aa = (memalign_fn)symbol("aligned_alloc");
    posix_memalign_fn pm = (posix_memalign_fn)symbol("posix_memalign");
    malloc_fn va = (malloc_fn)symbol("valloc");
    malloc_fn pv = (malloc_fn)symbol("pvalloc");
    usable_fn us = (usable_fn)symbol("malloc_usable_size");
    g_real.calloc = c ? c : __libc_calloc;
    g_real.realloc = r ? r : __libc_realloc;
    g_real.memalign = ma ? ma : __libc_memalign;
    g_real.aligned_alloc = aa ? aa : __libc_memalign;
    g_real.posix_memalign = pm;
    g_real.valloc = va ? va : __libc_valloc;
    g_real.pvalloc = pv ? pv : __libc_pvalloc;
    g_real.usable = us;
    g_real.malloc = m ? m : __libc_malloc; /* last: the others are set when it is */
    errno = saved;
    t->resolving = false;
}

static inline malloc_fn real_malloc(void)
{
    if (UNLIKELY(!g_real.malloc))
        memprof_resolve();
    return g_real.malloc;
}

/* The real function, or the arena while the lookup is under way on this thread. */
#define REAL_OR_BOOT(boot_expr)                                                                    \
    do {                                                                                           \
        if (UNLIKELY(!g_real.malloc)) {                                                            \
            memprof_resolve();                                                                     \
            if (!g_real.malloc)                                                                    \
                return boot_expr;                                                                  \
        }                                                                                          \
    } while (0)

/* ---- sampling state ---------------------------------------------------------------------- */

#define MAX_DEPTH  128  /* frames kept per sampled allocation (the innermost) */
#define SKIP_DEPTH 8    /* profreg's own frames above them, at most */
#define COUNT_ONE  1024 /* allocations are counted in 1/1024ths (each weighs 1/p) */

/* Per distinct stack (beside the stack table, by slot). */
struct counters {
    _Atomic uint64_t bytes;   /* estimated bytes allocated */
    _Atomic uint64_t count;   /* estimated allocations, in 1/COUNT_ONE */
    _Atomic uint64_t live;    /* estimated bytes live now */
    _Atomic uint64_t peak[2]; /* live at the peak: the current and the candidate snapshot */
    _Atomic uint64_t exit;    /* live when sampling stopped */
};

/* A sampled block, followed until freed. key: its address; EMPTY or TOMB. */
struct live_slot {
    _Atomic uintptr_t key;
    uint32_t slot;
    uint64_t size;
};
#define KEY_EMPTY   ((uintptr_t)0)
#define KEY_TOMB    ((uintptr_t)1)
#define LIVE_BITS   16
#define LIVE_SLOTS  ((size_t)1 << LIVE_BITS)
#define LIVE_PROBES 64
/* A counting filter in front of the table, by page: a free whose page's counter is 0 is not
 * of a sampled block (the common case: one byte read, and frees of neighbouring blocks read
 * the same byte, which stays in the cache). At the default rate a page holds a sampled block
 * about once in 128 pages of heap, so few frees go on to the table. */
#define FILTER_BITS 16
static _Alignas(4096) _Atomic uint8_t g_filter[(size_t)1 << FILTER_BITS];

static _Atomic int g_on;       /* sampling */
static _Atomic bool g_started; /* a section will be written */
static double g_rate;          /* mean bytes between samples */
static struct stacktab *g_tab; /* distinct stacks (frames, sampled allocations) */
static struct counters *g_cnt; /* per slot of g_tab */
static size_t g_cnt_bytes;
static struct live_slot *g_live;
static uintptr_t g_self_lo, g_self_hi; /* libprofreg.so's own code: frames skipped */
static _Atomic uint64_t g_bytes, g_count, g_samples, g_lost, g_untracked;
static _Atomic int64_t g_live_now; /* estimated heap (bytes of tracked sampled blocks) */
static _Atomic uint64_t g_peak;    /* the snapshot's sum */
static _Atomic int g_peak_which;   /* which of counters.peak[] holds the snapshot */
static _Atomic double g_peak_ms;
static atomic_flag g_snap_lock = ATOMIC_FLAG_INIT;
static uint64_t g_exit_total;
static struct timespec g_start;

/* ---- the countdown ----------------------------------------------------------------------- */

static uint64_t next_random(struct tstate *t)
{
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Bytes to the next sample: exponential with mean g_rate, so that each allocation of n bytes
 * is sampled with probability 1 - exp(-n / rate), independently of the others. */
static uint64_t next_interval(struct tstate *t)
{
    double u = ((double)(next_random(t) >> 11) + 1.0) * 0x1.0p-53; /* (0, 1] */
    double x = -log(u) * g_rate;
    if (x < 1)
        return 1;
    return x > 0x1.0p62 ? (uint64_t)1 << 62 : (uint64_t)x;
}

/* The slow half of take_sample: a new thread, a guard, or a sample. */
static __attribute__((noinline)) bool decide(struct tstate *t, size_t n)
{
    if (t->busy || t->own)
        return false;
    if (!t->init) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t->rng = ((uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)ts.tv_nsec << 20) ^
                 (uint64_t)ts.tv_sec ^ (uint64_t)syscall(SYS_gettid) * 0xff51afd7ed558ccdULL;
        if (!t->rng)
            t->rng = 0x853c49e6748fea9bULL;
        t->init = true;
        t->left = next_interval(t);
        if (n < t->left) {
            t->left -= n;
            return false;
        }
    }
    t->left = next_interval(t);
    return n > 0;
}

/* Counts n bytes down; true when this allocation is sampled. Only while g_on. */
static inline bool take_sample(size_t n)
{
    struct tstate *t = &t_mem;
    if (LIKELY(n < t->left)) {
        t->left -= n;
        return false;
    }
    return decide(t, n);
}

static inline bool sampling(void)
{
    return UNLIKELY(atomic_load_explicit(&g_on, memory_order_relaxed));
}

/* ---- the table of sampled blocks --------------------------------------------------------- */

static inline uint64_t ptr_hash(const void *p)
{
    return (uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL;
}

static inline size_t filter_index(const void *p)
{
    return (size_t)((((uint64_t)(uintptr_t)p >> 12) * 0x9E3779B97F4A7C15ULL) >> (64 - FILTER_BITS));
}

static bool live_insert(void *p, uint32_t slot, uint64_t size)
{
    uint64_t h = ptr_hash(p);
    _Atomic uint8_t *f = &g_filter[filter_index(p)];
    if (atomic_fetch_add(f, 1) == UINT8_MAX) {
        atomic_fetch_sub(f, 1);
        return false;
    }
    size_t i = (size_t)(h >> (64 - LIVE_BITS));
    for (int probe = 0; probe < LIVE_PROBES; probe++, i = (i + 1) & (LIVE_SLOTS - 1)) {
        struct live_slot *s = &g_live[i];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if ((k == KEY_EMPTY || k == KEY_TOMB) &&
            atomic_compare_exchange_strong(&s->key, &k, (uintptr_t)p)) {
            s->slot = slot;
            s->size = size;
            return true;
        }
    }
    atomic_fetch_sub(f, 1);
    return false;
}

/* Removes p; true (with its stack slot and size) when it was a sampled block. */
static bool live_remove(const void *p, uint32_t *slot, uint64_t *size)
{
    _Atomic uint8_t *f = &g_filter[filter_index(p)];
    if (LIKELY(atomic_load_explicit(f, memory_order_relaxed) == 0))
        return false;
    uint64_t h = ptr_hash(p);
    size_t i = (size_t)(h >> (64 - LIVE_BITS));
    for (int probe = 0; probe < LIVE_PROBES; probe++, i = (i + 1) & (LIVE_SLOTS - 1)) {
        struct live_slot *s = &g_live[i];
        uintptr_t k = atomic_load_explicit(&s->key, memory_order_acquire);
        if (k == KEY_EMPTY)
            return false;
        if (k != (uintptr_t)p)
            continue;
        *slot = s->slot;
        *size = s->size;
        if (!atomic_compare_exchange_strong(&s->key, &k, KEY_TOMB))
            return false; /* another thread freed it at the same time: a double free */
        atomic_fetch_sub(f, 1);
        return true;
    }
    return false;
}

/* ---- recording ----------------------------------------------------------------------------- */

/* An allocation of n bytes is sampled with probability p = 1 - exp(-n / rate); counting it
 * as n / p bytes and 1 / p allocations makes every sum an unbiased estimate. */
static double sample_probability(uint64_t n)
{
    double p = -expm1(-(double)n / g_rate);
    return p > 0 ? p : 1e-300;
}

static uint64_t bytes_weight(uint64_t n)
{
    double w = (double)n / sample_probability(n);
    return w >= 0x1.0p62 ? (uint64_t)1 << 62 : (uint64_t)llround(w);
}

static double now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - g_start.tv_sec) * 1e3 +
           (double)(now.tv_nsec - g_start.tv_nsec) / 1e6;
}

/* When the estimated heap passes its highest snapshot, every stack's live bytes are copied
 * into the candidate snapshot; it replaces the current one when its sum is higher. With
 * many stacks a copy is taken only once the heap grew by 1/256 more, so that a growing heap
 * does not copy at every sample (the peak is then known to within 0.4 %). */
static void maybe_snapshot(void)
{
    int64_t live = atomic_load_explicit(&g_live_now, memory_order_relaxed);
    uint64_t peak = atomic_load_explicit(&g_peak, memory_order_relaxed);
    if (live <= 0 || (uint64_t)live <= peak)
        return;
    size_t n = stacktab_claimed(g_tab);
    if (n > 256 && (uint64_t)live - peak < peak / 256)
        return;
    if (atomic_flag_test_and_set_explicit(&g_snap_lock, memory_order_acquire))
        return; /* another thread is copying */
    int which = atomic_load(&g_peak_which), cand = 1 - which;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        long slot = stacktab_claimed_slot(g_tab, i);
        if (slot < 0)
            continue; /* its insert is still running: no live bytes yet */
        struct counters *c = &g_cnt[slot];
        uint64_t v = atomic_load_explicit(&c->live, memory_order_relaxed);
        atomic_store_explicit(&c->peak[cand], v, memory_order_relaxed);
        sum += v;
    }
    if (sum > atomic_load(&g_peak)) {
        atomic_store(&g_peak_which, cand);
        atomic_store(&g_peak, sum);
        atomic_store(&g_peak_ms, now_ms());
    }
    atomic_flag_clear_explicit(&g_snap_lock, memory_order_release);
}

/* A fork: the forking thread's allocations in other fork handlers are profreg's work (and
 * unwind.c holds every unwind off meanwhile). */
static void fork_prepare(void)
{
    memprof_own_begin();
}

static void fork_done(void)
{
    memprof_own_end();
}

static bool in_self(uint64_t pc)
{
    return pc >= g_self_lo && pc < g_self_hi;
}

/* A sampled allocation of n bytes at p: its stack, its weights, and p followed until freed. */
static __attribute__((noinline)) void record(void *p, size_t n)
{
    struct tstate *t = &t_mem;
    int saved_errno = errno;
    uint64_t saved_left = t->left;
    t->busy = true;
    t->left = UINT64_MAX;

    uint64_t pcs[MAX_DEPTH + SKIP_DEPTH];
    int depth = unwind_backtrace(pcs, MAX_DEPTH + SKIP_DEPTH);
    int first = 0;
    while (first < depth && first < SKIP_DEPTH && in_self(pcs[first]))
        first++;
    uint32_t kept = (uint32_t)(depth - first);
    if (kept > MAX_DEPTH)
        kept = MAX_DEPTH;

    double prob = sample_probability(n);
    uint64_t wb = bytes_weight(n);
    uint64_t wc = (uint64_t)llround(COUNT_ONE / prob);
    atomic_fetch_add_explicit(&g_bytes, wb, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_count, wc, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_samples, 1, memory_order_relaxed);

    bool added = false;
    long slot = -1;
    if (kept)
        slot = stacktab_insert_slot(g_tab, pcs + first, kept, 1, &added); /* counts its lost */
    else
        atomic_fetch_add_explicit(&g_lost, 1, memory_order_relaxed);
    if (slot < 0) {
        atomic_fetch_add_explicit(&g_untracked, 1, memory_order_relaxed);
    } else {
        struct counters *c = &g_cnt[slot];
        atomic_fetch_add_explicit(&c->bytes, wb, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->count, wc, memory_order_relaxed);
        atomic_fetch_add_explicit(&c->live, wb, memory_order_relaxed);
        atomic_fetch_add_explicit(&g_live_now, (int64_t)wb, memory_order_relaxed);
        if (live_insert(p, (uint32_t)slot, n)) {
            maybe_snapshot();
        } else { /* not followed: counted as freed at once */
            atomic_fetch_sub_explicit(&c->live, wb, memory_order_relaxed);
            atomic_fetch_sub_explicit(&g_live_now, (int64_t)wb, memory_order_relaxed);
            atomic_fetch_add_explicit(&g_untracked, 1, memory_order_relaxed);
        }
    }
    t->left = saved_left;
    t->busy = false;
    errno = saved_errno;
}

void memprof_own_begin(void)
{
    struct tstate *t = &t_mem;
    if (t->own++ == 0) {
        t->own_left = t->left;
        t->left = UINT64_MAX;
    }
}

void memprof_own_end(void)
{
    struct tstate *t = &t_mem;
    if (t->own > 0 && --t->own == 0)
        t->left = t->own_left;
}

static inline void *recorded(void *p, size_t n)
{
    if (p)
        record(p, n);
    return p;
}

/* A block about to be freed (or reallocated): when it was sampled, it is live no more. */
static void forget(const void *p)
{
    uint32_t slot;
    uint64_t size;
    if (LIKELY(!live_remove(p, &slot, &size)))
        return;
    uint64_t w = bytes_weight(size);
    atomic_fetch_sub_explicit(&g_cnt[slot].live, w, memory_order_relaxed);
    atomic_fetch_sub_explicit(&g_live_now, (int64_t)w, memory_order_relaxed);
}

/* ---- the malloc family ------------------------------------------------------------------- */

/* The rare halves of malloc and free, out of line: so that their common paths are a few
 * instructions and a tail call, without a stack frame. */
static __attribute__((noinline)) void *malloc_crossing(size_t n)
{
    bool take = decide(&t_mem, n); /* the count reached zero: a sample, or a new thread */
    void *p = real_malloc()(n);
    return take ? recorded(p, n) : p;
}

static __attribute__((noinline)) void *malloc_unresolved(size_t n)
{
    REAL_OR_BOOT(boot_alloc(16, n));
    return g_real.malloc(n);
}

/* malloc's body, also inlined into operator new. */
static inline __attribute__((always_inline)) void *malloc_inline(size_t n)
{
    if (sampling()) {
        struct tstate *t = &t_mem;
        if (UNLIKELY(n >= t->left))
            return malloc_crossing(n);
        t->left -= n;
    }
    malloc_fn f = g_real.malloc;
    if (UNLIKELY(!f))
        return malloc_unresolved(n);
    return f(n);
}

EXPORT void *malloc(size_t n)
{
    return malloc_inline(n);
}

static __attribute__((noinline)) void free_unresolved(void *p)
{
    memprof_resolve();
    if (g_real.free)
        g_real.free(p);
    /* else: only while looking it up; a block of the real allocator is kept */
}

/* A block whose page holds sampled blocks: perhaps one of them. */
static __attribute__((noinline)) void free_filtered(void *p)
{
    forget(p);
    if (UNLIKELY(!g_real.free))
        free_unresolved(p);
    else
        g_real.free(p);
}

/* free's body, also inlined into operator delete. */
static inline __attribute__((always_inline)) void free_inline(void *p)
{
    if (UNLIKELY(is_boot(p)))
        return;
    if (sampling() &&
        UNLIKELY(atomic_load_explicit(&g_filter[filter_index(p)], memory_order_relaxed)) && p)
        return free_filtered(p);
    free_fn f = g_real.free;
    if (UNLIKELY(!f))
        return free_unresolved(p);
    f(p);
}

EXPORT void free(void *p)
{
    free_inline(p);
}

EXPORT void *calloc(size_t n, size_t size)
{
    size_t bytes;
    if (sampling() && !__builtin_mul_overflow(n, size, &bytes) && take_sample(bytes)) {
        real_malloc();
        return recorded(g_real.calloc(n, size), bytes);
    }
    REAL_OR_BOOT(__builtin_mul_overflow(n, size, &bytes) ? NULL : boot_alloc(16, bytes));
    return g_real.calloc(n, size);
}

/* realloc from the arena: a new block of the real allocator, the old contents copied. */
static void *boot_realloc(void *p, size_t n)
{
    size_t old = boot_size(p);
    void *q = malloc(n);
    if (q && n)
        memcpy(q, p, old < n ? old : n);
    return q;
}

EXPORT void *realloc(void *p, size_t n)
{
    if (UNLIKELY(is_boot(p)))
        return boot_realloc(p, n);
    if (!sampling()) {
        REAL_OR_BOOT(p ? NULL : boot_alloc(16, n));
        return g_real.realloc(p, n);
    }
    uint32_t slot = 0;
    uint64_t size = 0;
    /* the old block stops being live before the real realloc (which may free it, and another
     * thread get its address); back in when the realloc fails and leaves it as it was */
    bool had = p && live_remove(p, &slot, &size);
    if (had) {
        uint64_t w = bytes_weight(size);
        atomic_fetch_sub_explicit(&g_cnt[slot].live, w, memory_order_relaxed);
        atomic_fetch_sub_explicit(&g_live_now, (int64_t)w, memory_order_relaxed);
    }
    bool take = take_sample(n);
    real_malloc();
    void *q = g_real.realloc(p, n);
    if (!q && had && n != 0 && live_insert(p, slot, size)) {
        uint64_t w = bytes_weight(size);
        atomic_fetch_add_explicit(&g_cnt[slot].live, w, memory_order_relaxed);
        atomic_fetch_add_explicit(&g_live_now, (int64_t)w, memory_order_relaxed);
    }
    return take ? recorded(q, n) : q;
}

EXPORT void *memalign(size_t align, size_t n)
{
    if (sampling() && take_sample(n)) {
        real_malloc();
        return recorded(g_real.memalign(align, n), n);
    }
    REAL_OR_BOOT(boot_alloc(align, n));
    return g_real.memalign(align, n);
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (sampling() && take_sample(n)) {
        real_malloc();
        return recorded(g_real.aligned_alloc(align, n), n);
    }
    REAL_OR_BOOT(boot_alloc(align, n));
    return g_real.aligned_alloc(align, n);
}

/* posix_memalign where the allocator has none: memalign after posix_memalign's checks. */
static int emulated_posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    int saved = errno;
    void *p = g_real.memalign(align, n);
    errno = saved;
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    bool take = sampling() && take_sample(n);
    if (UNLIKELY(!g_real.malloc)) {
        memprof_resolve();
        if (!g_real.malloc) {
            if (align < sizeof(void *) || (align & (align - 1)))
                return EINVAL;
            void *p = boot_alloc(align, n);
            if (!p)
                return ENOMEM;
            *out = p;
            return 0;
        }
    }
    int rc = g_real.posix_memalign ? g_real.posix_memalign(out, align, n)
                                   : emulated_posix_memalign(out, align, n);
    if (take && rc == 0)
        record(*out, n);
    return rc;
}

EXPORT void *valloc(size_t n)
{
    if (sampling() && take_sample(n)) {
        real_malloc();
        return recorded(g_real.valloc(n), n);
    }
    REAL_OR_BOOT(boot_alloc(4096, n));
    return g_real.valloc(n);
}

EXPORT void *pvalloc(size_t n)
{
    if (sampling() && take_sample(n)) {
        real_malloc();
        return recorded(g_real.pvalloc(n), n);
    }
    REAL_OR_BOOT(boot_alloc(4096, (n + 4095) & ~(size_t)4095));
    return g_real.pvalloc(n);
}

EXPORT size_t malloc_usable_size(void *p)
{
    if (UNLIKELY(is_boot(p)))
        return boot_size(p);
    real_malloc();
    return g_real.usable ? g_real.usable(p) : 0;
}

/* Our own malloc, whatever the symbol `malloc` binds to. */
extern __typeof__(malloc) memprof_own_malloc
    __attribute__((alias("malloc"), copy(malloc), visibility("hidden")));

/* ---- C++ operator new and delete ---------------------------------------------------------- */

/* Declared here: C has no header for them. Mangled for a 64-bit size_t. */
void *_Znwm(size_t n);
void *_Znam(size_t n);
void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt);
void *_ZnamRKSt9nothrow_t(size_t n, const void *nt);
void *_ZnwmSt11align_val_t(size_t n, size_t al);
void *_ZnamSt11align_val_t(size_t n, size_t al);
void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt);
void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt);
void _ZdlPv(void *p);
void _ZdaPv(void *p);
void _ZdlPvm(void *p, size_t n);
void _ZdaPvm(void *p, size_t n);
void _ZdlPvRKSt9nothrow_t(void *p, const void *nt);
void _ZdaPvRKSt9nothrow_t(void *p, const void *nt);
void _ZdlPvSt11align_val_t(void *p, size_t al);
void _ZdaPvSt11align_val_t(void *p, size_t al);
void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al);
void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al);
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt);

/* Whether a function lives in libstdc++ or libc++ (whose operator new calls malloc). */
static bool in_cxx_runtime(void *fn)
{
    Dl_info info;
    if (!fn || !dladdr(fn, &info) || !info.dli_fname)
        return false;
    const char *base = strrchr(info.dli_fname, '/');
    base = base ? base + 1 : info.dli_fname;
    return strncmp(base, "libstdc++", 9) == 0 || strncmp(base, "libc++.", 7) == 0;
}

static void resolve_cxx(void)
{
    real_malloc();
    static const char *const names[][NEW_KINDS] = {
        {"_Znwm", "_Znam"},
        {"_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t"},
        {"_ZnwmSt11align_val_t", "_ZnamSt11align_val_t"},
        {"_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t"},
        {"_ZdlPv", "_ZdaPv"},
        {"_ZdlPvm", "_ZdaPvm"},
        {"_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t"},
        {"_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t"},
        {"_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t"},
        {"_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t"},
    };
    for (int k = 0; k < NEW_KINDS; k++) {
        g_cxx.n[k] = (new_fn)symbol(names[0][k]);
        g_cxx.nt[k] = (new_nt_fn)symbol(names[1][k]);
        g_cxx.al[k] = (new_al_fn)symbol(names[2][k]);
        g_cxx.al_nt[k] = (new_al_nt_fn)symbol(names[3][k]);
        g_cxx.d[k] = (del_fn)symbol(names[4][k]);
        g_cxx.d_sz[k] = (del_sz_fn)symbol(names[5][k]);
        g_cxx.d_nt[k] = (del_nt_fn)symbol(names[6][k]);
        g_cxx.d_al[k] = (del_sz_fn)symbol(names[7][k]);
        g_cxx.d_sz_al[k] = (del_sz_al_fn)symbol(names[8][k]);
        g_cxx.d_al_nt[k] = (del_al_nt_fn)symbol(names[9][k]);
    }
    g_cxx.via_malloc = in_cxx_runtime((void *)g_cxx.n[NEW_PLAIN]);
    atomic_store(&g_cxx_resolved, 1);
}

static inline void cxx(void)
{
    if (UNLIKELY(!atomic_load_explicit(&g_cxx_resolved, memory_order_acquire)))
        resolve_cxx();
}

/* While the next operator new runs: an allocator whose operator new does not allocate with
 * malloc (tcmalloc's, jemalloc's) may still call profreg's malloc family inside (tcmalloc's
 * aligned new calls memalign), which must not count the same bytes again. The state is
 * restored by a cleanup, which also runs when that operator new throws std::bad_alloc (the
 * file is compiled with -fexceptions). */
struct nested {
    uint64_t left;
    bool busy;
};

static inline struct nested nested_enter(void)
{
    struct tstate *t = &t_mem;
    struct nested n = {t->left, t->busy};
    t->busy = true;
    t->left = UINT64_MAX;
    return n;
}

static void nested_leave(struct nested *n)
{
    struct tstate *t = &t_mem;
    t->left = n->left;
    t->busy = n->busy;
}

/* call: the next operator new, for n bytes; sampled here (the allocator does not go through
 * malloc). */
#define COUNTED_NEW(n, call)                                                                       \
    ({                                                                                             \
        bool take_ = take_sample(n);                                                               \
        void *p_;                                                                                  \
        {                                                                                          \
            struct nested nested_ __attribute__((cleanup(nested_leave))) = nested_enter();         \
            p_ = (call);                                                                           \
        }                                                                                          \
        if (take_ && p_)                                                                           \
            record(p_, n);                                                                         \
        p_;                                                                                        \
    })

static inline void forget_deleted(void *p)
{
    if (!g_cxx.via_malloc && p && sampling())
        forget(p);
}

/* No C++ runtime to pass to (cannot happen while C++ code runs): malloc's, aborting on
 * failure where operator new would throw. */
static void *fallback_new(size_t n, size_t align, bool nothrow)
{
    void *p = align > 16 ? aligned_alloc(align, (n + align - 1) & ~(align - 1)) : malloc(n);
    if (!p && !nothrow)
        abort();
    return p;
}

/* NAME_slow of every operator new: the first calls (the C++ runtime looked up), another
 * allocator's operator new (sampled here, after it returned), or none (malloc's). */
#define NEW_SLOW(name, fn, n, align, nothrow, params, args)                                        \
    static __attribute__((noinline)) void *name##_slow params                                      \
    {                                                                                              \
        cxx();                                                                                     \
        if (UNLIKELY(!(fn)))                                                                       \
            return fallback_new(n, align, nothrow);                                                \
        if (g_cxx.via_malloc || !sampling())                                                       \
            return (fn)args;                                                                       \
        return COUNTED_NEW(n, (fn)args);                                                           \
    }

/* An aligned operator new: with the next definition libstdc++'s (it allocates with malloc's
 * family, where the sampling happens) a tail call, else NAME_slow. */
#define DEFINE_NEW(name, fn, n, align, nothrow, params, args)                                      \
    NEW_SLOW(name, fn, n, align, nothrow, params, args)                                            \
    EXPORT void *name params                                                                       \
    {                                                                                              \
        if (LIKELY(atomic_load_explicit(&g_cxx_resolved, memory_order_acquire) &&                  \
                   g_cxx.via_malloc && (fn)))                                                      \
            return (fn)args;                                                                       \
        return name##_slow args;                                                                   \
    }

/* The plain and nothrow operator new when the next definition is libstdc++'s or libc++'s:
 * what theirs does first, a malloc of max(n, 1) bytes, done here by malloc's body inlined
 * (two calls less per allocation); only when that fails does their operator new run (the
 * new-handler loop, std::bad_alloc, or NULL for nothrow). Otherwise NAME_slow. */
#define DEFINE_NEW_DIRECT(name, fn, nothrow, params, args)                                         \
    NEW_SLOW(name, fn, n, 0, nothrow, params, args)                                                \
    EXPORT void *name params                                                                       \
    {                                                                                              \
        if (LIKELY(atomic_load_explicit(&g_cxx_resolved, memory_order_acquire) &&                  \
                   g_cxx.via_malloc)) {                                                            \
            void *p_ = malloc_inline(n ? n : 1);                                                   \
            if (LIKELY(p_ != NULL))                                                                \
                return p_;                                                                         \
        }                                                                                          \
        return name##_slow args;                                                                   \
    }

DEFINE_NEW_DIRECT(_Znwm, g_cxx.n[NEW_PLAIN], false, (size_t n), (n))
DEFINE_NEW_DIRECT(_Znam, g_cxx.n[NEW_ARRAY], false, (size_t n), (n))
DEFINE_NEW_DIRECT(_ZnwmRKSt9nothrow_t, g_cxx.nt[NEW_PLAIN], true, (size_t n, const void *nt),
                  (n, nt))
DEFINE_NEW_DIRECT(_ZnamRKSt9nothrow_t, g_cxx.nt[NEW_ARRAY], true, (size_t n, const void *nt),
                  (n, nt))
DEFINE_NEW(_ZnwmSt11align_val_t, g_cxx.al[NEW_PLAIN], n, al, false, (size_t n, size_t al), (n, al))
DEFINE_NEW(_ZnamSt11align_val_t, g_cxx.al[NEW_ARRAY], n, al, false, (size_t n, size_t al), (n, al))
DEFINE_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, g_cxx.al_nt[NEW_PLAIN], n, al, true,
           (size_t n, size_t al, const void *nt), (n, al, nt))
DEFINE_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, g_cxx.al_nt[NEW_ARRAY], n, al, true,
           (size_t n, size_t al, const void *nt), (n, al, nt))

/* NAME_slow of every operator delete: the block forgotten first (when sampled blocks are
 * not forgotten by free), then the next definition's (or free, when there is none). */
#define DELETE_SLOW(name, fn, params, args)                                                        \
    static __attribute__((noinline)) void name##_slow params                                       \
    {                                                                                              \
        cxx();                                                                                     \
        forget_deleted(p);                                                                         \
        if (LIKELY(fn))                                                                            \
            (fn) args;                                                                             \
        else                                                                                       \
            free(p);                                                                               \
    }

/* An aligned operator delete: a tail call to libstdc++'s (which frees with free, where
 * sampled blocks are forgotten), else NAME_slow. */
#define DEFINE_DELETE(name, fn, params, args)                                                      \
    DELETE_SLOW(name, fn, params, args)                                                            \
    EXPORT void name params                                                                        \
    {                                                                                              \
        if (LIKELY(atomic_load_explicit(&g_cxx_resolved, memory_order_acquire) &&                  \
                   g_cxx.via_malloc && (fn)))                                                      \
            return (fn)args;                                                                       \
        name##_slow args;                                                                          \
    }

/* The plain, sized and nothrow operator delete when the next definition is libstdc++'s or
 * libc++'s (which free with free): free's body inlined. Otherwise NAME_slow. */
#define DEFINE_DELETE_DIRECT(name, fn, params, args)                                               \
    DELETE_SLOW(name, fn, params, args)                                                            \
    EXPORT void name params                                                                        \
    {                                                                                              \
        if (LIKELY(atomic_load_explicit(&g_cxx_resolved, memory_order_acquire) &&                  \
                   g_cxx.via_malloc))                                                              \
            return free_inline(p);                                                                 \
        name##_slow args;                                                                          \
    }

DEFINE_DELETE_DIRECT(_ZdlPv, g_cxx.d[NEW_PLAIN], (void *p), (p))
DEFINE_DELETE_DIRECT(_ZdaPv, g_cxx.d[NEW_ARRAY], (void *p), (p))
DEFINE_DELETE_DIRECT(_ZdlPvm, g_cxx.d_sz[NEW_PLAIN], (void *p, size_t n), (p, n))
DEFINE_DELETE_DIRECT(_ZdaPvm, g_cxx.d_sz[NEW_ARRAY], (void *p, size_t n), (p, n))
DEFINE_DELETE_DIRECT(_ZdlPvRKSt9nothrow_t, g_cxx.d_nt[NEW_PLAIN], (void *p, const void *nt),
                     (p, nt))
DEFINE_DELETE_DIRECT(_ZdaPvRKSt9nothrow_t, g_cxx.d_nt[NEW_ARRAY], (void *p, const void *nt),
                     (p, nt))
DEFINE_DELETE(_ZdlPvSt11align_val_t, g_cxx.d_al[NEW_PLAIN], (void *p, size_t al), (p, al))
DEFINE_DELETE(_ZdaPvSt11align_val_t, g_cxx.d_al[NEW_ARRAY], (void *p, size_t al), (p, al))
DEFINE_DELETE(_ZdlPvmSt11align_val_t, g_cxx.d_sz_al[NEW_PLAIN], (void *p, size_t n, size_t al),
              (p, n, al))
DEFINE_DELETE(_ZdaPvmSt11align_val_t, g_cxx.d_sz_al[NEW_ARRAY], (void *p, size_t n, size_t al),
              (p, n, al))
DEFINE_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, g_cxx.d_al_nt[NEW_PLAIN],
              (void *p, size_t al, const void *nt), (p, al, nt))
DEFINE_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, g_cxx.d_al_nt[NEW_ARRAY],
              (void *p, size_t al, const void *nt), (p, al, nt))

/* ---- life cycle -------------------------------------------------------------------------- */


struct self_range {
    uintptr_t addr, lo, hi;
};

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct self_range *r = data;
    uintptr_t lo = UINTPTR_MAX, hi = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uintptr_t a = info->dlpi_addr + ph->p_vaddr;
        lo = a < lo ? a : lo;
        hi = a + ph->p_memsz > hi ? a + ph->p_memsz : hi;
    }
    if (r->addr >= lo && r->addr < hi) {
        r->lo = lo;
        r->hi = hi;
        return 1;
    }
    return 0;
}

/* Anonymous zeroed memory whose pages are touched only when used (at `at`: replaced). */
static void *map_zeroed(void *at, size_t size)
{
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (at ? MAP_FIXED : 0);
    void *p = mmap(at, size, PROT_READ | PROT_WRITE, flags, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

static void reset_figures(void)
{
    atomic_store(&g_bytes, 0);
    atomic_store(&g_count, 0);
    atomic_store(&g_samples, 0);
    atomic_store(&g_lost, 0);
    atomic_store(&g_untracked, 0);
    atomic_store(&g_live_now, 0);
    atomic_store(&g_peak, 0);
    atomic_store(&g_peak_which, 0);
    atomic_store(&g_peak_ms, NAN);
    atomic_flag_clear(&g_snap_lock);
    g_exit_total = 0;
    clock_gettime(CLOCK_MONOTONIC, &g_start);
}

int memprof_start(unsigned long long rate_bytes, size_t max_stacks, char *err, size_t errlen)
{
    memprof_resolve();
    void *first = dlsym(RTLD_DEFAULT, "malloc");
    if (first && first != (void *)memprof_own_malloc) {
        Dl_info info;
        const char *who = dladdr(first, &info) && info.dli_fname && *info.dli_fname
                              ? info.dli_fname
                              : "the executable";
        snprintf(err, errlen,
                 "malloc is defined by %s, which comes before libprofreg.so (put libprofreg.so "
                 "first in LD_PRELOAD)",
                 who);
        return -1;
    }
    struct self_range self = {(uintptr_t)&memprof_start, 0, 0};
    dl_iterate_phdr(find_self, &self);
    g_self_lo = self.lo;
    g_self_hi = self.hi;
    g_rate = (double)rate_bytes;
    g_tab = stacktab_create(max_stacks);
    g_cnt_bytes = g_tab ? stacktab_capacity(g_tab) * sizeof *g_cnt : 0;
    g_cnt = g_tab ? map_zeroed(NULL, g_cnt_bytes) : NULL;
    g_live = map_zeroed(NULL, LIVE_SLOTS * sizeof *g_live);
    if (!g_tab || !g_cnt || !g_live) {
        snprintf(err, errlen, "cannot map memory for the allocation tables");
        return -1;
    }
    if (pthread_atfork(fork_prepare, fork_done, fork_done) != 0) {
        snprintf(err, errlen, "cannot register fork handlers");
        return -1;
    }
    reset_figures();
    atomic_store(&g_started, true);
    atomic_store(&g_on, 1);
    return 0;
}

bool memprof_started(void)
{
    return atomic_load(&g_started);
}

void memprof_stop(void)
{
    /* async-signal-safe: atomics and loads only */
    if (!atomic_exchange(&g_on, 0) || !atomic_load(&g_started))
        return;
    size_t n = stacktab_claimed(g_tab);
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        long slot = stacktab_claimed_slot(g_tab, i);
        if (slot < 0)
            continue;
        struct counters *c = &g_cnt[slot];
        uint64_t v = atomic_load_explicit(&c->live, memory_order_relaxed);
        atomic_store_explicit(&c->exit, v, memory_order_relaxed);
        sum += v;
    }
    g_exit_total = sum;
}

void memprof_restart_in_child(void)
{
    if (!atomic_load(&g_started) || !atomic_load(&g_on))
        return;
    stacktab_reset(g_tab);
    map_zeroed(g_cnt, g_cnt_bytes);
    map_zeroed(g_live, LIVE_SLOTS * sizeof *g_live);
    memset((void *)g_filter, 0, sizeof g_filter);
    reset_figures();
}

int memprof_build(struct pr_profile *p, pb_resolve_fn resolve, void *ctx, char *err, size_t errlen)
{
    size_t n = stacktab_claimed(g_tab);
    struct mb_raw_stack *raw = calloc(n ? n : 1, sizeof *raw);
    struct pr_memory *m = malloc(sizeof *m);
    if (!raw || !m) {
        free(raw);
        free(m);
        snprintf(err, errlen, "out of memory collecting sampled allocations");
        return -1;
    }
    memory_init(m);
    int which = atomic_load(&g_peak_which);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t depth;
        uint64_t samples;
        long slot = stacktab_claimed_slot(g_tab, i);
        const uint64_t *pcs =
            slot < 0 ? NULL : stacktab_slot(g_tab, (size_t)slot, &depth, &samples);
        if (!pcs)
            continue;
        struct counters *c = &g_cnt[slot];
        struct mb_raw_stack *r = &raw[k++];
        r->pcs = pcs;
        r->depth = depth;
        r->v[MEM_ALLOC_BYTES] = atomic_load(&c->bytes);
        r->v[MEM_ALLOC_COUNT] = (atomic_load(&c->count) + COUNT_ONE / 2) / COUNT_ONE;
        r->v[MEM_PEAK_LIVE] = atomic_load(&c->peak[which]);
        r->v[MEM_EXIT_LIVE] = atomic_load(&c->exit);
        r->v[MEM_SAMPLES] = samples;
    }
    m->rate_bytes = g_rate;
    m->total[MEM_ALLOC_BYTES] = atomic_load(&g_bytes);
    m->total[MEM_ALLOC_COUNT] = (atomic_load(&g_count) + COUNT_ONE / 2) / COUNT_ONE;
    m->total[MEM_PEAK_LIVE] = atomic_load(&g_peak);
    m->total[MEM_EXIT_LIVE] = g_exit_total;
    m->total[MEM_SAMPLES] = atomic_load(&g_samples);
    m->peak_time_ms = atomic_load(&g_peak_ms);
    m->lost_samples = atomic_load(&g_lost) + stacktab_lost(g_tab);
    m->untracked_samples = atomic_load(&g_untracked);
    int rc = memory_build(m, raw, k, resolve, ctx, err, errlen);
    free(raw);
    if (rc != 0) {
        memory_free(m);
        free(m);
        return -1;
    }
    p->memory = m;
    return 0;
}
