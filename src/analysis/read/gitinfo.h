/* SPDX-License-Identifier: MIT */
/* gitinfo.h — which git commit a directory's working tree is at, for baseline metadata. */
#ifndef PROFREG_GITINFO_H
#define PROFREG_GITINFO_H

#include <stdbool.h>

struct git_info {
    char *commit; /* full hash of HEAD, or NULL when dir is not in a git work tree */
    bool dirty;   /* tracked files differ from HEAD */
};

/* Asks git (when installed) about dir. Never fails: unknown fields stay NULL/false. */
void git_info_read(const char *dir, struct git_info *g);
void git_info_free(struct git_info *g);

/* The top directory of the work tree holding dir (malloc'd), or NULL when there is none. */
char *git_toplevel(const char *dir);

#endif
