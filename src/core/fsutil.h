/* SPDX-License-Identifier: MIT */
/* fsutil.h — the few file-system operations profreg needs, with errors as values.
 *
 * Outputs. A regular file (or a name that does not exist yet) is written to a file with no
 * name (O_TMPFILE) in the target's directory and given its name only when complete, so a
 * reader never sees a partial file and a process killed while writing leaves nothing behind.
 * Where the file system has no O_TMPFILE, a short hidden name ".profreg.<pid>.<n>.tmp" is used
 * instead and renamed; such files left by processes that no longer exist are removed by the
 * next write into the same directory. A symbolic link is followed to its target (the link
 * stays). Anything else that exists — a character device such as /dev/null, a FIFO — is
 * written through, never replaced.
 *
 * Inputs. fs_open_input opens a regular file only: a FIFO, a device or a directory is
 * refused before anything could block on it. */
#ifndef PROFREG_FSUTIL_H
#define PROFREG_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* Creates path and its missing parents (like mkdir -p). Returns 0, or -1 with err set. */
int fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen);

/* Renames tmp to path, replacing path atomically, like rename(2). When path exists, the two are
 * exchanged (renameat2 RENAME_EXCHANGE) and the old file, now at tmp, is unlinked: ext4
 * (auto_da_alloc) makes a rename over an existing file allocate and start writing the new
 * file's blocks at once, 2.4 ms for a 2 MB cache file against 0.8 ms for the exchange on this
 * machine. Where the exchange is not supported, a plain rename. Returns 0, or -1 with errno. */
int fs_replace(const char *tmp, const char *path);

/* Calls write_fn to fill a temporary file next to path (after following symbolic links), then
 * gives it path's name; a non-regular path (a device, a FIFO) is written through. With
 * no_replace, an existing path is an error and is left untouched. write_fn returns 0 or -1.
 * Returns 0, or -1 with err set (nothing is left behind); errno is EEXIST when no_replace
 * found path taken. */
int fs_write_atomic(const char *path, bool no_replace, int (*write_fn)(FILE *f, void *ctx),
                    void *ctx, char *err, size_t errlen);

/* An output written but not yet placed: fs_stage does all the work that can fail on content
 * (the writer, the disk filling up), fs_commit gives it its name (or, written through,
 * delivers it), fs_discard drops it. Several outputs staged before any is committed are
 * written all or none (as far as the file system allows: a rename can still fail). */
struct fs_staged {
    char *target;  /* the path written (symbolic links followed), malloc'd */
    FILE *f;       /* the temporary file, or the memory buffer of a written-through one */
    int fd;        /* the device or FIFO written through; -1 otherwise */
    char *buf;     /* written through: the content */
    size_t len;    /* its length */
    char *tmpname; /* the named temporary file (no O_TMPFILE), or NULL */
    bool no_replace;
};

/* Writes the content of path. 0, or -1 with err set (nothing is left behind). */
int fs_stage(struct fs_staged *s, const char *path, bool no_replace,
             int (*write_fn)(FILE *f, void *ctx), void *ctx, char *err, size_t errlen);

/* Places the staged content at its path. 0, or -1 with err set (errno EEXIST when
 * no_replace found path taken: the staged content is kept, and fs_commit_as can try another
 * name). Either way s is released on success; on failure call fs_discard. */
int fs_commit(struct fs_staged *s, char *err, size_t errlen);

/* Like fs_commit, to another path in the same directory as the staged one (a regular
 * file only): for names chosen until one is free. */
int fs_commit_as(struct fs_staged *s, const char *path, char *err, size_t errlen);

/* Drops staged content; nothing of it remains. Safe on a released or zeroed s. */
void fs_discard(struct fs_staged *s);

/* Opens path for reading when it is a regular file (never blocking on a FIFO). Returns the
 * descriptor, or -1 with err set to "PATH: not a regular file" or "PATH: cannot open: ...". */
int fs_open_input(const char *path, char *err, size_t errlen);

/* fs_open_input as a stdio stream ("rb"); NULL with err set. */
FILE *fs_fopen_input(const char *path, char *err, size_t errlen);

/* Removes the temporary files of profreg processes that no longer exist from dir (names
 * ".profreg.<pid>.<n>.tmp", and ".<name>.tmp.<pid>.<n>" of earlier versions), when owned by
 * this user and unmodified for a minute. Returns how many were removed. */
int fs_clean_stale_temporaries(const char *dir);

/* For tests: when true, named temporary files are used as where O_TMPFILE is missing. */
extern bool fs_no_tmpfile;

/* True when path names an existing directory. */
bool fs_is_dir(const char *path);

/* The part of path after the last '/'. */
const char *fs_basename(const char *path);

/* The first len bytes (len > 0) of the regular file open on fd, mapped read-only and private:
 * the page cache's pages, where read(2) copies them into freshly faulted memory (a 1 MB
 * cache file read and hashed took 0.5-0.8 ms, mapped 0.1-0.2 ms). NULL when it cannot be
 * mapped or read (errno; EIO when the file is shorter than len). Where the file system maps
 * no files, the bytes are read into anonymous memory instead. The file must not shrink while
 * mapped (a read past its new end raises SIGBUS, as for the debug files libelf maps): for
 * files replaced by rename, never written in place, such as profreg's caches. fs_unmap(p, len)
 * lets either go (p may be NULL). */
void *fs_map_file(int fd, size_t len);
void fs_unmap(void *p, size_t len);

#endif
