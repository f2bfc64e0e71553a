/* SPDX-License-Identifier: MIT */
/* preload.c — libprofreg.so's life cycle: start at load, restart in a forked child, stop
 * and write the profile however the process ends: exit or return from main (destructor),
 * _exit/_Exit (interposed), or SIGINT/SIGTERM/SIGHUP/SIGABRT with the default action (a
 * forked copy writes the profile, then the process dies of the same signal). Where the end
 * comes inside a signal handler (those, or the program's own calling exit), nothing here
 * allocates or locks: a forked copy writes, with a time limit. Yields SIGPROF to a program
 * that takes it over.
 *
 * Invariant: whatever fails here, the program runs on unharmed; profreg says so in one
 * line on stderr and stops profiling. The profile is written at most once per process. */
#include "api.h"
#include "intercept.h"
#include "memprof.h"
#include "output.h"
#include "settings.h"
#include "stacktab.h"
#include "threads.h"
#include "timers.h"
#include "unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fsutil.h"

enum { STATE_OFF, STATE_PROFILING, STATE_FINISHED };

static struct settings g_cfg;
static struct run_info g_run;
static struct stacktab *g_tab;
static _Atomic int g_state = STATE_OFF;
static _Atomic pid_t g_pid;          /* the process being profiled (updated in a fork child) */
static _Atomic bool g_sigprof_given; /* the program took SIGPROF over */
static bool g_start_unknown;         /* g_run.start is not this process's start */
/* Held while a profile is written from a running process (profreg_flush) and by the ordinary
 * end, so that the two never symbolize at once. */
static pthread_mutex_t g_write_lock = PTHREAD_MUTEX_INITIALIZER;

/* Signals whose default action ends the process; profreg writes the profile first. */
static const int fatal_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGABRT};

/* How long a process ending in a signal handler waits for its profile to be written by a
 * forked copy. */
#define COPY_WRITE_TIMEOUT_MS 5000

static void say(const char *line)
{
    /* One line on stderr, without stdio (the program may have closed or redirected it). */
    size_t len = strlen(line);
    ssize_t r = write(STDERR_FILENO, line, len);
    r = write(STDERR_FILENO, "\n", 1);
    (void)r;
}

static void sayf(const char *what, const char *detail)
{
    char line[1024];
    snprintf(line, sizeof line, "profreg: %s: %s; the program runs without profiling", what,
             detail);
    say(line);
}

static const char *get_env(const char *name)
{
    return getenv(name);
}

/* True when PROFREG_TARGET is unset or matches this executable's basename: the file's
 * (symbolic links resolved) or the name it was started by (argv[0]'s, as the user typed it:
 * ./msd_sim_test -> build/msd_sim_test.v2). */
static bool is_target(const char *target)
{
    if (!*target)
        return true;
    if (program_invocation_short_name && fnmatch(target, program_invocation_short_name, 0) == 0)
        return true;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    return fnmatch(target, fs_basename(exe), 0) == 0;
}

/* Parses a decimal number at p (async-signal-safe). */
static unsigned long long decimal_at(const char *p)
{
    unsigned long long v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (unsigned long long)(*p - '0');
    return v;
}

/* When this process started, on CLOCK_MONOTONIC: /proc/self/stat's starttime (clock ticks
 * since boot, field 22) against CLOCK_BOOTTIME. False when it cannot be read.
 * Async-signal-safe. */
static bool process_start(struct timespec *out)
{
    char buf[1024];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name before it may hold anything */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    long tick = sysconf(_SC_CLK_TCK);
    struct timespec boot, mono;
    if (!p || tick <= 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0 ||
        clock_gettime(CLOCK_MONOTONIC, &mono) != 0)
        return false;
    unsigned long long ticks = decimal_at(p + 1);
    long long age_ns = (long long)boot.tv_sec * 1000000000LL + boot.tv_nsec -
                       (long long)(ticks / (unsigned long long)tick) * 1000000000LL -
                       (long long)(ticks % (unsigned long long)tick) * (1000000000LL / tick);
    long long start_ns =
        (long long)mono.tv_sec * 1000000000LL + mono.tv_nsec - (age_ns > 0 ? age_ns : 0);
    out->tv_sec = (time_t)(start_ns / 1000000000LL);
    out->tv_nsec = (long)(start_ns % 1000000000LL);
    return true;
}

