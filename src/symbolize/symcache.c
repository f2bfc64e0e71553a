/* SPDX-License-Identifier: MIT */
/* symcache.c — a cache of resolved frames across runs: <cache>/symbols/<build-id>, a binary file
 * mapping a module's file offsets to their inline chains, in front of the libdw symbolizer,
 * and <build-id>.add, a file of the same format with the ranges later runs added.
 *
 * Invariants: a file serves only the module whose build-id, basename, profreg version and
 * debug-info situation its identity names (anything else is stale and rewritten); a file is
 * served only whole (its last word is a hash of everything before it), in place, as read;
 * files are replaced by rename under an flock on <build-id>.lock, after re-reading the
 * current file, so concurrent writers never lose each other's entries. */
#include "symbolize/symcache.h"

#include "core/array.h"
#include "core/fsutil.h"
#include "core/hashmap.h"
#include "core/sort.h"

#include "symbolize/debuginfo.h"
#include "symbolize/dwarf_raw.h"
#include "symbolize/aranges.h"
#include "symbolize/unitcache.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
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

/* --- the file format -------------------------------------------------------------------- *
 *
 * Binary, in the byte order of the machine that wrote it, every part 8-byte aligned, read
 * with one read() and served in place (nothing parsed or copied per entry):
 *
 *   struct sc_head       magic SYMCACHE_MAGIC "\n" (NUL-padded), sizes of the parts
 *   identity             the module's identity lines (make_header), padded
 *   struct sc_rec[]      ranges of file offsets, sorted, disjoint
 *   struct sc_frec[]     their frames, innermost first
 *   struct sc_key[]      frames of function DIEs by key (symbolizer_frame_keys), sorted
 *   strings              NUL-terminated, each once; a frame refers to one by offset + 1
 *   u64 check            unitcache_hash of every word before it
 */
#define SC_MAGIC_LEN 24
struct sc_head {
    char magic[SC_MAGIC_LEN];
    uint64_t ident_len, nrecs, nframes, strbytes, nkeys;
};
/* The file offsets [offset, offset + len) all resolve to frames [first, first + n). */
struct sc_rec {
    uint64_t offset;
    uint32_t len, first, n, pad;
};
/* The frame of a function DIE, by its key: frame k of the record holding file offset
 * offset (a key whose record is gone, or has fewer frames, serves nothing). */
struct sc_key {
    uint64_t key, offset;
    uint32_t k, pad;
};
/* One frame; strings as offset + 1 into the strings (0: none). */
struct sc_frec {
    uint32_t name, file, path, module;
    int32_t line;
    uint32_t inlined;
};

/* A file as read (mapped): its parts point into buf. */
struct sc_view {
    uint64_t *buf; /* the file mapped (fs_map_file), st.st_size bytes */
    const struct sc_rec *recs;
    size_t nrecs;
    const struct sc_frec *frames;
    size_t nframes;
    const struct sc_key *keys;
    size_t nkeys;
    const char *strs;
    size_t strbytes;
    uint8_t *used; /* per record: looked up by this run (allocated on the first) */
    struct stat st; /* the file's identity when read (device, inode, size, mtime) */
};

/* A range resolved by this run, not in the file yet: the file offsets [offset, offset + len)
 * all resolve to frames[first .. first + n) of its module (every byte was looked up and
 * compared). Disjoint from each other and from the file's records. */
struct sc_entry {
    uint64_t offset;
    uint32_t len;
    uint32_t first, n;
};

enum sc_state { SC_UNLOADED, SC_READY, SC_UNCACHED };

struct sc_module {
    char *path; /* as the dynamic loader names it; the executable's real path for "" */
    struct sc_seg *segs;
    size_t nsegs;
    char build_id[2 * 64 + 1]; /* hex, "" when the module has none */
    enum sc_state state;
    char *base;   /* basename of the real path: the symbolizer's module name */
    char *header; /* the identity lines of this module's files */
    bool rewrite; /* the file on disk is stale or corrupt: write even with nothing fresh */
    bool hit;     /* served at least one address: refresh the file's mtime */
    struct sc_view view; /* the file as this run read it */
    struct sc_view add;  /* the .add file as this run read it */
    bool add_bad;        /* the .add file was said to be damaged */
    struct sc_entry *ents; /* this run's new ranges */
    size_t nents, capents;
    uint32_t *order; /* indices into ents by offset */
    size_t caporder;
    struct sym_frame *frames;
    size_t nframes, capframes;
    struct sc_key *keys; /* this run's frames of function DIEs, at offsets of its ranges */
    size_t nkeys, capkeys;
    struct unitcache *units; /* <build-id>.units: the symbolizer's unit tables */
    bool units_bad;          /* that file is damaged (said once) */
    bool syms_bad;           /* its .syms file was said to be unusable */
};

/* A miss handed to the helper thread (symcache_prepare), by address. state: AHEAD_FREE until
 * one thread claims it, AHEAD_MAIN when the calling thread did (it resolves the miss itself, or
 * had passed it), AHEAD_HELPER while the helper resolves it, then AHEAD_DONE with fr (malloc'd;
 * NULL with n 0 when the helper could not: the calling thread resolves it then). */
enum { AHEAD_FREE, AHEAD_MAIN, AHEAD_HELPER, AHEAD_DONE };
struct sc_ahead {
    uint64_t addr;
    _Atomic unsigned char state;
    bool cached;     /* its module has cache files (SC_READY when the helper started) */
    uint64_t lo, hi; /* the symbolizer's range, probed already when it said one byte */
    struct sym_frame *fr;
    uint64_t *keys; /* symbolizer_frame_keys of the lookup, one per frame */
    size_t n;
};

