/* SPDX-License-Identifier: MIT */
/* unwind.c — capturing the interrupted stack with libunwind, reading only known memory.  [handler]
 *
 * libunwind's local address space checks an address it is unsure of (every read of unw_step
 * in Debian's build, which enables CONSERVATIVE_CHECKS) with mincore, then writes the byte
 * into a pipe it opened when it started and reads it back: three system calls, and two
 * descriptors among the program's numbers (3 and 4 in a small program). A program that closes
 * its descriptors and opens others under those numbers had the handler read its input and
 * write memory into its files. So profreg replaces that accessor (unw_get_accessors gives the
 * local address space's own table): while profreg unwinds (t_unwinding), memory is read only
 * when it lies in the thread's stack, the signal stack the sample was taken on, or a loaded
 * module's segment — no system call, no descriptor. Everyone else's unwinding (the program's
 * own use of libunwind) goes to libunwind's accessor unchanged. The pipe libunwind opens at
 * start is moved to 512 or above (intercept.c's pipe2, asked by unwind_in_progress) and never
 * read or written by profreg.
 *
 * The modules' segments are an immutable snapshot, replaced after every dlopen/dlclose; the
 * handler counts itself in g_readers while it uses one, and a replaced snapshot is freed only
 * when no handler is counted (both sides sequentially consistent: a handler counted after
 * that check loads the new snapshot). */
#define UNW_LOCAL_ONLY
#include "unwind.h"

#include "symbolize/profile_build.h"

#include <dlfcn.h>
#include <libunwind.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

/* Thread-local state the handler uses: initial-exec, so reaching it is one instruction (no
 * __tls_get_addr, which may allocate); libprofreg.so is always loaded at start (LD_PRELOAD). */
#define HANDLER_TLS __thread __attribute__((tls_model("initial-exec")))

static HANDLER_TLS bool t_unwinding;                 /* profreg is unwinding on this thread */
static HANDLER_TLS uintptr_t t_stack_lo, t_stack_hi; /* this thread's stack */
static HANDLER_TLS uintptr_t t_alt_lo, t_alt_hi;     /* the signal stack of this sample */
static HANDLER_TLS const struct snapshot *t_snap;    /* the modules this unwind may read */
/* the frames of this thread's samples: off the stack, which may be a small signal stack */
static HANDLER_TLS uint64_t t_pcs[UNWIND_MAX_DEPTH + UNWIND_SKIP_ROOM];
_Static_assert(UNWIND_SKIP_ROOM >= 1, "unwind_capture leaves room for one entry after the frames");

struct range {
    uintptr_t lo, hi;
};

struct snapshot {
    struct snapshot *retired_next;
    size_t n;
    struct range r[]; /* sorted, disjoint */
};

static struct snapshot *_Atomic g_snap;
static _Atomic int g_readers; /* unwinds using a snapshot now */
/* While a thread forks, no unwinding may be under way in another: libunwind's global cache
 * lock (Debian's build has no per-thread cache) held there would be held forever in the child.
 * The fork handler closes this gate and waits for the unwinds counted in g_readers; an unwind
 * that finds it closed does not start (Dekker's protocol: both sides sequentially
 * consistent). */
static _Atomic int g_fork_gate;
static HANDLER_TLS bool t_forking; /* this thread is the one forking */
static pthread_mutex_t g_snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct snapshot *g_retired; /* replaced, not yet freed (g_snap_lock) */

typedef int (*access_mem_fn)(unw_addr_space_t, unw_word_t, unw_word_t *, int, void *);
static access_mem_fn g_libunwind_access_mem;
static bool g_fast = true;

/* ---- the modules' segments ---------------------------------------------------------------- */

struct collect {
    struct range *r;
    size_t n, cap;
    uintptr_t skip; /* a module's load address to leave out (one being closed), or 0 */
};

