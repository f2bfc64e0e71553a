/* SPDX-License-Identifier: MIT */
/* render_compare.h — what `profreg compare` prints and writes from a judgement: the console
 * table and the comparison report JSON (docs/formats.md). Renderers decide nothing; every
 * verdict comes from judge.h. */
#ifndef PROFREG_RENDER_COMPARE_H
#define PROFREG_RENDER_COMPARE_H

#include "analysis/judge/judge.h"
#include "analysis/render/term.h"

#include <stddef.h>
#include <stdio.h>

struct test_judgement; /* testattr.h */

/* The context of one comparison, besides the judgement itself. Strings may be NULL. */
struct compare_view {
    const char *executable;
    const char *generated_at;       /* ISO-8601 UTC */
    unsigned current_runs;          /* runs averaged on the current side */
    const char *current_timestamp;  /* mean export time of the current runs */
    const char *baseline_timestamp; /* the baseline's average_timestamp */
    unsigned baseline_runs;
    const char *baseline_commit;
    const char *baseline_file;
    const char *const *current_files;
    size_t ncurrent_files;
    const struct judge_options *options;
    const char *filter_text; /* the filters as given ("--prefix ns:: --project-only"), or NULL */
    const struct test_judgement *tests; /* compare --by-test (testattr.h), or NULL */
    /* compare --base-runs: the base runs judged against (baseline_file is then NULL) */
    const char *const *base_files;
    size_t nbase_files;
    const char *base_label; /* --base-label, or NULL */
    /* compare --metric alloc|live: what the shares are of ("allocated bytes", ...); NULL for
     * CPU samples */
    const char *share_of;
};

/* A name as Markdown inline code fit for a table cell: backticks inside become ', pipes are
 * escaped, line breaks and other control characters become spaces. */
void render_md_code(FILE *out, const char *s);

/* Text as Markdown that renders as exactly that text on one line: control characters (a
 * newline would start a new block) become spaces, Markdown's punctuation is backslash-escaped
 * (no emphasis, link, HTML or list can start). */
void render_md_text(FILE *out, const char *s);

/* A p-value as printed: "<0.0001", "0.0123", or "n/a". */
void render_format_p(double p, char *buf, size_t len);

/* The verdict rule in one sentence. */
void render_rule(const struct judge_options *o, char *buf, size_t len);

/* The console report: header, table (function, current %, baseline %, diff, status),
 * summary, new hotspots and disappeared functions. width is the line width. */
void render_compare_table(FILE *out, const struct compare_view *v, const struct judgement *j,
                          const struct term_style *s, int width);

/* The comparison report JSON. 0, or -1 on a write error. */
int render_compare_json(FILE *out, const struct compare_view *v, const struct judgement *j);

/* JUnit XML (Jenkins' junit step, GitLab's junit reports): one testsuite, one testcase per
 * compared function, a <failure> per regression; new hotspots and disappeared functions as
 * properties and in <system-out>. 0, or -1 on a write error. */
int render_compare_junit(FILE *out, const struct compare_view *v, const struct judgement *j);

/* A Markdown summary: verdict line, table, new hotspots, disappeared. 0, or -1. */
int render_compare_markdown(FILE *out, const struct compare_view *v, const struct judgement *j);

#endif
