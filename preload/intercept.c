/* SPDX-License-Identifier: MIT */
/* intercept.c — interposed libc/libdl functions (see intercept.h for the list and why).
 *
 * Invariant: each interposer behaves exactly like the function it wraps (same result, same
 * errno, same old action reported), plus profreg's bookkeeping; none of them is used by the
 * signal handler except dl_iterate_phdr, whose wrapper is async-signal-safe. */
#include "intercept.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef int (*setitimer_fn)(__itimer_which_t, const struct itimerval *, struct itimerval *);
typedef void *(*dlopen_fn)(const char *, int);
typedef void *(*dlmopen_fn)(Lmid_t, const char *, int);
typedef int (*dlclose_fn)(void *);
typedef int (*iterate_fn)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
typedef void (*exit_fn)(int);
typedef int (*close_fn)(int);
typedef int (*close_range_fn)(unsigned, unsigned, int);
typedef void (*closefrom_fn)(int);

static _Atomic(sigaction_fn) real_sigaction_p;
static _Atomic(setitimer_fn) real_setitimer_p;
static _Atomic(dlopen_fn) real_dlopen_p;
static _Atomic(dlmopen_fn) real_dlmopen_p;
static _Atomic(dlclose_fn) real_dlclose_p;
static _Atomic(iterate_fn) real_iterate_p;
static _Atomic(exit_fn) real_exit_p;
static _Atomic(close_fn) real_close_p;
static _Atomic(close_range_fn) real_close_range_p;
static _Atomic(closefrom_fn) real_closefrom_p;
static _Atomic(exit_fn) real_Exit_p;

static struct intercept_hooks g_hooks;

/* Hidden handlers: while g_hidden[sig], the installed action is profreg's and the program
 * is shown g_shown[sig] instead. */
static _Atomic bool g_hidden[NSIG];
static struct sigaction g_shown[NSIG];

static pthread_mutex_t g_unload_lock = PTHREAD_MUTEX_INITIALIZER;
static struct unloaded_module *g_unloaded;
static size_t g_nunloaded, g_unloaded_cap;
static _Atomic int g_record;

#define RESOLVE(ptr, type, name)                                                                   \
    ({                                                                                             \
        type fn_ = atomic_load(&(ptr));                                                            \
        if (!fn_) {                                                                                \
            fn_ = (type)dlsym(RTLD_NEXT, name);                                                    \
            atomic_store(&(ptr), fn_);                                                             \
        }                                                                                          \
        fn_;                                                                                       \
    })

void intercept_init(const struct intercept_hooks *hooks)
{
    if (hooks)
        g_hooks = *hooks;
    (void)RESOLVE(real_sigaction_p, sigaction_fn, "sigaction");
    (void)RESOLVE(real_setitimer_p, setitimer_fn, "setitimer");
    (void)RESOLVE(real_dlopen_p, dlopen_fn, "dlopen");
    (void)RESOLVE(real_dlmopen_p, dlmopen_fn, "dlmopen");
    (void)RESOLVE(real_dlclose_p, dlclose_fn, "dlclose");
    (void)RESOLVE(real_iterate_p, iterate_fn, "dl_iterate_phdr");
    (void)RESOLVE(real_exit_p, exit_fn, "_exit");
    (void)RESOLVE(real_Exit_p, exit_fn, "_Exit");
}

int intercept_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    sigaction_fn real = RESOLVE(real_sigaction_p, sigaction_fn, "sigaction");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(sig, act, old);
}

void intercept_hide_handler(int sig, const struct sigaction *shown)
{
    if (sig <= 0 || sig >= NSIG)
        return;
    g_shown[sig] = *shown;
    atomic_store(&g_hidden[sig], true);
}

/* ---- signals ------------------------------------------------------------------------------ */

EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    bool valid = sig > 0 && sig < NSIG;
    if (valid && act && sig == SIGPROF && g_hooks.sigprof_taken)
        g_hooks.sigprof_taken("installs its own SIGPROF action");
    bool hidden = valid && atomic_load(&g_hidden[sig]);
    struct sigaction prev;
    int rc = intercept_sigaction(sig, act, &prev);
    if (rc != 0)
        return rc;
    if (old)
        *old = hidden ? g_shown[sig] : prev;
    if (valid && act)
        atomic_store(&g_hidden[sig], false); /* the program's own action from now on */
    return 0;
}

