/* symcache.c — a cache of resolved frames across runs: <cache>/symbols/<build-id>, a text file
 * mapping a module's file offsets to their inline chains, in front of the libdw symbolizer.
 *
 * Invariants: a file serves only the module whose build-id, basename, profreg version and
 * debug-info situation its header names (anything else is stale and rewritten); a file is
 * served only whole (its last line carries the entry count and a hash of everything before
 * it); files are replaced by rename under an flock on <build-id>.lock, after re-reading the
 * current file, so concurrent writers never lose each other's entries. */
#include "symbolize/symcache.h"

#include "core/array.h"
#include "core/fsutil.h"
#include "core/hashmap.h"

#include "symbolize/debuginfo.h"
#include "symbolize/unitcache.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* One executable PT_LOAD segment as mapped: [start, end) in memory, file offset of start. */
struct sc_seg {
    uint64_t start, end, offset;
};

/* A cached range of lookup addresses: the file offsets [offset, offset + len) all resolve to
 * frames[first .. first + n) of its module (every byte was looked up and compared). */
struct sc_entry {
    uint64_t offset;
    uint32_t len;
    uint32_t first, n;
    bool fresh; /* resolved by this run, not yet in the file */
    bool used;  /* looked up by this run */
};

enum sc_state { SC_UNLOADED, SC_READY, SC_UNCACHED };

struct sc_module {
    char *path; /* as the dynamic loader names it; the executable's real path for "" */
    struct sc_seg *segs;
    size_t nsegs;
    char build_id[2 * 64 + 1]; /* hex, "" when the module has none */
    enum sc_state state;
    char *base;   /* basename of the real path: the symbolizer's module name */
    char *header; /* the identity lines every file of this module starts with */
    bool rewrite; /* the file on disk is stale or corrupt: write even with nothing fresh */
    bool hit;     /* served at least one address: refresh the file's mtime */
    struct sc_entry *ents;
    size_t nents, capents, nfresh;
    uint32_t *order; /* indices into ents by offset; the ranges never overlap */
    size_t caporder;
    struct sym_frame *frames;
    size_t nframes, capframes;
    struct unitcache *units; /* <build-id>.units: the symbolizer's unit tables */
    bool units_bad;          /* that file is damaged (said once) */
};

struct symcache {
    char *dir; /* <cache>/symbols, or NULL when caching is off */
    const char *version, *debug_dirs;
    const char *self_id; /* build-id of the object this code is linked into: any rebuild of
                            profreg (a changed symbolizer) makes every file stale */
    bool quiet;
    symcache_open_fn open;
    void *open_ctx;
    struct symbolizer *sym;
    bool open_failed;
    char err[512];
    struct sc_module *mods;
    size_t nmods, capmods;
    struct hmap strmap; /* string -> index into strs: every string handed out */
    char **strs;
    size_t nstrs, capstrs;
    struct symcache_stats stats;
};

static const char *intern(struct symcache *c, const char *s)
{
    if (!s)
        return NULL;
    if (ARRAY_GROW(c->strs, c->nstrs, c->capstrs) < 0)
        return NULL;
    uint32_t idx;
    int r = hmap_intern(&c->strmap, s, strlen(s), (uint32_t)c->nstrs, &idx);
    if (r < 0)
        return NULL;
    if (r == 1 && !(c->strs[c->nstrs++] = strdup(s))) {
        c->nstrs--;
        return NULL;
    }
    return c->strs[idx];
}

/* --- modules of this process ------------------------------------------------------------ */

/* The GNU build-id note among a loaded object's program headers, as hex; "" when none. */
static void note_build_id(const struct dl_phdr_info *info, char *out, size_t len)
{
    out[0] = '\0';
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        const unsigned char *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *nh = (const ElfW(Nhdr) *)p;
            size_t name = (nh->n_namesz + 3) & ~(size_t)3, desc = (nh->n_descsz + 3) & ~(size_t)3;
            const unsigned char *d = p + sizeof *nh + name;
            if (d + nh->n_descsz > end)
                break;
            if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
                memcmp(p + sizeof *nh, "GNU", 4) == 0 && nh->n_descsz > 0 &&
                nh->n_descsz * 2 < len) {
                for (size_t k = 0; k < nh->n_descsz; k++)
                    snprintf(out + 2 * k, 3, "%02x", d[k]);
                return;
            }
            p = d + desc;
        }
    }
}

