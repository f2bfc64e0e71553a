/* SPDX-License-Identifier: MIT */
/* buildid.c — built into libbuildid.so whose DWARF lives only in a .debug file named after
 * its build-id (<debugroot>/.build-id/xx/rest.debug). */
#include <stdint.h>

volatile uint64_t buildid_sink;

__attribute__((visibility("default"), noinline)) void buildid_function(void)
{
    for (int i = 0; i < 100; i++)
        buildid_sink += (uint64_t)i;
}
