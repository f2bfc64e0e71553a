/* SPDX-License-Identifier: MIT */
/* check_symcache.c — the symbol cache in this very process: a second run is served whole
 * without opening the symbolizer and gives the same frames; corrupt, truncated and stale files
 * are never served (corrupt ones with one line on stderr) and are rewritten; eight processes
 * saving at once leave one valid file holding every entry; "none" writes nothing; the
 * directory is trimmed to its size bound; the saved unit tables let a run of new addresses
 * skip the unit walks with the same frames, and damaged or foreign tables never serve; a run's
 * few new ranges go to the .add file beside the main file, which is rewritten (the .add file
 * merged in) only past the .add file's share. */
#include "testutil.h"

#include <dlfcn.h>

#include "core/sort.h"
#include "symbolize/dwarf_raw.h"
#include "symbolize/symcache.h"
#include "symbolize/unitcache.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa))

volatile int sink;

// clang-format off
NOIPA int cached_function(int x) { return sink = x * 3 + 1; }
static uint64_t captured_return;
NOIPA void probe(void) { captured_return = (uint64_t)(uintptr_t)__builtin_return_address(0); }
static inline __attribute__((always_inline)) void inlined_level(void) { probe(); sink++; }
NOIPA void outer_function(void) { inlined_level(); sink++; }
static uint64_t captured_return2;
NOIPA void other_caller(void) { sink += 2; inlined_level(); captured_return2 = captured_return; sink--; }
/* inlined into direct_twice, and an out-of-line copy (its DIE links to the abstract one, so it
 * is named after its ELF symbol) for the pointer */
static inline __attribute__((always_inline)) void twice(void) { inlined_level(); sink += 3; }
NOIPA void direct_twice(void) { twice(); }
void (*volatile twice_ptr)(void) = twice;
// clang-format on

/* Addresses in this executable (one with an inline chain) and in libc. */
#define NADDR 40
static uint64_t addrs[NADDR];

static void fill_addrs(void)
{
    outer_function();
    const void *fns[] = {(void *)cached_function, (void *)outer_function, (void *)qsort,
                         (void *)strtol,          (void *)getenv,         (void *)fopen,
                         (void *)opendir,         (void *)fork,           (void *)bsearch};
    size_t n = 0;
    addrs[n++] = captured_return - 1;
    for (size_t i = 0; n < NADDR; i++)
        addrs[n++] = (uint64_t)(uintptr_t)fns[i % 9] + 1 + i / 9;
}

/* Modules the addresses lie in: this executable and libc, and under make sanitize the
 * sanitizer runtime too (its interceptors of qsort, fopen ...). */
static size_t modules_of_addrs(void)
{
    const void *seen[NADDR];
    size_t n = 0;
    for (size_t i = 0; i < NADDR; i++) {
        Dl_info info;
        if (!dladdr((void *)(uintptr_t)addrs[i], &info))
            continue;
        size_t k = 0;
        while (k < n && seen[k] != info.dli_fbase)
            k++;
        if (k == n)
            seen[n++] = info.dli_fbase;
    }
    return n;
}

static _Atomic int opened;
static bool refuse_second_open; /* the helper thread's symbolizer cannot open */

static struct symbolizer *open_sym(void *ctx, char *err, size_t errlen)
{
    (void)ctx;
    if (opened++ >= 1 && refuse_second_open) {
        snprintf(err, errlen, "refused for the test");
        return NULL;
    }
    struct sym_options o = {NULL, NULL, 1, NULL, 0, 0, 0};
    return symbolizer_open_self(&o, err, errlen);
}

static struct symcache *new_cache(const char *dir, bool quiet)
{
    struct symcache_options o = {dir, NULL, "test", quiet, open_sym, NULL, 0, 0};
    struct symcache *c = symcache_new(&o);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Prints one address's frames as a line of text. */
static void print_frames(FILE *f, const struct sym_frame *fr, size_t n)
{
    for (size_t k = 0; k < n; k++)
        fprintf(f, "%s|%s|%s|%s|%ld|%d;", fr[k].name, fr[k].source_file ? fr[k].source_file : "-",
                fr[k].source_path ? fr[k].source_path : "-", fr[k].module ? fr[k].module : "-",
                fr[k].line, fr[k].inlined);
    fputc('\n', f);
}

/* Resolves addrs[i] for i % step == first; returns every frame as text. */
static char *resolve_some(struct symcache *c, size_t first, size_t step)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    for (size_t i = first; i < NADDR; i += step) {
        struct sym_frame fr[SYM_MAX_FRAMES];
        size_t n = symcache_resolve(c, addrs[i], fr, SYM_MAX_FRAMES);
        ck_assert_uint_ge(n, 1);
        print_frames(f, fr, n);
    }
    fclose(f);
    return text;
}

static char *resolve_all(struct symcache *c)
{
    return resolve_some(c, 0, 1);
}

/* One full run: resolve everything, save; returns the frames and the stats. */
static char *run(const char *dir, bool quiet, struct symcache_stats *st)
{
    struct symcache *c = new_cache(dir, quiet);
    char *text = resolve_all(c);
    symcache_save(c);
    *st = symcache_stats(c);
    symcache_free(c);
    return text;
}

/* The cache files (not locks) under dir/symbols, sorted; returns their number. */
static size_t cache_files(const char *dir, char names[][128], size_t max)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/symbols", dir);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.' && !strchr(de->d_name, '.') && n < max)
            snprintf(names[n++], 128, "%.127s", de->d_name);
    if (d)
        closedir(d);
    return n;
}

/* The path of this executable's cache file. */
static const char *exe_file(const char *dir)
{
    static char path[4096];
    char cmd[128];
    snprintf(cmd, sizeof cmd, "readelf -n /proc/%ld/exe | sed -n 's/.*Build ID: *//p'",
             (long)getpid());
    char *id = tu_shell(cmd);
    ck_assert_ptr_nonnull(id);
    id[strcspn(id, "\n")] = '\0';
    ck_assert_uint_gt(strlen(id), 0);
    snprintf(path, sizeof path, "%s/symbols/%s", dir, id);
    free(id);
    return path;
}

/* Runs fn with stderr going to a file; returns what was written. */
static char *capture_stderr(const char *dir,
                            char *(*fn)(const char *, bool, struct symcache_stats *),
                            struct symcache_stats *st, char **frames)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/stderr.txt", tu_tmp);
    fflush(stderr);
    int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    *frames = fn(dir, false, st);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    return tu_read_file(path);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A whole (binary) file: malloc'd bytes (8-byte aligned), *len. */
static uint64_t *read_raw(const char *path, size_t *len)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    *len = (size_t)st.st_size;
    uint64_t *b = malloc(*len + 8);
    int fd = open(path, O_RDONLY);
    ck_assert(b && fd >= 0 && read(fd, b, *len) == (ssize_t)*len);
    close(fd);
    return b;
}

static void write_raw(const char *path, const void *b, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert(fd >= 0 && write(fd, b, len) == (ssize_t)len);
    close(fd);
}

