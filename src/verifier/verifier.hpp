// The xbpf verifier: proves an eBPF program safe before it runs, or explains why it may not be.
//
// It walks every path of the program with an abstract state per register and stack byte (the kernel's design:
// kernel/bpf/verifier.c do_check), with scalars in the tnum + range domains (domains/), the control-flow checks of
// cfg/, per-type context rules (context.hpp) and the helper prototypes of src/helpers. Equivalent or subsumed states
// are pruned; in-progress states at loop heads detect infinite loops. See README.md in this folder.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.hpp"
#include "maps/map.hpp"
#include "object/object_spec.hpp"

struct btf;

namespace xbpf::verifier {

/// A map as the verifier sees it: its shape, and for read-only (frozen) maps their contents, which make loads
/// from them known constants (as the kernel does for `.rodata` through bpf_map_direct_read).
struct MapInfo {
    maps::MapSpec spec;
    /// Contents of element 0 when the program cannot change them (BPF_F_RDONLY_PROG, frozen); empty otherwise.
    std::vector<std::uint8_t> frozen_value;
};

/// What the verifier needs besides the instructions.
struct VerifyOptions {
    object::ProgramType type = object::ProgramType::Unspec;
    object::AttachType attach = object::AttachType::None;
    /// Maps referenced by `lddw src=1/5` (map) and `src=2/6` (map value), indexed by the instruction's imm.
    std::vector<MapInfo> maps;
    /// Root (CAP_SYS_ADMIN / CAP_BPF + CAP_PERFMON): pointer arithmetic results may leak into scalars, pointers may
    /// be stored to maps and compared. Unprivileged mode rejects every way a pointer can become visible.
    bool privileged = true;
    /// GPL-compatible license: gpl_only helpers may be called.
    bool gpl_compatible = true;
    /// Program type Unspec (xbpf's raw memory programs, r1 = memory, r2 = its size): bytes r1 may address.
    /// 0: r1 is not a pointer.
    std::uint32_t raw_memory_size = 0;
    /// Instructions processed before giving up (the kernel's BPF_COMPLEXITY_LIMIT_INSNS).
    std::uint64_t insn_limit = 1'000'000;
    /// Keep a kernel-style log of every processed instruction (VerifyReport::log).
    bool log = false;
    /// Source information for messages: line info and function names (may be null).
    const object::ProgramSpec* spec = nullptr;
    /// Tracing and LSM programs: the traced function, tracepoint or hook ("do_unlinkat", "sched_switch"), whose
    /// prototype in the kernel's BTF types the context's arguments.
    std::string attach_target;
    /// The kernel BTF those types come from; null: the running kernel's (/sys/kernel/btf/vmlinux).
    const struct btf* kernel_btf = nullptr;
    /// The program's own BTF (the object's), which `spec->func_info` type ids refer to. Functions with
    /// BTF_FUNC_GLOBAL linkage are then verified once, on their own, with arguments typed from their prototype,
    /// as the kernel does; without it every sub-program is verified in each calling context.
    const struct btf* program_btf = nullptr;
};

/// Why and where a program was rejected.
struct Finding {
    std::size_t insn = 0;     ///< the instruction (slot) index
    std::string message;      ///< "<reason> (<condition>)", stable, in the kernel's vocabulary
    std::string explanation;  ///< one plain sentence: what is wrong and where the value came from
    std::string disasm;       ///< the instruction as llvm-objdump prints it
    std::string registers;    ///< abstract state of the registers the instruction uses ("r1=map_value_or_null(...)")
    std::optional<object::LineInfo> line;  ///< the source line, when the program has BTF line info
    /// The path that reaches the instruction: the slot indexes of the branches taken from the entry ("3->7"
    /// pairs kept compact: every jump whose target differs from the next slot), oldest first.
    std::vector<std::pair<std::size_t, std::size_t>> path;

    /// "<insn>: <message>" then the source line and explanation, each on its own line.
    [[nodiscard]] std::string to_string() const;
};

/// Per-instruction facts for the JIT (valid only for accepted programs).
struct InsnFacts {
    bool reached = false;             ///< some path executes it
    bool divisor_nonzero = false;     ///< div/mod: the divisor is never zero on any path
    bool divisor_not_minus1 = false;  ///< sdiv/smod: the divisor is never -1
    /// Memory access through a pointer of a single kind on every path: 0 unknown/mixed, else the RegKind value.
    std::uint8_t mem_kind = 0;
    /// A load through a kernel (BTF) pointer on some path: it must run as a probe read that tolerates faults.
    bool probe_mem = false;
};

/// The verdict.
struct VerifyReport {
    bool accepted = false;
    std::vector<Finding> findings;      ///< empty when accepted; the first finding leads
    std::uint64_t insns_processed = 0;  ///< as the kernel counts "processed N insns"
    std::uint64_t states_stored = 0;    ///< states kept for pruning ("total_states")
    std::uint64_t peak_states = 0;      ///< largest number kept at once
    std::uint64_t states_pruned = 0;    ///< paths cut because a stored state covered them
    std::uint32_t max_stack_depth = 0;  ///< deepest combined stack of a call chain, bytes
    std::uint64_t time_ns = 0;          ///< wall time
    std::string log;                    ///< VerifyOptions::log
    std::vector<InsnFacts> facts;       ///< per slot

    /// The leading finding as one line ("insn 12: R3 invalid mem access 'map_value_or_null'"), or "" if accepted.
    [[nodiscard]] std::string summary() const;
};

/// Verify `insns` under `options`. Never fails: malformed code is a rejection with a finding.
VerifyReport verify(std::span<const isa::RawInsn> insns, const VerifyOptions& options);

/// Options for one program of an object: its type, attach type, source info, the object's maps (with frozen
/// contents for `.rodata` / `.kconfig`) and license.
VerifyOptions options_for(const object::ObjectSpec& object, const object::ProgramSpec& program);

}  // namespace xbpf::verifier
