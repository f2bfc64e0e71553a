/* SPDX-License-Identifier: MIT */
/* profile_read.h — profile JSON -> struct pr_profile, validated (CLI only; uses jansson).
 *
 * Reads both profreg's profiles and the Instruments workflow's (parse-profile.py). Every problem is
 * reported as one line "FILE:LINE:COL: what" (syntax) or "FILE: path.to.key: what" (types,
 * ranges, duplicate names, bad stack indices). */
#ifndef PROFREG_PROFILE_READ_H
#define PROFREG_PROFILE_READ_H

#include "core/profile.h"

#include <stddef.h>

/* Fills p (which must be initialised) from path. Returns 0, or -1 with err set; on error p
 * is left empty. */
int profile_read_file(const char *path, struct pr_profile *p, char *err, size_t errlen);

/* Same, from a string (for tests); name is used in messages. */
int profile_read_string(const char *text, const char *name, struct pr_profile *p, char *err,
                        size_t errlen);

#endif
