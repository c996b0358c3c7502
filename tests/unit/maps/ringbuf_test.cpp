// ringbuf: record framing (header, busy and discard bits, 8-byte padding), positions, in-order consumption that
// stops at a busy record, wrap-around contiguity, running out of room, the wake-up rules, bpf_ringbuf_query.
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <thread>

#include "map_test_util.hpp"
#include "maps/memory.hpp"
#include "maps/ringbuf.hpp"

namespace xbpf::maps::test {
namespace {

std::shared_ptr<RingbufMap> make_rb(std::uint32_t pages = 1) {
    auto m = make(spec(MapType::Ringbuf, 0, 0, pages * static_cast<std::uint32_t>(page_size())));
    return std::static_pointer_cast<RingbufMap>(m);
}

std::vector<std::string> drain(RingbufMap& rb) {
    std::vector<std::string> out;
    rb.consume([&](std::span<const std::byte> s) {
        out.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
        return 0;
    });
    return out;
}

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1;
}

void clear(int fd) {
    std::uint64_t v;
    while (::read(fd, &v, sizeof v) > 0) {
    }
}

TEST(MapRingbuf, CreationRules) {
    const auto page = static_cast<std::uint32_t>(page_size());
    EXPECT_EQ(create_errno(spec(MapType::Ringbuf, 0, 0, page)), 0);
    EXPECT_EQ(create_errno(spec(MapType::Ringbuf, 0, 0, 3 * page)), -EINVAL) << "power of two";
    EXPECT_EQ(create_errno(spec(MapType::Ringbuf, 0, 0, page / 2)), -EINVAL) << "page multiple";
    EXPECT_EQ(create_errno(spec(MapType::Ringbuf, 4, 0, page)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::Ringbuf, 0, 0, page, kFRdonly)), -EINVAL);
}

TEST(MapRingbuf, FramingAndOrder) {
    auto rb = make_rb();
    auto* a = static_cast<char*>(rb->reserve(3, 0));
    ASSERT_NE(a, nullptr);
    const auto* hdr = reinterpret_cast<const std::uint32_t*>(a - kRingbufHdrSize);
    EXPECT_EQ(hdr[0], 3u | kRingbufBusyBit) << "reserved: length with the busy bit";
    EXPECT_EQ(rb->producer_pos(), 16u) << "8-byte header + 3 bytes, rounded to 8";
    auto* b = static_cast<char*>(rb->reserve(5, 0));
    ASSERT_NE(b, nullptr);
    std::memcpy(b, "world", 5);
    RingbufMap::submit(b, 0);
    EXPECT_TRUE(drain(*rb).empty()) << "records are consumed in order: the first is still busy";
    std::memcpy(a, "abc", 3);
    EXPECT_EQ(RingbufMap::from_sample(a), rb.get());
    RingbufMap::submit(a, 0);
    EXPECT_EQ(hdr[0], 3u);
    EXPECT_EQ(drain(*rb), (std::vector<std::string>{"abc", "world"}));
    EXPECT_EQ(rb->consumer_pos(), 32u);
    auto* c = static_cast<char*>(rb->reserve(4, 0));
    std::memcpy(c, "gone", 4);
    RingbufMap::discard(c, 0);
    EXPECT_EQ(rb->output("kept", 4, 0), 0);
    EXPECT_EQ(drain(*rb), (std::vector<std::string>{"kept"})) << "discarded records are skipped";
    EXPECT_EQ(rb->consumer_pos(), rb->producer_pos());
}

TEST(MapRingbuf, ReserveRefusals) {
    auto rb = make_rb();
    EXPECT_EQ(rb->reserve(8, 1), nullptr) << "flags must be 0";
    EXPECT_EQ(rb->reserve(page_size(), 0), nullptr) << "larger than the ring with its header";
    EXPECT_EQ(rb->output("x", 1, 4), -EINVAL);
    // Fill the ring: it holds at most size - 1 bytes of records.
    std::size_t n = 0;
    while (rb->reserve(120, 0)) ++n;  // 128-byte records
    EXPECT_EQ(n, page_size() / 128 - 1);
    const std::string rest(200, 'r');  // 208 bytes framed: more than the room left
    EXPECT_EQ(rb->output(rest.data(), rest.size(), 0), -EAGAIN);
}

