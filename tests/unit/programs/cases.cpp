// The case table (see cases.hpp). Every expected value is derived from the C source of the program, the derivation
// written next to it; packet hashes come from a reference implementation of the algorithm in this file.
//
// Test-run facts the expectations rely on (net/bpf/test_run.c):
// - XDP: data is the whole frame; without ctx_in, the xdp_md's rxq is the loopback device's queue 0, so
//   ctx->ingress_ifindex reads 1 (LOOPBACK_IFINDEX).
// - socket_filter: eth_type_trans() pulls the 14-byte Ethernet header, so skb->len and skb->data start at the
//   network header; sched_cls pushes it back (skb->len is the whole frame). data_out is the whole frame for both,
//   but for socket_filter the header is pushed back zeroed (`memset(__skb_push(skb, hh_len), 0, hh_len)`).
// - __sk_buff in ctx_in: only mark, priority, ingress_ifindex, ifindex, cb[], tstamp, wire_len, gso_segs, gso_size,
//   hwtstamp may be nonzero.
#include "cases.hpp"

#include <linux/bpf.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <map>
#include <set>

#include <fmt/format.h>

#include "maps/cpu.hpp"

// The table uses designated initializers that leave defaulted members out; g++ 12 warns about those.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace xbpf::test::programs {
namespace {

// ---- byte helpers ----

/// out += in (a loop: g++ 12 -O3 reports a false -Warray-bounds for vector::insert of a vector here).
void append(Bytes& out, const Bytes& in) {
    out.reserve(out.size() + in.size());
    for (const std::uint8_t b : in) out.push_back(b);
}
Bytes le32(std::uint32_t v) {
    Bytes b(4);
    for (int i = 0; i < 4; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
}
Bytes le64(std::uint64_t v) {
    Bytes b(8);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(v >> (8 * i));
    return b;
}
Bytes s64(std::int64_t v) { return le64(static_cast<std::uint64_t>(v)); }
Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts) append(out, p);
    return out;
}
void put_be16(Bytes& b, std::size_t at, std::uint16_t v) {
    b[at] = static_cast<std::uint8_t>(v >> 8);
    b[at + 1] = static_cast<std::uint8_t>(v);
}

// ---- packet builders (network byte order on the wire) ----

using Mac = std::array<std::uint8_t, 6>;
constexpr Mac kMacA = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr Mac kMacB = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};

constexpr std::uint16_t kEthIp = 0x0800, kEthArp = 0x0806, kEthIpv6 = 0x86dd, kEthVlan = 0x8100;
constexpr std::uint8_t kTcp = 6, kUdp = 17;

Bytes ethernet(const Mac& dst, const Mac& src, std::uint16_t type, const Bytes& payload) {
    Bytes b(14);
    std::copy(dst.begin(), dst.end(), b.begin());
    std::copy(src.begin(), src.end(), b.begin() + 6);
    put_be16(b, 12, type);
    append(b, payload);
    return b;
}

Bytes vlan_tag(std::uint16_t tci, std::uint16_t type, const Bytes& payload) {
    Bytes b(4);
    put_be16(b, 0, tci);
    put_be16(b, 2, type);
    append(b, payload);
    return b;
}

/// RFC 1071 Internet checksum of `b[from, from + len)`.
std::uint16_t inet_checksum(const Bytes& b, std::size_t from, std::size_t len) {
    std::uint32_t sum = 0;
    for (std::size_t i = 0; i + 1 < len; i += 2) sum += (b[from + i] << 8) | b[from + i + 1];
    if (len & 1) sum += b[from + len - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum);
}

Bytes ipv4(std::uint8_t proto, std::uint32_t saddr, std::uint32_t daddr, const Bytes& payload, std::uint8_t ttl = 64,
           const Bytes& options = {}) {
    const std::size_t hlen = 20 + options.size();
    Bytes b(20);
    b[0] = static_cast<std::uint8_t>(0x40 | (hlen / 4));
    put_be16(b, 2, static_cast<std::uint16_t>(hlen + payload.size()));
    put_be16(b, 4, 0x1c46);  // id
    put_be16(b, 6, 0x4000);  // DF
    b[8] = ttl;
    b[9] = proto;
    put_be16(b, 12, static_cast<std::uint16_t>(saddr >> 16));
    put_be16(b, 14, static_cast<std::uint16_t>(saddr));
    put_be16(b, 16, static_cast<std::uint16_t>(daddr >> 16));
    put_be16(b, 18, static_cast<std::uint16_t>(daddr));
    append(b, options);
    put_be16(b, 10, inet_checksum(b, 0, hlen));
    append(b, payload);
    return b;
}

