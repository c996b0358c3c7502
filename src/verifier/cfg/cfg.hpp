// Control-flow graph of a decoded program: functions (sub-programs), successors, loops and register liveness.
// The static checks the kernel does before its path walk (check_subprogs, check_cfg) live here: every instruction
// reachable, no jump leaving its function, every path of every function ending in `exit`, calls landing on a
// function start.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::verifier {

/// One function: the entry program (index 0) or a sub-program reached by `call pc+imm` (bpf-to-bpf call) or
/// named by `lddw src=4` (a callback for bpf_loop, bpf_for_each_map_elem, ...).
struct CfgFunction {
    std::size_t start = 0;     ///< first slot
    std::size_t end = 0;       ///< one past the last slot
    bool is_callback = false;  ///< its address is taken with lddw src=4 (it may also be called directly)
    bool is_called = false;    ///< some `call pc+imm` targets it
};

/// Register set r0..r10 as a bit mask (bit i = ri).
using RegMask = std::uint16_t;

/// The control-flow graph. Slot-indexed vectors have one entry per slot (Lddw tails included, as unreachable
/// non-instructions).
struct Cfg {
    std::vector<CfgFunction> functions;      ///< sorted by start; functions[0].start == 0
    std::vector<std::uint32_t> function_of;  ///< per slot: index into `functions`
    /// Per slot: the slots control may go to next within the function (for a local call: the next slot; the
    /// callee is a separate function). Empty for `exit`.
    std::vector<std::vector<std::uint32_t>> successors;
    /// Per slot: true if some jump goes backwards to it from inside a loop (a target of a back edge found by
    /// depth-first search from the function start).
    std::vector<bool> loop_head;
    /// The back edges (from, to) found by that search, sorted.
    std::vector<std::pair<std::uint32_t, std::uint32_t>> back_edges;
    /// Per slot: true if the kernel would consider this slot a pruning point (jump targets, the slot after a
    /// conditional jump, call sites): the verifier stores and compares states here.
    std::vector<bool> prune_point;
    /// Per slot: registers whose value may be read before being written on some path from this slot (live-in),
    /// computed by backward dataflow within the function. Helper calls read r1..r5 (every argument register,
    /// conservatively) and write r0..r5; local calls read r1..r5 and write r0..r5; `exit` reads r0; r10 is
    /// always live.
    std::vector<RegMask> live_in;
    /// Per slot: live registers whose scalar value may matter to safety (the kernel's precise registers, computed
    /// ahead of the walk): values that flow into an address, a helper argument other than ARG_ANYTHING, a
    /// conditional jump, a stored value, a divisor, or a checked return value. A live scalar outside this set may
    /// take any value without changing what the verifier proves, so pruning ignores its value.
    /// Filled by compute_relevance (relevance.hpp), not by build_cfg.
    std::vector<RegMask> relevant_in;
    /// Per slot: the stack slots of the current frame whose scalar contents may matter to safety (bit i: the
    /// 8 bytes at [r10 - 8(i+1), r10 - 8i)), the stack counterpart of relevant_in. A slot outside this set may
    /// hold any scalar data (Misc, Zero or a spilled scalar of any value) without changing what the verifier
    /// proves; its type (uninitialised, pointer spill) still matters. Filled by compute_relevance; all ones when
    /// the program reads the stack in ways the analysis cannot attribute to a slot.
    std::vector<std::uint64_t> relevant_stack_in;

    /// Index of the function starting at `slot`, or -1.
    [[nodiscard]] int function_at(std::size_t slot) const;
    /// True if the edge from -> to is one of back_edges.
    [[nodiscard]] bool is_back_edge(std::uint32_t from, std::uint32_t to) const;
};

/// Most functions a program may have (the kernel's BPF_MAX_SUBPROGS; "too many subprograms").
inline constexpr std::size_t kMaxFunctions = 256;

/// Build and check the CFG. Errors (ErrorCode::kVerify, `where.insn` set) use the kernel's wording:
///   "jump out of range from insn 3 to 9"        a jump leaving its function (or the program)
///   "unreachable insn 7"                         no path from the function start reaches slot 7
///   "last insn is not an exit or jmp"            a function's last instruction can fall through
///   "call to insn 12 is not a function start"   (cannot happen: call targets define functions; kept for lddw src=4
///                                                 into the middle of an Lddw)
///   "call to invalid destination"                a call or lddw src=4 target outside the program (decode does not
///                                                 check lddw src=4 targets)
///   "too many subprograms"                       more than kMaxFunctions functions
///   "program is empty"                           no instructions (where.insn = 0)
///   "program too large"                          more than 2^32 - 1 slots (slot numbers are 32-bit here)
///   "invalid bpf_ld_imm64 insn"                  an Lddw without its tail slot (not from isa::decode)
///   "jump into the middle of ldimm64 insn 4"     a jump to an Lddw tail (not from isa::decode)
/// The checks run in the kernel's order (add_subprog, check_subprogs, check_cfg), so a program with several faults
/// gets the kernel's message: first function starts, then a slot-order scan for jumps out of range and function
/// ends, then reachability (the lowest unreachable slot is reported).
/// `insns` is the output of isa::decode (already checked for targets outside the program and inside an Lddw).
Result<Cfg> build_cfg(std::span<const isa::Instruction> insns);

}  // namespace xbpf::verifier
