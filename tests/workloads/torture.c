/* SPDX-License-Identifier: MIT */
/* torture.c — programs that fork, exec, end in every way, take SIGPROF over, block it,
 * load and unload libraries, create many threads: the cases profreg must survive.
 *
 *   torture MODE [ARG]   (see the table in main; every mode prints what it did on stdout,
 *                         so a run with and without the preload can be compared)
 *
 * Each mode burns CPU in functions with distinctive names (noinline) so a test can check
 * which of them the profile holds. */
#define _GNU_SOURCE
#include "burn.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static volatile uint64_t sink = 1;

/* A function burning u units; k makes each body distinct, so gcc's identical-code folding
 * cannot merge them into one symbol. */
#define WORK(name, k)                                                                              \
    NOINLINE static void name(unsigned u)                                                          \
    {                                                                                              \
        uint64_t x = sink ^ (k);                                                                   \
        BURN(u, x);                                                                                \
        sink = x + (k);                                                                            \
    }

WORK(parent_work, 1)

WORK(child_work, 2)

WORK(main_work, 3)

WORK(worker_work, 4)

WORK(blocked_work, 5)

WORK(after_unload_work, 6)

WORK(closed_fds_work, 7)

WORK(many_work, 8)

WORK(reuse_work, 9)

WORK(altstack_work, 10)

/* ---- fork ----------------------------------------------------------------------------------- */

static int mode_fork(int child_exit_with_underscore)
{
    parent_work(100);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        child_work(100);
        if (child_exit_with_underscore)
            _exit(5); /* the death-test pattern: no atexit, no destructors */
        exit(4);
    }
    parent_work(100);
    int st;
    waitpid(pid, &st, 0);
    printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/* ---- exec ----------------------------------------------------------------------------------- */

static int mode_exec(const char *self, const char *target)
{
    parent_work(30);
    fflush(stdout);
    if (strcmp(target, "self") == 0)
        execl(self, self, "execd", (char *)NULL);
    else
        execl(target, target, (char *)NULL);
    perror("exec");
    return 127;
}

/* ---- ways to end ---------------------------------------------------------------------------- */

static void *pthread_exit_worker(void *arg)
{
    (void)arg;
    worker_work(150);
    printf("worker done\n");
    fflush(stdout);
    return NULL;
}

static int mode_end(const char *how)
{
    main_work(100);
    printf("ending by %s\n", how);
    fflush(stdout);
    if (strcmp(how, "exit") == 0)
        exit(3);
    if (strcmp(how, "_exit") == 0)
        _exit(4);
    if (strcmp(how, "_Exit") == 0)
        _Exit(5);
    if (strcmp(how, "abort") == 0)
        abort();
    if (strcmp(how, "pthread_exit") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, pthread_exit_worker, NULL);
        pthread_exit(NULL);
    }
    int sig = strcmp(how, "SIGINT") == 0    ? SIGINT
              : strcmp(how, "SIGTERM") == 0 ? SIGTERM
              : strcmp(how, "SIGHUP") == 0  ? SIGHUP
                                            : 0;
    if (sig) {
        kill(getpid(), sig); /* process-directed, like kill(1) or a terminal */
        pause();
    }
    return 2; /* "return": from main */
}

/* ---- SIGPROF taken over by the program ------------------------------------------------------ */

static atomic_int ticks;

static void own_handler(int sig)
{
    (void)sig;
    atomic_fetch_add(&ticks, 1);
}

static int mode_own_sigprof(int with_handler)
{
    main_work(50);
    if (with_handler) {
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = own_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPROF, &sa, &old);
        /* what the program sees as the previous action: the default, as without profreg */
        printf("previous action was default: %s\n", old.sa_handler == SIG_DFL ? "yes" : "no");
    }
    struct itimerval it = {{0, 10000}, {0, 10000}};
    setitimer(ITIMER_PROF, &it, NULL);
    worker_work(300); /* without a handler, the first tick kills the process (SIGPROF) */
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    printf("own handler ran: %s\n", atomic_load(&ticks) > 0 ? "yes" : "no");
    return 0;
}

/* ---- a thread that blocks SIGPROF ----------------------------------------------------------- */

