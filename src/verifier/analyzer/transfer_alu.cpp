// ALU instructions: scalar transfer functions (domains/scalar.hpp) and the kernel's pointer arithmetic rules
// (adjust_ptr_min_max_vals, check_alu_op).
#include <fmt/format.h>

#include "verifier/analyzer/analyzer.hpp"

namespace xbpf::verifier {

using isa::Op;
using isa::Shape;

namespace {

/// Pointers may move at most this far (the kernel's BPF_MAX_VAR_OFF).
constexpr std::int64_t kMaxVarOff = 1 << 29;

std::optional<AluOp> alu_op_of(const isa::OpInfo& info) {
    const auto& t = info.text;
    if (info.shape == Shape::Neg) return AluOp::Neg;
    if (info.shape == Shape::MovSx) {
        if (info.width == 8) return AluOp::MovSx8;
        if (info.width == 16) return AluOp::MovSx16;
        return AluOp::MovSx32;
    }
    if (t == "+=") return AluOp::Add;
    if (t == "-=") return AluOp::Sub;
    if (t == "*=") return AluOp::Mul;
    if (t == "/=") return AluOp::Div;
    if (t == "s/=") return AluOp::SDiv;
    if (t == "%=") return AluOp::Mod;
    if (t == "s%=") return AluOp::SMod;
    if (t == "|=") return AluOp::Or;
    if (t == "&=") return AluOp::And;
    if (t == "<<=") return AluOp::Lsh;
    if (t == ">>=") return AluOp::Rsh;
    if (t == "s>>=") return AluOp::Arsh;
    if (t == "^=") return AluOp::Xor;
    if (t == "=") return AluOp::Mov;
    return std::nullopt;
}

const char* op_text(AluOp op) {
    switch (op) {
        case AluOp::Add: return "+=";
        case AluOp::Sub: return "-=";
        case AluOp::Mul: return "*=";
        case AluOp::Div: return "/=";
        case AluOp::SDiv: return "s/=";
        case AluOp::Mod: return "%=";
        case AluOp::SMod: return "s%=";
        case AluOp::Or: return "|=";
        case AluOp::And: return "&=";
        case AluOp::Lsh: return "<<=";
        case AluOp::Rsh: return ">>=";
        case AluOp::Arsh: return "s>>=";
        case AluOp::Xor: return "^=";
        case AluOp::Mov: return "=";
        case AluOp::MovSx8:
        case AluOp::MovSx16:
        case AluOp::MovSx32: return "=(s)";
        case AluOp::Neg: return "neg";
    }
    return "?";
}

/// check_reg_sane_offset: `v` (the offset operand, or with !is_operand the result's variable offset) of pointer
/// `ptr` (in r`preg`, result in r`d`) must have a known minimum within ±2^29; the maximum is not bounded here.
Status check_sane_offset(const Scalar& v, const RegState& ptr, int preg, int d, int off_reg, bool is_operand) {
    const std::string type = type_name(ptr);
    if (v.is_const() &&
        (static_cast<std::int64_t>(v.value()) >= kMaxVarOff || static_cast<std::int64_t>(v.value()) <= -kMaxVarOff))
        return std::unexpected(Failure{
            fmt::format("math between {} pointer and {} is not allowed", type, static_cast<std::int64_t>(v.value())),
            fmt::format("the offset would leave the range the verifier tracks (±{})", kMaxVarOff),
            {d}});
    if (v.smin == std::numeric_limits<std::int64_t>::min())
        return std::unexpected(Failure{
            fmt::format("math between {} pointer and register with unbounded min value is not allowed", type),
            is_operand ? fmt::format("the value added to r{} may be any negative number ({}); bound it first, e.g. "
                                     "with 'if (x < N)' or 'x &= N-1'",
                                     preg, v.to_string())
                       : fmt::format("the variable offset of r{} would have no lower bound ({})", d, v.to_string()),
            {d, off_reg}});
    if (v.smin >= kMaxVarOff || v.smin <= -kMaxVarOff)
        return std::unexpected(
            Failure{fmt::format("value {} makes {} pointer be out of bounds", v.smin, type),
                    is_operand ? fmt::format("the value added to r{} is at least {}, beyond the ±{} a pointer may move",
                                             preg, v.smin, kMaxVarOff)
                               : fmt::format("the pointer's variable offset would be at least {}, beyond the ±{} the "
                                             "verifier tracks",
                                             v.smin, kMaxVarOff),
                    {d, off_reg}});
    return {};
}

}  // namespace

Status Analyzer::check_alu(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    const auto& info = isa::info(insn.op);
    auto regs = [&]() -> auto& { return st.cur().regs; };
    const int d = insn.dst;
    const bool is64 = !isa::is_32bit(insn.op);
    if (auto w = check_reg_write(d); !w) return w;
    RegState& dst = regs()[static_cast<std::size_t>(d)];

    if (info.shape == Shape::Endian) {
        if (auto r = check_reg_read(st, d); !r) return r;
        if (dst.is_pointer()) {
            if (!options_.privileged)
                return std::unexpected(Failure{fmt::format("R{} pointer arithmetic prohibited", d),
                                               fmt::format("r{} holds a pointer; byte-swapping it would expose the "
                                                           "address",
                                                           d),
                                               {d}});
            dst = RegState::unknown(pc);
        }
        EndianOp eop = info.text == "le" ? EndianOp::ToLe : info.text == "be" ? EndianOp::ToBe : EndianOp::Swap;
        dst.var = scalar_endian(eop, info.width, dst.var);
        dst.id = 0;
        dst.origin = pc;
        return {};
    }

    auto op = alu_op_of(info);
    if (!op) return std::unexpected(Failure{"unknown ALU operation", "", {}});

    // Source operand.
    RegState imm_reg;
    const RegState* src = nullptr;
    if (info.shape == Shape::AluReg || info.shape == Shape::MovSx) {
        if (auto r = check_reg_read(st, insn.src); !r) return r;
        src = &regs()[insn.src];
    } else if (info.shape == Shape::AluImm) {
        // 64-bit forms sign-extend the immediate; 32-bit forms use its 32 bits.
        std::uint64_t v = is64 ? static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))
                               : static_cast<std::uint32_t>(insn.imm);
        imm_reg = RegState::constant(v, pc);
        src = &imm_reg;
        if ((*op == AluOp::Div || *op == AluOp::Mod || *op == AluOp::SDiv || *op == AluOp::SMod) && insn.imm == 0)
            return std::unexpected(Failure{"div by zero",
                                           "the divisor is the constant 0; RFC 9669 defines the result, but the "
                                           "kernel refuses it as a certain mistake",
                                           {}});
        if ((*op == AluOp::Lsh || *op == AluOp::Rsh || *op == AluOp::Arsh) &&
            (insn.imm < 0 || insn.imm >= (is64 ? 64 : 32)))
            return std::unexpected(
                Failure{fmt::format("invalid shift {}", insn.imm),
                        fmt::format("a {}-bit shift by {} is out of range", is64 ? 64 : 32, insn.imm),
                        {}});
    }

    // Moves only write.
    if (*op == AluOp::Mov) {
        if (src->is_pointer() || src->kind == RegKind::NotInit) {
            if (is64) {
                dst = *src;
                return {};
            }
            if (!options_.privileged)
                return std::unexpected(Failure{fmt::format("R{} partial copy of pointer", insn.src),
                                               fmt::format("a 32-bit move of the pointer in r{} would expose part "
                                                           "of its address",
                                                           insn.src),
                                               {insn.src}});
            dst = RegState::scalar(Scalar::of_size(4), pc);
            return {};
        }
        if (is64) {
            if (src != &imm_reg && !src->var.is_const() && src->id == 0) {
                // Link the copies: a later comparison of one refines both (the kernel's scalar ids).
                regs()[insn.src].id = new_id();
            }
            dst = *src;
            if (src == &imm_reg) dst.origin = pc;
            return {};
        }
        dst = RegState::scalar(scalar_alu(AluOp::Mov, false, Scalar::constant(0), src->var), pc);
        // A 32-bit copy is the same value when the upper half is known zero: keep the link then.
        if (src != &imm_reg && src->var.umax <= 0xffffffffu && !src->var.is_const()) {
            if (regs()[insn.src].id == 0) regs()[insn.src].id = new_id();
            dst.id = regs()[insn.src].id;
        }
        return {};
    }
    if (*op == AluOp::MovSx8 || *op == AluOp::MovSx16 || *op == AluOp::MovSx32) {
        if (src->is_pointer()) {
            if (!options_.privileged)
                return std::unexpected(Failure{fmt::format("R{} sign-extension of pointer", insn.src),
                                               "sign-extending a pointer would expose part of its address",
                                               {insn.src}});
            dst = RegState::scalar(scalar_alu(*op, is64, Scalar::constant(0), Scalar::unknown()), pc);
            return {};
        }
        dst = RegState::scalar(scalar_alu(*op, is64, Scalar::constant(0), src->var), pc);
        return {};
    }

    if (auto r = check_reg_read(st, d); !r) return r;
    if (*op == AluOp::Neg) {
        if (dst.is_pointer()) {
            if (!options_.privileged)
                return std::unexpected(Failure{fmt::format("R{} pointer arithmetic prohibited", d),
                                               "negating a pointer would expose its address",
                                               {d}});
            dst = RegState::unknown(pc);
        }
        dst.var = scalar_alu(AluOp::Neg, is64, dst.var, Scalar::constant(0));
        dst.id = 0;
        dst.origin = pc;
        return {};
    }

    if (!dst.is_pointer() && !src->is_pointer()) {
        dst.var = scalar_alu(*op, is64, dst.var, src->var);
        dst.id = 0;
        dst.origin = pc;
        return {};
    }
    if (dst.is_pointer() && src->is_pointer()) {
        if (*op == AluOp::Sub && options_.privileged) {
            // The distance between two pointers is a number the program may use (privileged only).
            dst = is64 ? RegState::unknown(pc) : RegState::scalar(Scalar::of_size(4), pc);
            return {};
        }
        return std::unexpected(
            Failure{fmt::format("R{} pointer {} pointer prohibited", d, op_text(*op)),
                    fmt::format("r{} ({}) and r{} ({}) are both pointers; only privileged programs may subtract them",
                                d, type_name(dst), insn.src, type_name(*src)),
                    {d, insn.src}});
    }
    if (dst.is_pointer()) {
        RegState ptr = dst;
        return check_pointer_alu(st, insn, pc, dst, ptr, *src, true);
    }
    RegState ptr = *src;
    RegState off = dst;
    return check_pointer_alu(st, insn, pc, dst, ptr, off, false);
}

