// hash, percpu_hash, lru_hash, lru_percpu_hash: flags and errors, preallocation limits, get_next_key rules, per-CPU
// layouts, pointer stability, LRU eviction.
#include <algorithm>
#include <cerrno>
#include <set>

#include "map_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/hash.hpp"
#include "maps/key_hash.hpp"

namespace xbpf::maps::test {
namespace {

TEST(MapHash, KeyLoadsAreExact) {
    // load_le_bytes/bytes_equal replace variable-length memcpy/memcmp on the lookup path: they must be exact.
    unsigned char buf[16], other[16];
    for (int round = 0; round < 200; ++round) {
        for (int i = 0; i < 16; ++i) buf[i] = static_cast<unsigned char>(round * 31 + i * 7 + (i * i) % 5);
        for (std::size_t n = 0; n <= 8; ++n) {
            std::uint64_t expected = 0;
            std::memcpy(&expected, buf, n);
            ASSERT_EQ(load_le_bytes(buf, n), expected) << n;
        }
        for (std::size_t n = 0; n <= 16; ++n) {
            std::memcpy(other, buf, sizeof buf);
            EXPECT_TRUE(bytes_equal(buf, other, n));
            if (n > 0) {
                other[(round + n) % n] ^= 1;  // any byte of the first n matters
                EXPECT_FALSE(bytes_equal(buf, other, n)) << n;
            }
            if (n < 16) {
                std::memcpy(other, buf, sizeof buf);
                other[n] ^= 1;  // bytes past n do not matter
                EXPECT_TRUE(bytes_equal(buf, other, n)) << n;
            }
        }
    }
}

TEST(MapHash, CreationRules) {
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, 1)), 0);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 0, 8, 1)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 0, 1)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, 0)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, 1, kFNoCommonLru)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, 1, kFMmapable)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::LruHash, 4, 8, 1, kFNoPrealloc)), -kENOTSUPP);
    EXPECT_EQ(create_errno(spec(MapType::PercpuHash, 4, 8, 1, kFNumaNode)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::PercpuHash, 4, 32769, 1)), -E2BIG);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, (1u << 22) - 52, 1)), -E2BIG);
    EXPECT_EQ(create_errno(spec(MapType::Hash, 4, 8, (1u << 28) + 1)), -E2BIG) << "too many buckets";
}

TEST(MapHash, UpdateFlagsAndErrors) {
    auto m = make(spec(MapType::Hash, 4, 8, 2));
    EXPECT_EQ(put(*m, 1, 10, kExist), -ENOENT);
    EXPECT_EQ(put(*m, 1, 10, kNoExist), 0);
    EXPECT_EQ(put(*m, 1, 11, kNoExist), -EEXIST);
    EXPECT_EQ(put(*m, 1, 12, kExist), 0);
    EXPECT_EQ(put(*m, 1, 13, kAny), 0);
    EXPECT_EQ(host_u64(*m, 1), 13);
    EXPECT_EQ(put(*m, 2, 20), 0);
    EXPECT_EQ(put(*m, 3, 30), -E2BIG) << "both preallocated elements are in use";
    EXPECT_EQ(put(*m, 2, 21), 0) << "replacing works in a full map";
    EXPECT_EQ(put(*m, 3, 30, 3), -EINVAL);
    EXPECT_EQ(put(*m, 3, 30, kFLock), -EINVAL);
    std::uint32_t k = 1;
    std::uint64_t v = 0;
    EXPECT_EQ(m->erase_host(&k), 0);
    EXPECT_EQ(m->erase_host(&k), -ENOENT);
    EXPECT_EQ(put(*m, 3, 30), 0) << "the freed element is reused";
    k = 3;
    EXPECT_EQ(m->lookup_and_delete(&k, &v), 0);
    EXPECT_EQ(v, 30u);
    EXPECT_EQ(m->lookup_and_delete(&k, &v), -ENOENT);
    EXPECT_EQ(static_cast<HashMap&>(*m).count(), 1u);
}

TEST(MapHash, GetNextKeyVisitsEveryKeyOnce) {
    auto m = make(spec(MapType::Hash, 4, 8, 100));
    std::set<std::uint32_t> expected;
    for (std::uint32_t i = 0; i < 100; i += 3) {
        ASSERT_EQ(put(*m, i * 7919, i), 0);
        expected.insert(i * 7919);
    }
    const auto keys = keys_of(*m);
    EXPECT_EQ(keys.size(), expected.size());
    EXPECT_EQ(std::set<std::uint32_t>(keys.begin(), keys.end()), expected);
    // A missing key gives the first key, so a walk that deleted its current key can go on (the kernel's rule).
    std::uint32_t missing = 12345678, first = 0, next = 0;
    ASSERT_EQ(m->get_next_key(nullptr, &first), 0);
    ASSERT_EQ(m->get_next_key(&missing, &next), 0);
    EXPECT_EQ(next, first);
    // Delete-while-iterating drains the map.
    std::uint32_t cur = 0;
    int steps = 0;
    while (m->get_next_key(nullptr, &cur) == 0 && steps++ < 1000) ASSERT_EQ(m->erase(&cur), 0);
    EXPECT_EQ(m->get_next_key(nullptr, &cur), -ENOENT);
}

