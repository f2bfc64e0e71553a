/* SPDX-License-Identifier: MIT */
/* fsutil.c — mkdir -p, outputs written whole or not at all (see fsutil.h), inputs that are
 * regular files.
 *
 * Invariant: a write either gives the complete content its name or leaves the directory as it
 * was; the only moment a name of ours can be left behind is a kill between naming the
 * temporary file and renaming it (both system calls), and such names carry the writer's pid
 * so that fs_clean_stale_temporaries can tell them apart from a live writer's. */
#include "core/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool fs_no_tmpfile;

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

/* ---- inputs ------------------------------------------------------------------------------- */

int fs_open_input(const char *path, char *err, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO for reading would wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *fs_fopen_input(const char *path, char *err, size_t errlen)
{
    int fd = fs_open_input(path, err, errlen);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

/* ---- stale temporary files ---------------------------------------------------------------- */

#define STALE_AFTER_S 60

/* The pid in ".profreg.<pid>.<n>.tmp", or in ".<name>.tmp.<pid>.<n>" (earlier versions); 0
 * when name is neither. */
static long temporary_pid(const char *name)
{
    char *end;
    if (strncmp(name, ".profreg.", 9) == 0) {
        long pid = strtol(name + 9, &end, 10);
        if (pid <= 0 || *end != '.')
            return 0;
        strtoul(end + 1, &end, 10);
        return strcmp(end, ".tmp") == 0 ? pid : 0;
    }
    const char *tmp = name[0] == '.' ? strstr(name, ".tmp.") : NULL;
    if (!tmp || tmp == name)
        return 0;
    for (const char *next; (next = strstr(tmp + 1, ".tmp."));)
        tmp = next;
    long pid = strtol(tmp + 5, &end, 10);
    if (pid <= 0 || *end != '.' || end[1] < '0' || end[1] > '9')
        return 0;
    strtoul(end + 1, &end, 10);
    return *end == '\0' ? pid : 0;
}

int fs_clean_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temporary_pid(e->d_name);
        struct stat st;
        if (pid <= 0 || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        /* a pid of another pid namespace (a container sharing the directory) may be alive
         * there: only files nobody wrote for a minute */
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != geteuid() || now - st.st_mtime < STALE_AFTER_S)
            continue;
        if (unlinkat(dirfd(d), e->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* ---- outputs ------------------------------------------------------------------------------ */

static bool is_proc_link(const char *path);

/* The descriptor of this process that path names (/dev/stdout, /dev/stderr, /dev/fd/N,
 * /proc/self/fd/N), or -1. */
static int own_descriptor(const char *path)
{
    const char *num = NULL;
    if (strcmp(path, "/dev/stdout") == 0)
        return STDOUT_FILENO;
    if (strcmp(path, "/dev/stderr") == 0)
        return STDERR_FILENO;
    if (strncmp(path, "/dev/fd/", 8) == 0)
        num = path + 8;
    else if (strncmp(path, "/proc/self/fd/", 14) == 0)
        num = path + 14;
    char *end = NULL;
    long fd = num && *num >= '0' && *num <= '9' ? strtol(num, &end, 10) : -1;
    if (fd < 0 || *end || fd > INT_MAX || fcntl((int)fd, F_GETFD) < 0)
        return -1;
    return (int)fd;
}

/* The path that writing to `path` really writes: symbolic links followed (a dangling link
 * names the file to create) up to one of /proc's (is_proc_link). malloc'd, or NULL with err
 * set. */
static char *resolve_target(const char *path, char *err, size_t errlen)
{
    char *cur = strdup(path);
    for (int hops = 0; cur; hops++) {
        struct stat st;
        if (is_proc_link(cur) || lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        if (hops == 40) {
            snprintf(err, errlen, "%s: %s", path, strerror(ELOOP));
            free(cur);
            return NULL;
        }
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) {
            snprintf(err, errlen, "%s: cannot read the link: %s", cur, strerror(errno));
            free(cur);
            return NULL;
        }
        link[n] = '\0';
        char *next;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash)
            next = strdup(link);
        else if (asprintf(&next, "%.*s/%s", (int)(slash - cur), cur, link) < 0)
            next = NULL;
        free(cur);
        cur = next;
    }
    snprintf(err, errlen, "%s: out of memory", path);
    return NULL;
}

/* "DIR/.profreg.<pid>.<n>.tmp" beside target: short, whatever target's name. */
static char *temporary_name(const char *target)
{
    static atomic_uint counter;
    const char *base = fs_basename(target);
    char *out;
    if (asprintf(&out, "%.*s.profreg.%ld.%u.tmp", (int)(base - target), target, (long)getpid(),
                 atomic_fetch_add(&counter, 1)) < 0)
        return NULL;
    return out;
}

/* The directory of target, for open(O_TMPFILE) and the clean-up. */
static void dir_of(const char *target, char *buf, size_t len)
{
    const char *base = fs_basename(target);
    if (base == target)
        snprintf(buf, len, ".");
    else if (base == target + 1)
        snprintf(buf, len, "/");
    else
        snprintf(buf, len, "%.*s", (int)(base - target - 1), target);
}

static void staged_free(struct fs_staged *s)
{
    free(s->target);
    free(s->buf);
    free(s->tmpname);
    s->target = s->buf = s->tmpname = NULL;
    s->f = NULL;
    s->fd = -1;
}

void fs_discard(struct fs_staged *s)
{
    if (s->f)
        fclose(s->f);
    s->f = NULL;
    if (s->fd >= 0)
        close(s->fd);
    if (s->tmpname)
        unlink(s->tmpname);
    staged_free(s);
}

/* Opens a device or FIFO (anything that exists and is neither a regular file nor a
 * directory), or a file reached only through /proc, for writing through. */
static int open_through(struct fs_staged *s, const struct stat *st, char *err, size_t errlen)
{
    if (s->no_replace) {
        snprintf(err, errlen, "%s already exists; not overwriting it", s->target);
        errno = EEXIST;
        return -1;
    }
    /* one of this process's descriptors (/dev/stdout, /dev/fd/N): written through a copy of
     * it, so its offset and O_APPEND hold (`-o /dev/stdout >>log` appends) */
    int own = own_descriptor(s->target);
    /* O_NONBLOCK: a FIFO nobody reads fails at once (ENXIO) rather than hanging */
    int trunc = S_ISREG(st->st_mode) ? O_TRUNC : 0; /* a file behind another's /proc link */
    s->fd = own >= 0 ? fcntl(own, F_DUPFD_CLOEXEC, 3)
                     : open(s->target, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | trunc);
    if (s->fd < 0) {
        int e = errno;
        if (e == ENXIO && S_ISFIFO(st->st_mode))
            snprintf(err, errlen, "%s: a FIFO with no reader", s->target);
        else
            snprintf(err, errlen, "cannot open %s: %s", s->target, strerror(e));
        errno = e;
        return -1;
    }
    struct stat now;
    if (fstat(s->fd, &now) != 0 || (S_ISREG(now.st_mode) && !trunc && own < 0) ||
        S_ISDIR(now.st_mode)) {
        snprintf(err, errlen, "%s: changed while being opened", s->target);
        return -1;
    }
    int fl = fcntl(s->fd, F_GETFL);
    if (fl >= 0 && own < 0) /* a copy shares the flags with its original: left as they are */
        fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
    s->f = open_memstream(&s->buf, &s->len);
    if (!s->f) {
        snprintf(err, errlen, "%s: out of memory", s->target);
        return -1;
    }
    return 0;
}

/* Creates the temporary file for a regular target: nameless where the file system can, else
 * under a short name. */
static int open_temporary(struct fs_staged *s, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    dir_of(s->target, dir, sizeof dir);
    fs_clean_stale_temporaries(dir);
    int fd = -1, e = EOPNOTSUPP;
    /* linkat() names it through /proc/self/fd (or AT_EMPTY_PATH with the privilege) */
    if (!fs_no_tmpfile && access("/proc/self/fd", X_OK) == 0) {
        fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
        e = fd < 0 ? errno : 0;
    }
    if (fd < 0 &&
        (e == ENOENT || e == ENOTDIR || e == EACCES || e == EROFS || e == ENOSPC || e == EDQUOT)) {
        snprintf(err, errlen, "cannot create %s: %s", s->target, strerror(e));
        errno = e;
        return -1;
    }
    if (fd < 0) { /* no O_TMPFILE here (EOPNOTSUPP, EISDIR, EINVAL): a named file */
        if (!(s->tmpname = temporary_name(s->target))) {
            snprintf(err, errlen, "%s: out of memory", s->target);
            return -1;
        }
        fd = open(s->tmpname, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0) {
            e = errno;
            snprintf(err, errlen, "cannot create %s: %s", s->target, strerror(e));
            free(s->tmpname);
            s->tmpname = NULL;
            errno = e;
            return -1;
        }
    }
    s->f = fdopen(fd, "w");
    if (!s->f) {
        snprintf(err, errlen, "cannot write %s: %s", s->target, strerror(errno));
        close(fd);
        return -1;
    }
    return 0;
}

/* A path through /proc's links to open files (/dev/stdout, /dev/fd/N): the file behind it is
 * reached only by opening the link, never by its name. */
static bool is_proc_link(const char *path)
{
    return strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/dev/fd/", 8) == 0 ||
           strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/stderr") == 0;
}

int fs_stage(struct fs_staged *s, const char *path, bool no_replace,
             int (*write_fn)(FILE *f, void *ctx), void *ctx, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->no_replace = no_replace;
    struct stat st;
    bool exists = stat(path, &st) == 0; /* through every link, /proc's included */
    int rc;
    if (exists && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
        return -1;
    }
    if (exists && !S_ISREG(st.st_mode))
        s->target = strdup(path);
    else if (!(s->target = resolve_target(path, err, errlen)))
        return -1;
    if (!s->target) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (exists && (!S_ISREG(st.st_mode) || is_proc_link(s->target)))
        rc = open_through(s, &st, err, errlen);
    else if (exists && no_replace) {
        snprintf(err, errlen, "%s already exists; not overwriting it", s->target);
        errno = EEXIST;
        rc = -1;
    } else {
        rc = open_temporary(s, err, errlen);
    }
    if (rc != 0) {
        int e = errno;
        fs_discard(s);
        errno = e;
        return -1;
    }
    errno = 0;
    rc = write_fn(s->f, ctx);
    int saved = errno;
    if (fflush(s->f) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0 || ferror(s->f)) {
        snprintf(err, errlen, "cannot write %s: %s", path,
                 saved ? strerror(saved) : "write failed");
        fs_discard(s);
        errno = saved;
        return -1;
    }
    return 0;
}

/* Writes the buffered content through to the device or FIFO. */
static int deliver(struct fs_staged *s, char *err, size_t errlen)
{
    fclose(s->f); /* the memory stream: buf and len are final */
    s->f = NULL;
    for (size_t off = 0; off < s->len;) {
        ssize_t n = write(s->fd, s->buf + off, s->len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO;
            snprintf(err, errlen, "cannot write %s: %s", s->target, strerror(e));
            errno = e;
            return -1;
        }
        off += (size_t)n;
    }
    if (close(s->fd) != 0 && errno != EINTR) {
        int e = errno;
        s->fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", s->target, strerror(e));
        errno = e;
        return -1;
    }
    s->fd = -1;
    return 0;
}

/* Gives the nameless file (O_TMPFILE) the name `to`, which must not exist. */
static int link_nameless(int fd, const char *to)
{
    if (linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno == EEXIST)
        return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    return linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
}

int fs_replace(const char *tmp, const char *path)
{
#ifdef RENAME_EXCHANGE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
        unlink(tmp); /* the old file: readers that opened it keep it until they close it */
        return 0;
    }
    if (errno != ENOENT && errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return -1;
#endif
    return rename(tmp, path);
}

/* Renames tmp to path, or with no_replace only when path does not exist. */
static int place_named(const char *tmp, const char *path, bool no_replace)
{
    if (!no_replace)
        return fs_replace(tmp, path);
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

int fs_commit_as(struct fs_staged *s, const char *path, char *err, size_t errlen)
{
    if (s->fd >= 0) {
        if (deliver(s, err, errlen) != 0)
            return -1;
        staged_free(s);
        return 0;
    }
    if (fflush(s->f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    if (!s->tmpname) {
        int fd = fileno(s->f);
        if (s->no_replace) {
            rc = link_nameless(fd, path);
        } else if (!(s->tmpname = temporary_name(path))) {
            errno = ENOMEM;
            rc = -1;
        } else if (link_nameless(fd, s->tmpname) != 0) {
            int e = errno;
            free(s->tmpname);
            s->tmpname = NULL;
            errno = e;
            rc = -1;
        }
    }
    if (rc == 0 && s->tmpname) {
        rc = place_named(s->tmpname, path, s->no_replace);
        if (rc == 0) {
            free(s->tmpname);
            s->tmpname = NULL;
        }
    }
    if (rc != 0) {
        int e = errno;
        if (e == EEXIST)
            snprintf(err, errlen, "%s already exists; not overwriting it", path);
        else
            snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
        if (s->tmpname && !s->no_replace) { /* a link made for the rename: drop it */
            unlink(s->tmpname);
            free(s->tmpname);
            s->tmpname = NULL;
        }
        errno = e;
        return -1;
    }
    int e = fclose(s->f) == 0 ? 0 : errno;
    s->f = NULL;
    staged_free(s);
    if (e) { /* the name is given: the content was flushed before */
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    return 0;
}

int fs_commit(struct fs_staged *s, char *err, size_t errlen)
{
    char *target = s->target;
    s->target = NULL; /* fs_commit_as frees s on success */
    int rc = fs_commit_as(s, target, err, errlen);
    if (rc != 0)
        s->target = target;
    else
        free(target);
    return rc;
}

int fs_write_atomic(const char *path, bool no_replace, int (*write_fn)(FILE *f, void *ctx),
                    void *ctx, char *err, size_t errlen)
{
    struct fs_staged s;
    if (fs_stage(&s, path, no_replace, write_fn, ctx, err, errlen) != 0)
        return -1;
    if (fs_commit(&s, err, errlen) != 0) {
        int e = errno;
        fs_discard(&s);
        errno = e;
        return -1;
    }
    return 0;
}

void *fs_map_file(int fd, size_t len)
{
    if (len == 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED)
        return p;
    /* a file system that maps no files (procfs, some FUSE): read into anonymous memory */
    p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    for (size_t got = 0; got < len;) {
        ssize_t r = pread(fd, (char *)p + got, len - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : EIO; /* shorter than len */
            munmap(p, len);
            errno = e;
            return NULL;
        }
        got += (size_t)r;
    }
    return p;
}

void fs_unmap(void *p, size_t len)
{
    if (p && len)
        munmap(p, len);
}
