/* SPDX-License-Identifier: MIT */
/* unitcache.c — saved function tables of compilation units, one binary file per module and
 * its .add file of the units later runs added (format in unitcache.h).
 *
 * Invariants: u->file.v is sorted by cu_off without duplicates; a unit's fns point into u->buf
 * (read from the file), into the .add file's bytes (in_add), or are its own copy (fresh: built
 * by this run, in neither file). */
#include "symbolize/unitcache.h"

#include "core/array.h"
#include "core/fsutil.h"
#include "core/sort.h"
#include "core/hashmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct uc_unit {
    uint64_t cu_off;
    const struct sym_unit_fn *fns;
    uint32_t n;
    bool deep;
    bool fresh; /* built by this run: fns is owned, and the file lacks it */
    bool used;  /* served to or built by this run */
    const struct dwf_seq *seqs; /* its line program's sequences (nseq of them), or NULL */
    uint32_t nseq;
    bool seqs_fresh; /* found by this run: seqs is owned, and the file lacks them */
    bool in_add;     /* its table came from the .add file (pointing into its bytes) */
    const uint32_t *abbr; /* where its abbreviations start (nabbr of them, even), or NULL */
    uint32_t nabbr;
    bool abbr_fresh; /* found by this run: abbr is owned, and the file lacks them */
};

/* On-disk records (all fields 8-byte aligned). */
struct uc_head {
    char magic[16];
    uint64_t ident, nunits, nfns, nseqs, nabbrw;
};
/* The head of the fixed file (<build-id>.syms). */
struct uc_fixed_head {
    char magic[16];
    uint64_t ident, nsyms, nruns, last_end, have_aranges;
};
struct uc_rec {
    uint64_t cu_off;
    uint32_t n, deep;
    uint64_t first;
    uint32_t nseq, nabbr;
    uint64_t seq_first;
    uint64_t abbr_first; /* in 32-bit elements */
};
/* Every function range of every unit, sorted by lo: the unit of an address. */
struct uc_where {
    uint64_t lo, hi, cu_off;
};

/* What a file holds, pointing into its bytes. */
struct uc_file {
    uint64_t *buf; /* the file mapped (fs_map_file), st.st_size bytes */
    struct uc_unit *v;
    size_t n;
    const struct uc_where *where;
    size_t nwhere;
    struct stat st; /* the file's identity when read (device, inode, size, mtime) */
};

/* What the fixed file holds, pointing into its bytes. */
struct uc_fixed {
    uint64_t *buf; /* the file mapped (fs_map_file), len bytes */
    size_t len;
    const struct sym_symbol *syms;
    size_t nsyms;
    struct unitcache_aranges ar; /* ar.n == 0 and !have_aranges: none */
    bool have_aranges;
};

struct unitcache {
    char *path, *fixed_path, *add_path;
    uint64_t ident;
    bool loaded;
    struct uc_file file; /* as read; its v is this run's units (grown by put, and by the
                            .add file's units) */
    bool rewrite;        /* the file exists and cannot serve: replace it */
    size_t main_n;       /* the units of the file as read */
    struct uc_file addf; /* the .add file as read (its units were taken into file.v) */
    bool add_bad;        /* the .add file cannot serve: merge into the main file */
    bool add_replaces;   /* a unit of the .add file is one of the main file's too */
    bool add_damaged;    /* of the two, the .add file was found damaged */
    size_t cap;
    size_t nfresh, nfresh_seqs, nfresh_abbr;
    bool replaced; /* a unit of the file was built again by this run (its ranges changed) */
    /* the fixed file, read on its first question; and what this run found that it lacks */
    bool fixed_loaded, fixed_rewrite;
    struct uc_fixed fixed;
    struct sym_symbol *syms; /* this run's symbols, when the file had none */
    size_t nsyms;
    uint64_t *ar_buf; /* this run's aranges (start, then unit), when the file had none */
    struct unitcache_aranges ar;
    bool have_ar;
};

static inline uint64_t hash_mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x100000001b3ULL;
    return h ^ h >> 29;
}

void unitcache_hash_init(struct unitcache_hash_state *h)
{
    for (unsigned k = 0; k < 4; k++)
        h->lane[k] = 0xcbf29ce484222325ULL + k;
    h->n = 0;
}

void unitcache_hash_step(struct unitcache_hash_state *h, const uint64_t *w, size_t nwords)
{
    size_t i = 0;
    for (; i < nwords && h->n % 4; i++, h->n++)
        h->lane[h->n % 4] = hash_mix(h->lane[h->n % 4], w[i]);
    uint64_t a = h->lane[0], b = h->lane[1], c = h->lane[2], d = h->lane[3];
    for (; i + 4 <= nwords; i += 4) {
        a = hash_mix(a, w[i]);
        b = hash_mix(b, w[i + 1]);
        c = hash_mix(c, w[i + 2]);
        d = hash_mix(d, w[i + 3]);
        h->n += 4;
    }
    h->lane[0] = a;
    h->lane[1] = b;
    h->lane[2] = c;
    h->lane[3] = d;
    for (; i < nwords; i++, h->n++)
        h->lane[h->n % 4] = hash_mix(h->lane[h->n % 4], w[i]);
}

