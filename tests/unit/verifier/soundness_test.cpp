// Soundness of the verifier against the checked interpreter: every program the verifier accepts must run without a
// fault (tests/support/verifier_oracle.hpp lists the properties). The programs come from a random generator built to
// sit at the edges of what is safe (tests/support/verifier_gen.hpp), for a fixed list of seeds, so a failure here
// reproduces with its seed. The long search is tests/fuzz/fuzz_verifier.cpp (tests/fuzz/README.md).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isa/instruction.hpp"
#include "support/insn_builder.hpp"
#include "support/verifier_gen.hpp"
#include "support/verifier_oracle.hpp"
#include "verifier/verifier.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {
namespace {

// Programs per run: about 7 s of CPU in a release build, 9 s under ASan + UBSan (about 5x slower).
#if defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kPrograms = 15'000;
#else
constexpr std::uint64_t kPrograms = 60'000;
#endif

/// XBPF_SOUNDNESS_PROGRAMS=N and XBPF_SOUNDNESS_FIRST_SEED=S run N programs from seed S instead (a longer search
/// without the fuzzing toolchain: `XBPF_SOUNDNESS_PROGRAMS=1000000 xbpf_unit_tests --gtest_filter=VerifierSoundness*`).
std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

/// A soundness bug found by this suite or fuzz_verifier and not fixed yet: a program the verifier accepts although
/// a run faults. While `fixed` is false the suite only reports it (so CI stays green while the verifier is being
/// fixed); with the fix, set `fixed` and the suite requires the verifier to reject it from then on.
struct KnownUnsound {
    const char* name;
    VerifierCase program;
    bool fixed;
};

VerifierCase raw(std::uint32_t mem_size, std::vector<RawInsn> insns, bool privileged = true) {
    VerifierCase c;
    c.insns = std::move(insns);
    c.mem_size = mem_size;
    c.privileged = privileged;
    return c;
}

// ldxs-stack (fixed in 6696b91): sign-extending loads from the stack (ldxs: *(s8/s16/s32 *)(r10 + off)) were given
// the value of a zero-extending load: the stack path of check_mem_access ignored is_signed (a filled spill was
// narrowed with coerce(..., false), other bytes got Scalar::of_size(size) unsigned). A negative value then passed as
// a large positive one: here r2 is -128 at run time but was 128 to the verifier, so r1 - 128 was accepted as
// r1 + 128. Found by GeneratedProgramsThatAreAcceptedRunWithoutFaults, first as divisor and reachability facts that
// did not hold, then as faults.
const std::vector<KnownUnsound> kKnownUnsound = {
    {"ldxs-stack-spilled-constant",  // *(u64 *)(r10 - 8) = 128; r2 = *(s8 *)(r10 - 8): -128, not 128
     raw(129, program({st_mem(Size::DW, R10, -8, 128), ldx_memsx(Size::B, R2, R10, -8), alu64_reg(Alu::Add, R1, R2),
                       ldx_mem(Size::B, R0, R1, 0), exit_insn()})),
     true},
    {"ldxs-stack-data",  // a byte of plain stack data read with ldxs: [-128, 127], not [0, 255]
     raw(256, program({ldx_mem(Size::B, R2, R1, 0), stx_mem(Size::B, R10, R2, -7), ldx_memsx(Size::B, R3, R10, -7),
                       alu64_reg(Alu::Add, R1, R3), ldx_mem(Size::B, R0, R1, 0), exit_insn()})),
     true},
    {"ldxs-stack-variable-offset",  // the same through a variable stack offset
     raw(256, program({ldx_mem(Size::B, R2, R1, 0), stx_mem(Size::B, R10, R2, -8), stx_mem(Size::B, R10, R2, -7),
                       ldx_mem(Size::B, R3, R1, 1), alu64_imm(Alu::And, R3, 1), mov64_reg(R4, R10),
                       alu64_imm(Alu::Add, R4, -8), alu64_reg(Alu::Add, R4, R3), ldx_memsx(Size::B, R5, R4, 0),
                       alu64_reg(Alu::Add, R1, R5), ldx_mem(Size::B, R0, R1, 0), exit_insn()})),
     true},
};

TEST(VerifierSoundness, GeneratedProgramsThatAreAcceptedRunWithoutFaults) {
    const auto start = std::chrono::steady_clock::now();
    std::uint64_t accepted = 0;
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    std::uint64_t known = 0;
    std::map<std::string, std::uint64_t> reasons;  // leading rejection messages, without their numbers
    const std::uint64_t programs = env_or("XBPF_SOUNDNESS_PROGRAMS", kPrograms);
    const std::uint64_t first = env_or("XBPF_SOUNDNESS_FIRST_SEED", 1);
    for (std::uint64_t seed = first; seed < first + programs; ++seed) {
        const VerifierCase c = generate_verifier_case(seed);
        const OracleResult r = check_soundness(c);
        runs += r.runs;
        if (!r.accepted) {
            std::string reason = r.verdict.substr(r.verdict.find(": ") + 2);
            reason = reason.substr(0, reason.find_first_of("0123456789"));
            ++reasons[reason];
            continue;
        }
        ++accepted;
        if (r.violation == Violation::None) continue;
        if (!r.open_finding.empty()) {  // reported, being fixed: see kKnownUnsound
            ++known;
            std::printf("[ known    ] seed %llu: %s (%s)\n", static_cast<unsigned long long>(seed),
                        r.open_finding.c_str(), violation_name(r.violation));
            continue;
        }
        ++failures;
        ADD_FAILURE() << "seed " << seed << ": the verifier accepted a program that violates '"
                      << violation_name(r.violation) << "'\n"
                      << r.detail << "\n"
                      << describe_case(c);
        if (failures >= 5) break;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf(
        "[ soundness] %llu programs generated, %llu accepted (%.0f%%), %llu interpreter runs, %llu failures, "
        "%llu known, %.1f s\n",
        static_cast<unsigned long long>(programs), static_cast<unsigned long long>(accepted),
        100.0 * static_cast<double>(accepted) / static_cast<double>(programs), static_cast<unsigned long long>(runs),
        static_cast<unsigned long long>(failures), static_cast<unsigned long long>(known), secs);
    std::vector<std::pair<std::uint64_t, std::string>> top;
    for (const auto& [reason, count] : reasons) top.emplace_back(count, reason);
    std::sort(top.rbegin(), top.rend());
    for (std::size_t i = 0; i < top.size() && i < 12; ++i)
        std::printf("[ rejected ] %6llu  %s\n", static_cast<unsigned long long>(top[i].first), top[i].second.c_str());
    // The generator is only useful while both verdicts are common.
    EXPECT_GT(accepted, programs / 5);
    EXPECT_LT(accepted, programs * 4 / 5);
}

TEST(VerifierSoundness, KnownUnsoundProgramsAreRejected) {
    for (const KnownUnsound& k : kKnownUnsound) {
        SCOPED_TRACE(k.name);
        const OracleResult r = check_soundness(k.program);
        if (k.fixed) {
            EXPECT_FALSE(r.accepted) << describe_case(k.program);
            EXPECT_EQ(r.violation, Violation::None) << r.detail;
            continue;
        }
        // Not fixed yet: reported, not failed (see KnownUnsound).
        if (r.accepted)
            std::printf("[ known    ] %s: still accepted (%s: %s)\n", k.name, violation_name(r.violation),
                        r.detail.c_str());
        else
            std::printf("[ known    ] %s: now rejected (%s): set fixed = true\n", k.name, r.verdict.c_str());
    }
}

// Writes the seed corpus of tests/fuzz/fuzz_verifier.cpp (tests/fuzz/corpus/verifier/) into the folder named by
// XBPF_VERIFIER_SEED_DIR: generated programs the verifier accepts, as raw-mode inputs, and generator-mode inputs
// (decision bytes). Run by hand: `XBPF_VERIFIER_SEED_DIR=tests/fuzz/corpus/verifier xbpf_unit_tests
// --gtest_also_run_disabled_tests --gtest_filter=VerifierSoundness.DISABLED_WriteFuzzSeeds`.
TEST(VerifierSoundness, DISABLED_WriteFuzzSeeds) {
    const char* dir = std::getenv("XBPF_VERIFIER_SEED_DIR");
    ASSERT_NE(dir, nullptr) << "set XBPF_VERIFIER_SEED_DIR";
    auto write = [&](const std::string& name, const std::vector<std::uint8_t>& bytes) {
        std::FILE* f = std::fopen(fmt::format("{}/{}", dir, name).c_str(), "wb");
        ASSERT_NE(f, nullptr) << name;
        std::fwrite(bytes.data(), 1, bytes.size(), f);
        std::fclose(f);
    };
    VerifierGenOptions options;
    options.signed_stack_loads = false;  // the open finding ldxs-stack stays out of the seeds
    int raw = 0;
    for (std::uint64_t seed = 1; raw < 40; ++seed) {
        const VerifierCase c = generate_verifier_case(seed, options);
        const OracleResult r = check_soundness(c);
        if (!r.accepted || r.violation != Violation::None || c.mem_size > 255) continue;
        std::vector<std::uint8_t> bytes = {1, static_cast<std::uint8_t>(c.mem_size),
                                           c.privileged ? std::uint8_t{0} : std::uint8_t{1}};
        const auto code = isa::to_bytes(c.insns);
        bytes.insert(bytes.end(), code.begin(), code.end());
        write(fmt::format("raw_seed{}.bin", seed), bytes);
        ++raw;
    }
    SplitMix64 rng(2024);
    for (int i = 0; i < 20; ++i) {
        std::vector<std::uint8_t> bytes(1 + 64 + 32 * static_cast<std::size_t>(i));
        for (auto& b : bytes) b = static_cast<std::uint8_t>(rng.next());
        bytes[0] = 0;
        write(fmt::format("gen_{:02}.bin", i), bytes);
    }
}

TEST(VerifierSoundness, GeneratorIsDeterministic) {
    for (std::uint64_t seed : {1ull, 2ull, 99ull, 123456789ull}) {
        const VerifierCase a = generate_verifier_case(seed);
        const VerifierCase b = generate_verifier_case(seed);
        EXPECT_EQ(a.insns, b.insns);
        EXPECT_EQ(a.mem_size, b.mem_size);
        EXPECT_EQ(a.privileged, b.privileged);
    }
    EXPECT_NE(generate_verifier_case(1).insns, generate_verifier_case(2).insns);
}

TEST(VerifierSoundness, ChoicesFromBytesAreReadThenContinued) {
    const std::vector<std::uint8_t> bytes = {7, 200, 1, 2};
    Choices c(bytes);
    EXPECT_EQ(c.below(10), 7u);
    EXPECT_EQ(c.below(256), 200u);
    EXPECT_EQ(c.below(1000), 0x0201u % 1000u);
    // Past the end: a PRNG seeded by the bytes, the same every time.
    Choices d(bytes);
    (void)d.below(10);
    (void)d.below(256);
    (void)d.below(1000);
    EXPECT_EQ(c.next64(), d.next64());
}

// insert_before keeps every jump, loop and call going where it went: the program computes the same result with
// no-op code inserted everywhere.
TEST(VerifierSoundness, InsertBeforeRelocatesJumpsAndCalls) {
    const std::vector<RawInsn> prog = program({
        mov64_imm(R0, 0),              // 0
        mov64_imm(R1, 5),              // 1
        alu64_imm(Alu::Add, R0, 3),    // 2: loop head
        alu64_imm(Alu::Sub, R1, 1),    // 3
        jmp_imm(Jmp::Jne, R1, 0, -3),  // 4: back to 2
        mov64_reg(R6, R0),             // 5
        call_local(2),                 // 6: to 9
        alu64_reg(Alu::Add, R0, R6),   // 7
        exit_insn(),                   // 8
        mov64_imm(R0, 100),            // 9: sub-program
        gotol(1),                      // 10: to 12
        mov64_imm(R0, 1),              // 11 (skipped)
        exit_insn(),                   // 12
    });
    auto run = [](const std::vector<RawInsn>& p) {
        auto loaded = vm::Program::load(p);
        EXPECT_TRUE(loaded.has_value()) << (loaded ? "" : loaded.error().to_string());
        if (!loaded) return std::uint64_t{0};
        std::vector<std::uint8_t> mem(8);
        auto r = vm::run_raw(*loaded, mem);
        EXPECT_TRUE(r.has_value());
        return r ? r->r0 : 0;
    };
    ASSERT_EQ(run(prog), 115u);
    std::vector<std::vector<RawInsn>> before(prog.size());
    for (std::size_t i = 0; i < prog.size(); ++i)
        for (std::size_t k = 0; k < i % 3; ++k) before[i].push_back(mov64_reg(R9, R9));
    EXPECT_EQ(run(insert_before(prog, before)), 115u);
}

// An accepted safe program passes with every check on.
TEST(VerifierSoundness, OracleAcceptsASafeProgram) {
    VerifierCase c;
    c.mem_size = 16;
    c.insns = program({
        ldx_mem(Size::B, R3, R1, 0),
        alu64_imm(Alu::And, R3, 7),
        mov64_reg(R4, R1),
        alu64_reg(Alu::Add, R4, R3),
        ldx_mem(Size::DW, R0, R4, 0),
        mov64_imm(R5, 3),
        alu64_reg(Alu::Div, R0, R5),
        exit_insn(),
    });
    const OracleResult r = check_soundness(c);
    EXPECT_TRUE(r.accepted) << r.verdict;
    EXPECT_EQ(r.violation, Violation::None) << r.detail;
    EXPECT_GE(r.runs, 12u);
}

/// A report saying "accepted", every instruction reached, every divisor nonzero and not -1: what an unsound
/// verifier would claim, to show that the oracle catches each kind of violation.
verifier::VerifyReport claimed_safe(const VerifierCase& c) {
    verifier::VerifyReport report;
    report.accepted = true;
    report.facts.assign(c.insns.size(), verifier::InsnFacts{true, true, true, 0});
    return report;
}

TEST(VerifierSoundness, OracleCatchesEachViolation) {
    VerifierCase c;
    c.mem_size = 8;
    struct Case {
        const char* name;
        std::vector<RawInsn> insns;
        Violation want;
    };
    const std::vector<Case> cases = {
        // A load one byte past the end when the first byte is 0xff (the all-0xff contents).
        {"fault",
         program({ldx_mem(Size::B, R3, R1, 0), jmp_imm(Jmp::Jne, R3, 0xff, 2), alu64_imm(Alu::Add, R1, 1),
                  ldx_mem(Size::DW, R0, R1, 0), mov64_imm(R0, 0), exit_insn()}),
         Violation::Fault},
        {"budget", program({mov64_imm(R0, 0), ja(-1), exit_insn()}), Violation::Budget},
        // r7 is never written: the result is its initial value.
        {"uninit register", program({mov64_reg(R0, R7), exit_insn()}), Violation::Uninit},
        {"divisor zero",
         program({ldx_mem(Size::B, R3, R1, 0), mov64_imm(R0, 10), alu64_reg(Alu::Div, R0, R3), exit_insn()}),
         Violation::DivisorFact},
    };
    for (const Case& k : cases) {
        SCOPED_TRACE(k.name);
        c.insns = k.insns;
        OracleOptions options;
        options.run_budget = 10'000;
        const OracleResult r = check_accepted(c, claimed_safe(c), options);
        EXPECT_EQ(r.violation, k.want) << r.detail;
    }
    // Uninitialised stack: only unprivileged programs may not read it.
    c.insns = program({ldx_mem(Size::DW, R0, R10, -16), exit_insn()});
    c.privileged = false;
    EXPECT_EQ(check_accepted(c, claimed_safe(c)).violation, Violation::Uninit);
    c.privileged = true;
    EXPECT_EQ(check_accepted(c, claimed_safe(c)).violation, Violation::None);
    // An instruction claimed unreached that runs.
    c.insns = program({mov64_imm(R0, 1), exit_insn()});
    verifier::VerifyReport report = claimed_safe(c);
    report.facts[1].reached = false;
    EXPECT_EQ(check_accepted(c, report).violation, Violation::DivisorFact);
}

}  // namespace
}  // namespace xbpf::test

