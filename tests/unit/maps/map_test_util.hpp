// Helpers shared by the map unit tests (tests/unit/maps/*_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "maps/map.hpp"

namespace xbpf::maps::test {

inline MapSpec spec(MapType type, std::uint32_t key, std::uint32_t value, std::uint32_t max, std::uint32_t flags = 0) {
    // Designated initializers construct the name in place (assigning a literal trips GCC 12's -Wrestrict).
    return MapSpec{.name = "t",
                   .type = type,
                   .key_size = key,
                   .value_size = value,
                   .max_entries = max,
                   .flags = flags,
                   .map_extra = 0,
                   .inner = nullptr,
                   .spin_lock_off = -1};
}

/// make_map that fails the test on refusal.
inline std::shared_ptr<Map> make(const MapSpec& s) {
    auto m = make_map(s);
    EXPECT_TRUE(m) << (m ? "" : m.error().message);
    return m ? *m : nullptr;
}

/// The errno make_map gives (0 on success).
inline int create_errno(const MapSpec& s) {
    auto m = make_map(s);
    return m ? 0 : m.error().err;
}

/// Typed map access for fixed-size keys and values.
template <class T>
T load(const void* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

/// Host lookup of a u64 value under a u32 key; -errno as value when absent (for EXPECT_EQ readability).
inline std::int64_t host_u64(Map& m, std::uint32_t key) {
    std::uint64_t v = 0;
    const int rc = m.lookup_copy(&key, &v);
    return rc == 0 ? static_cast<std::int64_t>(v) : rc;
}

inline int put(Map& m, std::uint32_t key, std::uint64_t value, std::uint64_t flags = kAny) {
    return m.update_host(&key, &value, flags);
}

/// All keys in get_next_key order (u32 keys).
inline std::vector<std::uint32_t> keys_of(Map& m) {
    std::vector<std::uint32_t> out;
    std::uint32_t key = 0, next = 0;
    for (int rc = m.get_next_key_host(nullptr, &next); rc == 0; rc = m.get_next_key_host(&key, &next)) {
        out.push_back(next);
        key = next;
        if (out.size() > 1u << 20) break;
    }
    return out;
}

}  // namespace xbpf::maps::test
