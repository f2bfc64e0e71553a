/* SPDX-License-Identifier: MIT */
/* render_tests.h — per-test attribution as text: `profreg report --by-test`, the test table
 * of `profreg compare --by-test`, and its sections in the report JSON and Markdown summary.
 * Output only; recognition and verdicts come from testattr.h. */
#ifndef PROFREG_RENDER_TESTS_H
#define PROFREG_RENDER_TESTS_H

#include "core/json_write.h"
#include "analysis/render/term.h"
#include "analysis/judge/testattr.h"

#include <stddef.h>
#include <stdio.h>

/* Each test's share of the samples (of all nfiles profiles together) and CPU milliseconds
 * (summed over the profiles; with several, also the mean per profile), heaviest first, the
 * outside samples last; "no tests recognised" when there are none. width is the line width. */
void render_tests_report(FILE *out, const struct test_profile *t, size_t nfiles,
                         const struct term_style *s, int width);

/* compare --by-test on the console: each test's mean CPU ms per run now and in the baseline,
 * the change, p-value and status, then where each regressed function's time grew. */
void render_tests_table(FILE *out, const struct test_judgement *t, const struct term_style *s,
                        int width);

/* The "tests" member of the comparison report (docs/formats.md); nothing when t is NULL. */
void render_tests_json(struct jw *w, const struct test_judgement *t);

/* The Markdown section of compare --by-test; nothing when t is NULL. */
void render_tests_markdown(FILE *out, const struct test_judgement *t);

#endif