static void *blocking_thread(void *arg)
{
    (void)arg;
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    blocked_work(150);
    return NULL;
}

static int mode_block_sigprof(void)
{
    pthread_t t;
    pthread_create(&t, NULL, blocking_thread, NULL);
    main_work(150);
    pthread_join(t, NULL);
    printf("joined\n");
    return 0;
}

/* ---- a blocking read in wall mode: restarted, never EINTR ----------------------------------- */

static int pipefd[2];

static void *late_writer(void *arg)
{
    (void)arg;
    struct timespec t = {0, 300000000};
    nanosleep(&t, NULL);
    ssize_t w = write(pipefd[1], "x", 1);
    (void)w;
    return NULL;
}

static int mode_read_restart(void)
{
    if (pipe(pipefd) != 0)
        return 1;
    pthread_t t;
    pthread_create(&t, NULL, late_writer, NULL);
    char c;
    ssize_t n = read(pipefd[0], &c, 1);
    printf("read returned %zd (%s)\n", n, n < 0 ? strerror(errno) : "ok");
    pthread_join(t, NULL);
    return n == 1 ? 0 : 1;
}

/* ---- dlopen / dlclose ----------------------------------------------------------------------- */

static int mode_dlopen(const char *lib, long loops)
{
    for (long i = 0; i < loops; i++) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            printf("dlopen failed: %s\n", dlerror());
            return 1;
        }
        void (*burn)(unsigned) = (void (*)(unsigned))dlsym(h, "plugin_burn");
        if (!burn) {
            printf("dlsym failed\n");
            return 1;
        }
        burn(loops == 1 ? 200 : 0);
        dlclose(h);
    }
    after_unload_work(50);
    printf("loaded and unloaded %ld times\n", loops);
    return 0;
}

struct dl_job {
    const char *lib;
    long loops;
    int rc;
};

static void *dlopen_thread(void *arg)
{
    struct dl_job *j = arg;
    for (long i = 0; i < j->loops && j->rc == 0; i++) {
        void *h = dlopen(j->lib, RTLD_NOW | RTLD_LOCAL);
        if (!h || !dlsym(h, "plugin_burn"))
            j->rc = 1;
        if (h)
            dlclose(h);
    }
    return NULL;
}

/* Four threads loading and unloading the same library: the loader's lock is taken all the
 * time, by every thread, while samples arrive. */
static int mode_dlopen_threads(const char *lib, long loops)
{
    pthread_t t[4];
    struct dl_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct dl_job){lib, loops, 0};
        pthread_create(&t[i], NULL, dlopen_thread, &jobs[i]);
    }
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        rc |= jobs[i].rc;
    }
    printf("4 threads loaded and unloaded %ld times each: %s\n", loops, rc ? "failed" : "ok");
    return rc;
}

/* ---- threads -------------------------------------------------------------------------------- */

static void *wave_thread(void *arg)
{
    worker_work((unsigned)(uintptr_t)arg);
    return NULL;
}

static int mode_threads(void)
{
    for (int wave = 0; wave < 4; wave++) {
        pthread_t t[16];
        for (int i = 0; i < 16; i++)
            pthread_create(&t[i], NULL, wave_thread, (void *)(uintptr_t)(10 + 10 * (i % 3)));
        main_work(5);
        for (int i = 0; i < 16; i++)
            pthread_join(t[i], NULL);
    }
    printf("64 threads joined\n");
    return 0;
}

static int clone_fn(void *arg)
{
    (void)arg;
    worker_work(50);
    return 0;
}

/* A thread made with clone(2) directly, bypassing pthread_create. */
static int mode_clone(void)
{
    size_t size = 1 << 20;
    char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (stack == MAP_FAILED)
        return 1;
    static _Atomic pid_t tid = 1;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    pid_t t = clone(clone_fn, stack + size, flags, NULL, &tid, NULL, &tid);
    if (t < 0)
        return 1;
    main_work(50);
    pid_t v;
    while ((v = atomic_load(&tid)) != 0)
        syscall(SYS_futex, &tid, FUTEX_WAIT, v, NULL, NULL, 0);
    printf("clone thread done\n");
    return 0;
}

