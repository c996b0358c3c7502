// Hashing of map keys and bloom filter values. Any good 32-bit hash gives the kernel's semantics (its jhash only
// decides bucket placement and false-positive patterns, neither of which programs may rely on); this one mixes
// 8 bytes at a time and finishes with MurmurHash3's fmix64.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace xbpf::maps {

inline std::uint64_t hash_fmix64(std::uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

/// The `n` bytes at `p` (0 <= n <= 8) as a little-endian integer, with fixed-size loads only: a variable-length
/// memcpy into a word is a library call followed by a store-forwarding stall, which used to dominate short-key
/// hash lookups.
inline std::uint64_t load_le_bytes(const unsigned char* p, std::size_t n) {
    if (n >= 4) {
        std::uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        if (n == 4) return lo;
        std::memcpy(&hi, p + n - 4, 4);  // overlaps lo; keep only the bytes past p + 4
        if (n == 8) return lo | std::uint64_t{hi} << 32;
        return lo | std::uint64_t{hi >> (8 * (8 - n))} << 32;
    }
    if (n == 0) return 0;
    // 1..3 bytes: first, middle and last (they coincide for short keys).
    return std::uint64_t{p[0]} | std::uint64_t{p[n / 2]} << (8 * (n / 2)) | std::uint64_t{p[n - 1]} << (8 * (n - 1));
}

/// memcmp(a, b, n) == 0 for short keys, inline (no library call).
inline bool bytes_equal(const void* a, const void* b, std::size_t n) {
    const auto* pa = static_cast<const unsigned char*>(a);
    const auto* pb = static_cast<const unsigned char*>(b);
    for (; n >= 8; n -= 8, pa += 8, pb += 8) {
        std::uint64_t x, y;
        std::memcpy(&x, pa, 8);
        std::memcpy(&y, pb, 8);
        if (x != y) return false;
    }
    return load_le_bytes(pa, n) == load_le_bytes(pb, n);
}

/// A 32-bit hash of `len` bytes at `data` under `seed`; different seeds give independent-looking functions.
inline std::uint32_t hash_bytes(const void* data, std::size_t len, std::uint32_t seed) {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ (std::uint64_t{seed} << 32 | seed) ^ (len * 0xc2b2ae3d27d4eb4fULL);
    while (len >= 8) {
        std::uint64_t w;
        std::memcpy(&w, p, 8);
        h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
        h = (h << 31) | (h >> 33);
        p += 8;
        len -= 8;
    }
    if (len > 0) {
        const std::uint64_t w = load_le_bytes(p, len);
        h = (h ^ (w * 0x87c37b91114253d5ULL)) * 0x4cf5ad432745937fULL;
    }
    return static_cast<std::uint32_t>(hash_fmix64(h));
}

}  // namespace xbpf::maps
