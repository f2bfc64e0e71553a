/* SPDX-License-Identifier: MIT */
/* alloc_life.c — allocations at every stage of a process's life, for the memory layer's tests.
 * Every allocation is of ALLOC_SIZE bytes (at PROFREG_MEMORY_RATE=1 each is sampled with
 * probability 1 - exp(-4096): the estimates are then exact), and each function prints what
 * it really did ("NAME BYTES COUNT").
 *
 *   alloc_life stages    ctor_alloc (a constructor, before main), main_alloc, dtor_alloc (a
 *                        destructor, after main), atexit_alloc (an atexit handler)
 *   alloc_life fork      before_fork, then a forked child's child_alloc (it exits), a child
 *                        that execs "alloc_life execd" (execd_alloc), then parent_alloc
 *   alloc_life threads_fork   four threads allocate while the main thread forks 20 children
 *   alloc_life signals   a SIGALRM handler allocates (on_signal_alloc) while the main thread
 *                        allocates in a loop (signal_loop)
 *   alloc_life edge      realloc to zero, huge and impossible requests, every allocator entry
 *                        point; prints what each returned (the same with and without profreg)
 *   alloc_life leak      leak_known leaks LEAK_COUNT blocks */

// clang-format off

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa))
#define ALLOC_SIZE 4096
#define LEAK_COUNT 100

static const char *g_self;

/* count allocations of ALLOC_SIZE, each freed at once; prints the truth */
static void churn(const char *name, int count)
{
    for (int i = 0; i < count; i++) {
        volatile char *p = malloc(ALLOC_SIZE);
        if (!p) { perror("malloc"); exit(1); }
        p[0] = (char)i;
        free((void *)p);
    }
    printf("%s %d %d\n", name, count * ALLOC_SIZE, count);
    fflush(stdout);
}

NOIPA void ctor_alloc(void) { churn("ctor_alloc", 30); }
NOIPA void dtor_alloc(void) { churn("dtor_alloc", 40); }
NOIPA void atexit_alloc(void) { churn("atexit_alloc", 50); }
NOIPA void main_alloc(void) { churn("main_alloc", 20); }
NOIPA void before_fork(void) { churn("before_fork", 25); }
NOIPA void child_alloc(void) { churn("child_alloc", 35); }
NOIPA void parent_alloc(void) { churn("parent_alloc", 45); }
NOIPA void execd_alloc(void) { churn("execd_alloc", 55); }

static int g_stage_mode;

/* stdout's buffer, so that printing allocates nothing */
static char g_stdout_buf[1 << 16];

/* (glibc passes constructors the program's arguments) */
__attribute__((constructor)) static void at_start(int argc, char **argv)
{
    setvbuf(stdout, g_stdout_buf, _IOLBF, sizeof g_stdout_buf);
    if (argc < 2 || strcmp(argv[1], "stages") == 0)
        ctor_alloc();
}

__attribute__((destructor)) static void at_end(void)
{
    if (g_stage_mode == 1)
        dtor_alloc();
}

static void on_exit_handler(void) { atexit_alloc(); }

static int mode_fork(void)
{
    before_fork();
    pid_t a = fork();
    if (a == 0) {
        child_alloc();
        exit(0);
    }
    pid_t b = fork();
    if (b == 0) {
        execl(g_self, g_self, "execd", (char *)NULL);
        perror("execl");
        _exit(127);
    }
    parent_alloc();
    int st1, st2;
    waitpid(a, &st1, 0);
    waitpid(b, &st2, 0);
    printf("children %d %d\n", WEXITSTATUS(st1), WEXITSTATUS(st2));
    return 0;
}

static volatile int g_stop;

static void *thread_alloc(void *arg)
{
    (void)arg;
    while (!g_stop) {
        void *volatile p = malloc(64 + (size_t)(rand() % 4096)); /* volatile: kept by the compiler */
        free(p);
    }
    return NULL;
}

static int mode_threads_fork(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_alloc, NULL);
    int ok = 0;
    for (int i = 0; i < 20; i++) {
        pid_t c = fork();
        if (c == 0) {
            for (int k = 0; k < 1000; k++) {
                void *volatile p = malloc(100 + (size_t)k);
                free(p);
            }
            _exit(0);
        }
        int st;
        if (waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0)
            ok++;
    }
    g_stop = 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("forked %d children, %d exited cleanly\n", 20, ok);
    return 0;
}

static volatile sig_atomic_t g_signals;

#define SIGNAL_SIZE (64 * 1024)

NOIPA void on_signal_alloc(void)
{
    /* (the main thread never holds malloc's lock: see signal_loop) */
    volatile char *p = malloc(SIGNAL_SIZE);
    p[0] = 1;
    free((void *)p);
}

static void on_alarm(int sig)
{
    (void)sig;
    on_signal_alloc();
    g_signals++;
}