START_TEST(test_second_run_served_without_symbolizer)
{
    fill_addrs();
    struct symcache_stats st;
    opened = 0;
    char *cold = run(tu_tmp, true, &st);
    ck_assert_uint_eq(st.hits, 0);
    ck_assert_uint_eq(st.misses, NADDR);
    ck_assert_int_eq(opened, 1);
    ck_assert_ptr_nonnull(strstr(cold, "cached_function|check_symcache.c|"));
    ck_assert_ptr_nonnull(strstr(cold, "inlined_level|check_symcache.c|"));

    opened = 0;
    char *warm = run(tu_tmp, true, &st);
    ck_assert_uint_eq(st.hits, NADDR);
    ck_assert_uint_eq(st.misses, 0);
    ck_assert_int_eq(opened, 0); /* libdw never opened */
    ck_assert_str_eq(warm, cold);

    /* one file per module, named by build-id, starting with the magic line, then the
     * module's identity lines */
    char names[8][128];
    size_t n = cache_files(tu_tmp, names, 8);
    ck_assert_uint_eq(n, modules_of_addrs()); /* this executable and libc */
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/symbols/%s", tu_tmp, names[i]);
        size_t len;
        uint64_t *b = read_raw(path, &len);
        char magic[64], id[256];
        snprintf(magic, sizeof magic, "%s\n", SYMCACHE_MAGIC);
        snprintf(id, sizeof id, "%s\nbuild-id %.127s\n", SYMCACHE_MAGIC, names[i]);
        ck_assert(len > 64 && memcmp(b, magic, strlen(magic)) == 0);
        ck_assert(memmem(b, len, id, strlen(id)) != NULL); /* the identity's first lines */
        free(b);
    }
    free(cold);
    free(warm);
}
END_TEST

/* Damages this executable's file with fn, then checks: one line on stderr, right frames, and
 * the file rewritten so that the next run is served whole and silently. */
static void check_damage_ignored(void (*damage)(const char *path))
{
    fill_addrs();
    struct symcache_stats st;
    char *cold = run(tu_tmp, true, &st);
    const char *path = exe_file(tu_tmp);
    damage(path);

    char *frames;
    char *err = capture_stderr(tu_tmp, run, &st, &frames);
    ck_assert_msg(count_lines(err) == 1 && strstr(err, "profreg: ignoring the symbol cache") &&
                      strstr(err, path),
                  "stderr: %s", err);
    ck_assert_str_eq(frames, cold);
    ck_assert_uint_gt(st.misses, 0);
    free(err);
    free(frames);

    opened = 0;
    err = capture_stderr(tu_tmp, run, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(st.hits, NADDR);
    ck_assert_int_eq(opened, 0);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);
    free(cold);
}

static void flip_a_byte(const char *path)
{
    size_t len;
    uint64_t *b = read_raw(path, &len);
    char *name = memmem(b, len, "cached_function", 15);
    ck_assert_ptr_nonnull(name);
    name[3] ^= 0x20; /* inside a function's name: only the hash can tell */
    write_raw(path, b, len);
    free(b);
}

/* A file whose check is right but whose first record's frames lie past the file's frames. */
static void bad_record_rehashed(const char *path)
{
    size_t len;
    uint64_t *b = read_raw(path, &len);
    /* the head: 24 bytes of magic, then the identity's length, the numbers of records and
     * frames, of string bytes and of keys; the identity; then the records (offset, len,
     * first, n) */
    uint64_t ident = b[3], nframes = b[5];
    uint32_t *rec = (uint32_t *)((char *)b + 64 + ((ident + 7) & ~(uint64_t)7));
    rec[3] = (uint32_t)nframes; /* first */
    b[len / 8 - 1] = unitcache_hash(b, len / 8 - 1);
    write_raw(path, b, len);
    free(b);
}

static void cut_in_half(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
}

static void garbage(const char *path)
{
    tu_write_file(path, "\x01\x02 this is not a cache file\n");
}

START_TEST(test_corrupt_file_ignored_with_one_line)
{
    check_damage_ignored(flip_a_byte);
}
END_TEST

START_TEST(test_truncated_file_ignored_with_one_line)
{
    check_damage_ignored(cut_in_half);
}
END_TEST

START_TEST(test_bad_record_ignored_with_one_line)
{
    check_damage_ignored(bad_record_rehashed);
}
END_TEST

START_TEST(test_garbage_file_ignored_with_one_line)
{
    check_damage_ignored(garbage);
}
END_TEST

/* A valid file of another module under this module's build-id (a stale file, as after a
 * rebuild of the same path would leave under the old id) never serves, silently. */
START_TEST(test_file_of_another_identity_never_serves)
{
    fill_addrs();
    struct symcache_stats st;
    char *cold = run(tu_tmp, true, &st);
    char names[8][128];
    ck_assert_uint_eq(cache_files(tu_tmp, names, 8), modules_of_addrs());
    const char *mine = exe_file(tu_tmp);
    char other[4096];
    snprintf(other, sizeof other, "%s/symbols/%s", tu_tmp,
             strstr(mine, names[0]) ? names[1] : names[0]);
    size_t len;
    uint64_t *b = read_raw(other, &len);
    write_raw(mine, b, len);
    free(b);

    char *frames;
    opened = 0;
    char *err = capture_stderr(tu_tmp, run, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(opened, 1);
    ck_assert_uint_gt(st.misses, 0);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);
    /* rewritten: served whole again */
    opened = 0;
    frames = run(tu_tmp, true, &st);
    ck_assert_uint_eq(st.hits, NADDR);
    ck_assert_str_eq(frames, cold);
    free(frames);
    free(cold);
}
END_TEST

