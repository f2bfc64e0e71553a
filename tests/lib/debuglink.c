/* SPDX-License-Identifier: MIT */
/* debuglink.c — built into libdebuglink.so whose DWARF lives in a separate file found
 * through .gnu_debuglink (the library itself is stripped of debug info). */
#include <stdint.h>

volatile uint64_t debuglink_sink;

__attribute__((visibility("default"), noinline)) void debuglink_function(void)
{
    for (int i = 0; i < 100; i++)
        debuglink_sink += (uint64_t)i;
}