TEST(MapRingbuf, WrapsContiguously) {
    auto rb = make_rb();
    const std::size_t size = page_size();
    // Advance the positions so that the next record straddles the end of the data pages.
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(rb->output(std::string(size / 4 - 8, 'x').data(), size / 4 - 8, 0), 0);
        drain(*rb);
    }
    std::string big(size / 2, 'y');
    for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
    auto* s = static_cast<char*>(rb->reserve(big.size(), 0));
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(rb->contains(s, big.size()));
    std::memcpy(s, big.data(), big.size());  // one memcpy across the end: the pages are mapped twice
    RingbufMap::submit(s, 0);
    EXPECT_EQ(drain(*rb), std::vector<std::string>{big});
}

TEST(MapRingbuf, Query) {
    auto rb = make_rb();
    ASSERT_EQ(rb->output("12345678", 8, 0), 0);
    EXPECT_EQ(rb->query(kRbAvailData), 16u);
    EXPECT_EQ(rb->query(kRbRingSize), page_size());
    EXPECT_EQ(rb->query(kRbProdPos), 16u);
    EXPECT_EQ(rb->query(kRbConsPos), 0u);
    EXPECT_EQ(rb->query(99), 0u);
    drain(*rb);
    EXPECT_EQ(rb->query(kRbAvailData), 0u);
}

TEST(MapRingbuf, WakeupRules) {
    auto rb = make_rb();
    int callbacks = 0;
    rb->set_wakeup_callback([&] { ++callbacks; });
    const int fd = rb->notify_fd();
    EXPECT_FALSE(readable(fd));
    ASSERT_EQ(rb->output("a", 1, 0), 0);  // the consumer is at this record: wake
    EXPECT_TRUE(readable(fd));
    EXPECT_EQ(callbacks, 1);
    ASSERT_EQ(rb->output("b", 1, 0), 0);  // the consumer is behind (has not read "a"): no wake
    EXPECT_EQ(callbacks, 1);
    ASSERT_EQ(rb->output("c", 1, kRbForceWakeup), 0);
    EXPECT_EQ(callbacks, 2);
    drain(*rb);
    ASSERT_EQ(rb->output("d", 1, kRbNoWakeup), 0);
    EXPECT_EQ(callbacks, 2);
    drain(*rb);
    clear(fd);
    // poll() sleeps until a producer on another thread commits.
    std::thread producer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        rb->output("late", 4, 0);
    });
    std::vector<std::string> got;
    int n = 0;
    for (int tries = 0; tries < 100 && n == 0; ++tries) {
        n = rb->poll(
            [&](std::span<const std::byte> s) {
                got.emplace_back(reinterpret_cast<const char*>(s.data()), s.size());
                return 0;
            },
            1000);
    }
    producer.join();
    EXPECT_EQ(got, std::vector<std::string>{"late"});
}

TEST(MapRingbuf, CallbackErrorStops) {
    auto rb = make_rb();
    rb->output("1", 1, 0);
    rb->output("2", 1, 0);
    int seen = 0;
    EXPECT_EQ(rb->consume([&](std::span<const std::byte>) { return ++seen == 1 ? -42 : 0; }), -42);
    EXPECT_EQ(drain(*rb), std::vector<std::string>{"2"}) << "the failing record counts as consumed";
}

TEST(MapRingbuf, ElementOperationsDoNotExist) {
    auto rb = make_rb();
    std::uint32_t k = 0;
    EXPECT_EQ(rb->lookup(&k), nullptr);
    EXPECT_EQ(rb->update(&k, &k, 0), -kENOTSUPP);
    EXPECT_EQ(rb->lookup_copy(nullptr, &k), -kENOTSUPP);
    EXPECT_EQ(rb->get_next_key_host(nullptr, &k), -kENOTSUPP);
}

}  // namespace
}  // namespace xbpf::maps::test