static int collect_segments(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct collect *c = ctx;
    if (c->skip && (uintptr_t)info->dlpi_addr == c->skip)
        return 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_R) || ph->p_memsz == 0)
            continue;
        if (c->n < c->cap) {
            uintptr_t lo = (uintptr_t)(info->dlpi_addr + ph->p_vaddr);
            uintptr_t hi = lo + ph->p_memsz;
            /* mappings are whole pages: the rest of the last page is readable too */
            c->r[c->n] = (struct range){lo & ~(uintptr_t)4095, (hi + 4095) & ~(uintptr_t)4095};
        }
        c->n++;
    }
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The readable segments of every loaded module but the one loaded at skip (0: none), sorted
 * and merged; NULL when out of memory. */
static struct snapshot *take_snapshot(uintptr_t skip)
{
    struct collect c = {NULL, 0, 0, skip};
    dl_iterate_phdr(collect_segments, &c); /* counts */
    for (int attempt = 0; attempt < 4; attempt++) {
        size_t cap = c.n + 32;
        struct snapshot *s = malloc(sizeof *s + cap * sizeof s->r[0]);
        if (!s)
            return NULL;
        c = (struct collect){s->r, 0, cap, skip};
        dl_iterate_phdr(collect_segments, &c);
        if (c.n > cap) { /* another thread loaded libraries meanwhile */
            free(s);
            continue;
        }
        qsort(s->r, c.n, sizeof s->r[0], by_start);
        size_t m = 0;
        for (size_t i = 0; i < c.n; i++) {
            if (m > 0 && s->r[i].lo <= s->r[m - 1].hi) {
                if (s->r[i].hi > s->r[m - 1].hi)
                    s->r[m - 1].hi = s->r[i].hi;
            } else {
                s->r[m++] = s->r[i];
            }
        }
        s->n = m;
        s->retired_next = NULL;
        return s;
    }
    return NULL;
}

void unwind_modules_changed(uintptr_t closing)
{
    struct snapshot *s = take_snapshot(closing);
    if (!s)
        return; /* the old one stays: a module it lacks is not read */
    pthread_mutex_lock(&g_snap_lock);
    struct snapshot *old = atomic_exchange(&g_snap, s);
    if (old) {
        old->retired_next = g_retired;
        g_retired = old;
    }
    if (atomic_load(&g_readers) == 0) {
        while (g_retired) {
            struct snapshot *next = g_retired->retired_next;
            free(g_retired);
            g_retired = next;
        }
    }
    pthread_mutex_unlock(&g_snap_lock);
}

static void fork_prepare(void)
{
    t_forking = true;
    atomic_store(&g_fork_gate, 1);
    while (atomic_load(&g_readers) > 0)
        sched_yield();
}

static void fork_parent(void)
{
    atomic_store(&g_fork_gate, 0);
    t_forking = false;
}

static void fork_child(void)
{
    atomic_store(&g_readers, 0); /* unwinds of other threads of the parent do not exist here */
    atomic_store(&g_fork_gate, 0);
    t_forking = false;
}

void unwind_after_fork(void)
{
    pthread_mutex_init(&g_snap_lock, NULL);
    atomic_store(&g_readers, 0); /* unwinds of other threads of the parent do not exist here */
}

/* ---- reading memory ----------------------------------------------------------------------- */

