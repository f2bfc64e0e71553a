/* SPDX-License-Identifier: MIT */
/* profile_write.h — a profile as JSON (the keys and extensions of docs/formats.md).
 * Used by the preload at exit; needs no JSON library. See docs/formats.md. */
#ifndef PROFREG_PROFILE_WRITE_H
#define PROFREG_PROFILE_WRITE_H

#include "core/profile.h"

#include <stdio.h>

/* Writes p as one JSON document to f. Returns 0, or -1 when writing failed. */
int profile_write(const struct pr_profile *p, FILE *f);

/* Writes p to path atomically. Returns 0, or -1 with err set. */
int profile_write_file(const struct pr_profile *p, const char *path, char *err, size_t errlen);

#endif