uint64_t unitcache_hash_end(const struct unitcache_hash_state *s)
{
    uint64_t h = hash_mix(0xcbf29ce484222325ULL, s->n);
    for (unsigned k = 0; k < 4; k++)
        h = hash_mix(h, s->lane[k]);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

uint64_t unitcache_hash(const uint64_t *w, size_t nwords)
{
    struct unitcache_hash_state h;
    unitcache_hash_init(&h);
    unitcache_hash_step(&h, w, nwords);
    return unitcache_hash_end(&h);
}

struct unitcache *unitcache_new(const char *path, uint64_t ident)
{
    struct unitcache *u = calloc(1, sizeof *u);
    size_t len = strlen(path), sfx = strlen(".units");
    if (len >= sfx && strcmp(path + len - sfx, ".units") == 0)
        len -= sfx;
    if (!u || !(u->path = strdup(path)) || !(u->fixed_path = malloc(len + sizeof ".syms")) ||
        asprintf(&u->add_path, "%s.add", path) < 0) {
        if (u) {
            free(u->path);
            free(u->fixed_path);
        }
        free(u);
        return NULL;
    }
    memcpy(u->fixed_path, path, len);
    memcpy(u->fixed_path + len, ".syms", sizeof ".syms");
    u->ident = ident;
    return u;
}

static void free_units(struct uc_unit *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (v[i].fresh)
            free((void *)v[i].fns);
        if (v[i].seqs_fresh)
            free((void *)v[i].seqs);
        if (v[i].abbr_fresh)
            free((void *)v[i].abbr);
    }
}

static void free_file(struct uc_file *f)
{
    free(f->v);
    fs_unmap(f->buf, (size_t)f->st.st_size);
    *f = (struct uc_file){0};
}

void unitcache_free(struct unitcache *u)
{
    if (!u)
        return;
    free_units(u->file.v, u->file.n);
    free_file(&u->file);
    free_file(&u->addf);
    free(u->add_path);
    fs_unmap(u->fixed.buf, u->fixed.len);
    free(u->syms);
    free(u->ar_buf);
    free(u->path);
    free(u->fixed_path);
    free(u);
}

/* The whole file at path, of at least min bytes, a multiple of 8 and at most twice the bound,
 * mapped at *buf (fs_map_file; fs_unmap(*buf, *len) lets it go), its identity into *st: 1; 0
 * when there is none; -1 with *why when it cannot be read or has not that shape. */
static int read_whole(const char *path, size_t min, uint64_t **buf, size_t *len, struct stat *st,
                      const char **why)
{
    *buf = NULL;
    /* O_NONBLOCK: a FIFO planted under the name must not hang the program's exit */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        *why = errno == ENOENT ? NULL : "cannot be read";
        return errno == ENOENT ? 0 : -1;
    }
    *why = "damaged";
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_size < (off_t)min ||
        st->st_size % 8 != 0 || st->st_size > (off_t)UNITCACHE_MAX_FILE_BYTES * 2) {
        close(fd);
        return -1;
    }
    *len = (size_t)st->st_size;
    *buf = fs_map_file(fd, *len);
    close(fd);
    if (!*buf)
        *why = "cannot be read";
    return *buf ? 1 : -1;
}

/* What the head of a file read whole says (both heads start with a 16-byte magic, then the
 * module identity): 0 when it is of this format (magic) and identity; -2 when it is of another
 * version of the format (family: the magic's start) or another identity, stale, not damaged
 * (replaced without a word: *why NULL); -1 with *why = not_ours otherwise. */
static int head_state(const uint64_t *b, const char *magic, const char *family, uint64_t ident,
                      const char *not_ours, const char **why)
{
    _Static_assert(offsetof(struct uc_head, ident) == 16 &&
                       offsetof(struct uc_fixed_head, ident) == 16,
                   "the identity after the magic");
    if (memcmp(b, magic, 16) != 0 && memcmp(b, family, strlen(family)) != 0) {
        *why = not_ours;
        return -1;
    }
    if (memcmp(b, magic, 16) != 0 || b[2] != ident) {
        *why = NULL;
        return -2;
    }
    return 0;
}

/* Reads the file at path into *f (its units pointing into its bytes). Returns 1; 0 when
 * there is no file; -2 when it belongs to another module identity (stale, *why NULL: a
 * rebuild leaves those, nothing to say); -1 with *why when it cannot serve. */