enum memory { MEMORY_SEPARATE, MEMORY_SHARED, MEMORY_UNKNOWN };

/* Does this process share its memory with process `other` (a vfork child with its parent)?
 * kcmp (unknown where the kernel or a seccomp filter refuses it). Async-signal-safe. */
static enum memory memory_relation(pid_t other)
{
    long r = syscall(SYS_kcmp, (pid_t)syscall(SYS_getpid), other, KCMP_VM, 0, 0);
    return r == 0 ? MEMORY_SHARED : r > 0 ? MEMORY_SEPARATE : MEMORY_UNKNOWN;
}

/* Is this process another than the one profiled so far: a fork child (forked, from the fork
 * handler), or a child made by the clone system call without fork's handlers, noticed when it
 * registers a thread or ends? Then it starts afresh (true): the parent's samples, statistics
 * and threads are forgotten and its run counts from its start. A child sharing the parent's
 * memory (vfork; such a child may only exec or _exit) is left alone: that state is the
 * parent's. Async-signal-safe (it also runs at ends inside signal handlers). */
static bool check_process(bool forked)
{
    pid_t pid = (pid_t)syscall(SYS_getpid), was = atomic_load(&g_pid);
    if (pid == was || (!forked && memory_relation(was) == MEMORY_SHARED))
        return false;
    atomic_store(&g_pid, pid);
    threads_forget_all();
    unwind_after_fork();
    atomic_store(&g_sigprof_given, false);
    if (atomic_load(&g_state) != STATE_PROFILING)
        return true;
    stacktab_reset(g_tab);
    timers_reset_stats();
    memprof_restart_in_child();
    g_start_unknown = false;
    if (forked)
        clock_gettime(CLOCK_MONOTONIC, &g_run.start);
    else if (!process_start(&g_run.start))
        g_start_unknown = true; /* its wall time is left out of the profile */
    return true;
}

static void finish(void);
static void sigprof_taken(const char *what);
static void install_fatal_handlers(void);
static int flush_profile(const char *path);

static bool profiling(void)
{
    return atomic_load(&g_state) == STATE_PROFILING;
}

/* In a fork child: a flush another thread of the parent was making is not the child's. */
static void write_lock_after_fork(void)
{
    pthread_mutex_init(&g_write_lock, NULL);
}

/* _exit/_Exit: the profiled process itself, or a child with a memory of its own (made by the
 * clone system call) — not a vfork child sharing the parent's memory (the usual one to call
 * _exit), nor one kcmp cannot tell from that. */
static void before_exit(void)
{
    pid_t was = atomic_load(&g_pid);
    if ((pid_t)syscall(SYS_getpid) == was || memory_relation(was) == MEMORY_SEPARATE)
        finish();
}

/* dlopen/dlclose: the handler's record of the loaded modules follows, while sampling. */
static void modules_changed(uintptr_t closing)
{
    if (atomic_load(&g_state) == STATE_PROFILING) {
        memprof_own_begin();
        unwind_modules_changed(closing);
        memprof_own_end();
    }
}

/* PROFREG_MEMORY=1 or only: allocations are sampled (a failure costs only them; with only,
 * there is nothing else to profile, so profiling stops). Out of line, so that its buffers do
 * not grow the constructor's frame. */
static __attribute__((noinline)) void start_memory(void)
{
    char err[512];
    if (memprof_start(g_cfg.memory_rate, g_cfg.max_stacks, err, sizeof err) != 0) {
        char line[sizeof err + 128];
        snprintf(line, sizeof line, "profreg: PROFREG_MEMORY: %s; %s", err,
                 g_cfg.memory_only ? "the program runs without profiling"
                                   : "allocations are not profiled");
        say(line);
        if (g_cfg.memory_only) {
            atomic_store(&g_state, STATE_FINISHED);
            threads_detach_all();
            timers_stop();
        }
    }
}

