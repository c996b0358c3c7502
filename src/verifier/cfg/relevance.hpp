// Which live registers' and stack slots' scalar values can matter to safety: a static stand-in for the kernel's
// precision marks (mark_chain_precision), filling Cfg::relevant_in and Cfg::relevant_stack_in. The pruning test
// compares only these scalars' values; any other live scalar may differ between the stored state and the current
// one.
#pragma once

#include <span>

#include "isa/instruction.hpp"
#include "verifier/cfg/cfg.hpp"

namespace xbpf::verifier {

/// Backward fixpoint over `cfg.successors`, filling `cfg.relevant_in` and `cfg.relevant_stack_in`. A register is
/// relevant before an instruction if it is read there in a way that matters (base of a load/store/atomic, value
/// stored where it may be read back into a relevant register, conditional-jump operand, divisor, helper argument
/// whose prototype is not ARG_ANYTHING, any argument of a local call, r0 at a sub-program or callback exit, r0 at
/// the program's exit when `exit_value_checked`), or if it flows by an ALU operation, a move or a stack slot into
/// something relevant afterwards. A stack slot of the current frame is relevant if a load at r10 + const reads it
/// into a relevant register before an aligned 8-byte store overwrites it (the kernel's precision marks on spilled
/// registers, mark_chain_precision's stack_masks).
///
/// Stack memory reached through other pointers cannot be attributed to a slot. A forward pass finds the registers
/// that may point into some stack (r10, sub-program arguments, their copies and 8-byte fills); a relevant load
/// through one makes every slot relevant everywhere (as before this analysis existed), and a store through one
/// keeps its value relevant whenever any slot is relevant somewhere. Values stored to other memory stay relevant.
void compute_relevance(std::span<const isa::Instruction> insns, Cfg& cfg, bool exit_value_checked);

}  // namespace xbpf::verifier
