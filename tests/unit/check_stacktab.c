/* SPDX-License-Identifier: MIT */
/* check_stacktab.c — the lock-free stack table: merging, capacity limits, lost samples,
 * concurrent inserts from several threads, reset, an insert stopped halfway. */
#include "testutil.h"

#include "stacktab.h"

#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct seen {
    size_t entries;
    uint64_t total;
    uint64_t count_of_first; /* count of the stack {1, 2, 3} */
};

static void visit(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx)
{
    struct seen *s = ctx;
    s->entries++;
    s->total += count;
    if (depth == 3 && pcs[0] == 1 && pcs[1] == 2 && pcs[2] == 3)
        s->count_of_first += count;
}

START_TEST(test_equal_stacks_merge_and_weights_add)
{
    struct stacktab *t = stacktab_create(1024);
    ck_assert_ptr_nonnull(t);
    uint64_t a[] = {1, 2, 3}, b[] = {1, 2, 4}, c[] = {1, 2};
    ck_assert_int_eq(stacktab_insert(t, a, 3, 1), 0);
    ck_assert_int_eq(stacktab_insert(t, a, 3, 4), 0);
    ck_assert_int_eq(stacktab_insert(t, b, 3, 1), 0);
    ck_assert_int_eq(stacktab_insert(t, c, 2, 2), 0); /* a prefix is a different stack */
    struct seen s = {0};
    stacktab_foreach(t, visit, &s);
    ck_assert_uint_eq(s.entries, 3);
    ck_assert_uint_eq(s.total, 8);
    ck_assert_uint_eq(s.count_of_first, 5);
    ck_assert_uint_eq(stacktab_distinct(t), 3);
    ck_assert_uint_eq(stacktab_lost(t), 0);
    stacktab_destroy(t);
}
END_TEST

static void note_first_pc(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx)
{
    (void)depth;
    (void)count;
    uint64_t **at = ctx;
    *(*at)++ = pcs[0];
}

/* The reader visits the entries in the order they were first inserted (not in the table's
 * slot order, which follows the stacks' hashes). */
START_TEST(test_entries_visited_in_insertion_order)
{
    struct stacktab *t = stacktab_create(1024);
    uint64_t pcs[3] = {0, 42, 43}, got[40], *at = got;
    for (uint64_t i = 0; i < 20; i++) {
        pcs[0] = 1000 - 37 * i;
        ck_assert_int_eq(stacktab_insert(t, pcs, 3, 1), 0);
    }
    pcs[0] = 1000; /* again: merged into the first entry */
    ck_assert_int_eq(stacktab_insert(t, pcs, 3, 1), 0);
    ck_assert_uint_eq(stacktab_foreach(t, note_first_pc, &at), 0);
    ck_assert_uint_eq((size_t)(at - got), 20);
    for (uint64_t i = 0; i < 20; i++)
        ck_assert_uint_eq(got[i], 1000 - 37 * i);
    stacktab_destroy(t);
}
END_TEST

START_TEST(test_full_table_counts_lost_weight)
{
    struct stacktab *t = stacktab_create(256);
    uint64_t pcs[4] = {0};
    uint64_t inserted = 0, lost_expected = 0;
    for (uint64_t i = 0; i < 300; i++) {
        pcs[0] = i + 1;
        if (stacktab_insert(t, pcs, 4, 2) == 0)
            inserted += 2;
        else
            lost_expected += 2;
    }
    ck_assert_uint_eq(stacktab_distinct(t), 256);
    ck_assert_uint_eq(lost_expected, 2 * 44);
    ck_assert_uint_eq(stacktab_lost(t), lost_expected);
    /* A stack already present still counts when the table is full. */
    pcs[0] = 1;
    ck_assert_int_eq(stacktab_insert(t, pcs, 4, 1), 0);
    struct seen s = {0};
    stacktab_foreach(t, visit, &s);
    ck_assert_uint_eq(s.total, inserted + 1);
    stacktab_destroy(t);
}
END_TEST

START_TEST(test_frame_pool_exhaustion_is_lost_not_dropped)
{
    struct stacktab *t = stacktab_create(256);
    uint64_t deep[256];
    memset(deep, 0, sizeof deep);
    uint64_t lost = 0, kept = 0;
    /* 256 stacks x 256 frames needs more than 256 * STACKTAB_AVG_DEPTH frames. */
    for (uint64_t i = 0; i < 256; i++) {
        deep[0] = i + 1;
        if (stacktab_insert(t, deep, 256, 1) == 0)
            kept++;
        else
            lost++;
    }
    ck_assert_uint_eq(kept, 256 * STACKTAB_AVG_DEPTH / 256);
    ck_assert_uint_eq(stacktab_lost(t), lost);
    ck_assert_uint_eq(kept + lost, 256);
    stacktab_destroy(t);
}
END_TEST

#define THREADS    4
#define PER_THREAD 20000

static struct stacktab *shared;

static void *hammer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t pcs[8];
    for (uint64_t i = 0; i < PER_THREAD; i++) {
        for (int k = 0; k < 8; k++)
            pcs[k] = 100 + (i % 50) * 8 + (uint64_t)k; /* 50 stacks shared by every thread */
        pcs[7] += (id % 2) * 1000;                     /* ...in two families */
        stacktab_insert(shared, pcs, 8, 1);
    }
    return NULL;
}