Status Analyzer::check_pointer_alu(State& st, const isa::Instruction& insn, std::uint32_t pc, RegState& dst,
                                   const RegState& ptr, const RegState& off, bool ptr_is_dst) {
    (void)st;
    const auto& info = isa::info(insn.op);
    const int d = insn.dst;
    const int preg = ptr_is_dst ? insn.dst : insn.src;
    auto op = alu_op_of(info);
    const bool is64 = !isa::is_32bit(insn.op);
    if (!is64) {
        if (*op == AluOp::Sub && options_.privileged) {
            dst = RegState::scalar(Scalar::of_size(4), pc);
            return {};
        }
        return std::unexpected(Failure{fmt::format("R{} 32-bit pointer arithmetic prohibited", d),
                                       fmt::format("r{} holds a pointer ({}); pointer arithmetic must use 64-bit "
                                                   "instructions",
                                                   preg, type_name(ptr)),
                                       {d}});
    }
    if (ptr.maybe_null)
        return std::unexpected(Failure{
            fmt::format("R{} pointer arithmetic on {} prohibited, null-check it first", d, type_name(ptr)),
            fmt::format("r{} may be NULL: it comes from {} and is used without a check", preg, origin_text(ptr)),
            {d}});
    bool allowed = true;
    switch (ptr.kind) {
        case RegKind::Ctx:
        case RegKind::Stack:
        case RegKind::MapValue:
        case RegKind::MapKey:
        case RegKind::Packet:
        case RegKind::PacketMeta:
        case RegKind::Mem:
        case RegKind::BtfPtr:
        case RegKind::Func: break;
        case RegKind::MapPtr: allowed = off.is_const() && off.var.value() == 0 && *op == AluOp::Add; break;
        default: allowed = false; break;
    }
    if (!allowed)
        return std::unexpected(
            Failure{fmt::format("R{} pointer arithmetic on {} prohibited", d, type_name(ptr)),
                    fmt::format("r{} is a {} pointer, which programs may compare but not move", preg, type_name(ptr)),
                    {d}});
    switch (*op) {
        case AluOp::Add: break;
        case AluOp::Sub:
            if (!ptr_is_dst)
                return std::unexpected(Failure{fmt::format("R{} tried to subtract pointer from scalar", d),
                                               "a number minus a pointer is not a pointer the verifier can track",
                                               {d}});
            if (ptr.kind == RegKind::Stack && !off.is_const())
                return std::unexpected(Failure{fmt::format("R{} subtraction from stack pointer prohibited", d),
                                               "a variable amount may not be subtracted from a stack pointer",
                                               {d}});
            break;
        case AluOp::And:
        case AluOp::Or:
        case AluOp::Xor:
            return std::unexpected(
                Failure{fmt::format("R{} bitwise operator {} on pointer prohibited", d, op_text(*op)),
                        fmt::format("r{} holds a pointer ({}); only + and - may change it", preg, type_name(ptr)),
                        {d}});
        default:
            return std::unexpected(
                Failure{fmt::format("R{} pointer arithmetic with {} operator prohibited", d, op_text(*op)),
                        fmt::format("r{} holds a pointer ({}); only + and - may change it", preg, type_name(ptr)),
                        {d}});
    }
    if (off.kind != RegKind::Scalar) return std::unexpected(Failure{"pointer arithmetic with a non-scalar", "", {d}});
    const Scalar& v = off.var;
    RegState result = ptr;
    result.origin = ptr.origin;
    if (v.is_const()) {
        auto c = static_cast<std::int64_t>(v.value());
        std::int64_t new_off =
            *op == AluOp::Add ? static_cast<std::int64_t>(ptr.off) + c : static_cast<std::int64_t>(ptr.off) - c;
        if (c >= kMaxVarOff || c <= -kMaxVarOff || new_off >= kMaxVarOff || new_off <= -kMaxVarOff)
            return std::unexpected(
                Failure{fmt::format("math between {} pointer and {} is not allowed", type_name(ptr), c),
                        fmt::format("the offset would leave the range the verifier tracks "
                                    "(±{})",
                                    kMaxVarOff),
                        {d}});
        result.off = static_cast<std::int32_t>(new_off);
    } else {
        // check_reg_sane_offset on the offset register, then on the result: only the minimum is bounded here (a
        // pointer may have an unbounded maximum; accesses through it are refused as "unbounded memory access").
        if (auto bad = check_sane_offset(v, ptr, preg, d, ptr_is_dst ? insn.src : insn.dst, true); !bad)
            return std::unexpected(std::move(bad.error()));
        // Unprivileged programs (sanitize_ptr_alu, for !bypass_spec_v1): an offset of both signs cannot be masked.
        const bool sanitized = ptr.kind == RegKind::MapValue || ptr.kind == RegKind::Stack;
        if (!options_.privileged && sanitized && (v.smin < 0) != (v.smax < 0)) {
            const int oreg = ptr_is_dst ? insn.src : insn.dst;
            return std::unexpected(Failure{
                fmt::format("R{} has unknown scalar with mixed signed bounds, pointer arithmetic with it prohibited "
                            "for !root",
                            oreg),
                fmt::format("r{} may be negative or positive ({}); unprivileged programs may only move pointers by "
                            "offsets of one sign",
                            oreg, v.to_string()),
                {oreg}});
        }
        result.var = scalar_alu(*op, true, ptr.var, v);
        if (auto bad = check_sane_offset(result.var, ptr, preg, d, d, false); !bad)
            return std::unexpected(std::move(bad.error()));
        // Unprivileged programs (sanitize_check_bounds, for !bypass_spec_v1): a map value pointer must stay
        // inside the value; xbpf checks the case where its maximum is unbounded.
        if (!options_.privileged && ptr.kind == RegKind::MapValue &&
            result.var.umax >= static_cast<std::uint64_t>(kMaxVarOff))
            return std::unexpected(
                Failure{fmt::format("R{} pointer arithmetic of map value goes out of range, prohibited for !root", d),
                        fmt::format("r{} may move past the map value by up to {} bytes; unprivileged programs may "
                                    "not form such pointers",
                                    d, result.var.umax),
                        {d}});
        if (ptr.kind == RegKind::Packet || ptr.kind == RegKind::PacketMeta) {
            // A new variable part: nothing is known about the new pointer's range.
            result.id = new_id();
            result.mem_size = 0;
        }
    }
    dst = result;
    return {};
}

}  // namespace xbpf::verifier
