/* check_fsutil.c — mkdir -p and atomic writes: no partial files, no temporary files left,
 * no_replace never touches an existing file. */
#include "testutil.h"

#include "profreg/fsutil.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    tcase_add_test(tc, test_failed_write_leaves_old_file_intact);
    tcase_add_test(tc, test_no_replace_refuses_existing_file);
    tcase_add_test(tc, test_unwritable_directory);
    tcase_add_test(tc, test_basename);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
