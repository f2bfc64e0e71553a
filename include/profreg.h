/* SPDX-License-Identifier: MIT */
/* profreg.h — profreg's public API: pause and resume sampling, write a profile now, name regions.
 *
 * Header only: include it and build as usual, with no library and no link flag. Under
 * LD_PRELOAD=libprofreg.so the calls reach the profiler; without it each call is a test of one
 * pointer and does nothing (profreg_flush returns -1 with errno ENOSYS), so the program runs
 * unchanged either way.
 *
 * How the calls find the profiler: in position-independent code (PIE executables, Debian's
 * and most distributions' default, and shared libraries: __PIE__ or __PIC__ defined) through
 * weak references, which the dynamic linker binds to libprofreg.so when it is loaded and leaves
 * null otherwise. Code built without -fPIE/-fPIC cannot see a weak symbol appear at load time,
 * so there each function is looked up once with dlsym (in the C library from glibc 2.34; older
 * glibc needs -ldl there) and the answer kept.
 *
 *   profreg_pause() / profreg_resume()   the calling thread is not sampled in between (nests)
 *   profreg_flush(path)                  write a profile of the samples so far; sampling goes on
 *   profreg_region_begin(name) / _end()  samples of the calling thread in between are recorded
 *                                        under the region (nested regions: "outer/inner")
 *   PROFREG_REGION(name)                 C: a region until the end of the enclosing block
 *   profreg::Region r("name");           C++: a region for the guard's lifetime
 *   profreg::Pause p;                    C++: the calling thread paused for the guard's lifetime
 *
 * Every function may be called from any thread, at any time, profiled or not. None may be
 * called from a signal handler (profreg_flush symbolizes and allocates; the region functions
 * may allocate the first time they see a name). */
#ifndef PROFREG_H
#define PROFREG_H

/* The API's version: major * 10000 + minor * 100 + patch. */
#define PROFREG_API_VERSION_MAJOR 1
#define PROFREG_API_VERSION_MINOR 0
#define PROFREG_API_VERSION_PATCH 0
#define PROFREG_API_VERSION                                                                        \
    (PROFREG_API_VERSION_MAJOR * 10000 + PROFREG_API_VERSION_MINOR * 100 +                         \
     PROFREG_API_VERSION_PATCH)

/* Longest region name kept, in bytes; a longer name is cut there (at a character boundary). */
#define PROFREG_REGION_NAME_MAX 128

/* Deepest nesting of regions recorded; regions begun deeper are counted (so that each end
 * matches its begin) but the samples stay in the region 32 levels down. */
#define PROFREG_REGION_DEPTH_MAX 32

#include <errno.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The functions libprofreg.so exports. Call them through the wrappers below, which do nothing
 * when the profiler is not loaded. */
int profreg_api_active(void);
void profreg_api_pause(void);
void profreg_api_resume(void);
int profreg_api_flush(const char *path);
void profreg_api_region_begin(const char *name);
void profreg_api_region_end(void);

#if defined(PROFREG_BUILDING_LIBRARY)
#define PROFREG__FN(name) (&name)
#elif defined(__PIE__) || defined(__PIC__) || defined(__pie__) || defined(__pic__)
#pragma weak profreg_api_active
#pragma weak profreg_api_pause
#pragma weak profreg_api_resume
#pragma weak profreg_api_flush
#pragma weak profreg_api_region_begin
#pragma weak profreg_api_region_end
#define PROFREG__FN(name) (&name)
#else
/* Without position-independent code: looked up once per function and translation unit
 * ((void *)0 is glibc's RTLD_DEFAULT, which <dlfcn.h> names only under _GNU_SOURCE). */