TEST(MapHash, PointersStayValidAfterDelete) {
    auto m = make(spec(MapType::Hash, 4, 8, 1));
    ASSERT_EQ(put(*m, 1, 111), 0);
    std::uint32_t k = 1;
    auto* p = static_cast<std::uint64_t*>(m->lookup(&k));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u);
    ASSERT_EQ(m->erase(&k), 0);
    EXPECT_EQ(*p, 111u) << "deleted element memory stays owned by the map";
    ASSERT_EQ(put(*m, 2, 222), 0);
    EXPECT_EQ(*p, 222u) << "and is reused by the next insert (the kernel's preallocated semantics)";
}

TEST(MapHash, OddSizes) {
    auto m = make(spec(MapType::Hash, 7, 3, 8));
    const std::uint8_t key[7] = {1, 2, 3, 4, 5, 6, 7};
    const std::uint8_t value[3] = {9, 8, 7};
    std::uint8_t out[3] = {};
    ASSERT_EQ(m->update_host(key, value), 0);
    ASSERT_EQ(m->lookup_copy(key, out), 0);
    EXPECT_EQ(std::memcmp(out, value, 3), 0);
    std::uint8_t next[7] = {};
    ASSERT_EQ(m->get_next_key(nullptr, next), 0);
    EXPECT_EQ(std::memcmp(next, key, 7), 0);
}

TEST(MapHash, ForEachMayDelete) {
    auto m = make(spec(MapType::Hash, 4, 8, 16));
    for (std::uint32_t i = 0; i < 10; ++i) put(*m, i, i);
    const long n = m->for_each_elem([&](const void* key, void*) -> long {
        EXPECT_EQ(m->erase(key), 0);
        return 0;
    });
    EXPECT_EQ(n, 10);
    EXPECT_EQ(static_cast<HashMap&>(*m).count(), 0u);
}

TEST(MapPercpuHash, HostAndProgramLayouts) {
    const std::uint32_t n = num_possible_cpus();
    auto m = make(spec(MapType::PercpuHash, 4, 4, 4));
    std::vector<std::uint32_t> all(2 * n);  // each CPU's slot is 8 bytes: value + padding
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) all[2 * cpu] = 100 + cpu;
    std::uint32_t k = 5;
    ASSERT_EQ(m->update_host(&k, all.data()), 0);
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) EXPECT_EQ(load<std::uint32_t>(m->lookup_percpu(&k, cpu)), 100 + cpu);
    // A program's update of an existing key changes only its CPU's value.
    {
        CpuScope scope(n - 1);
        const std::uint32_t v = 7;
        ASSERT_EQ(m->update(&k, &v, kExist), 0);
        EXPECT_EQ(load<std::uint32_t>(m->lookup(&k)), 7u);
    }
    std::vector<std::uint32_t> out(2 * n);
    ASSERT_EQ(m->lookup_copy(&k, out.data()), 0);
    EXPECT_EQ(out[2 * (n - 1)], 7u);
    if (n > 1) {
        EXPECT_EQ(out[0], 100u);
    }
    // A program's insert sets its CPU's value and zeroes the others (pcpu_init_value).
    k = 6;
    {
        CpuScope scope(0);
        const std::uint32_t v = 42;
        ASSERT_EQ(m->update(&k, &v, kNoExist), 0);
    }
    ASSERT_EQ(m->lookup_copy(&k, out.data()), 0);
    EXPECT_EQ(out[0], 42u);
    for (std::uint32_t cpu = 1; cpu < n; ++cpu) EXPECT_EQ(out[2 * cpu], 0u);
    EXPECT_EQ(m->update(&k, out.data(), kFLock), -EINVAL);
}

// ---- LRU ----

