/* SPDX-License-Identifier: MIT */
/* timers.c — per-thread perf events or POSIX timers, and the SIGPROF handler.  [handler]
 *
 * Everything reachable from on_sigprof() is async-signal-safe: the unwinder (unwind.c),
 * atomics, the preallocated stack table, one ioctl to re-arm a perf event where its ring
 * buffer could not be mapped. errno is saved and restored. Signals that are not from our sources
 * are passed to the handler the program had installed before us, if any.
 *
 * A perf event is the thread's task clock with sample_period = 1/HZ s of CPU time; its
 * descriptor (close-on-exec, moved to 512 or above, away from the numbers a program expects;
 * no perf event where the descriptor limit does not allow that)
 * is set to signal SIGPROF to its thread (F_SETSIG, F_SETOWN_EX with F_OWNER_TID, O_ASYNC).
 * With a one-page ring buffer mapped (each overflow writes an 8-byte record and wakes the
 * owner: a signal), the handler only marks the record read, no system call; where the ring
 * cannot be mapped (perf_event_mlock_kb spent: 516 KB per unprivileged user), the event is
 * armed for one overflow at a time (PERF_EVENT_IOC_REFRESH) and the handler re-arms it.
 * The handler knows our signals by si_fd, marked in g_our_fd while the event is ours. */
#include "timers.h"

#include "api.h"
#include "intercept.h"
#include "unwind.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* sigev_value of our timers: tells our signals from anyone else's SIGPROF. */
#define PROFREG_SIGVAL 0x70726f66 /* "prof" */

/* How long timers_stop() waits for handlers in flight, in 1 ms steps. */
#define STOP_WAIT_MS 200

/* Perf event descriptors are moved to this number or above, and must stay below the limit. */
#define PERF_FD_MIN   INTERCEPT_FD_MIN
#define PERF_FD_LIMIT 8192

static struct stacktab *g_tab;
static clockid_t g_clock;
static enum pr_clock g_clock_pref;
static bool g_cpu_mode;
static bool g_no_sources; /* PROFREG_MEMORY=only: no handler, no source armed for any thread */
static uint64_t g_period_ns;
static _Atomic unsigned char g_our_fd[PERF_FD_LIMIT]; /* 1: a perf event of ours */
/* its ring buffer's control page (NULL: armed one overflow at a time) */
static struct perf_event_mmap_page *_Atomic g_ring[PERF_FD_LIMIT];
#define RING_BYTES (2 * 4096) /* the control page and one data page */
static _Atomic uint64_t g_perf_threads, g_timer_threads, g_fallback_threads;
static struct itimerspec g_interval;
static struct sigaction g_previous; /* the SIGPROF action before ours */
static _Atomic int g_running;
static _Atomic int g_in_handler;
static _Atomic uint64_t g_signals;
static _Atomic uint64_t g_truncated;
static _Atomic uint64_t g_skipped;
static _Atomic uint64_t g_paused;

