// Fuzz target: soundness of the verifier. Whatever it accepts must run in the checked interpreter without a fault
// (tests/support/verifier_oracle.hpp: out-of-bounds and helper accesses, termination, uninitialised registers and
// stack, the per-instruction facts), on several contents of the program's memory.
//
// Input: [mode] then
//   mode & 1 == 0  generated: the remaining bytes are the decisions of tests/support/verifier_gen.hpp's generator
//                  (Choices over the bytes, continued by a PRNG seeded from them), so every input is a well-formed,
//                  almost-safe raw-memory program and mutations change it locally
//   mode & 1 == 1  raw: [memory size][flags][8-byte instruction slots...]; flags & 1: verify unprivileged
// Properties:
//  1. verify() returns for any slots (no crash, no sanitizer report), with a report that is consistent: accepted
//     exactly when there is no finding; a finding names a slot inside the program (or 0) and has a message; facts
//     has one entry per slot.
//  2. An accepted program violates none of the oracle's properties.
// Open findings (README.md, "Findings") are recognised by test::open_finding_in and stepped around under
// XBPF_FUZZ_SKIP.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "support/verifier_gen.hpp"
#include "support/verifier_oracle.hpp"
#include "verifier/verifier.hpp"
#include "verifier_input.hpp"

namespace {

using namespace xbpf;

// Kept small for speed: programs that loop until the instruction limit cost time in proportion to it (about 0.3 s
// for the default million), and each accepted program runs about 4 x `contents` times.
constexpr std::uint64_t kInsnLimit = 10'000;
constexpr std::uint32_t kContents = 6;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto parsed = fuzz::verifier_case_of(input);
    if (!parsed) return 0;
    const test::VerifierCase& c = *parsed;
    const verifier::VerifyReport report = fuzz::verify_case(c, kInsnLimit);

    XBPF_FUZZ_CHECK(report.accepted == report.findings.empty(), "accepted={} with {} findings", report.accepted,
                    report.findings.size());
    for (const verifier::Finding& f : report.findings) {
        XBPF_FUZZ_CHECK(!f.message.empty(), "a finding without a message at insn {}", f.insn);
        XBPF_FUZZ_CHECK(f.insn < std::max<std::size_t>(c.insns.size(), 1), "finding at insn {} of a {}-slot program",
                        f.insn, c.insns.size());
    }
    if (!report.accepted) return 0;
    XBPF_FUZZ_CHECK(report.facts.size() == c.insns.size(), "{} facts for {} slots", report.facts.size(),
                    c.insns.size());
    test::OracleOptions options;
    options.contents = kContents;
    options.run_budget = 1u << 20;
    const test::OracleResult r = test::check_accepted(c, report, options);
    if (r.violation != test::Violation::None && !r.open_finding.empty() && fuzz::skipping(r.open_finding)) return 0;
    XBPF_FUZZ_CHECK(r.violation == test::Violation::None,
                    "the verifier accepted a program that violates '{}'\n{}\n{}\nslots: {}",
                    test::violation_name(r.violation), r.detail, test::describe_case(c), fuzz::hex(c.insns));
    return 0;
}
