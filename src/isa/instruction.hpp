// Raw (8-byte, as on the wire) and decoded eBPF instructions, and the decoder/encoder between them.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "isa/opcodes.hpp"

namespace xbpf::isa {

/// One 8-byte instruction slot exactly as RFC 9669 §3 lays it out (little-endian host).
struct RawInsn {
    std::uint8_t opcode = 0;
    std::uint8_t dst : 4 = 0;
    std::uint8_t src : 4 = 0;
    std::int16_t off = 0;
    std::int32_t imm = 0;

    friend bool operator==(const RawInsn&, const RawInsn&) = default;
};
static_assert(sizeof(RawInsn) == 8, "an eBPF instruction slot is 8 bytes");

/// A decoded instruction. Fields mean what the Op's Shape says; unused fields are zero.
/// A 64-bit immediate load (Op::Lddw) occupies two slots: the decoder emits it at the first slot with `imm64`
/// set (and `next_imm` the second slot's imm), and marks the second slot with `is_lddw_tail`.
struct Instruction {
    Op op = Op::Exit;
    std::uint8_t dst = 0;
    std::uint8_t src = 0;  ///< source register, or the pseudo kind for Lddw
    std::int16_t off = 0;
    std::int32_t imm = 0;
    std::int32_t next_imm = 0;  ///< Lddw: the second slot's imm (upper half, or map value offset)
    std::uint64_t imm64 = 0;    ///< Lddw: (uint32)imm | (uint64)next_imm << 32
    bool is_lddw_tail = false;  ///< second slot of a Lddw; never executed

    friend bool operator==(const Instruction&, const Instruction&) = default;

    /// Jump or local-call target as a slot index (pc + 1 + off, or + imm for Gotol/CallLocal).
    [[nodiscard]] std::int64_t target(std::size_t pc) const;
};

/// True if `op` transfers control to a pc-relative target (jumps, gotol, local calls).
bool has_target(Op op);
/// True for conditional jumps (JmpImm, JmpReg).
bool is_conditional_jump(Op op);

/// Decode one slot (not Lddw's second slot). Checks the reserved fields and register numbers.
/// `pc` is only used for the error location.
Result<Instruction> decode_one(const RawInsn& raw, std::size_t pc);

/// Decode the instruction starting at slot `pc`, both slots for Lddw, with every per-instruction check of decode()
/// (not the whole-program ones: jump targets). Used by decode() and by the disassembler, which lists programs
/// that would not load.
Result<Instruction> decode_at(std::span<const RawInsn> program, std::size_t pc);

/// Decode a whole program: one Instruction per slot. Rejects unknown opcodes, bad registers, nonzero reserved
/// fields, a truncated Lddw, and jumps or calls that leave the program or land inside a Lddw.
Result<std::vector<Instruction>> decode(std::span<const RawInsn> program);

/// Encode decoded instructions back to slots (Lddw tails are re-derived from their head; tails are skipped).
std::vector<RawInsn> encode(std::span<const Instruction> program);

/// Encode one instruction; Lddw yields two slots.
void encode_one(const Instruction& insn, std::vector<RawInsn>& out);

/// Reinterpret bytes as slots; fails unless the size is a multiple of 8.
Result<std::vector<RawInsn>> from_bytes(std::span<const std::uint8_t> bytes);

/// The bytes of a program, as stored on disk and by the kernel.
std::vector<std::uint8_t> to_bytes(std::span<const RawInsn> program);

}  // namespace xbpf::isa