static bool in_modules(const struct snapshot *s, uintptr_t lo, uintptr_t hi)
{
    /* runs in the SIGPROF handler */
    if (!s)
        return false;
    size_t a = 0, b = s->n;
    while (a < b) { /* the first range ending above lo */
        size_t mid = a + (b - a) / 2;
        if (s->r[mid].hi <= lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < s->n && s->r[a].lo <= lo && hi <= s->r[a].hi;
}

/* May the handler read [addr, addr + len) (write it too: in_stacks)? */
static bool accessible(uintptr_t addr, size_t len, bool *in_stacks)
{
    /* runs in the SIGPROF handler */
    uintptr_t end = addr + len;
    if (end < addr)
        return false;
    *in_stacks = (addr >= t_stack_lo && end <= t_stack_hi) || (addr >= t_alt_lo && end <= t_alt_hi);
    return *in_stacks || in_modules(t_snap, addr, end);
}

/* The local address space's memory accessor: profreg's unwinding reads known memory only,
 * and writes only its stacks (libunwind's local cursor keeps register locations as addresses
 * in a context on the stack, and writes registers there); anyone else gets libunwind's own. */
static int checked_access_mem(unw_addr_space_t as, unw_word_t addr, unw_word_t *val, int write,
                              void *arg)
{
    /* runs in the SIGPROF handler */
    if (!t_unwinding)
        return g_libunwind_access_mem(as, addr, val, write, arg);
    bool in_stacks;
    if (!accessible((uintptr_t)addr, sizeof *val, &in_stacks) || (write && !in_stacks))
        return -UNW_EINVAL;
    if (write)
        memcpy((void *)(uintptr_t)addr, val, sizeof *val);
    else
        memcpy(val, (const void *)(uintptr_t)addr, sizeof *val);
    return 0;
}

bool unwind_in_progress(void)
{
    return t_unwinding;
}

/* Marks the calling thread as unwinding for profreg, with the current modules; false (and
 * nothing marked) while a fork is under way. */
static bool begin(void)
{
    /* runs in the SIGPROF handler */
    atomic_fetch_add(&g_readers, 1);
    if (atomic_load(&g_fork_gate)) {
        atomic_fetch_sub(&g_readers, 1);
        return false;
    }
    t_snap = atomic_load(&g_snap);
    t_unwinding = true;
    return true;
}

static void end(void)
{
    /* runs in the SIGPROF handler */
    t_unwinding = false;
    t_snap = NULL;
    atomic_fetch_sub(&g_readers, 1);
}

/* ---- start ---------------------------------------------------------------------------------- */

typedef unw_accessors_t *(*get_accessors_fn)(unw_addr_space_t);
#define NAME_OF(sym)  NAME_OF2(sym)
#define NAME_OF2(sym) #sym

/* The local address space's accessor table, starting libunwind. unw_get_accessors has the same
 * name in libunwind.so and in the remote-unwinding libunwind-x86_64.so a program may have
 * loaded first (strace does): the one asked is the local address space's own library's. */
static unw_accessors_t *local_accessors(void)
{
    get_accessors_fn get = NULL;
    Dl_info info;
    void *lib = NULL;
    if (dladdr((const void *)&unw_local_addr_space, &info) && info.dli_fname &&
        (lib = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)))
        get = (get_accessors_fn)dlsym(lib, NAME_OF(unw_get_accessors));
    unw_accessors_t *acc =
        get ? get(unw_local_addr_space) : unw_get_accessors(unw_local_addr_space);
    if (lib)
        dlclose(lib);
    return acc;
}

int unwind_init(bool fast, char *err, size_t errlen)
{
    g_fast = fast;
    /* libunwind starts here (its first call), opening its validation pipe, which
     * intercept.c's pipe2 moves out of the program's numbers while t_unwinding is set */
    t_unwinding = true;
    unw_accessors_t *acc = local_accessors();
    t_unwinding = false;
    if (!acc || !acc->access_mem) {
        snprintf(err, errlen, "libunwind has no local memory accessor");
        return -1;
    }
    if (acc->access_mem != checked_access_mem) {
        g_libunwind_access_mem = acc->access_mem;
        acc->access_mem = checked_access_mem;
    }
    /* Ask for libunwind's per-thread cache (no lock). Debian's libunwind 1.6 is built
     * without __thread support and quietly uses its global cache instead, guarded by a
     * mutex that it takes only with every signal blocked: the handler can wait for another
     * thread's unwind but never for one it interrupted. Measured cost: libunwind does not
     * show in `perf record -e cpu-clock` of a profiled run (< 0.02 % of its samples). */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
    unwind_modules_changed(0);
    if (!atomic_load(&g_snap)) {
        snprintf(err, errlen, "out of memory recording the loaded modules");
        return -1;
    }
    /* registered first of profreg's fork handlers: its prepare runs last, after the other
     * handlers (which may allocate), and its child handler first */
    if (pthread_atfork(fork_prepare, fork_parent, fork_child) != 0) {
        snprintf(err, errlen, "cannot register fork handlers");
        return -1;
    }
    return 0;
}

/* Records the calling thread's stack bounds (pthread_getattr_np: may allocate). */
static void record_stack(void)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            t_stack_lo = (uintptr_t)addr;
            t_stack_hi = (uintptr_t)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
}

