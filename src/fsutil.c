/* fsutil.c — mkdir -p and atomic (temporary file + rename) writes. */
#include "profreg/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool fs_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fs_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int fs_mkdir_p(const char *path, mode_t mode, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf) {
        snprintf(err, errlen, "%s: invalid directory name", path);
        return -1;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
            return -1;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    if (!fs_is_dir(path)) {
        snprintf(err, errlen, "%s exists and is not a directory", path);
        return -1;
    }
    return 0;
}

static int place_file(const char *tmp, const char *path, bool no_replace)
{
    if (!no_replace)
        return rename(tmp, path);
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
#endif
    if (link(tmp, path) != 0)
        return -1;
    unlink(tmp);
    return 0;
}

int fs_write_atomic(const char *path, bool no_replace, int (*write_fn)(FILE *f, void *ctx),
                    void *ctx, char *err, size_t errlen)
{
    static atomic_uint counter;
    char tmp[PATH_MAX];
    const char *base = fs_basename(path);
    int dirlen = (int)(base - path);
    int n = snprintf(tmp, sizeof tmp, "%.*s.%s.tmp.%ld.%u", dirlen, path, base, (long)getpid(),
                     atomic_fetch_add(&counter, 1));
    if (n < 0 || (size_t)n >= sizeof tmp) {
        snprintf(err, errlen, "%s: file name too long", path);
        return -1;
    }
    if (no_replace && access(path, F_OK) == 0) {
        snprintf(err, errlen, "%s already exists; not overwriting it", path);
        errno = EEXIST;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    int rc = write_fn(f, ctx);
    int saved = errno;
    if (fclose(f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path,
                 saved ? strerror(saved) : "write failed");
        unlink(tmp);
        return -1;
    }
    if (place_file(tmp, path, no_replace) != 0) {
        saved = errno;
        if (saved == EEXIST)
            snprintf(err, errlen, "%s already exists; not overwriting it", path);
        else
            snprintf(err, errlen, "cannot rename to %s: %s", path, strerror(saved));
        unlink(tmp);
        errno = saved;
        return -1;
    }
    return 0;
}
