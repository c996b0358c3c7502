// Map differential tests: the same randomised sequence of BPF_MAP_* operations (update with every flag, valid or
// not; lookup, with and without BPF_F_LOCK; delete; get_next_key from NULL, a present and a missing key;
// lookup-and-delete; push/pop/peek) goes to a kernel map through bpf() and to the xbpf map through its host API.
// Every operation must give the same return code, every successful read the same bytes, and the final contents must
// be equal (as sets: hash iteration order is the implementation's). Creation is compared too: a table of specs,
// valid and invalid, must get the same errno from BPF_MAP_CREATE and from maps::make_map.
//
// Where the kernel's own behaviour is not deterministic the comparison is restricted and the rest is checked as
// invariants on both: hash get_next_key order (only "first key" results are compared, plus completeness), LRU
// eviction (exact while the map is far from full; when full, both must keep their invariants), bloom filter false
// positives (never a false negative on either; the false-positive rates are reported).
//
// The test thread is pinned to CPU 0 while it runs so that per-CPU choices (per-CPU LRU lists) match xbpf's
// current_cpu() (0 outside a CpuScope). Skips, with the reason, when bpf() is unavailable.
#include <gtest/gtest.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "kernel/bpf_syscall.hpp"
#include "kernel/maps.hpp"
#include "maps/bloom_filter.hpp"
#include "maps/cpu.hpp"
#include "maps/map.hpp"
#include "maps/memory.hpp"
#include "maps/prog_array.hpp"

namespace xbpf::test {
namespace {

using maps::Map;
using maps::MapSpec;
using maps::MapType;
using Bytes = std::vector<std::uint8_t>;

bool kernel_available(std::string* why) {
    static std::string reason;
    static const bool ok = kernel::available(&reason);
    if (why) *why = reason;
    return ok;
}

#define SKIP_WITHOUT_KERNEL()                                                                               \
    do {                                                                                                    \
        std::string why_;                                                                                   \
        if (!kernel_available(&why_)) GTEST_SKIP() << "the kernel bpf() back end is unavailable: " << why_; \
    } while (0)

struct Rng {
    std::uint64_t s;
    std::uint64_t next() {
        std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
    bool chance(std::uint32_t percent) { return below(100) < percent; }
    Bytes bytes(std::size_t n) {
        Bytes b(n);
        for (auto& x : b) x = static_cast<std::uint8_t>(next());
        return b;
    }
};

/// Pins the calling thread to CPU 0 for the scope.
class PinCpu0 {
  public:
    PinCpu0() {
        sched_getaffinity(0, sizeof saved_, &saved_);
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(0, &one);
        sched_setaffinity(0, sizeof one, &one);
    }
    ~PinCpu0() { sched_setaffinity(0, sizeof saved_, &saved_); }

  private:
    cpu_set_t saved_;
};

std::string describe(const MapSpec& s) {
    return fmt::format("{} key={} value={} max={} flags={:#x} extra={} lock={}", maps::map_type_name(s.type),
                       s.key_size, s.value_size, s.max_entries, s.flags, s.map_extra, s.spin_lock_off);
}

std::string hex(const Bytes& b) {
    std::string s;
    for (auto x : b) s += fmt::format("{:02x}", x);
    return s;
}

/// Every (key, value) of a kernel map, read the way bpftool does.
/// Map contents as "key:value" hex strings (a set: hash iteration order is the implementation's).
using Contents = std::set<std::string>;

Contents kernel_contents(const kernel::MapFd& fd, std::size_t key_size, std::size_t value_size) {
    Contents out;
    Bytes key(key_size), next(key_size), value(value_size);
    int rc = kernel::map_get_next_key(fd, nullptr, next.data());
    while (rc == 0) {
        if (kernel::map_lookup(fd, next.data(), value.data()) == 0) out.insert(hex(next) + ":" + hex(value));
        key = next;
        rc = kernel::map_get_next_key(fd, key.data(), next.data());
    }
    return out;
}

Contents xbpf_contents(Map& m) {
    Contents out;
    for (auto& e : m.dump()) out.insert(hex(e.key) + ":" + hex(e.value));
    return out;
}

/// Tallies of one differential run, printed for the report.
struct Tally {
    explicit Tally(std::string n) : name(std::move(n)) {}
    std::string name;
    std::uint64_t ops = 0;
    std::uint64_t mismatches = 0;
    std::map<int, std::uint64_t> rcs;  // how often each return code occurred (both sides agreeing)
    std::vector<std::string> first;

