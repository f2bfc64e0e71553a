/* SPDX-License-Identifier: MIT */
// alloc_strings.cpp — an allocation-heavy loop: containers of small strings built and freed
// (make bench: the memory layer's overhead). `alloc_strings [ROUNDS]` prints a checksum.
//
// Every string is 20 to 51 characters, past std::string's 15-character buffer, so each one
// is a heap allocation; the vector grows by doubling and a std::map keeps a third of them.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#define NOIPA __attribute__((noipa))

static uint64_t next(uint64_t &s)
{
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

NOIPA static std::string make_name(uint64_t &rng)
{
    std::string s(20 + next(rng) % 32, 'a');
    for (size_t i = 0; i < s.size(); i += 7)
        s[i] = static_cast<char>('a' + next(rng) % 26);
    return s;
}

NOIPA static uint64_t one_round(uint64_t &rng)
{
    std::vector<std::string> names;
    for (int i = 0; i < 2000; i++)
        names.push_back(make_name(rng));
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < names.size(); i += 3)
        index.emplace(names[i], i);
    uint64_t sum = 0;
    for (const auto &kv : index)
        sum += kv.first.size() + kv.second;
    return sum;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? std::atol(argv[1]) : 400;
    uint64_t rng = 88172645463325252ULL, sum = 0;
    for (long r = 0; r < rounds; r++)
        sum += one_round(rng);
    std::printf("alloc_strings %ld rounds, checksum %llu\n", rounds, (unsigned long long)sum);
    return 0;
}