struct sc_helper {
    struct sc_ahead *v; /* the misses, increasing; NULL: no helper in this run */
    size_t n;
    size_t pos; /* the calling thread's place in v: entries before it are passed */
    pthread_t tid;
    bool running;           /* started, not joined yet */
    struct symbolizer *sym; /* its own (opened on the helper thread) */
    uint64_t took;          /* misses it resolved */
    double cpu_ms;
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
    unsigned threads;
    size_t min_split;
    struct sc_helper helper;
    /* while a helper runs, the unit store's callbacks (both symbolizers') take this lock; the
     * store's answers stay valid (nothing a store lends is freed before symcache_free) */
    pthread_mutex_t store_lock;
    bool locking;
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

/* The suffix of the file of ranges added to a module's main file. */
#define SC_ADD ".add"

static void file_path(const struct symcache *c, const struct sc_module *m, const char *suffix,
                      char *out, size_t len)
{
    snprintf(out, len, "%s/%s%s", c->dir, m->build_id, suffix);
}


/* The magic field of a file of this format. */
static void magic_field(char out[SC_MAGIC_LEN])
{
    memset(out, 0, SC_MAGIC_LEN);
    snprintf(out, SC_MAGIC_LEN, "%s\n", SYMCACHE_MAGIC);
}

static size_t pad8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void free_view(struct sc_view *v)
{
    fs_unmap(v->buf, (size_t)v->st.st_size);
    free(v->used);
    *v = (struct sc_view){0};
}

/* Reads path into *v when it is a whole file of m's identity. 1: read; 0: absent or stale
 * (another identity or format version); -1: cannot serve (*why). */
static int read_view(const struct sc_module *m, const char *path, struct sc_view *v,
                     const char **why)
{
    *v = (struct sc_view){0};
    /* O_NONBLOCK: a FIFO planted under the name must not hang the program's exit */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat sb;
    uint64_t *b = NULL;
    size_t len = 0;
    int rc = -1;
    *why = "unreadable";
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
        goto out;
    }
    len = (size_t)sb.st_size;
    if (sb.st_size > 2 * (off_t)SYMCACHE_MAX_FILE_BYTES) {
        *why = "too large";
        goto out;
    }
    *why = "not a symbol cache file";
    if (len < SC_MAGIC_LEN)
        goto out;
    *why = "unreadable";
    if (!(b = fs_map_file(fd, len)))
        goto out;
    char magic[SC_MAGIC_LEN];
    magic_field(magic);
    if (memcmp(b, magic, SC_MAGIC_LEN) != 0) {
        /* another format version is stale, not corrupt: replaced without a word */
        rc = len >= 17 && memcmp(b, "profreg-symcache ", 17) == 0 ? 0 : -1;
        *why = "not a symbol cache file";
        goto out;
    }
    *why = "truncated";
    if (len < sizeof(struct sc_head) + 8 || len % 8 != 0)
        goto out;
    const struct sc_head *h = (const struct sc_head *)b;
    size_t words = len / 8;
    if (h->ident_len > len || h->nrecs > words || h->nframes > words || h->nkeys > words ||
        h->strbytes > len ||
        sizeof *h + pad8(h->ident_len) + h->nrecs * sizeof(struct sc_rec) +
                h->nframes * sizeof(struct sc_frec) + h->nkeys * sizeof(struct sc_key) +
                pad8(h->strbytes) + 8 !=
            len)
        goto out;
    *why = "checksum mismatch";
    if (unitcache_hash(b, words - 1) != b[words - 1])
        goto out;
    const char *ident = (const char *)(h + 1);
    if (h->ident_len != strlen(m->header) || memcmp(ident, m->header, h->ident_len) != 0) {
        rc = 0; /* another module's, build's or debug-info situation's: stale */
        goto out;
    }
    v->recs = (const struct sc_rec *)(ident + pad8(h->ident_len));
    v->nrecs = h->nrecs;
    v->frames = (const struct sc_frec *)(v->recs + v->nrecs);
    v->nframes = h->nframes;
    v->keys = (const struct sc_key *)(v->frames + v->nframes);
    v->nkeys = h->nkeys;
    v->strs = (const char *)(v->keys + v->nkeys);
    v->strbytes = h->strbytes;
    *why = "malformed entry";
    if (v->strbytes > UINT32_MAX - 1 || (v->strbytes && v->strs[v->strbytes - 1] != '\0'))
        goto out;
    for (size_t i = 0; i < v->nrecs; i++) {
        const struct sc_rec *r = &v->recs[i];
        if (r->len == 0 || r->len > SYMCACHE_MAX_RANGE || r->n == 0 || r->n > SYM_MAX_FRAMES ||
            r->first > v->nframes || r->n > v->nframes - r->first ||
            r->offset + r->len < r->offset ||
            (i > 0 && v->recs[i - 1].offset + v->recs[i - 1].len > r->offset))
            goto out;
    }
    for (size_t i = 0; i < v->nkeys; i++) {
        const struct sc_key *k = &v->keys[i];
        if (k->key == 0 || k->k >= SYM_MAX_FRAMES || k->pad != 0 ||
            (i > 0 && v->keys[i - 1].key >= k->key))
            goto out;
    }
    for (size_t i = 0; i < v->nframes; i++) {
        const struct sc_frec *f = &v->frames[i];
        if (f->name == 0 || f->name > v->strbytes || f->file > v->strbytes ||
            f->path > v->strbytes || f->module > v->strbytes || f->inlined > 1)
            goto out;
    }
    v->st = sb;
    v->buf = b;
    b = NULL;
    rc = 1;
out:
    if (rc != 1)
        *v = (struct sc_view){0};
    fs_unmap(b, len);
    close(fd);
    return rc;
}

/* Position in recs[0..n) (sorted) of the first record starting after offset. */
static size_t rec_upper(const struct sc_rec *recs, size_t n, uint64_t offset)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (recs[mid].offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Position in v->recs of the first record starting after offset. */
static size_t view_upper(const struct sc_view *v, uint64_t offset)
{
    return rec_upper(v->recs, v->nrecs, offset);
}

/* Index of the record holding offset, or -1. */
static long view_find(const struct sc_view *v, uint64_t offset)
{
    size_t pos = view_upper(v, offset);
    return pos > 0 && offset - v->recs[pos - 1].offset < v->recs[pos - 1].len ? (long)pos - 1
                                                                               : -1;
}

static const char *view_str(const struct sc_view *v, uint32_t ref)
{
    return ref ? v->strs + ref - 1 : NULL;
}

/* The frames of record i as the symbolizer gives them (strings point into the file). */
static size_t view_frames(const struct sc_view *v, size_t i, struct sym_frame *out)
{
    const struct sc_rec *r = &v->recs[i];
    for (uint32_t k = 0; k < r->n; k++) {
        const struct sc_frec *f = &v->frames[r->first + k];
        out[k] = (struct sym_frame){view_str(v, f->name),   view_str(v, f->file),
                                    view_str(v, f->path),   view_str(v, f->module),
                                    f->line,                f->inlined != 0};
    }
    return r->n;
}

/* Position in m->order of the first new range starting after offset. */
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

/* The new range holding offset, or NULL. */
static struct sc_entry *find_entry(struct sc_module *m, uint64_t offset)
{
    size_t pos = upper_bound(m, offset);
    struct sc_entry *e = pos > 0 ? &m->ents[m->order[pos - 1]] : NULL;
    return e && offset - e->offset < e->len ? e : NULL;
}

/* Does the file or this run hold offset already? */
static bool held(struct sc_module *m, uint64_t offset)
{
    return view_find(&m->view, offset) >= 0 || view_find(&m->add, offset) >= 0 ||
           find_entry(m, offset);
}

/* Inserts one range at position pos of m->order (frames copied, strings interned). */
static int insert_range(struct symcache *c, struct sc_module *m, size_t pos, uint64_t offset,
                        uint64_t len, const struct sym_frame *fr, size_t n)
{
    if (ARRAY_GROW(m->ents, m->nents, m->capents) < 0 ||
        ARRAY_GROW(m->order, m->nents, m->caporder) < 0)
        return -1;
    memmove(m->order + pos + 1, m->order + pos, (m->nents - pos) * sizeof *m->order);
    m->order[pos] = (uint32_t)m->nents;
    struct sc_entry *e = &m->ents[m->nents++];
    *e = (struct sc_entry){offset, (uint32_t)len, (uint32_t)m->nframes, (uint32_t)n};
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
    return 0;
}

/* Does a record of v hold offset? True with *end, that record's end; else *next is the start
 * of v's first record after offset (UINT64_MAX: none). */
static bool view_holds(const struct sc_view *v, uint64_t offset, uint64_t *end, uint64_t *next)
{
    size_t vp = view_upper(v, offset);
    if (vp > 0 && offset - v->recs[vp - 1].offset < v->recs[vp - 1].len) {
        *end = v->recs[vp - 1].offset + v->recs[vp - 1].len;
        return true;
    }
    *next = vp < v->nrecs ? v->recs[vp].offset : UINT64_MAX;
    return false;
}

/* Adds the range [offset, offset + len) with these frames, less the bytes the files' records
 * or this run's ranges already cover (those resolve to the same frames: the symbolizer is the
 * same, as the identity says), so that all ranges stay disjoint. */
static int add_entry(struct symcache *c, struct sc_module *m, uint64_t offset, uint64_t len,
                     const struct sym_frame *fr, size_t n)
{
    uint64_t cur = offset, end = offset + len;
    if (end < offset)
        return 0;
    while (cur < end) {
        uint64_t skip = 0, next_main = UINT64_MAX, next_add = UINT64_MAX;
        if (view_holds(&m->view, cur, &skip, &next_main) ||
            view_holds(&m->add, cur, &skip, &next_add)) {
            cur = skip;
            continue;
        }
        size_t pos = upper_bound(m, cur);
        const struct sc_entry *prev = pos > 0 ? &m->ents[m->order[pos - 1]] : NULL;
        if (prev && cur - prev->offset < prev->len) {
            cur = prev->offset + prev->len;
            continue;
        }
        uint64_t stop = end < next_main ? end : next_main;
        stop = stop < next_add ? stop : next_add;
        if (pos < m->nents && m->ents[m->order[pos]].offset < stop)
            stop = m->ents[m->order[pos]].offset;
        if (insert_range(c, m, pos, cur, stop - cur, fr, n) < 0)
            return -1;
        cur = stop;
    }
    return 0;
}

/* First use of a module: its identity, then its file if any. */
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
    int r = read_view(m, path, &m->view, &why);
    if (r <= 0)
        m->rewrite = true;
    if (r < 0 && !c->quiet)
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
    if (r <= 0)
        return; /* the .add file serves beside a main file only */
    file_path(c, m, SC_ADD, path, sizeof path);
    if (read_view(m, path, &m->add, &why) < 0) {
        m->rewrite = m->add_bad = true;
        if (!c->quiet)
            fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n",
                    path, why);
    }
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
 * answers whose range the symbolizer cannot state (an ELF frame outside DWARF scopes), so
 * that later runs that sample other instructions of the function are served too. */