/* A file of another format version is stale, not corrupt: replaced without a word. */
START_TEST(test_other_format_version_replaced_silently)
{
    fill_addrs();
    struct symcache_stats st;
    char *cold = run(tu_tmp, true, &st);
    const char *path = exe_file(tu_tmp);
    size_t len;
    uint64_t *b = read_raw(path, &len);
    ck_assert(memcmp(b, SYMCACHE_MAGIC, strlen(SYMCACHE_MAGIC)) == 0);
    memcpy(b, "profreg-symcache 1", strlen(SYMCACHE_MAGIC)); /* a valid check, an old version */
    b[len / 8 - 1] = unitcache_hash(b, len / 8 - 1);
    write_raw(path, b, len);
    char *frames;
    char *err = capture_stderr(tu_tmp, run, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(frames, cold);
    ck_assert_uint_gt(st.misses, 0);
    free(err);
    free(frames);
    free(run(tu_tmp, true, &st));
    ck_assert_uint_eq(st.hits, NADDR); /* rewritten in this version */
    free(b);
    free(cold);
}
END_TEST

/* Another profreg build (another version string) never reads this one's files. */
START_TEST(test_other_version_never_serves)
{
    fill_addrs();
    struct symcache_stats st;
    free(run(tu_tmp, true, &st));
    struct symcache_options o = {tu_tmp, NULL, "another version", true, open_sym, NULL, 0, 0};
    struct symcache *c = symcache_new(&o);
    free(resolve_all(c));
    ck_assert_uint_eq(symcache_stats(c).hits, 0);
    symcache_free(c);
}
END_TEST

START_TEST(test_concurrent_writers_merge)
{
    fill_addrs();
    enum { NPROC = 8 };
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t pids[NPROC];
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            close(go[1]);
            char b;
            if (read(go[0], &b, 1) < 0)
                _exit(2);
            struct symcache *c = new_cache(tu_tmp, true);
            free(resolve_some(c, (size_t)i, NPROC));
            free(resolve_some(c, 0, NADDR)); /* one address every writer has */
            symcache_save(c);
            symcache_free(c);
            _exit(0);
        }
    }
    close(go[0]);
    close(go[1]); /* all start at once */
    for (int i = 0; i < NPROC; i++) {
        int status;
        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    struct symcache_stats st;
    opened = 0;
    char *frames;
    char *err = capture_stderr(tu_tmp, run, &st, &frames);
    ck_assert_str_eq(err, "");         /* valid */
    ck_assert_uint_eq(st.hits, NADDR); /* complete */
    ck_assert_int_eq(opened, 0);
    free(err);
    free(frames);
    /* no temporary file left behind */
    char *left = tu_shell("ls -a \"$TU_DIR\"/symbols | grep -c tmp || true");
    ck_assert_ptr_nonnull(left);
    ck_assert_str_eq(left, "0\n");
    free(left);
}
END_TEST

START_TEST(test_none_writes_nothing)
{
    fill_addrs();
    setenv("XDG_CACHE_HOME", tu_tmp, 1);
    setenv("HOME", tu_tmp, 1);
    struct symcache_stats st;
    opened = 0;
    char *a = run("none", true, &st);
    char *b = run("none", true, &st);
    ck_assert_uint_eq(st.hits, 0);
    ck_assert_uint_eq(st.misses, NADDR);
    ck_assert_int_eq(opened, 2);
    ck_assert_str_eq(a, b);
    char *digest = tu_shell("find \"$TU_DIR\" -mindepth 1 | wc -l");
    ck_assert_str_eq(digest, "0\n");
    free(digest);
    free(a);
    free(b);
}
END_TEST

/* Past SYMCACHE_MAX_TOTAL_BYTES, the least recently used files go; the ones in use stay. */
START_TEST(test_directory_trimmed_oldest_first)
{
    fill_addrs();
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/symbols", tu_tmp);
    mkdir(dir, 0777);
    const char *old[] = {"0000000000000000000000000000000000000001",
                         "0000000000000000000000000000000000000002",
                         "0000000000000000000000000000000000000003"};
    for (int i = 0; i < 3; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, old[i]);
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(ftruncate(fd, 40 << 20), 0); /* sparse: 120 MB apparent in all */
        close(fd);
        struct timespec t[2] = {{1000000 + i * 1000, 0}, {1000000 + i * 1000, 0}};
        utimensat(AT_FDCWD, path, t, 0);
    }
    struct symcache_stats st;
    free(run(tu_tmp, true, &st));
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, old[0]);
    ck_assert(!tu_exists(path)); /* the oldest two went: 40 MB and ours fit under 64 MB */
    snprintf(path, sizeof path, "%s/%s", dir, old[1]);
    ck_assert(!tu_exists(path));
    snprintf(path, sizeof path, "%s/%s", dir, old[2]);
    ck_assert(tu_exists(path));
    ck_assert(tu_exists(exe_file(tu_tmp)));
}
END_TEST

/* --- frames of function DIEs (the frames file's keys) ------------------------------------ */

static struct symbolizer_stats last_sym; /* the symbolizer's stats of the last run_units */

/* Ends a run: the symbolizers' stats into last_sym, the cache saved, its stats into *st. */
static void end_run(struct symcache *c, struct symcache_stats *st)
{
    symcache_symbolizer_stats(c, &last_sym);
    symcache_save(c);
    *st = symcache_stats(c);
    symcache_free(c);
}

/* Resolves the addresses in v (increasing, with threads 2: then the misses are shared with a
 * helper thread from the first on) through a cache in dir (NULL: none), saves; returns the
 * frames as text and keeps the symbolizers' stats in last_sym. */
static char *run_with(const char *dir, const uint64_t *v, size_t n, bool quiet, unsigned threads,
                      struct symcache_stats *st)
{
    struct symcache_options o = {dir ? dir : "none", NULL, "test",  quiet,
                                 open_sym,           NULL, threads, 2};
    struct symcache *c = symcache_new(&o);
    ck_assert_ptr_nonnull(c);
    symcache_prepare(c, v, n); /* (nothing with threads 0) */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    for (size_t i = 0; i < n; i++) {
        struct sym_frame fr[SYM_MAX_FRAMES];
        print_frames(f, fr, symcache_resolve(c, v[i], fr, SYM_MAX_FRAMES));
    }
    fclose(f);
    end_run(c, st);
    return text;
}

static char *run_list_said(const char *dir, const uint64_t *v, size_t n, bool quiet,
                           struct symcache_stats *st)
{
    return run_with(dir, v, n, quiet, 0, st);
}

static char *run_list(const char *dir, const uint64_t *v, size_t n, struct symcache_stats *st)
{
    return run_list_said(dir, v, n, true, st);
}

/* A run that samples new addresses of functions an earlier run named takes their frames
 * from the file, exactly as libdw gives them: out-of-line functions by their DIE, and an
 * inlined function by the DIE of its abstract origin, whichever caller it was inlined into. */
START_TEST(test_function_frames_serve_new_addresses)
{
    outer_function();
    uint64_t a = captured_return - 1; /* in inlined_level, inlined into outer_function */
    other_caller();
    uint64_t b = captured_return2 - 1; /* in inlined_level, inlined into other_caller */
    struct symcache_stats st;
    char *seed = run_list(tu_tmp, &a, 1, &st);
    ck_assert_ptr_nonnull(strstr(seed, "inlined_level|check_symcache.c|"));
    ck_assert_uint_eq(last_sym.frames_from_store, 0);

    /* b: a miss whose inlined frame an earlier run made; its caller's frame is new */
    char *cold = run_list(NULL, &b, 1, &st);
    char *warm = run_list(tu_tmp, &b, 1, &st);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(last_sym.frames_from_store, 1);
    ck_assert_ptr_nonnull(strstr(warm, "inlined_level|check_symcache.c|"));
    ck_assert_ptr_nonnull(strstr(warm, "other_caller|check_symcache.c|"));
    ck_assert_str_eq(warm, cold);
    free(cold);
    free(warm);

    /* every byte of outer_function: the misses take both of its frames from the file */
    uint64_t v[64];
    for (size_t i = 0; i < 64; i++)
        v[i] = (uint64_t)(uintptr_t)outer_function + i;
    cold = run_list(NULL, v, 64, &st);
    warm = run_list(tu_tmp, v, 64, &st);
    ck_assert_uint_gt(st.misses, 0);
    ck_assert_uint_ge(last_sym.frames_from_store, 1);
    ck_assert_str_eq(warm, cold);
    free(cold);
    free(warm);
    free(seed);
}
END_TEST

