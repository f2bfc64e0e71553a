/* SPDX-License-Identifier: MIT */
/* export.h — a profile in the formats other tools read: FlameGraph's folded stacks, pprof's
 * gzip-compressed profile.proto (go tool pprof, Grafana Pyroscope), speedscope's JSON. Each
 * writer needs the profile's stacks (profiles of the Instruments workflow have none). */
#ifndef PROFREG_EXPORT_H
#define PROFREG_EXPORT_H

#include "core/profile.h"

#include <stddef.h>
#include <stdio.h>

/* "root;caller;callee COUNT\n" per distinct stack, root first, in the order of p->stacks.
 * Semicolons and newlines inside names are replaced (';' -> ':', '\n' -> ' ') so that every
 * line parses back. 0, or -1 on a write error. */
int export_folded(FILE *out, const struct pr_profile *p);

/* Reads folded stacks (blank lines and lines starting with '#' skipped) into a profile with
 * functions, stacks and totals (functions sorted like profile_sort). 0, or -1 with
 * "NAME:LINE: what" in err. */
int folded_read(const char *text, const char *name, struct pr_profile *out, char *err,
                size_t errlen);

/* speedscope's file format (https://www.speedscope.app/file-format-schema.json): one
 * "sampled" profile, frames shared, weights in samples. 0, or -1. */
int export_speedscope(FILE *out, const struct pr_profile *p, const char *name);

/* pprof: profile.proto, gzip-compressed. 0, or -1 (err says why). */
int export_pprof(FILE *out, const struct pr_profile *p, char *err, size_t errlen);

/* pprof of p's memory section, as Go's heap profiles: sample types alloc_objects (count),
 * alloc_space and inuse_space (bytes; in use = live at exit), default alloc_space, period
 * type space/bytes with the sampling rate as period. 0, or -1 (err says why). */
int export_pprof_memory(FILE *out, const struct pr_profile *p, char *err, size_t errlen);

#endif
