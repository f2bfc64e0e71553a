/* SPDX-License-Identifier: MIT */
/* echo_exit.c — copies stdin to stdout upper-cased, burns a little, exits with argv[1].
 * Proves that the preload changes neither output nor exit status. */
#include "burn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

volatile uint64_t sink;

int main(int argc, char **argv)
{
    int c;
    while ((c = getchar()) != EOF)
        putchar(toupper(c));
    uint64_t x = 11;
    BURN(100, x);
    sink = x;
    printf("args:");
    for (int i = 2; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    fprintf(stderr, "echo_exit: to stderr\n");
    return argc > 1 ? atoi(argv[1]) : 0;
}
