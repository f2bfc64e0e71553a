/* SPDX-License-Identifier: MIT */
// alloc_cxx.cpp — C++ allocation for the memory layer's tests: every operator new and delete,
// containers, std::string, a static object that allocates before main and after it, a
// failing new caught as std::bad_alloc, and a leak. Functions print what they really
// allocated with operator new ("NAME BYTES COUNT"); containers print a checksum only (their
// growth policy is the library's).

#include <cstdio>
#include <cstdlib>
#include <map>
#include <new>
#include <string>
#include <vector>

#define NOIPA __attribute__((noipa))

// Each block is published here, so that the compiler may not leave out a new-expression and
// its delete (C++14 allows it when the block does not escape).
char *volatile g_sink;
template <class T> static T *kept(T *p)
{
    g_sink = reinterpret_cast<char *>(p);
    return p;
}

static void say(const char *name, unsigned long bytes, unsigned long count)
{
    std::printf("%s %lu %lu\n", name, bytes, count);
}

struct Registry {
    std::vector<char *> blocks;
    NOIPA Registry();
    NOIPA ~Registry();
};

// before main: 25 blocks of 4096 bytes, freed at once
static char g_stdout_buf[1 << 16]; // stdout's buffer: printing allocates nothing

NOIPA Registry::Registry()
{
    std::setvbuf(stdout, g_stdout_buf, _IOLBF, sizeof g_stdout_buf);
    for (int i = 0; i < 25; i++) {
        char *p = kept(new char[4096]);
        p[0] = 1;
        delete[] p;
    }
    say("Registry::Registry()", 25 * 4096, 25);
}

// after main: 35 blocks
NOIPA Registry::~Registry()
{
    for (int i = 0; i < 35; i++) {
        char *p = kept(new char[4096]);
        p[0] = 1;
        delete[] p;
    }
    say("Registry::~Registry()", 35 * 4096, 35);
}

static Registry g_registry;

struct alignas(64) Line {
    char bytes[4096];
};

// every form of operator new and delete, 4096-byte blocks
NOIPA void every_new()
{
    unsigned long n = 0;
    for (int i = 0; i < 20; i++) {
        auto *a = kept(new Line);                          // new(size_t, align_val_t)
        auto *b = kept(new Line[2]);                       // new[](size_t, align_val_t)
        auto *c = kept(new (std::nothrow) char[4096]);     // new[](size_t, nothrow_t)
        auto *d = kept(static_cast<char *>(::operator new(4096)));
        auto *e = kept(static_cast<char *>(::operator new(4096, std::nothrow)));
        auto *f = kept(static_cast<char *>(::operator new(4096, std::align_val_t(256))));
        auto *g = kept(static_cast<char *>(
            ::operator new(4096, std::align_val_t(256), std::nothrow)));
        a->bytes[0] = b[1].bytes[0] = c[0] = d[0] = e[0] = f[0] = g[0] = 1;
        delete a;
        delete[] b;
        delete[] c;
        ::operator delete(d, 4096);                          // sized
        ::operator delete(e, std::nothrow);
        ::operator delete(f, std::align_val_t(256));
        ::operator delete(g, std::align_val_t(256), std::nothrow);
        n += sizeof(Line) + 2 * sizeof(Line) + 5 * 4096;
    }
    say("every_new()", n, 20 * 7);
}

NOIPA unsigned long fill_vector()
{
    std::vector<long> v;
    for (long i = 0; i < 200000; i++)
        v.push_back(i);
    return static_cast<unsigned long>(v.back());
}

NOIPA unsigned long make_strings()
{
    std::vector<std::string> names;
    for (int i = 0; i < 5000; i++)
        names.push_back(std::string(40, static_cast<char>('a' + i % 26)) + std::to_string(i));
    std::map<std::string, int> index;
    for (size_t i = 0; i < names.size(); i += 2)
        index[names[i]] = static_cast<int>(i);
    return index.size() + names.back().size();
}

NOIPA bool huge_new()
{
    try {
        volatile size_t n = static_cast<size_t>(1) << 62;
        char *p = kept(new char[n]);
        p[0] = 1;
        delete[] p;
        return false;
    } catch (const std::bad_alloc &) {
        return true;
    }
}

// A failing new runs the new-handler until it gives up (here: the third call uninstalls it),
// then throws, as without profreg.
static int g_handler_calls;
static void count_then_give_up()
{
    if (++g_handler_calls >= 3)
        std::set_new_handler(nullptr);
}

NOIPA int new_handler_calls()
{
    std::set_new_handler(count_then_give_up);
    volatile size_t n = static_cast<size_t>(1) << 62;
    try {
        char *p = kept(new char[n]);
        delete[] p;
    } catch (const std::bad_alloc &) {
    }
    return g_handler_calls;
}

NOIPA void cxx_leak()
{
    for (int i = 0; i < 10; i++)
        kept(new char[4096]); // never deleted
    say("cxx_leak()", 10 * 4096, 10);
}

int main()
{
    every_new();
    std::printf("vector %lu\n", fill_vector());
    std::printf("strings %lu\n", make_strings());
    std::printf("huge new: %s\n", huge_new() ? "std::bad_alloc" : "allocated");
    std::printf("new handler: %d calls, then std::bad_alloc\n", new_handler_calls());
    cxx_leak();
    return 0;
}
