// ALU transfer functions on Scalars: the kernel's adjust_scalar_min_max_vals and its scalar(32)_min_max_* helpers
// (kernel/bpf/verifier.c), written once per width as templates over the width's unsigned type.
//
// Each operation computes a View (tnum plus signed and unsigned bounds) at its width; the caller assembles the
// Scalar and sync() derives the other views. Bounds are computed on exact (128-bit) integers and kept when the
// exact result interval maps onto one contiguous interval modulo 2^N ("wrap_*"); this covers the kernel's
// no-overflow cases and also keeps ranges that overflow as a whole (e.g. [2^64-2, 2^64-1] + 2 = [0, 1]).
//
// Departures from the kernel, all sound (tests/unit/verifier/scalar_test.cpp checks them on generated value sets):
//   - shifts whose amount is not a constant below the width are not "unknown": RFC 9669 masks the amount
//     (& 63 / & 31), so the result is the union over the possible masked amounts;
//   - multiplication keeps signed bounds from the four corner products, not only for non-negative operands;
//   - a left shift by 32 or more takes its bounds from the low half's s32/u32 bounds (the kernel's "<< 32" special
//     case, also for negative s32 bounds and any amount from 32 up);
//   - div, mod, sdiv, smod, neg, movsx and the byte swaps have transfer functions (older kernels mark them unknown).
#include <algorithm>
#include <bit>
#include <optional>

#include "verifier/domains/scalar.hpp"
#include "verifier/domains/scalar_internal.hpp"

