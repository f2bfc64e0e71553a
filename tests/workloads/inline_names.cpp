/* SPDX-License-Identifier: MIT */
// inline_names.cpp — C++ code whose hot frames are inlined functions with long qualified
// names: Eigen expression templates and SSE intrinsics, a lambda inlined into a member
// function template, a function GCC clones (.constprop) for a constant argument, and glibc's
// malloc/free and qsort called in loops (their public names, not glibc's internal aliases).
// tests/integration/check_names.c profiles it and checks every name against c++filt.
// Built with -I/usr/include/eigen3 (Makefile).
#include "burn.h"

#include <Eigen/Dense>
#include <cstdio>
#include <cstdlib>
#include <vector>

volatile double dsink;
volatile uint64_t usink;

namespace wl {

// A class template whose member template inlines Eigen and a lambda into itself.
template <typename Scalar> class Physics {
  public:
    explicit Physics(int n) : pos_(Eigen::Matrix<Scalar, Eigen::Dynamic, 1>::Ones(n)) {}

    template <int Steps> __attribute__((noinline)) Scalar stepWorld(const Eigen::Matrix4d &m)
    {
        Eigen::Vector4d v(1.0, 2.0, 3.0, 4.0);
        Scalar acc = 0;
        auto damp = [&acc](Scalar x, int k) { acc += x * (Scalar)(k & 3) * Scalar(0.5); };
        for (int s = 0; s < Steps; s++) {
            v = m * v;
            v.normalize();
            for (Eigen::Index i = 0; i < pos_.size(); i++)
                damp(pos_.coeff(i) * v.coeff(i & 3), (int)i);
        }
        return acc + v.sum();
    }

  private:
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> pos_;
};

namespace detail {
// Not inlined, internal, called only with factor 3: GCC specializes it as
// scale_sum(...) [clone .constprop.0].
__attribute__((noinline)) static double scale_sum(const std::vector<double> &v, int rounds, int factor)
{
    double s = 0;
    for (int r = 0; r < rounds; r++)
        for (double x : v)
            s += x * factor + (double)r;
    return s;
}
} // namespace detail

} // namespace wl

namespace {
// Internal linkage: GCC gives its inlined member no linkage name at all.
struct Accum {
    double total = 0;
    void add(double x) { total += x * 0.5; }
};
} // namespace

// A static function (no linkage name) with a lambda inlined into it, calling into Accum.
__attribute__((noinline)) static double smooth(const std::vector<double> &v, unsigned rounds)
{
    Accum acc;
    auto kernel = [&acc](double x, double y) { acc.add(x * y + 1.0); };
    for (unsigned r = 0; r < rounds; r++)
        for (size_t i = 1; i < v.size(); i++)
            kernel(v[i - 1], v[i] + (double)r);
    return acc.total;
}

namespace wl {

// Dynamic-size products: Eigen's GEMM kernels, with their packet functions inlined.
__attribute__((noinline)) double multiply(const Eigen::MatrixXd &a, const Eigen::MatrixXd &b)
{
    Eigen::MatrixXd c = a * b;
    return c.trace();
}

} // namespace wl

extern "C" {
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
}

// glibc's allocator: many small blocks, allocated and freed in turn.
__attribute__((noinline)) static void churn_malloc(unsigned rounds)
{
    for (unsigned r = 0; r < rounds; r++) {
        void *p[64];
        for (int i = 0; i < 64; i++)
            p[i] = std::malloc(16 + (size_t)((i * 7 + r) & 255));
        for (int i = 0; i < 64; i++)
            std::free(p[(i * 5) & 63]);
        usink += (uint64_t)(uintptr_t)p[r & 63] & 1;
    }
}

// glibc's qsort on a shuffled array.
__attribute__((noinline)) static void sort_rounds(unsigned rounds)
{
    std::vector<double> v(4096);
    for (unsigned r = 0; r < rounds; r++) {
        uint64_t x = 88172645463325252ull + r;
        for (double &d : v) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            d = (double)(x & 0xffff);
        }
        std::qsort(v.data(), v.size(), sizeof(double), cmp_double);
        dsink = dsink + v[r & 4095];
    }
}

int main(int argc, char **argv)
{
    unsigned scale = burn_scale(argc, argv);
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity() * 0.5 + Eigen::Matrix4d::Constant(0.1);
    wl::Physics<double> phys(4096);
    Eigen::MatrixXd a = Eigen::MatrixXd::Random(160, 160), b = Eigen::MatrixXd::Random(160, 160);
    std::vector<double> v(20000, 1.5);
    for (unsigned r = 0; r < 4 * scale; r++) {
        dsink = dsink + phys.stepWorld<2000>(m);
        for (int k = 0; k < 25; k++)
            dsink = dsink + wl::multiply(a, b);
        dsink = dsink + smooth(v, 300);
        dsink = dsink + wl::detail::scale_sum(v, 400, 3);
        churn_malloc(40000);
        sort_rounds(30);
    }
    std::printf("inline_names done\n");
    return 0;
}
