/* export_pprof.c — placeholder, replaced by the pprof encoder. */
#include "profreg/export.h"

int export_pprof(FILE *out, const struct pr_profile *p, char *err, size_t errlen)
{
    (void)out;
    (void)p;
    snprintf(err, errlen, "pprof export not built yet");
    return -1;
}