namespace xbpf::verifier {

namespace {

using detail::const_view;
using detail::full_view;
using detail::View;
using detail::view_of;
using u64 = std::uint64_t;
using s64 = std::int64_t;
using u32 = std::uint32_t;
using s32 = std::int32_t;
__extension__ typedef __int128 i128;           // NOLINT(modernize-use-using): __extension__ needs typedef
__extension__ typedef unsigned __int128 u128;  // NOLINT(modernize-use-using)

template <class U>
constexpr unsigned kBits = sizeof(U) * 8;

template <class U>
Tnum trunc(Tnum t) {
    return {t.value & detail::kWidthMask<U>, t.mask & detail::kWidthMask<U>};
}

/// Sets r's unsigned bounds to [lo, hi] mod 2^N if that exact interval stays one interval after reduction.
template <class U>
void wrap_u(i128 lo, i128 hi, View<U>& r) {
    if ((lo >> kBits<U>) != (hi >> kBits<U>)) return;
    r.umin = static_cast<U>(lo);
    r.umax = static_cast<U>(hi);
}

/// The same for signed bounds: [lo, hi] must stay within one window [k * 2^N - 2^(N-1), k * 2^N + 2^(N-1)).
template <class U>
void wrap_s(i128 lo, i128 hi, View<U>& r) {
    using S = std::make_signed_t<U>;
    const i128 bias = i128{1} << (kBits<U> - 1);
    if (((lo + bias) >> kBits<U>) != ((hi + bias) >> kBits<U>)) return;
    r.smin = static_cast<S>(static_cast<U>(lo));
    r.smax = static_cast<S>(static_cast<U>(hi));
}

/// Signed bounds from unsigned ones when those stay within one sign half.
template <class U>
void s_from_u(View<U>& r) {
    using S = std::make_signed_t<U>;
    if (static_cast<S>(r.umin) <= static_cast<S>(r.umax)) {
        r.smin = static_cast<S>(r.umin);
        r.smax = static_cast<S>(r.umax);
    }
}

/// Unsigned bounds from signed ones when those do not cross zero.
template <class U>
void u_from_s(View<U>& r) {
    if (static_cast<U>(r.smin) <= static_cast<U>(r.smax)) {
        r.umin = static_cast<U>(r.smin);
        r.umax = static_cast<U>(r.smax);
    }
}

/// Holds every value of a and of b.
template <class U>
View<U> join_view(const View<U>& a, const View<U>& b) {
    return {tnum_union(a.t, b.t), std::min(a.smin, b.smin), std::max(a.smax, b.smax), std::min(a.umin, b.umin),
            std::max(a.umax, b.umax)};
}

/// Holds the values that are in both (both hold the same set, computed two ways).
template <class U>
View<U> meet_view(const View<U>& a, const View<U>& b) {
    return {tnum_overlaps(a.t, b.t) ? tnum_intersect(a.t, b.t) : a.t, std::max(a.smin, b.smin),
            std::min(a.smax, b.smax), std::max(a.umin, b.umin), std::min(a.umax, b.umax)};
}

template <class U>
bool is_const_view(const View<U>& v) {
    return v.t.is_const() || v.umin == v.umax;
}

template <class U>
U const_value(const View<U>& v) {
    return v.t.is_const() ? static_cast<U>(v.t.value) : v.umin;
}

// ---- additive and multiplicative ----

template <class U>
View<U> alu_add(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = trunc<U>(tnum_add(a.t, b.t));
    wrap_u(i128{a.umin} + b.umin, i128{a.umax} + b.umax, r);
    wrap_s(i128{a.smin} + b.smin, i128{a.smax} + b.smax, r);
    return r;
}

template <class U>
View<U> alu_sub(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = trunc<U>(tnum_sub(a.t, b.t));
    wrap_u(i128{a.umin} - b.umax, i128{a.umax} - b.umin, r);
    wrap_s(i128{a.smin} - b.smax, i128{a.smax} - b.smin, r);
    return r;
}

template <class U>
View<U> alu_neg(const View<U>& a) {
    return alu_sub(const_view<U>(0), a);
}

template <class U>
View<U> alu_mul(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = trunc<U>(tnum_mul(a.t, b.t));
    // Unsigned: every product lies in [umin * umin, umax * umax] (< 2^128).
    const u128 lo = u128{a.umin} * b.umin;
    const u128 hi = u128{a.umax} * b.umax;
    if ((lo >> kBits<U>) == (hi >> kBits<U>)) {
        r.umin = static_cast<U>(lo);
        r.umax = static_cast<U>(hi);
    }
    // Signed: x * y is bilinear, so its extremes over a box are at the corners (|each| <= 2^126).
    const i128 p[] = {i128{a.smin} * b.smin, i128{a.smin} * b.smax, i128{a.smax} * b.smin, i128{a.smax} * b.smax};
    wrap_s(*std::min_element(std::begin(p), std::end(p)), *std::max_element(std::begin(p), std::end(p)), r);
    return r;
}

// ---- bitwise ----

template <class U>
View<U> alu_and(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = tnum_and(a.t, b.t);
    r.umin = static_cast<U>(r.t.value);
    r.umax = std::min({a.umax, b.umax, static_cast<U>(r.t.umax())});
    s_from_u(r);
    return r;
}

template <class U>
View<U> alu_or(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = tnum_or(a.t, b.t);
    r.umin = std::max({a.umin, b.umin, static_cast<U>(r.t.value)});
    r.umax = static_cast<U>(r.t.umax());
    s_from_u(r);
    return r;
}

template <class U>
View<U> alu_xor(const View<U>& a, const View<U>& b) {
    View<U> r = full_view<U>();
    r.t = tnum_xor(a.t, b.t);
    r.umin = static_cast<U>(r.t.value);
    r.umax = static_cast<U>(r.t.umax());
    s_from_u(r);
    return r;
}

// ---- shifts ----

/// The possible shift amounts: k in [kmin, kmax] with t.contains(k). RFC 9669 masks the amount to the width.
struct ShiftAmounts {
    unsigned kmin;
    unsigned kmax;
    Tnum t;
};

template <class U>
ShiftAmounts shift_amounts(const View<U>& s) {
    constexpr U kLimit = kBits<U> - 1;
    if (s.umin <= s.umax && s.umax <= kLimit) {
        return {static_cast<unsigned>(s.umin), static_cast<unsigned>(s.umax), s.t};
    }
    const Tnum masked = tnum_and(s.t, Tnum::constant(kLimit));
    return {static_cast<unsigned>(masked.value), static_cast<unsigned>(masked.umax()), masked};
}

/// Union of f(k) over the possible amounts.
template <class F>
Tnum union_over(const ShiftAmounts& sh, F f) {
    std::optional<Tnum> acc;
    const unsigned last = std::min(sh.kmax, 63U);
    for (unsigned k = sh.kmin; k <= last; ++k) {
        if (!sh.t.contains(k)) continue;
        const Tnum tk = f(static_cast<std::uint8_t>(k));
        acc = acc ? tnum_union(*acc, tk) : tk;
    }
    return acc.value_or(Tnum::unknown());  // no amount at all: the operand was empty; claim nothing
}

template <class U>
View<U> alu_lsh(const View<U>& a, const ShiftAmounts& sh) {
    View<U> r = full_view<U>();
    r.t = trunc<U>(union_over(sh, [&](std::uint8_t k) { return tnum_lshift(a.t, k); }));
    // x << k is x * 2^k mod 2^N; the exact products are monotone in both x and k.
    const u128 lo = u128{a.umin} << sh.kmin;
    const u128 hi = u128{a.umax} << sh.kmax;
    if ((lo >> kBits<U>) == (hi >> kBits<U>)) {
        r.umin = static_cast<U>(lo);
        r.umax = static_cast<U>(hi);
    }
    const i128 pmin = i128{1} << sh.kmin;
    const i128 pmax = i128{1} << sh.kmax;
    const i128 p[] = {i128{a.smin} * pmin, i128{a.smin} * pmax, i128{a.smax} * pmin, i128{a.smax} * pmax};
    wrap_s(*std::min_element(std::begin(p), std::end(p)), *std::max_element(std::begin(p), std::end(p)), r);
    return r;
}

template <class U>
View<U> alu_rsh(const View<U>& a, const ShiftAmounts& sh) {
    View<U> r = full_view<U>();
    r.t = union_over(sh, [&](std::uint8_t k) { return tnum_rshift(a.t, k); });
    r.umin = a.umin >> sh.kmax;
    r.umax = a.umax >> sh.kmin;
    s_from_u(r);
    return r;
}

template <class U>
View<U> alu_arsh(const View<U>& a, const ShiftAmounts& sh) {
    View<U> r = full_view<U>();
    r.t = union_over(sh, [&](std::uint8_t k) { return tnum_arshift(a.t, k, kBits<U>); });
    // x >> k (arithmetic) is monotone in x, and in k towards -1 or 0: the corners bound it.
    const auto a1 = a.smin >> sh.kmin;
    const auto a2 = a.smin >> sh.kmax;
    const auto b1 = a.smax >> sh.kmin;
    const auto b2 = a.smax >> sh.kmax;
    r.smin = std::min({a1, a2, b1, b2});
    r.smax = std::max({a1, a2, b1, b2});
    u_from_s(r);
    return r;
}

// ---- division (RFC 9669 §4.1: x / 0 = 0, x % 0 = x, S_MIN / -1 = S_MIN, S_MIN % -1 = 0) ----

template <class U>
View<U> alu_div(const View<U>& a, const View<U>& b) {
    if (b.umax == 0) return const_view<U>(0);
    View<U> r = full_view<U>();
    const U dmin = std::max<U>(b.umin, 1);
    r.umin = b.umin == 0 ? 0 : a.umin / b.umax;  // a zero divisor gives 0
    r.umax = a.umax / dmin;
    r.t = Tnum::range(r.umin, r.umax);
    if (is_const_view(b) && std::has_single_bit(const_value(b))) {
        r.t = tnum_rshift(a.t, static_cast<std::uint8_t>(std::countr_zero(const_value(b))));
    }
    s_from_u(r);
    return r;
}

template <class U>
View<U> alu_mod(const View<U>& a, const View<U>& b) {
    if (b.umax == 0) return a;  // every divisor is 0: the dividend stays
    if (is_const_view(a) && is_const_view(b) && const_value(b) != 0) {
        return const_view<U>(const_value(a) % const_value(b));
    }
    if (b.umin > a.umax) return a;  // every x < every y: x % y == x
    View<U> r = full_view<U>();
    r.umin = 0;
    r.umax = std::min<U>(a.umax, b.umax - 1);
    r.t = Tnum::range(0, r.umax);
    if (is_const_view(b) && std::has_single_bit(const_value(b))) {
        r.t = tnum_and(a.t, Tnum::constant(const_value(b) - 1));
    }
    s_from_u(r);
    if (b.umin == 0) r = join_view(r, a);  // a zero divisor keeps the dividend
    return r;
}

template <class U>
View<U> alu_sdiv(const View<U>& a, const View<U>& b) {
    using S = std::make_signed_t<U>;
    if (b.smin == 0 && b.smax == 0) return const_view<U>(0);
    if (b.smin == 1 && b.smax == 1) return a;
    if (b.smin == -1 && b.smax == -1) return alu_neg(a);  // S_MIN / -1 wraps to S_MIN, as 0 - S_MIN does
    // Exact quotients; for a fixed divisor sign, x / d is monotone in x and in d, so corners bound each part.
    i128 lo = 0;
    i128 hi = 0;
    bool any = false;
    auto take = [&](i128 v) {
        lo = any ? std::min(lo, v) : v;
        hi = any ? std::max(hi, v) : v;
        any = true;
    };
    if (b.smin <= 0 && b.smax >= 0) take(0);
    auto corners = [&](i128 d1, i128 d2) {
        take(i128{a.smin} / d1);
        take(i128{a.smin} / d2);
        take(i128{a.smax} / d1);
        take(i128{a.smax} / d2);
    };
    if (b.smax >= 1) corners(std::max<i128>(b.smin, 1), b.smax);
    if (b.smin <= -1) corners(b.smin, std::min<i128>(b.smax, -1));
    View<U> r = full_view<U>();
    // Only S_MIN / -1 exceeds S_MAX (it wraps to S_MIN); then keep the whole signed range.
    if (hi <= std::numeric_limits<S>::max()) {
        r.smin = static_cast<S>(lo);
        r.smax = static_cast<S>(hi);
    }
    u_from_s(r);
    return r;
}

template <class U>
View<U> alu_smod(const View<U>& a, const View<U>& b) {
    using S = std::make_signed_t<U>;
    if (b.smin == 0 && b.smax == 0) return a;
    if (is_const_view(a) && is_const_view(b) && const_value(b) != 0) {
        const auto x = static_cast<S>(const_value(a));
        const auto d = static_cast<S>(const_value(b));
        return const_view<U>(d == -1 ? 0 : static_cast<U>(x % d));  // S_MIN % -1 would trap in C++
    }
    // |x s% d| < |d| and <= |x|, and the result has the sign of x (or is 0).
    i128 max_mag = 0;
    i128 min_mag = i128{1} << kBits<U>;
    if (b.smax >= 1) {
        max_mag = std::max<i128>(max_mag, b.smax);
        min_mag = std::min<i128>(min_mag, std::max<i128>(b.smin, 1));
    }
    if (b.smin <= -1) {
        max_mag = std::max<i128>(max_mag, -i128{b.smin});
        min_mag = std::min<i128>(min_mag, -std::min<i128>(b.smax, -1));
    }
    const i128 max_abs_x = std::max(-i128{a.smin}, i128{a.smax});
    if (max_abs_x < min_mag) return a;  // |x| < |d|: x s% d == x (and a zero divisor keeps x too)
    View<U> r = full_view<U>();
    r.smin = static_cast<S>(a.smin >= 0 ? i128{0} : std::max<i128>(a.smin, 1 - max_mag));
    r.smax = static_cast<S>(a.smax <= 0 ? i128{0} : std::min<i128>(a.smax, max_mag - 1));
    u_from_s(r);
    if (b.smin <= 0 && b.smax >= 0) r = join_view(r, a);
    return r;
}

// ---- assembling Scalars ----

/// The Scalar whose 64 bits are r; r32, if known, bounds the low half.
Scalar result64(const View<u64>& r, const std::optional<View<u32>>& r32) {
    Scalar s = Scalar::unknown();
    detail::assign_view(s, r);
    if (r32) {
        View<u32> low = *r32;
        const Tnum sub = tnum_subreg(r.t);
        low.t = tnum_overlaps(sub, low.t) ? tnum_intersect(sub, low.t) : sub;
        detail::assign_view(s, low);
    }
    s.sync();
    return s;
}

/// The zero-extension of the 32-bit result r.
Scalar result32(const View<u32>& r) {
    Scalar s = Scalar::unknown();
    s.var_off = tnum_subreg(r.t);
    detail::assign_view(s, r);
    s.umin = r.umin;
    s.umax = r.umax;
    s.smin = r.umin;
    s.smax = r.umax;
    s.sync();
    return s;
}

/// An operation whose low 32 bits depend only on the operands' low 32 bits: the 64-bit form also gets 32-bit bounds.
template <class F>
Scalar low_bits_op(bool is64, const Scalar& dst, const Scalar& src, F f) {
    const View<u32> r32 = f(view_of<u32>(dst), view_of<u32>(src));
    if (!is64) return result32(r32);
    return result64(f(view_of<u64>(dst), view_of<u64>(src)), r32);
}

/// An operation on whole registers of the instruction's width.
template <class F>
Scalar width_op(bool is64, const Scalar& dst, const Scalar& src, F f) {
    if (!is64) return result32(f(view_of<u32>(dst), view_of<u32>(src)));
    return result64(f(view_of<u64>(dst), view_of<u64>(src)), std::nullopt);
}

// ---- truncation and sign extension ----

/// The low `w` (8, 16, 32) bits of a Scalar: their tnum and their unsigned and signed (w-bit) ranges, each
/// derived from every view that constrains them.
struct LowView {
    Tnum t;
    u64 umin;
    u64 umax;
    s64 smin;
    s64 smax;
};

s64 sext(u64 v, unsigned w) {
    const unsigned sh = 64 - w;
    return static_cast<s64>(v << sh) >> sh;
}

/// Meets `lv` with the low bits of the cyclic interval lo .. lo + span (see low_ranges in scalar.cpp).
void meet_low(LowView& lv, u64 lo, u64 span, unsigned w) {
    const u64 m = (u64{1} << w) - 1;
    const u64 h = u64{1} << (w - 1);
    if (span >= m) return;
    const u64 a = lo & m;
    const u64 b = (lo + span) & m;
    if (a <= b) {
        lv.umin = std::max(lv.umin, a);
        lv.umax = std::min(lv.umax, b);
        if (!(a < h && b >= h)) {
            lv.smin = std::max(lv.smin, sext(a, w));
            lv.smax = std::min(lv.smax, sext(b, w));
        }
    } else if (a >= h && b < h) {
        lv.smin = std::max(lv.smin, sext(a, w));
        lv.smax = std::min(lv.smax, static_cast<s64>(b));
    }
}

LowView low_view(const Scalar& s, unsigned w) {
    const u64 m = (u64{1} << w) - 1;
    const u64 h = u64{1} << (w - 1);
    LowView lv{tnum_cast(s.var_off, static_cast<std::uint8_t>(w / 8)), 0, m, -static_cast<s64>(h),
               static_cast<s64>(h - 1)};
    meet_low(lv, s.umin, s.umax - s.umin, w);
    meet_low(lv, static_cast<u64>(s.smin), static_cast<u64>(s.smax) - static_cast<u64>(s.smin), w);
    const auto s32lo = static_cast<u64>(static_cast<s64>(s.s32_min));
    const auto s32span = static_cast<u64>(static_cast<s64>(s.s32_max) - s.s32_min);
    if (w == 32) {
        lv.umin = std::max<u64>(lv.umin, s.u32_min);
        lv.umax = std::min<u64>(lv.umax, s.u32_max);
        lv.smin = std::max<s64>(lv.smin, s.s32_min);
        lv.smax = std::min<s64>(lv.smax, s.s32_max);
    } else {
        meet_low(lv, s.u32_min, u64{s.u32_max} - s.u32_min, w);
        meet_low(lv, s32lo, s32span, w);
    }
    lv.umin = std::max(lv.umin, lv.t.value);
    lv.umax = std::min(lv.umax, lv.t.umax());
    lv.smin = std::max(lv.smin, sext(lv.t.value | (lv.t.mask & h), w));
    lv.smax = std::min(lv.smax, sext(lv.t.value | (lv.t.mask & (h - 1)), w));
    // An unsigned range within one sign half is also a signed one.
    if ((lv.umin < h) == (lv.umax < h) && lv.umin <= lv.umax) {
        lv.smin = std::max(lv.smin, sext(lv.umin, w));
        lv.smax = std::min(lv.smax, sext(lv.umax, w));
    }
    return lv;
}

/// The tnum of the low `w` bits sign-extended to 64 bits.
Tnum sext_tnum(Tnum low, unsigned w) {
    const u64 m = (u64{1} << w) - 1;
    const u64 h = u64{1} << (w - 1);
    if ((low.mask & h) != 0) return {low.value, low.mask | ~m};
    if ((low.value & h) != 0) return {low.value | ~m, low.mask};
    return low;
}

Scalar mov32(const Scalar& src) { return result32(view_of<u32>(src)); }

/// movsx: sign-extend the low `w` bits into 64 bits (is64) or into 32 bits then zero-extend.
Scalar movsx(bool is64, unsigned w, const Scalar& src) {
    const s64 h = s64{1} << (w - 1);
    if (!is64 && w >= 32) return mov32(src);  // sign-extending 32 bits into 32 bits is the identity
    if (is64 && src.smin >= -h && src.smax < h) return src;
    if (!is64 && src.s32_min >= -h && src.s32_max < h) return mov32(src);
    const LowView lv = low_view(src, w);
    const Tnum ext = sext_tnum(lv.t, w);
    if (is64) {
        Scalar s = Scalar::unknown();
        s.var_off = ext;
        s.smin = lv.smin;
        s.smax = lv.smax;
        s.sync();
        return s;
    }
    View<u32> r = full_view<u32>();
    r.t = tnum_subreg(ext);
    r.smin = static_cast<s32>(lv.smin);
    r.smax = static_cast<s32>(lv.smax);
    u_from_s(r);
    return result32(r);
}

unsigned movsx_width(AluOp op) {
    switch (op) {
        case AluOp::MovSx8: return 8;
        case AluOp::MovSx16: return 16;
        default: return 32;
    }
}

}  // namespace

Scalar scalar_alu(AluOp op, bool is64, const Scalar& dst, const Scalar& src) {
    switch (op) {
        case AluOp::Add: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_add(a, b); });
        case AluOp::Sub: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_sub(a, b); });
        case AluOp::Mul: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_mul(a, b); });
        case AluOp::And: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_and(a, b); });
        case AluOp::Or: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_or(a, b); });
        case AluOp::Xor: return low_bits_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_xor(a, b); });
        case AluOp::Neg: return low_bits_op(is64, dst, src, [](const auto& a, const auto&) { return alu_neg(a); });
        case AluOp::Div: return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_div(a, b); });
        case AluOp::Mod: return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_mod(a, b); });
        case AluOp::SDiv: return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_sdiv(a, b); });
        case AluOp::SMod: return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_smod(a, b); });
        case AluOp::Rsh:
            return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_rsh(a, shift_amounts(b)); });
        case AluOp::Arsh:
            return width_op(is64, dst, src, [](const auto& a, const auto& b) { return alu_arsh(a, shift_amounts(b)); });
        case AluOp::Lsh: {
            if (!is64) return result32(alu_lsh(view_of<u32>(dst), shift_amounts(view_of<u32>(src))));
            // The low half of x << k (k < 32) is the 32-bit shift of x's low half; k >= 32 leaves it 0.
            const ShiftAmounts sh = shift_amounts(view_of<u64>(src));
            std::optional<View<u32>> r32;
            if (sh.kmax < 32) r32 = alu_lsh(view_of<u32>(dst), sh);
            View<u64> r = alu_lsh(view_of<u64>(dst), sh);
            if (sh.kmin >= 32) {
                // Only the low half survives a shift by 32 or more, and (x << k) = sext32(x) * 2^k mod 2^64: the
                // 32-bit bounds give the result's bounds (the kernel's "<< 32" special case, for any such k).
                const View<u32> low = view_of<u32>(dst);
                r = meet_view(r, alu_lsh(View<u64>{low.t, low.smin, low.smax, low.umin, low.umax}, sh));
            }
            return result64(r, r32);
        }
        case AluOp::Mov: return is64 ? src : mov32(src);
        case AluOp::MovSx8:
        case AluOp::MovSx16:
        case AluOp::MovSx32: return movsx(is64, movsx_width(op), src);
    }
    return Scalar::unknown();
}

Scalar scalar_endian(EndianOp op, std::uint8_t width, const Scalar& dst) {
    // xbpf runs on little-endian hosts (as the interpreter assumes): ToLe truncates, ToBe and Swap swap bytes.
    if (op == EndianOp::ToLe) {
        if (width >= 64) return dst;
        const LowView lv = low_view(dst, width);
        Scalar s = Scalar::unknown();
        s.var_off = lv.t;
        s.umin = lv.umin;
        s.umax = lv.umax;
        s.sync();
        return s;
    }
    Scalar s = Scalar::unknown();
    s.var_off = tnum_bswap(dst.var_off, width);
    s.sync();
    return s;
}

}  // namespace xbpf::verifier