static int add_module(struct dl_phdr_info *info, size_t size, void *ctx)
{
    (void)size;
    struct symcache *c = ctx;
    const char *name = info->dlpi_name;
    char exe[PATH_MAX];
    if (!name || !*name) {
        if (c->nmods > 0 || !realpath("/proc/self/exe", exe))
            return 0;
        name = exe;
    }
    if (ARRAY_GROW(c->mods, c->nmods, c->capmods) < 0)
        return 1;
    struct sc_module *m = &c->mods[c->nmods];
    memset(m, 0, sizeof *m);
    m->path = strdup(name);
    m->segs = calloc(info->dlpi_phnum ? info->dlpi_phnum : 1, sizeof *m->segs);
    if (!m->path || !m->segs) {
        free(m->path);
        free(m->segs);
        return 1;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && ph->p_filesz > 0)
            m->segs[m->nsegs++] =
                (struct sc_seg){info->dlpi_addr + ph->p_vaddr,
                                info->dlpi_addr + ph->p_vaddr + ph->p_filesz, ph->p_offset};
    }
    note_build_id(info, m->build_id, sizeof m->build_id);
    /* the vdso and other objects without a file path are never cached */
    m->state = m->build_id[0] && name[0] == '/' && c->dir ? SC_UNLOADED : SC_UNCACHED;
    c->nmods++;
    return 0;
}

static struct sc_module *find_module(const struct symcache *c, uint64_t addr,
                                     const struct sc_seg **seg)
{
    for (size_t i = 0; i < c->nmods; i++)
        for (size_t k = 0; k < c->mods[i].nsegs; k++)
            if (addr >= c->mods[i].segs[k].start && addr < c->mods[i].segs[k].end) {
                *seg = &c->mods[i].segs[k];
                return &c->mods[i];
            }
    return NULL;
}

const void *symcache_module_of(const struct symcache *c, uint64_t addr)
{
    const struct sc_seg *seg;
    return find_module(c, addr, &seg);
}

/* --- the file format -------------------------------------------------------------------- *
 *
 *   profreg-symcache 2
 *   build-id <hex>
 *   module <basename>
 *   profreg <version> <build-id of libprofreg.so>
 *   debug-dirs <dirs>
 *   debug-files <one 0/1 per debug dir: has <dir>/.build-id/xx/rest.debug>
 *   s <string>              defines string 0, 1, 2 ... (before its first use)
 *   a <file offset, hex> <length in bytes, hex> <number of frames>
 *   f <inlined 0/1> <line> <name> <source_file> <source_path> <module>   (string indices, "-")
 *   ...
 *   end <number of entries> <hash_bytes() of every byte before this line, hex>
 *
 * Strings escape '\\', tab and newline as \\ \t \n. */

static void put_escaped(FILE *f, const char *s)
{
    if (!s) {
        fputs("\\0", f);
        return;
    }
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\t')
            fputs("\\t", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else
            fputc(*s, f);
    }
}

/* Unescapes s[0..len) in place; *null tells whether it was the NULL string. -1 if bad. */
static int unescape(char *s, size_t len, bool *null)
{
    *null = len == 2 && s[0] == '\\' && s[1] == '0';
    if (*null)
        return 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '\\') {
            s[o++] = s[i];
            continue;
        }
        if (++i == len)
            return -1;
        s[o++] = s[i] == 't' ? '\t' : s[i] == 'n' ? '\n' : s[i] == '\\' ? '\\' : 0;
        if (!s[o - 1])
            return -1;
    }
    s[o] = '\0';
    return 0;
}

/* Builds m->header: the lines that must match for a file to serve. */
static int make_header(struct symcache *c, struct sc_module *m)
{
    char real[PATH_MAX];
    if (!realpath(m->path, real))
        return -1;
    m->base = strdup(fs_basename(real));
    const char *dirs = c->debug_dirs && *c->debug_dirs ? c->debug_dirs : DEBUGINFO_DEFAULT_DIRS;
    char files[64] = "";
    size_t nf = 0;
    for (const char *p = dirs; *p && nf + 1 < sizeof files;) {
        size_t len = strcspn(p, ":");
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%.*s/.build-id/%.2s/%s.debug", (int)len, p,
                         m->build_id, m->build_id + 2);
        files[nf++] = n > 0 && (size_t)n < sizeof path && access(path, F_OK) == 0 ? '1' : '0';
        p += len + (p[len] == ':');
    }
    files[nf] = '\0';
    char *h = NULL;
    size_t hl = 0;
    FILE *f = open_memstream(&h, &hl);
    if (!f || !m->base) {
        if (f)
            fclose(f);
        return -1;
    }
    fprintf(f, "%s\nbuild-id %s\nmodule ", SYMCACHE_MAGIC, m->build_id);
    put_escaped(f, m->base);
    fputs("\nprofreg ", f);
    put_escaped(f, c->version ? c->version : "unknown");
    fprintf(f, " %s", c->self_id);
    fputs("\ndebug-dirs ", f);
    put_escaped(f, dirs);
    fprintf(f, "\ndebug-files %s\n", files);
    if (fclose(f) != 0)
        return -1;
    m->header = h;
    return 0;
}

