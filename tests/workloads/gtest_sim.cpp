/* SPDX-License-Identifier: MIT */
// gtest_sim.cpp — a realistic gtest executable for profiling: 32 tests in 11 suites (plain,
// fixture, parameterized and typed tests), a fixture with a real SetUp(), Eigen code inlined
// into the functions that do the work, a function GCC clones (`sim::hull_volume(...) [clone
// .constprop.0]`; gone when built with -fno-ipa-cp, as gtest_sim_noclone is), and a background
// "recorder" thread that burns CPU and writes a temporary file while the tests run. Linked
// against Debian's libgtest.a, which has no debug info: gtest's runner frames are named from
// the symbol table.
//
// CPU shares are fixed by work counts: each function runs reps(NAME, BASE) iterations of fixed
// work (Contact::resolve: per_call(NAME, BASE) per call), so its share of the process's CPU is
// the same from run to run and at any SIM_SCALE. The knobs, read once from the environment:
//
//   SIM_SCALE=X           multiplies every work count (default 1: about 0.95 s of CPU;
//                         check_realistic's slow case uses 4)
//   SIM_SLOW_FUNC=NAME    multiplies by F the work of the function with this qualified name,
//   SIM_SLOW_FACTOR=F     no parameter list (sim::Integrator::step, sim::Contact::resolve, ...;
//                         default F 2.0)
//
// Shares measured on the project's machines (Debian 12, 2 vCPUs shared with other jobs, HZ=250):
//   perf:    SIM_SCALE=4 perf record -e cpu-clock -F 1000 --call-graph dwarf,16384 gtest_sim
//            perf report --no-children (self, inlined code folded into the function it was
//            inlined into, as perf attributes it) and --children (inclusive)
//   profreg: SIM_SCALE=4 profreg record -- gtest_sim: `percentage` (inclusive), and the folded
//            self share from `stacks` (innermost frame not marked `inlined`)
//
//   function                                       perf incl / self     profreg incl / self
//   sim::Broadphase::collide                         26.3 / 26.1          25.7 / 25.7
//   sim::ContactSolver::solve                        18.1 / 16.2          18.9 / 17.4
//   sim::hull_volume [clone .constprop.0]            14.8 / 14.7          14.4 / 14.4
//   sim::Integrator::step       (≥ 5 %: doubled)     11.1 / 11.0          10.9 / 10.9
//   sim::Recorder::encode_frame (recorder thread)     8.5 /  8.2           8.5 /  8.5
//   sim::World::build (SetUp; out-of-line Eigen QR)   8.1 /  0.2           8.1 /  0.4
//   sim::typed_volume<double>                         2.4 /  2.4           2.5 /  2.5
//   sim::Contact::resolve       (≈ 1 %: slowed 2.5x)  1.4 /  1.4           1.2 /  1.2
//   main (the rest of the process: the recorder)     91.4                 91.5
//
// At SIM_SCALE=1, 5 runs, profreg: collide 26.0, solve 19.2 / 17.2, hull_volume 15.4, step
// 11.1, World::build 8.0 / 0.1, encode_frame 6.1, resolve 1.5; a run's share of a function
// varies by 0.4–1.9 points (sd) on these shared machines.
// clang-format off
#include <gtest/gtest.h>

#include <Eigen/Dense>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace sim {

volatile double sink;

// ---- knobs ------------------------------------------------------------------------------
struct Knobs {
    double scale = 1.0;
    const char *slow_func = nullptr;
    double slow_factor = 2.0;
};

static const Knobs &knobs()
{
    static const Knobs k = [] {
        Knobs r;
        if (const char *s = std::getenv("SIM_SCALE")) {
            double v = std::strtod(s, nullptr);
            if (v > 0)
                r.scale = v;
        }
        if (const char *s = std::getenv("SIM_SLOW_FUNC"); s && *s)
            r.slow_func = s;
        if (const char *s = std::getenv("SIM_SLOW_FACTOR")) {
            double v = std::strtod(s, nullptr);
            if (v > 0)
                r.slow_factor = v;
        }
        return r;
    }();
    return k;
}

