/* SPDX-License-Identifier: MIT */
/* check_settings.c — PROFREG_* parsing: defaults, valid values, and every kind of bad value
 * (one warning naming the variable, default kept). */
#include "testutil.h"

#include "settings.h"

#include <string.h>

static const char *const *env_table;
static char warnings[8][512];
static int nwarnings;

static const char *fake_getenv(const char *name)
{
    for (const char *const *e = env_table; e && *e; e += 2)
        if (strcmp(e[0], name) == 0)
            return e[1];
    return NULL;
}

static void fake_warn(const char *line)
{
    if (nwarnings < 8)
        snprintf(warnings[nwarnings], sizeof warnings[0], "%s", line);
    nwarnings++;
}

static void load(struct settings *s, const char *const *env)
{
    env_table = env;
    nwarnings = 0;
    settings_load(s, fake_getenv, fake_warn);
}

START_TEST(test_defaults)
{
    struct settings s;
    load(&s, NULL);
    ck_assert_int_eq(nwarnings, 0);
    ck_assert(!s.disabled && !s.quiet);
    ck_assert_int_eq(s.mode, PR_MODE_CPU);
    ck_assert_int_eq(s.clock, PR_CLOCK_AUTO);
    ck_assert_uint_eq(s.frequency, 1000);
    ck_assert_uint_eq(s.max_stacks, SETTINGS_DEFAULT_MAX_STACKS);
    ck_assert_str_eq(s.output, "");
    ck_assert_str_eq(s.target, "");
    ck_assert(!s.memory && !s.memory_only);
    ck_assert_uint_eq(s.memory_rate, 512 * 1024);
    ck_assert_uint_eq(s.exit_threads, 0); /* auto */
}
END_TEST

