// stack_trace: get_stackid's id, skip, truncation, -EEXIST / BPF_F_REUSE_STACKID / BPF_F_FAST_STACK_CMP, reads
// zero-filled past the trace, iteration and deletion by id.
#include <cerrno>

#include "map_test_util.hpp"
#include "maps/stack_trace.hpp"

namespace xbpf::maps::test {
namespace {

std::shared_ptr<StackTraceMap> make_stacks(std::uint32_t depth, std::uint32_t max) {
    return std::static_pointer_cast<StackTraceMap>(make(spec(MapType::StackTrace, 4, depth * 8, max)));
}

TEST(MapStackTrace, CreationRules) {
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 4, 12, 1)), -EINVAL) << "u64 entries";
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 8, 8, 1)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 4, 8 * 128, 1)), -EINVAL) << "perf_event_max_stack";
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 4, 64, 1, kFStackBuildId)), 0);
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 4, 40, 1, kFStackBuildId)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::StackTrace, 4, 64, 1, kFRdonlyProg)), -EINVAL);
}

TEST(MapStackTrace, SameStackSameId) {
    auto m = make_stacks(4, 8);
    const std::uint64_t a[] = {0x1000, 0x2000, 0x3000};
    const std::uint64_t b[] = {0x1000, 0x2000, 0x3001};
    const long ida = m->get_stackid(a, 3, 0);
    ASSERT_GE(ida, 0);
    EXPECT_LT(ida, 8) << "ids are below n_buckets = roundup_pow_of_two(max_entries)";
    EXPECT_EQ(m->get_stackid(a, 3, 0), ida);
    std::uint64_t out[4];
    std::uint32_t key = static_cast<std::uint32_t>(ida);
    ASSERT_EQ(m->lookup_copy(&key, out), 0);
    EXPECT_EQ(out[0], 0x1000u);
    EXPECT_EQ(out[2], 0x3000u);
    EXPECT_EQ(out[3], 0u) << "zero-filled past the trace";
    const long idb = m->get_stackid(b, 3, 0);
    if (idb == ida) GTEST_SKIP() << "hash collision between the two test stacks";
    ASSERT_GE(idb, 0);
    EXPECT_EQ(m->dump().size(), 2u);
}

TEST(MapStackTrace, SkipTruncateAndFlags) {
    auto m = make_stacks(2, 4);
    const std::uint64_t ips[] = {1, 2, 3, 4, 5};
    EXPECT_EQ(m->get_stackid(ips, 2, 2), -EFAULT) << "skipping the whole stack";
    EXPECT_EQ(m->get_stackid(ips, 5, std::uint64_t{1} << 11), -EINVAL);
    const long id = m->get_stackid(ips, 5, 1);  // skip 1, keep at most 2
    ASSERT_GE(id, 0);
    std::uint64_t out[2];
    std::uint32_t key = static_cast<std::uint32_t>(id);
    ASSERT_EQ(m->lookup_copy(&key, out), 0);
    EXPECT_EQ(out[0], 2u);
    EXPECT_EQ(out[1], 3u);
}

TEST(MapStackTrace, CollisionsAndReuse) {
    auto m = make_stacks(1, 2);  // two buckets, two traces
    const std::uint64_t a[] = {0xaaaa};
    const long ida = m->get_stackid(a, 1, 0);
    ASSERT_GE(ida, 0);
    std::uint64_t b[] = {0};  // find a different stack with the same id
    for (std::uint64_t ip = 1; ip < 1000; ++ip) {
        b[0] = ip;
        if (ip != a[0] && m->get_stackid(b, 1, kFFastStackCmp | kFReuseStackId) == ida) break;
        std::uint32_t other = static_cast<std::uint32_t>(1 - ida);
        m->erase_host(&other);
    }
    // b now holds bucket `ida` (replaced a): a different trace with the same id is -EEXIST without REUSE.
    EXPECT_EQ(m->get_stackid(a, 1, 0), -EEXIST);
    EXPECT_EQ(m->get_stackid(b, 1, 0), ida) << "the same trace gets its id back";
    EXPECT_EQ(m->get_stackid(a, 1, kFReuseStackId), ida);
    std::uint64_t out = 0;
    std::uint32_t key = static_cast<std::uint32_t>(ida);
    ASSERT_EQ(m->lookup_copy(&key, &out), 0);
    EXPECT_EQ(out, 0xaaaau);
    EXPECT_EQ(m->erase_host(&key), 0);
    EXPECT_EQ(m->erase_host(&key), -ENOENT);
    EXPECT_EQ(m->lookup_copy(&key, &out), -ENOENT);
    key = 2;
    EXPECT_EQ(m->erase_host(&key), -E2BIG) << "ids are below n_buckets";
    EXPECT_EQ(m->get_stackid(a, 1, 0), ida);
    key = static_cast<std::uint32_t>(ida);
    EXPECT_EQ(m->lookup_and_delete(&key, &out), 0);
    EXPECT_EQ(out, 0xaaaau);
    EXPECT_EQ(m->update_host(&key, &out), -EINVAL);
    EXPECT_EQ(m->lookup(&key), nullptr) << "programs cannot read stack maps";
}

TEST(MapStackTrace, FullMapCannotReuse) {
    // As in the kernel, a replacement takes a free trace before releasing the old one: with every trace in use,
    // even BPF_F_REUSE_STACKID gets -ENOMEM.
    auto m = make_stacks(1, 1);  // one bucket, one trace
    const std::uint64_t a[] = {1}, b[] = {2};
    EXPECT_EQ(m->get_stackid(a, 1, 0), 0);
    EXPECT_EQ(m->get_stackid(b, 1, 0), -EEXIST);
    EXPECT_EQ(m->get_stackid(b, 1, kFReuseStackId), -ENOMEM);
    EXPECT_EQ(m->get_stackid(b, 1, kFFastStackCmp), -EEXIST);
}

}  // namespace
}  // namespace xbpf::maps::test