/* A child made by the clone system call itself, without fork's handlers (exit signal SIGCHLD,
 * no CLONE_VM: a copy of the memory, as fork makes), works and ends with exit(6); with how
 * "thread" it first runs a thread that works (the first thing profreg sees of the child), with
 * "_exit" it ends with _exit(6). */
static int mode_rawclone(const char *how)
{
    parent_work(100);
    fflush(stdout);
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        printf("clone: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0) {
        child_work(100);
        if (strcmp(how, "thread") == 0) {
            pthread_t t;
            pthread_create(&t, NULL, wave_thread, (void *)(uintptr_t)100);
            pthread_join(t, NULL);
        }
        if (strcmp(how, "_exit") == 0)
            _exit(6);
        exit(6);
    }
    parent_work(100);
    int st;
    waitpid(pid, &st, 0);
    printf("clone child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

/* A vfork child that execs this program's "tiny" mode (how "exec") or ends with _exit(3) at
 * once: it shares the parent's memory until then. */
static int mode_vfork(const char *self, const char *how)
{
    parent_work(50);
    fflush(stdout);
    pid_t pid = vfork();
    if (pid == 0) {
        if (strcmp(how, "exec") == 0)
            execl(self, self, "tiny", (char *)NULL);
        _exit(3);
    }
    if (pid < 0)
        return 1;
    parent_work(50);
    int st;
    waitpid(pid, &st, 0);
    printf("vfork child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

extern char **environ;

/* posix_spawn of this program's "tiny" mode, four times, while the parent works. */
static int mode_spawn(const char *self)
{
    fflush(stdout);
    for (int i = 0; i < 4; i++) {
        pid_t pid;
        char *const argv[] = {(char *)self, (char *)"tiny", NULL};
        if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0)
            return 1;
        parent_work(10);
        int st;
        waitpid(pid, &st, 0);
        printf("spawned child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        fflush(stdout);
    }
    return 0;
}

/* ---- deep recursion, longjmp ---------------------------------------------------------------- */

NOINLINE static uint64_t down(unsigned depth, unsigned units)
{
    if (depth == 0) {
        uint64_t x = sink ^ 11;
        BURN(units, x);
        return x;
    }
    uint64_t r = down(depth - 1, units);
    sink++;
    return r + 1;
}

/* Recursion `depth` frames deep (far deeper than profreg keeps), burning at the bottom. */
static int mode_recurse(long depth)
{
    uint64_t r = 0;
    for (int i = 0; i < 4; i++)
        r += down((unsigned)depth, 25);
    printf("recursed %ld deep 4 times\n", depth);
    return r ? 0 : 1;
}

static jmp_buf g_jump;
static sigjmp_buf g_sigjump;

static volatile bool g_do_jump = true;

NOINLINE static void jump_from(unsigned depth)
{
    if (depth == 0) {
        main_work(1);
        if (g_do_jump)
            longjmp(g_jump, 1);
        return;
    }
    jump_from(depth - 1);
    sink++;
}

static void jump_out_of_handler(int sig)
{
    (void)sig;
    siglongjmp(g_sigjump, 1);
}

/* 200 longjmps out of 20 frames of work, then 5 siglongjmps out of a SIGALRM handler that
 * interrupts work (and, now and then, profreg's own SIGPROF handler). */
static int mode_longjmp(void)
{
    volatile int jumps = 0, handler_jumps = 0;
    for (volatile int i = 0; i < 200; i++) {
        if (setjmp(g_jump) == 0)
            jump_from(20);
        else
            jumps++;
    }
    signal(SIGALRM, jump_out_of_handler);
    for (volatile int i = 0; i < 5; i++) {
        if (sigsetjmp(g_sigjump, 1) == 0) {
            struct itimerval it = {{0, 0}, {0, 20000}};
            setitimer(ITIMER_REAL, &it, NULL);
            for (;;)
                worker_work(1);
        }
        handler_jumps++;
    }
    printf("%d longjmps, %d siglongjmps out of a signal handler\n", jumps, handler_jumps);
    return 0;
}

/* ---- descriptors closed under profreg's feet ------------------------------------------------ */

/* Closes every descriptor above 2, as daemons do (glibc's close_range, or with how "syscall"
 * the raw system call, which no preload sees), then uses the numbers it gets next (3, 4) for
 * a pipe and a file while it works, and forks a child that works too: what it reads back must
 * be what it wrote. */
static int mode_closefds(const char *how)
{
    main_work(20);
    int rc = strcmp(how, "syscall") == 0 ? (int)syscall(SYS_close_range, 3U, ~0U, 0U)
                                         : close_range(3U, ~0U, 0);
    if (rc != 0) {
        printf("close_range: %s\n", strerror(errno));
        return 1;
    }
    int p[2];
    if (pipe(p) != 0)
        return 1;
    char tmpl[] = "/tmp/torture-XXXXXX";
    int f = mkstemp(tmpl);
    if (f < 0)
        return 1;
    unlink(tmpl);
    for (int i = 0; i < 20; i++) {
        closed_fds_work(5);
        char out[32], in[32] = {0};
        int n = snprintf(out, sizeof out, "line %d\n", i);
        if (write(p[1], out, (size_t)n) != n || read(p[0], in, sizeof in - 1) != n ||
            strcmp(in, out) != 0 || write(f, out, (size_t)n) != n) {
            printf("descriptor mix-up at line %d\n", i);
            return 1;
        }
    }
    pid_t pid = fork();
    if (pid == 0) {
        closed_fds_work(30);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    char all[512] = {0};
    ssize_t got = pread(f, all, sizeof all - 1, 0);
    printf("fds %d %d %d, %zd bytes back, child %d\n", p[0], p[1], f, got,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

/* Recursion with frames of half a kilobyte: a stack spread over many pages. */
NOINLINE static uint64_t deep(unsigned depth, unsigned units)
{
    volatile char pad[512];
    pad[0] = (char)depth;
    if (depth == 0) {
        reuse_work(units);
        return (uint64_t)pad[0];
    }
    uint64_t r = deep(depth - 1, units);
    return r + (uint64_t)pad[0];
}

static atomic_int reuse_stop;

static void *reuse_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&reuse_stop))
        deep(48, 1);
    return NULL;
}

#define REUSE_RECORDS 2000
#define REUSE_INPUTS  8

/* Closes every descriptor above 2 (glibc's close_range, or with how "syscall" the raw system
 * call), then opens eight inputs and a log, which get 3 to 11 (whatever numbers profreg's own
 * descriptors had are among them), and reads the inputs record by record, logging each, while
 * two threads and itself work in deep stacks: what it reads must be the inputs, what the log
 * holds what it wrote. Exit status 1 and "CHANGED" when not. */
static int mode_fdreuse(const char *how)
{
    int rc = strcmp(how, "syscall") == 0 ? (int)syscall(SYS_close_range, 3U, ~0U, 0U)
                                         : close_range(3U, ~0U, 0);
    if (rc != 0) {
        printf("close_range: %s\n", strerror(errno));
        return 1;
    }
    int in[REUSE_INPUTS];
    for (int k = 0; k < REUSE_INPUTS; k++) {
        char name[] = "/tmp/torture-in-XXXXXX";
        if ((in[k] = mkstemp(name)) < 0)
            return 1;
        unlink(name);
        for (int i = k; i < REUSE_RECORDS; i += REUSE_INPUTS) {
            char rec[16];
            int n = snprintf(rec, sizeof rec, "in %06d\n", i);
            if (write(in[k], rec, (size_t)n) != n)
                return 1;
        }
        lseek(in[k], 0, SEEK_SET);
    }
    char log_name[] = "/tmp/torture-log-XXXXXX";
    int log = mkstemp(log_name);
    if (log < 0)
        return 1;
    unlink(log_name);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, reuse_thread, NULL);
    bool in_ok = true;
    for (int i = 0; i < REUSE_RECORDS; i++) {
        char want[16], got[16] = {0}, line[32];
        int n = snprintf(want, sizeof want, "in %06d\n", i);
        if (read(in[i % REUSE_INPUTS], got, (size_t)n) != n || memcmp(got, want, (size_t)n) != 0)
            in_ok = false;
        int m = snprintf(line, sizeof line, "record %06d\n", i);
        if (write(log, line, (size_t)m) != m)
            in_ok = false;
        if (i % 8 == 0)
            deep(32, 1);
    }
    atomic_store(&reuse_stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int k = 0; k < REUSE_INPUTS; k++) {
        char rest;
        if (read(in[k], &rest, 1) != 0) /* nothing left: nobody else wrote into it */
            in_ok = false;
    }
    bool log_ok = lseek(log, 0, SEEK_END) == (off_t)REUSE_RECORDS * 14;
    for (int i = 0; log_ok && i < REUSE_RECORDS; i++) {
        char want[32], got[32] = {0};
        int m = snprintf(want, sizeof want, "record %06d\n", i);
        log_ok =
            pread(log, got, (size_t)m, (off_t)i * 14) == m && memcmp(got, want, (size_t)m) == 0;
    }
    printf("fds %d-%d %d: inputs %s, log %s\n", in[0], in[REUSE_INPUTS - 1], log,
           in_ok ? "intact" : "CHANGED", log_ok ? "intact" : "CHANGED");
    return in_ok && log_ok ? 0 : 1;
}

/* The descriptors open below 512 (the numbers a program uses), as "fds below 512: 0 1 2". */
static int mode_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 1;
    bool open_fd[512] = {false};
    for (struct dirent *e; (e = readdir(d));) {
        long fd = strtol(e->d_name, NULL, 10);
        if (e->d_name[0] != '.' && fd >= 0 && fd < 512 && fd != dirfd(d))
            open_fd[fd] = true;
    }
    closedir(d);
    printf("fds below 512:");
    for (int fd = 0; fd < 512; fd++)
        if (open_fd[fd])
            printf(" %d", fd);
    printf("\n");
    return 0;
}

/* ---- exit from a signal handler ------------------------------------------------------------- */

static const char *g_exit_how;

static void exit_from_handler(int sig)
{
    (void)sig;
    if (strcmp(g_exit_how, "_exit") == 0)
        _exit(7);
    exit(7);
}

static void *idle_thread(void *arg)
{
    (void)arg;
    for (;;)
        pause();
    return NULL;
}

/* Allocates and frees blocks too large for malloc's thread cache (so the arena's lock is taken,
 * there being two threads) until SIGALRM, whose handler ends the process with how ("_exit"
 * or "exit") 7: the signal most likely interrupts malloc holding that lock. */
static int mode_exit_in_handler(const char *how)
{
    g_exit_how = how;
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);
    pthread_t t;
    pthread_create(&t, NULL, idle_thread, NULL); /* it keeps SIGALRM blocked */
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL);
    signal(SIGALRM, exit_from_handler);
    printf("allocating until SIGALRM\n");
    fflush(stdout);
    struct itimerval it = {{0, 0}, {0, 50000}};
    setitimer(ITIMER_REAL, &it, NULL);
    for (unsigned i = 0; g_exit_how; i++) { /* until the handler ends the process */
        volatile char *p = malloc(2048 + (i % 64) * 512);
        if (p)
            p[0] = 1;
        free((void *)p);
    }
    return 0;
}