static void file_path(const struct symcache *c, const struct sc_module *m, const char *suffix,
                      char *out, size_t len)
{
    snprintf(out, len, "%s/%s%s", c->dir, m->build_id, suffix);
}

/* Position in m->order of the first range starting after offset. */
static size_t upper_bound(const struct sc_module *m, uint64_t offset)
{
    size_t lo = 0, hi = m->nents;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ents[m->order[mid]].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The range holding offset, or NULL. */
static struct sc_entry *find_entry(struct sc_module *m, uint64_t offset)
{
    size_t pos = upper_bound(m, offset);
    struct sc_entry *e = pos > 0 ? &m->ents[m->order[pos - 1]] : NULL;
    return e && offset - e->offset < e->len ? e : NULL;
}

/* Inserts one range at position pos of m->order (frames copied, strings interned). */
static int insert_range(struct symcache *c, struct sc_module *m, size_t pos, uint64_t offset,
                        uint64_t len, const struct sym_frame *fr, size_t n, bool fresh)
{
    if (ARRAY_GROW(m->ents, m->nents, m->capents) < 0 ||
        ARRAY_GROW(m->order, m->nents, m->caporder) < 0)
        return -1;
    memmove(m->order + pos + 1, m->order + pos, (m->nents - pos) * sizeof *m->order);
    m->order[pos] = (uint32_t)m->nents;
    struct sc_entry *e = &m->ents[m->nents++];
    *e = (struct sc_entry){offset, (uint32_t)len, (uint32_t)m->nframes, (uint32_t)n, fresh, fresh};
    for (size_t i = 0; i < n; i++) {
        if (ARRAY_GROW(m->frames, m->nframes, m->capframes) < 0)
            return -1;
        struct sym_frame f = fr[i];
        f.name = intern(c, f.name);
        f.source_file = intern(c, f.source_file);
        f.source_path = intern(c, f.source_path);
        f.module = intern(c, f.module);
        if (!f.name || (fr[i].source_file && !f.source_file) ||
            (fr[i].source_path && !f.source_path) || (fr[i].module && !f.module))
            return -1;
        m->frames[m->nframes++] = f;
    }
    m->nfresh += fresh;
    return 0;
}

/* Adds the range [offset, offset + len) with these frames, less the bytes ranges already held
 * cover (those resolve to the same frames: the symbolizer is the same, as the header says), so
 * that the ranges stay disjoint and the union of two writers' entries is kept whole. */
static int add_entry(struct symcache *c, struct sc_module *m, uint64_t offset, uint64_t len,
                     const struct sym_frame *fr, size_t n, bool fresh)
{
    uint64_t cur = offset, end = offset + len;
    if (end < offset)
        return 0;
    while (cur < end) {
        size_t pos = upper_bound(m, cur);
        const struct sc_entry *prev = pos > 0 ? &m->ents[m->order[pos - 1]] : NULL;
        if (prev && cur - prev->offset < prev->len) {
            cur = prev->offset + prev->len;
            continue;
        }
        uint64_t stop = end;
        if (pos < m->nents && m->ents[m->order[pos]].offset < stop)
            stop = m->ents[m->order[pos]].offset;
        if (insert_range(c, m, pos, cur, stop - cur, fr, n, fresh) < 0)
            return -1;
        cur = stop;
    }
    return 0;
}

/* The strings of a file being read, by index: "s" lines define them in order. */
struct strtab {
    const char **v;
    size_t len, cap;
};

/* Parses one "f" line (without "f "): inlined, line, then the indices of name, source file,
 * source path and module in st ("-" for none); the strings point into the file's buffer. */
static int parse_frame(char *s, const struct strtab *st, struct sym_frame *f)
{
    char *q;
    unsigned long inl = strtoul(s, &q, 10);
    if (q == s || *q != ' ' || inl > 1)
        return -1;
    s = q + 1;
    errno = 0;
    long line = strtol(s, &q, 10);
    if (q == s || errno)
        return -1;
    const char **dst[4] = {&f->name, &f->source_file, &f->source_path, &f->module};
    for (int k = 0; k < 4; k++) {
        if (*q != ' ')
            return -1;
        s = q + 1;
        if (*s == '-' && k > 0) {
            *dst[k] = NULL;
            q = s + 1;
            continue;
        }
        unsigned long idx = strtoul(s, &q, 10);
        if (q == s || idx >= st->len)
            return -1;
        *dst[k] = st->v[idx];
    }
    if (*q)
        return -1;
    f->line = line;
    f->inlined = inl == 1;
    return 0;
}

/* Reads path into m when its header is m's. 1: read; 0: absent or stale; -1: corrupt (why).
 * On -1, entries added before the fault stay (they were whole and hashed). */
static int read_file(struct symcache *c, struct sc_module *m, const char *path, const char **why)
{
    /* O_NONBLOCK: a FIFO planted under the name must not hang the program's exit */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat sb;
    struct strtab st = {0};
    char *buf = NULL;
    int rc = -1;
    *why = "unreadable";
    if (fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        goto out;
    }
    if (fstat(fd, &sb) != 0 || sb.st_size > 2 * (off_t)SYMCACHE_MAX_FILE_BYTES ||
        !(buf = malloc((size_t)sb.st_size + 1))) {
        *why = "too large or unreadable";
        goto out;
    }
    size_t len = 0;
    while (len < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)sb.st_size - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    size_t ml = strlen(SYMCACHE_MAGIC);
    if (len < ml + 1 || memcmp(buf, SYMCACHE_MAGIC, ml) != 0 || buf[ml] != '\n') {
        /* another format version is stale, not corrupt: replaced without a word */
        rc = strncmp(buf, "profreg-symcache ", 17) == 0 ? 0 : -1;
        *why = "not a symbol cache file";
        goto out;
    }
    /* the last line: end <count> <hash> */
    if (buf[len - 1] != '\n') {
        *why = "truncated";
        goto out;
    }
    buf[len - 1] = '\0';
    char *last = strrchr(buf, '\n');
    unsigned long long count, hash;
    char tail;
    if (!last || sscanf(last + 1, "end %llu %llx%c", &count, &hash, &tail) != 2) {
        *why = "truncated";
        goto out;
    }
    size_t body = (size_t)(last + 1 - buf);
    if (hash_bytes(buf, body) != hash) {
        *why = "checksum mismatch";
        goto out;
    }
    size_t hl = strlen(m->header);
    if (body < hl || memcmp(buf, m->header, hl) != 0) {
        rc = 0; /* another module's, version's or debug-info situation's: stale */
        goto out;
    }
    *why = "malformed entry";
    char *p = buf + hl, *stop = last + 1;
    unsigned long long seen = 0;
    struct sym_frame fr[SYM_MAX_FRAMES];
    while (p < stop) {
        char *eol = memchr(p, '\n', (size_t)(stop - p)), *q;
        if (eol && strncmp(p, "s ", 2) == 0) {
            bool null;
            if (unescape(p + 2, (size_t)(eol - p - 2), &null) != 0 || null ||
                ARRAY_GROW(st.v, st.len, st.cap) < 0)
                goto out;
            st.v[st.len++] = p + 2;
            p = eol + 1;
            continue;
        }
        if (!eol || strncmp(p, "a ", 2) != 0)
            goto out;
        *eol = '\0';
        uint64_t off = strtoull(p + 2, &q, 16);
        unsigned long span = q > p + 2 && *q == ' ' ? strtoul(q + 1, &q, 16) : 0;
        unsigned long n = span && *q == ' ' ? strtoul(q + 1, &q, 10) : 0;
        if (n == 0 || n > SYM_MAX_FRAMES || span > SYMCACHE_MAX_RANGE || *q)
            goto out;
        p = eol + 1;
        for (unsigned long k = 0; k < n; k++) {
            eol = memchr(p, '\n', (size_t)(stop - p));
            if (!eol || strncmp(p, "f ", 2) != 0)
                goto out;
            *eol = '\0';
            if (parse_frame(p + 2, &st, &fr[k]) != 0)
                goto out;
            p = eol + 1;
        }
        if (add_entry(c, m, off, span, fr, n, false) < 0) {
            *why = "out of memory";
            goto out;
        }
        seen++;
    }
    if (seen != count)
        goto out;
    rc = 1;
out:
    free(st.v);
    free(buf);
    close(fd);
    return rc;
}

/* First use of a module: its header, then its file if any. */
static void load_module(struct symcache *c, struct sc_module *m)
{
    if (make_header(c, m) != 0) {
        m->state = SC_UNCACHED;
        return;
    }
    m->state = SC_READY;
    char path[PATH_MAX];
    file_path(c, m, ".units", path, sizeof path);
    m->units = unitcache_new(path, hash_bytes(m->header, strlen(m->header)));
    file_path(c, m, "", path, sizeof path);
    const char *why = NULL;
    int r = read_file(c, m, path, &why);
    if (r <= 0)
        m->rewrite = true;
    if (r < 0 && !c->quiet)
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
}

/* --- resolving -------------------------------------------------------------------------- */

static size_t copy_frames(const struct sym_frame *in, size_t n, struct sym_frame *out, size_t max)
{
    if (n <= max) {
        memcpy(out, in, n * sizeof *in);
        return n;
    }
    memcpy(out, in, (max - 1) * sizeof *in); /* innermost frames, then the outer function */
    out[max - 1] = in[n - 1];
    return max;
}

static bool same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_frames(const struct sym_frame *a, size_t na, const struct sym_frame *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!same_str(a[i].name, b[i].name) || !same_str(a[i].source_file, b[i].source_file) ||
            !same_str(a[i].source_path, b[i].source_path) || !same_str(a[i].module, b[i].module) ||
            a[i].line != b[i].line || a[i].inlined != b[i].inlined)
            return false;
    return true;
}