TEST(MapLru, NeverFullEvictsLeastRecentlyUsed) {
    constexpr std::uint32_t kMax = 16;
    auto m = make(spec(MapType::LruHash, 4, 8, kMax));
    for (std::uint32_t i = 0; i < kMax; ++i) ASSERT_EQ(put(*m, i, i), 0);
    // Programs touch the first half; the second half is then the least recently used.
    for (std::uint32_t i = 0; i < kMax / 2; ++i) ASSERT_NE(m->lookup(&i), nullptr);
    for (std::uint32_t i = 100; i < 100 + kMax / 2; ++i) ASSERT_EQ(put(*m, i, i), 0) << "an LRU map is never full";
    for (std::uint32_t i = 0; i < kMax / 2; ++i) EXPECT_EQ(host_u64(*m, i), i) << "recently used key " << i;
    for (std::uint32_t i = kMax / 2; i < kMax; ++i) EXPECT_EQ(host_u64(*m, i), -ENOENT) << "evicted key " << i;
    for (std::uint32_t i = 100; i < 100 + kMax / 2; ++i) EXPECT_EQ(host_u64(*m, i), i);
    EXPECT_EQ(static_cast<HashMap&>(*m).count(), kMax);
}

TEST(MapLru, HostLookupsDoNotCountAsUse) {
    auto m = make(spec(MapType::LruHash, 4, 8, 2));
    put(*m, 1, 1);
    put(*m, 2, 2);
    std::uint32_t two = 2;
    ASSERT_NE(m->lookup(&two), nullptr);  // a program uses 2
    EXPECT_EQ(host_u64(*m, 1), 1);        // the host reading 1 is not a use
    ASSERT_EQ(put(*m, 3, 3), 0);
    EXPECT_EQ(host_u64(*m, 1), -ENOENT);
    EXPECT_EQ(host_u64(*m, 2), 2);
    EXPECT_EQ(host_u64(*m, 3), 3);
}

TEST(MapLru, UpdatesCountAsUseAndFlagsWork) {
    auto m = make(spec(MapType::LruHash, 4, 8, 2));
    put(*m, 1, 1);
    put(*m, 2, 2);
    EXPECT_EQ(put(*m, 1, 11, kExist), 0);  // 1 is now recently used
    EXPECT_EQ(put(*m, 3, 3, kNoExist), 0);
    EXPECT_EQ(host_u64(*m, 2), -ENOENT);
    EXPECT_EQ(host_u64(*m, 1), 11);
    EXPECT_EQ(put(*m, 3, 4, kNoExist), -EEXIST);
    EXPECT_EQ(put(*m, 9, 4, kExist), -ENOENT);
    EXPECT_EQ(put(*m, 9, 4, kFLock), -EINVAL) << "LRU maps take no BPF_F_LOCK";
    std::uint32_t k = 1;
    EXPECT_EQ(m->erase_host(&k), 0);
    EXPECT_EQ(static_cast<HashMap&>(*m).count(), 1u);
}

TEST(MapLru, PerCpuListsEvictOnlyTheirOwn) {
    const std::uint32_t n = num_possible_cpus();
    if (n < 2) GTEST_SKIP() << "needs two possible CPUs";
    auto m = make(spec(MapType::LruHash, 4, 8, 2 * n - 1, kFNoCommonLru));
    EXPECT_EQ(m->spec().max_entries, 2 * n) << "rounded up to a multiple of the CPUs, as the kernel";
    const std::uint64_t v = 0;
    {
        CpuScope cpu0(0);
        for (std::uint32_t k = 0; k < 2; ++k) ASSERT_EQ(m->update(&k, &v, kAny), 0);
    }
    {
        CpuScope cpu1(1);
        for (std::uint32_t k = 10; k < 14; ++k) ASSERT_EQ(m->update(&k, &v, kAny), 0);  // churns CPU 1's list
    }
    EXPECT_EQ(host_u64(*m, 0), 0) << "CPU 0's elements are not evicted by CPU 1's inserts";
    EXPECT_EQ(host_u64(*m, 1), 0);
    EXPECT_EQ(host_u64(*m, 13), 0);
    EXPECT_EQ(host_u64(*m, 10), -ENOENT);
}

TEST(MapLruPercpu, ValuesPerCpu) {
    const std::uint32_t n = num_possible_cpus();
    auto m = make(spec(MapType::LruPercpuHash, 4, 8, 4));
    std::vector<std::uint64_t> all(n), out(n);
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) all[cpu] = cpu + 1;
    std::uint32_t k = 1;
    ASSERT_EQ(m->update_host(&k, all.data()), 0);
    ASSERT_EQ(m->lookup_copy(&k, out.data()), 0);
    EXPECT_EQ(out, all);
    for (std::uint32_t i = 2; i < 20; ++i) ASSERT_EQ(m->update_host(&i, all.data()), 0);
    EXPECT_EQ(static_cast<HashMap&>(*m).count(), 4u);
}

}  // namespace
}  // namespace xbpf::maps::test