__attribute__((constructor)) static void profreg_load(void)
{
    struct intercept_hooks hooks = {before_exit,    sigprof_taken,      threads_rearm_current,
                                    timers_is_ours, unwind_in_progress, modules_changed};
    memprof_resolve();
    intercept_init(&hooks);
    struct api_hooks api = {flush_profile, profiling};
    api_init(&api);
    pthread_atfork(NULL, NULL, write_lock_after_fork);
    atomic_store(&g_pid, getpid());
    settings_load(&g_cfg, get_env, say);
    if (g_cfg.disabled || getauxval(AT_SECURE) || !is_target(g_cfg.target))
        return;

    char err[PATH_MAX + 256];
    if (output_prepare(&g_run, &g_cfg, err, sizeof err) != 0) {
        sayf("no place for the profile", err);
        return;
    }
    g_tab = stacktab_create(g_cfg.max_stacks);
    if (!g_tab) {
        sayf("cannot reserve memory for the stack table", "mmap failed");
        return;
    }
    if (timers_start(g_tab, g_cfg.mode, g_cfg.clock, g_cfg.frequency, !g_cfg.slow_unwind,
                     !g_cfg.memory_only, err, sizeof err) != 0 ||
        threads_init(check_process, err, sizeof err) != 0) {
        sayf("cannot start sampling", err);
        return;
    }
    atomic_store(&g_state, STATE_PROFILING);
    if (threads_attach_current(err, sizeof err) != 0) {
        atomic_store(&g_state, STATE_FINISHED);
        threads_detach_all();
        timers_stop();
        sayf("cannot sample the main thread", err);
        return;
    }
    intercept_record_unloads(1);
    install_fatal_handlers();
    if (g_cfg.memory)
        start_memory();
}

static double timeval_ms(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* Measures the run (async-signal-safe: clocks, getrusage and counters only). */
static void measure(struct run_stats *st)
{
    memset(st, 0, sizeof *st);
    st->pid = getpid();
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    st->wall_ms = g_start_unknown ? NAN
                                  : (double)(now.tv_sec - g_run.start.tv_sec) * 1e3 +
                                        (double)(now.tv_nsec - g_run.start.tv_nsec) / 1e6;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        st->cpu_ms = timeval_ms(ru.ru_utime) + timeval_ms(ru.ru_stime);
        st->peak_rss_kb = (double)ru.ru_maxrss;
    }
    struct timer_stats ts;
    timers_get_stats(&ts);
    st->signals = ts.signals;
    st->truncated = ts.truncated;
    st->skipped = ts.skipped;
    st->paused = ts.paused;
    st->clock = timers_clock_name();
    st->clock_fallback_threads = ts.fallback_threads;
    st->lost = stacktab_lost(g_tab);
    st->threads = threads_seen();
    st->unsampled_threads = threads_failed();
}

/* Symbolizes, writes the profile and says where it went. */
static void write_profile(const struct run_stats *st, const struct timespec *stopped)
{
    char path[PATH_MAX], err[PATH_MAX + 256];
    if (output_write_profile(&g_run, g_tab, st, path, sizeof path, err, sizeof err) != 0) {
        char line[sizeof err + 64];
        snprintf(line, sizeof line, "profreg: no profile written: %s", err);
        say(line);
        return;
    }
    if (!g_cfg.quiet) {
        struct timespec done;
        clock_gettime(CLOCK_MONOTONIC, &done);
        double exit_ms = (double)(done.tv_sec - stopped->tv_sec) * 1e3 +
                         (double)(done.tv_nsec - stopped->tv_nsec) / 1e6;
        char lost[96] = "", skipped[96] = "";
        if (st->lost)
            snprintf(lost, sizeof lost, "; %llu samples lost, raise PROFREG_MAX_STACKS",
                     (unsigned long long)st->lost);
        if (st->skipped)
            snprintf(skipped, sizeof skipped, "; %llu samples skipped on a nearly full stack",
                     (unsigned long long)st->skipped);
        char line[PATH_MAX + 256];
        snprintf(line, sizeof line, "profreg: wrote %s (%.0f ms at exit%s%s)", path, exit_ms, lost,
                 skipped);
        say(line);
    }
}

static void write_from_copy(void);

