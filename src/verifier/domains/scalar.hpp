// Scalar abstract values: the numeric part of the kernel's struct bpf_reg_state. A Scalar stands for every 64-bit
// x that lies in the tnum `var_off`, in [smin, smax] as a signed 64-bit number, in [umin, umax] unsigned, and whose
// low 32 bits lie in [s32_min, s32_max] signed and [u32_min, u32_max] unsigned. The five views are kept consistent
// by sync() (the kernel's reg_bounds_sync: __update_reg_bounds, __reg_deduce_bounds, __reg_bound_offset).
//
// Every transfer function is sound: for every concrete operand in its inputs, the concrete result (RFC 9669
// semantics: division by zero gives 0, modulo by zero keeps the dividend, 32-bit operations zero-extend, shifts
// mask their amount) is in the abstract result. Refinement is sound: every concrete pair that satisfies the branch
// outcome survives. tests/unit/verifier checks both exhaustively over small value sets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "verifier/domains/tnum.hpp"

namespace xbpf::verifier {

/// See the file comment. Use the factories; a default-constructed Scalar is the constant 0.
struct Scalar {
    Tnum var_off = Tnum::constant(0);
    std::int64_t smin = 0;
    std::int64_t smax = 0;
    std::uint64_t umin = 0;
    std::uint64_t umax = 0;
    std::int32_t s32_min = 0;
    std::int32_t s32_max = 0;
    std::uint32_t u32_min = 0;
    std::uint32_t u32_max = 0;

    friend bool operator==(const Scalar&, const Scalar&) = default;

    /// Exactly v.
    static Scalar constant(std::uint64_t v);
    /// Any 64-bit value.
    static Scalar unknown();
    /// Any value of an unsigned (zero-extended) or signed (sign-extended) integer of `bytes` (1, 2, 4, 8) bytes:
    /// what a load of that size gives.
    static Scalar of_size(std::uint8_t bytes, bool is_signed = false);
    /// Every value in [min, max] unsigned.
    static Scalar unsigned_range(std::uint64_t min, std::uint64_t max);
    /// Every value in [min, max] signed.
    static Scalar signed_range(std::int64_t min, std::int64_t max);

    [[nodiscard]] bool is_const() const { return var_off.is_const(); }
    /// The value when is_const().
    [[nodiscard]] std::uint64_t value() const { return var_off.value; }
    /// True if the low 32 bits are a known constant.
    [[nodiscard]] bool is_const32() const;
    /// True if x satisfies all five views.
    [[nodiscard]] bool contains(std::uint64_t x) const;
    /// True if every value of `other` is in this Scalar (the kernel's range_within + tnum_in, used to prune:
    /// a state already proven safe covers `other`).
    [[nodiscard]] bool includes(const Scalar& other) const;
    /// A Scalar holding every value of either (used when states are joined at loop heads).
    [[nodiscard]] Scalar join(const Scalar& other) const;
    /// Restore consistency between the views (reg_bounds_sync). Every factory and operation already calls it.
    void sync();
    /// Kernel log form: constants as the kernel's verbose_snum prints them ("42", "-3"; hex such as "0x10000"
    /// outside the 16-bit range), else "scalar(smin=..,umax=..,var_off=(0x0; 0xff))" with only the bounds that say
    /// more than the tnum, equal minima (maxima) merged as in "smin=umin=1" (print_scalar_ranges).
    [[nodiscard]] std::string to_string() const;
};

/// ALU operations (RFC 9669 §4.1 and §4.2), the same for 64-bit and 32-bit forms.
enum class AluOp : std::uint8_t {
    Add,
    Sub,
    Mul,
    Div,
    SDiv,
    Mod,
    SMod,
    Or,
    And,
    Lsh,
    Rsh,
    Arsh,
    Xor,
    Mov,
    MovSx8,   ///< movsx from 8 bits (64-bit form: into 64 bits; 32-bit form: into 32 bits, then zero-extended)
    MovSx16,  ///< from 16 bits
    MovSx32,  ///< from 32 bits (64-bit form only)
    Neg,      ///< dst = -dst; src ignored
};

/// dst op src for the 64-bit form (`is64`) or the 32-bit form (operands' low 32 bits, result zero-extended).
Scalar scalar_alu(AluOp op, bool is64, const Scalar& dst, const Scalar& src);

/// Byte-order operations (RFC 9669 §4.3): to little-endian (a truncation on a little-endian host), to big-endian
/// (a swap), or the unconditional bswap; `width` is 16, 32 or 64; the result is zero-extended from `width` bits.
enum class EndianOp : std::uint8_t { ToLe, ToBe, Swap };
/// dst after the byte-order operation `op` of `width` bits (little-endian host: ToLe truncates).
Scalar scalar_endian(EndianOp op, std::uint8_t width, const Scalar& dst);

/// Conditional jump comparisons (RFC 9669 §4.4). `Set` is JSET: (a & b) != 0.
enum class CmpOp : std::uint8_t { Eq, Ne, Gt, Ge, Lt, Le, Sgt, Sge, Slt, Sle, Set };

/// The comparison that holds when `op` does not: Eq<->Ne, Gt<->Le, ...; nullopt for Set (no single opposite).
std::optional<CmpOp> negate(CmpOp op);
/// The comparison with operands swapped: a < b  <=>  b > a (Set and Eq/Ne map to themselves).
CmpOp swap_operands(CmpOp op);

/// Whether `a op b` (on the low 32 bits when `is32`) holds for every concrete pair (1), for none (0), or is
/// unknown (-1). The kernel's is_branch_taken.
int branch_taken(CmpOp op, bool is32, const Scalar& a, const Scalar& b);

/// a and b narrowed to the pairs for which `a op b` equals `outcome` (the kernel's reg_set_min_max /
/// regs_refine_cond_op). nullopt when no concrete pair can satisfy it: that side of the branch is dead.
/// a and b are treated as independent values; when both are the same register, the caller may meet the two results.
std::optional<std::pair<Scalar, Scalar>> refine_branch(CmpOp op, bool is32, bool outcome, const Scalar& a,
                                                       const Scalar& b);

}  // namespace xbpf::verifier