/* Does either file hold offset? (What the helper thread may ask: this run's ranges are the
 * calling thread's to change.) */
static bool held_by_files(const struct sc_module *m, uint64_t offset)
{
    return view_find(&m->view, offset) >= 0 || view_find(&m->add, offset) >= 0;
}

/* Widens [*lo, *hi) byte by byte, up to SYMCACHE_PROBE bytes each way, while the symbolizer sym
 * gives the very same frames, inside the segment and outside every range already held (by the
 * files alone when files_only: on the helper thread): for answers whose range the symbolizer
 * cannot state (an ELF frame outside DWARF scopes), so that later runs that sample other
 * instructions of the function are served too. */
static void probe_range(struct symbolizer *sym, struct sc_module *m, const struct sc_seg *seg,
                        const struct sym_frame *want, size_t n, uint64_t *lo, uint64_t *hi,
                        bool files_only)
{
    struct sym_frame got[SYM_MAX_FRAMES];
    for (int k = 0; k<SYMCACHE_PROBE && * lo> seg->start; k++) {
        uint64_t a = *lo - 1, off = a - seg->start + seg->offset;
        if ((files_only ? held_by_files(m, off) : held(m, off)) ||
            !same_frames(want, n, got, symbolizer_lookup(sym, a, got, SYM_MAX_FRAMES)))
            break;
        *lo = a;
    }
    for (int k = 0; k < SYMCACHE_PROBE && *hi < seg->end; k++) {
        uint64_t off = *hi - seg->start + seg->offset;
        if ((files_only ? held_by_files(m, off) : held(m, off)) ||
            !same_frames(want, n, got, symbolizer_lookup(sym, *hi, got, SYM_MAX_FRAMES)))
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

/* Says once that a units file (suffix ".units") or a fixed file (".syms") cannot serve. */
static void complain_of(struct symcache *c, struct sc_module *m, const char *why,
                        const char *suffix)
{
    bool *said = strcmp(suffix, ".syms") == 0 ? &m->syms_bad : &m->units_bad;
    if (!why || *said)
        return;
    *said = true;
    if (!c->quiet) {
        char path[PATH_MAX];
        file_path(c, m, suffix, path, sizeof path);
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
    }
}

static void units_complain(struct symcache *c, struct sc_module *m, const char *why)
{
    bool add = m && m->units && unitcache_add_damaged(m->units);
    complain_of(c, m, why, add ? ".units.add" : ".units");
}

static bool store_get_unlocked(void *ctx, uint64_t addr, uint64_t cu_off,
                               const struct sym_unit_fn **fns, size_t *n, bool *deep)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_get(u, cu_off, fns, n, deep, &why);
    units_complain(c, m, why);
    return found;
}

static bool store_unit_at_unlocked(void *ctx, uint64_t addr, uint64_t pc, uint64_t *cu_off)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_unit_at(u, pc, cu_off, &why);
    units_complain(c, m, why);
    return found;
}

static bool store_get_symbols_unlocked(void *ctx, uint64_t addr, const struct sym_symbol **v,
                                       size_t *n)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    bool found = u && unitcache_symbols(u, v, n, &why);
    if (m)
        complain_of(c, m, why, ".syms");
    return found;
}

static bool store_get_aranges_unlocked(void *ctx, uint64_t addr, struct aranges *out)
{
    struct symcache *c = ctx;
    struct sc_module *m;
    struct unitcache *u = units_of(c, addr, &m);
    const char *why = NULL;
    struct unitcache_aranges a;
    bool found = u && unitcache_aranges(u, &a, &why);
    if (m)
        complain_of(c, m, why, ".syms");
    if (found) /* the store's arrays, lent: the symbolizer frees none of them */
        *out = (struct aranges){(uint64_t *)a.start, (uint64_t *)a.unit, a.n, a.last_end};
    return found;
}

static void store_put_aranges_unlocked(void *ctx, uint64_t addr, const struct aranges *a)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put_aranges(u, &(struct unitcache_aranges){a->start, a->unit, a->n, a->last_end});
}

static bool store_get_sequences_unlocked(void *ctx, uint64_t addr, uint64_t cu_off,
                                         const struct dwf_seq **v, size_t *n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    return u && unitcache_get_sequences(u, cu_off, v, n);
}

static void store_put_sequences_unlocked(void *ctx, uint64_t addr, uint64_t cu_off,
                                         const struct dwf_seq *v, size_t n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put_sequences(u, cu_off, v, n);
}

static bool store_get_abbrevs_unlocked(void *ctx, uint64_t addr, uint64_t cu_off,
                                       const uint32_t **v, size_t *n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    return u && unitcache_get_abbrevs(u, cu_off, v, n);
}

static void store_put_abbrevs_unlocked(void *ctx, uint64_t addr, uint64_t cu_off, const uint32_t *v,
                                       size_t n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put_abbrevs(u, cu_off, v, n);
}

static void store_put_symbols_unlocked(void *ctx, uint64_t addr, struct sym_symbol *v, size_t n)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put_symbols(u, v, n);
    else
        free(v);
}

static void store_put_unlocked(void *ctx, uint64_t addr, uint64_t cu_off,
                               const struct sym_unit_fn *fns, size_t n, bool deep)
{
    struct sc_module *m;
    struct unitcache *u = units_of(ctx, addr, &m);
    if (u)
        unitcache_put(u, cu_off, fns, n, deep);
}

/* Marks record i of v used by this run (kept when the file is trimmed). */
static void mark_used(struct sc_view *v, size_t i)
{
    if (!v->used)
        v->used = calloc(v->nrecs, 1);
    if (v->used)
        v->used[i] = 1;
}

/* v's frame of a function DIE by key (struct sc_key). */
static bool view_key_frame(struct sc_view *v, uint64_t key, struct sym_frame *out)
{
    size_t lo = 0, hi = v->nkeys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->keys[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == v->nkeys || v->keys[lo].key != key)
        return false;
    long i = view_find(v, v->keys[lo].offset);
    if (i < 0 || v->keys[lo].k >= v->recs[i].n)
        return false;
    struct sym_frame fr[SYM_MAX_FRAMES];
    view_frames(v, (size_t)i, fr);
    *out = fr[v->keys[lo].k];
    mark_used(v, (size_t)i); /* keeps the record (and so the key) when the file is trimmed */
    return true;
}

/* The files' frame of a function DIE by key. */
static bool store_get_frame_unlocked(void *ctx, uint64_t addr, uint64_t key, struct sym_frame *out)
{
    struct symcache *c = ctx;
    const struct sc_seg *seg;
    struct sc_module *m = find_module(c, addr, &seg);
    return m && m->state == SC_READY &&
           (view_key_frame(&m->view, key, out) || view_key_frame(&m->add, key, out));
}

