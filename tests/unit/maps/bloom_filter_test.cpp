// bloom_filter: no false negatives, rare false positives, the kernel's sizing and refusals.
#include <cerrno>
#include <cmath>

#include "map_test_util.hpp"
#include "maps/bloom_filter.hpp"

namespace xbpf::maps::test {
namespace {

TEST(MapBloom, CreationAndSizing) {
    EXPECT_EQ(create_errno(spec(MapType::BloomFilter, 4, 8, 10)), -EINVAL) << "no keys";
    EXPECT_EQ(create_errno(spec(MapType::BloomFilter, 0, 0, 10)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::BloomFilter, 0, 8, 0)), -EINVAL);
    MapSpec s = spec(MapType::BloomFilter, 0, 8, 100);
    s.map_extra = 16;
    EXPECT_EQ(create_errno(s), -EINVAL) << "hash function count lives in 4 bits";
    s.map_extra = 0;
    auto m = make(s);
    const auto& b = static_cast<const BloomFilterMap&>(*m);
    EXPECT_EQ(b.nr_hash_funcs(), 5u) << "default";
    EXPECT_EQ(b.nr_bits(), 1024u) << "100 * 5 * 7 / 5 = 700, rounded up to a power of two";
    s.max_entries = 1;
    s.map_extra = 1;
    EXPECT_EQ(static_cast<const BloomFilterMap&>(*make(s)).nr_bits(), 64u) << "at least a long";
}

TEST(MapBloom, NoFalseNegativesFewFalsePositives) {
    MapSpec s = spec(MapType::BloomFilter, 0, 8, 1000);
    s.map_extra = 5;
    auto m = make(s);
    for (std::uint64_t v = 0; v < 1000; ++v) {
        const std::uint64_t x = v * 0x9e3779b97f4a7c15ULL;
        ASSERT_EQ(m->push(&x, kAny), 0);
    }
    for (std::uint64_t v = 0; v < 1000; ++v) {
        std::uint64_t x = v * 0x9e3779b97f4a7c15ULL;
        ASSERT_EQ(m->peek(&x), 0) << "false negative for " << v;
        ASSERT_EQ(m->lookup_copy(nullptr, &x), 0);
    }
    int fp = 0;
    for (std::uint64_t v = 1000; v < 21000; ++v) {
        std::uint64_t x = v * 0x9e3779b97f4a7c15ULL;
        fp += m->peek(&x) == 0;
    }
    // 1000 values, 5 functions, 8192 bits: (1 - e^(-5000/8192))^5 = 2.0%.
    EXPECT_LT(fp, 20000 * 0.03);
}

TEST(MapBloom, Refusals) {
    auto m = make(spec(MapType::BloomFilter, 0, 4, 10));
    std::uint32_t v = 1;
    EXPECT_EQ(m->push(&v, kExist), -EINVAL) << "only BPF_ANY";
    EXPECT_EQ(m->update(nullptr, &v, kAny), -EINVAL);
    EXPECT_EQ(m->lookup(&v), nullptr);
    EXPECT_EQ(m->erase(nullptr), -EOPNOTSUPP);
    EXPECT_EQ(m->pop(&v), -EOPNOTSUPP);
    EXPECT_EQ(m->get_next_key(nullptr, &v), -EOPNOTSUPP);
    EXPECT_EQ(m->update_host(nullptr, &v), 0);
    EXPECT_EQ(m->peek(&v), 0);
}

}  // namespace
}  // namespace xbpf::maps::test
