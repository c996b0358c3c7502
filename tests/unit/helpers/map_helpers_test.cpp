#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "helper_test_util.hpp"
#include "maps/cpu.hpp"

namespace xbpf::helpers::test {
namespace {

using maps::MapType;

TEST(MapHelpers, LookupUpdateDeleteOnAHash) {
    TestContext t;
    auto m = make_map(MapType::Hash, 4, 8, 2);
    const std::uint32_t k1 = 1, k2 = 2, k3 = 3;
    const u64 v = 0x1122334455667788;
    EXPECT_EQ(t.call(1, arg(m.get()), arg(&k1)), 0u);  // absent
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k1), arg(&v), maps::kAny), 0u);
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k1), arg(&v), maps::kNoExist), neg(EEXIST));
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k2), arg(&v), maps::kExist), neg(ENOENT));
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k2), arg(&v), 99), neg(EINVAL));
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k2), arg(&v), maps::kAny), 0u);
    EXPECT_EQ(t.call(2, arg(m.get()), arg(&k3), arg(&v), maps::kAny), neg(E2BIG));  // full

    t.grants.clear();
    const u64 p = t.call(1, arg(m.get()), arg(&k1));
    ASSERT_NE(p, 0u);
    u64 got;
    std::memcpy(&got, reinterpret_cast<void*>(p), 8);
    EXPECT_EQ(got, v);
    ASSERT_EQ(t.grants.size(), 1u);
    EXPECT_EQ(t.grants[0].p, reinterpret_cast<void*>(p));
    EXPECT_EQ(t.grants[0].n, 8u);
    EXPECT_TRUE(t.grants[0].writable);

    EXPECT_EQ(t.call(3, arg(m.get()), arg(&k1)), 0u);
    EXPECT_EQ(t.call(3, arg(m.get()), arg(&k1)), neg(ENOENT));
    EXPECT_EQ(t.call(1, arg(m.get()), arg(&k1)), 0u);
}

TEST(MapHelpers, ReadOnlyProgMapsGrantReadOnly) {
    TestContext t;
    auto m = make_map(MapType::Array, 4, 16, 4, maps::kFRdonlyProg);
    const std::uint32_t k = 3;
    ASSERT_NE(t.call(1, arg(m.get()), arg(&k)), 0u);
    ASSERT_EQ(t.grants.size(), 1u);
    EXPECT_FALSE(t.grants[0].writable);
    EXPECT_EQ(t.grants[0].n, 16u);
    const std::uint32_t out = 4;
    EXPECT_EQ(t.call(1, arg(m.get()), arg(&out)), 0u);         // out of range
    EXPECT_EQ(t.call(3, arg(m.get()), arg(&k)), neg(EINVAL));  // arrays cannot delete
}

TEST(MapHelpers, PerCpuLookupGivesTheCurrentCpusSlot) {
    TestContext t;
    auto m = make_map(MapType::PercpuArray, 4, 8, 1);
    const std::uint32_t k = 0;
    const std::uint32_t cpus = maps::num_possible_cpus();
    u64 p0;
    {
        maps::CpuScope scope(0);
        p0 = t.call(1, arg(m.get()), arg(&k));
        *reinterpret_cast<u64*>(p0) = 7;
    }
    if (cpus > 1) {
        maps::CpuScope scope(1);
        const u64 p1 = t.call(1, arg(m.get()), arg(&k));
        EXPECT_NE(p1, p0);
        EXPECT_EQ(*reinterpret_cast<u64*>(p1), 0u);
        // bpf_map_lookup_percpu_elem reaches another CPU's slot.
        EXPECT_EQ(t.call(195, arg(m.get()), arg(&k), 0), p0);
    }
    EXPECT_EQ(t.call(195, arg(m.get()), arg(&k), cpus), 0u);  // no such CPU
    auto plain = make_map(MapType::Array, 4, 8, 1);
    EXPECT_EQ(t.call(195, arg(plain.get()), arg(&k), 0), 0u);  // not a per-CPU map
}

TEST(MapHelpers, QueueAndStack) {
    TestContext t;
    auto q = make_map(MapType::Queue, 0, 4, 2);
    auto s = make_map(MapType::Stack, 0, 4, 2);
    std::uint32_t v = 0;
    EXPECT_EQ(t.call(88, arg(q.get()), arg(&v)), neg(ENOENT));
    EXPECT_EQ(t.call(89, arg(q.get()), arg(&v)), neg(ENOENT));
    for (std::uint32_t x : {10u, 20u}) {
        EXPECT_EQ(t.call(87, arg(q.get()), arg(&x), 0), 0u);
        EXPECT_EQ(t.call(87, arg(s.get()), arg(&x), 0), 0u);
    }
    const std::uint32_t x = 30;
    EXPECT_EQ(t.call(87, arg(q.get()), arg(&x), 0), neg(E2BIG));
    EXPECT_EQ(t.call(87, arg(q.get()), arg(&x), maps::kExist), 0u);  // BPF_EXIST: drop the oldest
    EXPECT_EQ(t.call(89, arg(q.get()), arg(&v)), 0u);
    EXPECT_EQ(v, 20u);
    EXPECT_EQ(t.call(88, arg(q.get()), arg(&v)), 0u);
    EXPECT_EQ(v, 20u);
    EXPECT_EQ(t.call(88, arg(q.get()), arg(&v)), 0u);
    EXPECT_EQ(v, 30u);
    EXPECT_EQ(t.call(88, arg(s.get()), arg(&v)), 0u);
    EXPECT_EQ(v, 20u);
    auto h = make_map(MapType::Hash, 4, 4, 2);
    EXPECT_EQ(t.call(87, arg(h.get()), arg(&x), 0), neg(EOPNOTSUPP));  // not a queue
}

TEST(MapHelpers, SpinLockExcludes) {
    maps::MapSpec spec{.name = "l",
                       .type = MapType::Array,
                       .key_size = 4,
                       .value_size = 16,
                       .max_entries = 1,
                       .flags = 0,
                       .map_extra = 0,
                       .inner = nullptr,
                       .spin_lock_off = 0};
    auto m = maps::create_map(spec);
    ASSERT_TRUE(m.has_value());
    TestContext t0;
    const std::uint32_t k = 0;
    auto* value = reinterpret_cast<unsigned char*>(t0.call(1, arg(m->get()), arg(&k)));
    ASSERT_NE(value, nullptr);
    auto* counter = reinterpret_cast<u64*>(value + 8);
    auto worker = [&] {
        TestContext t;
        for (int i = 0; i < 20000; ++i) {
            t.call(93, arg(value));
            ++*counter;
            t.call(94, arg(value));
        }
    };
    std::thread a(worker), b(worker);
    a.join();
    b.join();
    EXPECT_EQ(*counter, 40000u);
    std::uint32_t word;
    std::memcpy(&word, value, 4);
    EXPECT_EQ(word, 0u);
}

}  // namespace
}  // namespace xbpf::helpers::test
