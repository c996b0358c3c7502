// Register liveness: which of r0..r10 each instruction reads and writes, and the backward dataflow fixpoint that
// fills Cfg::live_in. A register is live at a slot when some path from the slot reads it before writing it; the
// verifier may forget the value of a dead register (it cannot influence anything), which makes more states equal
// at prune points (the kernel's REG_LIVE_READ marks, computed here ahead of the path walk instead of during it).
#pragma once

#include <cstdint>
#include <span>

#include "isa/instruction.hpp"
#include "verifier/cfg/cfg.hpp"

namespace xbpf::verifier {

/// The mask of one register.
constexpr RegMask reg_bit(unsigned reg) { return static_cast<RegMask>(1u << reg); }

/// r1..r5: the argument registers of helper, kfunc and local calls.
inline constexpr RegMask kArgRegs = 0x003e;
/// r0..r5: the registers a call (or LD_ABS/LD_IND) leaves undefined or overwrites; r6..r9 survive calls.
inline constexpr RegMask kCallerSaved = 0x003f;
/// r10, the read-only frame pointer: live everywhere.
inline constexpr RegMask kFramePointerBit = 0x0400;
/// r0..r10.
inline constexpr RegMask kAllRegs = 0x07ff;

/// What one instruction does to registers: `use` is read before `def` is written (a register in both is read,
/// then overwritten: `r1 += 1`, `r0 = cmpxchg(...)`).
struct RegEffect {
    RegMask use = 0;  ///< registers read
    RegMask def = 0;  ///< registers written (or left undefined: r1..r5 after a call)

    friend bool operator==(const RegEffect&, const RegEffect&) = default;
};

/// The registers `insn` reads and writes. Moves (`r = imm`, `r = r2`, `w = w2`, movsx, lddw) only write their
/// destination; other ALU ops, negation and byte swaps read it too. Calls of every kind read r1..r5 and write
/// r0..r5 (`callx` also reads its target register); `exit` reads r0; LD_ABS/LD_IND read r6 (the implicit context)
/// and LD_IND its source, and write r0..r5 (the kernel treats them as calls). Stores read the base and the value;
/// atomics read both and fetching ones write the source register (cmpxchg: read and write r0). An Lddw tail has no
/// effect. r10 is never reported as written.
RegEffect reg_effect(const isa::Instruction& insn);

/// Fill `cfg.live_in` (one entry per slot) by a backward worklist fixpoint over `cfg.successors`:
///   live_in[s] = use(s) | (OR over successors t of live_in[t]) & ~def(s), plus r10 everywhere.
/// `postorder` lists slots in postorder of a depth-first search from the function starts (as build_cfg computes
/// it), so a slot is usually processed after its successors and the first pass is exact for loop-free code; slots
/// not listed (unreachable) are processed first, in descending slot order. An Lddw tail gets the head's live-out
/// (what is live after the 64-bit load), so `live_in[pc + 1]` is the live-out of any non-branching `pc`.
/// Linear in the number of slots times the loop nesting depth (each slot's mask only grows, at most 11 times).
void compute_liveness(std::span<const isa::Instruction> insns, Cfg& cfg, std::span<const std::uint32_t> postorder);

}  // namespace xbpf::verifier