/* ---- the starting directory ---------------------------------------------------------------- */

/* Prints how many entries the working directory has when main starts (a program cloning into
 * ".", which must be empty), works, then with how "rmdir" leaves the directory and removes it,
 * with "chdir" just moves to "/" (where a relative output path must not now point). */
static int mode_startdir(const char *how)
{
    DIR *d = opendir(".");
    if (!d)
        return 1;
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    printf("entries at start: %d\n", entries);
    main_work(30);
    char start[4096];
    if (!getcwd(start, sizeof start) || chdir("/") != 0)
        return 1;
    if (strcmp(how, "rmdir") == 0)
        printf("rmdir of the starting directory: %s\n", rmdir(start) == 0 ? "ok" : strerror(errno));
    return entries == 0 ? 0 : 1;
}

/* ---- a small signal stack ------------------------------------------------------------------- */

static void on_usr1(int sig)
{
    (void)sig;
    altstack_work(4);
}

/* A SIGUSR1 handler on an 8 KiB signal stack (glibc's traditional SIGSTKSZ) works while
 * samples arrive, 100 times. Below the signal stack: with how "guard", an inaccessible page
 * (an overflow crashes); else 8 KiB of a known pattern, checked afterwards. */
static int mode_altstack(const char *how)
{
    size_t size = 8192;
    bool guard = strcmp(how, "guard") == 0;
    unsigned char *m =
        mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 1;
    if (guard)
        mprotect(m, size, PROT_NONE);
    else
        memset(m, 0xa5, size);
    stack_t ss = {.ss_sp = m + size, .ss_size = size, .ss_flags = 0};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    for (int i = 0; i < 100; i++)
        raise(SIGUSR1);
    bool intact = true;
    for (size_t i = 0; !guard && i < size; i++)
        intact = intact && m[i] == 0xa5;
    printf("100 signals handled on an 8 KiB signal stack%s\n",
           guard    ? ""
           : intact ? ", memory below it intact"
                    : ", memory below it OVERWRITTEN");
    return intact ? 0 : 1;
}

