/* SPDX-License-Identifier: MIT */
/* check_help.c — every subcommand's --help comes from its option table: for each command of
 * the CLI's own registry (linked in), `profreg CMD --help` and `profreg help CMD` exit 0 and
 * list every option of the table with its letter and value; and every option of every table
 * goes through the same parser: --opt=value and --opt value are the same, a bad number is the
 * same one-line usage error either way, and a flag given a value is refused. */
#include "testutil.h"

#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

/* argv for `profreg NAME ARGS...`: a form's name ("history append") is two words, and
 * baseline takes its action first. */
static size_t command_words(const struct cli_command *c, const char **argv)
{
    static char words[64];
    snprintf(words, sizeof words, "%s", c->name);
    size_t n = 0;
    for (char *w = strtok(words, " "); w; w = strtok(NULL, " "))
        argv[n++] = w;
    if (strcmp(c->name, "baseline") == 0)
        argv[n++] = "set";
    return n;
}

/* The option's column in --help: "-o, --output FILE", "--memory[=RATE]", "--self". */
static void option_text(const struct cli_opt *o, char *buf, size_t len)
{
    int n = o->letter ? snprintf(buf, len, "-%c, --%s", o->letter, o->name)
                      : snprintf(buf, len, "--%s", o->name);
    if (o->arg)
        snprintf(buf + n, len - (size_t)n, o->flags & CLI_OPTIONAL ? "[=%s]" : " %s", o->arg);
}

static void check_help_lists(const struct cli_command *top, const struct cli_command *c,
                             const char *out)
{
    char want[256];
    for (const struct cli_opt *o = c->opts; o->name; o++) {
        option_text(o, want, sizeof want);
        ck_assert_msg(strstr(out, want), "profreg %s --help lacks '%s':\n%s", top->name, want, out);
        ck_assert_msg(o->help && *o->help, "%s --%s: no help text", c->name, o->name);
    }
}

START_TEST(test_every_help_lists_its_table)
{
    ck_assert_uint_ge(cli_ncommands, 8);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const struct cli_command *c = cli_commands[i];
        char usage[128];
        snprintf(usage, sizeof usage, "usage: profreg %s ", c->name);
        const char *ways[][4] = {
            {c->name, "--help", NULL}, {"help", c->name, NULL}, {c->name, "-h", NULL}};
        char *first = NULL;
        for (size_t w = 0; w < 3; w++) {
            struct tu_result r = tu_profreg(ways[w], NULL, NULL);
            ck_assert_msg(r.status == 0 && !*r.err, "profreg %s %s: exit %d: %s", ways[w][0],
                          ways[w][1], r.status, tu_tail(r.err));
            ck_assert_msg(strncmp(r.out, usage, strlen(usage)) == 0, "%s", tu_tail(r.out));
            check_help_lists(c, c, r.out);
            ck_assert_msg(strstr(r.out, "-h, --help"), "%s", tu_tail(r.out));
            if (c->form) { /* history append: its usage line and its own options */
                char form[128];
                snprintf(form, sizeof form, "profreg %s ", c->form->name);
                ck_assert_msg(strstr(r.out, form), "%s", tu_tail(r.out));
                check_help_lists(c, c->form, r.out);
            }
            if (!first)
                first = strdup(r.out);
            else
                ck_assert_str_eq(r.out, first);
            tu_result_free(&r);
        }
        /* the command's line in 'profreg --help' */
        struct tu_result r = tu_profreg((const char *[]){"--help", NULL}, NULL, NULL);
        ck_assert_msg(strstr(r.out, c->summary), "%s", tu_tail(r.out));
        tu_result_free(&r);
        free(first);
    }
}
END_TEST

/* One run of profreg WORDS... ARGS...; its result. */
static struct tu_result run_with(const struct cli_command *c, const char *a1, const char *a2)
{
    const char *argv[8];
    size_t n = command_words(c, argv);
    argv[n++] = a1;
    if (a2)
        argv[n++] = a2;
    argv[n] = NULL;
    return tu_profreg(argv, NULL, NULL);
}

static void check_one_usage_line(const struct tu_result *r, const char *what, const char *want)
{
    ck_assert_msg(r->status == 2, "%s: exit %d: %s", what, r->status, r->err);
    ck_assert_msg(strncmp(r->err, "profreg: ", 9) == 0 && strstr(r->err, "--help')\n") &&
                      strchr(r->err, '\n') == r->err + strlen(r->err) - 1,
                  "%s: not one usage line: %s", what, r->err);
    ck_assert_msg(strstr(r->err, want), "%s: stderr lacks '%s': %s", what, want, r->err);
    ck_assert_msg(!*r->out, "%s: stdout '%s'", what, r->out);
}

static void check_table_parses(const struct cli_command *c)
{
    char eq[128], name[96], what[256];
    for (const struct cli_opt *o = c->opts; o->name; o++) {
        snprintf(name, sizeof name, "--%s", o->name);
        snprintf(what, sizeof what, "%s %s", c->name, name);
        if (!o->arg) { /* a flag: a value is refused */
            snprintf(eq, sizeof eq, "--%s=yes", o->name);
            struct tu_result r = run_with(c, eq, NULL);
            char want[128];
            snprintf(want, sizeof want, "--%s takes no value", o->name);
            check_one_usage_line(&r, what, want);
            tu_result_free(&r);
            continue;
        }
        if (o->kind != CLI_UINT && o->kind != CLI_DOUBLE)
            continue;
        /* a number: the same error for --opt=x and --opt x */
        snprintf(eq, sizeof eq, "--%s=x", o->name);
        char want[128];
        snprintf(want, sizeof want, "--%s: 'x' is not a", o->name);
        struct tu_result r1 = run_with(c, eq, NULL), r2 = run_with(c, name, "x");
        check_one_usage_line(&r1, what, want);
        check_one_usage_line(&r2, what, want);
        ck_assert_str_eq(r1.err, r2.err);
        tu_result_free(&r1);
        tu_result_free(&r2);
    }
}

START_TEST(test_every_table_parses_both_forms)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        check_table_parses(cli_commands[i]);
        if (cli_commands[i]->form)
            check_table_parses(cli_commands[i]->form);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("help");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_every_help_lists_its_table);
    tcase_add_test(tc, test_every_table_parses_both_forms);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
