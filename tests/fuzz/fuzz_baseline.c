/* SPDX-License-Identifier: MIT */
/* fuzz_baseline.c — the baseline reader; what it accepts, the writer writes and the reader
 * reads back (a baseline refreshed from a file must stay readable). */
#include "fuzz.h"

#include "analysis/read/baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[1024];
    struct baseline b;
    baseline_init(&b);
    int rc = baseline_read_string(text, "fuzz.json", &b, err, sizeof err);
    free(text);
    if (rc != 0) {
        FUZZ_CHECK(strncmp(err, "fuzz.json", 9) == 0 && !strchr(err, '\n'), "one-line error");
        baseline_free(&b);
        return 0;
    }
    struct fuzz_out o;
    FUZZ_CHECK(baseline_write(fuzz_open(&o), &b) == 0, "write");
    fuzz_close(&o);
    struct baseline again;
    baseline_init(&again);
    rc = baseline_read_string(o.buf, "again.json", &again, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    FUZZ_CHECK(rc == 0, "what the writer wrote does not read back");
    FUZZ_CHECK(again.avg.runs == b.avg.runs, "runs changed");
    baseline_free(&again);
    fuzz_free(&o);
    baseline_free(&b);
    return 0;
}