static int read_units(const char *path, uint64_t ident, struct uc_file *f, const char **why)
{
    *f = (struct uc_file){0};
    struct stat st;
    uint64_t *b;
    size_t len;
    int got = read_whole(path, sizeof(struct uc_head), &b, &len, &st, why);
    if (got <= 0)
        return got;
    struct uc_unit *units = NULL;
    const struct uc_head *h = (const struct uc_head *)b;
    int head =
        head_state(b, UNITCACHE_MAGIC, "profreg-units ", ident, "not a unit table file", why);
    if (head == -2) {
        fs_unmap(b, len);
        return -2;
    }
    if (head < 0)
        goto bad;
    size_t words = len / 8;
    if (h->nunits > words || h->nfns > words || h->nseqs > words || h->nabbrw > words ||
        sizeof *h + h->nunits * sizeof(struct uc_rec) +
                h->nfns * (sizeof(struct sym_unit_fn) + sizeof(struct uc_where)) +
                h->nseqs * sizeof(struct dwf_seq) + h->nabbrw * 8 + 8 !=
            len ||
        unitcache_hash(b, words - 1) != b[words - 1])
        goto bad;
    const struct uc_rec *r = (const struct uc_rec *)(h + 1);
    const struct sym_unit_fn *fns = (const struct sym_unit_fn *)(r + h->nunits);
    if (h->nunits && !(units = malloc(h->nunits * sizeof *units)))
        goto bad;
    f->where = (const struct uc_where *)(fns + h->nfns);
    f->nwhere = h->nfns;
    const struct dwf_seq *seqs = (const struct dwf_seq *)(f->where + f->nwhere);
    const uint32_t *abbr = (const uint32_t *)(seqs + h->nseqs);
    for (size_t i = 0; i < h->nunits; i++) {
        if ((i > 0 && r[i].cu_off <= r[i - 1].cu_off) || r[i].first > h->nfns ||
            r[i].n > h->nfns - r[i].first || r[i].seq_first > h->nseqs ||
            r[i].nseq > h->nseqs - r[i].seq_first || r[i].nabbr % 2 ||
            r[i].abbr_first > 2 * h->nabbrw || r[i].nabbr > 2 * h->nabbrw - r[i].abbr_first)
            goto bad;
        units[i] = (struct uc_unit){r[i].cu_off,
                                    fns + r[i].first,
                                    r[i].n,
                                    r[i].deep != 0,
                                    false,
                                    false,
                                    r[i].nseq ? seqs + r[i].seq_first : NULL,
                                    r[i].nseq,
                                    false,
                                    false,
                                    r[i].nabbr ? abbr + r[i].abbr_first : NULL,
                                    r[i].nabbr,
                                    false};
    }
    for (size_t i = 1; i < f->nwhere; i++)
        if (f->where[i].lo < f->where[i - 1].lo)
            goto bad;
    f->st = st;
    f->buf = b;
    f->v = units;
    f->n = h->nunits;
    *why = NULL;
    return 1;
bad:
    *f = (struct uc_file){0};
    free(units);
    fs_unmap(b, len);
    return -1;
}

/* Reads the fixed file at path into *f: 1; 0 when there is none; -2 of another identity or
 * format version (*why NULL); -1 with *why when it cannot serve. */
static int read_fixed(const char *path, uint64_t ident, struct uc_fixed *f, const char **why)
{
    *f = (struct uc_fixed){0};
    struct stat st;
    uint64_t *b;
    size_t len;
    int got = read_whole(path, sizeof(struct uc_fixed_head) + 8, &b, &len, &st, why);
    if (got <= 0)
        return got;
    const struct uc_fixed_head *h = (const struct uc_fixed_head *)b;
    int head = head_state(b, UNITCACHE_FIXED_MAGIC, "profreg-syms ", ident,
                          "not a symbol table file", why);
    if (head == -2) {
        fs_unmap(b, len);
        return -2;
    }
    if (head < 0)
        goto bad;
    size_t words = len / 8;
    if (h->nsyms > words || h->nruns > words || h->have_aranges > 1 ||
        sizeof *h + h->nsyms * sizeof(struct sym_symbol) + h->nruns * 16 + 8 != len ||
        unitcache_hash(b, words - 1) != b[words - 1])
        goto bad;
    f->syms = (const struct sym_symbol *)(h + 1);
    f->nsyms = h->nsyms;
    const uint64_t *runs = (const uint64_t *)(f->syms + h->nsyms);
    f->ar = (struct unitcache_aranges){runs, runs + h->nruns, h->nruns, h->last_end};
    f->have_aranges = h->have_aranges != 0;
    for (size_t i = 1; i < f->ar.n; i++)
        if (f->ar.start[i] < f->ar.start[i - 1])
            goto bad;
    f->buf = b;
    f->len = len;
    *why = NULL;
    return 1;
bad:
    *f = (struct uc_fixed){0};
    fs_unmap(b, len);
    return -1;
}

