// Tristate numbers ("tnums"): the known-bits abstract domain of the Linux verifier (kernel/bpf/tnum.c).
// A tnum (value, mask) stands for every 64-bit x with (x & ~mask) == value: bits set in `mask` are unknown, the
// others equal the bits of `value`. Invariant: (value & mask) == 0. Every operation is sound: for each concrete x in
// a and y in b, op(x, y) is in op(a, b). References: Vishwanathan et al., "Sound, Precise, and Fast Abstract
// Interpretation with Tristate Numbers" (CGO 2022), whose tnum_mul the kernel uses.
#pragma once

#include <cstdint>
#include <string>

namespace xbpf::verifier {

/// A tristate number; see the file comment.
struct Tnum {
    std::uint64_t value = 0;
    std::uint64_t mask = 0;

    friend bool operator==(const Tnum&, const Tnum&) = default;

    /// The single value v.
    static constexpr Tnum constant(std::uint64_t v) { return {v, 0}; }
    /// Every 64-bit value.
    static constexpr Tnum unknown() { return {0, ~std::uint64_t{0}}; }
    /// The smallest tnum holding every value of [min, max] (tnum_range).
    static Tnum range(std::uint64_t min, std::uint64_t max);

    [[nodiscard]] constexpr bool is_const() const { return mask == 0; }
    [[nodiscard]] constexpr bool is_unknown() const { return mask == ~std::uint64_t{0}; }
    /// True if the concrete value x is in this tnum.
    [[nodiscard]] constexpr bool contains(std::uint64_t x) const { return (x & ~mask) == value; }
    /// True if every value of `other` is in this tnum (the kernel's tnum_in(this, other)).
    [[nodiscard]] constexpr bool includes(const Tnum& other) const {
        return (other.mask & ~mask) == 0 && (other.value & ~mask) == value;
    }
    /// Smallest and largest unsigned values the tnum holds.
    [[nodiscard]] constexpr std::uint64_t umin() const { return value; }
    [[nodiscard]] constexpr std::uint64_t umax() const { return value | mask; }
    /// True if every value is a multiple of `size` (a power of two) (tnum_is_aligned).
    [[nodiscard]] constexpr bool is_aligned(std::uint64_t size) const {
        return size == 0 || ((value | mask) & (size - 1)) == 0;
    }
    /// "0x10" for constants, else the kernel log form "(0x0; 0xff)" (value; mask).
    [[nodiscard]] std::string to_string() const;
};

/// a << shift (shift < 64; 64 or more gives the constant 0).
Tnum tnum_lshift(Tnum a, std::uint8_t shift);
/// a >> shift, logical (shift < 64; 64 or more gives the constant 0).
Tnum tnum_rshift(Tnum a, std::uint8_t shift);
/// Arithmetic right shift of the low `insn_bitness` (32 or 64) bits, sign bit replicated (tnum_arshift).
Tnum tnum_arshift(Tnum a, std::uint8_t shift, std::uint8_t insn_bitness);
/// a + b modulo 2^64.
Tnum tnum_add(Tnum a, Tnum b);
/// a - b modulo 2^64.
Tnum tnum_sub(Tnum a, Tnum b);
/// 0 - a modulo 2^64.
Tnum tnum_neg(Tnum a);
/// a & b.
Tnum tnum_and(Tnum a, Tnum b);
/// a | b.
Tnum tnum_or(Tnum a, Tnum b);
/// a ^ b.
Tnum tnum_xor(Tnum a, Tnum b);
/// a * b modulo 2^64.
Tnum tnum_mul(Tnum a, Tnum b);
/// Values in both a and b (assumes they share at least one; used after a branch refines a register).
Tnum tnum_intersect(Tnum a, Tnum b);
/// True if some value is in both a and b (no bit is known in both with different values). When false,
/// tnum_intersect(a, b) is meaningless.
bool tnum_overlaps(Tnum a, Tnum b);
/// Truncate to the low `size` bytes, upper bits known zero (tnum_cast).
Tnum tnum_cast(Tnum a, std::uint8_t size);
/// Low 32 bits only, upper known zero (tnum_subreg).
Tnum tnum_subreg(Tnum a);
/// Upper 32 bits of a, low 32 bits known zero (tnum_clear_subreg).
Tnum tnum_clear_subreg(Tnum a);
/// Upper 32 bits of a, low 32 bits from b's low 32 bits (tnum_with_subreg).
Tnum tnum_with_subreg(Tnum a, Tnum b);
/// Upper 32 bits of a, low 32 bits the constant v (tnum_const_subreg).
Tnum tnum_const_subreg(Tnum a, std::uint32_t v);
/// Byte swap of the low `width` bits (16, 32, 64), upper bits zero.
Tnum tnum_bswap(Tnum a, std::uint8_t width);
/// Smallest tnum holding every value of a and of b (used when states are joined).
Tnum tnum_union(Tnum a, Tnum b);

}  // namespace xbpf::verifier