/* glibc's signal(): BSD semantics (SA_RESTART, the signal blocked in its handler). */
EXPORT __sighandler_t signal(int sig, __sighandler_t handler)
{
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    act.sa_flags = SA_RESTART;
    sigemptyset(&act.sa_mask);
    if (sig > 0 && sig < NSIG)
        sigaddset(&act.sa_mask, sig);
    if (sigaction(sig, &act, &old) != 0)
        return SIG_ERR;
    return old.sa_handler;
}

EXPORT int setitimer(__itimer_which_t which, const struct itimerval *value, struct itimerval *old)
{
    if (which == ITIMER_PROF && value && (value->it_value.tv_sec || value->it_value.tv_usec) &&
        g_hooks.sigprof_taken) {
        g_hooks.sigprof_taken("arms ITIMER_PROF");
        /* its SIGPROF must meet the action the program set (or the default), not ours */
        if (atomic_exchange(&g_hidden[SIGPROF], false))
            intercept_sigaction(SIGPROF, &g_shown[SIGPROF], NULL);
    }
    setitimer_fn real = RESOLVE(real_setitimer_p, setitimer_fn, "setitimer");
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(which, value, old);
}

/* ---- descriptors closed by the program ---------------------------------------------------- */

/* A program that closes its descriptors (a daemon's close_range(3, ~0U, 0), closefrom, or a
 * loop of close) closes the perf event sampling its thread too: that thread gets a new one
 * (the others' are lost). A close of any other descriptor costs one array look-up. */

EXPORT int close(int fd)
{
    close_fn real = RESOLVE(real_close_p, close_fn, "close");
    int rc = real ? real(fd) : (int)syscall(SYS_close, fd);
    if (g_hooks.fds_closed && g_hooks.is_ours && g_hooks.is_ours(fd)) {
        int saved = errno;
        g_hooks.fds_closed();
        errno = saved;
    }
    return rc;
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    close_range_fn real = RESOLVE(real_close_range_p, close_range_fn, "close_range");
    int rc = real ? real(first, last, flags) : (int)syscall(SYS_close_range, first, last, flags);
    if (g_hooks.fds_closed && !(flags & CLOSE_RANGE_CLOEXEC)) {
        int saved = errno;
        g_hooks.fds_closed();
        errno = saved;
    }
    return rc;
}

EXPORT void closefrom(int lowfd)
{
    closefrom_fn real = RESOLVE(real_closefrom_p, closefrom_fn, "closefrom");
    if (real)
        real(lowfd);
    else
        syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0);
    if (g_hooks.fds_closed) {
        int saved = errno;
        g_hooks.fds_closed();
        errno = saved;
    }
}

/* ---- descriptors made for profreg ------------------------------------------------------------ */

/* Moves fd to INTERCEPT_FD_MIN or above, close-on-exec; -1 (fd closed) when it cannot. */
static int move_high(int fd)
{
    int high = fcntl(fd, F_DUPFD_CLOEXEC, INTERCEPT_FD_MIN);
    syscall(SYS_close, fd);
    return high;
}

/* A pipe of profreg's that cannot go to INTERCEPT_FD_MIN or above (a descriptor limit of 512
 * or less) is not made: pipe2 fails with EMFILE (libunwind then does without it, and profreg
 * never uses it), rather than take numbers the program counts on. */
EXPORT int pipe2(int fds[2], int flags)
{
    int made[2];
    int rc = (int)syscall(SYS_pipe2, made, flags);
    if (rc == 0 && g_hooks.new_fds_ours && g_hooks.new_fds_ours()) {
        made[0] = move_high(made[0]);
        made[1] = move_high(made[1]);
        if (made[0] < 0 || made[1] < 0) {
            if (made[0] >= 0)
                syscall(SYS_close, made[0]);
            if (made[1] >= 0)
                syscall(SYS_close, made[1]);
            errno = EMFILE;
            return -1;
        }
    }
    if (rc == 0) {
        fds[0] = made[0];
        fds[1] = made[1];
    }
    return rc;
}

/* ---- exits -------------------------------------------------------------------------------- */

