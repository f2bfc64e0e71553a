/* SPDX-License-Identifier: MIT */
/* static_hello.c — linked statically: LD_PRELOAD cannot apply to it. */
#include <stdio.h>

int main(void)
{
    puts("static hello");
    return 0;
}
