// Which live registers' scalar values can matter to safety: a static stand-in for the kernel's precision marks
// (mark_chain_precision), filling Cfg::relevant_in. The pruning test compares only these scalars' values; any
// other live scalar may differ between the stored state and the current one.
#pragma once

#include <span>

#include "isa/instruction.hpp"
#include "verifier/cfg/cfg.hpp"

namespace xbpf::verifier {

/// Backward fixpoint over `cfg.successors`: a register is relevant before an instruction if it is read there in a
/// way that matters (base of a load/store/atomic, stored value, conditional-jump operand, divisor, helper argument
/// whose prototype is not ARG_ANYTHING, any argument of a local call, r0 at a sub-program or callback exit, r0 at
/// the program's exit when `exit_value_checked`), or if it flows by an ALU operation or a move into a register
/// that is relevant afterwards.
void compute_relevance(std::span<const isa::Instruction> insns, Cfg& cfg, bool exit_value_checked);

}  // namespace xbpf::verifier