Bytes ipv6(std::uint8_t nexthdr, const Bytes& payload) {
    Bytes b(40);
    b[0] = 0x60;
    put_be16(b, 4, static_cast<std::uint16_t>(payload.size()));
    b[6] = nexthdr;
    b[7] = 64;
    b[8] = 0xfd;  // fd00::1 -> fd00::2
    b[23] = 1;
    b[24] = 0xfd;
    b[39] = 2;
    append(b, payload);
    return b;
}

Bytes tcp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
    Bytes b(20);
    put_be16(b, 0, sport);
    put_be16(b, 2, dport);
    b[7] = 1;                 // seq 1
    put_be16(b, 12, 0x5018);  // data offset 5, PSH|ACK
    put_be16(b, 14, 0xffff);  // window
    append(b, payload);
    return b;
}

Bytes udp(std::uint16_t sport, std::uint16_t dport, const Bytes& payload) {
    Bytes b(8);
    put_be16(b, 0, sport);
    put_be16(b, 2, dport);
    put_be16(b, 4, static_cast<std::uint16_t>(8 + payload.size()));
    append(b, payload);
    return b;
}

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

constexpr std::uint32_t kIp10_0_0_1 = 0x0a000001, kIp10_0_0_2 = 0x0a000002;

/// 60 bytes: Ethernet + IPv4 (20) + TCP (20) 1234 -> 80 + "hello!".
Bytes packet_tcp80(std::uint8_t ttl = 64) {
    return ethernet(kMacA, kMacB, kEthIp, ipv4(kTcp, kIp10_0_0_1, kIp10_0_0_2, tcp(1234, 80, text("hello!")), ttl));
}

/// 42 bytes: Ethernet + IPv4 + UDP 1000 -> 9, no payload.
Bytes packet_udp9() { return ethernet(kMacA, kMacB, kEthIp, ipv4(kUdp, kIp10_0_0_1, kIp10_0_0_2, udp(1000, 9, {}))); }

/// 70 bytes: Ethernet + 802.1Q (tci 5) + IPv6 + UDP 5353 -> 53 + 4 bytes.
Bytes packet_vlan_ipv6_dns() {
    return ethernet(kMacA, kMacB, kEthVlan, vlan_tag(5, kEthIpv6, ipv6(kUdp, udp(5353, 53, {1, 2, 3, 4}))));
}

/// 100 bytes: Ethernet + IPv4 + UDP 2000 -> 3000 + 58 bytes 0, 1, 2, ...
Bytes packet_udp_100() {
    Bytes payload(58);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i);
    return ethernet(kMacA, kMacB, kEthIp, ipv4(kUdp, kIp10_0_0_1, kIp10_0_0_2, udp(2000, 3000, payload)));
}

/// A packet whose first byte (the destination MAC's first byte) selects a tail-call slot.
Bytes packet_first_byte(std::uint8_t first) {
    Bytes p = packet_tcp80();
    p[0] = first;
    return p;
}

/// data_out of a socket filter: the frame with its link-layer header zeroed (see the top of this file).
Bytes zero_l2(Bytes p) {
    std::fill_n(p.begin(), 14, 0);
    return p;
}

Bytes swap_macs(Bytes p) {
    std::swap_ranges(p.begin(), p.begin() + 6, p.begin() + 6);
    return p;
}

// ---- reference hashes ----

