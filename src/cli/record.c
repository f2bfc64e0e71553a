/* SPDX-License-Identifier: MIT */
/* record.c — `profreg record`: run a command with libprofreg.so preloaded.
 *
 * The command replaces profreg (exec, no fork), so its stdin, stdout, stderr, exit status and
 * signals are exactly its own. Exit status: the command's, or 127/126 when it cannot be run
 * (as env(1) does), or 2 on a usage error. */
#include "cli.h"

#include "core/fsutil.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Absolute path of libprofreg.so: $PROFREG_LIB, or next to this binary, or in ../lib. */
static int find_library(char *out)
{
    const char *env = getenv("PROFREG_LIB");
    if (env && *env) {
        if (realpath(env, out) && access(out, R_OK) == 0)
            return 0;
        cli_error("PROFREG_LIB=%s: %s", env, strerror(errno));
        return -1;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        cli_error("cannot find my own executable: %s", strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    const char *candidates[] = {"/libprofreg.so", "/../lib/libprofreg.so",
                                "/../lib/profreg/libprofreg.so"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
        char path[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s%s", self, candidates[i]);
        if (access(path, R_OK) == 0 && realpath(path, out))
            return 0;
    }
    cli_error("cannot find libprofreg.so next to %s or in %s/../lib (set PROFREG_LIB)", self, self);
    return -1;
}

static int set_preload(const char *lib)
{
    const char *old = getenv("LD_PRELOAD");
    size_t len = strlen(lib) + (old ? strlen(old) : 0) + 2;
    char *value = malloc(len);
    if (!value)
        return -1;
    if (old && *old)
        snprintf(value, len, "%s:%s", lib, old);
    else
        snprintf(value, len, "%s", lib);
    int rc = setenv("LD_PRELOAD", value, 1);
    free(value);
    return rc;
}

/* The file execvp would run for cmd (PATH search when it has no '/'), or NULL. */
static char *resolve_command(const char *cmd)
{
    if (strchr(cmd, '/'))
        return strdup(cmd);
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path;;) {
        const char *colon = strchr(p, ':');
        size_t n = colon ? (size_t)(colon - p) : strlen(p);
        char *file;
        if (asprintf(&file, "%.*s%s%s", (int)n, n ? p : ".", "/", cmd) < 0)
            return NULL;
        if (access(file, X_OK) == 0)
            return file;
        free(file);
        if (!colon)
            return NULL;
        p = colon + 1;
    }
}

/* True when file is an ELF executable without a program interpreter: statically linked (or
 * static-pie), so the dynamic loader never runs and LD_PRELOAD cannot apply. */
static bool is_static_elf(const char *file)
{
    char err[PATH_MAX + 64];
    int fd = fs_open_input(file, err, sizeof err); /* never blocks on a FIFO */
    if (fd < 0)
        return false;
    unsigned char ident[EI_NIDENT];
    bool is_static = false;
    if (pread(fd, ident, sizeof ident, 0) == (ssize_t)sizeof ident &&
        memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS64) {
        Elf64_Ehdr eh;
        if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
            eh.e_phentsize == sizeof(Elf64_Phdr) && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
            is_static = true;
            for (unsigned i = 0; i < eh.e_phnum && is_static; i++) {
                Elf64_Phdr ph;
                if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
                    (ssize_t)sizeof ph)
                    is_static = false; /* unreadable: let exec decide */
                else if (ph.p_type == PT_INTERP)
                    is_static = false;
            }
        }
    }
    close(fd);
    return is_static;
}

/* A byte count as PROFREG_MEMORY_RATE takes it: digits, optionally K, M or G (KiB, MiB, GiB;
 * "KiB", "KB"), from 1 to 1 TiB. */
static bool is_byte_count(const char *s)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end) {
        const char *u = strchr("kmg", *end | 0x20);
        if (!u || !*end)
            return false;
        shift = 10 * (unsigned)(u - "kmg" + 1);
        end++;
        if (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0)
            end += strlen(end);
    }
    return !errno && !*end && v > 0 && v <= (1ull << (40 - shift));
}

/* Runs cmd[0..n) (exec): returns only when it cannot. */
static int record(char **cmd, size_t n)
{
    if (n == 0) {
        cli_usage_error("record: no command given (profreg record [options] -- CMD [ARGS...])");
        return EXIT_USAGE;
    }
    char *file = resolve_command(cmd[0]);
    bool is_static = file && is_static_elf(file);
    free(file);
    if (is_static) {
        cli_error("%s is statically linked: LD_PRELOAD cannot apply to it, so it cannot be "
                  "profiled (link it dynamically)",
                  cmd[0]);
        return EXIT_USAGE;
    }
    char lib[PATH_MAX];
    if (find_library(lib) != 0)
        return EXIT_USAGE;
    if (set_preload(lib) != 0) {
        cli_error("cannot set LD_PRELOAD: %s", strerror(errno));
        return EXIT_USAGE;
    }
    execvp(cmd[0], cmd);
    int e = errno;
    cli_error("cannot run '%s': %s", cmd[0], strerror(e));
    return e == ENOENT ? 127 : 126;
}