/* The same for an out-of-line function named after its ELF symbol (an out-of-line copy of an
 * inline function): its frame is kept by its DIE and that symbol. */
START_TEST(test_symbol_named_frames_serve_new_addresses)
{
    direct_twice();
    twice_ptr();
    uint64_t a = captured_return - 1; /* in inlined_level, inside twice's out-of-line copy */
    uint64_t b = (uint64_t)(uintptr_t)twice_ptr; /* its entry, before the inlined call */
    struct symcache_stats st;
    char *seed = run_list(tu_tmp, &a, 1, &st);
    ck_assert_ptr_nonnull(strstr(seed, "twice|check_symcache.c|"));
    char *cold = run_list(NULL, &b, 1, &st);
    char *warm = run_list(tu_tmp, &b, 1, &st);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(last_sym.frames_from_store, 1);
    ck_assert_str_eq(warm, cold);
    ck_assert_ptr_nonnull(strstr(warm, "twice|check_symcache.c|"));
    free(cold);
    free(warm);
    free(seed);
}
END_TEST

/* A key that names a frame past any record's (its check right): one line, the right frames,
 * the file rewritten. */
static void bad_key_rehashed(const char *path)
{
    size_t len;
    uint64_t *b = read_raw(path, &len);
    uint64_t ident = b[3], nrecs = b[4], nframes = b[5], nkeys = b[7];
    ck_assert_uint_gt(nkeys, 0);
    uint32_t *key =
        (uint32_t *)((char *)b + 64 + ((ident + 7) & ~(uint64_t)7) + 24 * (nrecs + nframes));
    key[4] = SYM_MAX_FRAMES; /* k */
    b[len / 8 - 1] = unitcache_hash(b, len / 8 - 1);
    write_raw(path, b, len);
    free(b);
}

START_TEST(test_bad_key_ignored_with_one_line)
{
    check_damage_ignored(bad_key_rehashed);
}
END_TEST

/* --- unit tables (<build-id>.units) ------------------------------------------------------ */

/* A run like run(), with the version string given, keeping the symbolizer's stats. */
static char *run_version(const char *dir, const char *version, bool quiet, struct symcache_stats *st)
{
    struct symcache_options o = {dir, NULL, version, quiet, open_sym, NULL, 0, 0};
    struct symcache *c = symcache_new(&o);
    ck_assert_ptr_nonnull(c);
    char *text = resolve_all(c);
    end_run(c, st);
    return text;
}

static char *run_units(const char *dir, bool quiet, struct symcache_stats *st)
{
    return run_version(dir, "test", quiet, st);
}

/* Removes every frames file (and .add file; not the unit tables), so that every address
 * misses. */
static void forget_frames(void)
{
    free(tu_shell("cd \"$TU_DIR\"/symbols && for f in *; do case $f in *.units.add) ;; "
                  "*.add) rm -f \"$f\";; *.*) ;; *) rm -f \"$f\";; esac; done"));
}

/* The sequences of a line program a run passed over (for an assembly routine of libc, named
 * from the line table at its start) go to the unit tables file: a later run that misses there
 * again names it the same without a pass over the whole program. */
START_TEST(test_line_sequences_saved_with_the_unit_tables)
{
    void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    ck_assert_ptr_nonnull(h);
    uint64_t a = (uint64_t)(uintptr_t)dlsym(h, "memset") + 1;
    dlclose(h);
    struct symcache_stats st;
    char *cold = run_list(tu_tmp, &a, 1, &st);
    ck_assert_uint_ge(last_sym.line_passes, 1);
    forget_frames();
    char *warm = run_list(tu_tmp, &a, 1, &st);
    ck_assert_uint_eq(st.misses, 1);
    ck_assert_uint_eq(last_sym.line_passes, 0);
    ck_assert_str_eq(warm, cold);
    free(cold);
    free(warm);
}
END_TEST

/* A run whose addresses are all new to the frames cache finds every unit it needs in the
 * saved tables: no unit is walked, and the frames are the cold run's, byte for byte. */
START_TEST(test_unit_tables_serve_new_addresses_without_walks)
{
    fill_addrs();
    struct symcache_stats st;
    char *cold;
    char *err = capture_stderr(tu_tmp, run_units, &st, &cold);
    ck_assert_str_eq(err, ""); /* no file yet: nothing to say */
    free(err);
    ck_assert_uint_gt(last_sym.cus_indexed, 0);
    ck_assert_uint_eq(last_sym.cus_from_store, 0);
    char units[4200];
    snprintf(units, sizeof units, "%s.units", exe_file(tu_tmp));
    ck_assert(tu_exists(units));

    forget_frames();
    char *warm = run_units(tu_tmp, true, &st);
    ck_assert_uint_eq(st.misses, NADDR);
    ck_assert_uint_gt(last_sym.cus_indexed, 0);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_uint_eq(last_sym.symtabs_sorted, 0); /* the sorted symbols came saved too */
    ck_assert_str_eq(warm, cold);
    free(cold);
    free(warm);
}
END_TEST

/* A first run that saves this executable's unit tables, whose path goes to units; returns its
 * frames. */
static char *seed_units(char *units, size_t size, struct symcache_stats *st)
{
    fill_addrs();
    char *cold = run_units(tu_tmp, true, st);
    snprintf(units, size, "%s.units", exe_file(tu_tmp));
    return cold;
}

/* A unit table file of another format version: stale, replaced without a word. */
START_TEST(test_unit_tables_of_another_version_replaced_silently)
{
    struct symcache_stats st;
    char units[4200];
    char *cold = seed_units(units, sizeof units, &st);
    size_t len;
    uint64_t *b = read_raw(units, &len);
    ck_assert(memcmp(b, UNITCACHE_MAGIC, 16) == 0);
    memcpy(b, "profreg-units 1\n", 16);
    b[len / 8 - 1] = unitcache_hash(b, len / 8 - 1);
    write_raw(units, b, len);
    free(b);

    forget_frames();
    char *frames;
    char *err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);
    b = read_raw(units, &len);
    ck_assert(memcmp(b, UNITCACHE_MAGIC, 16) == 0); /* rewritten in this version */
    free(b);
    free(cold);
}
END_TEST

/* A damaged table file: one line on stderr naming it, the right frames from walks, and the
 * file rewritten so that the next run is served silently. */
/* After damage to the units file at path: the next run (every address a miss) says so in one
 * line naming the file, walks the executable's units again (libc's still serve) and names
 * everything as the cold run did; the run after it is silent and served by the rewritten
 * file. */
