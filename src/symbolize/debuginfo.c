/* SPDX-License-Identifier: MIT */
/* debuginfo.c — finding a module's separate debug info on the local disk, the standard way:
 * by build-id under each debug directory (<dir>/.build-id/xx/rest.debug, then the
 * debuginfod client's cache), then by .gnu_debuglink next to the file, in its .debug/
 * subdirectory and under <dir>/<path of the file>.
 *
 * It replaces dwfl_standard_find_debuginfo, which in elfutils 0.188 ends by dlopening
 * libdebuginfod (and with it libcurl, gnutls, krb5 ...) into the profiled process whenever
 * nothing is found locally. A candidate is accepted only when its build-id equals the
 * module's, or, for a module without one, when its CRC equals the debuglink's.
 *
 * Compressed debug sections (Debian's libc6-dbg) cost tens of milliseconds to inflate in
 * every process; an uncompressed copy is kept in a cache directory keyed by build-id. */
#include "symbolize/debuginfo.h"

#include "core/fsutil.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* CRC-32 (IEEE 802.3, as .gnu_debuglink uses) of a whole file; false on read error. The table
 * is made for each file (2,000 steps; two threads may ask at once). */
static bool file_crc32(int fd, uint32_t *out)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    uint32_t crc = 0xFFFFFFFFu;
    unsigned char buf[65536];
    ssize_t n;
    off_t pos = 0;
    while ((n = pread(fd, buf, sizeof buf, pos)) > 0) {
        for (ssize_t i = 0; i < n; i++)
            crc = table[(crc ^ buf[i]) & 0xFF] ^ (crc >> 8);
        pos += n;
    }
    *out = crc ^ 0xFFFFFFFFu;
    return n == 0;
}

/* Does the ELF file open on fd carry exactly this build-id? */
static bool has_build_id(int fd, const unsigned char *id, int len)
{
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    const void *got = NULL;
    ssize_t n = elf ? dwelf_elf_gnu_build_id(elf, &got) : -1;
    bool same = n == len && memcmp(got, id, (size_t)len) == 0;
    elf_end(elf);
    return same;
}

/* Opens path if it is the debug file we want; returns the fd or -1. */
static int try_candidate(const char *path, const unsigned char *id, int idlen, bool check_crc,
                         uint32_t crc, char **found)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    bool ok;
    if (idlen > 0) {
        ok = has_build_id(fd, id, idlen);
    } else if (check_crc) {
        uint32_t got;
        ok = file_crc32(fd, &got) && got == crc;
    } else {
        ok = true;
    }
    if (!ok) {
        close(fd);
        return -1;
    }
    *found = strdup(path);
    return fd;
}

/* Calls fn for each directory of a colon-separated list; stops at the first fd >= 0. */
static int each_dir(const char *dirs, int (*fn)(const char *dir, void *ctx), void *ctx)
{
    char buf[PATH_MAX];
    for (const char *p = dirs; p && *p;) {
        size_t len = strcspn(p, ":");
        if (len > 0 && len < sizeof buf) {
            memcpy(buf, p, len);
            buf[len] = '\0';
            int fd = fn(buf, ctx);
            if (fd >= 0)
                return fd;
        }
        p += len + (p[len] == ':');
    }
    return -1;
}

struct search {
    const unsigned char *id;
    int idlen;
    const char *file_name;
    const char *debuglink;
    uint32_t crc;
    char **found;
};

/* <dir>/.build-id/xx/rest.debug for the search's build-id, in buf. */
static bool build_id_path(const char *dir, const struct search *s, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/.build-id/%02x/", dir, s->id[0]);
    for (int i = 1; i < s->idlen && n > 0 && (size_t)n < len - 8; i++)
        n += snprintf(buf + n, len - (size_t)n, "%02x", s->id[i]);
    if (n <= 0 || (size_t)n >= len - 8)
        return false;
    snprintf(buf + n, len - (size_t)n, ".debug");
    return true;
}

char *debuginfo_default_cache_dir(void)
{
    const char *env;
    char path[PATH_MAX];
    if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/')
        snprintf(path, sizeof path, "%s/profreg/debug", env);
    else if ((env = getenv("HOME")) && env[0] == '/')
        snprintf(path, sizeof path, "%s/.cache/profreg/debug", env);
    else
        return NULL;
    return strdup(path);
}

static bool has_compressed_sections(int fd)
{
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool compressed = false;
    for (Elf_Scn *scn = NULL; elf && !compressed && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        compressed = gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED);
    }
    elf_end(elf);
    return compressed;
}

static int copy_file(int from, int to)
{
    char buf[1 << 16];
    ssize_t n;
    off_t pos = 0;
    while ((n = pread(from, buf, sizeof buf, pos)) > 0) {
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(to, buf + done, (size_t)(n - done));
            if (w <= 0)
                return -1;
            done += w;
        }
        pos += n;
    }
    return n == 0 ? 0 : -1;
}

/* Writes an uncompressed copy of the debug file open on fd to path (atomically: temporary
 * file and rename) and returns it opened, or -1 (then nothing is left behind). */