std::uint32_t fnv1a32(const Bytes& b, std::size_t max) {
    std::uint32_t h = 2166136261u;
    for (std::size_t i = 0; i < b.size() && i < max; ++i) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

std::uint32_t one_at_a_time(const Bytes& b, std::size_t max) {
    std::uint32_t h = 0;
    for (std::size_t i = 0; i < b.size() && i < max; ++i) {
        h += b[i];
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

// ---- expectation helpers ----

ExpectedEntry u32_u64(std::uint32_t k, std::uint64_t v) { return {le32(k), le64(v)}; }
ExpectedEntry u32_u32(std::uint32_t k, std::uint32_t v) { return {le32(k), le32(v)}; }

/// An array of u64 values with exactly these contents.
ExpectedMap u64_array(std::string name, std::vector<std::uint64_t> values) {
    ExpectedMap m{std::move(name), {}, true, {}};
    for (std::uint32_t i = 0; i < values.size(); ++i) m.entries.push_back(u32_u64(i, values[i]));
    return m;
}

Bytes sk_buff_ctx(std::uint32_t mark, std::uint32_t cb0) {
    Bytes ctx(sizeof(struct __sk_buff), 0);
    std::memcpy(ctx.data() + offsetof(struct __sk_buff, mark), &mark, 4);
    std::memcpy(ctx.data() + offsetof(struct __sk_buff, cb), &cb0, 4);
    return ctx;
}

Bytes lpm_key(std::uint32_t prefixlen, std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return cat({le32(prefixlen), Bytes{a, b, c, d}});
}

std::vector<Case> build_cases() {
    std::vector<Case> cs;
    const Bytes tcp80 = packet_tcp80();  // 60 bytes
    const Bytes udp9 = packet_udp9();    // 42 bytes

    // ---- parse.bpf.c: xdp_stats. pkt_counts slots: total, ipv4, ipv6, tcp, udp, vlan, other L3, malformed. ----
    cs.push_back(
        {.name = "parse_ipv4_tcp_repeat3",
         .object = "parse",
         .program = "xdp_stats",
         .data_in = tcp80,
         .repeat = 3,
         .retval = XDP_PASS,
         .maps = {u64_array("pkt_counts", {3, 3, 0, 3, 0, 0, 0, 0}), {"port_bytes", {u32_u64(80, 3 * 60)}, true, {}}}});
    cs.push_back(
        {.name = "parse_vlan_ipv6_udp53_tx",
         .object = "parse",
         .program = "xdp_stats",
         .data_in = packet_vlan_ipv6_dns(),
         .retval = XDP_TX,
         .data_out = swap_macs(packet_vlan_ipv6_dns()),
         .maps = {u64_array("pkt_counts", {1, 0, 1, 0, 1, 1, 0, 0}), {"port_bytes", {u32_u64(53, 70)}, true, {}}}});
    cs.push_back({.name = "parse_arp_other_l3",
                  .object = "parse",
                  .program = "xdp_stats",
                  .data_in = ethernet(kMacA, kMacB, kEthArp, Bytes(28, 0)),
                  .retval = XDP_PASS,
                  .maps = {u64_array("pkt_counts", {1, 0, 0, 0, 0, 0, 1, 0}), {"port_bytes", {}, true, {}}}});
    cs.push_back({.name = "parse_truncated_ipv4",
                  .object = "parse",
                  .program = "xdp_stats",
                  .data_in = ethernet(kMacA, kMacB, kEthIp, Bytes(10, 0x45)),
                  .retval = XDP_DROP,
                  .maps = {u64_array("pkt_counts", {1, 1, 0, 0, 0, 0, 0, 1})}});
    // IPv4 with 4 bytes of options (ihl 6): the UDP header is found at 14 + 24. 46 bytes.
    cs.push_back(
        {.name = "parse_ipv4_options_udp",
         .object = "parse",
         .program = "xdp_stats",
         .data_in =
             ethernet(kMacA, kMacB, kEthIp, ipv4(kUdp, kIp10_0_0_1, kIp10_0_0_2, udp(1000, 9, {}), 64, {1, 1, 1, 0})),
         .retval = XDP_PASS,
         .maps = {u64_array("pkt_counts", {1, 1, 0, 0, 1, 0, 0, 0}), {"port_bytes", {u32_u64(9, 46)}, true, {}}}});

    // ---- skb.bpf.c ----
    // Socket filter on the 60-byte TCP packet: skb->len = 60 - 14 = 46; skb->protocol reads htons(0x0800) = 0x0008;
    // mark and cb[0] come from ctx_in. Port 80: returns skb->len.
    cs.push_back({.name = "skb_socket_tcp80_ctx",
                  .object = "skb",
                  .program = "sock_stats",
                  .data_in = tcp80,
                  .ctx_in = sk_buff_ctx(0x55, 0x1234),
                  .retval = 46,
                  .data_out = zero_l2(tcp80),
                  .maps = {u64_array("skb_stats", {46, 0x0008, 0x55, 0x1234})}});
    cs.push_back({.name = "skb_socket_udp_dropped",
                  .object = "skb",
                  .program = "sock_stats",
                  .data_in = udp9,
                  .retval = 0,
                  .data_out = zero_l2(udp9),
                  .maps = {u64_array("skb_stats", {28, 0x0008, 0, 0})}});
    {
        // tc: TTL 64 -> 63 with the checksum updated incrementally; the result must equal a full recomputation,
        // i.e. the packet built with TTL 63. tc_stats = {len 60, old ttl 64, new checksum as read little-endian}.
        const Bytes after = packet_tcp80(63);
        const std::uint32_t check = after[24] | (after[25] << 8);
        cs.push_back({.name = "skb_tc_ttl_rewrite",
                      .object = "skb",
                      .program = "tc_rewrite",
                      .data_in = tcp80,
                      .ctx_in = sk_buff_ctx(0, 0),
                      .retval = 0,  // TC_ACT_OK
                      .data_out = after,
                      .ctx_out_u32 = {{offsetof(struct __sk_buff, mark), 0x77}},
                      .maps = {u64_array("tc_stats", {60, 64, check, 0})}});
        cs.push_back({.name = "skb_tc_ttl_expired",
                      .object = "skb",
                      .program = "tc_rewrite",
                      .data_in = packet_tcp80(1),
                      .retval = 2,  // TC_ACT_SHOT
                      .maps = {u64_array("tc_stats", {60, 1, 0, 0})}});
    }

    // ---- hashing.bpf.c ----
    {
        const std::uint32_t h = fnv1a32(tcp80, 256);
        cs.push_back({.name = "hash_fnv1a_60",
                      .object = "hashing",
                      .program = "fnv1a",
                      .data_in = tcp80,
                      .retval = h,
                      .maps = {{"hashes", {u32_u32(0, h), u32_u32(1, 0)}, true, {}}}});
        const Bytes big = packet_udp_100();
        const std::uint32_t h100 = fnv1a32(big, 256);
        cs.push_back({.name = "hash_fnv1a_100_repeat2",
                      .object = "hashing",
                      .program = "fnv1a",
                      .data_in = big,
                      .repeat = 2,
                      .retval = h100,
                      .maps = {{"hashes", {u32_u32(0, h100)}, false, {}}}});
        const std::uint32_t o60 = one_at_a_time(tcp80, 64);
        cs.push_back({.name = "hash_oaat_60",
                      .object = "hashing",
                      .program = "oaat",
                      .data_in = tcp80,
                      .retval = o60,
                      .maps = {{"hashes", {u32_u32(0, 0), u32_u32(1, o60)}, true, {}}}});
        const std::uint32_t o100 = one_at_a_time(big, 64);  // only the first 64 bytes
        Bytes window = cat({le32(64), Bytes(big.begin(), big.begin() + 64)});
        cs.push_back({.name = "hash_oaat_100",
                      .object = "hashing",
                      .program = "oaat",
                      .data_in = big,
                      .retval = o100,
                      .maps = {{"hashes", {u32_u32(1, o100)}, false, {}}, {"scratch", {{le32(0), window}}, true, {}}}});
    }

    // ---- map_ops.bpf.c (derivations in the C comments) ----
    cs.push_back({.name = "maps_array_hash",
                  .object = "map_ops",
                  .program = "array_hash_ops",
                  .data_in = tcp80,
                  .retval = 305,
                  .maps = {u64_array("arr", {0, 10, 5, 10}),
                           {"hmap", {u32_u64(1, 100), u32_u64(3, 300)}, true, {}},
                           {"results",
                            {{le32(0), s64(-22)},
                             {le32(1), s64(-17)},
                             {le32(2), s64(-2)},
                             {le32(3), s64(-7)},
                             {le32(4), s64(-2)},
                             {le32(5), s64(0)},
                             {le32(6), s64(0)},
                             {le32(7), s64(0)}},
                            true,
                            {}}}});
    cs.push_back({.name = "maps_percpu_lru",
                  .object = "map_ops",
                  .program = "percpu_lru_ops",
                  .data_in = tcp80,
                  .retval = 73,
                  .maps = {u64_array("pcpu_arr", {1, 7}),
                           {"pcpu_hash", {u32_u64(5, 50)}, true, {}},
                           {"lru", {u32_u64(1, 11), u32_u64(2, 22), u32_u64(4, 44)}, true, {}},
                           {"lru_pcpu", {u32_u64(9, 90)}, true, {}}}});
    cs.push_back({.name = "maps_lpm_trie",
                  .object = "map_ops",
                  .program = "lpm_ops",
                  .data_in = tcp80,
                  .retval = 2130,
                  .maps = {{"lpm",
                            {{lpm_key(8, 10, 0, 0, 0), le32(1)},
                             {lpm_key(16, 10, 1, 0, 0), le32(2)},
                             {lpm_key(24, 192, 168, 1, 0), le32(3)}},
                            true,
                            {}}}});
    cs.push_back({.name = "maps_queue_stack",
                  .object = "map_ops",
                  .program = "queue_stack_ops",
                  .data_in = tcp80,
                  .retval = 132,
                  .maps = {{"q", {{{}, le32(2)}, {{}, le32(3)}}, true, {}},
                           {"stk", {{{}, le32(2)}, {{}, le32(1)}}, true, {}},
                           {"results", {{le32(5), s64(2)}}, false, {}}}});
    cs.push_back(
        {.name = "maps_bloom_filter", .object = "map_ops", .program = "bloom_ops", .data_in = tcp80, .retval = 3});
    cs.push_back({.name = "maps_ringbuf",
                  .object = "map_ops",
                  .program = "ringbuf_ops",
                  .data_in = tcp80,
                  .retval = 64 + 10 * 4096});

    // ---- map_in_map.bpf.c ----
    cs.push_back({.name = "maps_map_in_map",
                  .object = "map_in_map",
                  .program = "map_in_map_ops",
                  .data_in = tcp80,
                  .retval = 15,
                  .maps = {{"inner_x", {u32_u32(0, 0), u32_u32(1, 111), u32_u32(2, 0), u32_u32(3, 0)}, true, {}},
                           {"inner_z", {u32_u32(3, 333)}, false, {}},
                           {"inner_y", {u32_u32(2, 222)}, true, {}}}});

    // ---- tail_calls.bpf.c: visits slots 0, 1, 3 = targets, 6 = entry fell through, 7 = entry. ----
    cs.push_back({.name = "tail_slot0",
                  .object = "tail_calls",
                  .program = "tail_entry",
                  .data_in = packet_first_byte(0),
                  .retval = 10,
                  .maps = {u64_array("visits", {1, 0, 0, 0, 0, 0, 0, 1})}});
    cs.push_back({.name = "tail_slot1_chain",
                  .object = "tail_calls",
                  .program = "tail_entry",
                  .data_in = packet_first_byte(1),
                  .retval = 13,
                  .maps = {u64_array("visits", {0, 1, 0, 1, 0, 0, 0, 1})}});
    cs.push_back({.name = "tail_empty_slot",
                  .object = "tail_calls",
                  .program = "tail_entry",
                  .data_in = packet_first_byte(0x0a),  // slot 2: empty
                  .retval = 100,
                  .maps = {u64_array("visits", {0, 0, 0, 0, 0, 0, 1, 1})}});

    // ---- calls.bpf.c on 60 bytes: chain1(60) = 2 * (((61 * 31) ^ 7) + 1) + 181 = 2 * (1892 + 1) + 181 = 3967;
    //      accumulate: 10 + 60 + 2 + 6 + 12 = 90; returns 4057. ----
    cs.push_back({.name = "calls_chain",
                  .object = "calls",
                  .program = "calls",
                  .data_in = tcp80,
                  .retval = 4057,
                  .maps = {u64_array("call_out", {3967, 90})}});

    // ---- atomic_ops.bpf.c ----
    cs.push_back(
        {.name = "atomics_map_and_globals",
         .object = "atomic_ops",
         .program = "atomic_ops",
         .data_in = tcp80,
         .retval = 380,
         .maps = {
             {"avals", {{le32(0), cat({le64(14), le64(0xcf), le32(77), le32(1234), le64(0xdeadbeefcafe)})}}, true, {}},
             {"atomic_o.data", {{le32(0), le64(8)}}, true, {}},
             {"atomic_o.bss", {{le32(0), le32(1)}}, true, {}}}});

    // ---- gdata.bpf.c, two runs on 60 bytes: bss_state = {120, 180, 2}, runs = 102; returns 102 + tag[2] = 105. --
    cs.push_back({.name = "globals_counters_repeat2",
                  .object = "gdata",
                  .program = "gdata_count",
                  .data_in = tcp80,
                  .repeat = 2,
                  .retval = 105,
                  .maps = {{"gdata.bss", {{le32(0), cat({le64(120), le32(180), le32(2)})}}, true, {}},
                           {"gdata.data", {{le32(0), le32(102)}}, true, {}},
                           {"gdata.rodata", {{le32(0), cat({le32(3), Bytes{1, 2, 3, 4}})}}, true, {}}}});

    // ---- the older objects, also used by the parser tests ----
    // atomics.bpf.c from a zeroed value: add 0 -> 2, bits 0x10 & ~1 ^ 0x100 = 0x110, small 1, swap 9 (prev 0),
    // cas 0 -> 100 (seen 0): (0 + 0) & 1 = 0 -> XDP_DROP.
    cs.push_back({.name = "old_atomics",
                  .object = "atomics",
                  .program = "atomics",
                  .data_in = tcp80,
                  .retval = XDP_DROP,
                  .maps = {{"state", {{le32(0), cat({le64(2), le64(0x110), le32(1), le32(9), le64(100)})}}, true, {}},
                           {"atomics.bss", {{le32(0), le64(1)}}, true, {}}}});
    cs.push_back({.name = "old_xdp_parser_udp9",
                  .object = "xdp_parser",
                  .program = "xdp_parse",
                  .data_in = udp9,
                  .retval = XDP_DROP,
                  .maps = {{"proto_count", {u32_u64(17, 1)}, true, {}}}});
    cs.push_back({.name = "old_xdp_parser_tcp",
                  .object = "xdp_parser",
                  .program = "xdp_parse",
                  .data_in = tcp80,
                  .retval = XDP_PASS,
                  .maps = {{"proto_count", {u32_u64(6, 1)}, true, {}}}});
    // subprogs.bpf.c, socket filter on 60 bytes (skb->len 46): global_inc(46) + entry_one = 47 + (46 * 46 +
    // 3 * 46) + 7 * 46 = 47 + 2254 + 322 = 2623. entry_loop: sum 0..9 = 45, + triple(45) = 180.
    cs.push_back({.name = "old_subprogs_entry_two",
                  .object = "subprogs",
                  .program = "entry_two",
                  .data_in = tcp80,
                  .retval = 2623,
                  .data_out = zero_l2(tcp80)});
    cs.push_back({.name = "old_subprogs_bpf_loop",
                  .object = "subprogs",
                  .program = "entry_loop",
                  .data_in = tcp80,
                  .retval = 180});
    // tailcall.bpf.c without ctx_in: ingress_ifindex is 1 (loopback), slot 1 is empty: XDP_ABORTED, nothing ran.
    cs.push_back({.name = "old_tailcall_loopback_ifindex",
                  .object = "tailcall",
                  .program = "dispatcher",
                  .data_in = tcp80,
                  .retval = XDP_ABORTED,
                  .maps = {{"tailcall.bss", {{le32(0), le32(0)}}, true, {}}}});
    // globals.bpf.c (socket filter, 46 bytes): counter 43, hidden 5 + big_table[2] = 8, buf[0] = 'a' (97): 148.
    cs.push_back({.name = "old_globals",
                  .object = "globals",
                  .program = "use_globals",
                  .data_in = tcp80,
                  .retval = 148,
                  .data_out = zero_l2(tcp80)});
    return cs;
}

bool is_percpu(maps::MapType t) {
    return t == maps::MapType::PercpuArray || t == maps::MapType::PercpuHash || t == maps::MapType::LruPercpuHash;
}

bool is_fd_map(maps::MapType t) {
    return t == maps::MapType::ProgArray || t == maps::MapType::PerfEventArray || t == maps::MapType::ArrayOfMaps ||
           t == maps::MapType::HashOfMaps || t == maps::MapType::CgroupArray;
}

/// A per-CPU value in the syscall layout folded to value_size bytes: each 64-bit word summed over the CPUs.
Bytes fold_percpu(const maps::MapSpec& spec, const Bytes& value) {
    const std::size_t slot = (spec.value_size + 7) / 8 * 8;
    Bytes out(spec.value_size, 0);
    if (slot == 0) return out;
    std::vector<std::uint64_t> sums(slot / 8, 0);
    for (std::size_t base = 0; base + slot <= value.size(); base += slot)
        for (std::size_t w = 0; w < sums.size(); ++w) {
            std::uint64_t x = 0;
            std::memcpy(&x, value.data() + base + 8 * w, 8);
            sums[w] += x;
        }
    Bytes all(slot);
    std::memcpy(all.data(), sums.data(), slot);
    std::copy_n(all.begin(), spec.value_size, out.begin());
    return out;
}

/// Entries of a dump, per-CPU values folded.
std::vector<ExpectedEntry> normalise(const maps::MapSpec& spec, const std::vector<maps::MapEntry>& dump) {
    std::vector<ExpectedEntry> out;
    for (const auto& e : dump) out.push_back({e.key, is_percpu(spec.type) ? fold_percpu(spec, e.value) : e.value});
    return out;
}

bool keyless(maps::MapType t) { return t == maps::MapType::Queue || t == maps::MapType::Stack; }

std::string describe(const std::vector<ExpectedEntry>& entries) {
    std::string s = "{";
    for (const auto& e : entries) s += fmt::format(" [{}]={}", hex(e.key), hex(e.value));
    return s + " }";
}

std::set<std::pair<Bytes, Bytes>> as_set(const std::vector<ExpectedEntry>& entries) {
    std::set<std::pair<Bytes, Bytes>> s;
    for (const auto& e : entries) s.insert({e.key, e.value});
    return s;
}

}  // namespace

const std::vector<Case>& cases() {
    static const std::vector<Case> all = build_cases();
    return all;
}

std::string object_path(const std::string& object) {
    return std::string(XBPF_BINARY_DIR) + "/tests/programs/" + object + ".bpf.o";
}

std::optional<object::ObjectSpec> load_spec(const std::string& object, std::string* why) {
    auto spec = object::parse_object_file(object_path(object));
    if (!spec) {
        if (why) *why = spec.error().to_string();
        return std::nullopt;
    }
    return std::move(*spec);
}

std::string hex(const Bytes& bytes) {
    std::string s;
    for (std::size_t i = 0; i < bytes.size(); ++i) s += fmt::format("{}{:02x}", i ? " " : "", bytes[i]);
    return s;
}

std::vector<std::string> check_case(const Case& c, const object::ObjectSpec& spec, const vm::TestRunOutput& out,
                                    const DumpFn& dump) {
    std::vector<std::string> bad;
    if (static_cast<std::uint32_t>(out.retval) != c.retval)
        bad.push_back(fmt::format("retval: expected {} ({:#x}), got {} ({:#x})", c.retval, c.retval,
                                  static_cast<std::uint32_t>(out.retval), static_cast<std::uint32_t>(out.retval)));
    const Bytes& want_data = c.data_out ? *c.data_out : c.data_in;
    if (out.data_out != want_data)
        bad.push_back(fmt::format("data_out:\n  expected {}\n  got      {}", hex(want_data), hex(out.data_out)));
    for (const auto& [off, value] : c.ctx_out_u32) {
        std::uint32_t got = 0;
        if (off + 4 > out.ctx_out.size()) {
            bad.push_back(fmt::format("ctx_out: {} bytes, no u32 at offset {}", out.ctx_out.size(), off));
            continue;
        }
        std::memcpy(&got, out.ctx_out.data() + off, 4);
        if (got != value) bad.push_back(fmt::format("ctx_out u32 at {}: expected {:#x}, got {:#x}", off, value, got));
    }
    for (const ExpectedMap& want : c.maps) {
        const auto index = spec.find_map(want.name);
        if (!index) {
            bad.push_back(fmt::format("map '{}': not in the object", want.name));
            continue;
        }
        const maps::MapSpec& ms = spec.maps[*index];
        auto got_dump = dump(want.name);
        if (!got_dump) {
            bad.push_back(fmt::format("map '{}': dump failed: {}", want.name, got_dump.error().to_string()));
            continue;
        }
        const auto got = normalise(ms, *got_dump);
        if (want.exact) {
            const bool same = keyless(ms.type) ? [&] {
                if (got.size() != want.entries.size()) return false;
                for (std::size_t i = 0; i < got.size(); ++i)
                    if (got[i].value != want.entries[i].value) return false;
                return true;
            }()
                                               : as_set(got) == as_set(want.entries);
            if (!same)
                bad.push_back(fmt::format("map '{}':\n  expected {}\n  got      {}", want.name, describe(want.entries),
                                          describe(got)));
        } else {
            for (const auto& e : want.entries) {
                auto it = std::find_if(got.begin(), got.end(), [&](const ExpectedEntry& g) { return g.key == e.key; });
                if (it == got.end())
                    bad.push_back(fmt::format("map '{}': key [{}] missing (expected value {})", want.name, hex(e.key),
                                              hex(e.value)));
                else if (it->value != e.value)
                    bad.push_back(fmt::format("map '{}' [{}]: expected {}, got {}", want.name, hex(e.key), hex(e.value),
                                              hex(it->value)));
            }
        }
        for (const auto& k : want.absent)
            if (std::any_of(got.begin(), got.end(), [&](const ExpectedEntry& g) { return g.key == k; }))
                bad.push_back(fmt::format("map '{}': key [{}] should be absent", want.name, hex(k)));
    }
    return bad;
}

// How the maps of the two back ends are compared:
// - per-CPU maps: keys, and each value folded to the sum over CPUs (the CPU a run lands on differs);
// - prog_array and map-in-map maps: keys only (values are program/map ids, which are each runtime's own);
// - ring buffers, perf event arrays and bloom filters: not compared (no readable elements; a bloom filter's bits
//   depend on its random seed);
// - queue/stack: values in pop order;
// - everything else: the (key, value) sets (hash iteration order is the implementation's).
std::vector<std::string> compare_maps(const object::ObjectSpec& spec, const DumpFn& xbpf, const DumpFn& kernel) {
    std::vector<std::string> bad;
    for (const maps::MapSpec& ms : spec.maps) {
        if (ms.type == maps::MapType::Ringbuf || ms.type == maps::MapType::PerfEventArray ||
            ms.type == maps::MapType::BloomFilter)
            continue;
        auto x = xbpf(ms.name);
        auto k = kernel(ms.name);
        if (!x || !k) {
            bad.push_back(fmt::format("map '{}': dump failed: xbpf {}, kernel {}", ms.name,
                                      x ? "ok" : x.error().to_string(), k ? "ok" : k.error().to_string()));
            continue;
        }
        auto xs = normalise(ms, *x);
        auto ks = normalise(ms, *k);
        if (is_fd_map(ms.type)) {
            for (auto& e : xs) e.value.clear();
            for (auto& e : ks) e.value.clear();
        }
        bool same = false;
        if (keyless(ms.type)) {
            same = xs.size() == ks.size() &&
                   std::equal(xs.begin(), xs.end(), ks.begin(),
                              [](const ExpectedEntry& a, const ExpectedEntry& b) { return a.value == b.value; });
        } else {
            same = as_set(xs) == as_set(ks);
        }
        if (!same)
            bad.push_back(fmt::format("map '{}' ({}) differs:\n  xbpf   {}\n  kernel {}", ms.name,
                                      maps::map_type_name(ms.type), describe(xs), describe(ks)));
    }
    return bad;
}

}  // namespace xbpf::test::programs
