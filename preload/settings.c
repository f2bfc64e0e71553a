/* SPDX-License-Identifier: MIT */
/* settings.c — PROFREG_* parsing. Pure: no I/O except through the warn callback. */
#include "settings.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void warnf(settings_warn_fn warn, const char *name, const char *value, const char *what,
                  const char *fallback)
{
    char line[PATH_MAX + 256];
    snprintf(line, sizeof line, "profreg: %s='%.200s' %s; using %s", name, value, what, fallback);
    warn(line);
}

/* Parses a number of bytes in [min, max]: digits, optionally followed by K, M or G (KiB,
 * MiB, GiB; "KiB", "MiB", "GiB" and lower case too). */
static bool parse_bytes(const char *v, unsigned long long min, unsigned long long max,
                        unsigned long long *out)
{
    if (*v < '0' || *v > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    unsigned shift = 0;
    if (*end) {
        const char *units = "kmg";
        const char *u = strchr(units, end[0] | 0x20);
        if (!u)
            return false;
        shift = 10 * (unsigned)(u - units + 1);
        end++;
        if (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0)
            end += strlen(end);
    }
    if (errno || *end || (shift && x > (max >> shift)))
        return false;
    x <<= shift;
    if (x < min || x > max)
        return false;
    *out = x;
    return true;
}

/* Parses a whole decimal number in [min, max]. */
static bool parse_uint(const char *v, unsigned long long min, unsigned long long max,
                       unsigned long long *out)
{
    if (*v < '0' || *v > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x < min || x > max)
        return false;
    *out = x;
    return true;
}

static void load_flag(const char *name, const char *v, bool *flag, settings_warn_fn warn)
{
    if (!v)
        return;
    if (!*v || strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0)
        *flag = false;
    else if (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0)
        *flag = true;
    else
        warnf(warn, name, v, "is not 1 or 0", *flag ? "1" : "0");
}

void settings_load(struct settings *s, settings_getenv_fn get, settings_warn_fn warn)
{
    memset(s, 0, sizeof *s);
    s->mode = PR_MODE_CPU;
    s->frequency = SETTINGS_DEFAULT_FREQUENCY;
    s->max_stacks = SETTINGS_DEFAULT_MAX_STACKS;
    s->memory_rate = SETTINGS_DEFAULT_MEMORY_RATE;
    const char *v;
    char fallback[32];

    load_flag("PROFREG_DISABLE", get("PROFREG_DISABLE"), &s->disabled, warn);
    load_flag("PROFREG_QUIET", get("PROFREG_QUIET"), &s->quiet, warn);
    /* PROFREG_MEMORY: 0, 1, or "only" (allocations without CPU or wall sampling) */
    if ((v = get("PROFREG_MEMORY")) && strcasecmp(v, "only") == 0) {
        s->memory = s->memory_only = true;
    } else if (v && *v && strcmp(v, "0") && strcmp(v, "1") && strcasecmp(v, "false") &&
               strcasecmp(v, "no") && strcasecmp(v, "true") && strcasecmp(v, "yes")) {
        warnf(warn, "PROFREG_MEMORY", v, "is not 1, 0 or only", "0");
    } else {
        load_flag("PROFREG_MEMORY", v, &s->memory, warn);
    }

    if ((v = get("PROFREG_MODE")) && *v) {
        if (strcmp(v, "cpu") == 0)
            s->mode = PR_MODE_CPU;
        else if (strcmp(v, "wall") == 0)
            s->mode = PR_MODE_WALL;
        else
            warnf(warn, "PROFREG_MODE", v, "is not cpu or wall", "cpu");
    }

    if ((v = get("PROFREG_CLOCK")) && *v) {
        if (strcmp(v, "auto") == 0)
            s->clock = PR_CLOCK_AUTO;
        else if (strcmp(v, "perf") == 0)
            s->clock = PR_CLOCK_PERF;
        else if (strcmp(v, "timer") == 0)
            s->clock = PR_CLOCK_TIMER;
        else
            warnf(warn, "PROFREG_CLOCK", v, "is not auto, perf or timer", "auto");
    }

    if ((v = get("PROFREG_UNWIND")) && *v) {
        if (strcmp(v, "fast") == 0 || strcmp(v, "slow") == 0)
            s->slow_unwind = strcmp(v, "slow") == 0;
        else
            warnf(warn, "PROFREG_UNWIND", v, "is not fast or slow", "fast");
    }

    unsigned long long x;
    if ((v = get("PROFREG_FREQUENCY")) && *v) {
        if (parse_uint(v, 1, SETTINGS_MAX_FREQUENCY, &x)) {
            s->frequency = (unsigned)x;
        } else {
            snprintf(fallback, sizeof fallback, "%u", SETTINGS_DEFAULT_FREQUENCY);
            warnf(warn, "PROFREG_FREQUENCY", v, "is not a whole number of Hz from 1 to 100000",
                  fallback);
        }
    }

    if ((v = get("PROFREG_MAX_STACKS")) && *v) {
        if (parse_uint(v, SETTINGS_MIN_MAX_STACKS, SETTINGS_MAX_MAX_STACKS, &x)) {
            s->max_stacks = (size_t)x;
        } else {
            snprintf(fallback, sizeof fallback, "%u", SETTINGS_DEFAULT_MAX_STACKS);
            warnf(warn, "PROFREG_MAX_STACKS", v, "is not a whole number from 256 to 16777216",
                  fallback);
        }
    }

    if ((v = get("PROFREG_MEMORY_RATE")) && *v) {
        if (parse_bytes(v, 1, SETTINGS_MAX_MEMORY_RATE, &x)) {
            s->memory_rate = x;
        } else {
            snprintf(fallback, sizeof fallback, "%u (512 KiB)", SETTINGS_DEFAULT_MEMORY_RATE);
            warnf(warn, "PROFREG_MEMORY_RATE", v,
                  "is not a number of bytes from 1 to 1 TiB (digits, optionally K, M or G)",
                  fallback);
        }
    }

    if ((v = get("PROFREG_EXIT_THREADS")) && *v && strcasecmp(v, "auto") != 0) {
        if (parse_uint(v, 1, 2, &x))
            s->exit_threads = (unsigned)x;
        else
            warnf(warn, "PROFREG_EXIT_THREADS", v, "is not 1, 2 or auto", "auto");
    }

    if ((v = get("PROFREG_OUTPUT")) && *v) {
        if (strlen(v) < sizeof s->output)
            memcpy(s->output, v, strlen(v) + 1);
        else
            warnf(warn, "PROFREG_OUTPUT", v, "is too long", "the default directory");
    }

    if ((v = get("PROFREG_DEBUGINFO_PATH")) && *v) {
        if (strlen(v) < sizeof s->debug_dirs)
            memcpy(s->debug_dirs, v, strlen(v) + 1);
        else
            warnf(warn, "PROFREG_DEBUGINFO_PATH", v, "is too long", "/usr/lib/debug");
    }

    if ((v = get("PROFREG_CACHE_DIR")) && *v) {
        if (strlen(v) < sizeof s->cache_dir && (v[0] == '/' || strcmp(v, "none") == 0))
            memcpy(s->cache_dir, v, strlen(v) + 1);
        else
            warnf(warn, "PROFREG_CACHE_DIR", v, "is not an absolute path or none",
                  "~/.cache/profreg/debug");
    }

    if ((v = get("PROFREG_TARGET")) && *v) {
        if (strlen(v) < sizeof s->target)
            memcpy(s->target, v, strlen(v) + 1);
        else
            warnf(warn, "PROFREG_TARGET", v, "is too long", "every process");
    }
}