/* Stops sampling, measures the run and writes the profile. Runs at most once. Inside a signal
 * handler (the program calls exit or _exit there), the handler may have interrupted a lock
 * the writing needs (malloc's, stdio's): a forked copy writes, with a time limit. */
static void finish(void)
{
    check_process(false); /* a child made by clone that made no thread: nothing of it sampled */
    int expected = STATE_PROFILING;
    if (!atomic_compare_exchange_strong(&g_state, &expected, STATE_FINISHED))
        return;
    if (unwind_in_signal_handler()) {
        write_from_copy();
        return;
    }
    struct timespec stopped;
    clock_gettime(CLOCK_MONOTONIC, &stopped);
    timers_stop();
    memprof_stop();
    threads_detach_all();
    struct run_stats st;
    measure(&st);
    pthread_mutex_lock(&g_write_lock); /* a flush under way finishes first */
    write_profile(&st, &stopped);
    pthread_mutex_unlock(&g_write_lock);
}

/* profreg_flush: a profile of the samples so far, written while sampling goes on (the calling
 * thread paused meanwhile, so that its symbolizing is not sampled). No memory section: the
 * allocation sampler's tables are read only once it has stopped. */
static int flush_profile(const char *path)
{
    static struct run_info ri; /* under g_write_lock */
    char out[PATH_MAX], err[PATH_MAX + 256];
    check_process(false); /* a child made by clone starts afresh first */
    api_pause_self();
    memprof_own_begin();
    pthread_mutex_lock(&g_write_lock);
    int rc = -1, error = ENOSYS;
    if (atomic_load(&g_state) == STATE_PROFILING) {
        ri = g_run;
        if (!path || output_retarget(&ri, path, err, sizeof err) == 0) {
            struct run_stats st;
            measure(&st);
            st.snapshot = true;
            rc = output_write_profile(&ri, g_tab, &st, out, sizeof out, err, sizeof err);
        }
        char line[sizeof err + 64];
        if (rc != 0)
            snprintf(line, sizeof line, "profreg: profreg_flush: no profile written: %s", err);
        else
            snprintf(line, sizeof line, "profreg: flushed %s", out);
        if (rc != 0 || !g_cfg.quiet)
            say(line);
        error = EIO;
    }
    pthread_mutex_unlock(&g_write_lock);
    memprof_own_end();
    api_resume_self();
    if (rc != 0)
        errno = error;
    return rc;
}

/* The program installs a SIGPROF action or arms ITIMER_PROF: SIGPROF is its own again.
 * Without CPU or wall sampling (PROFREG_MEMORY=only) profreg never took it. */
static void sigprof_taken(const char *what)
{
    if (g_cfg.memory_only || atomic_load(&g_state) != STATE_PROFILING ||
        getpid() != atomic_load(&g_pid) || atomic_exchange(&g_sigprof_given, true))
        return;
    timers_stop();
    threads_detach_all();
    char line[256];
    snprintf(line, sizeof line,
             "profreg: the program %s; sampling stops here (the profile keeps what was "
             "sampled so far)",
             what);
    say(line);
}

/* Appends the decimal digits of v to p (async-signal-safe); returns the end. */
static char *put_decimal(char *p, unsigned long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = digits[--n];
    return p;
}

/* Parses a number (decimal, or hex after 0x) at *p, moving *p past it and one space. */
static unsigned long take_number(const char **p)
{
    const char *s = *p;
    unsigned long v = 0;
    if (s[0] == '0' && s[1] == 'x') {
        for (s += 2;; s++) {
            int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
            if (d < 0)
                break;
            v = v * 16 + (unsigned long)d;
        }
    } else {
        for (; *s >= '0' && *s <= '9'; s++)
            v = v * 10 + (unsigned long)(*s - '0');
    }
    *p = *s == ' ' ? s + 1 : s;
    return v;
}

/* Is the copy (one thread, see write_from_copy) waiting, without a time limit, on a private
 * futex: a lock that was held when it was forked, by the code the signal handler interrupted
 * or by another thread? In a process of one thread nothing can release it. Reads
 * /proc/PID/syscall (number, then six arguments); false when that cannot be read.
 * Async-signal-safe. */
