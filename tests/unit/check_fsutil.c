/* SPDX-License-Identifier: MIT */
/* check_fsutil.c — mkdir -p and atomic writes: no partial files, no temporary files left
 * (not even by a process killed while writing), no_replace never touches an existing file;
 * devices and FIFOs are written through and never replaced, symbolic links are followed to
 * their target, names of up to NAME_MAX bytes work. */
#include "testutil.h"

#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir;

static void setup(void)
{
    dir = tu_mkdtemp();
}

static void teardown(void)
{
    tu_rmtree(dir);
    free(dir);
}

static int write_hello(FILE *f, void *ctx)
{
    return fputs(ctx, f) < 0 ? -1 : 0;
}

static int write_fails(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("partial", f);
    return -1;
}

static size_t entries(const char *d)
{
    DIR *dd = opendir(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        n += e->d_name[0] != '.' || (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."));
    closedir(dd);
    return n;
}

START_TEST(test_mkdir_p_nested_and_existing)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    ck_assert_int_eq(fs_mkdir_p(path, 0777, err, sizeof err), 0);
    ck_assert(fs_is_dir(path));
    ck_assert_int_eq(fs_mkdir_p(path, 0777, err, sizeof err), 0);
    /* a file in the way */
    snprintf(path, sizeof path, "%s/file", dir);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/file/sub", dir);
    ck_assert_int_eq(fs_mkdir_p(path, 0777, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "cannot create directory") != NULL, "%s", err);
}
END_TEST

START_TEST(test_atomic_write_replaces_and_leaves_no_temporaries)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/out.json", dir);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "one", err, sizeof err), 0);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "two", err, sizeof err), 0);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "two");
    free(s);
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

/* fs_replace: over an existing file (exchanged, the old one unlinked while a reader that
 * opened it still reads it whole), onto a free name, and from a missing file (an error, the
 * target untouched). */
START_TEST(test_replace_exchanges_and_unlinks_the_old_file)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/cache", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.1", path);
    tu_write_file(tmp, "first");
    ck_assert_int_eq(fs_replace(tmp, path), 0); /* no file there yet */
    int reader = open(path, O_RDONLY);
    ck_assert_int_ge(reader, 0);
    tu_write_file(tmp, "second");
    ck_assert_int_eq(fs_replace(tmp, path), 0);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "second");
    free(s);
    ck_assert_uint_eq(entries(dir), 1); /* the old file is gone from the directory */
    char old[16] = {0};
    ck_assert_int_eq(read(reader, old, sizeof old - 1), 5);
    ck_assert_str_eq(old, "first");
    close(reader);
    errno = 0;
    ck_assert_int_eq(fs_replace(tmp, path), -1);
    ck_assert_int_eq(errno, ENOENT);
    s = tu_read_file(path);
    ck_assert_str_eq(s, "second");
    free(s);
}
END_TEST

START_TEST(test_failed_write_leaves_old_file_intact)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/out.json", dir);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "kept", err, sizeof err), 0);
    ck_assert_int_eq(fs_write_atomic(path, false, write_fails, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, path) != NULL, "%s", err);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "kept");
    free(s);
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

START_TEST(test_no_replace_refuses_existing_file)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/report.json", dir);
    ck_assert_int_eq(fs_write_atomic(path, true, write_hello, "first", err, sizeof err), 0);
    ck_assert_int_eq(fs_write_atomic(path, true, write_hello, "second", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "already exists") != NULL, "%s", err);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "first");
    free(s);
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

START_TEST(test_unwritable_directory)
{
    char err[512];
    ck_assert_int_eq(fs_write_atomic("/proc/nope/x.json", false, write_hello, "x", err, sizeof err),
                     -1);
    ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
}
END_TEST

/* A copy of /dev/null (made with mknod, as root) is written through: it stays the same
 * character device and nothing else appears beside it. Without the privilege to make one,
 * the test says it skipped. */
