// Shared by the scalar domain tests: deterministic small sets of concrete values around the interesting points of
// 64- and 32-bit arithmetic, abstractions of them, and samples of an abstraction's concretization.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "verifier/domains/scalar.hpp"

namespace xbpf::verifier::testing {

using u64 = std::uint64_t;
using s64 = std::int64_t;
using u32 = std::uint32_t;
using s32 = std::int32_t;

/// Values where arithmetic changes behaviour: 0, small numbers and shift amounts, byte/half/word sign boundaries,
/// the 32-bit boundaries (also with upper bits set), and the 64-bit extremes.
inline const std::vector<u64>& interesting_values() {
    static const std::vector<u64> kValues = {
        0,
        1,
        2,
        3,
        4,
        5,
        6,
        7,
        8,
        15,
        16,
        31,
        32,
        33,
        63,
        64,
        65,
        0x7f,
        0x80,
        0x81,
        0xff,
        0x100,
        0x7fff,
        0x8000,
        0xffff,
        0x10000,
        0x7fffffff,
        0x80000000,
        0x80000001,
        0xfffffffe,
        0xffffffff,
        u64{1} << 32,
        (u64{1} << 32) + 1,
        (u64{1} << 32) + 0x80000000,
        0x7fffffffffffffff,
        0x8000000000000000,
        0x8000000000000001,
        0xffffffff7fffffff,
        0xffffffff80000000,
        0xffffffff00000000,
        ~u64{0} - 0x80,  // -0x81
        ~u64{0} - 0x7f,  // -0x80
        ~u64{0} - 7,     // -8
        ~u64{0} - 2,     // -3
        ~u64{0} - 1,     // -2
        ~u64{0},         // -1
    };
    return kValues;
}

/// A deterministic generator of small value sets.
class SetGen {
  public:
    explicit SetGen(u64 seed) : rng_(seed) {}

    u64 value() {
        const auto& iv = interesting_values();
        switch (rng_() % 6) {
            case 0:
            case 1:
            case 2: return iv[rng_() % iv.size()];
            case 3: return iv[rng_() % iv.size()] + (rng_() % 7) - 3;
            case 4: return rng_() % 70;
            default: return rng_();
        }
    }

    /// 1..max_size values; a third of the sets are single constants.
    std::vector<u64> set(std::size_t max_size = 6) {
        const std::size_t n = (rng_() % 3 == 0) ? 1 : 1 + rng_() % max_size;
        std::vector<u64> out;
        const u64 base = value();
        for (std::size_t i = 0; i < n; ++i) {
            // Half the time cluster the values near the first one, so ranges stay narrow.
            out.push_back((i > 0 && rng_() % 2 == 0) ? base + rng_() % 9 - 4 : value());
        }
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

    u64 next() { return rng_(); }

  private:
    std::mt19937_64 rng_;
};

/// The join of the constants of `values`.
inline Scalar join_of(const std::vector<u64>& values) {
    Scalar s = Scalar::constant(values.front());
    for (u64 v : values) s = s.join(Scalar::constant(v));
    return s;
}

/// Different abstractions of the same set: the join of its constants, its unsigned hull, its signed hull, and the
/// hull of its low 32 bits (32-bit ops see only those).
inline std::vector<Scalar> abstractions(const std::vector<u64>& values) {
    std::vector<Scalar> out{join_of(values)};
    const auto [umin, umax] = std::minmax_element(values.begin(), values.end());
    out.push_back(Scalar::unsigned_range(*umin, *umax));
    s64 smin = static_cast<s64>(values.front());
    s64 smax = smin;
    for (u64 v : values) {
        smin = std::min(smin, static_cast<s64>(v));
        smax = std::max(smax, static_cast<s64>(v));
    }
    out.push_back(Scalar::signed_range(smin, smax));
    return out;
}

/// abstractions() plus the hull of the low 32 bits alone, upper bits unknown (what JMP32 refinement produces).
inline std::vector<Scalar> abstractions_with_low32(const std::vector<u64>& values) {
    std::vector<Scalar> out = abstractions(values);
    Scalar low = Scalar::unknown();
    low.u32_min = static_cast<u32>(values.front());
    low.u32_max = low.u32_min;
    for (u64 v : values) {
        low.u32_min = std::min(low.u32_min, static_cast<u32>(v));
        low.u32_max = std::max(low.u32_max, static_cast<u32>(v));
    }
    low.sync();
    out.push_back(low);
    return out;
}

/// The values of `values` plus a few members of the concretization of `a` (its bounds and random members), so that
/// soundness is checked on more than the generating set.
inline std::vector<u64> members(const Scalar& a, const std::vector<u64>& values, SetGen& gen) {
    std::vector<u64> out = values;
    const u64 candidates[] = {a.umin,
                              a.umax,
                              static_cast<u64>(a.smin),
                              static_cast<u64>(a.smax),
                              a.var_off.value,
                              a.var_off.value | a.var_off.mask,
                              (a.umax & ~u64{0xffffffff}) | a.u32_min,
                              (a.umin & ~u64{0xffffffff}) | a.u32_max,
                              static_cast<u64>(static_cast<s64>(a.s32_min)),
                              static_cast<u64>(static_cast<s64>(a.s32_max))};
    for (u64 c : candidates) {
        if (a.contains(c)) out.push_back(c);
    }
    for (int i = 0; i < 6; ++i) {
        // A random tnum member clipped into the unsigned range.
        u64 c = a.var_off.value | (gen.next() & a.var_off.mask);
        const u64 span = a.umax - a.umin;
        if (a.umax > a.umin && span != ~u64{0} && (c < a.umin || c > a.umax)) c = a.umin + gen.next() % (span + 1);
        if (a.contains(c)) out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

/// "{1, 0x80, ...}" for failure messages.
inline std::string show(const std::vector<u64>& values) {
    std::string s = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) s += ", ";
        s += std::to_string(values[i]);
    }
    return s + "}";
}

inline std::string dump(const Scalar& s) {
    return s.to_string() + " [smin=" + std::to_string(s.smin) + " smax=" + std::to_string(s.smax) +
           " umin=" + std::to_string(s.umin) + " umax=" + std::to_string(s.umax) + " s32=" + std::to_string(s.s32_min) +
           ".." + std::to_string(s.s32_max) + " u32=" + std::to_string(s.u32_min) + ".." + std::to_string(s.u32_max) +
           " var_off=" + s.var_off.to_string() + "]";
}

}  // namespace xbpf::verifier::testing