static bool store_has_frames_unlocked(void *ctx, uint64_t addr)
{
    const struct sc_seg *seg;
    struct sc_module *m = find_module(ctx, addr, &seg);
    return m && m->state == SC_READY && (m->view.nkeys > 0 || m->add.nkeys > 0);
}

/* --- the store's callbacks, under the store's lock while a helper thread runs ------------- */

static void store_lock(struct symcache *c)
{
    if (c->locking)
        pthread_mutex_lock(&c->store_lock);
}

static void store_unlock(struct symcache *c)
{
    if (c->locking)
        pthread_mutex_unlock(&c->store_lock);
}

#define STORE_LOCKED(type, name, params, args)                                                     \
    static type name params                                                                        \
    {                                                                                              \
        store_lock(ctx);                                                                           \
        type r = name##_unlocked args;                                                             \
        store_unlock(ctx);                                                                         \
        return r;                                                                                  \
    }
#define STORE_LOCKED_VOID(name, params, args)                                                      \
    static void name params                                                                        \
    {                                                                                              \
        store_lock(ctx);                                                                           \
        name##_unlocked args;                                                                      \
        store_unlock(ctx);                                                                         \
    }

STORE_LOCKED(bool, store_get,
             (void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn **fns, size_t *n,
              bool *deep),
             (ctx, addr, cu_off, fns, n, deep))
STORE_LOCKED(bool, store_unit_at, (void *ctx, uint64_t addr, uint64_t pc, uint64_t *cu_off),
             (ctx, addr, pc, cu_off))
STORE_LOCKED(bool, store_get_symbols,
             (void *ctx, uint64_t addr, const struct sym_symbol **v, size_t *n), (ctx, addr, v, n))
STORE_LOCKED(bool, store_get_aranges, (void *ctx, uint64_t addr, struct aranges *out),
             (ctx, addr, out))
STORE_LOCKED_VOID(store_put_aranges, (void *ctx, uint64_t addr, const struct aranges *a),
                  (ctx, addr, a))
STORE_LOCKED(bool, store_get_sequences,
             (void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq **v, size_t *n),
             (ctx, addr, cu_off, v, n))
STORE_LOCKED_VOID(store_put_sequences,
                  (void *ctx, uint64_t addr, uint64_t cu_off, const struct dwf_seq *v, size_t n),
                  (ctx, addr, cu_off, v, n))
STORE_LOCKED(bool, store_get_abbrevs,
             (void *ctx, uint64_t addr, uint64_t cu_off, const uint32_t **v, size_t *n),
             (ctx, addr, cu_off, v, n))
STORE_LOCKED_VOID(store_put_abbrevs,
                  (void *ctx, uint64_t addr, uint64_t cu_off, const uint32_t *v, size_t n),
                  (ctx, addr, cu_off, v, n))
STORE_LOCKED_VOID(store_put_symbols, (void *ctx, uint64_t addr, struct sym_symbol *v, size_t n),
                  (ctx, addr, v, n))
STORE_LOCKED_VOID(store_put,
                  (void *ctx, uint64_t addr, uint64_t cu_off, const struct sym_unit_fn *fns,
                   size_t n, bool deep),
                  (ctx, addr, cu_off, fns, n, deep))
STORE_LOCKED(bool, store_get_frame, (void *ctx, uint64_t addr, uint64_t key, struct sym_frame *out),
             (ctx, addr, key, out))
STORE_LOCKED(bool, store_has_frames, (void *ctx, uint64_t addr), (ctx, addr))

static struct sym_unit_store unit_store(struct symcache *c)
{
    return (struct sym_unit_store){store_get,           store_put,
                                   store_unit_at,       store_get_symbols,
                                   store_put_symbols,   store_get_frame,
                                   store_has_frames,    store_get_sequences,
                                   store_put_sequences, store_get_aranges,
                                   store_put_aranges,   store_get_abbrevs,
                                   store_put_abbrevs,   c};
}

/* Notes keys[0..n) of the frames of the miss at file offset (symbolizer_frame_keys of its own
 * lookup: taken before any probing, whose lookups give keys of their own). */
static void note_keys(struct sc_module *m, uint64_t offset, const uint64_t *keys, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (!keys[k])
            continue;
        if (ARRAY_GROW(m->keys, m->nkeys, m->capkeys) < 0)
            return;
        m->keys[m->nkeys++] = (struct sc_key){keys[k], offset, (uint32_t)k, 0};
    }
}

/* Did the symbolizer place every frame of an answer in module m? Only those are cached. */
static bool all_in_module(const struct sc_module *m, const struct sym_frame *fr, size_t n)
{
    bool same = true;
    for (size_t i = 0; i < n; i++)
        same &= fr[i].module && strcmp(fr[i].module, m->base) == 0;
    return same;
}

/* The symbolizer's range [*lo, *hi) around addr, cut to the segment and to SYMCACHE_MAX_RANGE. */
static void clamp_range(const struct sc_seg *seg, uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    *lo = *lo > seg->start ? *lo : seg->start;
    *hi = *hi < seg->end ? *hi : seg->end;
    if (addr - *lo > SYMCACHE_MAX_RANGE / 2)
        *lo = addr - SYMCACHE_MAX_RANGE / 2;
    if (*hi - addr > SYMCACHE_MAX_RANGE / 2)
        *hi = addr + SYMCACHE_MAX_RANGE / 2;
}

/* Records a miss of module m (state SC_READY) resolved to fr[0..n) for [lo, hi) (cut and
 * probed), with its frames' keys. */
static void record_miss(struct symcache *c, struct sc_module *m, const struct sc_seg *seg,
                        uint64_t offset, const struct sym_frame *fr, size_t n, uint64_t lo,
                        uint64_t hi, const uint64_t *keys)
{
    if (add_entry(c, m, lo - seg->start + seg->offset, hi - lo, fr, n) < 0) {
        store_lock(c);          /* (the store's callbacks read the state) */
        m->state = SC_UNCACHED; /* out of memory: stop caching this module */
        store_unlock(c);
    } else
        note_keys(m, offset, keys, n);
}

/* Opens the calling thread's symbolizer (on the first miss, or for symcache_prepare). */
static void open_main(struct symcache *c)
{
    if (c->sym || c->open_failed)
        return;
    c->sym = c->open(c->open_ctx, c->err, sizeof c->err);
    c->open_failed = c->sym == NULL;
    if (c->sym && c->dir) {
        struct sym_unit_store st = unit_store(c);
        symbolizer_set_unit_store(c->sym, &st);
    }
}

/* --- the helper thread ------------------------------------------------------------------ */

/* Resolves miss a on the helper thread, as symcache_resolve does on the calling thread: the
 * lookup, its keys, and the probing of a one-byte answer (against the files' ranges only). */
static void resolve_ahead(struct symcache *c, struct symbolizer *sym, struct sc_ahead *a)
{
    struct sym_frame out[SYM_MAX_FRAMES];
    uint64_t keys[SYM_MAX_FRAMES], lo, hi;
    size_t n = symbolizer_lookup_range(sym, a->addr, out, SYM_MAX_FRAMES, &lo, &hi);
    size_t nk = symbolizer_frame_keys(sym, keys, n);
    const struct sc_seg *seg = NULL;
    struct sc_module *m = find_module(c, a->addr, &seg);
    /* its files as symcache_prepare left them (read there, never changed after) */
    if (m && a->cached && n > 0 && all_in_module(m, out, n)) {
        clamp_range(seg, a->addr, &lo, &hi);
        if (hi - lo == 1)
            probe_range(sym, m, seg, out, n, &lo, &hi, true);
    }
    a->fr = malloc(n * sizeof *a->fr);
    a->keys = calloc(n ? n : 1, sizeof *a->keys);
    if (!a->fr || !a->keys || n == 0) {
        free(a->fr);
        free(a->keys);
        a->fr = NULL;
        a->keys = NULL;
        return; /* the calling thread resolves it */
    }
    memcpy(a->fr, out, n * sizeof *out);
    memcpy(a->keys, keys, nk * sizeof *keys);
    a->lo = lo;
    a->hi = hi;
    a->n = n;
}

