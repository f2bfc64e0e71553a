/* SPDX-License-Identifier: MIT */
/* render_junit.c — the comparison as JUnit XML. Output only; every verdict is the judge's. */
#include "analysis/render/render_compare.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "analysis/render/xml.h"

static void listed(FILE *out, const char *title, const struct listed_function *l, size_t n)
{
    if (n == 0)
        return;
    fprintf(out, "%s:\n", title);
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "  %.2f %%  ", l[i].percentage);
        xml_text(out, l[i].name, SIZE_MAX, true);
        fputc('\n', out);
    }
}

int render_compare_junit(FILE *out, const struct compare_view *v, const struct judgement *j)
{
    const char *exe = v->executable ? v->executable : "unknown";
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    fprintf(out, "  <testsuite name=\"profreg.");
    xml_text(out, exe, SIZE_MAX, true);
    size_t nmetrics = 0;
    for (size_t i = 0; i < j->nmetrics; i++)
        nmetrics += j->metrics[i].judged;
    fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"0\"",
            j->ncompared + nmetrics + j->new_regressed,
            j->regressed + j->metrics_regressed + j->new_regressed);
    if (v->generated_at)
        fprintf(out, " timestamp=\"%.19s\"", v->generated_at);
    fprintf(out, ">\n    <properties>\n");
    fprintf(out, "      <property name=\"threshold_percent\" value=\"%g\"/>\n",
            v->options->threshold_percent);
    fprintf(out, "      <property name=\"top\" value=\"%zu\"/>\n", v->options->top);
    fprintf(out, "      <property name=\"judge\" value=\"%s\"/>\n",
            v->options->compat ? "compat" : "default");
    fprintf(out, "      <property name=\"metric\" value=\"%s\"/>\n",
            judge_metric_name(v->options->metric));
    fprintf(out, "      <property name=\"runs_averaged\" value=\"%u\"/>\n", v->current_runs);
    for (size_t i = 0; i < j->nnew; i++) {
        fprintf(out, "      <property name=\"new_hotspot\" value=\"");
        xml_text(out, j->new_hotspots[i].name, SIZE_MAX, true);
        fprintf(out, "\"/>\n");
    }
    for (size_t i = 0; i < j->ndisappeared; i++) {
        fprintf(out, "      <property name=\"disappeared\" value=\"");
        xml_text(out, j->disappeared[i].name, SIZE_MAX, true);
        fprintf(out, "\"/>\n");
    }
    fprintf(out, "    </properties>\n");
    for (size_t i = 0; i < j->ncompared; i++) {
        const struct judged_function *f = &j->compared[i];
        fprintf(out, "    <testcase classname=\"profreg.");
        xml_text(out, exe, SIZE_MAX, true);
        fprintf(out, "\" name=\"");
        xml_text(out, f->name, SIZE_MAX, true);
        fprintf(out, "\" time=\"0\"");
        if (f->status == VERDICT_INCONCLUSIVE) {
            fprintf(out, ">\n      <skipped message=\"inconclusive: these runs could not have "
                         "shown a regression of the size looked for\"/>\n    </testcase>\n");
            continue;
        }
        if (f->status != VERDICT_REGRESSION) {
            fprintf(out, "/>\n");
            continue;
        }
        char p[32], msg[256];
        render_format_p(f->p_value, p, sizeof p);
        snprintf(msg, sizeof msg,
                 "%s share grew from %.2f %% to %.2f %% (%+.1f %%, threshold %g %%, p %s)%s",
                 judge_metric_name(f->decided_by), f->baseline_percentage, f->current_percentage,
                 f->diff_percent, v->options->threshold_percent, p,
                 f->role == ROLE_MOST_LIKELY_CAUSE ? "; most likely cause"
                 : f->role == ROLE_INHERITS        ? "; inherits from a regressed callee"
                                                   : "");
        fprintf(out, ">\n      <failure type=\"regression\" message=\"");
        xml_text(out, msg, SIZE_MAX, true);
        fprintf(out, "\">");
        xml_text(out, f->name, SIZE_MAX, true);
        fprintf(out,
                ": %.2f %% of samples in the baseline, %.2f %% now</failure>\n    "
                "</testcase>\n",
                f->baseline_percentage, f->current_percentage);
    }
    for (size_t i = 0; i < j->nnew && j->new_regressed; i++) {
        fprintf(out, "    <testcase classname=\"profreg.");
        xml_text(out, exe, SIZE_MAX, true);
        fprintf(out, ".new\" name=\"");
        xml_text(out, j->new_hotspots[i].name, SIZE_MAX, true);
        fprintf(out,
                "\" time=\"0\">\n      <failure type=\"new-hotspot\" message=\"new hotspot: "
                "%.2f %% now, %.2f %% in the baseline\"/>\n    </testcase>\n",
                j->new_hotspots[i].percentage, j->new_hotspots[i].baseline_percentage);
    }
    for (size_t i = 0; i < j->nmetrics; i++) {
        const struct judged_metric *m = &j->metrics[i];
        if (!m->judged)
            continue;
        fprintf(out, "    <testcase classname=\"profreg.");
        xml_text(out, exe, SIZE_MAX, true);
        fprintf(out, ".run\" name=\"%s\" time=\"0\"", m->key);
        if (m->status != VERDICT_REGRESSION) {
            fprintf(out, "/>\n");
            continue;
        }
        char p[32], msg[256];
        render_format_p(m->p_value, p, sizeof p);
        if (m->over_budget)
            snprintf(msg, sizeof msg, "%s median %.1f over the budget %g %s", m->label,
                     strcmp(m->unit, "MB") == 0 ? m->current_median / 1024 : m->current_median,
                     m->budget, m->unit);
        else
            snprintf(msg, sizeof msg, "%s median grew %+.1f %% (threshold %g %%, p %s)", m->label,
                     m->diff_percent, m->threshold_percent, p);
        fprintf(out, ">\n      <failure type=\"%s\" message=\"",
                m->over_budget ? "budget" : "regression");
        xml_text(out, msg, SIZE_MAX, true);
        fprintf(out, "\"/>\n    </testcase>\n");
    }
    fprintf(out, "    <system-out>");
    fprintf(out, "%zu compared, %zu passed, %zu regressed\n", j->ncompared, j->passed,
            j->regressed);
    listed(out, "New hotspots", j->new_hotspots, j->nnew);
    listed(out, "Disappeared", j->disappeared, j->ndisappeared);
    fprintf(out, "</system-out>\n  </testsuite>\n</testsuites>\n");
    return ferror(out) ? -1 : 0;
}