// Iterations of fixed work for the function called name: base × SIM_SCALE, × SIM_SLOW_FACTOR
// when SIM_SLOW_FUNC names it. Called once per function (cached in a static), never in a loop.
long reps(const char *name, double base)
{
    const Knobs &k = knobs();
    double r = base * k.scale;
    if (k.slow_func && std::strcmp(k.slow_func, name) == 0)
        r *= k.slow_factor;
    long n = std::lround(r);
    return n > 0 ? n : 1;
}

// Iterations of work done per call by a function whose calls are already counted by reps():
// base, × SIM_SLOW_FACTOR when SIM_SLOW_FUNC names it, never × SIM_SCALE (that would scale
// the function twice and change its share with the scale).
long per_call(const char *name, double base)
{
    const Knobs &k = knobs();
    double r = base;
    if (k.slow_func && std::strcmp(k.slow_func, name) == 0)
        r *= k.slow_factor;
    long n = std::lround(r);
    return n > 0 ? n : 1;
}

// ---- the model --------------------------------------------------------------------------
using Vec3 = Eigen::Vector3d;
using Mat3 = Eigen::Matrix3d;
using Vec6 = Eigen::Matrix<double, 6, 1>;
using Mat6 = Eigen::Matrix<double, 6, 6>;

struct Body {
    Mat6 mass;
    Vec6 state;
    Vec3 lo, hi;
};

struct World {
    std::vector<Body> bodies;
    Mat6 rotation;
    double dt = 0.01;

    static World build(int n, unsigned seed);
};

// A deterministic pseudo-random number in [-1, 1).
static double lcg(uint64_t &s)
{
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(s >> 11) / (double)(1ULL << 52) - 1.0;
}

// n bodies, each with a small symmetric mass matrix; the rotation is the Q of a Householder
// QR (orthogonal, so states stay bounded). The QRs are the fixture's SetUp cost.
__attribute__((noinline)) World World::build(int n, unsigned seed)
{
    static const long qr_reps = reps("sim::World::build", 2500);
    World w;
    uint64_t s = seed * 2654435761u + 1;
    w.bodies.resize((size_t)n);
    Mat6 a;
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
            a(i, j) = lcg(s);
    double trace = 0;
    for (long r = 0; r < qr_reps; r++) {
        Eigen::HouseholderQR<Mat6> qr(a + Mat6::Identity() * (1e-3 * (double)(r & 3)));
        w.rotation = qr.householderQ();
        trace += w.rotation.trace();
        a(r % 6, (r / 6) % 6) += 1e-6 * trace;
    }
    sink = trace;
    for (int i = 0; i < n; i++) {
        Body &b = w.bodies[(size_t)i];
        Mat6 m;
        for (int r = 0; r < 6; r++)
            for (int c = 0; c < 6; c++)
                m(r, c) = 0.01 * lcg(s);
        b.mass = 0.5 * (m + m.transpose());
        for (int r = 0; r < 6; r++)
            b.state(r) = lcg(s);
        b.state.normalize();
        Vec3 c(10 * lcg(s), 10 * lcg(s), 10 * lcg(s));
        Vec3 half(0.5 + std::fabs(lcg(s)), 0.5 + std::fabs(lcg(s)), 0.5 + std::fabs(lcg(s)));
        b.lo = c - half;
        b.hi = c + half;
    }
    return w;
}

// Integrator::step: ≥ 5 % inclusive, nearly all of it Eigen code inlined into it (6×6
// products, a normalisation). The function check_realistic doubles.
struct Integrator {
    __attribute__((noinline)) static double step(World &w, int substeps);
};

double Integrator::step(World &w, int substeps)
{
    static const long n = reps("sim::Integrator::step", 3300);
    double e = 0;
    for (long k = 0; k < n * substeps; k++) {
        for (Body &b : w.bodies) {
            Vec6 f = w.rotation * b.state;
            b.state = (f + w.dt * (b.mass * f)).normalized();
        }
    }
    for (const Body &b : w.bodies)
        e += b.state.squaredNorm();
    return e;
}