static double thread_cpu_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
        return 0;
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* The helper thread: its symbolizer's store (the raw reader's hints are per thread), then the
 * misses from the highest down, each claimed first; it stops at the first the calling thread
 * has claimed. */
static void *helper_main(void *arg)
{
    struct symcache *c = arg;
    struct sc_helper *h = &c->helper;
    double cpu0 = thread_cpu_ms();
    if (c->dir) {
        struct sym_unit_store st = unit_store(c);
        symbolizer_set_unit_store(h->sym, &st);
    }
    for (size_t i = h->n; i-- > 0;) {
        unsigned char free_state = AHEAD_FREE; /* the last one came claimed for it */
        if (i + 1 < h->n &&
            !atomic_compare_exchange_strong(&h->v[i].state, &free_state, AHEAD_HELPER))
            break;
        resolve_ahead(c, h->sym, &h->v[i]);
        h->took += h->v[i].n > 0;
        atomic_store_explicit(&h->v[i].state, AHEAD_DONE, memory_order_release);
    }
    dwraw_save_hints(); /* into its symbolizer, saved with it */
    dwraw_forget();     /* this thread's kept unit */
    h->cpu_ms = thread_cpu_ms() - cpu0;
    return NULL;
}

/* Stops the helper (it finishes the miss in hand) and waits for it. */
static void helper_stop(struct symcache *c)
{
    struct sc_helper *h = &c->helper;
    if (!h->running)
        return;
    for (; h->pos < h->n; h->pos++) { /* nothing more for it */
        unsigned char free_state = AHEAD_FREE;
        atomic_compare_exchange_strong(&h->v[h->pos].state, &free_state, AHEAD_MAIN);
    }
    pthread_join(h->tid, NULL);
    h->running = false;
    c->locking = false;
    c->stats.helper_misses = h->took;
    c->stats.helper_cpu_ms = h->cpu_ms;
}

/* The calling thread is at addr (it asks addresses in increasing order): the misses before it
 * are passed (claimed, so that the helper stops at them); past the last, the helper stops. */
static void helper_pass(struct symcache *c, uint64_t addr)
{
    struct sc_helper *h = &c->helper;
    for (; h->pos < h->n && h->v[h->pos].addr < addr; h->pos++) {
        unsigned char free_state = AHEAD_FREE;
        atomic_compare_exchange_strong(&h->v[h->pos].state, &free_state, AHEAD_MAIN);
    }
    if (h->pos == h->n)
        helper_stop(c);
}

/* The helper's answer for addr, when it has one (waiting for it while the helper is at it);
 * NULL when the calling thread is to resolve addr itself (claimed for it here when it is one of
 * the helper's misses). */
static const struct sc_ahead *helper_take(struct symcache *c, uint64_t addr)
{
    struct sc_helper *h = &c->helper;
    if (!h->running || h->pos == h->n || h->v[h->pos].addr != addr)
        return NULL;
    struct sc_ahead *a = &h->v[h->pos];
    unsigned char st = AHEAD_FREE;
    if (!atomic_compare_exchange_strong(&a->state, &st, AHEAD_MAIN)) {
        for (unsigned spin = 0; atomic_load_explicit(&a->state, memory_order_acquire) != AHEAD_DONE;
             spin++) {
            if (spin < 64)
                sched_yield();
            else
                nanosleep(&(struct timespec){0, 20000}, NULL);
        }
    } else {
        a = NULL;
    }
    helper_pass(c, addr + 1);
    return a && a->n ? a : NULL;
}

void symcache_prepare(void *cache, const uint64_t *addrs, size_t n)
{
    struct symcache *c = cache;
    struct sc_helper *h = &c->helper;
    if (c->threads < 2 || h->v || c->sym || c->open_failed)
        return;
    if (!(h->v = calloc(n ? n : 1, sizeof *h->v)))
        return;
    size_t nmiss = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sc_seg *seg = NULL;
        struct sc_module *m = find_module(c, addrs[i], &seg);
        if (m && m->state == SC_UNLOADED)
            load_module(c, m); /* here, before any helper reads the module */
        bool cached = m && m->state == SC_READY;
        if (!cached || !held(m, addrs[i] - seg->start + seg->offset))
            h->v[nmiss++] = (struct sc_ahead){.addr = addrs[i], .cached = cached};
    }
    h->n = nmiss;
    if (nmiss < c->min_split || nmiss < 2)
        return; /* (h->v stays: symcache_prepare does its work once) */
    /* Both symbolizers open here, before either has read a module's file (hence none may be
     * open yet): libelf's private mapping of a file shows in /proc/self/maps under the module's
     * name, and a symbolizer opened after that took the mapping for part of the module (libc
     * from 62 MB below its load address, and every libc address then named libc.so.6+offset).
     * The helper's is opened on this thread and handed over. */
    open_main(c);
    char err[512];
    if (!c->sym || !(h->sym = c->open(c->open_ctx, err, sizeof err)))
        return; /* the calling thread resolves every miss */
    /* one bound for the two: the helper's heap and its own mapping of the pages both read
     * (strings, line programs, abbreviations) count twice, so the debug pages give way sooner */
    uint64_t limit = symbolizer_rss_limit_kb(c->sym), less = symbolizer_rss_budget_kb(c->sym) / 4;
    limit = limit > less ? limit - less : limit;
    symbolizer_set_rss_limit_kb(c->sym, limit);
    symbolizer_set_rss_limit_kb(h->sym, limit);
    if (pthread_mutex_init(&c->store_lock, NULL) != 0)
        return;
    /* the helper's first miss is its own from the start: it does some of the work, however the
     * threads are scheduled */
    atomic_store(&h->v[nmiss - 1].state, AHEAD_HELPER);
    c->locking = true;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* the helper takes none of the program's signals */
    h->running = pthread_create(&h->tid, NULL, helper_main, c) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!h->running)
        c->locking = false;
}

size_t symcache_resolve(void *cache, uint64_t addr, struct sym_frame *out, size_t max)
{
    static const struct sym_frame unknown = {"[unknown]", NULL, NULL, NULL, -1, false};
    struct symcache *c = cache;
    if (max == 0)
        return 0;
    if (c->helper.running && max == SYM_MAX_FRAMES)
        helper_pass(c, addr);
    const struct sc_seg *seg = NULL;
    struct sc_module *m = find_module(c, addr, &seg);
    uint64_t offset = m ? addr - seg->start + seg->offset : 0;
    if (m && m->state == SC_UNLOADED)
        load_module(c, m);
    if (m && m->state == SC_READY) {
        struct sc_view *v = &m->view;
        long i = view_find(v, offset);
        if (i < 0)
            i = view_find(v = &m->add, offset);
        if (i >= 0) {
            mark_used(v, (size_t)i);
            m->hit = true;
            c->stats.hits++;
            struct sym_frame fr[SYM_MAX_FRAMES];
            size_t n = view_frames(v, (size_t)i, fr);
            return copy_frames(fr, n, out, max);
        }
        struct sc_entry *e = find_entry(m, offset);
        if (e) {
            c->stats.misses++; /* a range this run probed: libdw's answer all the same */
            return copy_frames(m->frames + e->first, e->n, out, max);
        }
    }
    const struct sc_ahead *a = max == SYM_MAX_FRAMES ? helper_take(c, addr) : NULL;
    if (a) {
        c->stats.misses++;
        if (m && m->state == SC_READY && all_in_module(m, a->fr, a->n))
            record_miss(c, m, seg, offset, a->fr, a->n, a->lo, a->hi, a->keys);
        return copy_frames(a->fr, a->n, out, max);
    }
    open_main(c);
    if (!c->sym) {
        out[0] = unknown;
        return 1;
    }
    c->stats.misses++;
    uint64_t lo, hi, keys[SYM_MAX_FRAMES];
    size_t n = symbolizer_lookup_range(c->sym, addr, out, max, &lo, &hi);
    symbolizer_frame_keys(c->sym, keys, n);
    if (m && m->state == SC_READY && n > 0 && n <= SYM_MAX_FRAMES && all_in_module(m, out, n)) {
        /* the symbolizer's range, within this segment; a single byte is widened by probing */
        clamp_range(seg, addr, &lo, &hi);
        if (hi - lo == 1)
            probe_range(c->sym, m, seg, out, n, &lo, &hi, false);
        record_miss(c, m, seg, offset, out, n, lo, hi, keys);
    }
    return n;
}