/* Widens [*lo, *hi) byte by byte, up to SYMCACHE_PROBE bytes each way, while the symbolizer
 * gives the very same frames, inside the segment and outside every range already held: for
 * answers whose range the symbolizer cannot state (ELF symbols), so that later runs that
 * sample other instructions of the function are served too. */
static void probe_range(struct symcache *c, struct sc_module *m, const struct sc_seg *seg,
                        const struct sym_frame *want, size_t n, uint64_t *lo, uint64_t *hi)
{
    struct sym_frame got[SYM_MAX_FRAMES];
    for (int k = 0; k<SYMCACHE_PROBE && * lo> seg->start; k++) {
        uint64_t a = *lo - 1;
        if (find_entry(m, a - seg->start + seg->offset) ||
            !same_frames(want, n, got, symbolizer_lookup(c->sym, a, got, SYM_MAX_FRAMES)))
            break;
        *lo = a;
    }
    for (int k = 0; k < SYMCACHE_PROBE && *hi < seg->end; k++) {
        if (find_entry(m, *hi - seg->start + seg->offset) ||
            !same_frames(want, n, got, symbolizer_lookup(c->sym, *hi, got, SYM_MAX_FRAMES)))
            break;
        ++*hi;
    }
}

/* The symbolizer's unit store (struct sym_unit_store): the units file of addr's module. */
static struct unitcache *units_of(struct symcache *c, uint64_t addr, struct sc_module **mod)
{
    const struct sc_seg *seg;
    struct sc_module *m = find_module(c, addr, &seg);
    if (m && m->state == SC_UNLOADED)
        load_module(c, m);
    *mod = m;
    return m && m->state == SC_READY ? m->units : NULL;
}