// Broadphase::collide: all pairs of boxes, jittered each pass so no pass is like another.
struct Broadphase {
    __attribute__((noinline)) static long collide(const World &w, int passes);
};

long Broadphase::collide(const World &w, int passes)
{
    static const long n = reps("sim::Broadphase::collide", 13000);
    long hits = 0;
    const size_t nb = w.bodies.size();
    for (long p = 0; p < n * passes; p++) {
        Vec3 jitter = Vec3::Constant(1e-3 * (double)(p & 7));
        for (size_t i = 0; i < nb; i++) {
            Vec3 lo = w.bodies[i].lo + jitter, hi = w.bodies[i].hi + jitter;
            for (size_t j = i + 1; j < nb; j++)
                hits += (lo.array() <= w.bodies[j].hi.array()).all() &&
                        (w.bodies[j].lo.array() <= hi.array()).all();
        }
    }
    return hits;
}

// Contact::resolve: small and hot — a few Gauss-Seidel sweeps on one contact's 3×3 system,
// all inlined Eigen; about 1 % of the CPU, its own frame holding almost no self samples
// until inlined code is folded into it. The function check_realistic's slow test slows 2.5×.
struct Contact {
    Mat3 K;
    Vec3 rhs, impulse;
    __attribute__((noinline)) void resolve();
};

void Contact::resolve()
{
    static const long n = per_call("sim::Contact::resolve", 4);
    const Vec3 dinv = K.diagonal().cwiseInverse();
    for (long k = 0; k < n; k++) {
        Vec3 r = rhs - K * impulse;
        impulse = (impulse + 0.5 * dinv.cwiseProduct(r)).cwiseMax(-10.0).cwiseMin(10.0);
    }
}

// ContactSolver::solve: builds each contact's effective mass (inverse of a 3×3, products)
// inline, and calls Contact::resolve for each.
struct ContactSolver {
    __attribute__((noinline)) static double solve(World &w, int iterations);
};

double ContactSolver::solve(World &w, int iterations)
{
    static const long n = reps("sim::ContactSolver::solve", 1800);
    std::vector<Contact> contacts(w.bodies.size() / 2);
    double total = 0;
    for (long it = 0; it < n * iterations; it++) {
        for (size_t c = 0; c < contacts.size(); c++) {
            const Body &a = w.bodies[2 * c], &b = w.bodies[2 * c + 1];
            Mat3 J = a.mass.block<3, 3>(0, 0) - b.mass.block<3, 3>(3, 3);
            Mat3 M = Mat3::Identity() + 0.1 * (a.mass.block<3, 3>(3, 0) * b.mass.block<3, 3>(0, 3));
            Mat3 Minv = M.inverse();
            Mat3 K = J * Minv * J.transpose() + Mat3::Identity();
            for (int s = 0; s < 4; s++) {
                Minv = 0.5 * (Minv + (Minv * M * Minv).transpose());
                K += 1e-3 * (Minv * K).transpose() * Minv;
            }
            Contact &ct = contacts[c];
            ct.K = 0.5 * (K + K.transpose()) + Mat3::Identity();
            ct.rhs = a.state.head<3>() - b.state.tail<3>();
            if (it == 0)
                ct.impulse.setZero();
            if ((it & 1) == 0)
                ct.resolve();
            total += ct.impulse.norm();
        }
    }
    return total;
}

