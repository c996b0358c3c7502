// array and percpu_array: every element exists, index order, per-CPU layout, stable and aligned value memory.
#include <cerrno>
#include <cstdint>

#include "map_test_util.hpp"
#include "maps/array.hpp"
#include "maps/cpu.hpp"

namespace xbpf::maps::test {
namespace {

TEST(MapArray, CreationRules) {
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 8, 1)), 0);
    EXPECT_EQ(create_errno(spec(MapType::Array, 8, 8, 1)), -EINVAL) << "keys are u32 indexes";
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 0, 1)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 8, 0)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 8, 1, kFNoPrealloc)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 8, 1, kFMmapable | kFInnerMap | kFRdonlyProg)), 0);
    EXPECT_EQ(create_errno(spec(MapType::PercpuArray, 4, 8, 1, kFMmapable)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::PercpuArray, 4, 8, 1, kFNumaNode)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::PercpuArray, 4, 32769, 1)), -E2BIG);
    EXPECT_EQ(create_errno(spec(MapType::Array, 4, 8, 1, kFPreserveElems)), -EINVAL);
}

TEST(MapArray, EveryElementExists) {
    auto m = make(spec(MapType::Array, 4, 8, 4));
    EXPECT_EQ(host_u64(*m, 3), 0) << "zero-filled";
    EXPECT_EQ(host_u64(*m, 4), -ENOENT);
    EXPECT_EQ(put(*m, 1, 11), 0);
    EXPECT_EQ(put(*m, 1, 12, kExist), 0);
    EXPECT_EQ(put(*m, 1, 13, kNoExist), -EEXIST) << "all elements already exist";
    EXPECT_EQ(put(*m, 4, 1), -E2BIG) << "index past the end";
    EXPECT_EQ(put(*m, 4, 1, 3), -EINVAL) << "flags are checked first";
    EXPECT_EQ(put(*m, 0, 1, kFLock), -EINVAL) << "no spin lock";
    EXPECT_EQ(host_u64(*m, 1), 12);
    std::uint32_t k = 1;
    EXPECT_EQ(m->erase_host(&k), -EINVAL) << "array elements cannot be deleted";
    EXPECT_EQ(m->erase(&k), -EINVAL);
    std::uint64_t v;
    EXPECT_EQ(m->lookup_and_delete(&k, &v), -kENOTSUPP);
}

TEST(MapArray, GetNextKeyInIndexOrder) {
    auto m = make(spec(MapType::Array, 4, 8, 3));
    EXPECT_EQ(keys_of(*m), (std::vector<std::uint32_t>{0, 1, 2}));
    std::uint32_t next = 99, key = 1;
    EXPECT_EQ(m->get_next_key(&key, &next), 0);
    EXPECT_EQ(next, 2u);
    key = 2;
    EXPECT_EQ(m->get_next_key(&key, &next), -ENOENT);
    key = 77;  // out of range: start over
    EXPECT_EQ(m->get_next_key(&key, &next), 0);
    EXPECT_EQ(next, 0u);
}

TEST(MapArray, ProgramSidePointersAreStableAndAligned) {
    auto m = make(spec(MapType::Array, 4, 12, 5, kFMmapable));
    auto& a = static_cast<ArrayMap&>(*m);
    std::uint32_t k = 2;
    auto* p = static_cast<std::byte*>(m->lookup(&k));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u) << "atomics need natural alignment";
    EXPECT_EQ(p, a.value_ptr(2));
    EXPECT_EQ(a.value_ptr(1) + 16, a.value_ptr(2)) << "values are round_up(value_size, 8) apart";
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(a.value_ptr(0)) % 4096, 0u) << "page-aligned block";
    // Atomic read-modify-write on value memory, as a program's atomic instructions do.
    __atomic_fetch_add(reinterpret_cast<std::uint64_t*>(p), 5, __ATOMIC_SEQ_CST);
    std::uint64_t out[2] = {};  // 12-byte values
    ASSERT_EQ(m->lookup_copy(&k, out), 0);
    EXPECT_EQ(out[0], 5u);
    k = 5;
    EXPECT_EQ(m->lookup(&k), nullptr);
}

TEST(MapArray, ForEachElem) {
    auto m = make(spec(MapType::Array, 4, 8, 4));
    for (std::uint32_t i = 0; i < 4; ++i) put(*m, i, i * 10);
    std::vector<std::uint32_t> seen;
    EXPECT_EQ(m->for_each_elem([&](const void* key, void* value) -> long {
        seen.push_back(load<std::uint32_t>(key));
        EXPECT_EQ(load<std::uint64_t>(value), load<std::uint32_t>(key) * 10);
        return 0;
    }),
              4);
    EXPECT_EQ(seen, (std::vector<std::uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(m->for_each_elem([](const void*, void*) -> long { return 1; }), 1) << "1 stops after one element";
}

TEST(MapPercpuArray, HostLayoutIsOneRoundedSlotPerCpu) {
    const std::uint32_t n = num_possible_cpus();
    auto m = make(spec(MapType::PercpuArray, 4, 12, 2));
    ASSERT_EQ(m->host_value_size(), 16u * n);
    std::vector<std::uint8_t> in(16 * n), out(16 * n);
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<std::uint8_t>(i + 1);
    std::uint32_t k = 1;
    ASSERT_EQ(m->update_host(&k, in.data()), 0);
    ASSERT_EQ(m->lookup_copy(&k, out.data()), 0);
    EXPECT_EQ(in, out) << "the whole rounded slot round-trips, padding included (copy_map_value_long)";
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
        auto* p = static_cast<std::uint8_t*>(m->lookup_percpu(&k, cpu));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p[0], in[16 * cpu]);
    }
    EXPECT_EQ(m->lookup_percpu(&k, n), nullptr);
    EXPECT_EQ(m->update_host(&k, in.data(), kFLock), -EINVAL);
    EXPECT_EQ(m->update_host(&k, in.data(), kNoExist), -EEXIST);
}

TEST(MapPercpuArray, ProgramsSeeTheirCpuSlot) {
    const std::uint32_t n = num_possible_cpus();
    auto m = make(spec(MapType::PercpuArray, 4, 8, 1));
    std::uint32_t k = 0;
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) {
        CpuScope scope(cpu);
        const std::uint64_t v = 100 + cpu;
        ASSERT_EQ(m->update(&k, &v, kAny), 0);
        EXPECT_EQ(load<std::uint64_t>(m->lookup(&k)), 100 + cpu);
    }
    std::vector<std::uint64_t> all(n);
    ASSERT_EQ(m->lookup_copy(&k, all.data()), 0);
    for (std::uint32_t cpu = 0; cpu < n; ++cpu) EXPECT_EQ(all[cpu], 100 + cpu);
    if (n > 1) {
        CpuScope a(0);
        void* p0 = m->lookup(&k);
        CpuScope b(1);
        EXPECT_NE(m->lookup(&k), p0) << "different CPUs, different slots";
    }
}

}  // namespace
}  // namespace xbpf::maps::test
