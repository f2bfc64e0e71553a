/* SPDX-License-Identifier: MIT */
/* baresig.c — libbaresig.so, for `make bench`: what a sample costs before profreg's handler
 * does anything. Preloaded into a single-threaded workload, it opens the same per-thread perf
 * event as profreg (task clock, 1/PROFREG_FREQUENCY s, default 1000 Hz; the same one-page
 * ring and SIGPROF to the thread) with a handler that only marks the ring's records read. The
 * bench subtracts its time from profreg's: the rest is the handler's own cost. Prints the
 * number of signals on stderr at exit. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct perf_event_mmap_page *g_ring;
static volatile long g_signals;

static void on_sigprof(int sig, siginfo_t *si, void *uc)
{
    /* runs in the SIGPROF handler */
    (void)sig;
    (void)si;
    (void)uc;
    uint64_t head = __atomic_load_n(&g_ring->data_head, __ATOMIC_ACQUIRE);
    __atomic_store_n(&g_ring->data_tail, head, __ATOMIC_RELEASE);
    g_signals++;
}

__attribute__((constructor)) static void start(void)
{
    const char *f = getenv("PROFREG_FREQUENCY");
    long hz = f ? atol(f) : 1000;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigprof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = (uint64_t)(1000000000L / (hz > 0 ? hz : 1000));
    a.disabled = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
    void *ring =
        fd < 0 ? MAP_FAILED : mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (ring == MAP_FAILED || fcntl(fd, F_SETOWN_EX, &owner) != 0 ||
        fcntl(fd, F_SETSIG, SIGPROF) != 0 ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_ASYNC) != 0) {
        fprintf(stderr, "baresig: no perf event\n");
        return;
    }
    g_ring = ring;
    ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
}

__attribute__((destructor)) static void stop(void)
{
    fprintf(stderr, "baresig: %ld signals\n", g_signals);
}