namespace xbpf::verifier {
namespace {

// Finding `widened-loop-termination` (tests/fuzz/README.md): a raw-mode fuzz input whose loop at insn 37 never ends
// (its exit test reads r0, which is 0 on every way around) was accepted when verified with fuzz_verifier's budget of
// 10,000 instructions: a second widened checkpoint at the loop head got the counter r4 = {36, 37}, and the path
// around the loop came back "included" because state inclusion skips scalars nothing later reads (r4 only counts),
// so termination was argued from a counter outside the widened state's bounds.
TEST(VerifierSoundness, WidenedLoopTerminationNeedsTheCounterInsideTheWidenedState) {
    std::FILE* f = std::fopen(XBPF_SOURCE_DIR "/tests/fuzz/corpus/verifier/crash-widened-loop-termination", "rb");
    ASSERT_NE(f, nullptr);
    std::vector<std::uint8_t> input(4096);
    input.resize(std::fread(input.data(), 1, input.size(), f));
    std::fclose(f);
    ASSERT_GT(input.size(), 3u);
    auto slots = isa::from_bytes(std::span(input).subspan(3, (input.size() - 3) / 8 * 8));
    ASSERT_TRUE(slots);
    VerifyOptions vo;
    vo.type = object::ProgramType::Unspec;
    vo.raw_memory_size = input[1];
    vo.insn_limit = 10'000;
    EXPECT_FALSE(verify(*slots, vo).accepted) << "the loop at insn 37 never ends";
}

}  // namespace
}  // namespace xbpf::verifier
