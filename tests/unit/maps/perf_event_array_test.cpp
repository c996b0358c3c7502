// perf_event_array: per-CPU record buffers, the output rules of bpf_perf_event_output, perf framing, lost records.
#include <cerrno>
#include <string>

#include "map_test_util.hpp"
#include "maps/cpu.hpp"
#include "maps/perf_event_array.hpp"

namespace xbpf::maps::test {
namespace {

std::shared_ptr<PerfEventArrayMap> make_perf(std::uint32_t max) {
    return std::static_pointer_cast<PerfEventArrayMap>(make(spec(MapType::PerfEventArray, 4, 4, max)));
}

TEST(MapPerfEventArray, OutputRules) {
    const std::uint32_t n = num_possible_cpus();
    auto m = make_perf(n + 1);
    EXPECT_EQ(m->output(kFCurrentCpu, "x", 1), -ENOENT) << "no buffer yet";
    ASSERT_EQ(m->open_all(1), 0);
    EXPECT_EQ(m->output(n + 1, "x", 1), -E2BIG);
    EXPECT_EQ(m->output(n, "x", 1), -ENOENT);
    EXPECT_EQ(m->output(std::uint64_t{1} << 63, "x", 1), -EINVAL);
    if (n > 1) {
        EXPECT_EQ(m->output(1, "x", 1), -EOPNOTSUPP) << "CPU 1's buffer, written from CPU 0";
    }
    EXPECT_EQ(m->output(0, "abc", 3), 0);
    {
        CpuScope scope(n - 1);
        EXPECT_EQ(m->output(kFCurrentCpu, "defgh", 5, "XY", 2), 0);
    }
    std::vector<std::pair<std::uint32_t, std::string>> got;
    EXPECT_EQ(m->consume([&](std::uint32_t cpu, std::span<const std::byte> d) {
        got.emplace_back(cpu, std::string(reinterpret_cast<const char*>(d.data()), d.size()));
    }),
              2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].first, 0u);
    EXPECT_EQ(got[0].second, std::string("abc\0", 4)) << "raw size padded so 4 + size is a multiple of 8";
    EXPECT_EQ(got[1].first, n - 1);
    EXPECT_EQ(got[1].second.substr(0, 7), "defghXY") << "the context bytes follow the data";
}

TEST(MapPerfEventArray, LostRecordsAreReported) {
    auto m = make_perf(1);
    ASSERT_EQ(m->open_buffer(0, 0, 1), 0);
    const std::string big(1000, 'z');
    int ok = 0, full = 0;
    for (int i = 0; i < 10; ++i) (m->output(0, big.data(), big.size()) == 0 ? ok : full)++;
    EXPECT_EQ(ok, static_cast<int>(page_size() / 1016));
    EXPECT_EQ(full, 10 - ok);
    std::uint64_t lost = 0;
    int samples = 0;
    auto on_sample = [&](std::uint32_t, std::span<const std::byte>) { ++samples; };
    auto on_lost = [&](std::uint32_t, std::uint64_t n) { lost += n; };
    m->consume(on_sample, on_lost);
    EXPECT_EQ(samples, ok);
    // A lost record is written before the next sample as soon as it fits (here: once the consumer made room).
    ASSERT_EQ(m->output(0, "a", 1), 0);
    m->consume(on_sample, on_lost);
    EXPECT_EQ(samples, ok + 1);
    EXPECT_EQ(lost, static_cast<std::uint64_t>(full)) << "every refused sample is counted once";
}

TEST(MapPerfEventArray, SlotsLikeAnFdArray) {
    auto m = make_perf(4);
    std::uint32_t k = 1, next = 0, fd = 3;
    EXPECT_EQ(m->erase_host(&k), -ENOENT);
    ASSERT_EQ(m->open_buffer(1, 0), 0);
    EXPECT_EQ(m->erase_host(&k), 0);
    k = 4;
    EXPECT_EQ(m->erase_host(&k), -E2BIG);
    EXPECT_EQ(m->open_buffer(4, 0), -E2BIG);
    EXPECT_EQ(m->open_buffer(0, 0, 3), -EINVAL) << "pages must be a power of two";
    EXPECT_EQ(m->update_host(&k, &fd), -E2BIG);
    k = 0;
    EXPECT_EQ(m->update_host(&k, &fd), -EBADF) << "xbpf has no perf event fds";
    EXPECT_EQ(m->lookup_copy(&k, &fd), -kENOTSUPP);
    EXPECT_EQ(keys_of(*m), (std::vector<std::uint32_t>{0, 1, 2, 3}));
    (void)next;
}

}  // namespace
}  // namespace xbpf::maps::test
