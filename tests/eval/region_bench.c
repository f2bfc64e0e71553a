/* SPDX-License-Identifier: MIT */
/* region_bench.c — what a profreg_region_begin/profreg_region_end pair and a pause/resume pair
 * cost, in ns, with the preload (LD_PRELOAD=libprofreg.so) or without it (the header's test of
 * a null pointer). Also the first begin of many distinct names (the interning path).
 *
 *   region_bench [PAIRS]      default 10000000 */
#include "profreg.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    long pairs = argc > 1 ? strtol(argv[1], NULL, 10) : 10000000;
    if (pairs <= 0)
        pairs = 1;
    static const char *const names[] = {"parse", "solve", "write", "read"};
    profreg_region_begin("outer"); /* warm: the names are interned once */
    for (int i = 0; i < 4; i++) {
        profreg_region_begin(names[i]);
        profreg_region_end();
    }
    double t0 = now_ns();
    for (long i = 0; i < pairs; i++) {
        profreg_region_begin(names[i & 3]);
        profreg_region_end();
    }
    double t1 = now_ns();
    for (long i = 0; i < pairs; i++) {
        profreg_pause();
        profreg_resume();
    }
    double t2 = now_ns();
    char name[32];
    int fresh = 2000;
    for (int i = 0; i < fresh; i++) {
        snprintf(name, sizeof name, "r%d", i);
        profreg_region_begin(name);
        profreg_region_end();
    }
    double t3 = now_ns();
    profreg_region_end();
    printf("profreg %s: region begin+end %.1f ns/pair, pause+resume %.1f ns/pair (%ld pairs); "
           "first begin+end of a new name %.0f ns\n",
           profreg_active() ? "loaded" : "not loaded", (t1 - t0) / (double)pairs,
           (t2 - t1) / (double)pairs, pairs, (t3 - t2) / fresh);
    return 0;
}