void unwind_thread_start(void)
{
    record_stack();
    /* the fast unwinder's per-thread cache is made here, not in the handler */
    if (g_fast && begin()) {
        void *warm[4];
        (void)unw_backtrace(warm, 4);
        end();
    }
}

int unwind_backtrace(uint64_t *pcs, int max)
{
    static HANDLER_TLS bool recording;
    if (t_unwinding || recording)
        return 0;          /* inside profreg's own unwinding, or its recording of this stack */
    if (t_stack_hi == 0) { /* a thread profreg did not start sampling (made before it loaded) */
        recording = true;
        record_stack();
        recording = false;
    }
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int n = 0;
    while (!t_forking && !begin()) /* a fork under way: after it */
        sched_yield();
    if (!t_forking) {
        n = unw_backtrace((void **)pcs, max);
        end();
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return n > 0 ? n : 0;
}

/* ---- is the caller inside a signal handler? ------------------------------------------------ */

/* Frames walked at most before giving up (the answer is then "perhaps", counted as yes). */
#define HANDLER_WALK_MAX 2048

bool unwind_in_signal_handler(void)
{
    /* async-signal-safe: may run in any signal handler of the program */
    stack_t ss;
    if (sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK))
        return true;
    /* this thread may have been interrupted inside profreg's own unwinding: keep its state */
    bool was_unwinding = t_unwinding;
    const struct snapshot *was_snap = t_snap;
    uintptr_t was_alt_lo = t_alt_lo, was_alt_hi = t_alt_hi;
    if (!(ss.ss_flags & SS_DISABLE) && ss.ss_size > 0) {
        t_alt_lo = (uintptr_t)ss.ss_sp;
        t_alt_hi = t_alt_lo + ss.ss_size;
    }
    bool signal_frame = false, complete = false;
    unw_context_t ctx;
    unw_cursor_t cursor;
    bool began = begin(); /* (not while a fork is under way: then "perhaps") */
    if (began && unw_getcontext(&ctx) == 0 && unw_init_local(&cursor, &ctx) == 0) {
        for (int i = 0; i < HANDLER_WALK_MAX && !signal_frame && !complete; i++) {
            if (unw_is_signal_frame(&cursor) > 0)
                signal_frame = true;
            else {
                int r = unw_step(&cursor);
                if (r < 0)
                    break;
                complete = r == 0;
            }
        }
    }
    if (began)
        end();
    t_unwinding = was_unwinding;
    t_snap = was_snap;
    t_alt_lo = was_alt_lo;
    t_alt_hi = was_alt_hi;
    return signal_frame || !complete;
}

/* ---- capture -------------------------------------------------------------------------------- */