struct record_args {
    const char *output, *mode, *memory_rate;
    unsigned long frequency, max_stacks; /* 0: not given */
    bool quiet, memory;
};

static int opt_mode(void *field, const char *value)
{
    if (strcmp(value, "cpu") != 0 && strcmp(value, "wall") != 0) {
        cli_usage_error("--mode: '%s' is not cpu or wall", value);
        return -1;
    }
    *(const char **)field = value;
    return 0;
}

static int opt_memory(void *field, const char *value)
{
    struct record_args *a = field;
    if (value && !is_byte_count(value)) {
        cli_error("--memory: '%s' is not a number of bytes from 1 to 1 TiB (digits, optionally "
                  "K, M or G)",
                  value);
        return -1;
    }
    a->memory = true;
    a->memory_rate = value ? value : a->memory_rate;
    return 0;
}

static const struct cli_opt record_opts[] = {
    CLI_OPT_STRING("output", 'o', "PATH", struct record_args, output, CLI_PATH,
                   "file, or directory (ends in / or exists) for the profile"),
    CLI_OPT_UINT("frequency", 'F', "HZ", struct record_args, frequency, 1, 100000,
                 "samples per second per thread (default 1000)"),
    CLI_OPT_CALL("mode", 0, "cpu|wall", struct record_args, mode, opt_mode, 0,
                 "sample CPU time (default) or wall-clock time"),
    CLI_OPT_UINT("max-stacks", 0, "N", struct record_args, max_stacks, 256, 16777216,
                 "distinct stacks kept in memory (default 65536)"),
    CLI_OPT_CALL("memory", 0, "RATE", struct record_args, memory, opt_memory, CLI_OPTIONAL,
                 "sample allocations too (PROFREG_MEMORY=1), one per RATE bytes on average "
                 "(PROFREG_MEMORY_RATE; default 512K)"),
    CLI_OPT_FLAG("quiet", 'q', struct record_args, quiet, "no message on stderr at exit"),
    CLI_OPT_END,
};

static int run_record(int argc, char **argv);

const struct cli_command cli_record = {
    .name = "record",
    .summary = "run a command under the profiler",
    .usage = "[OPTIONS] [--] CMD [ARGS...]",
    .about =
        "Runs CMD with libprofreg.so preloaded; every process it starts that runs to a normal\n"
        "exit writes a JSON profile (default: profile_results/<exe>/profile_*.json).\n",
    .opts = record_opts,
    .footer = "Environment: PROFREG_LIB overrides where libprofreg.so is looked for (next to the\n"
              "profreg binary, then ../lib/). Exit status: CMD's own; 127 or 126 when CMD cannot\n"
              "be run; 2 on a usage error.\n",
    .flags = CLI_STOP_AT_OPERAND,
    .run = run_record,
};

/* The options as the preload's environment (settings.c reads it). */
static void set_environment(const struct record_args *a)
{
    char num[32];
    if (a->output) {
        setenv("PROFREG_OUTPUT", a->output, 1);
        /* this pid runs CMD (exec): its profile is the file; descendants that exec other
         * programs write <stem>.<pid><ext> beside it */
        snprintf(num, sizeof num, "%ld", (long)getpid());
        setenv("PROFREG_OUTPUT_OWNER", num, 1);
    }
    if (a->frequency) {
        snprintf(num, sizeof num, "%lu", a->frequency);
        setenv("PROFREG_FREQUENCY", num, 1);
    }
    if (a->mode)
        setenv("PROFREG_MODE", a->mode, 1);
    if (a->max_stacks) {
        snprintf(num, sizeof num, "%lu", a->max_stacks);
        setenv("PROFREG_MAX_STACKS", num, 1);
    }
    if (a->quiet)
        setenv("PROFREG_QUIET", "1", 1);
    if (a->memory)
        setenv("PROFREG_MEMORY", "1", 1);
    if (a->memory_rate)
        setenv("PROFREG_MEMORY_RATE", a->memory_rate, 1);
}

static int run_record(int argc, char **argv)
{
    struct record_args a = {0};
    struct cli_operands ops;
    int rc = EXIT_USAGE;
    if (cli_parse(&cli_record, argc, argv, &a, &ops) == 0) {
        set_environment(&a);
        rc = record(ops.v, ops.n);
    }
    cli_operands_free(&ops);
    return rc;
}
