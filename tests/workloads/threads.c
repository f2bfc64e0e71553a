/* SPDX-License-Identifier: MIT */
/* threads.c — four threads, each in its own function, with work 40:30:20:10. */
#include "burn.h"

// clang-format off

#include <pthread.h>
#include <stdio.h>

#define NOIPA __attribute__((noipa))

static unsigned g_scale;
volatile uint64_t sink;

NOIPA void *thread_w40(void *arg) { uint64_t x = (uintptr_t)arg; BURN(40u * g_scale, x); sink += x; return NULL; }
NOIPA void *thread_w30(void *arg) { uint64_t x = (uintptr_t)arg; BURN(30u * g_scale, x); sink += x; return NULL; }
NOIPA void *thread_w20(void *arg) { uint64_t x = (uintptr_t)arg; BURN(20u * g_scale, x); sink += x; return NULL; }
NOIPA void *thread_w10(void *arg) { uint64_t x = (uintptr_t)arg; BURN(10u * g_scale, x); sink += x; return NULL; }

int main(int argc, char **argv)
{
    g_scale = 12 * burn_scale(argc, argv);
    void *(*fns[4])(void *) = {thread_w40, thread_w30, thread_w20, thread_w10};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, fns[i], (void *)(uintptr_t)(i + 1)) != 0)
            return 1;
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    printf("threads done\n");
    return 0;
}