static void take_sample(uint64_t weight, void *ucv)
{
    /* runs in the SIGPROF handler */
    if (api_thread_paused()) { /* profreg_pause: counted, not sampled */
        atomic_fetch_add_explicit(&g_paused, weight, memory_order_relaxed);
        return;
    }
    bool truncated = false;
    uint32_t n = 0;
    uint64_t *pcs = unwind_capture(ucv, &n, &truncated);
    if (!pcs) { /* too little stack left below the handler */
        atomic_fetch_add_explicit(&g_skipped, weight, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&g_signals, 1, memory_order_relaxed);
    if (truncated)
        atomic_fetch_add_explicit(&g_truncated, 1, memory_order_relaxed);
    uint32_t region = api_thread_region();
    if (n > 0 && region) /* the region rides after the frames (api.h) */
        pcs[n++] = API_REGION_TAG | region;
    if (n > 0)
        stacktab_insert(g_tab, pcs, n, weight);
}

static void forward_foreign(int signo, siginfo_t *si, void *ucv)
{
    /* runs in the SIGPROF handler */
    if (g_previous.sa_flags & SA_SIGINFO) {
        if (g_previous.sa_sigaction)
            g_previous.sa_sigaction(signo, si, ucv);
    } else if (g_previous.sa_handler != SIG_DFL && g_previous.sa_handler != SIG_IGN &&
               g_previous.sa_handler) {
        g_previous.sa_handler(signo);
    }
}

static void on_sigprof(int signo, siginfo_t *si, void *ucv)
{
    /* runs in the SIGPROF handler */
    int saved_errno = errno;
    atomic_fetch_add(&g_in_handler, 1);
    if (si && si->si_code == SI_TIMER && si->si_value.sival_int == PROFREG_SIGVAL) {
        if (atomic_load(&g_running))
            take_sample(1 + (uint64_t)(si->si_overrun > 0 ? si->si_overrun : 0), ucv);
    } else if (si && (si->si_code == POLL_IN || si->si_code == POLL_HUP) && si->si_fd >= 0 &&
               si->si_fd < PERF_FD_LIMIT && atomic_load(&g_our_fd[si->si_fd])) {
        struct perf_event_mmap_page *ring = atomic_load(&g_ring[si->si_fd]);
        if (ring) { /* the records are read: the ring never fills */
            uint64_t head = __atomic_load_n(&ring->data_head, __ATOMIC_ACQUIRE);
            __atomic_store_n(&ring->data_tail, head, __ATOMIC_RELEASE);
        }
        if (atomic_load(&g_running)) {
            take_sample(1, ucv);
            if (!ring)
                ioctl(si->si_fd, PERF_EVENT_IOC_REFRESH, 1); /* the next overflow */
        }
    } else {
        forward_foreign(signo, si, ucv);
    }
    atomic_fetch_sub(&g_in_handler, 1);
    errno = saved_errno;
}

int timers_start(struct stacktab *tab, enum pr_mode mode, enum pr_clock clock, unsigned hz,
                 bool fast_unwind, bool sample, char *err, size_t errlen)
{
    g_tab = tab;
    g_no_sources = !sample;
    g_clock = mode == PR_MODE_WALL ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
    g_cpu_mode = mode == PR_MODE_CPU;
    g_clock_pref = clock;
    long ns = 1000000000L / (long)hz;
    g_period_ns = (uint64_t)ns;
    g_interval.it_interval.tv_sec = ns / 1000000000L;
    g_interval.it_interval.tv_nsec = ns % 1000000000L;
    g_interval.it_value = g_interval.it_interval;

    if (unwind_init(fast_unwind, err, errlen) != 0)
        return -1;
    if (g_no_sources) /* the unwinder is started (allocation stacks); no SIGPROF, no sources */
        return 0;

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (intercept_sigaction(SIGPROF, &sa, &g_previous) != 0) {
        snprintf(err, errlen, "cannot install the SIGPROF handler: %s", strerror(errno));
        return -1;
    }
    intercept_hide_handler(SIGPROF, &g_previous); /* the program still sees its own action */
    atomic_store(&g_running, 1);
    return 0;
}

/* Unmarks fd (before the descriptor is closed) and, with unmap, unmaps its ring. Only the
 * event's own thread (or the single thread of a fork child) may unmap: another thread's
 * handler may have read the ring's address just before, so from elsewhere the mapping stays
 * (8 KB, and it keeps the ring alive after the descriptor is closed). */
static void forget_fd(int fd, bool unmap)
{
    atomic_store(&g_our_fd[fd], 0);
    struct perf_event_mmap_page *ring = atomic_exchange(&g_ring[fd], NULL);
    if (ring && unmap)
        munmap(ring, RING_BYTES);
}

/* A perf event counting the calling thread's CPU time that signals it every period, armed;
 * -1 with errno when the kernel refuses (perf_event_paranoid 3, seccomp, EMFILE, ENOSYS). */
static int open_perf_event(pid_t tid, uint64_t *id)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = g_period_ns;
    a.disabled = 1;
    a.exclude_kernel = 1; /* what perf_event_paranoid 2 allows an unprivileged process */
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return -1;
    /* out of the way of the program's own numbers (0, 1, 2, the next open's 3...); where it
     * cannot go there (a descriptor limit of 512 or less), no perf event: it would take a
     * number the program counts on */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, PERF_FD_MIN);
    close(fd);
    if (high < 0) {
        errno = EMFILE;
        return -1;
    }
    fd = high;
    struct f_owner_ex owner = {F_OWNER_TID, tid};
    int flags = fcntl(fd, F_GETFL);
    if (fd >= PERF_FD_LIMIT || flags < 0 || fcntl(fd, F_SETOWN_EX, &owner) != 0 ||
        fcntl(fd, F_SETSIG, SIGPROF) != 0 || fcntl(fd, F_SETFL, flags | O_ASYNC) != 0 ||
        ioctl(fd, PERF_EVENT_IOC_ID, id) != 0) {
        int e = fd >= PERF_FD_LIMIT ? EMFILE : errno;
        close(fd);
        errno = e;
        return -1;
    }
    void *ring = mmap(NULL, RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    atomic_store(&g_ring[fd], ring == MAP_FAILED ? NULL : ring);
    atomic_store(&g_our_fd[fd], 1);
    if (ioctl(fd, ring == MAP_FAILED ? PERF_EVENT_IOC_REFRESH : PERF_EVENT_IOC_ENABLE, 1) != 0) {
        int e = errno;
        forget_fd(fd, true);
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* Is fd still our perf event with this id (the program may have closed it, and the number
 * been reused)? */
static bool still_ours(int fd, uint64_t id)
{
    uint64_t now = 0;
    return fd >= 0 && fd < PERF_FD_LIMIT && atomic_load(&g_our_fd[fd]) &&
           ioctl(fd, PERF_EVENT_IOC_ID, &now) == 0 && now == id;
}

bool timers_is_ours(int fd)
{
    return fd >= 0 && fd < PERF_FD_LIMIT && atomic_load(&g_our_fd[fd]);
}

bool timers_lost(struct sampler *s)
{
    if (s->fd < 0 || still_ours(s->fd, s->id))
        return false;
    if (s->fd < PERF_FD_LIMIT)
        forget_fd(s->fd, true); /* called by its own thread */
    s->fd = -1;
    return true;
}

int timers_arm_current_thread(struct sampler *s, char *err, size_t errlen)
{
    unwind_thread_start();
    s->fd = -1;
    s->unarmed = g_no_sources;
    if (s->unarmed)
        return 0;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    int perf_errno = 0;
    if (g_cpu_mode && g_clock_pref != PR_CLOCK_TIMER) {
        s->tid = tid;
        s->fd = open_perf_event(tid, &s->id);
        if (s->fd >= 0) {
            atomic_fetch_add(&g_perf_threads, 1);
            return 0;
        }
        perf_errno = errno;
        if (g_clock_pref == PR_CLOCK_PERF) {
            snprintf(err, errlen, "cannot open a perf event (PROFREG_CLOCK=perf): %s",
                     strerror(perf_errno));
            return -1;
        }
    }
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGPROF;
    sev.sigev_value.sival_int = PROFREG_SIGVAL;
    sev.sigev_notify_thread_id = tid;
    if (timer_create(g_clock, &sev, &s->timer) != 0) {
        snprintf(err, errlen, "cannot create a sampling timer: %s", strerror(errno));
        return -1;
    }
    if (timer_settime(s->timer, 0, &g_interval, NULL) != 0) {
        snprintf(err, errlen, "cannot arm the sampling timer: %s", strerror(errno));
        timer_delete(s->timer);
        return -1;
    }
    atomic_fetch_add(&g_timer_threads, 1);
    if (perf_errno)
        atomic_fetch_add(&g_fallback_threads, 1);
    return 0;
}

void timers_delete(struct sampler *s)
{
    int saved = errno;
    if (s->fd >= 0) {
        if (still_ours(s->fd, s->id)) {
            forget_fd(s->fd, s->tid == (pid_t)syscall(SYS_gettid));
            close(s->fd);
        }
        s->fd = -1;
    } else if (!s->unarmed) {
        timer_delete(s->timer);
    }
    errno = saved;
}

void timers_forget(struct sampler *s)
{
    int saved = errno;
    if (s->fd >= 0 && still_ours(s->fd, s->id)) {
        forget_fd(s->fd, true); /* the child's copies (one thread); the event goes on */
        close(s->fd);
    }
    s->fd = -1;
    errno = saved;
}

void timers_stop(void)
{
    atomic_store(&g_running, 0);
    for (int i = 0; i < STOP_WAIT_MS && atomic_load(&g_in_handler) > 0; i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

void timers_get_stats(struct timer_stats *st)
{
    st->signals = atomic_load(&g_signals);
    st->truncated = atomic_load(&g_truncated);
    st->skipped = atomic_load(&g_skipped);
    st->paused = atomic_load(&g_paused);
    st->perf_threads = atomic_load(&g_perf_threads);
    st->timer_threads = atomic_load(&g_timer_threads);
    st->fallback_threads = atomic_load(&g_fallback_threads);
}

const char *timers_clock_name(void)
{
    if (g_no_sources)
        return NULL;
    bool perf = atomic_load(&g_perf_threads) > 0, timer = atomic_load(&g_timer_threads) > 0;
    return perf && timer ? "perf_event+timer" : perf ? "perf_event" : "timer";
}

void timers_reset_stats(void)
{
    atomic_store(&g_signals, 0);
    atomic_store(&g_truncated, 0);
    atomic_store(&g_skipped, 0);
    atomic_store(&g_paused, 0);
    atomic_store(&g_perf_threads, 0);
    atomic_store(&g_timer_threads, 0);
    atomic_store(&g_fallback_threads, 0);
}