#ifdef __cplusplus
} /* extern "C" */
#endif
#include <dlfcn.h>
#ifdef __cplusplus
extern "C" {
#endif
static inline void *profreg__lookup(void **slot, const char *symbol)
{
    void *fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    if (!fn) {
        fn = dlsym((void *)0, symbol);
        __atomic_store_n(slot, fn ? fn : (void *)1, __ATOMIC_RELEASE);
    }
    return fn == (void *)1 ? (void *)0 : fn;
}
#define PROFREG__FN(name)                                                                          \
    (__extension__((__typeof__(&name))({                                                           \
        static void *profreg__slot;                                                                \
        profreg__lookup(&profreg__slot, #name);                                                    \
    })))
#endif

/* 1 when this process is being profiled (libprofreg.so loaded and sampling), else 0. */
static inline int profreg_active(void)
{
    __typeof__(&profreg_api_active) fn = PROFREG__FN(profreg_api_active);
    return fn ? fn() : 0;
}

/* Stops sampling the calling thread until the matching profreg_resume(): its CPU time meanwhile
 * is in no stack (the profile's summary.paused_samples counts it). Calls nest: the thread is
 * sampled again when every pause has been resumed. Other threads are not affected. */
static inline void profreg_pause(void)
{
    __typeof__(&profreg_api_pause) fn = PROFREG__FN(profreg_api_pause);
    if (fn)
        fn();
}

/* Ends one profreg_pause() of the calling thread; without one, does nothing. */
static inline void profreg_resume(void)
{
    __typeof__(&profreg_api_resume) fn = PROFREG__FN(profreg_api_resume);
    if (fn)
        fn();
}

/* Writes a profile of everything sampled since the process started being profiled, now;
 * sampling goes on, and the profile written at exit still holds the whole run. path: the file
 * to write (as PROFREG_OUTPUT: a directory, ending in '/' or existing, gets a new default file
 * name), or NULL for where the profile at exit goes (a fixed PROFREG_OUTPUT file is written now
 * and replaced at exit). The calling thread is not sampled while it symbolizes. Returns 0, or
 * -1 with errno set (ENOSYS: not profiled; EIO: the profile could not be written, with one line
 * on stderr saying why). Not from a signal handler. */
static inline int profreg_flush(const char *path)
{
    __typeof__(&profreg_api_flush) fn = PROFREG__FN(profreg_api_flush);
    if (fn)
        return fn(path);
    errno = ENOSYS;
    return -1;
}

/* Starts a region of the calling thread: its samples until the matching profreg_region_end()
 * are recorded under the region's name, or under "outer/inner" inside another region. A NULL
 * or empty name is "[unnamed]". Cheap after the first use of a name at the same nesting. */
static inline void profreg_region_begin(const char *name)
{
    __typeof__(&profreg_api_region_begin) fn = PROFREG__FN(profreg_api_region_begin);
    if (fn)
        fn(name);
}

/* Ends the calling thread's innermost region. Without one open: ignored (one line on stderr,
 * once per process). */
static inline void profreg_region_end(void)
{
    __typeof__(&profreg_api_region_end) fn = PROFREG__FN(profreg_api_region_end);
    if (fn)
        fn();
}

#ifdef __cplusplus
} /* extern "C" */
#endif

/* C (GCC, Clang): a region from here to the end of the enclosing block, however the block is
 * left (return, break, goto; not longjmp). One per line. */
#define PROFREG__CAT2(a, b) a##b
#define PROFREG__CAT(a, b)  PROFREG__CAT2(a, b)
static inline void profreg__region_cleanup(int *unused)
{
    (void)unused;
    profreg_region_end();
}
#define PROFREG_REGION(name)                                                                       \
    __attribute__((cleanup(profreg__region_cleanup), unused)) int PROFREG__CAT(                    \
        profreg__region_, __LINE__) = (profreg_region_begin(name), 0)

#ifdef __cplusplus
namespace profreg {

/* A region for the guard's lifetime: { profreg::Region r("parse"); ... } */
class Region {
  public:
    explicit Region(const char *name) { profreg_region_begin(name); }
    ~Region() { profreg_region_end(); }
    Region(const Region &) = delete;
    Region &operator=(const Region &) = delete;
};

/* The calling thread not sampled for the guard's lifetime. */
class Pause {
  public:
    Pause() { profreg_pause(); }
    ~Pause() { profreg_resume(); }
    Pause(const Pause &) = delete;
    Pause &operator=(const Pause &) = delete;
};

/* profreg_flush for C++: true when written. */
inline bool flush(const char *path = nullptr) { return profreg_flush(path) == 0; }

} // namespace profreg
#endif

#endif
