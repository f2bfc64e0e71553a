/* SPDX-License-Identifier: MIT */
/* fuzz_profile.c — the profile JSON reader, and what every command does with a profile it read:
 * fold clones and inlined frames, merge (twice: sums must not wrap), the report table (no
 * control character may reach a terminal), the flame graph (well-formed XML text) and the
 * three exports. */
#include "fuzz.h"

#include "analysis/export/export.h"
#include "analysis/render/flame.h"
#include "analysis/read/profile_read.h"
#include "analysis/render/render_flame.h"
#include "analysis/render/render_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[1024];
    struct pr_profile p;
    profile_init(&p);
    if (profile_read_string(text, "fuzz.json", &p, err, sizeof err) != 0) {
        FUZZ_CHECK(strncmp(err, "fuzz.json", 9) == 0 && !strchr(err, '\n'), "one-line error");
        free(text);
        return 0;
    }
    free(text);
    if (profile_fold_clones(&p) != 0 || profile_fold_inlines(&p) != 0) {
        profile_free(&p);
        return 0;
    }
    struct pr_profile m;
    profile_init(&m);
    if (profile_merge(&m, &p) == 0 && profile_merge(&m, &p) == 0) {
        uint64_t sum = 0;
        for (size_t i = 0; i < m.nstacks; i++) {
            FUZZ_CHECK(sum + m.stacks[i].count >= sum, "stack counts wrapped");
            sum += m.stacks[i].count;
        }
        FUZZ_CHECK(sum <= PR_MAX_SAMPLES, "merged stacks past PR_MAX_SAMPLES");
    }
    profile_free(&m);

    struct fuzz_out o;
    struct report_options ro = {0, false, 0, 1, term_style_for(-1, true)};
    render_report(fuzz_open(&o), &p, &ro);
    fuzz_close(&o);
    FUZZ_CHECK(fuzz_terminal_safe(o.buf, o.len), "a control character in the report");
    fuzz_free(&o);

    if (p.has_stacks) {
        struct flame_tree t;
        if (flame_build(&p, false, &t) == 0) {
            struct flame_options fo = {p.executable, p.mode, 300, false, NULL, NULL};
            render_flame_svg(fuzz_open(&o), &t, &fo);
            fuzz_close(&o);
            FUZZ_CHECK(fuzz_xml_safe(o.buf, o.len), "the SVG is not XML text");
            fuzz_free(&o);
            flame_free(&t);
        }
        export_folded(fuzz_open(&o), &p);
        fuzz_close(&o);
        fuzz_free(&o);
        export_speedscope(fuzz_open(&o), &p, "fuzz");
        fuzz_close(&o);
        fuzz_free(&o);
        export_pprof(fuzz_open(&o), &p, err, sizeof err);
        fuzz_close(&o);
        fuzz_free(&o);
    }
    profile_free(&p);
    return 0;
}
