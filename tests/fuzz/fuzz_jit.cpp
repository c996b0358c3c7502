// Fuzz target: the JIT against the interpreter. Every program runs in both engines in checked mode (JIT code with
// run-time checks) and, when xbpf's verifier accepts it, unchecked (JIT code built from the verifier's facts, with
// constant blinding for unprivileged programs); the results must be identical: r0, the memory afterwards, and the
// fault (tests/support/engine_diff.hpp). No crash, no sanitizer report.
//
// Input: the same as fuzz_verifier's ([mode] then generator decisions or raw slots), so the two targets share seeds:
//   mode & 1 == 0  generated: the remaining bytes are the decisions of tests/support/verifier_gen.hpp's generator
//   mode & 1 == 1  raw: [memory size][flags][8-byte instruction slots...]; flags & 1: verify unprivileged
// The memory contents come from the input's hash, so a finding replays exactly.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_support.hpp"
#include "support/engine_diff.hpp"
#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"
#include "verifier_input.hpp"

namespace {

using namespace xbpf;

constexpr std::uint64_t kInsnLimit = 10'000;
constexpr int kContents = 3;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    const auto parsed = fuzz::verifier_case_of(input);
    if (!parsed) return 0;
    const test::VerifierCase& c = *parsed;
    const verifier::VerifyReport report = fuzz::verify_case(c, kInsnLimit);

    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const std::uint8_t b : input) h = (h ^ b) * 0x100000001b3ull;
    test::SplitMix64 rng(h);
    std::vector<std::vector<std::uint8_t>> contents;
    if (!c.hints.empty()) contents.emplace_back(c.mem_size, c.hints.front());
    for (int i = 0; i < kContents; ++i) {
        std::vector<std::uint8_t> bytes(c.mem_size);
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng.next());
        contents.push_back(std::move(bytes));
    }
    test::EngineDiffStats stats;
    const std::string problem = test::compare_engines(c, report, contents, stats);
    XBPF_FUZZ_CHECK(problem.empty(), "interpreter and JIT differ ({}): {}\n{}\nslots: {}",
                    report.accepted ? "accepted" : "rejected", problem, test::engine_diff_listing(c.insns),
                    fuzz::hex(c.insns));
    return 0;
}
