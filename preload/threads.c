/* SPDX-License-Identifier: MIT */
/* threads.c — per-thread sampler registry and the pthread_create interposer.
 *
 * The registry (sampler per slot) is guarded by a mutex and never touched by the signal
 * handler. A thread's sampler is deleted by a pthread key destructor, which runs both when
 * the start routine returns and on pthread_exit. After fork only the forking thread exists
 * in the child: the child's copies of the parent's perf event descriptors are closed, the
 * registry is cleared and that thread gets a new sampler. A child made without fork's handlers
 * (the clone system call) is noticed by the process hook, which every registration and every
 * pthread_create calls first. */
#include "threads.h"

#include "intercept.h"
#include "memprof.h"
#include "timers.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct thread_slot { /* one registered thread's sampler */
    struct sampler sampler;
    bool used;
};

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct thread_slot *g_slots;
static size_t g_nslots;
static pthread_key_t g_exit_key;
static _Atomic bool g_attaching; /* new threads get timers */
static _Atomic unsigned long g_seen;
static _Atomic unsigned long g_failed;
static bool (*g_check_process)(bool forked); /* preload.c: a new process starts afresh */

static pthread_create_fn real_pthread_create(void)
{
    static _Atomic(pthread_create_fn) real;
    pthread_create_fn fn = atomic_load(&real);
    if (!fn) {
        fn = (pthread_create_fn)dlsym(RTLD_NEXT, "pthread_create");
        atomic_store(&real, fn);
    }
    return fn;
}

static void on_thread_exit(void *value)
{
    size_t idx = (size_t)(uintptr_t)value - 1;
    pthread_mutex_lock(&g_lock);
    if (idx < g_nslots && g_slots[idx].used) {
        timers_delete(&g_slots[idx].sampler);
        g_slots[idx].used = false;
    }
    pthread_mutex_unlock(&g_lock);
}

/* A free registry slot index (growing the array), or -1. Called with g_lock held. */
static long free_slot(void)
{
    for (size_t i = 0; i < g_nslots; i++)
        if (!g_slots[i].used)
            return (long)i;
    size_t n = g_nslots ? g_nslots * 2 : 64;
    struct thread_slot *s = realloc(g_slots, n * sizeof *s);
    if (!s)
        return -1;
    memset(s + g_nslots, 0, (n - g_nslots) * sizeof *s);
    g_slots = s;
    long idx = (long)g_nslots;
    g_nslots = n;
    return idx;
}

int threads_attach_current(char *err, size_t errlen)
{
    if (!atomic_load(&g_attaching))
        return 0;
    if (g_check_process)
        g_check_process(false);
    memprof_own_begin(); /* profreg's allocations here are not the program's */
    pthread_mutex_lock(&g_lock);
    long idx = free_slot();
    int rc = -1;
    if (idx < 0) {
        snprintf(err, errlen, "out of memory registering a thread");
    } else if (timers_arm_current_thread(&g_slots[idx].sampler, err, errlen) == 0) {
        g_slots[idx].used = true;
        atomic_fetch_add(&g_seen, 1);
        rc = 0;
    }
    pthread_mutex_unlock(&g_lock);
    if (rc == 0)
        pthread_setspecific(g_exit_key, (void *)(uintptr_t)(idx + 1));
    memprof_own_end();
    return rc;
}

void threads_rearm_current(void)
{
    if (!atomic_load(&g_attaching))
        return;
    void *v = pthread_getspecific(g_exit_key);
    if (!v)
        return;
    size_t idx = (size_t)(uintptr_t)v - 1;
    char err[256];
    memprof_own_begin();
    pthread_mutex_lock(&g_lock);
    if (idx < g_nslots && g_slots[idx].used && timers_lost(&g_slots[idx].sampler) &&
        timers_arm_current_thread(&g_slots[idx].sampler, err, sizeof err) != 0)
        g_slots[idx].used = false; /* no source now: the thread goes unsampled */
    pthread_mutex_unlock(&g_lock);
    memprof_own_end();
}

void threads_detach_all(void)
{
    atomic_store(&g_attaching, false);
    pthread_mutex_lock(&g_lock);
    for (size_t i = 0; i < g_nslots; i++) {
        if (g_slots[i].used) {
            timers_delete(&g_slots[i].sampler);
            g_slots[i].used = false;
        }
    }
    pthread_mutex_unlock(&g_lock);
}

unsigned long threads_seen(void)
{
    return atomic_load(&g_seen);
}

unsigned long threads_failed(void)
{
    return atomic_load(&g_failed);
}

static void before_fork(void)
{
    pthread_mutex_lock(&g_lock);
}

static void after_fork_parent(void)
{
    pthread_mutex_unlock(&g_lock);
}

void threads_forget_all(void)
{
    /* Timers are not inherited, perf event descriptors are (the parent's events): the
     * parent's registry means nothing here. Its lock may have been held by a thread of the
     * parent's (a child made by clone without fork's handlers). */
    pthread_mutex_init(&g_lock, NULL);
    for (size_t i = 0; i < g_nslots; i++) {
        if (g_slots[i].used)
            timers_forget(&g_slots[i].sampler);
        g_slots[i].used = false;
    }
    atomic_store(&g_seen, 0);
    atomic_store(&g_failed, 0);
}

static void after_fork_child(void)
{
    if (g_check_process)
        g_check_process(true); /* starts afresh: the pid changed */
    char err[256];
    threads_attach_current(err, sizeof err);
}

int threads_init(bool (*check_process)(bool forked), char *err, size_t errlen)
{
    g_check_process = check_process;
    if (!real_pthread_create()) {
        snprintf(err, errlen, "cannot find pthread_create: %s", dlerror());
        return -1;
    }
    if (pthread_key_create(&g_exit_key, on_thread_exit) != 0) {
        snprintf(err, errlen, "cannot create a thread-exit key");
        return -1;
    }
    if (pthread_atfork(before_fork, after_fork_parent, after_fork_child) != 0) {
        snprintf(err, errlen, "cannot register fork handlers");
        return -1;
    }
    atomic_store(&g_attaching, true);
    return 0;
}

struct start {
    void *(*fn)(void *);
    void *arg;
};

static void *start_thread(void *p)
{
    struct start s = *(struct start *)p;
    free(p);
    char err[256];
    if (threads_attach_current(err, sizeof err) != 0)
        atomic_fetch_add(&g_failed, 1); /* reported once, in the profile's summary */
    return s.fn(s.arg);
}

EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start_routine)(void *), void *arg)
{
    pthread_create_fn real = real_pthread_create();
    if (!real)
        return EAGAIN;
    if (!atomic_load(&g_attaching))
        return real(thread, attr, start_routine, arg);
    char err[256];
    if (g_check_process && g_check_process(false)) /* the first thread of a child made by */
        threads_attach_current(err, sizeof err);   /* clone: its creator is sampled too */
    struct start *s = malloc(sizeof *s);
    if (!s)
        return real(thread, attr, start_routine, arg);
    s->fn = start_routine;
    s->arg = arg;
    int rc = real(thread, attr, start_thread, s);
    if (rc != 0)
        free(s);
    return rc;
}