    void record(bool ok, int rc, const std::string& what) {
        ++ops;
        if (ok) {
            ++rcs[rc];
            return;
        }
        ++mismatches;
        if (first.size() < 10) first.push_back(what);
    }
    void report() const {
        std::string codes;
        for (auto [rc, n] : rcs) codes += fmt::format(" {}:{}", rc == 0 ? "ok" : maps::errno_name(rc), n);
        std::cout << fmt::format("[ MapDiff ] {:<28} {:6} ops, {} mismatches;{}\n", name, ops, mismatches, codes);
        for (const auto& f : first) ADD_FAILURE() << name << ": " << f;
    }
};

/// The flags a random update uses: mostly the valid ones, sometimes BPF_F_LOCK or garbage.
std::uint64_t random_update_flags(Rng& rng) {
    switch (rng.below(20)) {
        case 0: return maps::kFLock;
        case 1: return maps::kFLock | maps::kExist;
        case 2: return 3;
        case 3: return 8;
        case 4: return std::uint64_t{1} << 32;
        default: return rng.below(3);  // BPF_ANY, BPF_NOEXIST, BPF_EXIST
    }
}

/// Key generator for a keyed map.
using KeyGen = std::function<Bytes(Rng&)>;

/// How get_next_key results may be compared for a map type.
enum class Order { Exact, FirstKeyOnly };

/// Runs `steps` random keyed operations on both maps and compares everything.
void run_keyed(const std::string& name, const MapSpec& spec, std::uint64_t seed, int steps, const KeyGen& keygen,
               Order order) {
    PinCpu0 pin;
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0) << describe(spec);
    auto made = maps::make_map(spec);
    ASSERT_TRUE(made) << made.error().message;
    Map& x = **made;
    const std::size_t ks = spec.key_size, vs = x.host_value_size();
    Tally t(name);
    Rng rng{seed};
    for (int step = 0; step < steps; ++step) {
        const Bytes key = keygen(rng);
        const int op = static_cast<int>(rng.below(100));
        if (op < 40) {  // update
            const std::uint64_t flags = random_update_flags(rng);
            const Bytes value = rng.bytes(vs);
            const int rk = kernel::map_update(kfd, key.data(), value.data(), flags);
            const int rx = x.update_host(key.data(), value.data(), flags);
            t.record(
                rk == rx, rk,
                fmt::format("step {} update key={} flags={:#x}: kernel {} xbpf {}", step, hex(key), flags, rk, rx));
        } else if (op < 65) {  // lookup
            const std::uint64_t flags = rng.chance(10) ? (rng.chance(50) ? maps::kFLock : 1) : 0;
            Bytes vk(vs, 0xee), vx(vs, 0xee);
            const int rk = kernel::map_lookup(kfd, key.data(), vk.data(), flags);
            const int rx = x.lookup_copy(key.data(), vx.data(), flags);
            t.record(rk == rx && (rk != 0 || vk == vx), rk,
                     fmt::format("step {} lookup key={} flags={:#x}: kernel {} {} xbpf {} {}", step, hex(key), flags,
                                 rk, hex(vk), rx, hex(vx)));
        } else if (op < 80) {  // delete
            const int rk = kernel::map_delete(kfd, key.data());
            const int rx = x.erase_host(key.data());
            t.record(rk == rx, rk, fmt::format("step {} delete key={}: kernel {} xbpf {}", step, hex(key), rk, rx));
        } else if (op < 92) {  // get_next_key: from NULL, or from a random (present or missing) key
            const bool from_null = rng.chance(25);
            Bytes nk(ks, 0xee), nx(ks, 0xee);
            const int rk = kernel::map_get_next_key(kfd, from_null ? nullptr : key.data(), nk.data());
            const int rx = x.get_next_key_host(from_null ? nullptr : key.data(), nx.data());
            Bytes probe(vs);
            const bool present = !from_null && kernel::map_lookup(kfd, key.data(), probe.data()) == 0;
            if (order == Order::Exact) {
                t.record(rk == rx && (rk != 0 || nk == nx), rk,
                         fmt::format("step {} get_next_key from {}: kernel {} {} xbpf {} {}", step,
                                     from_null ? "NULL" : hex(key), rk, hex(nk), rx, hex(nx)));
            } else if (!present) {
                // From NULL or a missing key both give "the first key", which exists iff the map is non-empty.
                const bool ok = rk == rx && (rk != 0 || x.lookup_copy(nx.data(), probe.data()) == 0);
                t.record(ok, rk,
                         fmt::format("step {} get_next_key from missing {}: kernel {} xbpf {}", step,
                                     from_null ? "NULL" : hex(key), rk, rx));
            } else {
                // From a present key the successor depends on the table's order; it must be a present key.
                const bool ok = (rx == 0 || rx == -ENOENT) && (rx != 0 || x.lookup_copy(nx.data(), probe.data()) == 0);
                t.record(ok, 0, fmt::format("step {} get_next_key from present {}: xbpf {}", step, hex(key), rx));
            }
        } else if (op < 97) {  // lookup and delete
            const std::uint64_t flags = rng.chance(20) ? maps::kFLock : 0;
            Bytes vk(vs, 0xee), vx(vs, 0xee);
            const int rk = kernel::map_lookup_and_delete(kfd, key.data(), vk.data(), flags);
            const int rx = x.lookup_and_delete(key.data(), vx.data(), flags);
            t.record(rk == rx && (rk != 0 || vk == vx), rk,
                     fmt::format("step {} lookup_and_delete key={} flags={:#x}: kernel {} {} xbpf {} {}", step,
                                 hex(key), flags, rk, hex(vk), rx, hex(vx)));
        } else {  // whole-map comparison now and then
            const auto kc = kernel_contents(kfd, ks, vs), xc = xbpf_contents(x);
            t.record(kc == xc, 0,
                     fmt::format("step {} contents differ: kernel {} entries, xbpf {}", step, kc.size(), xc.size()));
        }
    }
    const auto kc = kernel_contents(kfd, ks, vs), xc = xbpf_contents(x);
    t.record(kc == xc, 0, fmt::format("final contents differ: kernel {} entries, xbpf {}", kc.size(), xc.size()));
    if (order == Order::Exact) {  // the full iteration order too
        std::vector<Bytes> ko, xo;
        Bytes cur(ks), nxt(ks);
        for (int rc = kernel::map_get_next_key(kfd, nullptr, nxt.data()); rc == 0;
             rc = kernel::map_get_next_key(kfd, cur.data(), nxt.data())) {
            ko.push_back(nxt);
            cur = nxt;
        }
        for (const auto& e : x.dump()) xo.push_back(e.key);
        t.record(ko == xo, 0, "final get_next_key order differs");
    }
    t.report();
}

KeyGen u32_keys(std::uint32_t space) {
    return [space](Rng& rng) {
        const std::uint32_t k = rng.below(space);
        Bytes b(4);
        std::memcpy(b.data(), &k, 4);
        return b;
    };
}

KeyGen sized_keys(std::size_t size, std::uint32_t space) {
    return [size, space](Rng& rng) {
        Bytes b(size, 0);
        const std::uint32_t k = rng.below(space);
        for (std::size_t i = 0; i < size; ++i) b[i] = static_cast<std::uint8_t>((k * 2654435761u) >> (8 * (i % 4)));
        b[0] = static_cast<std::uint8_t>(k);
        if (size > 1) b[1] = static_cast<std::uint8_t>(k >> 8);
        return b;
    };
}

MapSpec spec_of(MapType type, std::uint32_t key, std::uint32_t value, std::uint32_t max, std::uint32_t flags = 0) {
    MapSpec s;
    s.name = "diff";
    s.type = type;
    s.key_size = key;
    s.value_size = value;
    s.max_entries = max;
    s.flags = flags;
    return s;
}

TEST(MapDiff, Array) {
    SKIP_WITHOUT_KERNEL();
    run_keyed("array", spec_of(MapType::Array, 4, 12, 64), 1, 4000, u32_keys(80), Order::Exact);
    run_keyed("array (value 1)", spec_of(MapType::Array, 4, 1, 5), 2, 1000, u32_keys(8), Order::Exact);
}

TEST(MapDiff, PercpuArray) {
    SKIP_WITHOUT_KERNEL();
    run_keyed("percpu_array", spec_of(MapType::PercpuArray, 4, 12, 32), 3, 3000, u32_keys(40), Order::Exact);
}

TEST(MapDiff, Hash) {
    SKIP_WITHOUT_KERNEL();
    run_keyed("hash", spec_of(MapType::Hash, 4, 8, 64), 4, 6000, u32_keys(100), Order::FirstKeyOnly);
    run_keyed("hash (key 7, value 5)", spec_of(MapType::Hash, 7, 5, 16), 5, 3000, sized_keys(7, 30),
              Order::FirstKeyOnly);
    run_keyed("hash no_prealloc", spec_of(MapType::Hash, 4, 16, 32, maps::kFNoPrealloc), 6, 3000, u32_keys(50),
              Order::FirstKeyOnly);
    run_keyed("hash rdonly", spec_of(MapType::Hash, 4, 8, 8, maps::kFRdonly), 7, 500, u32_keys(10),
              Order::FirstKeyOnly);
    run_keyed("hash wronly", spec_of(MapType::Hash, 4, 8, 8, maps::kFWronly), 8, 500, u32_keys(10),
              Order::FirstKeyOnly);
}

TEST(MapDiff, PercpuHash) {
    SKIP_WITHOUT_KERNEL();
    run_keyed("percpu_hash", spec_of(MapType::PercpuHash, 4, 12, 32), 9, 4000, u32_keys(50), Order::FirstKeyOnly);
}

TEST(MapDiff, LruHashFarFromFull) {
    SKIP_WITHOUT_KERNEL();
    // Far from full the kernel's LRU never evicts (its local free lists hold 128 nodes per refill), so both must
    // behave exactly like a hash map.
    run_keyed("lru_hash (not full)", spec_of(MapType::LruHash, 4, 8, 1024), 10, 4000, u32_keys(200),
              Order::FirstKeyOnly);
    run_keyed("lru_percpu_hash (not full)", spec_of(MapType::LruPercpuHash, 4, 8, 1024), 11, 3000, u32_keys(200),
              Order::FirstKeyOnly);
    run_keyed("lru_hash percpu lists", spec_of(MapType::LruHash, 4, 8, 1024, maps::kFNoCommonLru), 12, 3000,
              u32_keys(200), Order::FirstKeyOnly);
}

TEST(MapDiff, LruHashFullInvariants) {
    SKIP_WITHOUT_KERNEL();
    // Full LRU maps evict: which element goes is each implementation's business, but on both an update never
    // fails for lack of room, an updated key is then present, and the count stays within max_entries.
    PinCpu0 pin;
    const MapSpec spec = spec_of(MapType::LruHash, 4, 8, 64);
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
    auto x = maps::make_map(spec).value();
    Tally t("lru_hash (full) invariants");
    Rng rng{13};
    int kernel_self_evictions = 0;
    for (int step = 0; step < 4000; ++step) {
        const Bytes key = u32_keys(400)(rng);
        const Bytes value = rng.bytes(8);
        const std::uint64_t flags = rng.below(3);
        Bytes out(8);
        for (int side = 0; side < 2; ++side) {
            const bool k = side == 0;
            const int had =
                k ? kernel::map_lookup(kfd, key.data(), out.data()) : x->lookup_copy(key.data(), out.data());
            const int rc = k ? kernel::map_update(kfd, key.data(), value.data(), flags)
                             : x->update_host(key.data(), value.data(), flags);
            const int expect = (had == 0 && flags == maps::kNoExist) ? -EEXIST
                               : (had != 0 && flags == maps::kExist) ? -ENOENT
                                                                     : 0;
            const int now =
                k ? kernel::map_lookup(kfd, key.data(), out.data()) : x->lookup_copy(key.data(), out.data());
            // The kernel takes a free node before looking the key up, and taking it may evict that very key: an
            // update of a present key can then see it absent (BPF_EXIST: -ENOENT, BPF_NOEXIST: success).
            const bool self_evicted =
                k && had == 0 && ((flags == maps::kExist && rc == -ENOENT) || (flags == maps::kNoExist && rc == 0));
            if (self_evicted) ++kernel_self_evictions;
            const bool ok = (rc == expect || self_evicted) && (rc != 0 || (now == 0 && out == value));
            t.record(ok, rc,
                     fmt::format("step {} {} update flags {}: rc {} (expected {}), present after: {}", step,
                                 k ? "kernel" : "xbpf", flags, rc, expect, now));
        }
    }
    const auto kc = kernel_contents(kfd, 4, 8), xc = xbpf_contents(*x);
    t.record(kc.size() <= 64 && xc.size() <= 64 && xc.size() == 64, 0,
             fmt::format("counts: kernel {} xbpf {} (max 64; xbpf evicts only when full)", kc.size(), xc.size()));
    t.report();
    std::cout << fmt::format(
        "[ MapDiff ] lru_hash (full): kernel {} entries, xbpf {}; kernel updates of a present key "
        "that evicted it first: {}\n",
        kc.size(), xc.size(), kernel_self_evictions);
}

TEST(MapDiff, LpmTrie) {
    SKIP_WITHOUT_KERNEL();
    // Overlapping prefixes of a few networks, random trailing bits (the trie stores them: get_next_key returns
    // them), prefix lengths 0..33 (33 is invalid for 4 data bytes).
    std::vector<std::uint32_t> nets;
    Rng seeds{14};
    for (int i = 0; i < 6; ++i) nets.push_back(static_cast<std::uint32_t>(seeds.next()));
    auto keys = [nets](Rng& rng) {
        Bytes b(8);
        const std::uint32_t prefixlen = rng.chance(3) ? 33 : rng.below(33);
        std::uint32_t addr = nets[rng.below(static_cast<std::uint32_t>(nets.size()))];
        addr ^= static_cast<std::uint32_t>((rng.next() & 0xffffffffULL) >> rng.below(33));  // flip some low bits
        std::memcpy(b.data(), &prefixlen, 4);
        for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<std::uint8_t>(addr >> (24 - 8 * i));
        return b;
    };
    run_keyed("lpm_trie", spec_of(MapType::LpmTrie, 8, 8, 40, maps::kFNoPrealloc), 15, 6000, keys, Order::Exact);
    auto wide = [](Rng& rng) {  // 16 data bytes, IPv6-like
        Bytes b = rng.bytes(20);
        const std::uint32_t prefixlen = rng.below(129);
        std::memcpy(b.data(), &prefixlen, 4);
        for (int i = 4; i < 12; ++i) b[i] = static_cast<std::uint8_t>(i);  // a shared /64
        return b;
    };
    run_keyed("lpm_trie (16-byte data)", spec_of(MapType::LpmTrie, 20, 4, 100, maps::kFNoPrealloc), 16, 3000, wide,
              Order::Exact);
}

TEST(MapDiff, SpinLockValues) {
    SKIP_WITHOUT_KERNEL();
    for (MapType type : {MapType::Hash, MapType::Array}) {
        MapSpec spec = spec_of(type, 4, 16, 32);
        spec.spin_lock_off = 4;
        kernel::MapFd probe;
        if (const int rc = kernel::create_map_raw(spec, probe); rc != 0) {
            GTEST_SKIP() << "the kernel refused a BTF map with a bpf_spin_lock: " << maps::errno_name(rc);
        }
        run_keyed(fmt::format("{} with bpf_spin_lock", maps::map_type_name(type)), spec, 17, 3000, u32_keys(40),
                  type == MapType::Array ? Order::Exact : Order::FirstKeyOnly);
    }
}

/// Key-less maps: queue and stack.
void run_queue_stack(MapType type, std::uint64_t seed) {
    const MapSpec spec = spec_of(type, 0, 6, 16);
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
    auto x = maps::make_map(spec).value();
    Tally t(std::string(maps::map_type_name(type)));
    Rng rng{seed};
    const std::uint32_t dummy_key = 0;
    for (int step = 0; step < 4000; ++step) {
        const int op = static_cast<int>(rng.below(100));
        const bool bad_key = rng.chance(3);  // a key for a key-less map: -EINVAL
        const void* key = bad_key ? &dummy_key : nullptr;
        if (op < 45) {
            const std::uint64_t flags = rng.chance(15) ? random_update_flags(rng) : (rng.chance(30) ? maps::kExist : 0);
            const Bytes v = rng.bytes(6);
            const int rk = kernel::map_update(kfd, key, v.data(), flags);
            const int rx = x->update_host(key, v.data(), flags);
            t.record(rk == rx, rk, fmt::format("step {} push flags {:#x}: kernel {} xbpf {}", step, flags, rk, rx));
        } else if (op < 70) {
            const std::uint64_t flags = rng.chance(5) ? maps::kFLock : 0;
            Bytes vk(6, 0xee), vx(6, 0xee);
            const int rk = kernel::map_lookup_and_delete(kfd, key, vk.data(), flags);
            const int rx = x->lookup_and_delete(key, vx.data(), flags);
            t.record(rk == rx && (rk != 0 || vk == vx), rk,
                     fmt::format("step {} pop: kernel {} {} xbpf {} {}", step, rk, hex(vk), rx, hex(vx)));
        } else if (op < 90) {
            Bytes vk(6, 0xee), vx(6, 0xee);
            const int rk = kernel::map_lookup(kfd, key, vk.data());
            const int rx = x->lookup_copy(key, vx.data());
            t.record(rk == rx && (rk != 0 || vk == vx), rk,
                     fmt::format("step {} peek: kernel {} {} xbpf {} {}", step, rk, hex(vk), rx, hex(vx)));
        } else if (op < 95) {
            const int rk = kernel::map_delete(kfd, key);
            const int rx = x->erase_host(key);
            t.record(rk == rx, rk, fmt::format("step {} delete: kernel {} xbpf {}", step, rk, rx));
        } else {
            std::uint32_t nk = 0, nx = 0;
            const int rk = kernel::map_get_next_key(kfd, key, &nk);
            const int rx = x->get_next_key_host(key, &nx);
            t.record(rk == rx, rk, fmt::format("step {} get_next_key: kernel {} xbpf {}", step, rk, rx));
        }
    }
    // Drain both: same values in the same order.
    Bytes vk(6), vx(6);
    for (;;) {
        const int rk = kernel::map_lookup_and_delete(kfd, nullptr, vk.data());
        const int rx = x->lookup_and_delete(nullptr, vx.data());
        t.record(rk == rx && (rk != 0 || vk == vx), rk, "final drain differs");
        if (rk != 0 || rx != 0) break;
    }
    t.report();
}

TEST(MapDiff, QueueAndStack) {
    SKIP_WITHOUT_KERNEL();
    run_queue_stack(MapType::Queue, 18);
    run_queue_stack(MapType::Stack, 19);
}

TEST(MapDiff, BloomFilter) {
    SKIP_WITHOUT_KERNEL();
    for (std::uint64_t k : {0u, 1u, 3u}) {
        MapSpec spec = spec_of(MapType::BloomFilter, 0, 8, 200);
        spec.map_extra = k;
        kernel::MapFd kfd;
        ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
        auto x = maps::make_map(spec).value();
        Tally t(fmt::format("bloom_filter (k={})", k == 0 ? 5 : k));
        Rng rng{20 + k};
        std::vector<Bytes> pushed;
        for (int i = 0; i < 200; ++i) {
            const Bytes v = rng.bytes(8);
            const std::uint64_t flags = rng.chance(10) ? random_update_flags(rng) : 0;
            const int rk = kernel::map_update(kfd, nullptr, v.data(), flags);
            const int rx = x->update_host(nullptr, v.data(), flags);
            t.record(rk == rx, rk, fmt::format("push flags {:#x}: kernel {} xbpf {}", flags, rk, rx));
            if (rk == 0) pushed.push_back(v);
        }
        for (const Bytes& v : pushed) {  // no false negatives
            Bytes a = v, b = v;
            const int rk = kernel::map_lookup(kfd, nullptr, a.data());
            const int rx = x->lookup_copy(nullptr, b.data());
            t.record(rk == 0 && rx == 0, rk, fmt::format("false negative: kernel {} xbpf {}", rk, rx));
        }
        int fp_kernel = 0, fp_xbpf = 0;
        constexpr int kProbes = 20000;
        for (int i = 0; i < kProbes; ++i) {
            Bytes a = rng.bytes(8), b = a;
            fp_kernel += kernel::map_lookup(kfd, nullptr, a.data()) == 0;
            fp_xbpf += x->lookup_copy(nullptr, b.data()) == 0;
        }
        // Other operations: the same refusals.
        std::uint32_t key = 0, next = 0;
        Bytes v(8);
        const std::pair<int, int> others[] = {
            {kernel::map_delete(kfd, nullptr), x->erase_host(nullptr)},
            {kernel::map_get_next_key(kfd, nullptr, &next), x->get_next_key_host(nullptr, &next)},
            {kernel::map_lookup_and_delete(kfd, nullptr, v.data()), x->lookup_and_delete(nullptr, v.data())},
            {kernel::map_lookup(kfd, &key, v.data()), x->lookup_copy(&key, v.data())},
        };
        for (auto [rk, rx] : others) t.record(rk == rx, rk, fmt::format("other op: kernel {} xbpf {}", rk, rx));
        t.report();
        std::cout << fmt::format(
            "[ MapDiff ] bloom_filter k={} false positives on {} random probes: kernel {:.2f}%, "
            "xbpf {:.2f}%\n",
            k == 0 ? 5 : k, kProbes, 100.0 * fp_kernel / kProbes, 100.0 * fp_xbpf / kProbes);
        // The textbook rate for n values, k functions and m bits is (1 - e^(-kn/m))^k; the kernel's sizing
        // (m = n k 7/5 rounded up to a power of two) and xbpf's are the same, so both should be near it.
        const auto& bloom = static_cast<const maps::BloomFilterMap&>(*x);
        const double kk = bloom.nr_hash_funcs(), n = static_cast<double>(pushed.size()),
                     m = static_cast<double>(bloom.nr_bits());
        const double theory = std::pow(1 - std::exp(-kk * n / m), kk);
        EXPECT_LT(static_cast<double>(fp_xbpf) / kProbes, 1.5 * theory + 0.01) << "theory " << theory;
    }
}

/// Error codes of the element commands on maps whose elements the syscall cannot create.
TEST(MapDiff, RingbufStackTracePerfEventArray) {
    SKIP_WITHOUT_KERNEL();
    Tally t("ringbuf/stack/perf refusals");
    auto compare = [&](const char* what, int rk, int rx) {
        t.record(rk == rx, rk, fmt::format("{}: kernel {} xbpf {}", what, rk, rx));
    };
    {
        const MapSpec spec = spec_of(MapType::Ringbuf, 0, 0, 4 * static_cast<std::uint32_t>(maps::page_size()));
        kernel::MapFd kfd;
        ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
        auto x = maps::make_map(spec).value();
        std::uint32_t key = 0, next = 0;
        std::uint64_t v = 0;
        compare("ringbuf lookup", kernel::map_lookup(kfd, nullptr, &v), x->lookup_copy(nullptr, &v));
        compare("ringbuf lookup with key", kernel::map_lookup(kfd, &key, &v), x->lookup_copy(&key, &v));
        compare("ringbuf update", kernel::map_update(kfd, nullptr, &v), x->update_host(nullptr, &v));
        compare("ringbuf delete", kernel::map_delete(kfd, nullptr), x->erase_host(nullptr));
        compare("ringbuf get_next_key", kernel::map_get_next_key(kfd, nullptr, &next),
                x->get_next_key_host(nullptr, &next));
        compare("ringbuf lookup_and_delete", kernel::map_lookup_and_delete(kfd, nullptr, &v),
                x->lookup_and_delete(nullptr, &v));
        compare("ringbuf freeze", kernel::map_freeze(kfd), x->freeze());
        compare("ringbuf freeze again", kernel::map_freeze(kfd), x->freeze());
    }
    {
        const MapSpec spec = spec_of(MapType::StackTrace, 4, 8 * 8, 100);  // 128 buckets
        kernel::MapFd kfd;
        ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
        auto x = maps::make_map(spec).value();
        std::uint64_t v[8];
        std::uint32_t next = 0;
        for (std::uint32_t id : {0u, 5u, 127u, 128u, 5000u}) {
            compare("stack lookup", kernel::map_lookup(kfd, &id, v), x->lookup_copy(&id, v));
            compare("stack delete", kernel::map_delete(kfd, &id), x->erase_host(&id));
            compare("stack update", kernel::map_update(kfd, &id, v), x->update_host(&id, v));
            compare("stack get_next_key", kernel::map_get_next_key(kfd, &id, &next), x->get_next_key_host(&id, &next));
            compare("stack lookup_and_delete", kernel::map_lookup_and_delete(kfd, &id, v),
                    x->lookup_and_delete(&id, v));
        }
    }
    {
        const MapSpec spec = spec_of(MapType::PerfEventArray, 4, 4, 4);
        kernel::MapFd kfd;
        ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
        auto x = maps::make_map(spec).value();
        std::uint32_t next = 0, fd = 12345, out = 0;
        for (std::uint32_t idx : {0u, 3u, 4u, 100u}) {
            compare("perf lookup", kernel::map_lookup(kfd, &idx, &out), x->lookup_copy(&idx, &out));
            compare("perf delete", kernel::map_delete(kfd, &idx), x->erase_host(&idx));
            compare("perf update bad fd", kernel::map_update(kfd, &idx, &fd), x->update_host(&idx, &fd));
            compare("perf update flags", kernel::map_update(kfd, &idx, &fd, 1), x->update_host(&idx, &fd, 1));
            compare("perf get_next_key", kernel::map_get_next_key(kfd, &idx, &next), x->get_next_key_host(&idx, &next));
        }
    }
    t.report();
}

/// A program as xbpf's prog_array sees it, standing in for a kernel program (same id).
class FakeProgram : public maps::TailCallTarget {
  public:
    FakeProgram(std::uint32_t type, std::uint32_t id) : type_(type), id_(id) {}
    std::uint32_t prog_type() const override { return type_; }
    std::uint32_t prog_id() const override { return id_; }