START_TEST(test_device_is_written_through)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/null", dir);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
        fprintf(stderr, "check_fsutil: SKIPPED the device check: mknod: %s (run as root)\n",
                strerror(errno));
        return;
    }
    ck_assert_msg(fs_write_atomic(path, false, write_hello, "gone", err, sizeof err) == 0, "%s",
                  err);
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert_msg(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3),
                  "the device was replaced (mode %o)", (unsigned)st.st_mode);
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

/* A FIFO with a reader gets the content; it stays a FIFO. With no reader the write fails at
 * once (never blocks) and creates nothing. */
START_TEST(test_fifo_is_written_through)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0666), 0);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "lost", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "reader") != NULL, "%s", err);
    int rfd = open(path, O_RDONLY | O_NONBLOCK);
    ck_assert_int_ge(rfd, 0);
    ck_assert_msg(fs_write_atomic(path, false, write_hello, "through a fifo", err, sizeof err) == 0,
                  "%s", err);
    char buf[64] = "";
    ssize_t n = read(rfd, buf, sizeof buf - 1);
    close(rfd);
    ck_assert_int_eq(n, 14);
    ck_assert_str_eq(buf, "through a fifo");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISFIFO(st.st_mode));
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

/* A symbolic link is followed: the target (in another directory, named relatively, through a
 * second link) gets the content and the links stay links. A dangling link creates its
 * target, as a shell redirection does. */