/* ---- many threads at once ------------------------------------------------------------------- */

static void *many_thread(void *arg)
{
    many_work((unsigned)(uintptr_t)arg);
    return NULL;
}

/* N threads alive together, each working a little. */
static int mode_many_threads(long n)
{
    pthread_t *t = calloc((size_t)n, sizeof *t);
    long made = 0;
    for (; t && made < n; made++) {
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, 256 * 1024);
        int rc = pthread_create(&t[made], &a, many_thread, (void *)(uintptr_t)1);
        pthread_attr_destroy(&a);
        if (rc != 0)
            break;
    }
    for (long i = 0; i < made; i++)
        pthread_join(t[i], NULL);
    free(t);
    printf("%ld threads joined\n", made);
    return made == n ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    if (strcmp(mode, "fork") == 0)
        return mode_fork(0);
    if (strcmp(mode, "deathtest") == 0)
        return mode_fork(1);
    if (strcmp(mode, "exec") == 0)
        return mode_exec(argv[0], arg);
    if (strcmp(mode, "execd") == 0) {
        child_work(60);
        printf("exec'd\n");
        return 0;
    }
    if (strcmp(mode, "end") == 0)
        return mode_end(arg);
    if (strcmp(mode, "own_sigprof") == 0)
        return mode_own_sigprof(1);
    if (strcmp(mode, "itimer_only") == 0)
        return mode_own_sigprof(0);
    if (strcmp(mode, "block_sigprof") == 0)
        return mode_block_sigprof();
    if (strcmp(mode, "read_restart") == 0)
        return mode_read_restart();
    if (strcmp(mode, "dlopen") == 0)
        return mode_dlopen(arg, argc > 3 ? strtol(argv[3], NULL, 10) : 1);
    if (strcmp(mode, "dlopen_threads") == 0)
        return mode_dlopen_threads(arg, argc > 3 ? strtol(argv[3], NULL, 10) : 1000);
    if (strcmp(mode, "threads") == 0)
        return mode_threads();
    if (strcmp(mode, "clone") == 0)
        return mode_clone();
    if (strcmp(mode, "vfork") == 0)
        return mode_vfork(argv[0], arg);
    if (strcmp(mode, "spawn") == 0)
        return mode_spawn(argv[0]);
    if (strcmp(mode, "recurse") == 0)
        return mode_recurse(argc > 2 ? strtol(arg, NULL, 10) : 5000);
    if (strcmp(mode, "longjmp") == 0)
        return mode_longjmp();
    if (strcmp(mode, "rawclone") == 0)
        return mode_rawclone(arg);
    if (strcmp(mode, "closefds") == 0)
        return mode_closefds(arg);
    if (strcmp(mode, "exit_in_handler") == 0)
        return mode_exit_in_handler(arg);
    if (strcmp(mode, "startdir") == 0)
        return mode_startdir(arg);
    if (strcmp(mode, "altstack") == 0)
        return mode_altstack(arg);
    if (strcmp(mode, "fds") == 0)
        return mode_fds();
    if (strcmp(mode, "fdreuse") == 0)
        return mode_fdreuse(arg);
    if (strcmp(mode, "many_threads") == 0)
        return mode_many_threads(strtol(arg, NULL, 10));
    if (strcmp(mode, "tiny") == 0) {
        printf("tiny\n");
        return 0;
    }
    fprintf(stderr, "torture: unknown mode '%s'\n", mode);
    return 64;
}
