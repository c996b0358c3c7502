// lpm_trie: longest-prefix match, exact-match updates and deletes, the kernel's post-order get_next_key, -ENOSPC.
#include <arpa/inet.h>

#include <cerrno>
#include <string>

#include "map_test_util.hpp"
#include "maps/lpm_trie.hpp"

namespace xbpf::maps::test {
namespace {

struct Ipv4Key {
    std::uint32_t prefixlen;
    std::uint8_t data[4];
};

Ipv4Key key(const char* addr, std::uint32_t prefixlen) {
    Ipv4Key k{prefixlen, {}};
    inet_pton(AF_INET, addr, k.data);
    return k;
}

std::string str(const Ipv4Key& k) {
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, k.data, buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(k.prefixlen);
}

std::shared_ptr<Map> make_trie(std::uint32_t max = 16) { return make(spec(MapType::LpmTrie, 8, 8, max, kFNoPrealloc)); }

std::int64_t match(Map& m, const char* addr, std::uint32_t prefixlen = 32) {
    const Ipv4Key k = key(addr, prefixlen);
    void* v = m.lookup(&k);
    return v ? static_cast<std::int64_t>(load<std::uint64_t>(v)) : -1;
}

TEST(MapLpmTrie, CreationRules) {
    EXPECT_EQ(create_errno(spec(MapType::LpmTrie, 8, 8, 1)), -EINVAL) << "BPF_F_NO_PREALLOC is mandatory";
    EXPECT_EQ(create_errno(spec(MapType::LpmTrie, 4, 8, 1, kFNoPrealloc)), -EINVAL) << "at least one data byte";
    EXPECT_EQ(create_errno(spec(MapType::LpmTrie, 261, 8, 1, kFNoPrealloc)), -EINVAL);
    EXPECT_EQ(create_errno(spec(MapType::LpmTrie, 260, 8, 1, kFNoPrealloc)), 0);
    EXPECT_EQ(create_errno(spec(MapType::LpmTrie, 8, 0, 1, kFNoPrealloc)), -EINVAL);
}

TEST(MapLpmTrie, LongestPrefixWins) {
    auto m = make_trie();
    const std::pair<Ipv4Key, std::uint64_t> routes[] = {{key("192.168.0.0", 16), 16},  {key("192.168.0.0", 24), 24},
                                                        {key("192.168.1.0", 24), 241}, {key("192.168.128.0", 24), 128},
                                                        {key("10.0.0.0", 8), 8},       {key("0.0.0.0", 0), 0}};
    for (const auto& [k, v] : routes) ASSERT_EQ(m->update(&k, &v, kAny), 0) << str(k);
    EXPECT_EQ(match(*m, "192.168.0.77"), 24);
    EXPECT_EQ(match(*m, "192.168.1.1"), 241);
    EXPECT_EQ(match(*m, "192.168.200.1"), 16);
    EXPECT_EQ(match(*m, "192.168.128.9"), 128);
    EXPECT_EQ(match(*m, "10.1.2.3"), 8);
    EXPECT_EQ(match(*m, "8.8.8.8"), 0) << "the default route";
    EXPECT_EQ(match(*m, "192.168.0.77", 20), 16) << "the lookup key's own prefix length bounds the match";
    const Ipv4Key bad = key("1.2.3.4", 33);
    EXPECT_EQ(m->lookup(&bad), nullptr);
    EXPECT_EQ(static_cast<LpmTrieMap&>(*m).count(), 6u);
}

TEST(MapLpmTrie, FlagsAndDeletes) {
    auto m = make_trie(3);
    const std::uint64_t v = 1;
    Ipv4Key k = key("10.0.0.0", 8);
    EXPECT_EQ(m->update(&k, &v, kExist), -ENOENT);
    EXPECT_EQ(m->update(&k, &v, kNoExist), 0);
    EXPECT_EQ(m->update(&k, &v, kNoExist), -EEXIST);
    EXPECT_EQ(m->update(&k, &v, kExist), 0);
    EXPECT_EQ(m->update(&k, &v, 3), -EINVAL);
    Ipv4Key bad = key("10.0.0.0", 33);
    EXPECT_EQ(m->update(&bad, &v, kAny), -EINVAL);
    EXPECT_EQ(m->erase(&bad), -EINVAL);
    Ipv4Key a = key("10.1.0.0", 16), b = key("10.2.0.0", 16), c = key("10.3.0.0", 16);
    EXPECT_EQ(m->update(&a, &v, kAny), 0);
    EXPECT_EQ(m->update(&b, &v, kAny), 0);
    EXPECT_EQ(m->update(&c, &v, kAny), -ENOSPC) << "a full trie refuses new prefixes";
    Ipv4Key shorter = key("10.0.0.0", 7);
    EXPECT_EQ(m->erase(&shorter), -ENOENT) << "deletes need the exact prefix";
    EXPECT_EQ(m->erase(&k), 0);
    EXPECT_EQ(m->erase(&k), -ENOENT);
    EXPECT_EQ(match(*m, "10.1.9.9"), 1);
    EXPECT_EQ(match(*m, "10.9.9.9"), -1) << "the /8 is gone";
    EXPECT_EQ(m->update(&c, &v, kAny), 0);
}

TEST(MapLpmTrie, GetNextKeyIsPostOrder) {
    // The kernel's example (lpm_trie.c): more specific prefixes come before less specific ones.
    auto m = make_trie();
    const std::uint64_t v = 0;
    for (const auto& k :
         {key("192.168.0.0", 16), key("192.168.0.0", 24), key("192.168.1.0", 24), key("192.168.128.0", 24)})
        ASSERT_EQ(m->update(&k, &v, kAny), 0);
    std::vector<std::string> order;
    Ipv4Key cur{}, next{};
    for (int rc = m->get_next_key(nullptr, &next); rc == 0; rc = m->get_next_key(&cur, &next)) {
        order.push_back(str(next));
        cur = next;
    }
    EXPECT_EQ(order,
              (std::vector<std::string>{"192.168.0.0/24", "192.168.1.0/24", "192.168.128.0/24", "192.168.0.0/16"}));
    const Ipv4Key missing = key("1.1.1.1", 32);
    ASSERT_EQ(m->get_next_key(&missing, &next), 0);
    EXPECT_EQ(str(next), "192.168.0.0/24") << "a missing key gives the leftmost node";
    auto empty = make_trie();
    EXPECT_EQ(empty->get_next_key(nullptr, &next), -ENOENT);
}

TEST(MapLpmTrie, ValuePointersStayValid) {
    auto m = make_trie(2);
    const std::uint64_t v = 5;
    Ipv4Key k = key("10.0.0.0", 8);
    ASSERT_EQ(m->update(&k, &v, kAny), 0);
    auto* p = static_cast<std::uint64_t*>(m->lookup(&k));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 8, 0u);
    for (int i = 0; i < 1000; ++i) {  // churn: nodes are recycled, never freed
        Ipv4Key t = key("172.16.0.0", 12 + i % 10);
        ASSERT_EQ(m->update(&t, &v, kAny), 0);
        ASSERT_EQ(m->erase(&t), 0);
    }
    EXPECT_EQ(*p, 5u);
}

}  // namespace
}  // namespace xbpf::maps::test