START_TEST(test_symlink_is_followed)
{
    char sub[4200], target[4300], link1[4200], link2[4200], err[512];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    ck_assert_int_eq(mkdir(sub, 0777), 0);
    snprintf(target, sizeof target, "%s/target.json", sub);
    tu_write_file(target, "old");
    snprintf(link1, sizeof link1, "%s/l1", dir);
    snprintf(link2, sizeof link2, "%s/l2.json", dir);
    ck_assert_int_eq(symlink("sub/target.json", link1), 0);
    ck_assert_int_eq(symlink("l1", link2), 0);
    ck_assert_msg(fs_write_atomic(link2, false, write_hello, "new", err, sizeof err) == 0, "%s",
                  err);
    struct stat st;
    ck_assert_int_eq(lstat(link2, &st), 0);
    ck_assert_msg(S_ISLNK(st.st_mode), "the link was replaced by a file");
    ck_assert_int_eq(lstat(link1, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    char *s = tu_read_file(target);
    ck_assert_str_eq(s, "new");
    free(s);
    ck_assert_uint_eq(entries(dir), 3);
    ck_assert_uint_eq(entries(sub), 1);

    char dangling[4200], made[4300];
    snprintf(dangling, sizeof dangling, "%s/dangling", dir);
    snprintf(made, sizeof made, "%s/made.txt", sub);
    ck_assert_int_eq(symlink(made, dangling), 0);
    ck_assert_msg(fs_write_atomic(dangling, false, write_hello, "made", err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq(lstat(dangling, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    s = tu_read_file(made);
    ck_assert_str_eq(s, "made");
    free(s);
    /* with no_replace, a link to an existing file is an existing file */
    ck_assert_int_eq(fs_write_atomic(link2, true, write_hello, "x", err, sizeof err), -1);
    ck_assert_msg(strstr(err, "already exists") != NULL, "%s", err);
}
END_TEST

/* A descriptor of the process named by path (/dev/stdout redirected to a file, /dev/fd/N) is
 * written through: the file it holds gets the content where the descriptor stands, never
 * replaced, so `> FILE` writes it and `>> FILE` appends to it. */
START_TEST(test_proc_link_is_written_through)
{
    char path[4200], link[64], err[512];
    snprintf(path, sizeof path, "%s/held.txt", dir);
    for (int append = 0; append < 2; append++) {
        tu_write_file(path, "old\n");
        int fd = open(path, O_WRONLY | (append ? O_APPEND : O_TRUNC));
        ck_assert_int_ge(fd, 0);
        struct stat before, after;
        ck_assert_int_eq(fstat(fd, &before), 0);
        snprintf(link, sizeof link, "/dev/fd/%d", fd);
        ck_assert_msg(fs_write_atomic(link, false, write_hello, "new", err, sizeof err) == 0,
                      "%s", err);
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ck_assert_msg(fs_write_atomic(link, false, write_hello, "er", err, sizeof err) == 0, "%s",
                      err);
        ck_assert_int_ge(fcntl(fd, F_GETFD), 0); /* still the caller's, open */
        close(fd);
        ck_assert_int_eq(stat(path, &after), 0);
        ck_assert_msg(after.st_ino == before.st_ino, "the held file was replaced");
        char *s = tu_read_file(path);
        ck_assert_str_eq(s, append ? "old\nnewer" : "newer");
        free(s);
        ck_assert_uint_eq(entries(dir), 1);
    }
}
END_TEST

/* A name of NAME_MAX bytes is a valid output name: the temporary name must not be longer. */
START_TEST(test_longest_name)
{
    char path[4200 + NAME_MAX], name[NAME_MAX + 1], err[512];
    memset(name, 'n', NAME_MAX);
    memcpy(name + NAME_MAX - 5, ".json", 6);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_msg(fs_write_atomic(path, false, write_hello, "long", err, sizeof err) == 0, "%s",
                  err);
    ck_assert_msg(fs_write_atomic(path, false, write_hello, "longer", err, sizeof err) == 0, "%s",
                  err);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "longer");
    free(s);
    ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

static int write_then_die(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("half a profile", f);
    fflush(f);
    raise(SIGKILL);
    return 0;
}

/* A process killed (SIGKILL) in the middle of a write leaves nothing in the directory. */
START_TEST(test_killed_writer_leaves_nothing)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/profile_x.json", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char err[512];
        fs_write_atomic(path, false, write_then_die, NULL, err, sizeof err);
        _exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_msg(entries(dir) == 0, "the killed writer left %zu file(s)", entries(dir));
}
END_TEST

/* A pid that no longer exists: a child that exited and was reaped. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    return pid;
}

/* A file named name in dir, last modified `age` seconds ago. */
static void make_file(const char *name, long age)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    tu_write_file(path, "x");
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age;
    t[1] = t[0];
    ck_assert_int_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

static bool in_dir(const char *name)
{
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

/* Where the file system has no O_TMPFILE: a short named temporary file, renamed; everything
 * else as above. A writer killed in the middle leaves its ".profreg.<pid>.<n>.tmp", which a
 * later write into the directory removes once its pid is gone and it is a minute old. */
START_TEST(test_named_temporaries_without_tmpfile)
{
    fs_no_tmpfile = true;
    char path[4200 + NAME_MAX], name[NAME_MAX + 1], err[512];
    snprintf(path, sizeof path, "%s/out.json", dir);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "one", err, sizeof err), 0);
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "two", err, sizeof err), 0);
    ck_assert_int_eq(fs_write_atomic(path, true, write_hello, "three", err, sizeof err), -1);
    ck_assert_int_eq(fs_write_atomic(path, false, write_fails, NULL, err, sizeof err), -1);
    char *s = tu_read_file(path);
    ck_assert_str_eq(s, "two");
    free(s);
    ck_assert_uint_eq(entries(dir), 1);
    memset(name, 'n', NAME_MAX);
    name[NAME_MAX] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, name);
    ck_assert_msg(fs_write_atomic(path, false, write_hello, "long", err, sizeof err) == 0, "%s",
                  err);
    ck_assert_int_eq(unlink(path), 0);

    snprintf(path, sizeof path, "%s/profile_x.json", dir);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        fs_write_atomic(path, false, write_then_die, NULL, err, sizeof err);
        _exit(0);
    }
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    char left[256] = "", prefix[64];
    snprintf(prefix, sizeof prefix, ".profreg.%ld.", (long)pid);
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            snprintf(left, sizeof left, "%s", e->d_name);
    closedir(d);
    ck_assert_msg(*left && entries(dir) == 2, "the killed writer's %s*.tmp", prefix);
    make_file(left, 3600); /* an hour old */
    ck_assert_int_eq(fs_write_atomic(path, false, write_hello, "ok", err, sizeof err), 0);
    ck_assert_msg(!in_dir(left), "%s was not cleaned up", left);
    fs_no_tmpfile = false;
}
END_TEST