static int cache_uncompressed(int fd, const char *path)
{
    char dir[PATH_MAX], tmp[PATH_MAX + 32], err[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    if (fs_mkdir_p(dir, 0755, err, sizeof err) != 0)
        return -1;
    /* by process and thread: the symbol cache's helper thread may copy the same file at once
     * (then both copies are whole, and the second rename replaces the first with its equal) */
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%ld", path, (long)getpid(), (long)gettid());
    int out = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
        return -1;
    bool ok = copy_file(fd, out) == 0;
    Elf *elf = ok ? elf_begin(out, ELF_C_RDWR, NULL) : NULL;
    ok = elf != NULL;
    for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (gelf_getshdr(scn, &sh) && (sh.sh_flags & SHF_COMPRESSED))
            ok = elf_compress(scn, 0, 0) >= 0;
    }
    ok = ok && elf_update(elf, ELF_C_WRITE) >= 0;
    elf_end(elf);
    close(out);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return open(path, O_RDONLY | O_CLOEXEC);
}

static int by_build_id(const char *dir, void *ctx)
{
    struct search *s = ctx;
    char path[PATH_MAX];
    if (!build_id_path(dir, s, path, sizeof path))
        return -1;
    return try_candidate(path, s->id, s->idlen, false, 0, s->found);
}

static int by_debuglink_under(const char *dir, void *ctx)
{
    struct search *s = ctx;
    char path[PATH_MAX];
    const char *slash = strrchr(s->file_name, '/');
    int dirlen = slash ? (int)(slash - s->file_name) : 0;
    if (snprintf(path, sizeof path, "%s%.*s/%s", dir, dirlen, s->file_name, s->debuglink) >=
        (int)sizeof path)
        return -1;
    return try_candidate(path, s->id, s->idlen, true, s->crc, s->found);
}

/* The debuginfod client's cache: $DEBUGINFOD_CACHE_PATH, $XDG_CACHE_HOME/debuginfod_client,
 * or ~/.cache/debuginfod_client, holding <build-id>/debuginfo. Read, never fetched into. */
static int in_debuginfod_cache(struct search *s)
{
    char dir[PATH_MAX], path[PATH_MAX];
    const char *env;
    if ((env = getenv("DEBUGINFOD_CACHE_PATH")) && *env)
        snprintf(dir, sizeof dir, "%s", env);
    else if ((env = getenv("XDG_CACHE_HOME")) && *env)
        snprintf(dir, sizeof dir, "%s/debuginfod_client", env);
    else if ((env = getenv("HOME")) && *env)
        snprintf(dir, sizeof dir, "%s/.cache/debuginfod_client", env);
    else
        return -1;
    int n = snprintf(path, sizeof path, "%s/", dir);
    for (int i = 0; i < s->idlen && n > 0 && (size_t)n < sizeof path - 16; i++)
        n += snprintf(path + n, sizeof path - (size_t)n, "%02x", s->id[i]);
    if (n <= 0 || (size_t)n >= sizeof path - 16)
        return -1;
    snprintf(path + n, sizeof path - (size_t)n, "/debuginfo");
    return try_candidate(path, s->id, s->idlen, false, 0, s->found);
}

/* A file found by build-id, replaced by an uncompressed cached copy when it has compressed
 * sections and the cache can take one. */
static int through_cache(int fd, const struct search *s, const char *cache_dir)
{
    char path[PATH_MAX];
    if (!cache_dir || !has_compressed_sections(fd) ||
        !build_id_path(cache_dir, s, path, sizeof path))
        return fd;
    int copy = cache_uncompressed(fd, path);
    if (copy < 0)
        return fd;
    close(fd);
    free(*s->found);
    *s->found = strdup(path);
    return copy;
}

int debuginfo_find(Dwfl_Module *mod, void **userdata, const char *modname, GElf_Addr base,
                   const char *file_name, const char *debuglink_file, GElf_Word debuglink_crc,
                   char **debuginfo_file_name)
{
    (void)modname;
    (void)base;
    const struct debuginfo_config *cfg = *userdata;
    const char *dirs = cfg && cfg->dirs ? cfg->dirs : DEBUGINFO_DEFAULT_DIRS;
    const char *cache = cfg ? cfg->cache_dir : NULL;
    const unsigned char *id = NULL;
    GElf_Addr vaddr;
    int idlen = mod ? dwfl_module_build_id(mod, &id, &vaddr) : 0;
    struct search s = {id,
                       idlen > 0 ? idlen : 0,
                       file_name,
                       debuglink_file,
                       (uint32_t)debuglink_crc,
                       debuginfo_file_name};
    int fd = -1;
    if (s.idlen > 0) {
        if (cache)
            fd = by_build_id(cache, &s);
        if (fd < 0 && (fd = each_dir(dirs, by_build_id, &s)) >= 0)
            fd = through_cache(fd, &s, cache);
        if (fd < 0)
            fd = in_debuginfod_cache(&s);
    }
    if (fd < 0 && debuglink_file && file_name && file_name[0] == '/') {
        char path[PATH_MAX];
        const char *slash = strrchr(file_name, '/');
        int dirlen = (int)(slash - file_name);
        /* next to the file (unless that is the file itself), then in its .debug/ */
        if (strcmp(slash + 1, debuglink_file) != 0 &&
            snprintf(path, sizeof path, "%.*s/%s", dirlen, file_name, debuglink_file) <
                (int)sizeof path)
            fd = try_candidate(path, s.id, s.idlen, true, s.crc, debuginfo_file_name);
        if (fd < 0 && snprintf(path, sizeof path, "%.*s/.debug/%s", dirlen, file_name,
                               debuglink_file) < (int)sizeof path)
            fd = try_candidate(path, s.id, s.idlen, true, s.crc, debuginfo_file_name);
        if (fd < 0)
            fd = each_dir(dirs, by_debuglink_under, &s);
    }
    errno = 0;
    return fd;
}