/* PROFREG_EXIT_THREADS: 1, 2, or auto (any case; the default). */
START_TEST(test_exit_threads_values)
{
    static const struct {
        const char *value;
        unsigned threads;
    } cases[] = {{"1", 1}, {"2", 2}, {"auto", 0}, {"AUTO", 0}, {"", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = {"PROFREG_EXIT_THREADS", cases[i].value, NULL};
        struct settings s;
        load(&s, env);
        ck_assert_msg(nwarnings == 0, "%s: %s", cases[i].value, warnings[0]);
        ck_assert_msg(s.exit_threads == cases[i].threads, "PROFREG_EXIT_THREADS=%s: %u",
                      cases[i].value, s.exit_threads);
    }
}
END_TEST

START_TEST(test_memory_rates)
{
    static const struct {
        const char *value;
        unsigned long long bytes;
    } ok[] = {{"1", 1},
              {"4096", 4096},
              {"512K", 512 * 1024},
              {"512k", 512 * 1024},
              {"512KiB", 512 * 1024},
              {"2M", 2 << 20},
              {"1MB", 1 << 20},
              {"1G", 1ull << 30},
              {"1024G", 1ull << 40}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        const char *env[] = {"PROFREG_MEMORY", "1", "PROFREG_MEMORY_RATE", ok[i].value, NULL};
        struct settings s;
        load(&s, env);
        ck_assert_msg(nwarnings == 0, "%s: %s", ok[i].value, warnings[0]);
        ck_assert(s.memory);
        ck_assert_msg(s.memory_rate == ok[i].bytes, "%s: %llu", ok[i].value,
                      (unsigned long long)s.memory_rate);
    }
}
END_TEST

/* PROFREG_MEMORY: 1 and its synonyms sample allocations with CPU sampling, only (any case)
 * without, 0 and its synonyms not at all. */
START_TEST(test_memory_values)
{
    static const struct {
        const char *value;
        bool memory, only;
    } cases[] = {{"1", true, false},     {"yes", true, false},  {"true", true, false},
                 {"only", true, true},   {"ONLY", true, true},  {"0", false, false},
                 {"no", false, false},   {"", false, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = {"PROFREG_MEMORY", cases[i].value, NULL};
        struct settings s;
        load(&s, env);
        ck_assert_msg(nwarnings == 0, "%s: %s", cases[i].value, warnings[0]);
        ck_assert_msg(s.memory == cases[i].memory && s.memory_only == cases[i].only,
                      "PROFREG_MEMORY=%s: memory %d, only %d", cases[i].value, s.memory,
                      s.memory_only);
    }
}
END_TEST

START_TEST(test_valid_values)
{
    const char *env[] = {"PROFREG_MODE",
                         "wall",
                         "PROFREG_FREQUENCY",
                         "250",
                         "PROFREG_MAX_STACKS",
                         "1024",
                         "PROFREG_OUTPUT",
                         "out dir/",
                         "PROFREG_QUIET",
                         "1",
                         "PROFREG_DISABLE",
                         "false",
                         "PROFREG_TARGET",
                         "*_test",
                         "PROFREG_CLOCK",
                         "timer",
                         "PROFREG_UNWIND",
                         "slow",
                         NULL};
    struct settings s;
    load(&s, env);
    ck_assert_int_eq(nwarnings, 0);
    ck_assert_int_eq(s.mode, PR_MODE_WALL);
    ck_assert_int_eq(s.clock, PR_CLOCK_TIMER);
    ck_assert(s.slow_unwind);
    ck_assert_uint_eq(s.frequency, 250);
    ck_assert_uint_eq(s.max_stacks, 1024);
    ck_assert_str_eq(s.output, "out dir/");
    ck_assert(s.quiet && !s.disabled);
    ck_assert_str_eq(s.target, "*_test");
}
END_TEST

struct bad_case {
    const char *name, *value, *mention;
};

START_TEST(test_bad_values_warn_and_keep_defaults)
{
    static const struct bad_case cases[] = {
        {"PROFREG_FREQUENCY", "abc", "PROFREG_FREQUENCY='abc'"},
        {"PROFREG_FREQUENCY", "0", "PROFREG_FREQUENCY='0'"},
        {"PROFREG_FREQUENCY", "-5", "PROFREG_FREQUENCY='-5'"},
        {"PROFREG_FREQUENCY", "100001", "PROFREG_FREQUENCY='100001'"},
        {"PROFREG_FREQUENCY", "1e3", "PROFREG_FREQUENCY='1e3'"},
        {"PROFREG_FREQUENCY", "99999999999999999999999", "PROFREG_FREQUENCY="},
        {"PROFREG_FREQUENCY", " 10", "PROFREG_FREQUENCY"},
        {"PROFREG_MODE", "CPU", "PROFREG_MODE='CPU'"},
        {"PROFREG_MODE", "gpu", "PROFREG_MODE='gpu'"},
        {"PROFREG_CLOCK", "tsc", "PROFREG_CLOCK='tsc'"},
        {"PROFREG_CLOCK", "PERF", "PROFREG_CLOCK='PERF'"},
        {"PROFREG_UNWIND", "quick", "PROFREG_UNWIND='quick'"},
        {"PROFREG_MAX_STACKS", "10", "PROFREG_MAX_STACKS='10'"},
        {"PROFREG_MAX_STACKS", "lots", "PROFREG_MAX_STACKS='lots'"},
        {"PROFREG_QUIET", "2", "PROFREG_QUIET='2'"},
        {"PROFREG_DISABLE", "please", "PROFREG_DISABLE='please'"},
        {"PROFREG_MEMORY", "on", "PROFREG_MEMORY='on' is not 1, 0 or only; using 0"},
        {"PROFREG_MEMORY", "only1", "PROFREG_MEMORY='only1'"},
        {"PROFREG_MEMORY", "2", "PROFREG_MEMORY='2'"},
        {"PROFREG_MEMORY_RATE", "abc", "PROFREG_MEMORY_RATE='abc'"},
        {"PROFREG_MEMORY_RATE", "-1", "PROFREG_MEMORY_RATE='-1'"},
        {"PROFREG_MEMORY_RATE", "0", "PROFREG_MEMORY_RATE='0'"},
        {"PROFREG_MEMORY_RATE", "12T", "PROFREG_MEMORY_RATE='12T'"},
        {"PROFREG_MEMORY_RATE", "2048G", "PROFREG_MEMORY_RATE='2048G'"},
        {"PROFREG_MEMORY_RATE", "99999999999999999999999", "PROFREG_MEMORY_RATE="},
        {"PROFREG_MEMORY_RATE", "5 K", "PROFREG_MEMORY_RATE='5 K'"},
        {"PROFREG_MEMORY_RATE", "5Kx", "PROFREG_MEMORY_RATE='5Kx'"},
        {"PROFREG_MEMORY_RATE", "0.5M", "PROFREG_MEMORY_RATE='0.5M'"},
        {"PROFREG_EXIT_THREADS", "0", "PROFREG_EXIT_THREADS='0' is not 1, 2 or auto; using auto"},
        {"PROFREG_EXIT_THREADS", "3", "PROFREG_EXIT_THREADS='3'"},
        {"PROFREG_EXIT_THREADS", "two", "PROFREG_EXIT_THREADS='two'"},
        {"PROFREG_EXIT_THREADS", "-1", "PROFREG_EXIT_THREADS='-1'"},
        {"PROFREG_EXIT_THREADS", "2 ", "PROFREG_EXIT_THREADS='2 '"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *env[] = {cases[i].name, cases[i].value, NULL};
        struct settings s;
        load(&s, env);
        ck_assert_msg(nwarnings == 1, "%s=%s: %d warnings", cases[i].name, cases[i].value,
                      nwarnings);
        ck_assert_msg(strncmp(warnings[0], "profreg: ", 9) == 0, "%s", warnings[0]);
        ck_assert_msg(strstr(warnings[0], cases[i].mention) != NULL, "%s", warnings[0]);
        ck_assert_msg(strstr(warnings[0], "using") != NULL, "%s", warnings[0]);
        ck_assert_msg(strchr(warnings[0], '\n') == NULL, "not one line: %s", warnings[0]);
        ck_assert_int_eq(s.mode, PR_MODE_CPU);
        ck_assert_int_eq(s.clock, PR_CLOCK_AUTO);
        ck_assert(!s.slow_unwind);
        ck_assert_uint_eq(s.frequency, 1000);
        ck_assert_uint_eq(s.max_stacks, SETTINGS_DEFAULT_MAX_STACKS);
        ck_assert(!s.quiet && !s.disabled);
        ck_assert(!s.memory && !s.memory_only);
        ck_assert_uint_eq(s.memory_rate, SETTINGS_DEFAULT_MEMORY_RATE);
        ck_assert_uint_eq(s.exit_threads, 0);
    }
}
END_TEST

START_TEST(test_too_long_paths_are_refused)
{
    static char longpath[PATH_MAX + 10];
    memset(longpath, 'a', sizeof longpath - 1);
    const char *env[] = {"PROFREG_OUTPUT", longpath, NULL};
    struct settings s;
    load(&s, env);
    ck_assert_int_eq(nwarnings, 1);
    ck_assert_str_eq(s.output, "");
}
END_TEST

START_TEST(test_empty_values_mean_unset)
{
    const char *env[] = {"PROFREG_MODE",
                         "",
                         "PROFREG_FREQUENCY",
                         "",
                         "PROFREG_OUTPUT",
                         "",
                         "PROFREG_QUIET",
                         "",
                         NULL};
    struct settings s;
    load(&s, env);
    ck_assert_int_eq(nwarnings, 0);
    ck_assert_uint_eq(s.frequency, 1000);
    ck_assert_str_eq(s.output, "");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("settings");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_valid_values);
    tcase_add_test(tc, test_memory_rates);
    tcase_add_test(tc, test_memory_values);
    tcase_add_test(tc, test_exit_threads_values);
    tcase_add_test(tc, test_bad_values_warn_and_keep_defaults);
    tcase_add_test(tc, test_too_long_paths_are_refused);
    tcase_add_test(tc, test_empty_values_mean_unset);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