/* What the clean-up removes: temporary files of dead pids, in this version's form and the
 * earlier ".NAME.tmp.<pid>.<n>", a minute old. What it keeps: a live pid's, a fresh one (a
 * writer in another pid namespace), other hidden files, directories. */
START_TEST(test_clean_stale_temporaries)
{
    char a[64], b[64], fresh[64], live[64], weird[64], subdir[4400];
    pid_t dead = dead_pid();
    snprintf(a, sizeof a, ".profreg.%ld.3.tmp", (long)dead);
    snprintf(b, sizeof b, ".profile_1_2.json.tmp.%ld.0", (long)dead);
    snprintf(fresh, sizeof fresh, ".profreg.%ld.4.tmp", (long)dead);
    snprintf(live, sizeof live, ".profreg.%ld.0.tmp", (long)getppid());
    snprintf(weird, sizeof weird, ".profreg.%ld.x.tmp", (long)dead);
    make_file(a, 120);
    make_file(b, 120);
    make_file(fresh, 0);
    make_file(live, 120);
    make_file(weird, 120);
    make_file(".profile.tmp", 120);
    make_file(".tmp.1.2", 120);
    snprintf(subdir, sizeof subdir, "%s/.profreg.%ld.5.tmp", dir, (long)dead);
    ck_assert_int_eq(mkdir(subdir, 0777), 0);
    ck_assert_int_eq(fs_clean_stale_temporaries(dir), 2);
    ck_assert(!in_dir(a) && !in_dir(b));
    ck_assert(in_dir(fresh) && in_dir(live) && in_dir(weird) && in_dir(".profile.tmp") &&
              in_dir(".tmp.1.2") && fs_is_dir(subdir));
    ck_assert_int_eq(fs_clean_stale_temporaries("/nonexistent"), 0);
}
END_TEST

/* Staged outputs: nothing is visible until committed; a discarded one leaves nothing; a
 * no_replace commit that finds its name taken keeps the content for another name. */
START_TEST(test_staged_outputs)
{
    for (int named = 0; named < 2; named++) {
        fs_no_tmpfile = named;
        char a[4200], b[4200], c[4200], err[512];
        snprintf(a, sizeof a, "%s/a.json", dir);
        snprintf(b, sizeof b, "%s/b.json", dir);
        snprintf(c, sizeof c, "%s/c.json", dir);
        struct fs_staged sa, sb;
        ck_assert_int_eq(fs_stage(&sa, a, false, write_hello, "A", err, sizeof err), 0);
        ck_assert_int_eq(fs_stage(&sb, b, true, write_hello, "B", err, sizeof err), 0);
        ck_assert(!in_dir("a.json") && !in_dir("b.json"));
        fs_discard(&sa);
        tu_write_file(b, "taken");
        ck_assert_int_eq(fs_commit(&sb, err, sizeof err), -1);
        ck_assert_int_eq(errno, EEXIST);
        ck_assert_int_eq(fs_commit_as(&sb, c, err, sizeof err), 0);
        char *s = tu_read_file(c);
        ck_assert_str_eq(s, "B");
        free(s);
        s = tu_read_file(b);
        ck_assert_str_eq(s, "taken");
        free(s);
        ck_assert_msg(entries(dir) == 2, "%zu entries", entries(dir));
        fs_discard(&sa); /* twice: harmless */
        unlink(b);
        unlink(c);
    }
    fs_no_tmpfile = false;
}
END_TEST

/* Inputs: a regular file opens; a FIFO (no writer: opening it for reading would block), a
 * directory and a missing file are refused with one line. */
