/* SPDX-License-Identifier: MIT */
/* san_options.c — linked into the test programs of make sanitize only: they do not look for
 * leaks of their own (test code holds results until the process ends); the programs they run
 * (the sanitized profreg) keep AddressSanitizer's default, leaks reported. */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
    return "detect_leaks=0";
}