// hull_volume: a fan of tetrahedra over a point set (3×3 determinants, inlined). Internal
// linkage and always called with mode 3, so GCC specialises it: `[clone .constprop.0]`
// (checked with nm by check_realistic; built with -fno-ipa-cp, as gtest_sim_noclone is, the
// clone is gone and every other function of this file compiles to the same size). The mode
// only picks a weight before the loop, so the clone is no faster than the general function.
static __attribute__((noinline)) double hull_volume(const std::vector<Vec3> &pts, int mode, int passes)
{
    static const long n = reps("sim::hull_volume", 176000);
    double w;
    switch (mode) {
    case 1: w = 1.0; break;
    case 2: w = 0.5; break;
    case 3: w = 1.0 / 6.0; break;
    default: w = -1.0; break;
    }
    double v = 0;
    for (long p = 0; p < n * passes; p++) {
        const Vec3 apex = pts[(size_t)p % pts.size()];
        for (size_t i = 1; i + 1 < pts.size(); i++) {
            Mat3 m;
            m.col(0) = pts[i] - apex;
            m.col(1) = pts[i + 1] - apex;
            m.col(2) = pts[0] - apex;
            v += w * m.determinant();
        }
    }
    return v;
}

// Points on a sphere-ish shell.
struct Shape {
    int count;
    double radius;
    char label[48];
};

static __attribute__((noinline)) std::vector<Vec3> shell(const Shape &s, unsigned seed)
{
    std::vector<Vec3> pts;
    uint64_t st = seed + 7;
    for (int i = 0; i < s.count; i++)
        pts.push_back(Vec3(lcg(st), lcg(st), lcg(st)).normalized() * s.radius);
    return pts;
}

template <typename T> __attribute__((noinline)) T typed_volume(int passes)
{
    static const long n = reps("sim::typed_volume", 240000);
    using M3 = Eigen::Matrix<T, 3, 3>;
    M3 m = M3::Identity();
    T v = 0;
    for (long p = 0; p < n * passes; p++) {
        m(p % 3, (p / 3) % 3) += T(0.001);
        M3 inv = m.inverse();
        v += inv.determinant() + (m * inv).trace();
        m = (m + inv) * T(0.5) + M3::Identity() * T(0.25);
    }
    return v;
}

