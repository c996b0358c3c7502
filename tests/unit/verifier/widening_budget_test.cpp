// Generated programs (tests/support/verifier_gen) that exposed verifier cost problems, wrapped as XDP exactly as in
// generated_kernel_test.cpp (the kernel's verdicts are quoted, not re-run). Assertions are on processed insns and
// stored states, never on time. V4_SEED / V4_LIMIT / V4_DUMP / V4_LOG run one seed by hand
// (DISABLED_Repro, with --gtest_also_run_disabled_tests).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "isa/disassembler.hpp"
#include "isa/instruction.hpp"
#include "support/insn_builder.hpp"
#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::test {
namespace {

maps::MapSpec value_map(std::uint32_t n) {
    maps::MapSpec spec;
    spec.name = "mem";
    spec.type = maps::MapType::Array;
    spec.key_size = 4;
    spec.value_size = n;
    spec.max_entries = 1;
    return spec;
}

std::vector<isa::RawInsn> wrap(const VerifierCase& c) {
    std::vector<isa::RawInsn> out;
    append(out, ld_imm64(R1, 0));
    out[0].src = isa::kPseudoMapIdxValue;
    out.push_back(mov64_imm(R2, static_cast<std::int32_t>(c.mem_size)));
    out.insert(out.end(), c.insns.begin(), c.insns.end());
    return out;
}

verifier::VerifyReport verify_seed(std::uint64_t seed, std::uint64_t limit, bool log = false) {
    const VerifierCase c = generate_verifier_case(seed);
    verifier::VerifyOptions vo;
    vo.type = object::ProgramType::Xdp;
    vo.maps.push_back(verifier::MapInfo{value_map(c.mem_size), {}});
    vo.privileged = c.privileged;
    vo.insn_limit = limit;
    vo.log = log;
    return verifier::verify(wrap(c), vo);
}

TEST(VerifierWideningBudget, DISABLED_Repro) {
    const char* s = std::getenv("V4_SEED");
    if (!s) GTEST_SKIP() << "set V4_SEED";
    const char* l = std::getenv("V4_LIMIT");
    if (std::getenv("V4_DUMP")) {
        const auto w = wrap(generate_verifier_case(std::strtoull(s, nullptr, 0)));
        auto d = isa::decode(w);
        for (std::size_t i = 0; d && i < d->size(); ++i)
            std::fprintf(stderr, "%zu: %s\n", i, isa::format_instruction((*d)[i], i).c_str());
    }
    auto r = verify_seed(std::strtoull(s, nullptr, 0), l ? std::strtoull(l, nullptr, 0) : 1'000'000,
                         std::getenv("V4_LOG") != nullptr);
    if (std::getenv("V4_LOG")) std::fputs(r.log.c_str(), stdout);
    std::fprintf(stderr, "accepted %d insns %llu stored %llu peak %llu pruned %llu time %.3f s: %s\n", r.accepted,
                 (unsigned long long)r.insns_processed, (unsigned long long)r.states_stored,
                 (unsigned long long)r.peak_states, (unsigned long long)r.states_pruned, r.time_ns / 1e9,
                 r.summary().c_str());
}

TEST(VerifierWideningBudget, ForkPerIterationLoopIsPruned) {
    // Seed 2051: a 253-iteration loop whose body branches on an unknown value; one side calls bpf_get_current_comm
    // (two arguments) after r4 got a map value pointer with a per-iteration offset, the other side does not. r4 is
    // dead at the loop head (overwritten after the loop before any read), so the kernel prunes the sides and accepts
    // after a few thousand insns. Liveness used to treat every helper call as reading r1-r5, which kept r4 live and
    // the paths apart: "BPF program is too large" even at 1,000,000.
    const auto r = verify_seed(2051, 1'000'000);
    EXPECT_TRUE(r.accepted) << r.summary();
    EXPECT_LT(r.insns_processed, 50'000u);
    EXPECT_LT(r.states_stored, 5'000u);
}

TEST(VerifierWideningBudget, WrappingLoopIsRefusedEarlyAtTheFullLimit) {
    // Seed 1772: `r5 = 0; loop: ...; r5 += -1; if r5 != 0 goto loop` runs 2^64 times; the kernel walks to its
    // 1,000,000-insn limit. The summarised walk must refuse it soon after summarising starts (1/32 of the budget),
    // with summarisation work charged to the same budget.
    const auto r = verify_seed(1772, 1'000'000);
    ASSERT_FALSE(r.accepted);
    EXPECT_NE(r.summary().find("loop at insn 46 may run"), std::string::npos) << r.summary();
    EXPECT_LT(r.insns_processed, 1'000'000u / 32 + 5'000);
    EXPECT_LT(r.states_stored, 10'000u);
}

}  // namespace
}  // namespace xbpf::test
