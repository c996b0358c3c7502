// bpf_perf_event_output and the ring buffer helpers.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "helper_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/perf_event_array.hpp"
#include "maps/ringbuf.hpp"

namespace xbpf::helpers::test {
namespace {

TEST(RingbufHelpers, OutputReserveSubmitDiscardQuery) {
    TestContext t;
    auto m = make_map(maps::MapType::Ringbuf, 0, 0, 4096);
    auto* rb = static_cast<maps::RingbufMap*>(m.get());
    const char msg[] = "hello";
    EXPECT_EQ(t.call(130, arg(m.get()), arg(msg), 6, 0), 0u);
    EXPECT_EQ(t.call(130, arg(m.get()), arg(msg), 6, 8), neg(EINVAL));  // bad flags
    EXPECT_EQ(t.call(134, arg(m.get()), maps::kRbAvailData), 16u);      // 8-byte header + 6 rounded to 8
    EXPECT_EQ(t.call(134, arg(m.get()), maps::kRbRingSize), 4096u);

    const u64 p = t.call(131, arg(m.get()), 8, 0);
    ASSERT_NE(p, 0u);
    ASSERT_EQ(t.grants.size(), 1u);
    EXPECT_TRUE(t.grants[0].writable);
    EXPECT_EQ(t.grants[0].n, 8u);
    std::memcpy(reinterpret_cast<void*>(p), "reserved", 8);
    t.call(132, p, 0);
    const u64 d = t.call(131, arg(m.get()), 4, 0);
    ASSERT_NE(d, 0u);
    t.call(133, d, 0);
    EXPECT_EQ(t.call(131, arg(m.get()), 8, 1), 0u);     // flags must be 0
    EXPECT_EQ(t.call(131, arg(m.get()), 8192, 0), 0u);  // too large

    std::vector<std::string> got;
    EXPECT_EQ(rb->consume([&](std::span<const std::byte> s) {
        got.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
        return 0;
    }),
              2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], std::string("hello", 6));
    EXPECT_EQ(got[1], "reserved");
    auto h = make_map(maps::MapType::Hash, 4, 4, 1);
    EXPECT_EQ(t.call(130, arg(h.get()), arg(msg), 6, 0), neg(EINVAL));  // not a ring buffer
    EXPECT_EQ(t.call(131, arg(h.get()), 8, 0), 0u);
}

TEST(PerfEventOutput, IndexCurrentCpuAndErrors) {
    TestContext t;
    auto m = make_map(maps::MapType::PerfEventArray, 4, 4, maps::num_possible_cpus());
    auto* pa = static_cast<maps::PerfEventArrayMap*>(m.get());
    const std::uint32_t data = 0xabcdef01;
    EXPECT_EQ(t.call(25, 0, arg(m.get()), maps::kFCurrentCpu, arg(&data), 4), neg(ENOENT));  // no buffer yet
    ASSERT_EQ(pa->open_all(), 0);
    EXPECT_EQ(t.call(25, 0, arg(m.get()), maps::kFCurrentCpu, arg(&data), 4), 0u);
    EXPECT_EQ(t.call(25, 0, arg(m.get()), 0, arg(&data), 4), 0u);  // index 0 == CPU 0
    EXPECT_EQ(t.call(25, 0, arg(m.get()), maps::num_possible_cpus(), arg(&data), 4), neg(E2BIG));
    EXPECT_EQ(t.call(25, 0, arg(m.get()), 1ULL << 32, arg(&data), 4), neg(EINVAL));  // ctxlen bits
    if (maps::num_possible_cpus() > 1) {
        EXPECT_EQ(t.call(25, 0, arg(m.get()), 1, arg(&data), 4), neg(EOPNOTSUPP));  // another CPU's buffer
    }
    int samples = 0;
    pa->consume([&](std::uint32_t cpu, std::span<const std::byte> d) {
        EXPECT_EQ(cpu, 0u);
        ASSERT_GE(d.size(), 4u);
        std::uint32_t v;
        std::memcpy(&v, d.data(), 4);
        EXPECT_EQ(v, data);
        ++samples;
    });
    EXPECT_EQ(samples, 2);
}

}  // namespace
}  // namespace xbpf::helpers::test
