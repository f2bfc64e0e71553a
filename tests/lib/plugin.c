/* SPDX-License-Identifier: MIT */
/* plugin.c — libplugin.so, loaded and unloaded by the torture workload: its function must
 * still be named in the profile after dlclose. */
#include "burn.h"

volatile uint64_t plugin_sink = 1;

__attribute__((visibility("default"), noinline)) void plugin_burn(unsigned units)
{
    uint64_t x = plugin_sink;
    BURN(units, x);
    plugin_sink = x;
}