static void load_fixed(struct unitcache *u, const char **why)
{
    *why = NULL;
    if (u->fixed_loaded)
        return;
    u->fixed_loaded = true;
    u->fixed_rewrite = read_fixed(u->fixed_path, u->ident, &u->fixed, why) < 0;
}

/* Index of the unit at cu_off in v[0..n), or the position to insert it at, negated minus 1. */
static long find_unit(const struct uc_unit *v, size_t n, uint64_t cu_off)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].cu_off == cu_off)
            return (long)mid;
        if (v[mid].cu_off < cu_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

/* Puts unit a into v[0..*n) (capacity *cap): in place of the unit at its offset when replace
 * (its sequences kept when a has none), else only when absent. 1: put in place of one; 0:
 * added or left; -1 when out of memory. */
static int put_unit(struct uc_unit **v, size_t *n, size_t *cap, const struct uc_unit *a,
                    bool replace)
{
    long i = find_unit(*v, *n, a->cu_off);
    if (i >= 0) {
        if (!replace)
            return 0;
        struct uc_unit old = (*v)[i];
        (*v)[i] = *a;
        if (!a->nseq && old.nseq) {
            (*v)[i].seqs = old.seqs;
            (*v)[i].nseq = old.nseq;
        }
        if (!a->nabbr && old.nabbr) {
            (*v)[i].abbr = old.abbr;
            (*v)[i].nabbr = old.nabbr;
        }
        return 1;
    }
    if (ARRAY_GROW(*v, *n, *cap) < 0)
        return -1;
    size_t pos = (size_t)(-i - 1);
    memmove(*v + pos + 1, *v + pos, (*n - pos) * sizeof **v);
    (*v)[pos] = *a;
    ++*n;
    return 0;
}

/* Reads the file on the first question, and takes the .add file's units; *why as read_units
 * says (of the .add file when it is the damaged one: unitcache_add_damaged). */
static void load(struct unitcache *u, const char **why)
{
    *why = NULL;
    if (u->loaded)
        return;
    u->loaded = true;
    int r = read_units(u->path, u->ident, &u->file, why);
    if (r > 0)
        u->cap = u->main_n = u->file.n;
    u->rewrite = r < 0;
    if (r <= 0)
        return; /* the .add file serves beside a main file only */
    const char *add_why = NULL;
    int ra = read_units(u->add_path, u->ident, &u->addf, &add_why);
    if (ra == -1) {
        u->add_bad = u->add_damaged = true;
        *why = add_why;
    }
    for (size_t i = 0; ra > 0 && i < u->addf.n; i++) {
        struct uc_unit a = u->addf.v[i];
        a.in_add = true;
        int put = put_unit(&u->file.v, &u->file.n, &u->cap, &a, true);
        u->add_replaces |= put == 1;
        u->add_bad |= put < 0; /* out of memory: what is taken serves, the rest is merged */
    }
}

bool unitcache_add_damaged(const struct unitcache *u)
{
    return u->add_damaged;
}

/* The unit at cu_off in the files (read on the first question), or NULL. */
static struct uc_unit *unit_read(struct unitcache *u, uint64_t cu_off, const char **why)
{
    load(u, why);
    long i = find_unit(u->file.v, u->file.n, cu_off);
    return i < 0 ? NULL : &u->file.v[i];
}

bool unitcache_get(struct unitcache *u, uint64_t cu_off, const struct sym_unit_fn **fns, size_t *n,
                   bool *deep, const char **why)
{
    struct uc_unit *x = unit_read(u, cu_off, why);
    if (!x)
        return false;
    x->used = true;
    *fns = x->fns;
    *n = x->n;
    *deep = x->deep;
    return true;
}

bool unitcache_get_sequences(struct unitcache *u, uint64_t cu_off, const struct dwf_seq **v,
                             size_t *n)
{
    const char *why;
    const struct uc_unit *x = unit_read(u, cu_off, &why);
    if (!x || !x->nseq)
        return false;
    *v = x->seqs;
    *n = x->nseq;
    return true;
}

void unitcache_put_sequences(struct unitcache *u, uint64_t cu_off, const struct dwf_seq *v,
                             size_t n)
{
    long i = find_unit(u->file.v, u->file.n, cu_off);
    if (i < 0 || u->file.v[i].nseq || n == 0 || n > UINT32_MAX)
        return;
    struct dwf_seq *copy = malloc(n * sizeof *copy);
    if (!copy)
        return;
    memcpy(copy, v, n * sizeof *copy);
    struct uc_unit *slot = &u->file.v[i];
    slot->seqs = copy;
    slot->nseq = (uint32_t)n;
    slot->seqs_fresh = true;
    u->nfresh_seqs++;
}

bool unitcache_get_abbrevs(struct unitcache *u, uint64_t cu_off, const uint32_t **v, size_t *n)
{
    const char *why;
    const struct uc_unit *x = unit_read(u, cu_off, &why);
    if (!x || !x->nabbr)
        return false;
    *v = x->abbr;
    *n = x->nabbr;
    return true;
}

void unitcache_put_abbrevs(struct unitcache *u, uint64_t cu_off, const uint32_t *v, size_t n)
{
    long i = find_unit(u->file.v, u->file.n, cu_off);
    size_t even = n + n % 2;
    if (i < 0 || u->file.v[i].nabbr || n == 0 || even > UINT32_MAX)
        return;
    uint32_t *copy = calloc(even, sizeof *copy);
    if (!copy)
        return;
    memcpy(copy, v, n * sizeof *copy);
    struct uc_unit *slot = &u->file.v[i];
    u->nfresh_abbr++;
    slot->abbr = copy;
    slot->nabbr = (uint32_t)even;
    slot->abbr_fresh = true;
}

/* The range of w[0..n) (sorted by lo) holding pc that is met first looking back from pc, or
 * NULL. */
static const struct uc_where *where_find(const struct uc_where *w, size_t n, uint64_t pc)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].lo <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* the nearest ranges starting at or before pc (a function defined inside another lies
     * inside its range) */
    for (size_t i = lo; i-- > 0 && lo - i <= 64;)
        if (pc < w[i].hi)
            return &w[i];
    return NULL;
}

