// Scalar abstract values: factories, reg_bounds_sync, the lattice operations and the log form. The ALU transfer
// functions are in scalar_alu.cpp, comparisons in scalar_branch.cpp.
//
// sync() follows the kernel's reg_bounds_sync (kernel/bpf/verifier.c): bounds from the tnum (__update_reg_bounds),
// 32-bit bounds from 64-bit ones and back, signed from unsigned and back (__reg_deduce_bounds), and the tnum from the
// bounds (__reg_bound_offset). Each deduction here is an exact intersection of two sets on the 2^64 (or 2^32)
// ring, which makes a few of them slightly stronger than the kernel's:
//   - a range that crosses the sign boundary is two intervals in the other signedness; when the other range misses
//     one of them, the bounds come from the remaining one (the kernel only combines ranges within one half);
//   - 64-bit bounds move to the next (previous) value whose low 32 bits are allowed by the u32 and s32 ranges, also
//     across a change in the upper 32 bits; the kernel only substitutes low bits within the same upper half, and
//     special-cases [(s64)S32_MIN, S32_MAX], which this subsumes;
//   - the loop runs until nothing changes (at most kMaxRounds), not a fixed two rounds.
#include <algorithm>
#include <bit>
#include <optional>

#include <fmt/format.h>

#include "verifier/domains/scalar.hpp"
#include "verifier/domains/scalar_internal.hpp"