static bool copy_is_stuck(pid_t pid)
{
    char path[64] = "/proc/", buf[256];
    char *e = put_decimal(path + 6, (unsigned long)pid);
    memcpy(e, "/syscall", sizeof "/syscall");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0 || buf[0] < '0' || buf[0] > '9')
        return false; /* "running", or not readable */
    buf[n] = '\0';
    const char *p = buf;
    unsigned long args[7];
    for (int i = 0; i < 7; i++)
        args[i] = take_number(&p); /* the number, then the arguments */
    int op = (int)args[2], cmd = op & FUTEX_CMD_MASK;
    return args[0] == SYS_futex && (op & FUTEX_PRIVATE_FLAG) &&
           (cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET) && args[4] == 0; /* no timeout */
}

/* In a signal handler (a fatal signal's, or the program's own that calls exit or _exit): a
 * forked copy of the process (one thread, the same memory) writes the profile while this one
 * waits, at most COPY_WRITE_TIMEOUT_MS. The copy can block forever on a lock held at the fork
 * (malloc's, interrupted by the signal, or one another thread held): it is killed as soon as
 * it is seen waiting on one, and the line says why there is no profile. */
static void write_from_copy(void)
{
    /* runs in a signal handler: async-signal-safe up to the fork */
    struct timespec stopped;
    clock_gettime(CLOCK_MONOTONIC, &stopped);
    timers_stop();
    memprof_stop();
    struct run_stats st;
    measure(&st);
    st.in_copy = true;
    pid_t child = _Fork();
    if (child == 0) {
        write_profile(&st, &stopped); /* st.pid is the original process's */
        syscall(SYS_exit_group, 0);
    }
    if (child < 0) {
        say("profreg: no profile written: cannot fork a copy to write it from a signal handler");
        return;
    }
    for (int waited = 0;; waited += 5) {
        int status;
        pid_t r = waitpid(child, &status, WNOHANG);
        if (r == child || (r < 0 && errno != EINTR))
            return; /* done, or reaped by the program's own SIGCHLD handler */
        bool stuck = waited >= 10 && copy_is_stuck(child);
        if (stuck || waited >= COPY_WRITE_TIMEOUT_MS) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            say(stuck ? "profreg: no profile written: the process ended inside a signal handler "
                        "while a lock it needs (malloc's, stdio's) was held"
                      : "profreg: no profile written: writing it from a signal handler took "
                        "too long");
            return;
        }
        struct timespec ms = {0, 5000000};
        nanosleep(&ms, NULL);
    }
}

static void on_fatal(int sig, siginfo_t *si, void *uc)
{
    /* runs in a signal handler (a signal whose default action ends the process) */
    (void)si;
    (void)uc;
    int saved = errno;
    int expected = STATE_PROFILING;
    pid_t was = atomic_load(&g_pid);
    bool own = (pid_t)syscall(SYS_getpid) == was || memory_relation(was) == MEMORY_SEPARATE;
    if (own)
        check_process(false);
    if (own && atomic_compare_exchange_strong(&g_state, &expected, STATE_FINISHED))
        write_from_copy();
    /* end exactly as without profreg: the default action of the same signal */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    intercept_sigaction(sig, &dfl, NULL);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    raise(sig);
    errno = saved;
}

/* Only where the program starts with the default action (not where it inherited SIG_IGN,
 * as under nohup); a handler the program installs later replaces profreg's. */
static void install_fatal_handlers(void)
{
    for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
        int sig = fatal_signals[i];
        struct sigaction cur, act;
        if (intercept_sigaction(sig, NULL, &cur) != 0 || (cur.sa_flags & SA_SIGINFO) ||
            cur.sa_handler != SIG_DFL)
            continue;
        memset(&act, 0, sizeof act);
        act.sa_sigaction = on_fatal;
        act.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&act.sa_mask);
        for (size_t k = 0; k < sizeof fatal_signals / sizeof fatal_signals[0]; k++)
            sigaddset(&act.sa_mask, fatal_signals[k]); /* one at a time */
        if (intercept_sigaction(sig, &act, NULL) == 0)
            intercept_hide_handler(sig, &cur);
    }
}

__attribute__((destructor)) static void profreg_unload(void)
{
    finish();
}