bool unitcache_unit_at(struct unitcache *u, uint64_t pc, uint64_t *cu_off, const char **why)
{
    load(u, why);
    /* the answer of the two files' ranges merged as a rewrite merges them (the .add file's
     * after the main file's at equal starts), so that it stays when the .add file is merged */
    const struct uc_where *m = where_find(u->file.where, u->file.nwhere, pc);
    const struct uc_where *a = where_find(u->addf.where, u->addf.nwhere, pc);
    const struct uc_where *w = !a || (m && m->lo > a->lo) ? m : a;
    if (w)
        *cu_off = w->cu_off;
    return w != NULL;
}

bool unitcache_symbols(struct unitcache *u, const struct sym_symbol **v, size_t *n,
                       const char **why)
{
    load_fixed(u, why);
    *v = u->fixed.syms;
    *n = u->fixed.nsyms;
    return u->fixed.nsyms > 0;
}

void unitcache_put_symbols(struct unitcache *u, struct sym_symbol *v, size_t n)
{
    const char *why;
    load_fixed(u, &why);
    if (u->fixed.nsyms || u->syms || n == 0) {
        free(v);
        return;
    }
    u->syms = v; /* megabytes for a large C++ binary: taken, not copied */
    u->nsyms = n;
}

bool unitcache_aranges(struct unitcache *u, struct unitcache_aranges *out, const char **why)
{
    load_fixed(u, why);
    *out = u->fixed.ar;
    return u->fixed.have_aranges;
}

void unitcache_put_aranges(struct unitcache *u, const struct unitcache_aranges *a)
{
    const char *why;
    load_fixed(u, &why);
    if (u->fixed.have_aranges || u->have_ar || a->n > UNITCACHE_MAX_FILE_BYTES / 16)
        return;
    uint64_t *buf = malloc((a->n ? a->n : 1) * 16);
    if (!buf)
        return;
    memcpy(buf, a->start, a->n * 8);
    memcpy(buf + a->n, a->unit, a->n * 8);
    u->ar_buf = buf;
    u->ar = (struct unitcache_aranges){buf, buf + a->n, a->n, a->last_end};
    u->have_ar = true;
}

bool unitcache_fixed_dirty(const struct unitcache *u)
{
    return (u->nsyms > 0 && !u->fixed.nsyms) || (u->have_ar && !u->fixed.have_aranges);
}

int unitcache_put(struct unitcache *u, uint64_t cu_off, const struct sym_unit_fn *fns, size_t n,
                  bool deep)
{
    if (n > UINT32_MAX)
        return 0;
    struct sym_unit_fn *copy = malloc(n ? n * sizeof *copy : 1);
    if (!copy)
        return -1;
    if (n)
        memcpy(copy, fns, n * sizeof *copy);
    long i = find_unit(u->file.v, u->file.n, cu_off);
    struct uc_unit *slot;
    if (i >= 0) {
        slot = &u->file.v[i];
        u->replaced |= !slot->fresh;
        u->nfresh += !slot->fresh;
        if (slot->fresh)
            free((void *)slot->fns); /* its sequences stay: the same line program */
    } else {
        if (ARRAY_GROW(u->file.v, u->file.n, u->cap) < 0) {
            free(copy);
            return -1;
        }
        size_t pos = (size_t)(-i - 1);
        memmove(u->file.v + pos + 1, u->file.v + pos, (u->file.n - pos) * sizeof *u->file.v);
        slot = &u->file.v[pos];
        *slot = (struct uc_unit){0};
        u->file.n++;
        u->nfresh++;
    }
    slot->cu_off = cu_off;
    slot->fns = copy; /* owned: fresh */
    slot->n = (uint32_t)n;
    slot->deep = deep;
    slot->fresh = slot->used = true;
    return 0;
}

