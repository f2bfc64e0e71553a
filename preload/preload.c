/* preload.c — libprofreg.so's life cycle: start at load, restart in a forked child,
 * stop and write the profile when the process exits normally.
 *
 * Invariant: whatever fails here, the program runs on unharmed; profreg says so in one
 * line on stderr and stops profiling. The profile is written at most once per process. */
#include "output.h"
#include "settings.h"
#include "stacktab.h"
#include "threads.h"
#include "timers.h"

#include <fnmatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

#include "profreg/fsutil.h"

enum { STATE_OFF, STATE_PROFILING, STATE_FINISHED };

static struct settings g_cfg;
static struct run_info g_run;
static struct stacktab *g_tab;
static _Atomic int g_state = STATE_OFF;

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

/* True when PROFREG_TARGET is unset or matches this executable's basename. */
static bool is_target(const char *target)
{
    if (!*target)
        return true;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = '\0';
    return fnmatch(target, fs_basename(exe), 0) == 0;
}

static void restart_in_child(void)
{
    if (atomic_load(&g_state) != STATE_PROFILING)
        return;
    stacktab_reset(g_tab);
    timers_reset_stats();
    clock_gettime(CLOCK_MONOTONIC, &g_run.start);
    char err[256];
    threads_attach_current(err, sizeof err);
}

__attribute__((constructor)) static void profreg_load(void)
{
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
    if (timers_start(g_tab, g_cfg.mode, g_cfg.frequency, err, sizeof err) != 0 ||
        threads_init(restart_in_child, err, sizeof err) != 0) {
        sayf("cannot start sampling", err);
        return;
    }
    atomic_store(&g_state, STATE_PROFILING);
    if (threads_attach_current(err, sizeof err) != 0) {
        atomic_store(&g_state, STATE_FINISHED);
        threads_detach_all();
        timers_stop();
        sayf("cannot sample the main thread", err);
    }
}

static double timeval_ms(struct timeval tv)
{
    return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3;
}

/* Stops sampling, measures the run and writes the profile. Runs at most once. */
static void finish(void)
{
    int expected = STATE_PROFILING;
    if (!atomic_compare_exchange_strong(&g_state, &expected, STATE_FINISHED))
        return;
    struct timespec stopped;
    clock_gettime(CLOCK_MONOTONIC, &stopped);
    timers_stop();
    threads_detach_all();

    struct run_stats st;
    memset(&st, 0, sizeof st);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    st.wall_ms = (double)(now.tv_sec - g_run.start.tv_sec) * 1e3 +
                 (double)(now.tv_nsec - g_run.start.tv_nsec) / 1e6;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        st.cpu_ms = timeval_ms(ru.ru_utime) + timeval_ms(ru.ru_stime);
        st.peak_rss_kb = (double)ru.ru_maxrss;
    }
    struct timer_stats ts;
    timers_get_stats(&ts);
    st.signals = ts.signals;
    st.truncated = ts.truncated;
    st.lost = stacktab_lost(g_tab);
    st.threads = threads_seen();
    st.unsampled_threads = threads_failed();

    char path[PATH_MAX], err[PATH_MAX + 256];
    if (output_write_profile(&g_run, g_tab, &st, path, sizeof path, err, sizeof err) != 0) {
        char line[sizeof err + 64];
        snprintf(line, sizeof line, "profreg: no profile written: %s", err);
        say(line);
        return;
    }
    if (!g_cfg.quiet) {
        struct timespec done;
        clock_gettime(CLOCK_MONOTONIC, &done);
        double exit_ms = (double)(done.tv_sec - stopped.tv_sec) * 1e3 +
                         (double)(done.tv_nsec - stopped.tv_nsec) / 1e6;
        char lost[96] = "";
        if (st.lost)
            snprintf(lost, sizeof lost, "; %llu samples lost, raise PROFREG_MAX_STACKS",
                     (unsigned long long)st.lost);
        char line[PATH_MAX + 256];
        snprintf(line, sizeof line, "profreg: wrote %s (%.0f ms at exit%s)", path, exit_ms, lost);
        say(line);
    }
}

__attribute__((destructor)) static void profreg_unload(void)
{
    finish();
}