// ---- the recorder thread: CPU work and file I/O while the tests run ----------------------
class Recorder
{
  public:
    void start()
    {
        file_ = std::tmpfile();
        thread_ = std::thread(&Recorder::run, this);
    }
    void finish()
    {
        {
            std::lock_guard<std::mutex> g(mu_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
        if (file_)
            std::fclose(file_);
    }
    long frames_written() const { return written_.load(); }

    // One frame: mixes a 64 KiB buffer (CPU), then writes it.
    __attribute__((noinline)) void encode_frame(long frame);

  private:
    __attribute__((noinline)) void run();

    std::thread thread_;
    std::FILE *file_ = nullptr;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::atomic<long> written_{0};
    std::vector<uint64_t> buf_ = std::vector<uint64_t>(8192);
};

void Recorder::encode_frame(long frame)
{
    static const long n = reps("sim::Recorder::encode_frame", 146);
    uint64_t h = (uint64_t)frame * 0x9e3779b97f4a7c15ULL + 1;
    for (long r = 0; r < n; r++) {
        for (uint64_t &x : buf_) {
            h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
            x = h;
        }
    }
    if (file_) {
        std::fwrite(buf_.data(), sizeof buf_[0], buf_.size(), file_);
        std::fflush(file_);
    }
    written_++;
}

// A fixed number of frames (so its CPU share is fixed), one every few milliseconds while the
// tests run; whatever is left when the tests end is written before the thread exits.
void Recorder::run()
{
    const long frames = 40;
    for (long f = 0; f < frames; f++) {
        encode_frame(f);
        std::unique_lock<std::mutex> lk(mu_);
        if (!done_)
            cv_.wait_for(lk, std::chrono::milliseconds(20));
    }
}

Recorder recorder;

} // namespace sim

// ---- the tests --------------------------------------------------------------------------
namespace {

class RecorderEnvironment : public ::testing::Environment
{
  public:
    void SetUp() override { sim::recorder.start(); }
    void TearDown() override { sim::recorder.finish(); }
};

const ::testing::Environment *const recorder_env =
    ::testing::AddGlobalTestEnvironment(new RecorderEnvironment);

} // namespace

class SimFixture : public ::testing::Test
{
  protected:
    void SetUp() override { world = sim::World::build(48, seed()); }
    virtual unsigned seed() const { return 1; }
    sim::World world;
};

// IntegratorTest: sim::Integrator::step
TEST_F(SimFixture, BuildsBodies) { EXPECT_EQ(world.bodies.size(), 48u); sim::sink = sim::Integrator::step(world, 3); }

class IntegratorTest : public SimFixture {};
TEST_F(IntegratorTest, SingleStep) { EXPECT_NEAR(sim::Integrator::step(world, 2), 48.0, 1e-6); }
TEST_F(IntegratorTest, ManySteps) { EXPECT_NEAR(sim::Integrator::step(world, 4), 48.0, 1e-6); }
TEST_F(IntegratorTest, EnergyBounded) { EXPECT_LT(sim::Integrator::step(world, 2), 48.001); }
TEST_F(IntegratorTest, SmallTimestep) { world.dt = 1e-4; EXPECT_GT(sim::Integrator::step(world, 2), 47.999); }
TEST_F(IntegratorTest, LargeTimestep) { world.dt = 0.1; EXPECT_GT(sim::Integrator::step(world, 2), 47.999); }

class IntegratorParamTest : public SimFixture, public ::testing::WithParamInterface<int> {};
TEST_P(IntegratorParamTest, Converges) { EXPECT_NEAR(sim::Integrator::step(world, GetParam()), 48.0, 1e-6); }
INSTANTIATE_TEST_SUITE_P(Substeps, IntegratorParamTest, ::testing::Values(2, 3, 4));

// BroadphaseTest: sim::Broadphase::collide
class BroadphaseTest : public SimFixture {};
TEST_F(BroadphaseTest, SparseScene) { EXPECT_GE(sim::Broadphase::collide(world, 2), 0); }
TEST_F(BroadphaseTest, DenseScene) { for (auto &b : world.bodies) { b.lo *= 0.3; b.hi *= 0.3; } EXPECT_GT(sim::Broadphase::collide(world, 2), 0); }
TEST_F(BroadphaseTest, NoSelfPairs) { world.bodies.resize(1); EXPECT_EQ(sim::Broadphase::collide(world, 1), 0); world = sim::World::build(48, 3); EXPECT_GE(sim::Broadphase::collide(world, 2), 0); }
TEST_F(BroadphaseTest, Symmetric) { long a = sim::Broadphase::collide(world, 1); EXPECT_EQ(a, sim::Broadphase::collide(world, 1)); }
TEST_F(BroadphaseTest, Jittered) { EXPECT_GE(sim::Broadphase::collide(world, 3), 0); }

// SolverTest: sim::ContactSolver::solve and the small hot sim::Contact::resolve
class SolverTest : public SimFixture {};
TEST_F(SolverTest, RestingContact) { EXPECT_GT(sim::ContactSolver::solve(world, 2), 0.0); }
TEST_F(SolverTest, StackOfBoxes) { EXPECT_GT(sim::ContactSolver::solve(world, 3), 0.0); }
TEST_F(SolverTest, Friction) { world.dt = 0.02; EXPECT_GT(sim::ContactSolver::solve(world, 2), 0.0); }
TEST_F(SolverTest, WarmStart) { double a = sim::ContactSolver::solve(world, 1); EXPECT_GT(a + sim::ContactSolver::solve(world, 2), 0.0); }

// WorldTest: mostly SetUp (sim::World::build) work
class WorldTest : public SimFixture { unsigned seed() const override { return 2; } };
TEST_F(WorldTest, BuildIsDeterministic) { sim::World again = sim::World::build(48, 2); EXPECT_EQ(again.bodies[5].state, world.bodies[5].state); EXPECT_GE(sim::Broadphase::collide(again, 1), 0); }
TEST_F(WorldTest, Reset) { world = sim::World::build(48, 4); EXPECT_EQ(world.bodies.size(), 48u); EXPECT_GT(sim::ContactSolver::solve(world, 1), 0.0); }

// HullTest: sim::hull_volume [clone .constprop.0]
TEST(HullTest, Cube) { sim::Shape s{32, 1.0, "cube"}; EXPECT_NE(sim::hull_volume(sim::shell(s, 1), 3, 2), 0.0); }
TEST(HullTest, Tetra) { sim::Shape s{24, 2.0, "tetra"}; EXPECT_NE(sim::hull_volume(sim::shell(s, 2), 3, 2), 0.0); }
TEST(HullTest, Sphere) { sim::Shape s{48, 1.5, "sphere"}; EXPECT_NE(sim::hull_volume(sim::shell(s, 3), 3, 2), 0.0); }
TEST(HullTest, Degenerate) { sim::Shape s{16, 0.5, "flat"}; EXPECT_NE(sim::hull_volume(sim::shell(s, 4), 3, 2), 0.0); }

// HullTypedTest: a typed test, bodies named HullTypedTest_Volume_Test<float>::TestBody()
template <typename T> class HullTypedTest : public ::testing::Test {};
using HullTypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(HullTypedTest, HullTypes);
TYPED_TEST(HullTypedTest, Volume) { EXPECT_TRUE(std::isfinite((double)sim::typed_volume<TypeParam>(3))); }

// MathTest: Eigen inlined straight into the test bodies
TEST(MathTest, Rotation) {
    static const long n = sim::reps("MathTest_Rotation", 880000);
    Eigen::Matrix3d r = Eigen::AngleAxisd(0.1, Eigen::Vector3d::UnitZ()).toRotationMatrix(), acc = Eigen::Matrix3d::Identity();
    for (long i = 0; i < n; i++) { acc = (acc * r).eval(); if ((i & 63) == 0) acc = Eigen::Quaterniond(acc).normalized().toRotationMatrix(); }
    EXPECT_NEAR(acc.determinant(), 1.0, 1e-6);
}
TEST(MathTest, Quaternion) {
    static const long n = sim::reps("MathTest_Quaternion", 800000);
    Eigen::Quaterniond q(Eigen::AngleAxisd(0.01, Eigen::Vector3d(1, 2, 3).normalized())), acc = Eigen::Quaterniond::Identity();
    for (long i = 0; i < n; i++) acc = (acc * q).normalized();
    EXPECT_NEAR(acc.norm(), 1.0, 1e-9);
}
TEST(MathTest, Inverse) {
    static const long n = sim::reps("MathTest_Inverse", 290000);
    Eigen::Matrix4d m = Eigen::Matrix4d::Identity() * 2.0;
    for (long i = 0; i < n; i++) { m(i % 4, (i / 4) % 4) += 1e-4; m = (0.5 * (m + m.inverse().inverse())).eval(); }
    EXPECT_GT(m.determinant(), 0.0);
}
TEST(MathTest, Cross) {
    static const long n = sim::reps("MathTest_Cross", 480000);
    Eigen::Vector3d a(1, 0, 0), b(0, 1, 0);
    for (long i = 0; i < n; i++) { Eigen::Vector3d c = a.cross(b).normalized(); a = b; b = (c + 1e-3 * a).normalized(); }
    EXPECT_NEAR(b.norm(), 1.0, 1e-9);
}
TEST(MathTest, Svd) {
    static const long n = sim::reps("MathTest_Svd", 22000);
    Eigen::Matrix3d m; m << 4, 1, 0, 1, 3, 1, 0, 1, 2;
    double s = 0;
    for (long i = 0; i < n; i++) { m(i % 3, 0) += 1e-5; Eigen::JacobiSVD<Eigen::Matrix3d> svd(m); s += svd.singularValues()(0); }
    EXPECT_GT(s, 0.0);
}

// RecorderTest: the recorder thread has been writing while the other tests ran
TEST(RecorderTest, Flushes) {
    sim::Shape s{32, 1.0, "frame"};
    EXPECT_NE(sim::hull_volume(sim::shell(s, 5), 3, 1), 0.0);
    EXPECT_GE(sim::recorder.frames_written(), 1);
}
