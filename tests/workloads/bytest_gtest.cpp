/* SPDX-License-Identifier: MIT */
// bytest_gtest.cpp — a gtest executable whose per-test CPU split is fixed by work counts, for
// the per-test attribution test (tests/integration/check_bytest.c). Linked against Debian's
// libgtest (libgtest-dev). Work units (burn.h), times the scale from BYTEST_SCALE (default 1):
//
//   Split.Heavy                          700   58.3 %
//   Split.Light                          300   25.0 %
//   Fix (SetUp/TearDown)   SetUp 60 + TearDown 40   8.3 %
//   Fix.Body                             100    8.3 %
//
// BURN expands inside TestBody, SetUp and TearDown themselves, so the work belongs to those
// frames. About 0.36 s of CPU at scale 1. BYTEST_SLOW_LIGHT=1 doubles Split.Light (a test
// time regression of +100 %).
#include "burn.h"

#include <cstdlib>
#include <gtest/gtest.h>

static volatile uint64_t sink;

static unsigned scale()
{
    const char *s = getenv("BYTEST_SCALE");
    long v = s ? strtol(s, nullptr, 10) : 1;
    return v > 0 ? (unsigned)v : 1u;
}

TEST(Split, Heavy)
{
    uint64_t x = 88172645463325252ull;
    BURN(700u * scale(), x);
    sink = x;
    EXPECT_NE(x, 0u);
}

TEST(Split, Light)
{
    uint64_t x = 88172645463325253ull;
    BURN(300u * scale() * (getenv("BYTEST_SLOW_LIGHT") ? 2 : 1), x);
    sink = x;
    EXPECT_NE(x, 0u);
}

class Fix : public ::testing::Test
{
  protected:
    void SetUp() override
    {
        uint64_t x = 7;
        BURN(60u * scale(), x);
        sink = x;
    }
    void TearDown() override
    {
        uint64_t x = 9;
        BURN(40u * scale(), x);
        sink = x;
    }
};

TEST_F(Fix, Body)
{
    uint64_t x = 11;
    BURN(100u * scale(), x);
    sink = x;
    EXPECT_NE(x, 0u);
}