START_TEST(test_open_input)
{
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/in.json", dir);
    tu_write_file(path, "{}");
    int fd = fs_open_input(path, err, sizeof err);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    close(fd);
    snprintf(path, sizeof path, "%s/fifo.json", dir);
    ck_assert_int_eq(mkfifo(path, 0666), 0);
    ck_assert_int_eq(fs_open_input(path, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "not a regular file") && strstr(err, path), "%s", err);
    ck_assert_ptr_null(fs_fopen_input(dir, err, sizeof err));
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
    ck_assert_ptr_null(fs_fopen_input("/nonexistent/x", err, sizeof err));
    ck_assert_msg(strstr(err, "cannot open"), "%s", err);
}
END_TEST

/* fs_map_file: the file's bytes, which stay when the file is replaced by fs_replace (as the
 * caches' writers replace them) while mapped; an empty length is refused (EINVAL). */
START_TEST(test_map_file_survives_replace)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/cache", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp.1", path);
    tu_write_file(path, "first version");
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    const char *p = fs_map_file(fd, 13);
    ck_assert_ptr_nonnull(p);
    close(fd);
    tu_write_file(tmp, "second");
    ck_assert_int_eq(fs_replace(tmp, path), 0);
    ck_assert_int_eq(memcmp(p, "first version", 13), 0);
    fs_unmap((void *)p, 13);
    fs_unmap(NULL, 13); /* nothing to let go */
    fd = open(path, O_RDONLY);
    errno = 0;
    ck_assert_ptr_null(fs_map_file(fd, 0));
    ck_assert_int_eq(errno, EINVAL);
    close(fd);
}
END_TEST

/* Where the file system maps no files (procfs refuses mmap), fs_map_file reads the bytes
 * instead; a length past the file's end is refused (EIO) there. */
START_TEST(test_map_file_reads_what_cannot_be_mapped)
{
    char want[4096];
    int fd = open("/proc/version", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ssize_t n = read(fd, want, sizeof want);
    ck_assert_int_gt(n, 0);
    errno = 0;
    const char *p = fs_map_file(fd, (size_t)n);
    ck_assert_msg(p != NULL, "errno %d", errno);
    ck_assert_int_eq(memcmp(p, want, (size_t)n), 0);
    fs_unmap((void *)p, (size_t)n);
    errno = 0;
    ck_assert_ptr_null(fs_map_file(fd, (size_t)n + 4096));
    ck_assert_int_eq(errno, EIO);
    close(fd);
}
END_TEST

START_TEST(test_basename)
{
    ck_assert_str_eq(fs_basename("/a/b/c.json"), "c.json");
    ck_assert_str_eq(fs_basename("c.json"), "c.json");
    ck_assert_str_eq(fs_basename("/a/"), "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fsutil");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_mkdir_p_nested_and_existing);
    tcase_add_test(tc, test_atomic_write_replaces_and_leaves_no_temporaries);
    tcase_add_test(tc, test_replace_exchanges_and_unlinks_the_old_file);
    tcase_add_test(tc, test_failed_write_leaves_old_file_intact);
    tcase_add_test(tc, test_no_replace_refuses_existing_file);
    tcase_add_test(tc, test_unwritable_directory);
    tcase_add_test(tc, test_device_is_written_through);
    tcase_add_test(tc, test_fifo_is_written_through);
    tcase_add_test(tc, test_symlink_is_followed);
    tcase_add_test(tc, test_proc_link_is_written_through);
    tcase_add_test(tc, test_longest_name);
    tcase_add_test(tc, test_killed_writer_leaves_nothing);
    tcase_add_test(tc, test_named_temporaries_without_tmpfile);
    tcase_add_test(tc, test_clean_stale_temporaries);
    tcase_add_test(tc, test_staged_outputs);
    tcase_add_test(tc, test_open_input);
    tcase_add_test(tc, test_map_file_survives_replace);
    tcase_add_test(tc, test_map_file_reads_what_cannot_be_mapped);
    tcase_add_test(tc, test_basename);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