static void damaged_then_served(const char *path, const char *cold)
{
    struct symcache_stats st;
    forget_frames();
    char *frames;
    char *err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_msg(count_lines(err) == 1 && strstr(err, "profreg: ignoring the symbol cache") &&
                      strstr(err, path) && strstr(err, "damaged"),
                  "stderr: %s", err);
    ck_assert_uint_lt(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);

    forget_frames();
    err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_uint_gt(last_sym.cus_from_store, 0);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);
}

START_TEST(test_damaged_unit_tables_ignored_with_one_line)
{
    struct symcache_stats st;
    char units[4200];
    char *cold = seed_units(units, sizeof units, &st);
    struct stat sb;
    ck_assert_int_eq(stat(units, &sb), 0);
    int fd = open(units, O_RDWR);
    ck_assert_int_ge(fd, 0);
    unsigned char byte;
    ck_assert_int_eq(pread(fd, &byte, 1, sb.st_size / 2), 1);
    byte ^= 0x40;
    ck_assert_int_eq(pwrite(fd, &byte, 1, sb.st_size / 2), 1);
    close(fd);

    damaged_then_served(units, cold);
    free(cold);
}
END_TEST

/* A first run saves where each unit's abbreviations lie in its table beside the unit's table
 * (dwarf_raw.h's hints): a later run that misses at the same addresses finds every code it
 * needs from them, reading no entry of the tables again, and names everything the same.
 * Fails when the hints are not saved or not used. */
START_TEST(test_abbreviation_hints_spare_the_scans)
{
    fill_addrs();
    struct symcache_stats st;
    size_t before = dwraw_entries_scanned;
    char *cold = run_units(tu_tmp, true, &st);
    size_t cold_scanned = dwraw_entries_scanned - before;
    ck_assert_uint_gt(cold_scanned, 0);
    forget_frames();
    before = dwraw_entries_scanned;
    char *warm = run_units(tu_tmp, true, &st);
    ck_assert_uint_eq(st.misses, NADDR);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_uint_eq(dwraw_entries_scanned - before, 0);
    ck_assert_str_eq(warm, cold);
    free(cold);
    free(warm);
}
END_TEST

/* A units file whose check is right but whose unit record places its hints outside the file's
 * hints (a file this build did not write so): damaged, named in one line, and rewritten. */
START_TEST(test_unit_hints_out_of_place_ignored_with_one_line)
{
    struct symcache_stats st;
    char units[4200];
    char *cold = seed_units(units, sizeof units, &st);
    struct stat sb;
    ck_assert_int_eq(stat(units, &sb), 0);
    size_t len = (size_t)sb.st_size;
    ck_assert(len % 8 == 0 && len > 56 + 48 + 8); /* head, a unit record, the check */
    uint64_t *w = malloc(len);
    ck_assert_ptr_nonnull(w);
    int fd = open(units, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, w, len, 0), (ssize_t)len);
    uint32_t nabbr = 0xfffffff0u; /* the first unit's count of hints (even, and far too many) */
    memcpy((char *)w + 56 + 28, &nabbr, sizeof nabbr);
    w[len / 8 - 1] = unitcache_hash(w, len / 8 - 1);
    ck_assert_int_eq(pwrite(fd, w, len, 0), (ssize_t)len);
    close(fd);
    free(w);

    damaged_then_served(units, cold);
    free(cold);
}
END_TEST

/* Tables another profreg build saved under the same build-id never serve, and are replaced
 * without a word. */
START_TEST(test_unit_tables_of_another_build_never_serve)
{
    fill_addrs();
    struct symcache_stats st;
    free(run_version(tu_tmp, "another version", true, &st));
    forget_frames();
    char *frames;
    char *err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_uint_gt(last_sym.cus_indexed, 0);
    ck_assert_uint_eq(last_sym.cus_from_store, 0);
    free(err);
    forget_frames();
    char *again = run_units(tu_tmp, true, &st);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(again, frames);
    free(frames);
    free(again);
}
END_TEST

/* FIFOs planted where this executable's frames, tables and lock go: the run neither hangs
 * nor trusts them, and resolves with libdw as a cold run does. */
START_TEST(test_fifos_in_the_cache_never_hang)
{
    fill_addrs();
    struct symcache_stats st;
    char *cold = run_units(tu_tmp, true, &st);
    const char *path = exe_file(tu_tmp);
    const char *suffix[] = {"", ".units", ".syms", ".lock"};
    for (int i = 0; i < 4; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
        ck_assert_int_eq(mkfifo(p, 0644), 0);
    }
    char *frames = run_units(tu_tmp, true, &st);
    ck_assert_uint_gt(st.misses, 0);
    ck_assert_str_eq(frames, cold);
    free(frames);
    free(cold);
}
END_TEST

/* The module's sorted symbols and its .debug_aranges go to <build-id>.syms once: a later
 * run reads neither the symbol table nor .debug_aranges, names every address the same, and
 * leaves the file as it was while the unit tables file is rewritten with what it learnt. */