/* Says once that a units file cannot serve. */
static void units_complain(struct symcache *c, struct sc_module *m, const char *why)
{
    if (!why || m->units_bad)
        return;
    m->units_bad = true;
    if (!c->quiet) {
        char path[PATH_MAX];
        file_path(c, m, ".units", path, sizeof path);
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
    }
}

static bool store_get(void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn **fns,
                      size_t *n, bool *deep)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_get(u, cu_off, fns, n, deep, &why);
    units_complain(c, m, why);
    return found;
}

static bool store_unit_at(void *ctx, uint64_t addr, uint64_t pc, uint64_t *cu_off)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_unit_at(u, pc, cu_off, &why);
    units_complain(c, m, why);
    return found;
}

static bool store_get_symbols(void *ctx, uint64_t addr, const struct sym_symbol **v, size_t *n)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_symbols(u, v, n, &why);
    units_complain(c, m, why);
    return found;
}

static void store_put_symbols(void *ctx, uint64_t addr, const struct sym_symbol *v, size_t n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put_symbols(u, v, n);
}

static void store_put(void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn *fns,
                      size_t n, bool deep)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put(u, cu_off, fns, n, deep);
}

size_t symcache_resolve(void *cache, uint64_t addr, struct sym_frame *out, size_t max)
{
    static const struct sym_frame unknown = {"[unknown]", NULL, NULL, NULL, -1, false};
    struct symcache *c = cache;
    if (max == 0)
        return 0;
    const struct sc_seg *seg = NULL;
    struct sc_module *m = find_module(c, addr, &seg);
    uint64_t offset = m ? addr - seg->start + seg->offset : 0;
    if (m && m->state == SC_UNLOADED)
        load_module(c, m);
    if (m && m->state == SC_READY) {
        struct sc_entry *e = find_entry(m, offset);
        if (e) {
            e->used = true;
            m->hit |= !e->fresh;
            if (e->fresh)
                c->stats.misses++; /* a range this run probed: libdw's answer all the same */
            else
                c->stats.hits++;
            return copy_frames(m->frames + e->first, e->n, out, max);
        }
    }
    if (!c->sym && !c->open_failed) {
        c->sym = c->open(c->open_ctx, c->err, sizeof c->err);
        c->open_failed = c->sym == NULL;
        if (c->sym && c->dir)
            symbolizer_set_unit_store(
                c->sym, &(struct sym_unit_store){store_get, store_put, store_unit_at,
                                                 store_get_symbols, store_put_symbols, c});
    }
    if (!c->sym) {
        out[0] = unknown;
        return 1;
    }
    c->stats.misses++;
    uint64_t lo, hi;
    size_t n = symbolizer_lookup_range(c->sym, addr, out, max, &lo, &hi);
    if (m && m->state == SC_READY && n > 0 && n <= SYM_MAX_FRAMES) {
        bool same = true; /* only frames the symbolizer placed in this very module */
        for (size_t i = 0; i < n; i++)
            same &= out[i].module && strcmp(out[i].module, m->base) == 0;
        /* the symbolizer's range, within this segment; a single byte (ELF symbols) is
         * widened by probing */
        lo = lo > seg->start ? lo : seg->start;
        hi = hi < seg->end ? hi : seg->end;
        if (addr - lo > SYMCACHE_MAX_RANGE / 2)
            lo = addr - SYMCACHE_MAX_RANGE / 2;
        if (hi - addr > SYMCACHE_MAX_RANGE / 2)
            hi = addr + SYMCACHE_MAX_RANGE / 2;
        if (same && hi - lo == 1)
            probe_range(c, m, seg, out, n, &lo, &hi);
        if (same && add_entry(c, m, lo - seg->start + seg->offset, hi - lo, out, n, true) < 0)
            m->state = SC_UNCACHED; /* out of memory: stop caching this module */
    }
    return n;
}