EXPORT void _exit(int status)
{
    if (g_hooks.before_exit)
        g_hooks.before_exit();
    exit_fn real = RESOLVE(real_exit_p, exit_fn, "_exit");
    if (real)
        real(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

EXPORT void _Exit(int status)
{
    if (g_hooks.before_exit)
        g_hooks.before_exit();
    exit_fn real = RESOLVE(real_Exit_p, exit_fn, "_Exit");
    if (real)
        real(status);
    for (;;)
        syscall(SYS_exit_group, status);
}

/* ---- the dynamic loader ------------------------------------------------------------------- */

/* Blocks SIGPROF in this thread (async-signal-safe). */
static void block_sigprof(sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &s, old);
}

static void restore_mask(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

EXPORT void *dlopen(const char *file, int mode)
{
    dlopen_fn real = RESOLVE(real_dlopen_p, dlopen_fn, "dlopen");
    if (!real)
        return NULL;
    sigset_t old;
    block_sigprof(&old);
    void *h = real(file, mode);
    if (h && g_hooks.modules_changed)
        g_hooks.modules_changed(0);
    restore_mask(&old);
    return h;
}

EXPORT void *dlmopen(Lmid_t nsid, const char *file, int mode)
{
    dlmopen_fn real = RESOLVE(real_dlmopen_p, dlmopen_fn, "dlmopen");
    if (!real)
        return NULL;
    sigset_t old;
    block_sigprof(&old);
    void *h = real(nsid, file, mode);
    if (h && g_hooks.modules_changed)
        g_hooks.modules_changed(0);
    restore_mask(&old);
    return h;
}

/* Remembers a library about to be closed (once per file and load address). */
static void record_unload(void *handle)
{
    struct link_map *lm = NULL;
    if (!atomic_load(&g_record) || dlinfo(handle, RTLD_DI_LINKMAP, &lm) != 0 || !lm ||
        !lm->l_name || !*lm->l_name)
        return;
    char path[PATH_MAX];
    if (!realpath(lm->l_name, path))
        return;
    pthread_mutex_lock(&g_unload_lock);
    bool known = false;
    for (size_t i = 0; i < g_nunloaded && !known; i++)
        known = g_unloaded[i].bias == (uint64_t)lm->l_addr && strcmp(g_unloaded[i].path, path) == 0;
    if (!known && g_nunloaded == g_unloaded_cap) {
        size_t cap = g_unloaded_cap ? g_unloaded_cap * 2 : 16;
        struct unloaded_module *m = realloc(g_unloaded, cap * sizeof *m);
        if (m) {
            g_unloaded = m;
            g_unloaded_cap = cap;
        }
    }
    if (!known && g_nunloaded < g_unloaded_cap) {
        char *copy = strdup(path);
        if (copy)
            g_unloaded[g_nunloaded++] = (struct unloaded_module){copy, (uint64_t)lm->l_addr};
    }
    pthread_mutex_unlock(&g_unload_lock);
}

EXPORT int dlclose(void *handle)
{
    dlclose_fn real = RESOLVE(real_dlclose_p, dlclose_fn, "dlclose");
    if (!real)
        return -1;
    record_unload(handle);
    sigset_t old;
    block_sigprof(&old);
    struct link_map *lm = NULL;
    bool known = g_hooks.modules_changed && dlinfo(handle, RTLD_DI_LINKMAP, &lm) == 0 && lm;
    if (known) /* its segments may be unmapped at any moment from now on */
        g_hooks.modules_changed((uintptr_t)lm->l_addr);
    int rc = real(handle);
    if (known)
        g_hooks.modules_changed(0);
    restore_mask(&old);
    return rc;
}

EXPORT int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data)
{
    /* may run in the SIGPROF handler (libunwind): async-signal-safe */
    iterate_fn real = atomic_load(&real_iterate_p);
    if (!real)
        real = RESOLVE(real_iterate_p, iterate_fn, "dl_iterate_phdr");
    if (!real)
        return 0;
    sigset_t old;
    block_sigprof(&old);
    int rc = real(cb, data);
    restore_mask(&old);
    return rc;
}

void intercept_record_unloads(int on)
{
    atomic_store(&g_record, on);
}

const struct unloaded_module *intercept_unloaded(size_t *n)
{
    pthread_mutex_lock(&g_unload_lock);
    *n = g_nunloaded;
    const struct unloaded_module *m = g_unloaded;
    pthread_mutex_unlock(&g_unload_lock);
    return m;
}
