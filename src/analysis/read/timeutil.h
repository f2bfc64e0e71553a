/* SPDX-License-Identifier: MIT */
/* timeutil.h — the timestamps profreg reads and writes: ISO-8601 UTC in JSON, and the
 * compact YYYYmmdd_HHMMSS stamp in file names (UTC, so a name sort is chronological). */
#ifndef PROFREG_TIMEUTIL_H
#define PROFREG_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Parses "YYYY-MM-DDTHH:MM:SS" with optional fraction and optional "Z" or "+HH:MM"/"-HH:MM"
 * (a space may replace the T). No zone means UTC. Seconds since the epoch in *out. */
bool time_parse_iso(const char *s, double *out);

/* "YYYY-MM-DDTHH:MM:SSZ" (buf at least 32 bytes). */
void time_format_iso(double epoch, char *buf, size_t len);

/* "YYYYmmdd_HHMMSS" in UTC (buf at least 16 bytes). */
void time_format_stamp(time_t t, char *buf, size_t len);

#endif