namespace xbpf::verifier {

namespace {

using u64 = std::uint64_t;
using s64 = std::int64_t;
using u32 = std::uint32_t;
using s32 = std::int32_t;

constexpr u64 kSign64 = u64{1} << 63;
constexpr u32 kSign32 = u32{1} << 31;
constexpr int kMaxRounds = 8;

/// Sign-extends the low `w` bits of v (1 <= w <= 64).
s64 sext(u64 v, unsigned w) {
    const unsigned sh = 64 - w;
    return static_cast<s64>(v << sh) >> sh;
}

/// The ranges of (x mod 2^w), as unsigned and as signed w-bit numbers, when x runs over (a subset of) the cyclic
/// interval lo, lo + 1, ..., lo + span (mod 2^64). has_u / has_s are false when that view is the whole w-bit range.
/// Example (w = 32): s64 [-1, 1] has low halves {0xffffffff, 0, 1}: no u32 range, s32 [-1, 1].
struct LowRanges {
    bool has_u = false;
    u64 umin = 0;
    u64 umax = 0;
    bool has_s = false;
    s64 smin = 0;
    s64 smax = 0;
};

LowRanges low_ranges(u64 lo, u64 span, unsigned w) {
    LowRanges r;
    const u64 m = (u64{1} << w) - 1;
    const u64 h = u64{1} << (w - 1);
    if (span >= m) return r;  // 2^w or more consecutive values: every low pattern
    const u64 a = lo & m;
    const u64 b = (lo + span) & m;
    if (a <= b) {
        // a..b without wrapping: an unsigned range; a signed one unless it passes h - 1 -> h.
        r.has_u = true;
        r.umin = a;
        r.umax = b;
        if (!(a < h && b >= h)) {
            r.has_s = true;
            r.smin = sext(a, w);
            r.smax = sext(b, w);
        }
    } else if (a >= h && b < h) {
        // a..m, 0..b: wraps at m -> 0 (signed -1 -> 0) only, so it is the signed range [a - 2^w, b].
        r.has_s = true;
        r.smin = sext(a, w);
        r.smax = static_cast<s64>(b);
    }
    return r;
}

bool valid(const Scalar& s) {
    return s.umin <= s.umax && s.smin <= s.smax && s.u32_min <= s.u32_max && s.s32_min <= s.s32_max;
}

/// __update_reg_bounds: the smallest and largest values of the tnum, in each view.
void update_from_tnum(Scalar& s) {
    const Tnum t = s.var_off;
    s.smin = std::max(s.smin, static_cast<s64>(t.value | (t.mask & kSign64)));
    s.smax = std::min(s.smax, static_cast<s64>(t.value | (t.mask & ~kSign64)));
    s.umin = std::max(s.umin, t.value);
    s.umax = std::min(s.umax, t.value | t.mask);
    const auto v = static_cast<u32>(t.value);
    const auto m = static_cast<u32>(t.mask);
    s.s32_min = std::max(s.s32_min, static_cast<s32>(v | (m & kSign32)));
    s.s32_max = std::min(s.s32_max, static_cast<s32>(v | (m & ~kSign32)));
    s.u32_min = std::max(s.u32_min, v);
    s.u32_max = std::min(s.u32_max, v | m);
}

void meet32(Scalar& s, const LowRanges& r) {
    if (r.has_u) {
        s.u32_min = std::max(s.u32_min, static_cast<u32>(r.umin));
        s.u32_max = std::min(s.u32_max, static_cast<u32>(r.umax));
    }
    if (r.has_s) {
        s.s32_min = std::max(s.s32_min, static_cast<s32>(r.smin));
        s.s32_max = std::min(s.s32_max, static_cast<s32>(r.smax));
    }
}

/// 32-bit bounds from the 64-bit ones (the first half of the kernel's __reg32_deduce_bounds, generalised).
void deduce_32_from_64(Scalar& s) {
    meet32(s, low_ranges(s.umin, s.umax - s.umin, 32));
    const auto lo = static_cast<u64>(s.smin);
    meet32(s, low_ranges(lo, static_cast<u64>(s.smax) - lo, 32));
}

/// Signed bounds from unsigned ones and back, at one width (the rest of __reg32_deduce_bounds and
/// __reg64_deduce_bounds). A range within one sign half is the same set in both signednesses; one that crosses is
/// two intervals in the other signedness, and the other range may rule one of them out.
template <class U>
void deduce_sign(std::make_signed_t<U>& smin, std::make_signed_t<U>& smax, U& umin, U& umax) {
    using S = std::make_signed_t<U>;
    const auto sumin = static_cast<S>(umin);
    const auto sumax = static_cast<S>(umax);
    if (sumin <= sumax) {
        smin = std::max(smin, sumin);
        smax = std::min(smax, sumax);
    } else {
        // Signed, [umin, umax] is [umin, S_MAX] (non-negative) and [S_MIN, umax] (negative).
        if (smin > sumax) smin = std::max(smin, sumin);  // no negative value left
        if (smax < sumin) smax = std::min(smax, sumax);  // no non-negative value left
    }
    const auto usmin = static_cast<U>(smin);
    const auto usmax = static_cast<U>(smax);
    if (usmin <= usmax) {
        umin = std::max(umin, usmin);
        umax = std::min(umax, usmax);
    } else {
        // Unsigned, [smin, smax] is [0, smax] and [smin, U_MAX].
        if (umin > usmax) umin = std::max(umin, usmin);
        if (umax < usmin) umax = std::min(umax, usmax);
    }
}

bool in_cyclic(u32 v, u32 a, u32 b) { return a <= b ? (a <= v && v <= b) : (v >= a || v <= b); }

/// The smallest y >= x whose low 32 bits lie in the cyclic interval [a, b]; nullopt if there is none.
std::optional<u64> next_with_low(u64 x, u32 a, u32 b) {
    const auto lo = static_cast<u32>(x);
    if (in_cyclic(lo, a, b)) return x;
    const u64 hi = x >> 32;
    if (lo < a) return (hi << 32) | a;
    if (hi == 0xffff'ffffULL) return std::nullopt;
    return ((hi + 1) << 32) | a;
}

/// The largest y <= x whose low 32 bits lie in the cyclic interval [a, b]; nullopt if there is none.
std::optional<u64> prev_with_low(u64 x, u32 a, u32 b) {
    const auto lo = static_cast<u32>(x);
    if (in_cyclic(lo, a, b)) return x;
    const u64 hi = x >> 32;
    if (lo > b) return (hi << 32) | b;
    if (hi == 0) return std::nullopt;
    return ((hi - 1) << 32) | b;
}

/// Tighten the 64-bit bounds to values whose low half is allowed by [a, b] (cyclic): __reg_deduce_mixed_bounds.
/// Signed bounds are handled in the biased order (x ^ 2^63), which keeps the low 32 bits.
bool tighten_64_by_low(Scalar& s, u32 a, u32 b) {
    const auto umin = next_with_low(s.umin, a, b);
    const auto umax = prev_with_low(s.umax, a, b);
    const auto smin = next_with_low(static_cast<u64>(s.smin) ^ kSign64, a, b);
    const auto smax = prev_with_low(static_cast<u64>(s.smax) ^ kSign64, a, b);
    if (!umin || !umax || !smin || !smax) return false;
    s.umin = *umin;
    s.umax = *umax;
    s.smin = static_cast<s64>(*smin ^ kSign64);
    s.smax = static_cast<s64>(*smax ^ kSign64);
    return valid(s);
}

bool deduce_64_from_32(Scalar& s) {
    return tighten_64_by_low(s, s.u32_min, s.u32_max) &&
           tighten_64_by_low(s, static_cast<u32>(s.s32_min), static_cast<u32>(s.s32_max));
}

/// __reg_bound_offset: the tnum meets the tnums of the unsigned ranges. False if they share no value.
bool bound_offset(Scalar& s) {
    const Tnum r64 = Tnum::range(s.umin, s.umax);
    if (!tnum_overlaps(s.var_off, r64)) return false;
    const Tnum t = tnum_intersect(s.var_off, r64);
    const Tnum sub = tnum_subreg(t);
    const Tnum r32 = Tnum::range(s.u32_min, s.u32_max);
    if (!tnum_overlaps(sub, r32)) return false;
    s.var_off = tnum_with_subreg(t, tnum_intersect(sub, r32));
    return true;
}

// Log formatting (the kernel's verbose_snum / verbose_unum): decimal within the 16-bit range, hex beyond.
std::string snum(s64 v) {
    if (v >= INT16_MIN && v <= INT16_MAX) return fmt::format("{}", v);
    return fmt::format("{:#x}", static_cast<u64>(v));
}

std::string unum(u64 v) {
    if (v <= UINT16_MAX) return fmt::format("{}", v);
    return fmt::format("{:#x}", v);
}

}  // namespace

namespace detail {

bool sync_checked(Scalar& s) {
    if (!valid(s)) return false;
    for (int round = 0; round < kMaxRounds; ++round) {
        const Scalar before = s;
        update_from_tnum(s);
        if (!valid(s)) return false;
        deduce_32_from_64(s);
        deduce_sign<u32>(s.s32_min, s.s32_max, s.u32_min, s.u32_max);
        deduce_sign<u64>(s.smin, s.smax, s.umin, s.umax);
        if (!valid(s)) return false;
        if (!deduce_64_from_32(s)) return false;
        deduce_sign<u64>(s.smin, s.smax, s.umin, s.umax);
        if (!valid(s)) return false;
        if (!bound_offset(s)) return false;
        update_from_tnum(s);
        if (!valid(s)) return false;
        if (s == before) return true;
    }
    return true;
}

}  // namespace detail

Scalar Scalar::constant(std::uint64_t v) {
    Scalar s;
    s.var_off = Tnum::constant(v);
    s.smin = s.smax = static_cast<s64>(v);
    s.umin = s.umax = v;
    s.s32_min = s.s32_max = static_cast<s32>(static_cast<u32>(v));
    s.u32_min = s.u32_max = static_cast<u32>(v);
    return s;
}

Scalar Scalar::unknown() {
    Scalar s;
    s.var_off = Tnum::unknown();
    s.smin = INT64_MIN;
    s.smax = INT64_MAX;
    s.umin = 0;
    s.umax = UINT64_MAX;
    s.s32_min = INT32_MIN;
    s.s32_max = INT32_MAX;
    s.u32_min = 0;
    s.u32_max = UINT32_MAX;
    return s;
}

Scalar Scalar::of_size(std::uint8_t bytes, bool is_signed) {
    if (bytes == 0 || bytes >= 8) return unknown();  // only 1, 2, 4 restrict anything
    const unsigned bits = bytes * 8U;
    if (is_signed) {
        const s64 h = s64{1} << (bits - 1);
        return signed_range(-h, h - 1);
    }
    return unsigned_range(0, (u64{1} << bits) - 1);
}

Scalar Scalar::unsigned_range(std::uint64_t min, std::uint64_t max) {
    Scalar s = unknown();
    if (min > max) return s;  // precondition violated: claim nothing
    s.umin = min;
    s.umax = max;
    s.sync();
    return s;
}

Scalar Scalar::signed_range(std::int64_t min, std::int64_t max) {
    Scalar s = unknown();
    if (min > max) return s;
    s.smin = min;
    s.smax = max;
    s.sync();
    return s;
}

bool Scalar::is_const32() const { return tnum_subreg(var_off).is_const(); }

bool Scalar::contains(std::uint64_t x) const {
    const auto sx = static_cast<s64>(x);
    const auto x32 = static_cast<u32>(x);
    const auto sx32 = static_cast<s32>(x32);
    return var_off.contains(x) && smin <= sx && sx <= smax && umin <= x && x <= umax && s32_min <= sx32 &&
           sx32 <= s32_max && u32_min <= x32 && x32 <= u32_max;
}

bool Scalar::includes(const Scalar& other) const {
    return var_off.includes(other.var_off) && smin <= other.smin && other.smax <= smax && umin <= other.umin &&
           other.umax <= umax && s32_min <= other.s32_min && other.s32_max <= s32_max && u32_min <= other.u32_min &&
           other.u32_max <= u32_max;
}

Scalar Scalar::join(const Scalar& other) const {
    Scalar r;
    r.var_off = tnum_union(var_off, other.var_off);
    r.smin = std::min(smin, other.smin);
    r.smax = std::max(smax, other.smax);
    r.umin = std::min(umin, other.umin);
    r.umax = std::max(umax, other.umax);
    r.s32_min = std::min(s32_min, other.s32_min);
    r.s32_max = std::max(s32_max, other.s32_max);
    r.u32_min = std::min(u32_min, other.u32_min);
    r.u32_max = std::max(u32_max, other.u32_max);
    r.sync();
    return r;
}

void Scalar::sync() { static_cast<void>(detail::sync_checked(*this)); }

std::string Scalar::to_string() const {
    if (is_const()) return snum(static_cast<s64>(value()));
    // A bound is printed only if it says more than the tnum alone.
    Scalar implied = unknown();
    implied.var_off = var_off;
    update_from_tnum(implied);
    struct Field {
        const char* name;
        u64 val;  // signed fields: the s64 bit pattern (32-bit ones sign-extended only when printed in decimal)
        bool omit;
    };
    auto s32_field = [](s32 v) {
        const auto wide = static_cast<s64>(v);
        return wide >= INT16_MIN && wide <= INT16_MAX ? static_cast<u64>(wide) : static_cast<u64>(static_cast<u32>(v));
    };
    Field fields[] = {
        {"smin", static_cast<u64>(smin), smin == implied.smin},
        {"smax", static_cast<u64>(smax), smax == implied.smax},
        {"umin", umin, umin == implied.umin},
        {"umax", umax, umax == implied.umax},
        {"smin32", s32_field(s32_min), s32_min == implied.s32_min},
        {"smax32", s32_field(s32_max), s32_max == implied.s32_max},
        {"umin32", u32_min, u32_min == implied.u32_min},
        {"umax32", u32_max, u32_max == implied.u32_max},
    };
    // Like print_scalar_ranges: equal minima (or maxima) share one value, "smin=umin=0", without mixing a negative
    // signed value with an unsigned one.
    std::string out = "scalar(";
    const char* sep = "";
    constexpr std::size_t kCount = std::size(fields);
    for (std::size_t i = 0; i < kCount; ++i) {
        if (fields[i].omit) continue;
        const bool is_signed = fields[i].name[0] == 's';
        const bool neg = is_signed && static_cast<s64>(fields[i].val) < 0;
        out += sep;
        out += fields[i].name;
        out += '=';
        sep = ",";
        for (std::size_t j = i + 2; j < kCount; j += 2) {
            if (fields[j].omit || fields[j].val != fields[i].val) continue;
            const bool neg2 = fields[j].name[0] == 's' && static_cast<s64>(fields[j].val) < 0;
            if (neg2 != neg) continue;
            fields[j].omit = true;
            out += fields[j].name;
            out += '=';
        }
        out += is_signed ? snum(static_cast<s64>(fields[i].val)) : unum(fields[i].val);
    }
    if (!var_off.is_unknown()) {
        out += sep;
        out += "var_off=";
        out += fmt::format("({:#x}; {:#x})", var_off.value, var_off.mask);
    }
    out += ')';
    return out;
}

}  // namespace xbpf::verifier
