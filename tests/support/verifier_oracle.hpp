// The soundness oracle for the verifier: whatever it accepts must run in the checked interpreter without a fault.
// Used by tests/unit/verifier/soundness_test.cpp (generated programs) and tests/fuzz/fuzz_verifier.cpp.
//
// For a raw-memory program (VerifierCase) the oracle verifies it (type Unspec, raw_memory_size = N) and, when it is
// accepted, runs it in checked mode on several contents of the N bytes (zeros, 0xff, random, counting, and values
// next to the constants of the program, which are where bounds checks are off by one). Properties:
//   Fault        no run may fail: an out-of-bounds or read-only access, a bad call; any kRuntime error
//   Budget       no run may exhaust the instruction budget (an accepted program terminates)
//   Uninit       the result (r0 and the memory afterwards) must not depend on registers the verifier considers
//                uninitialised (r0, r3-r9 at entry) nor, for unprivileged programs (which may not read
//                uninitialised stack), on the stack's initial bytes: the program is run again with those set to two
//                poison values by a prologue, and the outcomes must equal the plain run's (unless the plain runs
//                themselves differ: a clock, a random number, or an address a privileged program turned into a
//                number, which changes when the interpreter's stack moves)
//   DivisorFact  the verifier's per-instruction facts hold at run time: an instruction it marks unreached never runs,
//                a divisor it marks nonzero (not -1) is never 0 (-1); checked by running a copy of the program with a
//                trap inserted before each such instruction
//   LoadFailed   an accepted program loads in the VM (standard helpers), unless what fails to load is an instruction
//                the verifier proved unreachable (an unknown helper id in dead code: the kernel accepts that too)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "isa/instruction.hpp"
#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::test {

/// What went wrong with an accepted program.
enum class Violation : std::uint8_t { None, LoadFailed, Fault, Budget, Uninit, DivisorFact };

/// The violation's name, as the tests print it.
const char* violation_name(Violation v);

/// How hard the oracle looks.
struct OracleOptions {
    /// VerifyOptions::insn_limit: accepted generated programs need at most about 12,000; the few that loop until
    /// the limit cost time in proportion to it.
    std::uint64_t verifier_insn_limit = 20'000;
    std::uint64_t run_budget = 1u << 22;  ///< RunOptions::insn_budget of each run
    std::uint32_t contents = 12;          ///< most memory contents each accepted program runs on
    bool poison = true;                   ///< the Uninit check
    bool facts = true;                    ///< the DivisorFact check
    std::uint64_t seed = 1;               ///< for the random memory contents
};

/// The oracle's verdict on one program.
struct OracleResult {
    bool accepted = false;
    std::string verdict;  ///< the verifier's leading finding when rejected (VerifyReport::summary)
    std::uint32_t runs = 0;
    Violation violation = Violation::None;
    std::string detail;  ///< the failed run: contents, error or differing outcomes
    /// When there is a violation and the program shows the signature of an open finding (open_finding_in), its
    /// name: the suites report it without failing, fuzz_verifier steps around it under XBPF_FUZZ_SKIP.
    std::string open_finding;
};

/// The name of the open (reported, not yet fixed) soundness finding whose signature `c` shows, or "". There is none
/// now; add a signature when a finding is reported, delete it with the fix.
std::string open_finding_in(const VerifierCase& c, const verifier::VerifyReport& report);

/// Verify `c` and, if accepted, check the properties above.
OracleResult check_soundness(const VerifierCase& c, const OracleOptions& options = {});

/// The checks of check_soundness on a program `report` says was accepted (tests of the oracle itself pass a made-up
/// report for a program the verifier would reject).
OracleResult check_accepted(const VerifierCase& c, const verifier::VerifyReport& report,
                            const OracleOptions& options = {});

/// The memory contents the oracle runs an accepted program on: at most `max`, each of c.mem_size bytes.
std::vector<std::vector<std::uint8_t>> memory_contents(const VerifierCase& c, std::uint32_t max, std::uint64_t seed);

/// `program` with `before[pc]` inserted in front of each slot pc (before.size() == program.size()); every jump,
/// call and function address (lddw src=4) is relocated so that what went to slot pc goes to the code inserted in
/// front of it. Inserted code must be self-contained (its own jumps stay inside it). `program` must decode.
std::vector<isa::RawInsn> insert_before(std::span<const isa::RawInsn> program,
                                        const std::vector<std::vector<isa::RawInsn>>& before);

/// "mem_size=N privileged=yes" and the pseudo-C listing with slot numbers, for failure messages.
std::string describe_case(const VerifierCase& c);

}  // namespace xbpf::test