NOIPA void signal_loop(void)
{
    /* one size, freed at once: malloc's per-thread cache serves it without a lock */
    for (long i = 0; g_signals < 200 && i < 20000000; i++) {
        volatile char *p = malloc(32);
        p[0] = 1;
        free((void *)p);
    }
}

static int mode_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 500}, {0, 500}};
    setitimer(ITIMER_REAL, &it, NULL);
    signal_loop();
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("signals handled: %s\n", g_signals >= 200 ? "200 or more" : "too few");
    printf("on_signal_alloc %d %d\n", SIGNAL_SIZE * (int)g_signals, (int)g_signals);
    return 0;
}

static int mode_edge(void)
{
    /* realloc to zero frees (glibc returns NULL) */
    void *p = malloc(ALLOC_SIZE);
    void *q = realloc(p, 0);
    printf("realloc(p, 0): %s\n", q ? "a block" : "NULL");
    free(q);
    /* impossible sizes fail with ENOMEM and leave errno so (volatile: the compiler would
     * refuse the constants) */
    volatile size_t max = SIZE_MAX, half = SIZE_MAX / 2;
    errno = 0;
    void *huge = malloc(max);
    printf("malloc(SIZE_MAX): %s, errno %s\n", huge ? "a block" : "NULL",
           errno == ENOMEM ? "ENOMEM" : "other");
    errno = 0;
    void *over = calloc(half, 4);
    printf("calloc overflow: %s, errno %s\n", over ? "a block" : "NULL",
           errno == ENOMEM ? "ENOMEM" : "other");
    errno = 0;
    void *big = realloc(NULL, (size_t)1 << 62);
    printf("realloc huge: %s, errno %s\n", big ? "a block" : "NULL",
           errno == ENOMEM ? "ENOMEM" : "other");
    /* a big one that works: 64 MiB, not touched */
    void *large = malloc((size_t)64 << 20);
    printf("malloc(64 MiB): %s\n", large ? "a block" : "NULL");
    free(large);
    /* every entry point */
    void *pm = NULL;
    int rc = posix_memalign(&pm, 3, 16);
    printf("posix_memalign(3): %s\n", rc == EINVAL ? "EINVAL" : "other");
    rc = posix_memalign(&pm, 256, 1000);
    printf("posix_memalign(256): %d, aligned %d\n", rc, ((uintptr_t)pm & 255) == 0);
    void *al = aligned_alloc(64, 640);
    void *ma = memalign(128, 300);
    void *va = valloc(5000);
    void *pv = pvalloc(5000);
    void *ca = calloc(100, 10);
    int zero = 1;
    for (int i = 0; i < 1000; i++)
        zero &= ((char *)ca)[i] == 0;
    printf("aligned %d %d %d %d, calloc zeroed %d\n", ((uintptr_t)al & 63) == 0,
           ((uintptr_t)ma & 127) == 0, ((uintptr_t)va & 4095) == 0, ((uintptr_t)pv & 4095) == 0,
           zero);
    printf("usable sizes at least requested: %d\n",
           malloc_usable_size(al) >= 640 && malloc_usable_size(ca) >= 1000 &&
               malloc_usable_size(NULL) == 0);
    /* a block grown by realloc keeps its contents */
    char *g = malloc(10);
    strcpy(g, "contents");
    for (size_t n = 20; n < 100000; n *= 3)
        g = realloc(g, n);
    printf("after growing: %s\n", g);
    free(g);
    free(pm);
    free(al);
    free(ma);
    free(va);
    free(pv);
    free(ca);
    free(NULL);
    return 0;
}

static void *volatile g_leaked[LEAK_COUNT]; /* volatile: the stores (and mallocs) stay */

NOIPA void leak_known(void)
{
    for (int i = 0; i < LEAK_COUNT; i++)
        g_leaked[i] = malloc(ALLOC_SIZE);
    printf("leak_known %d %d\n", LEAK_COUNT * ALLOC_SIZE, LEAK_COUNT);
}

int main(int argc, char **argv)
{
    g_self = argv[0];
    const char *mode = argc > 1 ? argv[1] : "stages";
    if (strcmp(mode, "stages") == 0) {
        g_stage_mode = 1;
        atexit(on_exit_handler);
        main_alloc();
        return 0;
    }
    if (strcmp(mode, "fork") == 0)
        return mode_fork();
    if (strcmp(mode, "execd") == 0) {
        execd_alloc();
        return 0;
    }
    if (strcmp(mode, "threads_fork") == 0)
        return mode_threads_fork();
    if (strcmp(mode, "signals") == 0)
        return mode_signals();
    if (strcmp(mode, "edge") == 0)
        return mode_edge();
    if (strcmp(mode, "leak") == 0) {
        leak_known();
        return 0;
    }
    fprintf(stderr, "alloc_life: unknown mode '%s'\n", mode);
    return 2;
}
