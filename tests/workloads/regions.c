/* SPDX-License-Identifier: MIT */
/* regions.c — the public API (include/profreg.h) on known work: regions, nesting, pause, flush.
 *
 * Per round the main thread burns, in units: 50 in region "heavy" and 20 in "heavy/inner"
 * (nested), 30 in region "light", 10 in no region, and 40 paused (never sampled); a second
 * thread burns 20 per round in no region meanwhile. So "heavy" and "light" split the regions'
 * samples 70:30. Built without linking profreg: it runs the same without the preload.
 *
 *   regions [SCALE [FLUSH_PATH|- [misuse]]]
 * FLUSH_PATH: profreg_flush() there after the first round. misuse: an end without a begin, a
 * region name of 300 bytes, regions nested 40 deep, before the rounds. */
#include "burn.h"
#include "profreg.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

// clang-format off

volatile uint64_t sink;

#define NOIPA __attribute__((noipa))

NOIPA void work_heavy(unsigned units)   { uint64_t x = sink + 1; BURN(units, x); sink = x; }
NOIPA void work_inner(unsigned units)   { uint64_t x = sink + 2; BURN(units, x); sink = x; }
NOIPA void work_light(unsigned units)   { uint64_t x = sink + 3; BURN(units, x); sink = x; }
NOIPA void work_outside(unsigned units) { uint64_t x = sink + 4; BURN(units, x); sink = x; }
NOIPA void work_paused(unsigned units)  { uint64_t x = sink + 5; BURN(units, x); sink = x; }
NOIPA void work_thread(unsigned units)  { uint64_t x = 6; BURN(units, x); sink += x; }

// clang-format on

/* The C scope macro: the region ends however the block is left. */
NOIPA static void heavy(void)
{
    PROFREG_REGION("heavy");
    work_heavy(50);
    {
        PROFREG_REGION("inner");
        work_inner(20);
    }
}

NOIPA static void light(void)
{
    profreg_region_begin("light");
    work_light(30);
    profreg_region_end();
}

static void *thread_main(void *arg)
{
    unsigned rounds = *(unsigned *)arg;
    for (unsigned r = 0; r < rounds; r++)
        work_thread(20);
    return NULL;
}

NOIPA static void misuse(void)
{
    profreg_region_end(); /* without a begin: ignored */
    char name[301];
    memset(name, 'x', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    profreg_region_begin(name); /* cut to PROFREG_REGION_NAME_MAX bytes */
    work_outside(2);
    profreg_region_end();
    for (int i = 0; i < 40; i++) /* deeper than PROFREG_REGION_DEPTH_MAX */
        profreg_region_begin("deep");
    work_outside(2);
    for (int i = 0; i < 40; i++)
        profreg_region_end();
    profreg_resume(); /* without a pause: ignored */
}

int main(int argc, char **argv)
{
    unsigned rounds = 4 * burn_scale(argc, argv);
    const char *flush_path = argc > 2 && strcmp(argv[2], "-") != 0 ? argv[2] : NULL;
    if (argc > 3 && strcmp(argv[3], "misuse") == 0)
        misuse();
    pthread_t t;
    if (pthread_create(&t, NULL, thread_main, &rounds) != 0)
        return 1;
    for (unsigned r = 0; r < rounds; r++) {
        heavy();
        light();
        work_outside(10);
        profreg_pause();
        work_paused(40);
        profreg_resume();
        if (r == 0 && flush_path && profreg_flush(flush_path) != 0 && profreg_active())
            perror("profreg_flush");
    }
    pthread_join(t, NULL);
    printf("regions done: %u rounds\n", rounds);
    return 0;
}