START_TEST(test_symbols_and_aranges_written_once)
{
    struct symcache_stats st;
    char units[4200], syms[4200];
    char *cold = seed_units(units, sizeof units, &st);
    ck_assert_uint_gt(last_sym.aranges_read, 0);
    ck_assert_uint_gt(last_sym.symtabs_sorted, 0);
    snprintf(syms, sizeof syms, "%s.syms", exe_file(tu_tmp));
    struct stat before, after;
    ck_assert_int_eq(stat(syms, &before), 0);
    size_t len;
    uint64_t *b = read_raw(units, &len);
    ck_assert(memcmp(b, UNITCACHE_MAGIC, 16) == 0);
    free(b);
    b = read_raw(syms, &len);
    ck_assert(memcmp(b, UNITCACHE_FIXED_MAGIC, 16) == 0);
    ck_assert_uint_eq(b[6], 1); /* its aranges (symbols where a run sorted them: libc's) */
    free(b);

    forget_frames();
    unlink(units); /* every unit learnt again: the units file is rewritten, not this one */
    char *warm = run_units(tu_tmp, true, &st);
    ck_assert_uint_eq(last_sym.aranges_read, 0);
    ck_assert_uint_eq(last_sym.symtabs_sorted, 0);
    ck_assert_str_eq(warm, cold);
    ck_assert(tu_exists(units));
    ck_assert_int_eq(stat(syms, &after), 0);
    ck_assert_int_eq(after.st_ino, before.st_ino);
    ck_assert_int_eq(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
    ck_assert_int_eq(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    free(cold);
    free(warm);
}
END_TEST

/* A damaged .syms file: one line naming it, the same frames from the ELF file and DWARF, and
 * the file rewritten so that the next run is served silently. */
START_TEST(test_damaged_symbols_file_ignored_with_one_line)
{
    struct symcache_stats st;
    char units[4200], syms[4200];
    char *cold = seed_units(units, sizeof units, &st);
    snprintf(syms, sizeof syms, "%s.syms", exe_file(tu_tmp));
    size_t len;
    uint64_t *b = read_raw(syms, &len);
    b[len / 16] ^= 0x4000; /* a word in the middle */
    write_raw(syms, b, len);
    free(b);

    forget_frames();
    unlink(units); /* so that units are found through .debug_aranges again */
    char *frames;
    char *err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_msg(count_lines(err) == 1 && strstr(err, "profreg: ignoring the symbol cache") &&
                      strstr(err, syms) && strstr(err, "damaged"),
                  "stderr: %s", err);
    ck_assert_uint_gt(last_sym.aranges_read + last_sym.symtabs_sorted, 0);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);

    forget_frames();
    unlink(units);
    err = capture_stderr(tu_tmp, run_units, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(last_sym.aranges_read, 0);
    ck_assert_uint_eq(last_sym.symtabs_sorted, 0);
    ck_assert_str_eq(frames, cold);
    free(err);
    free(frames);
    free(cold);
}
END_TEST

/* --- the .add file --------------------------------------------------------------------- */

/* Entry addresses of libc functions: one range each. Under make sanitize the middle twelve
 * are its interceptors' (in libasan); the first six and the last six are libc's everywhere. */
#define NMANY 24
static uint64_t many[NMANY];

static void fill_many(void)
{
    const void *f[NMANY] = {(void *)getenv,  (void *)unsetenv, (void *)rand,    (void *)srandom,
                            (void *)random,  (void *)fseek,    (void *)strtol,  (void *)strtoul,
                            (void *)atoi,    (void *)atol,     (void *)fopen,   (void *)fclose,
                            (void *)opendir, (void *)qsort,    (void *)bsearch, (void *)strdup,
                            (void *)strndup, (void *)strtok,   (void *)ftell,   (void *)rewind,
                            (void *)div,     (void *)ldiv,     (void *)srand,   (void *)labs};
    for (size_t i = 0; i < NMANY; i++)
        many[i] = (uint64_t)(uintptr_t)f[i] + 1;
}

static char *run_many(const char *dir, bool quiet, struct symcache_stats *st)
{
    return run_list_said(dir, many, NMANY, quiet, st);
}

/* The modules with a file <build-id><suffix> under dir/symbols: their build-ids; their
 * number. */
static size_t files_named(const char *dir, const char *suffix, char names[][128], size_t max)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/symbols", dir);
    DIR *d = opendir(path);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        size_t len = strcspn(de->d_name, ".");
        if (len > 0 && strcmp(de->d_name + len, suffix) == 0 && n < max)
            snprintf(names[n++], 128, "%.*s", (int)len, de->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

/* The modules with a .add file (frames). */
static size_t add_files(const char *dir, char names[][128], size_t max)
{
    return files_named(dir, ".add", names, max);
}

static void symbols_path(const char *dir, const char *id, const char *suffix, char *out, size_t len)
{
    snprintf(out, len, "%s/symbols/%s%s", dir, id, suffix);
}

/* Is the file at path still the one st describes? Files are replaced by exchanging a new one
 * for them (another inode); a run served by a file only refreshes its mtime. */
static bool unchanged(const char *path, const struct stat *st)
{
    struct stat now;
    return stat(path, &now) == 0 && now.st_ino == st->st_ino && now.st_size == st->st_size;
}

/* A run with a few new ranges writes them to its module's .add file and leaves every main
 * file as it was; the next run is served by both, whole, with libdw's frames. */
START_TEST(test_new_ranges_join_the_add_file)
{
    fill_many();
    struct symcache_stats st;
    free(run_list(tu_tmp, many, NMANY - 1, &st)); /* all but the last function */
    char names[8][128], adds[8][128], path[4300];
    size_t n = cache_files(tu_tmp, names, 8);
    ck_assert_uint_ge(n, 1);
    struct stat before[8];
    for (size_t i = 0; i < n; i++) {
        symbols_path(tu_tmp, names[i], "", path, sizeof path);
        ck_assert_int_eq(stat(path, &before[i]), 0);
    }
    ck_assert_uint_eq(add_files(tu_tmp, adds, 8), 0); /* a first file is a main file */
    char units[8][128];
    size_t nu = files_named(tu_tmp, ".units", units, 8);
    struct stat units_before[8];
    for (size_t i = 0; i < nu; i++) {
        symbols_path(tu_tmp, units[i], ".units", path, sizeof path);
        ck_assert_int_eq(stat(path, &units_before[i]), 0);
    }

    char *second = run_list(tu_tmp, many, NMANY, &st);
    ck_assert_uint_ge(st.misses, 1);
    ck_assert_uint_eq(add_files(tu_tmp, adds, 8), 1); /* the new function's module's */
    for (size_t i = 0; i < n; i++) {
        symbols_path(tu_tmp, names[i], "", path, sizeof path);
        ck_assert_msg(unchanged(path, &before[i]), "%s rewritten", path);
    }
    /* and the table of the new function's unit goes to that module's .units.add */
    ck_assert_uint_gt(last_sym.cus_indexed, last_sym.cus_from_store);
    char uadds[8][128];
    ck_assert_uint_eq(files_named(tu_tmp, ".units.add", uadds, 8), 1);
    ck_assert_str_eq(uadds[0], adds[0]);
    for (size_t i = 0; i < nu; i++) {
        symbols_path(tu_tmp, units[i], ".units", path, sizeof path);
        ck_assert_msg(unchanged(path, &units_before[i]), "%s rewritten", path);
    }

    opened = 0;
    char *third = run_list(tu_tmp, many, NMANY, &st);
    ck_assert_int_eq(opened, 0);
    ck_assert_uint_eq(st.hits, NMANY);
    ck_assert_str_eq(third, second);
    char *fresh = run_list(NULL, many, NMANY, &st);
    ck_assert_str_eq(third, fresh);

    /* every address new to the frames files: every unit found in the two table files */
    forget_frames();
    char *walkless = run_list(tu_tmp, many, NMANY, &st);
    ck_assert_uint_eq(st.misses, NMANY);
    ck_assert_uint_gt(last_sym.cus_indexed, 0);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(walkless, fresh);
    free(second);
    free(third);
    free(fresh);
    free(walkless);
}
END_TEST

/* When the .add file would hold more than its share of the main file's records, the main file
 * is rewritten with the .add file's ranges and the run's, and the .add file goes. */
START_TEST(test_add_file_merged_into_the_main_file)
{
    fill_many();
    uint64_t v[NMANY];
    memcpy(v, many, 6 * sizeof *v);
    v[6] = many[NMANY - 1];
    struct symcache_stats st;
    free(run_list(tu_tmp, v, 6, &st)); /* 6 functions */
    free(run_list(tu_tmp, v, 7, &st)); /* and one more: into the .add file */
    char adds[8][128], path[4300], add_path[4300];
    ck_assert_uint_eq(add_files(tu_tmp, adds, 8), 1);
    symbols_path(tu_tmp, adds[0], "", path, sizeof path);
    symbols_path(tu_tmp, adds[0], ".add", add_path, sizeof add_path);
    struct stat main_before;
    ck_assert_int_eq(stat(path, &main_before), 0);

    char units_path[4300], units_add[4300];
    symbols_path(tu_tmp, adds[0], ".units", units_path, sizeof units_path);
    symbols_path(tu_tmp, adds[0], ".units.add", units_add, sizeof units_add);
    ck_assert(tu_exists(units_add));
    struct stat units_before;
    ck_assert_int_eq(stat(units_path, &units_before), 0);

    free(run_list(tu_tmp, many, NMANY, &st)); /* 17 more, at least 5 in that module */
    ck_assert_msg(!tu_exists(add_path), "%s left", add_path);
    ck_assert_msg(!unchanged(path, &main_before), "%s not rewritten", path);
    ck_assert_msg(!tu_exists(units_add), "%s left", units_add);
    ck_assert_msg(!unchanged(units_path, &units_before), "%s not rewritten", units_path);

    opened = 0;
    char *whole = run_list(tu_tmp, many, NMANY, &st);
    ck_assert_int_eq(opened, 0); /* the .add file's range (the last function) is in it too */
    ck_assert_uint_eq(st.hits, NMANY);
    char *fresh = run_list(NULL, many, NMANY, &st);
    ck_assert_str_eq(whole, fresh);
    forget_frames(); /* the .units.add file's table (the last function's unit) is in it too */
    char *walkless = run_list(tu_tmp, many, NMANY, &st);
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(walkless, fresh);
    free(whole);
    free(fresh);
    free(walkless);
}
END_TEST

/* Two runs (all of many but the last function, then all), so that one module has a file
 * <build-id><suffix> (".add" or ".units.add"); then a byte in its middle flipped. Its path goes
 * to path; returns the second run's frames. */
static char *damage_an_add_file(const char *suffix, char *path, size_t size)
{
    fill_many();
    struct symcache_stats st;
    free(run_list(tu_tmp, many, NMANY - 1, &st));
    char *right = run_list(tu_tmp, many, NMANY, &st);
    char ids[8][128];
    ck_assert_uint_eq(files_named(tu_tmp, suffix, ids, 8), 1);
    symbols_path(tu_tmp, ids[0], suffix, path, size);
    size_t len;
    uint64_t *b = read_raw(path, &len);
    ((char *)b)[len / 2] ^= 0x40;
    write_raw(path, b, len);
    free(b);
    return right;
}

/* A damaged .units.add file: one line on stderr naming it, the right frames, and the tables
 * rewritten, so that the next run finds every unit in them, silently. */
START_TEST(test_damaged_units_add_file_ignored_with_one_line)
{
    struct symcache_stats st;
    char units_add[4300];
    char *right = damage_an_add_file(".units.add", units_add, sizeof units_add);

    forget_frames();
    char *frames;
    char *err = capture_stderr(tu_tmp, run_many, &st, &frames);
    ck_assert_msg(count_lines(err) == 1 && strstr(err, "profreg: ignoring the symbol cache") &&
                      strstr(err, units_add) && strstr(err, "damaged"),
                  "stderr: %s", err);
    ck_assert_str_eq(frames, right);
    ck_assert_uint_gt(last_sym.cus_indexed, last_sym.cus_from_store); /* its unit walked */
    free(err);
    free(frames);

    forget_frames();
    err = capture_stderr(tu_tmp, run_many, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_uint_eq(last_sym.cus_from_store, last_sym.cus_indexed);
    ck_assert_str_eq(frames, right);
    free(err);
    free(frames);
    free(right);
}
END_TEST

/* A damaged .add file: one line on stderr naming it, the right frames, and the files
 * rewritten, so that the next run is served whole and silently. */
START_TEST(test_damaged_add_file_ignored_with_one_line)
{
    struct symcache_stats st;
    char add_path[4300];
    char *right = damage_an_add_file(".add", add_path, sizeof add_path);

    char *frames;
    char *err = capture_stderr(tu_tmp, run_many, &st, &frames);
    ck_assert_msg(count_lines(err) == 1 && strstr(err, "profreg: ignoring the symbol cache") &&
                      strstr(err, add_path),
                  "stderr: %s", err);
    ck_assert_str_eq(frames, right);
    free(err);
    free(frames);

    opened = 0;
    err = capture_stderr(tu_tmp, run_many, &st, &frames);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(opened, 0);
    ck_assert_uint_eq(st.hits, NMANY);
    ck_assert_str_eq(frames, right);
    free(err);
    free(frames);
    free(right);
}
END_TEST

/* A symbolizer opened after another one closed, on the same files, gives the same frames: the
 * raw reader's unit kept for the next open (dwarf_raw.c) is forgotten when its symbolizer
 * closes. Kept, it was taken for a unit of the next symbolizer whenever the addresses it is
 * recognised by came round again (with this file's runs, in some heap layouts: then strtoul
 * was named "strtoull" at line 106 instead of "strtoumax" at 104 from the third run on). */
START_TEST(test_symbolizers_in_turn_give_the_same_frames)
{
    fill_many();
    struct symcache_stats st;
    free(run_list(tu_tmp, many, NMANY - 1, &st));
    char *first = run_list(tu_tmp, many, NMANY, &st);
    ck_assert(!dwraw_keeps_a_unit()); /* (the runs read units raw: last_sym.cus_indexed) */
    for (int i = 0; i < 3; i++) {
        forget_frames();
        char *again = run_list(tu_tmp, many, NMANY, &st);
        ck_assert_uint_gt(last_sym.cus_indexed, 0);
        ck_assert(!dwraw_keeps_a_unit());
        ck_assert_str_eq(again, first);
        free(again);
    }
    char *fresh = run_list(NULL, many, NMANY, &st);
    ck_assert_str_eq(fresh, first);
    free(first);
    free(fresh);
}
END_TEST

/* --- the helper thread (symcache_prepare) ------------------------------------------------- */

/* Addresses of this executable (every byte of two functions with inline chains) and of libc,
 * increasing and distinct, as the preload asks them; how many. */
static size_t helper_list(uint64_t *v, size_t max)
{
    fill_addrs();
    fill_many();
    size_t n = 0;
    for (size_t i = 0; i < 48 && n < max; i++)
        v[n++] = (uint64_t)(uintptr_t)outer_function + i;
    for (size_t i = 0; i < 48 && n < max; i++)
        v[n++] = (uint64_t)(uintptr_t)other_caller + i;
    for (size_t i = 0; i < NADDR && n < max; i++)
        v[n++] = addrs[i];
    for (size_t i = 0; i < NMANY && n < max; i++)
        v[n++] = many[i];
    qsort(v, n, sizeof *v, u64_key_cmp);
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (w == 0 || v[i] != v[w - 1])
            v[w++] = v[i];
    return w;
}

/* a and b are the same text; else fails naming the first line that differs (short enough for
 * Check's message). */
static void assert_same_lines(const char *a, const char *b)
{
    size_t line = 1;
    const char *la = a, *lb = b;
    while (*la && *lb && *la == *lb) {
        if (*la == '\n') {
            line++;
            a = la + 1;
            b = lb + 1;
        }
        la++;
        lb++;
    }
    ck_assert_msg(*la == *lb, "line %zu differs: '%.150s' against '%.150s'", line, a, b);
}

static char *run_threads(const char *dir, const uint64_t *v, size_t n, unsigned threads,
                         struct symcache_stats *st)
{
    return run_with(dir, v, n, true, threads, st);
}

/* Misses shared with the helper thread get the very frames the calling thread alone gives,
 * on an empty cache and on one an earlier run filled (the unit tables and function frames then
 * serve both threads), and what the helper resolved is kept: the next run is served whole. */
START_TEST(test_helper_thread_gives_the_same_frames)
{
    uint64_t v[256];
    size_t n = helper_list(v, 256);
    char one_dir[4200], two_dir[4200];
    snprintf(one_dir, sizeof one_dir, "%s/one", tu_tmp);
    snprintf(two_dir, sizeof two_dir, "%s/two", tu_tmp);
    struct symcache_stats st1, st2, st;
    char *one = run_threads(one_dir, v, n, 1, &st1);
    ck_assert_uint_eq(st1.helper_misses, 0);
    char *two = run_threads(two_dir, v, n, 2, &st2);
    assert_same_lines(two, one);
    ck_assert_uint_eq(st2.misses, n);
    ck_assert_uint_ge(st2.helper_misses, 1); /* it came with a miss of its own */
    ck_assert(st2.helper_cpu_ms > 0);
    ck_assert(!dwraw_keeps_a_unit()); /* (its own kept unit went with it) */
    char *again = run_threads(two_dir, v, n, 1, &st);
    ck_assert_uint_eq(st.hits, n);
    ck_assert_uint_eq(st.misses, 0);
    assert_same_lines(again, one);
    free(again);
    free(one);
    free(two);

    /* a cache filled by a run of every other address: the rest are misses served in part by
     * the saved tables and frames, on both threads */
    uint64_t half[128];
    size_t nh = 0;
    for (size_t i = 0; i < n; i += 2)
        half[nh++] = v[i];
    snprintf(one_dir, sizeof one_dir, "%s/warm1", tu_tmp);
    snprintf(two_dir, sizeof two_dir, "%s/warm2", tu_tmp);
    free(run_threads(one_dir, half, nh, 1, &st));
    free(run_threads(two_dir, half, nh, 1, &st));
    one = run_threads(one_dir, v, n, 1, &st1);
    two = run_threads(two_dir, v, n, 2, &st2);
    ck_assert_uint_gt(st2.misses, 0);
    ck_assert_uint_ge(st2.helper_misses, 1);
    ck_assert_uint_eq(st2.hits, st1.hits);
    assert_same_lines(two, one);
    free(one);
    free(two);
}
END_TEST

/* When the helper's symbolizer cannot open, no helper starts: the calling thread resolves every
 * miss, with the same frames. Below min_split no symbolizer opens for it at all. */
START_TEST(test_helper_that_cannot_open_changes_nothing)
{
    uint64_t v[256];
    size_t n = helper_list(v, 256);
    char dir[4200];
    struct symcache_stats st;
    char *one = run_threads("none", v, n, 1, &st);
    snprintf(dir, sizeof dir, "%s/refused", tu_tmp);
    opened = 0;
    refuse_second_open = true;
    char *two = run_threads(dir, v, n, 2, &st);
    refuse_second_open = false;
    ck_assert_int_eq(opened, 2);
    ck_assert_uint_eq(st.helper_misses, 0);
    ck_assert_uint_eq(st.misses, n);
    assert_same_lines(two, one);
    free(two);

    struct symcache_options o = {"none", NULL, "test", true, open_sym, NULL, 2, n + 1};
    struct symcache *c = symcache_new(&o);
    ck_assert_ptr_nonnull(c);
    opened = 0;
    symcache_prepare(c, v, n); /* fewer misses than min_split: nothing starts */
    ck_assert_int_eq(opened, 0);
    symcache_free(c);

    /* after a lookup (the symbolizer open, a module's file perhaps mapped by libelf, which a
     * symbolizer opened then would take for part of the module): no helper */
    o.min_split = 2;
    c = symcache_new(&o);
    ck_assert_ptr_nonnull(c);
    struct sym_frame fr[SYM_MAX_FRAMES];
    ck_assert_uint_ge(symcache_resolve(c, v[n - 1], fr, SYM_MAX_FRAMES), 1);
    opened = 0;
    symcache_prepare(c, v, n);
    ck_assert_int_eq(opened, 0);
    symcache_free(c);
    free(one);
}
END_TEST

static void setup(void)
{
    tu_tmp_setup();
    setenv("TU_DIR", tu_tmp, 1);
}

int main(void)
{
    Suite *s = suite_create("symcache");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, tu_tmp_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_second_run_served_without_symbolizer);
    tcase_add_test(tc, test_corrupt_file_ignored_with_one_line);
    tcase_add_test(tc, test_truncated_file_ignored_with_one_line);
    tcase_add_test(tc, test_bad_record_ignored_with_one_line);
    tcase_add_test(tc, test_garbage_file_ignored_with_one_line);
    tcase_add_test(tc, test_file_of_another_identity_never_serves);
    tcase_add_test(tc, test_other_version_never_serves);
    tcase_add_test(tc, test_other_format_version_replaced_silently);
    tcase_add_test(tc, test_concurrent_writers_merge);
    tcase_add_test(tc, test_none_writes_nothing);
    tcase_add_test(tc, test_directory_trimmed_oldest_first);
    tcase_add_test(tc, test_unit_tables_serve_new_addresses_without_walks);
    tcase_add_test(tc, test_damaged_unit_tables_ignored_with_one_line);
    tcase_add_test(tc, test_unit_tables_of_another_version_replaced_silently);
    tcase_add_test(tc, test_unit_tables_of_another_build_never_serve);
    tcase_add_test(tc, test_abbreviation_hints_spare_the_scans);
    tcase_add_test(tc, test_unit_hints_out_of_place_ignored_with_one_line);
    tcase_add_test(tc, test_fifos_in_the_cache_never_hang);
    tcase_add_test(tc, test_function_frames_serve_new_addresses);
    tcase_add_test(tc, test_line_sequences_saved_with_the_unit_tables);
    tcase_add_test(tc, test_symbol_named_frames_serve_new_addresses);
    tcase_add_test(tc, test_bad_key_ignored_with_one_line);
    tcase_add_test(tc, test_symbols_and_aranges_written_once);
    tcase_add_test(tc, test_damaged_symbols_file_ignored_with_one_line);
    tcase_add_test(tc, test_new_ranges_join_the_add_file);
    tcase_add_test(tc, test_add_file_merged_into_the_main_file);
    tcase_add_test(tc, test_damaged_add_file_ignored_with_one_line);
    tcase_add_test(tc, test_damaged_units_add_file_ignored_with_one_line);
    tcase_add_test(tc, test_symbolizers_in_turn_give_the_same_frames);
    tcase_add_test(tc, test_helper_thread_gives_the_same_frames);
    tcase_add_test(tc, test_helper_that_cannot_open_changes_nothing);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