/* --- writing ---------------------------------------------------------------------------- */

/* Writes "s" lines for the strings of e's frames not written yet (by pointer: every string
 * is interned, so equal strings are one pointer); *next is the next string index. */
static int put_strings(FILE *f, struct hmap *ids, uint32_t *next, const struct sc_module *m,
                       const struct sc_entry *e)
{
    for (uint32_t i = 0; i < e->n; i++) {
        const struct sym_frame *fr = &m->frames[e->first + i];
        const char *str[4] = {fr->name, fr->source_file, fr->source_path, fr->module};
        for (int k = 0; k < 4; k++) {
            uint32_t id;
            int r = str[k] ? hmap_intern(ids, &str[k], sizeof str[k], *next, &id) : 0;
            if (r < 0)
                return -1;
            if (r == 1) {
                fputs("s ", f);
                put_escaped(f, str[k]);
                fputc('\n', f);
                ++*next;
            }
        }
    }
    return 0;
}

static void put_entry(FILE *f, const struct hmap *ids, const struct sc_module *m,
                      const struct sc_entry *e)
{
    fprintf(f, "a %" PRIx64 " %" PRIx32 " %" PRIu32 "\n", e->offset, e->len, e->n);
    for (uint32_t i = 0; i < e->n; i++) {
        const struct sym_frame *fr = &m->frames[e->first + i];
        const char *str[4] = {fr->name, fr->source_file, fr->source_path, fr->module};
        fprintf(f, "f %d %ld", fr->inlined ? 1 : 0, fr->line);
        for (int k = 0; k < 4; k++) {
            uint32_t id;
            if (str[k] && hmap_get(ids, &str[k], sizeof str[k], &id))
                fprintf(f, " %" PRIu32, id);
            else
                fputs(" -", f);
        }
        fputc('\n', f);
    }
}