static uint64_t context_pc(const ucontext_t *uc)
{
    /* runs in the SIGPROF handler */
#if defined(__x86_64__)
    return (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
    return (uint64_t)uc->uc_mcontext.pc;
#else
    (void)uc;
    return 0;
#endif
}

static uintptr_t context_sp(const ucontext_t *uc)
{
    /* runs in the SIGPROF handler */
#if defined(__x86_64__)
    return (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (uintptr_t)uc->uc_mcontext.sp;
#else
    (void)uc;
    return 0;
#endif
}

/* The fast path: libunwind's unw_backtrace, which walks frames through a per-thread cache
 * of their layouts (no system call, no lock once the thread's frames are known: the slow
 * path costs two rt_sigprocmask calls per frame in Debian's libunwind). It starts in this
 * handler, so the frames up to the interrupted instruction are dropped. pcs has room for
 * max + UNWIND_SKIP_ROOM entries. 0 when the interrupted instruction is not found among the
 * first UNWIND_SKIP_ROOM frames (then the caller unwinds from the signal context instead). */
static uint32_t capture_fast(const ucontext_t *uc, uint64_t *pcs, uint32_t max, bool *truncated)
{
    /* runs in the SIGPROF handler */
    uint64_t pc = context_pc(uc);
    int cap = (int)(max + UNWIND_SKIP_ROOM);
    int n = unw_backtrace((void **)pcs, cap);
    int first = -1;
    for (int i = 0; i < n && i < UNWIND_SKIP_ROOM && first < 0; i++)
        if (pcs[i] == pc)
            first = i;
    if (first < 0 || pc == 0)
        return 0;
    uint32_t kept = (uint32_t)(n - first);
    if (kept > max || n == cap) {
        *truncated = true;
        if (kept > max)
            kept = max;
    }
    memmove(pcs, pcs + first, kept * sizeof *pcs);
    pcs[0] |= PB_EXACT_PC;
    return kept;
}

/* Unwinds step by step from the signal context. */
static uint32_t capture_slow(ucontext_t *uc, uint64_t *pcs, uint32_t max, bool *truncated)
{
    /* runs in the SIGPROF handler */
    unw_cursor_t cursor;
    uint32_t n = 0;
    if (unw_init_local2(&cursor, uc, UNW_INIT_SIGNAL_FRAME) == 0) {
        bool exact = true; /* the interrupted instruction itself, not a return address */
        for (;;) {
            unw_word_t ip;
            if (unw_get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
                break;
            if (n == max) {
                *truncated = true;
                break;
            }
            pcs[n++] = (uint64_t)ip | (exact ? PB_EXACT_PC : 0);
            exact = unw_is_signal_frame(&cursor) > 0;
            if (unw_step(&cursor) <= 0)
                break;
        }
    }
    return n;
}

/* Does the handler run on a stack with at least UNWIND_STACK_NEED bytes left below it? False
 * when it knows the stack and there is less; true when it does not know it. */
static bool room_to_unwind(void)
{
    /* runs in the SIGPROF handler */
    uintptr_t here = (uintptr_t)__builtin_frame_address(0), lo = 0;
    if (here >= t_alt_lo && here < t_alt_hi)
        lo = t_alt_lo;
    else if (here >= t_stack_lo && here < t_stack_hi)
        lo = t_stack_lo;
    return lo == 0 || here - lo >= UNWIND_STACK_NEED;
}

uint64_t *unwind_capture(void *ucv, uint32_t *n_out, bool *truncated)
{
    /* runs in the SIGPROF handler */
    ucontext_t *uc = ucv;
    uint64_t *pcs = t_pcs;
    uint32_t max = UNWIND_MAX_DEPTH;
    uintptr_t sp = context_sp(uc);
    /* the thread's signal stack (the kernel saves its settings, not whether the thread was
     * on it: the range says) */
    if (!(uc->uc_stack.ss_flags & SS_DISABLE) && uc->uc_stack.ss_size > 0) {
        t_alt_lo = (uintptr_t)uc->uc_stack.ss_sp;
        t_alt_hi = t_alt_lo + uc->uc_stack.ss_size;
    }
    if (!room_to_unwind()) {
        t_alt_lo = t_alt_hi = 0;
        return NULL;
    }
    uint32_t n = 0;
    bool known = (sp >= t_stack_lo && sp < t_stack_hi) || (sp >= t_alt_lo && sp < t_alt_hi);
    if (known && begin()) { /* (not while a fork is under way: the instruction alone) */
        if (g_fast)
            n = capture_fast(uc, pcs, max, truncated);
        if (n == 0) {
            *truncated = false;
            n = capture_slow(uc, pcs, max, truncated);
        }
        end();
    }
    t_alt_lo = t_alt_hi = 0;
    if (n == 0) {
        uint64_t pc = context_pc(uc);
        if (pc)
            pcs[n++] = pc | PB_EXACT_PC;
    }
    *n_out = n;
    return pcs;
}
