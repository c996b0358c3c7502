// Interpreter vs JIT on one program (tests/unit/jit/engine_differential_test.cpp, tests/fuzz/fuzz_jit.cpp): the
// same r0, the same memory afterwards and the same faults, in checked mode (any program) and in unchecked mode (JIT
// code built from the verifier's facts, for programs the verifier accepted).
//
// A program whose result depends on where the stack is (a privileged program may turn r10 or a spilled pointer into
// a number) proves nothing about the engines: its interpreter runs from two stack depths must agree first, else the
// program is reported as address-dependent and not compared.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {

/// What one engine made of one run.
struct EngineOutcome {
    bool ok = false;
    std::uint64_t r0 = 0;
    std::vector<std::uint8_t> mem;  ///< the memory after the run
    std::string error;
    bool budget = false;  ///< the instruction budget ran out (JIT code charges it per block: where it stops may differ)
    bool native = false;  ///< the run entered JIT code

    [[nodiscard]] std::string to_string() const;
};

/// vm::standard_helpers() with bpf_get_prandom_u32 replaced by a sequence that restarts with every run_engine call
/// (the only helper of the generated programs whose result changes run to run).
const vm::HelperTable& engine_diff_helpers();

/// Same result: both succeed with the same r0 and memory, or both fail with the same error (any budget error
/// matches any other).
bool same_outcome(const EngineOutcome& a, const EngineOutcome& b);

/// One run of `program` (r1 = a copy of `content`, placed `shift` bytes into a fresh buffer; r2 = its size;
/// `packet` for LD_ABS) in `engine`.
EngineOutcome run_engine(const vm::Program& program, std::span<const std::uint8_t> content,
                         std::span<const std::uint8_t> packet, bool checked, vm::EngineKind engine,
                         std::uint64_t budget = 1u << 20, std::size_t shift = 0);

/// True if the interpreter's result depends on where its stack or memory is (two runs, the second from a deeper
/// stack and with the memory at another address, differ).
bool address_dependent(const vm::Program& program, std::span<const std::uint8_t> content,
                       std::span<const std::uint8_t> packet, bool checked);

/// Counts from compare_engines.
struct EngineDiffStats {
    std::uint64_t checked_runs = 0;    ///< checked runs compared
    std::uint64_t faults = 0;          ///< of which both engines faulted, the same way
    std::uint64_t unchecked_runs = 0;  ///< unchecked runs compared (accepted programs)
    bool address_dependent = false;    ///< not compared
};

/// Runs a verifier_gen case on `contents` in both engines, checked (always) and, when `report` accepted it,
/// unchecked with JIT code from the report's facts (constants blinded for unprivileged cases). Returns "" or a
/// description of the first difference (or of the JIT refusing the program).
std::string compare_engines(const VerifierCase& c, const verifier::VerifyReport& report,
                            const std::vector<std::vector<std::uint8_t>>& contents, EngineDiffStats& stats);

/// `text` with host stack addresses ("0x7ff" and more hex digits) replaced by "<stack address>": error texts of two
/// runs whose stack blocks lie at other addresses compare equal. (No std::regex: g++ 12 warns inside it under
/// -O2 with the sanitizers.)
std::string mask_stack_addresses(const std::string& text);

/// The disassembly of `insns`, for failure messages.
std::string engine_diff_listing(std::span<const isa::RawInsn> insns);

}  // namespace xbpf::test