/* The whole file in memory: all entries, or (used_only) those this run used, stopping once
 * past SYMCACHE_MAX_FILE_BYTES. malloc'd, or NULL. */
static char *format_file(const struct sc_module *m, bool used_only, size_t *len)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *f = open_memstream(&buf, &blen);
    if (!f)
        return NULL;
    fputs(m->header, f);
    size_t count = 0;
    struct hmap ids;
    hmap_init(&ids);
    uint32_t next = 0;
    for (size_t i = 0; i < m->nents; i++) {
        if (used_only && !m->ents[i].used)
            continue;
        if (put_strings(f, &ids, &next, m, &m->ents[i]) < 0) {
            hmap_free(&ids);
            fclose(f);
            free(buf);
            return NULL;
        }
        put_entry(f, &ids, m, &m->ents[i]);
        count++;
        if (used_only && ftell(f) > (long)SYMCACHE_MAX_FILE_BYTES)
            break; /* over by at most one entry */
    }
    hmap_free(&ids);
    fflush(f);
    size_t body = blen;
    fprintf(f, "end %zu %" PRIx64 "\n", count, hash_bytes(buf, body));
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    *len = blen;
    return buf;
}

static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Waits up to about 2 s for the lock; -1 when it cannot be had. */
static int lock_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0666);
    struct stat sb;
    if (fd >= 0 && (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))) {
        close(fd);
        return -1;
    }
    if (fd < 0)
        return -1;
    for (int i = 0; i < 200; i++) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            return fd;
        if (errno != EWOULDBLOCK && errno != EINTR)
            break;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return -1;
}

static bool save_module(struct symcache *c, struct sc_module *m)
{
    char path[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX + 32];
    file_path(c, m, "", path, sizeof path);
    file_path(c, m, ".lock", lock, sizeof lock);
    int lfd = lock_file(lock);
    if (lfd < 0)
        return false;
    /* entries other processes wrote since this one read the file */
    const char *why;
    if (read_file(c, m, path, &why) < 0 && !c->quiet && !m->rewrite)
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
    size_t len = 0;
    char *buf = format_file(m, false, &len);
    if (buf && len > SYMCACHE_MAX_FILE_BYTES) {
        free(buf);
        buf = format_file(m, true, &len);
    }
    bool ok = false;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = buf ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666) : -1;
    if (fd >= 0) {
        ok = write_all(fd, buf, len) == 0;
        ok &= close(fd) == 0;
        ok = ok && rename(tmp, path) == 0;
        if (!ok)
            unlink(tmp);
    }
    free(buf);
    close(lfd); /* releases the lock */
    return ok;
}

struct sc_file {
    char name[NAME_MAX + 1];
    off_t size;
    time_t mtime;
};

static int by_mtime(const void *a, const void *b)
{
    const struct sc_file *x = a, *y = b;
    return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Keeps the directory under SYMCACHE_MAX_TOTAL_BYTES: oldest files first, never one this
 * process uses; temporary files older than an hour (a writer that died) go too. */
static void trim_dir(struct symcache *c)
{
    DIR *d = opendir(c->dir);
    if (!d)
        return;
    struct sc_file *files = NULL;
    size_t n = 0, cap = 0;
    off_t total = 0;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, 0) != 0 ||
            !S_ISREG(st.st_mode) || strstr(de->d_name, ".lock"))
            continue;
        if (strstr(de->d_name, ".tmp.")) {
            if (now - st.st_mtime > 3600)
                unlinkat(dirfd(d), de->d_name, 0);
            continue;
        }
        total += st.st_size;
        if (ARRAY_GROW(files, n, cap) == 0) {
            snprintf(files[n].name, sizeof files[n].name, "%s", de->d_name);
            files[n].size = st.st_size;
            files[n++].mtime = st.st_mtime;
        }
    }
    if (files)
        qsort(files, n, sizeof *files, by_mtime);
    for (size_t i = 0; i < n && total > (off_t)SYMCACHE_MAX_TOTAL_BYTES; i++) {
        bool mine = false;
        for (size_t k = 0; k < c->nmods && !mine; k++) {
            size_t idlen = strlen(c->mods[k].build_id);
            mine = idlen && strncmp(c->mods[k].build_id, files[i].name, idlen) == 0 &&
                   (!files[i].name[idlen] || files[i].name[idlen] == '.');
        }
        if (mine)
            continue;
        char lock[NAME_MAX + 8];
        snprintf(lock, sizeof lock, "%s.lock", files[i].name);
        if (unlinkat(dirfd(d), files[i].name, 0) == 0)
            total -= files[i].size;
        unlinkat(dirfd(d), lock, 0);
    }
    free(files);
    closedir(d);
}

