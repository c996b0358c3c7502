// Tristate numbers: the kernel's kernel/bpf/tnum.c, rewritten. Each operation's soundness argument is stated next to
// it; tests/unit/verifier/tnum_test.cpp checks every one exhaustively over 4 unknown bits and a few upper patterns.
#include "verifier/domains/tnum.hpp"

#include <bit>

#include <fmt/format.h>

namespace xbpf::verifier {

namespace {

using u64 = std::uint64_t;
using s64 = std::int64_t;
using u32 = std::uint32_t;
using s32 = std::int32_t;

constexpr u64 kLow32 = 0xffff'ffffULL;

constexpr Tnum make(u64 value, u64 mask) { return Tnum{value & ~mask, mask}; }

}  // namespace

Tnum Tnum::range(u64 min, u64 max) {
    // Every value of [min, max] agrees with min on the bits above the highest bit where min and max differ; all bits
    // from that one down are unknown. An empty range (min > max) claims nothing.
    if (min > max) return unknown();
    const u64 chi = min ^ max;
    if (chi == 0) return constant(min);
    const int bits = std::bit_width(chi);
    if (bits >= 64) return unknown();
    const u64 delta = (u64{1} << bits) - 1;
    return make(min & ~delta, delta);
}

std::string Tnum::to_string() const {
    if (is_const()) return fmt::format("{:#x}", value);
    return fmt::format("({:#x}; {:#x})", value, mask);
}

// Shifting by 64 or more moves every bit out: the result is the constant 0 (callers mask shift amounts first; this
// only keeps the functions total).
Tnum tnum_lshift(Tnum a, std::uint8_t shift) {
    if (shift >= 64) return Tnum::constant(0);
    return {a.value << shift, a.mask << shift};
}

Tnum tnum_rshift(Tnum a, std::uint8_t shift) {
    if (shift >= 64) return Tnum::constant(0);
    return {a.value >> shift, a.mask >> shift};
}

Tnum tnum_arshift(Tnum a, std::uint8_t shift, std::uint8_t insn_bitness) {
    // The sign bit of `mask` replicates as "unknown", the sign bit of `value` as its known value; a shift past the
    // width acts like width - 1 (every bit becomes a copy of the sign bit).
    if (insn_bitness == 32) {
        const unsigned s = shift > 31 ? 31 : shift;
        const u32 v = static_cast<u32>(static_cast<s32>(static_cast<u32>(a.value)) >> s);
        const u32 m = static_cast<u32>(static_cast<s32>(static_cast<u32>(a.mask)) >> s);
        return {v, m};
    }
    const unsigned s = shift > 63 ? 63 : shift;
    return {static_cast<u64>(static_cast<s64>(a.value) >> s), static_cast<u64>(static_cast<s64>(a.mask) >> s)};
}

Tnum tnum_add(Tnum a, Tnum b) {
    // sv is the sum with every unknown bit 0, sigma the sum with every unknown bit 1; a bit where they differ may be
    // reached by a carry, so it is unknown, as is every bit unknown in an operand.
    const u64 sm = a.mask + b.mask;
    const u64 sv = a.value + b.value;
    const u64 sigma = sm + sv;
    const u64 chi = sigma ^ sv;
    const u64 mu = chi | a.mask | b.mask;
    return make(sv, mu);
}

Tnum tnum_sub(Tnum a, Tnum b) {
    // alpha is the largest difference (a's unknown bits 1, b's 0), beta the smallest; bits where they differ may be
    // touched by a borrow.
    const u64 dv = a.value - b.value;
    const u64 alpha = dv + a.mask;
    const u64 beta = dv - b.mask;
    const u64 chi = alpha ^ beta;
    const u64 mu = chi | a.mask | b.mask;
    return make(dv, mu);
}

Tnum tnum_neg(Tnum a) { return tnum_sub(Tnum::constant(0), a); }

Tnum tnum_and(Tnum a, Tnum b) {
    // A result bit is known 1 when both are known 1, may be 1 when both may be 1, else it is known 0.
    const u64 alpha = a.value | a.mask;
    const u64 beta = b.value | b.mask;
    const u64 v = a.value & b.value;
    return {v, alpha & beta & ~v};
}

Tnum tnum_or(Tnum a, Tnum b) {
    const u64 v = a.value | b.value;
    const u64 mu = a.mask | b.mask;
    return {v, mu & ~v};
}

Tnum tnum_xor(Tnum a, Tnum b) {
    const u64 v = a.value ^ b.value;
    const u64 mu = a.mask | b.mask;
    return make(v, mu);
}

Tnum tnum_mul(Tnum a, Tnum b) {
    // Long multiplication over a's bits, low to high (the kernel's tnum_mul since 6.17, after Vishwanathan et al.):
    // a known-1 bit adds the shifted b; an unknown bit adds either 0 or b, so the accumulator becomes the union of
    // both partial sums. Every partial accumulator holds every concrete partial product.
    Tnum acc = Tnum::constant(0);
    while (a.value != 0 || a.mask != 0) {
        if ((a.value & 1) != 0) {
            acc = tnum_add(acc, b);
        } else if ((a.mask & 1) != 0) {
            acc = tnum_union(acc, tnum_add(acc, b));
        }
        a = tnum_rshift(a, 1);
        b = tnum_lshift(b, 1);
    }
    return acc;
}

Tnum tnum_intersect(Tnum a, Tnum b) {
    // Known in either means known in the meet. If a and b disagree on a bit known in both there is no common value;
    // the caller must have ruled that out (the analyzer's bounds code checks disjointness separately).
    const u64 v = a.value | b.value;
    const u64 mu = a.mask & b.mask;
    return make(v, mu);
}

bool tnum_overlaps(Tnum a, Tnum b) { return ((a.value ^ b.value) & ~a.mask & ~b.mask) == 0; }

Tnum tnum_cast(Tnum a, std::uint8_t size) {
    if (size >= 8) return a;
    const u64 keep = (u64{1} << (size * 8U)) - 1;
    return {a.value & keep, a.mask & keep};
}

Tnum tnum_subreg(Tnum a) { return tnum_cast(a, 4); }

Tnum tnum_clear_subreg(Tnum a) { return {a.value & ~kLow32, a.mask & ~kLow32}; }

Tnum tnum_with_subreg(Tnum a, Tnum b) { return tnum_or(tnum_clear_subreg(a), tnum_subreg(b)); }

Tnum tnum_const_subreg(Tnum a, std::uint32_t v) { return tnum_with_subreg(a, Tnum::constant(v)); }

Tnum tnum_bswap(Tnum a, std::uint8_t width) {
    // Every bit keeps its known/unknown state; only its position moves, so value and mask swap alike.
    switch (width) {
        case 16:
            return {__builtin_bswap16(static_cast<std::uint16_t>(a.value)),
                    __builtin_bswap16(static_cast<std::uint16_t>(a.mask))};
        case 32: return {__builtin_bswap32(static_cast<u32>(a.value)), __builtin_bswap32(static_cast<u32>(a.mask))};
        default: return {__builtin_bswap64(a.value), __builtin_bswap64(a.mask)};
    }
}

Tnum tnum_union(Tnum a, Tnum b) {
    // A bit stays known only if it is known, and equal, in both.
    const u64 v = a.value & b.value;
    const u64 mu = (a.value ^ b.value) | a.mask | b.mask;
    return make(v, mu);
}

}  // namespace xbpf::verifier