  private:
    std::uint32_t type_, id_;
};

TEST(MapDiff, ProgArray) {
    SKIP_WITHOUT_KERNEL();
    PinCpu0 pin;
    const isa::RawInsn ret0[] = {{0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
    auto p1 = kernel::load(ret0, kernel::ProgType::SocketFilter);
    auto p2 = kernel::load(ret0, kernel::ProgType::SocketFilter);
    auto p3 = kernel::load(ret0, kernel::ProgType::Xdp);  // another type: -EINVAL
    ASSERT_TRUE(p1 && p2 && p3);
    const MapSpec spec = spec_of(MapType::ProgArray, 4, 4, 8);
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
    auto made = maps::make_map(spec).value();
    auto& x = static_cast<maps::ProgArrayMap&>(*made);
    std::map<std::uint32_t, std::shared_ptr<maps::TailCallTarget>> by_fd;
    for (const auto* p : {&*p1, &*p2})
        by_fd[static_cast<std::uint32_t>(p->get())] =
            std::make_shared<FakeProgram>(1, static_cast<std::uint32_t>(kernel::prog_id(p->get())));
    by_fd[static_cast<std::uint32_t>(p3->get())] =
        std::make_shared<FakeProgram>(6, static_cast<std::uint32_t>(kernel::prog_id(p3->get())));
    x.set_resolver([&](std::uint32_t fd) {
        auto it = by_fd.find(fd);
        return it == by_fd.end() ? nullptr : it->second;
    });
    const std::uint32_t fds[] = {static_cast<std::uint32_t>(p1->get()), static_cast<std::uint32_t>(p2->get()),
                                 static_cast<std::uint32_t>(p3->get()), 99999};
    Tally t("prog_array");
    Rng rng{30};
    for (int step = 0; step < 2000; ++step) {
        const std::uint32_t idx = rng.below(10);
        const int op = static_cast<int>(rng.below(4));
        if (op == 0) {
            const std::uint32_t fd = fds[rng.below(4)];
            const std::uint64_t flags = rng.chance(10) ? rng.below(3) : 0;
            const int rk = kernel::map_update(kfd, &idx, &fd, flags);
            const int rx = x.update_host(&idx, &fd, flags);
            t.record(rk == rx, rk, fmt::format("update {} fd {} flags {}: kernel {} xbpf {}", idx, fd, flags, rk, rx));
        } else if (op == 1) {
            std::uint32_t vk = 0, vx = 0;
            const int rk = kernel::map_lookup(kfd, &idx, &vk);
            const int rx = x.lookup_copy(&idx, &vx);
            t.record(rk == rx && vk == vx, rk,
                     fmt::format("lookup {}: kernel {} id {} xbpf {} id {}", idx, rk, vk, rx, vx));
        } else if (op == 2) {
            const int rk = kernel::map_delete(kfd, &idx);
            const int rx = x.erase_host(&idx);
            t.record(rk == rx, rk, fmt::format("delete {}: kernel {} xbpf {}", idx, rk, rx));
        } else {
            std::uint32_t nk = 0, nx = 0;
            const int rk = kernel::map_get_next_key(kfd, &idx, &nk);
            const int rx = x.get_next_key_host(&idx, &nx);
            t.record(rk == rx && nk == nx, rk, fmt::format("get_next_key {}: kernel {} xbpf {}", idx, rk, rx));
        }
    }
    t.report();
}

/// array_of_maps / hash_of_maps: values are inner maps (kernel: fds in, ids out; xbpf: ids in and out).
void run_map_in_map(MapType outer_type, std::uint64_t seed) {
    PinCpu0 pin;
    auto inner_spec = std::make_shared<MapSpec>(spec_of(MapType::Array, 4, 8, 4));
    kernel::MapFd ktemplate;
    ASSERT_EQ(kernel::create_map_raw(*inner_spec, ktemplate), 0);
    MapSpec spec = spec_of(outer_type, 4, 4, 6);
    spec.inner = inner_spec;
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd, ktemplate.get()), 0);
    auto x = maps::make_map(spec).value();
    // Three compatible inner maps and one of another size, on both sides; and an fd/id that is not a map.
    std::vector<kernel::MapFd> kinner;
    std::vector<std::shared_ptr<Map>> xinner;
    std::map<std::int64_t, int> kid_to_slot, xid_to_slot;
    for (int i = 0; i < 4; ++i) {
        const MapSpec s = spec_of(MapType::Array, 4, 8, i == 3 ? 5 : 4);
        kernel::MapFd k;
        ASSERT_EQ(kernel::create_map_raw(s, k), 0);
        kid_to_slot[kernel::map_id(k.get())] = i;
        kinner.push_back(std::move(k));
        xinner.push_back(maps::make_map(s).value());
        xid_to_slot[xinner.back()->id()] = i;
    }
    Tally t(std::string(maps::map_type_name(outer_type)));
    Rng rng{seed};
    // Fewer steps than elsewhere: every kernel map-in-map update waits for an RCU grace period.
    for (int step = 0; step < 600; ++step) {
        const std::uint32_t key = rng.below(9);
        const int op = static_cast<int>(rng.below(4));
        if (op == 0) {
            const std::uint32_t which = rng.below(5);  // 4: not a map
            const std::uint32_t kval = which < 4 ? static_cast<std::uint32_t>(kinner[which].get()) : 99999;
            const std::uint32_t xval = which < 4 ? xinner[which]->id() : 99999;
            const std::uint64_t flags = rng.chance(30) ? rng.below(4) : 0;
            const int rk = kernel::map_update(kfd, &key, &kval, flags);
            const int rx = x->update_host(&key, &xval, flags);
            t.record(rk == rx, rk,
                     fmt::format("update {} inner {} flags {}: kernel {} xbpf {}", key, which, flags, rk, rx));
        } else if (op == 1) {
            std::uint32_t vk = 0, vx = 0;
            const int rk = kernel::map_lookup(kfd, &key, &vk);
            const int rx = x->lookup_copy(&key, &vx);
            const bool same = rk != 0 || kid_to_slot[vk] == xid_to_slot[vx];
            t.record(rk == rx && same, rk, fmt::format("lookup {}: kernel {} xbpf {}", key, rk, rx));
        } else if (op == 2) {
            const int rk = kernel::map_delete(kfd, &key);
            const int rx = x->erase_host(&key);
            t.record(rk == rx, rk, fmt::format("delete {}: kernel {} xbpf {}", key, rk, rx));
        } else {
            std::uint32_t nk = 0, nx = 0;
            const int rk = kernel::map_get_next_key(kfd, &key, &nk);
            const int rx = x->get_next_key_host(&key, &nx);
            const bool ok = outer_type == MapType::ArrayOfMaps ? (rk == rx && nk == nx) : true;
            t.record(ok, rk, fmt::format("get_next_key {}: kernel {} xbpf {}", key, rk, rx));
        }
    }
    t.report();
}

TEST(MapDiff, MapInMap) {
    SKIP_WITHOUT_KERNEL();
    run_map_in_map(MapType::ArrayOfMaps, 31);
    run_map_in_map(MapType::HashOfMaps, 32);
}

TEST(MapDiff, Freeze) {
    SKIP_WITHOUT_KERNEL();
    const MapSpec spec = spec_of(MapType::Hash, 4, 8, 8);
    kernel::MapFd kfd;
    ASSERT_EQ(kernel::create_map_raw(spec, kfd), 0);
    auto x = maps::make_map(spec).value();
    Tally t("freeze");
    const std::uint32_t key = 1;
    const std::uint64_t v = 7;
    std::uint64_t out = 0;
    auto compare = [&](const char* what, int rk, int rx) {
        t.record(rk == rx, rk, fmt::format("{}: kernel {} xbpf {}", what, rk, rx));
    };
    compare("update", kernel::map_update(kfd, &key, &v), x->update_host(&key, &v));
    compare("freeze", kernel::map_freeze(kfd), x->freeze());
    compare("update frozen", kernel::map_update(kfd, &key, &v), x->update_host(&key, &v));
    compare("delete frozen", kernel::map_delete(kfd, &key), x->erase_host(&key));
    compare("lookup frozen", kernel::map_lookup(kfd, &key, &out), x->lookup_copy(&key, &out));
    compare("lookup_and_delete frozen", kernel::map_lookup_and_delete(kfd, &key, &out),
            x->lookup_and_delete(&key, &out));
    compare("freeze again", kernel::map_freeze(kfd), x->freeze());
    t.report();
}

/// BPF_MAP_CREATE and make_map must agree on which specs are valid and on the errno of the invalid ones.
TEST(MapDiff, Creation) {
    SKIP_WITHOUT_KERNEL();
    const auto page = static_cast<std::uint32_t>(maps::page_size());
    std::vector<MapSpec> specs;
    auto add = [&](MapType type, std::uint32_t k, std::uint32_t v, std::uint32_t max, std::uint32_t flags = 0,
                   std::uint64_t extra = 0, std::string name = "m", std::int32_t lock = -1) {
        MapSpec s = spec_of(type, k, v, max, flags);
        s.map_extra = extra;
        s.name = std::move(name);
        s.spin_lock_off = lock;
        specs.push_back(s);
    };
    using enum MapType;
    for (MapType t : {Array, PercpuArray}) {
        add(t, 4, 8, 10);
        add(t, 8, 8, 10);
        add(t, 0, 8, 10);
        add(t, 4, 0, 10);
        add(t, 4, 8, 0);
        add(t, 4, 8, 10, maps::kFNoPrealloc);
        add(t, 4, 8, 10, maps::kFMmapable);
        add(t, 4, 8, 10, maps::kFInnerMap);
        add(t, 4, 8, 10, maps::kFPreserveElems);
        add(t, 4, 8, 10, maps::kFNumaNode);
        add(t, 4, 8, 10, maps::kFRdonly | maps::kFWronly);
        add(t, 4, 8, 10, maps::kFRdonlyProg | maps::kFWronlyProg);
        add(t, 4, 8, 10, maps::kFRdonlyProg);
        add(t, 4, 8, 10, 1u << 20);
        add(t, 4, 8, 10, 0, 1);
        add(t, 4, 32768, 2);
        add(t, 4, 32769, 2);
    }
    for (MapType t : {Hash, PercpuHash, LruHash, LruPercpuHash}) {
        add(t, 4, 8, 10);
        add(t, 0, 8, 10);
        add(t, 4, 0, 10);
        add(t, 4, 8, 0);
        add(t, 4, 8, 10, maps::kFNoPrealloc);
        add(t, 4, 8, 10, maps::kFNoCommonLru);
        add(t, 4, 8, 10, maps::kFNoCommonLru | maps::kFNumaNode);
        add(t, 4, 8, 10, maps::kFNumaNode);
        add(t, 4, 8, 10, maps::kFMmapable);
        add(t, 4, 8, 10, maps::kFZeroSeed);
        add(t, 4, 8, 10, maps::kFRdonlyProg | maps::kFWronlyProg);
        add(t, 4, 8, 10, maps::kFRdonly | maps::kFWronly);
        add(t, 4, 8, 10, 0, 3);
        add(t, 4, (1u << 22) - 48 - 4, 1);
        add(t, 4, (1u << 22) - 48 - 5, 1);
        add(t, 4, 32768, 2);
        add(t, 4, 32769, 2);
        add(t, 4, 8, (1u << 28) + 1);
        add(t, 4, 8, 3, maps::kFNoCommonLru);
    }
    for (MapType t : {Queue, Stack}) {
        add(t, 0, 8, 10);
        add(t, 4, 8, 10);
        add(t, 0, 0, 10);
        add(t, 0, 8, 0);
        add(t, 0, 8, 10, maps::kFNoPrealloc);
        add(t, 0, 8, 10, maps::kFRdonlyProg);
        add(t, 0, 8, 10, maps::kFZeroSeed);
    }
    add(BloomFilter, 0, 8, 100);
    add(BloomFilter, 4, 8, 100);
    add(BloomFilter, 0, 0, 100);
    add(BloomFilter, 0, 8, 0);
    add(BloomFilter, 0, 8, 100, 0, 15);
    add(BloomFilter, 0, 8, 100, 0, 16);
    add(BloomFilter, 0, 8, 100, maps::kFZeroSeed);
    add(BloomFilter, 0, 8, 100, maps::kFNoPrealloc);
    add(LpmTrie, 8, 8, 10, maps::kFNoPrealloc);
    add(LpmTrie, 8, 8, 10);
    add(LpmTrie, 4, 8, 10, maps::kFNoPrealloc);
    add(LpmTrie, 5, 8, 10, maps::kFNoPrealloc);
    add(LpmTrie, 260, 8, 10, maps::kFNoPrealloc);
    add(LpmTrie, 261, 8, 10, maps::kFNoPrealloc);
    add(LpmTrie, 8, 0, 10, maps::kFNoPrealloc);
    add(LpmTrie, 8, 8, 0, maps::kFNoPrealloc);
    add(LpmTrie, 8, 8, 10, maps::kFNoPrealloc | maps::kFZeroSeed);
    add(Ringbuf, 0, 0, page);
    add(Ringbuf, 0, 0, 16 * page);
    add(Ringbuf, 0, 0, 3 * page);
    add(Ringbuf, 0, 0, page / 2);
    add(Ringbuf, 0, 0, 0);
    add(Ringbuf, 4, 0, page);
    add(Ringbuf, 0, 4, page);
    add(Ringbuf, 0, 0, page, maps::kFNumaNode);
    add(Ringbuf, 0, 0, page, maps::kFRdonly);
    add(StackTrace, 4, 8, 100);
    add(StackTrace, 4, 127 * 8, 10);
    add(StackTrace, 4, 128 * 8, 10);
    add(StackTrace, 4, 12, 10);
    add(StackTrace, 8, 8, 10);
    add(StackTrace, 4, 0, 10);
    add(StackTrace, 4, 8, 0);
    add(StackTrace, 4, 64, 10, maps::kFStackBuildId);
    add(StackTrace, 4, 40, 10, maps::kFStackBuildId);
    add(StackTrace, 4, 64, 10, maps::kFRdonlyProg);
    add(StackTrace, 4, 64, 10, maps::kFRdonly);
    for (MapType t : {ProgArray, PerfEventArray}) {
        add(t, 4, 4, 8);
        add(t, 4, 8, 8);
        add(t, 8, 4, 8);
        add(t, 4, 4, 0);
        add(t, 4, 4, 8, maps::kFRdonlyProg);
        add(t, 4, 4, 8, maps::kFPreserveElems);
        add(t, 4, 4, 8, maps::kFMmapable);
    }
    add(Hash, 4, 8, 10, 0, 0, "bad-name");
    add(Hash, 4, 8, 10, 0, 0, "a_long_name_that_libbpf_truncates");
    add(Hash, 4, 8, 10, 0, 0, "with.dot_ok");
    add(Hash, 4, 16, 10, 0, 0, "locked", 0);
    add(Hash, 4, 16, 10, 0, 0, "locked", 12);
    add(Array, 4, 16, 10, 0, 0, "locked", 8);
    add(PercpuHash, 4, 16, 10, 0, 0, "locked", 0);
    add(LruHash, 4, 16, 10, 0, 0, "locked", 0);
    add(Hash, 4, 16, 10, maps::kFRdonlyProg, 0, "locked", 0);
    add(Unspec, 4, 8, 10);
    {
        MapSpec s = spec_of(static_cast<MapType>(200), 4, 8, 10);
        specs.push_back(s);
    }

    Tally t("creation");
    for (const MapSpec& s : specs) {
        kernel::MapFd fd;
        const int rk = kernel::create_map_raw(s, fd);
        const auto made = maps::make_map(s);
        const int rx = made ? 0 : made.error().err;
        t.record(rk == rx, rk,
                 fmt::format("{} name='{}': kernel {} xbpf {} ({})", describe(s), s.name, maps::errno_name(rk),
                             maps::errno_name(rx), made ? "" : made.error().message));
    }
    // Map-in-map templates.
    for (MapType outer : {ArrayOfMaps, HashOfMaps}) {
        struct Case {
            MapSpec inner;
            std::uint32_t value_size;
        };
        std::vector<Case> cases = {{spec_of(Array, 4, 8, 4), 4},     {spec_of(Hash, 4, 8, 4), 4},
                                   {spec_of(Array, 4, 8, 4), 8},     {spec_of(Ringbuf, 0, 0, page), 4},
                                   {spec_of(ProgArray, 4, 4, 4), 4}, {spec_of(Queue, 0, 4, 4), 4}};
        for (const Case& c : cases) {
            kernel::MapFd inner_fd;
            ASSERT_EQ(kernel::create_map_raw(c.inner, inner_fd), 0) << describe(c.inner);
            MapSpec s = spec_of(outer, 4, c.value_size, 4);
            s.inner = std::make_shared<MapSpec>(c.inner);
            kernel::MapFd fd;
            const int rk = kernel::create_map_raw(s, fd, inner_fd.get());
            const auto made = maps::make_map(s);
            const int rx = made ? 0 : made.error().err;
            t.record(rk == rx, rk,
                     fmt::format("{} inner {}: kernel {} xbpf {}", describe(s), describe(c.inner), maps::errno_name(rk),
                                 maps::errno_name(rx)));
        }
        // Nested map-in-map and no template.
        kernel::MapFd tmpl, mim;
        ASSERT_EQ(kernel::create_map_raw(spec_of(Array, 4, 8, 4), tmpl), 0);
        MapSpec mid = spec_of(outer, 4, 4, 4);
        mid.inner = std::make_shared<MapSpec>(spec_of(Array, 4, 8, 4));
        ASSERT_EQ(kernel::create_map_raw(mid, mim, tmpl.get()), 0);
        MapSpec nested = spec_of(outer, 4, 4, 4);
        nested.inner = std::make_shared<MapSpec>(mid);
        kernel::MapFd fd;
        const int rk = kernel::create_map_raw(nested, fd, mim.get());
        const auto made = maps::make_map(nested);
        t.record(rk == (made ? 0 : made.error().err), rk, "nested map-in-map");
    }
    t.report();
}

}  // namespace
}  // namespace xbpf::test