/* --- writing ---------------------------------------------------------------------------- */

/* The strings of a file being written: NUL-terminated, each once (found by content through
 * an open-addressing table of offset + 1). The strings of the file read stay where they were
 * read (base, its whole words up to own_at); buf holds the rest: the base's last partial
 * word and every string added, from offset own_at on. */
struct blob {
    const char *base;
    size_t own_at;
    char *buf;
    size_t len, cap; /* len: of all the strings; cap: of buf */
    uint32_t *slots;
    size_t nslots, nused;
};

/* The string at offset off. */
static const char *blob_at(const struct blob *b, size_t off)
{
    return off < b->own_at ? b->base + off : b->buf + (off - b->own_at);
}

/* The slot for s (len bytes): holding its reference, or empty. */
static uint32_t *blob_slot(const struct blob *b, const char *s, size_t len)
{
    for (size_t i = hash_fast(s, len) & (b->nslots - 1);; i = (i + 1) & (b->nslots - 1)) {
        uint32_t ref = b->slots[i];
        if (!ref)
            return &b->slots[i];
        const char *t = blob_at(b, ref - 1);
        if (strncmp(t, s, len) == 0 && t[len] == '\0')
            return &b->slots[i];
    }
}

static int blob_grow(struct blob *b)
{
    size_t n = b->nslots ? 2 * b->nslots : 1024;
    uint32_t *old = b->slots, *v = calloc(n, sizeof *v);
    if (!v)
        return -1;
    size_t oldn = b->nslots;
    b->slots = v;
    b->nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i]) {
            const char *s = blob_at(b, old[i] - 1);
            *blob_slot(b, s, strlen(s)) = old[i];
        }
    free(old);
    return 0;
}

/* Room for bytes of strings and nstrs strings without growing: the strings of a file read
 * and this run's new ones are known before writing (doubling from small took copies and a
 * rehash per step, a fifth of the page faults of a run's save). */
static int blob_reserve(struct blob *b, size_t bytes, size_t nstrs)
{
    size_t n = 1024;
    while (n < 2 * (nstrs + 1))
        n *= 2;
    if (!(b->buf = malloc(bytes)) || !(b->slots = calloc(n, sizeof *b->slots))) {
        free(b->buf);
        *b = (struct blob){0};
        return -1;
    }
    b->cap = bytes;
    b->nslots = n;
    return 0;
}

/* The reference (offset + 1) of s in b, added when new; 0 for NULL; UINT32_MAX when out of
 * memory. */
static uint32_t blob_ref(struct blob *b, const char *s)
{
    if (!s)
        return 0;
    if ((b->nused + 1) * 2 > b->nslots && blob_grow(b) < 0)
        return UINT32_MAX;
    size_t len = strlen(s);
    uint32_t *slot = blob_slot(b, s, len), found = *slot;
    if (found != 0)
        return found;
    if (b->len + len + 1 > UINT32_MAX - 1)
        return UINT32_MAX;
    size_t at = b->len - b->own_at; /* in buf */
    if (at + len + 1 > b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4096;
        while (cap < at + len + 1)
            cap *= 2;
        char *nb = realloc(b->buf, cap);
        if (!nb)
            return UINT32_MAX;
        b->buf = nb;
        b->cap = cap;
    }
    memcpy(b->buf + at, s, len + 1);
    *slot = (uint32_t)(b->len + 1);
    b->len += len + 1;
    b->nused++;
    return *slot;
}

/* Starts b (empty, reserved) with every string of v where it is, so that v's references
 * stay valid: only the last partial word is copied (v->strs is 8-byte aligned in the file). */
static int blob_seed(struct blob *b, const struct sc_view *v)
{
    size_t whole = v->strbytes & ~(size_t)7;
    if (v->strbytes == 0)
        return 0;
    if (b->cap < v->strbytes - whole)
        return -1;
    b->base = v->strs;
    b->own_at = whole;
    memcpy(b->buf, v->strs + whole, v->strbytes - whole);
    b->len = v->strbytes;
    for (size_t off = 0; off < v->strbytes;) {
        const char *s = v->strs + off;
        size_t len = strlen(s);
        if ((b->nused + 1) * 2 > b->nslots && blob_grow(b) < 0)
            return -1;
        uint32_t *slot = blob_slot(b, s, len);
        if (*slot)
            return -1; /* a file's strings are unique: this one is there already */
        *slot = (uint32_t)(off + 1);
        b->nused++;
        off += len + 1;
    }
    return 0;
}

/* One record of the file being written: record idx of the file on disk, or (fresh) a piece
 * of this run's range idx. */
struct sc_out {
    uint64_t offset;
    uint32_t len, idx;
    bool fresh;
};

