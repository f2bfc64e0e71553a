/* SPDX-License-Identifier: MIT */
/* fuzz_history.c — the history line reader; what it accepts writes back to a line that reads
 * again. */
#include "fuzz.h"

#include "analysis/read/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = fuzz_text(data, size), err[256];
    struct hist_record r;
    memset(&r, 0, sizeof r);
    int rc = history_parse_line(line, strlen(line), &r, err, sizeof err);
    free(line);
    if (rc != 0) {
        FUZZ_CHECK(!strchr(err, '\n'), "one-line error");
        return 0;
    }
    struct fuzz_out o;
    FUZZ_CHECK(history_write_line(fuzz_open(&o), &r) == 0, "write");
    fuzz_close(&o);
    FUZZ_CHECK(o.len > 0 && o.buf[o.len - 1] == '\n' && !memchr(o.buf, '\n', o.len - 1),
               "one line");
    struct hist_record again;
    memset(&again, 0, sizeof again);
    rc = history_parse_line(o.buf, o.len - 1, &again, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    FUZZ_CHECK(rc == 0, "the line written does not read back");
    FUZZ_CHECK(again.runs == r.runs && again.nfns == r.nfns, "the record changed");
    history_record_free(&again);
    fuzz_free(&o);
    history_record_free(&r);
    return 0;
}
