// queue and stack: FIFO/LIFO order, BPF_EXIST overwriting the oldest value, empty and full errors, the syscall's
// mapping of lookup/update/lookup-and-delete onto peek/push/pop.
#include <cerrno>

#include "map_test_util.hpp"

namespace xbpf::maps::test {
namespace {

std::int64_t pop_u32(Map& m) {
    std::uint32_t v = 0;
    const int rc = m.pop(&v);
    return rc == 0 ? std::int64_t{v} : std::int64_t{rc};
}

TEST(MapQueueStack, CreationRules) {
    EXPECT_EQ(create_errno(spec(MapType::Queue, 0, 4, 1)), 0);
    EXPECT_EQ(create_errno(spec(MapType::Queue, 4, 4, 1)), -EINVAL) << "no keys";
    EXPECT_EQ(create_errno(spec(MapType::Stack, 0, 0, 1)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Stack, 0, 4, 0)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Stack, 0, 4, 1, kFNoPrealloc)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Queue, 0, (1u << 22) + 1, 1)), -E2BIG);
}

TEST(MapQueueStack, QueueIsFifo) {
    auto q = make(spec(MapType::Queue, 0, 4, 3));
    for (std::uint32_t v : {1u, 2u, 3u}) ASSERT_EQ(q->push(&v, kAny), 0);
    std::uint32_t v = 4;
    EXPECT_EQ(q->push(&v, kAny), -E2BIG);
    EXPECT_EQ(q->push(&v, kNoExist), -EINVAL);
    EXPECT_EQ(q->push(&v, 3), -EINVAL);
    EXPECT_EQ(q->push(&v, kExist), 0) << "BPF_EXIST drops the oldest to make room";
    std::uint32_t peeked = 0;
    ASSERT_EQ(q->peek(&peeked), 0);
    EXPECT_EQ(peeked, 2u);
    EXPECT_EQ(pop_u32(*q), 2);
    EXPECT_EQ(pop_u32(*q), 3);
    EXPECT_EQ(pop_u32(*q), 4);
    EXPECT_EQ(pop_u32(*q), -ENOENT);
    EXPECT_EQ(q->peek(&peeked), -ENOENT);
}

TEST(MapQueueStack, StackIsLifo) {
    auto s = make(spec(MapType::Stack, 0, 4, 3));
    for (std::uint32_t v : {1u, 2u, 3u}) ASSERT_EQ(s->push(&v, kAny), 0);
    std::uint32_t v = 4;
    EXPECT_EQ(s->push(&v, kExist), 0) << "drops the bottom (oldest) value";
    EXPECT_EQ(pop_u32(*s), 4);
    EXPECT_EQ(pop_u32(*s), 3);
    EXPECT_EQ(pop_u32(*s), 2);
    EXPECT_EQ(pop_u32(*s), -ENOENT);
}

TEST(MapQueueStack, KeyOperationsDoNotExist) {
    auto q = make(spec(MapType::Queue, 0, 4, 3));
    std::uint32_t v = 1, k = 0;
    EXPECT_EQ(q->update(&k, &v, kAny), -EINVAL);
    EXPECT_EQ(q->erase(&k), -EINVAL);
    EXPECT_EQ(q->get_next_key(nullptr, &k), -EINVAL);
    EXPECT_EQ(q->lookup(&k), nullptr);
}

TEST(MapQueueStack, SyscallMapping) {
    auto q = make(spec(MapType::Queue, 0, 4, 3));
    std::uint32_t v = 7, out = 0;
    EXPECT_EQ(q->update_host(nullptr, &v), 0);
    v = 8;
    EXPECT_EQ(q->update_host(nullptr, &v), 0);
    EXPECT_EQ(q->lookup_copy(nullptr, &out), 0);
    EXPECT_EQ(out, 7u);
    const auto d = q->dump();
    ASSERT_EQ(d.size(), 2u) << "dump lists the values in pop order without popping";
    EXPECT_EQ(load<std::uint32_t>(d[1].value.data()), 8u);
    EXPECT_EQ(q->lookup_and_delete(nullptr, &out, kFLock), -EINVAL) << "no flags for queues";
    EXPECT_EQ(q->lookup_and_delete(nullptr, &out), 0);
    EXPECT_EQ(out, 7u);
    EXPECT_EQ(q->erase_host(nullptr), -EINVAL);
}

}  // namespace
}  // namespace xbpf::maps::test
