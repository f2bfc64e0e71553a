/* SPDX-License-Identifier: MIT */
/* stripped.c — built into libstripped.so with no debug info and a stripped symbol table:
 * an exported function is known only by its dynamic symbol, a static one not at all. */
#include <stdint.h>

volatile uint64_t stripped_sink;

static __attribute__((noinline)) void hidden_work(void)
{
    for (int i = 0; i < 100; i++)
        stripped_sink += (uint64_t)i;
}

__attribute__((visibility("default"), noinline)) void stripped_exported(void)
{
    hidden_work();
    stripped_sink++;
}

/* The address of the function no symbol table names. */
__attribute__((visibility("default"))) void *stripped_hidden_address(void)
{
    return (void *)hidden_work;
}