static int by_offset(const void *a, const void *b)
{
    const struct sc_out *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Was the record of disk at this offset used by this run (per the file it read)? */
static bool used_by_run(const struct sc_module *m, uint64_t offset)
{
    long i = view_find(&m->view, offset);
    return i >= 0 && m->view.used && m->view.used[i] && m->view.recs[i].offset == offset;
}

/* The records to write: every record of disk (or, used_only, those this run used) and this
 * run's ranges less the bytes disk covers (another writer may have added them), by offset.
 * malloc'd, or NULL. */
static struct sc_out *merge_records(const struct sc_module *m, const struct sc_view *disk,
                                    bool used_only, size_t *n)
{
    size_t cap = disk->nrecs + 2 * m->nents + 1, k = 0;
    struct sc_out *out = malloc(cap * sizeof *out);
    if (!out)
        return NULL;
    for (size_t i = 0; i < disk->nrecs; i++)
        if (!used_only || used_by_run(m, disk->recs[i].offset))
            out[k++] = (struct sc_out){disk->recs[i].offset, disk->recs[i].len, (uint32_t)i, false};
    for (size_t i = 0; i < m->nents; i++) {
        const struct sc_entry *e = &m->ents[i];
        uint64_t cur = e->offset, end = e->offset + e->len;
        while (cur < end) {
            size_t vp = view_upper(disk, cur);
            if (vp > 0 && cur - disk->recs[vp - 1].offset < disk->recs[vp - 1].len) {
                cur = disk->recs[vp - 1].offset + disk->recs[vp - 1].len;
                continue;
            }
            uint64_t stop = vp < disk->nrecs && disk->recs[vp].offset < end ? disk->recs[vp].offset
                                                                             : end;
            if (k == cap) {
                struct sc_out *g = realloc(out, 2 * cap * sizeof *out);
                if (!g) {
                    free(out);
                    return NULL;
                }
                out = g;
                cap *= 2;
            }
            out[k++] = (struct sc_out){cur, (uint32_t)(stop - cur), (uint32_t)i, true};
            cur = stop;
        }
    }
    array_sort(out, k, sizeof *out, by_offset);
    *n = k;
    return out;
}

/* A file being written, in its parts: records, frames, keys, strings. */
struct sc_parts {
    struct sc_key *kv;
    size_t nk;
    struct sc_rec *rv;
    size_t nr;
    struct sc_frec *fv;
    size_t nf;
    struct blob b;
    size_t len; /* of the whole file */
};

static void free_parts(struct sc_parts *p)
{
    free(p->kv);
    free(p->rv);
    free(p->fv);
    free(p->b.buf);
    free(p->b.slots);
    *p = (struct sc_parts){0};
}

/* Was frame k of the record holding offset written? */
static bool key_written(const struct sc_parts *p, uint64_t offset, uint32_t k)
{
    size_t i = rec_upper(p->rv, p->nr, offset);
    return i > 0 && offset - p->rv[i - 1].offset < p->rv[i - 1].len && k < p->rv[i - 1].n;
}

/* The keys of the file being written: this run's and the file read's whose frame was written,
 * sorted, each key once, at most room of them. False when out of memory. */
static bool format_keys(const struct sc_module *m, const struct sc_view *disk, struct sc_parts *p,
                        size_t room)
{
    size_t n = m->nkeys + disk->nkeys;
    if (n == 0)
        return true;
    if (!(p->kv = malloc(n * sizeof *p->kv)))
        return false;
    memcpy(p->kv, m->keys, m->nkeys * sizeof *p->kv);
    if (disk->nkeys)
        memcpy(p->kv + m->nkeys, disk->keys, disk->nkeys * sizeof *p->kv);
    if (sort_by_u64_key(p->kv, n, sizeof *p->kv) < 0)
        return false;
    for (size_t i = 0; i < n && p->nk < room; i++)
        if ((p->nk == 0 || p->kv[p->nk - 1].key != p->kv[i].key) &&
            key_written(p, p->kv[i].offset, p->kv[i].k))
            p->kv[p->nk++] = p->kv[i];
    return true;
}

/* The parts of the file for these records; false when out of memory. When bounded, stops
 * before the record that would take it past SYMCACHE_MAX_FILE_BYTES, and keeps only the keys
 * that still fit. */
static bool format_file(const struct sc_module *m, const struct sc_view *disk,
                        const struct sc_out *recs, size_t nrecs, bool seeded, bool bounded,
                        struct sc_parts *p)
{
    *p = (struct sc_parts){0};
    struct blob *b = &p->b;
    size_t ident = strlen(m->header);
    /* the strings there can be: the file's and those of this run's frames */
    size_t bytes = (seeded ? 8 : disk->strbytes) + 8, nstrs = 0;
    for (const char *s = disk->strs, *e = s ? s + disk->strbytes : s; s && s < e; nstrs++) {
        const char *z = memchr(s, '\0', (size_t)(e - s));
        s = z ? z + 1 : e;
    }
    for (size_t i = 0; i < m->nframes; i++) {
        const struct sym_frame *fr = &m->frames[i];
        const char *v[4] = {fr->name, fr->source_file, fr->source_path, fr->module};
        for (int k = 0; k < 4; k++)
            if (v[k]) {
                bytes += strlen(v[k]) + 1;
                nstrs++;
            }
    }
    size_t capf = disk->nframes + m->nframes + 1;
    if (!(p->rv = malloc((nrecs + 1) * sizeof *p->rv)) ||
        !(p->fv = malloc(capf * sizeof *p->fv)) || blob_reserve(b, pad8(bytes), nstrs) < 0)
        goto fail;
    if (seeded && blob_seed(b, disk) < 0) {
        /* not this writer's (strings repeated): every string by content */
        b->len = b->nused = b->own_at = 0;
        b->base = NULL;
        memset(b->slots, 0, b->nslots * sizeof *b->slots);
        seeded = false;
    }
    for (size_t i = 0; i < nrecs; i++) {
        const struct sc_out *o = &recs[i];
        struct sym_frame fr[SYM_MAX_FRAMES];
        size_t n;
        if (o->fresh) {
            n = m->ents[o->idx].n;
            memcpy(fr, m->frames + m->ents[o->idx].first, n * sizeof *fr);
        } else {
            n = view_frames(disk, o->idx, fr);
        }
        size_t size = sizeof(struct sc_head) + ident + (p->nr + 1) * sizeof *p->rv +
                      (p->nf + n) * sizeof *p->fv + b->len;
        if (bounded && p->nr > 0 && size > SYMCACHE_MAX_FILE_BYTES)
            break;
        p->rv[p->nr++] = (struct sc_rec){o->offset, o->len, (uint32_t)p->nf, (uint32_t)n, 0};
        for (size_t k = 0; k < n && seeded && !o->fresh; k++) {
            if (ARRAY_GROW(p->fv, p->nf, capf) < 0) /* the strings are where they were */
                goto fail;
            p->fv[p->nf++] = disk->frames[disk->recs[o->idx].first + k];
        }
        for (size_t k = 0; k < n && !(seeded && !o->fresh); k++) {
            if (ARRAY_GROW(p->fv, p->nf, capf) < 0)
                goto fail;
            struct sc_frec *f = &p->fv[p->nf++];
            *f = (struct sc_frec){blob_ref(b, fr[k].name),        blob_ref(b, fr[k].source_file),
                                  blob_ref(b, fr[k].source_path), blob_ref(b, fr[k].module),
                                  (int32_t)fr[k].line,            fr[k].inlined};
            if (f->name == UINT32_MAX || f->file == UINT32_MAX || f->path == UINT32_MAX ||
                f->module == UINT32_MAX)
                goto fail;
        }
    }
    /* the strings end padded with zeros to whole words */
    size_t own = pad8(b->len) - b->own_at;
    if (b->cap < own) {
        char *nb = realloc(b->buf, own);
        if (!nb)
            goto fail;
        b->buf = nb;
        b->cap = own;
    }
    if (b->buf)
        memset(b->buf + (b->len - b->own_at), 0, own - (b->len - b->own_at));
    p->len = sizeof(struct sc_head) + pad8(ident) + p->nr * sizeof *p->rv +
             p->nf * sizeof *p->fv + pad8(b->len) + 8;
    size_t room = !bounded ? SIZE_MAX
                  : p->len < SYMCACHE_MAX_FILE_BYTES
                      ? (SYMCACHE_MAX_FILE_BYTES - p->len) / sizeof(struct sc_key)
                      : 0;
    if (!format_keys(m, disk, p, room))
        goto fail;
    p->len += p->nk * sizeof *p->kv;
    return true;
fail:
    free_parts(p);
    return false;
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

/* Replaces one of m's files, <build-id><suffix>: under the module's lock (<build-id>.lock),
 * write(c, m, path, tmp) re-reads what other writers left in path, writes the merge to tmp
 * (<path>.tmp.<pid>) and renames it over path. False when the lock cannot be had or write
 * fails. */
static bool with_module_lock(struct symcache *c, struct sc_module *m, const char *suffix,
                             bool (*write)(struct symcache *c, struct sc_module *m,
                                           const char *path, const char *tmp))
{
    char path[PATH_MAX], lock[PATH_MAX], tmp[PATH_MAX + 32];
    file_path(c, m, suffix, path, sizeof path);
    file_path(c, m, ".lock", lock, sizeof lock);
    int lfd = lock_file(lock);
    if (lfd < 0)
        return false;
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    bool ok = write(c, m, path, tmp);
    close(lfd); /* releases the lock */
    return ok;
}

/* Writes the file of p to tmp, part by part with its hash taken on the way (no copy of the
 * whole file), and renames it to path. */
static bool write_parts(const struct sc_module *m, const struct sc_parts *p, const char *path,
                        const char *tmp)
{
    size_t ident = strlen(m->header);
    struct sc_head h = {0};
    magic_field(h.magic);
    h.ident_len = ident;
    h.nrecs = p->nr;
    h.nframes = p->nf;
    h.strbytes = p->b.len;
    h.nkeys = p->nk;
    uint64_t *id = calloc(pad8(ident) / 8 + 1, 8);
    if (!id)
        return false;
    memcpy(id, m->header, ident);
    const void *part[] = {&h, id, p->rv, p->fv, p->kv, p->b.base, p->b.buf};
    size_t size[] = {sizeof h,
                     pad8(ident),
                     p->nr * sizeof *p->rv,
                     p->nf * sizeof *p->fv,
                     p->nk * sizeof *p->kv,
                     p->b.own_at,
                     pad8(p->b.len) - p->b.own_at};
    struct unitcache_hash_state hs;
    unitcache_hash_init(&hs);
    for (size_t i = 0; i < 7; i++)
        if (size[i])
            unitcache_hash_step(&hs, part[i], size[i] / 8);
    uint64_t sum = unitcache_hash_end(&hs);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    bool ok = fd >= 0;
    for (size_t i = 0; i < 7 && ok; i++)
        ok = size[i] == 0 || write_all(fd, part[i], size[i]) == 0;
    ok = ok && write_all(fd, (const char *)&sum, 8) == 0;
    if (fd >= 0)
        ok &= close(fd) == 0;
    ok = ok && fs_replace(tmp, path) == 0;
    if (!ok && fd >= 0)
        unlink(tmp);
    free(id);
    return ok;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The file at path as it is now, in *out: mine (what this run read) when it is still that file
 * (files are replaced by rename: the same inode, size and mtime), else read into *scratch.
 * Returns read_view's answer (1: a file of m; 0: none, or stale; -1: damaged, said in one line
 * unless said already). */
static int current_view(struct symcache *c, const struct sc_module *m, const struct sc_view *mine,
                        const char *path, bool said, struct sc_view *scratch,
                        const struct sc_view **out)
{
    struct stat st;
    const char *why;
    *out = scratch;
    if (mine->buf && stat(path, &st) == 0 && same_file(&st, &mine->st)) {
        *scratch = (struct sc_view){0};
        *out = mine;
        return 1;
    }
    int r = read_view(m, path, scratch, &why);
    if (r < 0 && !c->quiet && !said)
        fprintf(stderr, "profreg: ignoring the symbol cache %s (%s); it will be rewritten\n", path,
                why);
    return r;
}

/* Writes path (through tmp): the records of disk and this run's ranges, with their keys. */
static bool write_merged(const struct sc_module *m, const struct sc_view *disk, const char *path,
                         const char *tmp)
{
    size_t n = 0;
    struct sc_parts p = {0};
    struct sc_out *recs = merge_records(m, disk, false, &n);
    bool ok = recs && format_file(m, disk, recs, n, true, false, &p);
    if (ok && p.len > SYMCACHE_MAX_FILE_BYTES) {
        /* too large: the records this run used, then the first that fit */
        free_parts(&p);
        free(recs);
        recs = merge_records(m, disk, true, &n);
        ok = recs && format_file(m, disk, recs, n, false, true, &p);
    }
    ok = ok && write_parts(m, &p, path, tmp);
    free_parts(&p);
    free(recs);
    return ok;
}

/* Makes the ranges and keys of v this run's (strings interned), less what the main file read
 * holds: so that the main file, rewritten, holds them. False when out of memory. */
static bool take_ranges(struct symcache *c, struct sc_module *m, const struct sc_view *v)
{
    const struct sc_view from = *v; /* (v may be m->add) */
    struct sc_view kept = m->add;   /* whose records are not to be skipped now */
    m->add = (struct sc_view){0};
    bool ok = true;
    for (size_t i = 0; i < from.nrecs && ok; i++) {
        struct sym_frame fr[SYM_MAX_FRAMES];
        size_t n = view_frames(&from, i, fr);
        ok = add_entry(c, m, from.recs[i].offset, from.recs[i].len, fr, n) == 0;
    }
    for (size_t i = 0; i < from.nkeys && ok; i++) {
        ok = ARRAY_GROW(m->keys, m->nkeys, m->capkeys) == 0;
        if (ok)
            m->keys[m->nkeys++] = from.keys[i];
    }
    m->add = kept;
    return ok;
}

/* The frames files, under the module's lock: this run's ranges join the .add file, unless it
 * would then hold more than a SYMCACHE_ADD_SHARE-th of the main file's records, or either file
 * is missing, stale or damaged: then the main file is rewritten with the .add file's ranges and
 * this run's, and the .add file removed. Each file merges what other processes wrote since
 * this one read it. */
static bool write_frames(struct symcache *c, struct sc_module *m, const char *path, const char *tmp)
{
    char add_path[PATH_MAX], add_tmp[PATH_MAX + 32];
    file_path(c, m, SC_ADD, add_path, sizeof add_path);
    snprintf(add_tmp, sizeof add_tmp, "%s.tmp.%ld", add_path, (long)getpid());
    struct sc_view main_read = {0}, add_read = {0};
    const struct sc_view *main = NULL, *add = NULL;
    int rm = current_view(c, m, &m->view, path, m->rewrite, &main_read, &main);
    int ra = rm == 1 ? current_view(c, m, &m->add, add_path, m->add_bad, &add_read, &add) : 0;
    bool ok;
    if (rm == 1 && ra >= 0 && (add->nrecs + m->nents) * SYMCACHE_ADD_SHARE <= main->nrecs) {
        ok = write_merged(m, add, add_path, add_tmp);
    } else {
        ok = (ra != 1 || take_ranges(c, m, add)) && write_merged(m, main, path, tmp);
        if (ok)
            unlink(add_path);
    }
    free_view(&main_read);
    free_view(&add_read);
    return ok;
}

/* The fixed file (symbols and aranges: written once). */
static bool write_fixed(struct symcache *c, struct sc_module *m, const char *path, const char *tmp)
{
    (void)c;
    (void)path;
    return unitcache_save_fixed(m->units, tmp) == 0;
}

/* The unit tables file (unitcache_save merges and renames). */
static bool write_units(struct symcache *c, struct sc_module *m, const char *path,
                        const char *tmp)
{
    (void)c;
    (void)path;
    return unitcache_save(m->units, tmp) == 0;
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


void symcache_save(struct symcache *c)
{
    if (!c)
        return;
    helper_stop(c);
    if (!c->dir)
        return;
    if (c->helper.sym) /* first: a unit both walked keeps the calling thread's table */
        symbolizer_save_units(c->helper.sym);
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
            wrote |= with_module_lock(c, m, ".units", write_units);
        }
        if (m->units && unitcache_fixed_dirty(m->units)) {
            char why[PATH_MAX + 128];
            if (!made_dir && fs_mkdir_p(c->dir, 0777, why, sizeof why) != 0)
                return;
            made_dir = true;
            wrote |= with_module_lock(c, m, ".syms", write_fixed);
        }
        if (m->nents == 0 && !m->rewrite) {
            if (m->hit) {
                char path[PATH_MAX];
                file_path(c, m, "", path, sizeof path);
                utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
                file_path(c, m, SC_ADD, path, sizeof path);
                utimensat(AT_FDCWD, path, NULL, 0);
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
        wrote |= with_module_lock(c, m, "", write_frames);
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
    c->threads = opts->threads;
    c->min_split = opts->min_split;
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

void symcache_symbolizer_stats(struct symcache *c, struct symbolizer_stats *out)
{
    helper_stop(c);
    *out = (struct symbolizer_stats){0};
    struct symbolizer_stats one;
    if (c->sym) {
        symbolizer_stats(c->sym, &one);
        symbolizer_stats_add(out, &one);
    }
    if (c->helper.sym) {
        symbolizer_stats(c->helper.sym, &one);
        symbolizer_stats_add(out, &one);
    }
}

const char *symcache_error(const struct symcache *c)
{
    return c->open_failed ? c->err : NULL;
}

void symcache_free(struct symcache *c)
{
    if (!c)
        return;
    helper_stop(c);
    if (c->helper.sym)
        symbolizer_close(c->helper.sym);
    for (size_t i = 0; i < c->helper.n; i++) {
        free(c->helper.v[i].fr);
        free(c->helper.v[i].keys);
    }
    free(c->helper.v);
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
        free(m->keys);
        free_view(&m->view);
        free_view(&m->add);
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
