/* SPDX-License-Identifier: MIT */
/* fuzz_folded.c — the folded-stacks reader; what it accepts exports back to folded text that
 * reads again to the same stacks and samples, and draws as a flame graph of well-formed XML
 * text whatever bytes the names hold. */
#include "fuzz.h"

#include "analysis/export/export.h"
#include "analysis/render/flame.h"
#include "analysis/render/render_flame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[1024];
    struct pr_profile p;
    int rc = folded_read(text, "fuzz.folded", &p, err, sizeof err);
    free(text);
    if (rc != 0) {
        FUZZ_CHECK(strncmp(err, "fuzz.folded", 11) == 0 && !strchr(err, '\n'), "one-line error");
        return 0;
    }
    FUZZ_CHECK(p.total_samples <= PR_MAX_SAMPLES, "total past PR_MAX_SAMPLES");
    for (size_t i = 0; i < p.nfunctions; i++)
        FUZZ_CHECK(p.functions[i].percentage <= 100.0 + 1e-9, "a share above 100 %");
    struct fuzz_out o;
    FUZZ_CHECK(export_folded(fuzz_open(&o), &p) == 0, "export");
    fuzz_close(&o);
    struct pr_profile q;
    rc = folded_read(o.buf, "again.folded", &q, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    FUZZ_CHECK(rc == 0, "the export does not read back");
    FUZZ_CHECK(q.total_samples == p.total_samples, "samples changed");
    profile_free(&q);
    fuzz_free(&o);

    struct flame_tree t;
    if (flame_build(&p, false, &t) == 0) {
        struct flame_options fo = {"fuzz", NULL, 211, false, NULL, NULL};
        render_flame_svg(fuzz_open(&o), &t, &fo);
        fuzz_close(&o);
        FUZZ_CHECK(fuzz_xml_safe(o.buf, o.len), "the SVG is not XML text");
        fuzz_free(&o);
        flame_free(&t);
    }
    profile_free(&p);
    return 0;
}