/* Merges the module's unit tables into its .units file, under the module's lock. */
static bool save_units(struct symcache *c, struct sc_module *m)
{
    char path[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX + 32];
    file_path(c, m, ".units", path, sizeof path);
    file_path(c, m, ".lock", lock, sizeof lock);
    int lfd = lock_file(lock);
    if (lfd < 0)
        return false;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    bool ok = unitcache_save(m->units, tmp) == 0;
    close(lfd);
    return ok;
}

void symcache_save(struct symcache *c)
{
    if (!c || !c->dir)
        return;
    if (c->sym)
        symbolizer_save_units(c->sym);
    bool made_dir = false, wrote = false;
    for (size_t i = 0; i < c->nmods; i++) {
        struct sc_module *m = &c->mods[i];
        if (m->state != SC_READY)
            continue;
        if (m->units && unitcache_dirty(m->units)) {
            char why[PATH_MAX + 128];
            if (!made_dir && fs_mkdir_p(c->dir, 0777, why, sizeof why) != 0)
                return;
            made_dir = true;
            wrote |= save_units(c, m);
        }
        if (m->nfresh == 0 && !m->rewrite) {
            if (m->hit) {
                char path[PATH_MAX];
                file_path(c, m, "", path, sizeof path);
                utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
            }
            continue;
        }
        if (m->nents == 0)
            continue;
        if (!made_dir) {
            char why[PATH_MAX + 128];
            if (fs_mkdir_p(c->dir, 0777, why, sizeof why) != 0)
                return;
            made_dir = true;
        }
        wrote |= save_module(c, m);
    }
    if (wrote)
        trim_dir(c);
}

/* --- lifetime --------------------------------------------------------------------------- */

struct symcache *symcache_new(const struct symcache_options *opts)
{
    struct symcache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    hmap_init(&c->strmap);
    c->version = opts->version;
    c->debug_dirs = opts->debug_dirs;
    c->quiet = opts->quiet;
    c->open = opts->open;
    c->open_ctx = opts->open_ctx;
    if (!opts->cache_dir || strcmp(opts->cache_dir, "none") != 0) {
        char *root = opts->cache_dir ? strdup(opts->cache_dir) : debuginfo_default_cache_dir();
        if (root && asprintf(&c->dir, "%s/symbols", root) < 0)
            c->dir = NULL;
        free(root);
    }
    if (dl_iterate_phdr(add_module, c) != 0) {
        symcache_free(c);
        return NULL;
    }
    const struct sc_module *self = symcache_module_of(c, (uint64_t)(uintptr_t)&symcache_new);
    c->self_id = self && self->build_id[0] ? self->build_id : "-";
    return c;
}

struct symcache_stats symcache_stats(const struct symcache *c)
{
    return c->stats;
}

struct symbolizer *symcache_symbolizer(const struct symcache *c)
{
    return c->sym;
}

const char *symcache_error(const struct symcache *c)
{
    return c->open_failed ? c->err : NULL;
}

void symcache_free(struct symcache *c)
{
    if (!c)
        return;
    if (c->sym)
        symbolizer_close(c->sym);
    for (size_t i = 0; i < c->nmods; i++) {
        struct sc_module *m = &c->mods[i];
        free(m->path);
        free(m->segs);
        free(m->base);
        free(m->header);
        free(m->order);
        free(m->ents);
        free(m->frames);
        unitcache_free(m->units);
    }
    free(c->mods);
    for (size_t i = 0; i < c->nstrs; i++)
        free(c->strs[i]);
    free(c->strs);
    hmap_free(&c->strmap);
    free(c->dir);
    free(c);
}
