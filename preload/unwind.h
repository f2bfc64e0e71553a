/* SPDX-License-Identifier: MIT */
/* unwind.h — the interrupted call stack, captured in the SIGPROF handler with libunwind, which
 * reads only memory profreg knows is there and uses no descriptor and no system call of its own.
 *
 * Memory the handler's unwinder may read: the sampled thread's stack (its bounds recorded when
 * the thread starts being sampled), the signal stack the sample was taken on, and the segments
 * of the loaded modules (recorded at start and after every dlopen/dlclose). */
#ifndef PROFREG_UNWIND_H
#define PROFREG_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest stack captured, in frames; deeper stacks keep their leaf-most frames. */
#define UNWIND_MAX_DEPTH 256

/* Frames above the interrupted one (the handler's) the fast path may find first, at most. */
#define UNWIND_SKIP_ROOM 16

/* Stack the handler's unwinding needs below its frame (measured, with a margin: see
 * docs/design.md); with less left on a stack it knows, the sample is skipped and counted. */
#define UNWIND_STACK_NEED (12 * 1024)

/* Starts libunwind for profreg (in the constructor, before any sampling): its memory
 * accessor is replaced by profreg's for profreg's own unwinding, the descriptors it opens at
 * start go to 512 or above, the loaded modules are recorded. fast: unwind through libunwind's
 * per-thread frame cache first (PROFREG_UNWIND). Returns 0, or -1 with err set. */
int unwind_init(bool fast, char *err, size_t errlen);

/* In a thread about to be sampled: records its stack's bounds and warms the frame cache. */
void unwind_thread_start(void);

/* Records the loaded modules again (after dlopen/dlclose; never in the handler), leaving out
 * the one loaded at `closing` (a library about to be closed: its segments may go at any
 * moment), 0 for none. */
void unwind_modules_changed(uintptr_t closing);

/* In a forked child (one thread): the record's lock, which another thread of the parent may
 * have held, is made anew. */
void unwind_after_fork(void);

/* Is the calling thread inside profreg's use of libunwind (so that a descriptor libunwind
 * creates now is profreg's, to be moved out of the program's numbers)? */
bool unwind_in_progress(void);

/* Does the calling thread run inside a signal handler (it is on its signal stack, or a signal
 * frame is among its callers)? Also true when its stack cannot be walked to the end (a stack
 * profreg does not know, frames without unwind information): "perhaps" counts as yes.
 * Async-signal-safe (no allocation, no lock, reads only known memory); for the exit paths. */
bool unwind_in_signal_handler(void);

/* Outside any signal handler of profreg's (the allocation sampler, memprof.c): the calling
 * thread's stack from its caller outwards, return addresses, innermost first, at most max, read
 * as the handler reads (known memory only; a thread not seen before has its stack's bounds
 * recorded first, which may allocate). SIGPROF is blocked meanwhile, so that a sample does not
 * interrupt it. Returns the number of frames (0 when the calling thread is already inside
 * profreg's unwinding). */
int unwind_backtrace(uint64_t *pcs, int max);

/* runs in the SIGPROF handler: the interrupted stack of ucontext, leaf first, the interrupted
 * instruction marked exact (PB_EXACT_PC), in thread-local memory valid until the thread's next
 * sample; *n frames, and room for one more entry after them, the caller's to write (the
 * sample's region tag, api.h). NULL when too little stack is left below the handler to unwind (the
 * sample is to be skipped). On a stack profreg does not know (a coroutine's), only the
 * interrupted instruction is taken. */
uint64_t *unwind_capture(void *ucontext, uint32_t *n, bool *truncated);

#endif
