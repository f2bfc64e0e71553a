/* SPDX-License-Identifier: MIT */
/* api.h — the public API's state inside the preload: per-thread pause counts and region stacks,
 * read by the SIGPROF handler, and the table of region paths, read when a profile is written.
 *
 * A region path ("outer/inner") gets a small id (1, 2, ...; 0: no region) when a thread first
 * begins it; the id is what the handler records. It travels through the stack table as one
 * extra entry after a sample's frames, API_REGION_TAG | id: no code address has those high
 * bits, so the entry cannot be mistaken for a frame, and equal stacks in different regions stay
 * different entries of the table. */
#ifndef PROFREG_API_H
#define PROFREG_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Marks the stack table entry that carries a sample's region id (bits 48..62: "RP"; user-space
 * addresses stay below bit 47 (bit 56 with five-level paging), and bit 63 is PB_EXACT_PC). */
#define API_REGION_TAG  (UINT64_C(0x5250) << 48)
#define API_REGION_MASK (UINT64_C(0x7fff) << 48)
#define API_REGION_ID_MASK UINT64_C(0xffffffff)

/* Distinct region paths per process; the last id collects every path past the limit, under
 * API_REGION_OVERFLOW_NAME. */
#define API_MAX_REGIONS          4096
#define API_REGION_OVERFLOW_NAME "[too many regions]"

/* Is this stack table entry a region tag (and not a frame)? */
static inline bool api_is_region_tag(uint64_t entry)
{
    return (entry & API_REGION_MASK) == API_REGION_TAG;
}

/* The life cycle's side of the API (preload.c). flush writes a profile to path (NULL: where
 * the profile at exit goes), returning 0 or -1 with errno set; active tells whether the process
 * is being profiled. */
struct api_hooks {
    int (*flush)(const char *path);
    bool (*active)(void);
};

/* Sets the hooks and the fork handlers of the region table's lock. Once, at load. */
void api_init(const struct api_hooks *hooks);

/* runs in the SIGPROF handler: is the calling thread paused (profreg_pause)? */
bool api_thread_paused(void);

/* runs in the SIGPROF handler: the calling thread's region id, 0 when it is in none. */
uint32_t api_thread_region(void);

/* The path of region id (1 ... api_region_count()), NULL for any other id. Not in the handler. */
const char *api_region_path(uint32_t id);

/* Region ids handed out so far (the largest id). */
uint32_t api_region_count(void);

/* The calling thread is paused (or resumed) by profreg itself: while it writes a profile. */
void api_pause_self(void);
void api_resume_self(void);

#endif