static void visit_sum(const uint64_t *pcs, uint32_t depth, uint64_t count, void *ctx)
{
    (void)pcs;
    (void)depth;
    *(uint64_t *)ctx += count;
}

START_TEST(test_concurrent_inserts_lose_nothing)
{
    shared = stacktab_create(4096);
    pthread_t t[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, hammer, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    uint64_t total = 0;
    stacktab_foreach(shared, visit_sum, &total);
    ck_assert_uint_eq(total + stacktab_lost(shared), (uint64_t)THREADS * PER_THREAD);
    ck_assert_uint_eq(stacktab_lost(shared), 0);
    /* 100 distinct stacks; a race may add a duplicate entry, never more than one per thread. */
    ck_assert_uint_ge(stacktab_distinct(shared), 100);
    ck_assert_uint_le(stacktab_distinct(shared), 100 * THREADS);
    stacktab_destroy(shared);
}
END_TEST

START_TEST(test_reset_empties_the_table)
{
    struct stacktab *t = stacktab_create(1024);
    uint64_t a[] = {7, 8, 9};
    for (int i = 0; i < 3000; i++) {
        a[0] = (uint64_t)i;
        stacktab_insert(t, a, 3, 1);
    }
    stacktab_reset(t);
    struct seen s = {0};
    stacktab_foreach(t, visit, &s);
    ck_assert_uint_eq(s.entries, 0);
    ck_assert_uint_eq(stacktab_lost(t), 0);
    ck_assert_uint_eq(stacktab_distinct(t), 0);
    a[0] = 1;
    ck_assert_int_eq(stacktab_insert(t, a, 3, 1), 0);
    stacktab_foreach(t, visit, &s);
    ck_assert_uint_eq(s.entries, 1);
    stacktab_destroy(t);
}
END_TEST

static sigjmp_buf stopped_insert;

static void stop_insert(int sig)
{
    (void)sig;
    siglongjmp(stopped_insert, 1);
}

/* An insert stopped halfway (a handler the exit's wait gave up on, or one a fork left in the
 * copy): it claimed a slot and wrote some frames, then stopped for good, here by a write
 * fault in the frame pool. The reader must not see that entry, and must say it skipped one. */
START_TEST(test_reader_skips_an_insert_stopped_halfway)
{
    struct stacktab *t = stacktab_create(1024);
    long page = sysconf(_SC_PAGESIZE);
    uint64_t first[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    bool added;
    long slot = stacktab_insert_slot(t, first, 1, 1, &added);
    ck_assert(slot >= 0 && added);
    uint32_t depth;
    uint64_t count;
    const uint64_t *pool = stacktab_slot(t, (size_t)slot, &depth, &count); /* the pool's start */
    ck_assert_ptr_nonnull(pool);
    /* a second stack filling the pool up to 4 frames before a page boundary: the next
     * stack's frames straddle it */
    uintptr_t boundary = ((uintptr_t)(pool + 1) + 5 * sizeof *pool + (uintptr_t)page - 1) &
                         ~((uintptr_t)page - 1);
    uint32_t fill = (uint32_t)((boundary - (uintptr_t)(pool + 1)) / sizeof *pool) - 4;
    uint64_t *big = calloc(fill, sizeof *big);
    big[0] = 99;
    ck_assert_int_eq(stacktab_insert(t, big, fill, 2), 0);
    ck_assert_int_eq(mprotect((void *)boundary, (size_t)page, PROT_READ), 0);

    struct sigaction sa = {0}, old;
    sa.sa_handler = stop_insert;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old);
    uint64_t half[16];
    for (int i = 0; i < 16; i++)
        half[i] = 1000 + (uint64_t)i;
    volatile bool faulted = false;
    if (sigsetjmp(stopped_insert, 1) == 0)
        stacktab_insert(t, half, 16, 5); /* writes 4 frames, then faults */
    else
        faulted = true;
    sigaction(SIGSEGV, &old, NULL);
    ck_assert(faulted);
    ck_assert_int_eq(mprotect((void *)boundary, (size_t)page, PROT_READ | PROT_WRITE), 0);

    struct seen s = {0};
    uint64_t total = 0;
    ck_assert_uint_eq(stacktab_foreach(t, visit, &s), 1); /* skipped, and said so */
    ck_assert_uint_eq(s.entries, 2);
    stacktab_foreach(t, visit_sum, &total);
    ck_assert_uint_eq(total, 1 + 2); /* none of the stopped insert's weight */
    ck_assert_uint_eq(stacktab_distinct(t), 2);
    /* the same stack inserted again goes to another slot, complete */
    ck_assert_int_eq(stacktab_insert(t, half, 16, 5), 0);
    total = 0;
    ck_assert_uint_eq(stacktab_foreach(t, visit_sum, &total), 1);
    ck_assert_uint_eq(total, 1 + 2 + 5);
    free(big);
    stacktab_destroy(t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stacktab");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_equal_stacks_merge_and_weights_add);
    tcase_add_test(tc, test_entries_visited_in_insertion_order);
    tcase_add_test(tc, test_full_table_counts_lost_weight);
    tcase_add_test(tc, test_frame_pool_exhaustion_is_lost_not_dropped);
    tcase_add_test(tc, test_concurrent_inserts_lose_nothing);
    tcase_add_test(tc, test_reset_empties_the_table);
    tcase_add_test(tc, test_reader_skips_an_insert_stopped_halfway);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
