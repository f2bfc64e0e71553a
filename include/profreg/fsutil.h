/* fsutil.h — the few file-system operations profreg needs, with errors as values.
 *
 * Every file profreg creates is written to a temporary name in the same directory and
 * renamed into place, so readers never see a partial file. */
#ifndef PROFREG_FSUTIL_H
#define PROFREG_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Creates path and its missing parents (like mkdir -p). Returns 0, or -1 with err set. */
int fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* Calls write_fn to fill a temporary file next to path, then renames it to path. With
 * no_replace, an existing path is an error and is left untouched. write_fn returns 0 or -1.
 * Returns 0, or -1 with err set (the temporary file is removed); errno is EEXIST when
 * no_replace found path taken. */
int fs_write_atomic(const char *path, bool no_replace, int (*write_fn)(FILE *f, void *ctx),
                    void *ctx, char *err, size_t errlen);

/* True when path names an existing directory. */
bool fs_is_dir(const char *path);

/* The part of path after the last '/'. */
const char *fs_basename(const char *path);

#endif