bool unitcache_dirty(const struct unitcache *u)
{
    return u->nfresh > 0 || u->nfresh_seqs > 0 || u->nfresh_abbr > 0 || u->rewrite || u->add_bad;
}

static size_t file_size(const struct uc_unit *v, size_t n, bool used_only)
{
    size_t len = sizeof(struct uc_head) + 8;
    for (size_t i = 0; i < n; i++)
        if (!used_only || v[i].used)
            len += sizeof(struct uc_rec) +
                   v[i].n * (sizeof(struct sym_unit_fn) + sizeof(struct uc_where)) +
                   v[i].nseq * sizeof(struct dwf_seq) + v[i].nabbr * sizeof(uint32_t);
    return len;
}

/* A file written through a small buffer, its hash kept word by word (unitcache_hash without
 * holding the whole file: a 2 MB buffer was some 500 page faults of fresh heap per save). */
struct uc_out {
    int fd;
    bool ok;
    struct unitcache_hash_state h;
    size_t n;
    uint64_t buf[4096];
};

static void out_flush(struct uc_out *o, const void *p, size_t len)
{
    for (size_t off = 0; o->ok && off < len;) {
        ssize_t w = write(o->fd, (const char *)p + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        o->ok = w > 0;
        off += o->ok ? (size_t)w : 0;
    }
}

/* Hashes and writes the buffered words (hashed a buffer at a time, not a call at a time: most
 * calls append a record of a few words). */
static void out_buffered(struct uc_out *o)
{
    unitcache_hash_step(&o->h, o->buf, o->n);
    out_flush(o, o->buf, o->n * 8);
    o->n = 0;
}

/* Appends nwords words (hashed). */
static void out_words(struct uc_out *o, const void *p, size_t nwords)
{
    if (nwords == 0) /* (p may then be NULL: an empty table) */
        return;
    const uint64_t *w = p;
    size_t room = sizeof o->buf / 8;
    if (nwords >= room) { /* large: straight from where it is */
        out_buffered(o);
        unitcache_hash_step(&o->h, w, nwords);
        out_flush(o, w, nwords * 8);
        return;
    }
    if (o->n + nwords > room)
        out_buffered(o);
    memcpy(o->buf + o->n, w, nwords * 8);
    o->n += nwords;
}

/* Appends the hash of every word so far and writes what is left. */
static void out_end(struct uc_out *o)
{
    out_buffered(o);
    uint64_t h = unitcache_hash_end(&o->h);
    out_flush(o, &h, 8);
}

/* Writes the file for the units of v (only the used ones with used_only).
 * The ranges come sorted from the file's own (fwhere, when no unit of it was built again)
 * merged with those of the units this run built or took from the .add file, else all of them
 * sorted afresh. */
static bool write_units_to(const struct unitcache *u, int fd, const struct uc_unit *v, size_t n,
                           bool used_only, const struct uc_where *fwhere, size_t nfwhere)
{
    struct uc_out *o = malloc(sizeof *o);
    if (!o)
        return false;
    o->fd = fd;
    o->ok = true;
    unitcache_hash_init(&o->h);
    o->n = 0;
    struct uc_head h = {.ident = u->ident};
    memcpy(h.magic, UNITCACHE_MAGIC, sizeof h.magic);
    size_t nwhere = 0;
    for (size_t i = 0; i < n; i++)
        if (!used_only || v[i].used) {
            h.nunits++;
            h.nfns += v[i].n;
            h.nseqs += v[i].nseq;
            h.nabbrw += v[i].nabbr / 2;
            if (!fwhere || v[i].fresh || v[i].in_add)
                nwhere += v[i].n;
        }
    struct uc_where *where = malloc((nwhere ? nwhere : 1) * sizeof *where);
    if (!where) {
        free(o);
        return false;
    }
    nwhere = 0;
    for (size_t i = 0; i < n; i++)
        if ((!used_only || v[i].used) && (!fwhere || v[i].fresh || v[i].in_add))
            for (size_t k = 0; k < v[i].n; k++)
                where[nwhere++] = (struct uc_where){v[i].fns[k].lo, v[i].fns[k].hi, v[i].cu_off};
    /* by lo, ties in order: what qsort (glibc's merge sort) gave, in linear time */
    _Static_assert(offsetof(struct uc_where, lo) == 0, "the key first");
    if (sort_by_u64_key(where, nwhere, sizeof *where) < 0)
        array_sort(where, nwhere, sizeof *where, u64_key_cmp);
    out_words(o, &h, sizeof h / 8);
    uint64_t first = 0, seq_first = 0, abbr_first = 0;
    for (size_t i = 0; i < n; i++)
        if (!used_only || v[i].used) {
            struct uc_rec r = {v[i].cu_off, v[i].n,     v[i].deep, first,
                               v[i].nseq,   v[i].nabbr, seq_first, abbr_first};
            out_words(o, &r, sizeof r / 8);
            first += v[i].n;
            seq_first += v[i].nseq;
            abbr_first += v[i].nabbr;
        }
    for (size_t i = 0; i < n; i++)
        if (!used_only || v[i].used)
            out_words(o, v[i].fns, v[i].n * sizeof *v[i].fns / 8);
    size_t a = 0, b = 0, nf = fwhere ? nfwhere : 0;
    while (a < nf || b < nwhere) {
        if (b == nwhere || (a < nf && fwhere[a].lo <= where[b].lo)) {
            size_t e = a + 1; /* the run of the file's ranges before the next new one */
            while (e < nf && (b == nwhere || fwhere[e].lo <= where[b].lo))
                e++;
            out_words(o, fwhere + a, (e - a) * sizeof *fwhere / 8);
            a = e;
        } else {
            out_words(o, where + b++, sizeof *where / 8);
        }
    }
    _Static_assert(sizeof(struct dwf_seq) % 8 == 0, "whole words");
    for (size_t i = 0; i < n; i++)
        if (!used_only || v[i].used)
            out_words(o, v[i].seqs, v[i].nseq * sizeof *v[i].seqs / 8);
    for (size_t i = 0; i < n; i++) /* (each an even number of elements: whole words) */
        if (!used_only || v[i].used)
            out_words(o, v[i].abbr, v[i].nabbr / 2);
    out_end(o);
    bool ok = o->ok;
    free(where);
    free(o);
    return ok;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Closes fd, written to tmp (ok: every write succeeded), and renames tmp over path; on any
 * failure tmp goes. 0 or -1. */
static int put_in_place(int fd, bool ok, const char *tmp, const char *path)
{
    ok &= close(fd) == 0;
    if (ok && fs_replace(tmp, path) == 0)
        return 0;
    unlink(tmp);
    return -1;
}

/* Writes the units v[0..n) to tmp (write_units_to's arguments) and puts it at path. 0 or -1. */
static int write_units_file(const struct unitcache *u, const char *tmp, const char *path,
                            const struct uc_unit *v, size_t n, bool used_only,
                            const struct uc_where *fwhere, size_t nfwhere)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return -1;
    return put_in_place(fd, write_units_to(u, fd, v, n, used_only, fwhere, nfwhere), tmp, path);
}

/* Does unit x belong in the .add file (the main file as read lacks its table or sequences)? */
static bool for_add(const struct uc_unit *x)
{
    return x->fresh || x->in_add || x->seqs_fresh || x->abbr_fresh;
}

/* Writes the .add file: this run's units that the main file lacks, and those another writer
 * left there since this run read it. 0 or -1. */
static int save_add(struct unitcache *u)
{
    struct uc_file disk = {0};
    const char *why;
    struct stat st;
    if (stat(u->add_path, &st) == 0 && !(u->addf.buf && same_file(&st, &u->addf.st)))
        read_units(u->add_path, u->ident, &disk, &why);
    struct uc_unit *sub = NULL;
    size_t n = 0, cap = 0;
    char *tmp = NULL;
    int rc = -1;
    for (size_t i = 0; i < u->file.n; i++)
        if (for_add(&u->file.v[i]) && put_unit(&sub, &n, &cap, &u->file.v[i], true) < 0)
            goto done;
    for (size_t i = 0; i < disk.n; i++)
        if (put_unit(&sub, &n, &cap, &disk.v[i], false) < 0)
            goto done;
    if (asprintf(&tmp, "%s.tmp.%ld", u->add_path, (long)getpid()) < 0) {
        tmp = NULL;
        goto done;
    }
    rc = write_units_file(u, tmp, u->add_path, sub, n, false, NULL, 0);
done:
    free(tmp);
    free(sub);
    free_file(&disk);
    return rc;
}

int unitcache_save(struct unitcache *u, const char *tmp)
{
    /* the file as other writers left it, and this run's units over it; when it is still the
     * file this run read (files are replaced by rename, so the same inode, size and mtime),
     * this run's units already hold it */
    struct uc_file disk = {0}, disk_add = {0};
    const char *why;
    struct stat st;
    bool mine = u->file.buf && stat(u->path, &st) == 0 && same_file(&st, &u->file.st);
    size_t nadd = 0;
    for (size_t i = 0; i < u->file.n; i++)
        nadd += for_add(&u->file.v[i]);
    /* few units to add to a main file still as read: the .add file takes them */
    if (mine && !u->rewrite && !u->add_bad && !u->replaced &&
        nadd * UNITCACHE_ADD_SHARE <= u->main_n)
        return save_add(u);
    if (!mine)
        read_units(u->path, u->ident, &disk, &why);
    /* what another writer left in the .add file since this run read it: merged too */
    if (stat(u->add_path, &st) == 0 && !(u->addf.buf && same_file(&st, &u->addf.st)))
        read_units(u->add_path, u->ident, &disk_add, &why);
    size_t cap = disk.n + u->file.n + disk_add.n + 1;
    struct uc_unit *all = malloc(cap * sizeof *all);
    int rc = -1;
    if (!all)
        goto done;
    size_t n = 0, i = 0, k = 0;
    while (i < disk.n || k < u->file.n) {
        if (k == u->file.n || (i < disk.n && disk.v[i].cu_off < u->file.v[k].cu_off)) {
            all[n++] = disk.v[i++];
        } else {
            all[n] = u->file.v[k++];
            if (i < disk.n && disk.v[i].cu_off == all[n].cu_off) {
                /* the same unit of the same file: either table is right; sequences another
                 * writer found stay */
                if (!all[n].nseq && disk.v[i].nseq) {
                    all[n].seqs = disk.v[i].seqs;
                    all[n].nseq = disk.v[i].nseq;
                }
                if (!all[n].nabbr && disk.v[i].nabbr) {
                    all[n].abbr = disk.v[i].abbr;
                    all[n].nabbr = disk.v[i].nabbr;
                }
                i++;
            }
            n++;
        }
    }
    for (size_t j = 0; j < disk_add.n; j++) {
        struct uc_unit a = disk_add.v[j];
        a.in_add = true;
        if (put_unit(&all, &n, &cap, &a, false) < 0)
            goto done;
    }
    bool over = file_size(all, n, false) > UNITCACHE_MAX_FILE_BYTES;
    /* the ranges of the file read are sorted already: merged with the new ones (and the .add
     * file's) unless some of them belong to a unit built again (or a unit of the .add file is
     * one of its own) or only the used units are kept */
    bool merge = mine && !u->replaced && !u->add_replaces && !over;
    rc = write_units_file(u, tmp, u->path, all, n, over, merge ? u->file.where : NULL,
                          merge ? u->file.nwhere : 0);
    if (rc == 0)
        unlink(u->add_path); /* merged */
done:
    free(all);
    free_file(&disk);
    free_file(&disk_add);
    return rc;
}

int unitcache_save_fixed(struct unitcache *u, const char *tmp)
{
    /* what another writer may have written since: its tables stay, ours fill the gaps */
    struct uc_fixed disk;
    const char *why;
    bool have_disk = read_fixed(u->fixed_path, u->ident, &disk, &why) > 0;
    const struct sym_symbol *syms = have_disk && disk.nsyms ? disk.syms : u->syms;
    size_t nsyms = have_disk && disk.nsyms ? disk.nsyms : u->syms ? u->nsyms : 0;
    bool disk_ar = have_disk && disk.have_aranges;
    const struct unitcache_aranges *ar = disk_ar ? &disk.ar : u->have_ar ? &u->ar : NULL;
    int rc = -1;
    if (have_disk && (disk.nsyms || !nsyms) && (disk_ar || !ar)) {
        rc = 0; /* nothing to add */
        goto done;
    }
    if (sizeof(struct uc_fixed_head) + nsyms * sizeof *syms > UNITCACHE_MAX_FILE_BYTES)
        nsyms = 0; /* a symbol table too large to keep */
    struct uc_fixed_head h = {.ident = u->ident,
                              .nsyms = nsyms,
                              .nruns = ar ? ar->n : 0,
                              .last_end = ar ? ar->last_end : 0,
                              .have_aranges = ar != NULL};
    memcpy(h.magic, UNITCACHE_FIXED_MAGIC, sizeof h.magic);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        goto done;
    struct uc_out *o = malloc(sizeof *o);
    bool ok = o != NULL;
    if (o) {
        *o = (struct uc_out){.fd = fd, .ok = true};
        unitcache_hash_init(&o->h);
        out_words(o, &h, sizeof h / 8);
        out_words(o, syms, nsyms * sizeof *syms / 8);
        if (ar) {
            out_words(o, ar->start, ar->n);
            out_words(o, ar->unit, ar->n);
        }
        out_end(o);
        ok = o->ok;
        free(o);
    }
    rc = put_in_place(fd, ok, tmp, u->fixed_path);
done:
    if (have_disk)
        fs_unmap(disk.buf, disk.len);
    return rc;
}
