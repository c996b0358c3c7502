// Differential tests of the two engines: generated programs run in the interpreter and in JIT code must give the
// same r0, the same memory afterwards and the same errors (issue 5: "generated programs ... accepted by the
// verifier run in interpreter and JIT and, where available, in the kernel: same r0, same memory and map side
// effects").
//
//   EngineDiff.KernelAcceptedPrograms   tests/support/program_gen (every ALU/JMP op of RFC 9669, atomics on the
//                                       stack, LD_ABS, lddw): interpreter and JIT, checked and unchecked, with and
//                                       without constant blinding; and, where bpf() works, the kernel's r0.
//   EngineDiff.VerifiedMemoryPrograms   tests/support/verifier_gen (loops, sub-programs, helpers, bpf_loop callbacks,
//                                       pointer walks at the edges of a memory block): programs xbpf's verifier
//                                       accepts run unchecked in both engines (JIT code built from the verifier's
//                                       facts) on several memory contents; every program, accepted or not, runs
//                                       checked in both, where faults must be the same faults.
//
// A program whose result depends on where the stack is (a privileged program may turn r10 or a spilled pointer
// into a number) proves nothing about the engines: each is first run twice in the interpreter from two stack
// depths, and skipped if those runs differ.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "isa/disassembler.hpp"
#include "jit/jit.hpp"
#include "kernel/bpf_syscall.hpp"
#include "support/engine_diff.hpp"
#include "support/insn_builder.hpp"
#include "support/program_gen.hpp"
#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"
#include "vm/object.hpp"
#include "vm/vm.hpp"

namespace xbpf::test {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr std::uint64_t kKernelAccepted = 600;
constexpr std::uint64_t kVerified = 1'500;
#else
constexpr std::uint64_t kKernelAccepted = 4'000;
constexpr std::uint64_t kVerified = 10'000;
#endif

std::uint64_t env_or(const char* name, std::uint64_t fallback) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 0) : fallback;
}

/// Attaches JIT code compiled with `options` to `program`; an error means the JIT refused the program.
Result<void> attach_jit(vm::Program& program, const jit::JitOptions& options) {
    auto code = jit::compile(program, options);
    if (!code) return std::unexpected(code.error());
    program.set_native(*code);
    return {};
}

std::vector<std::uint8_t> random_bytes(SplitMix64& rng, std::size_t n) {
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng.next());
    return out;
}

TEST(EngineDiff, KernelAcceptedPrograms) {
    const std::uint64_t programs = env_or("XBPF_ENGINE_DIFF_PROGRAMS", kKernelAccepted);
    std::string why;
    const bool kernel = kernel::available(&why);
    if (!kernel) std::cout << "[ EngineDiff ] kernel column skipped: " << why << "\n";
    SplitMix64 rng(0x5eed);
    const std::vector<std::uint8_t> packet = random_bytes(rng, kGenPacketBytes + 16);
    std::uint64_t compared = 0, skipped = 0, kernel_compared = 0;
    for (std::uint64_t seed = 1; seed <= programs; ++seed) {
        const std::vector<RawInsn> insns = generate_program(seed);
        auto program = vm::Program::load(insns);
        ASSERT_TRUE(program) << program.error().to_string();
        const EngineOutcome interp = run_engine(*program, {}, packet, true, vm::EngineKind::Interp);
        if (address_dependent(*program, {}, packet, true)) {
            ++skipped;
            continue;
        }
        ASSERT_TRUE(interp.ok) << "seed " << seed << ": " << interp.error;
        for (const bool checked : {true, false}) {
            for (const bool blind : {false, true}) {
                if (blind && seed % 4 != 0) continue;  // a quarter of the programs also run blinded
                jit::JitOptions options;
                options.checked = checked;
                options.blind_constants = blind;
                auto attached = attach_jit(*program, options);
                ASSERT_TRUE(attached) << "seed " << seed
                                      << ": the JIT refused the program: " << attached.error().to_string() << "\n"
                                      << engine_diff_listing(insns);
                const EngineOutcome jitted = run_engine(*program, {}, packet, checked, vm::EngineKind::Jit);
                ASSERT_TRUE(jitted.native || !jitted.ok) << "seed " << seed << ": the run did not enter JIT code";
                ASSERT_TRUE(same_outcome(interp, jitted))
                    << "seed " << seed << (checked ? " checked" : " unchecked") << (blind ? " blinded" : "")
                    << ": interpreter " << interp.to_string() << ", JIT " << jitted.to_string() << "\n"
                    << engine_diff_listing(insns);
            }
        }
        ++compared;
        // The kernel reports the low 32 bits of r0 (BPF_PROG_TEST_RUN); its socket filter sees the packet after a
        // 14-byte Ethernet header (see tests/unit/kernel/differential_test.cpp).
        if (kernel && seed % 8 == 0) {
            std::vector<std::uint8_t> frame(14, 0);
            frame.insert(frame.end(), packet.begin(), packet.end());
            auto fd = kernel::load(insns, kernel::ProgType::SocketFilter);
            if (!fd) continue;  // e.g. cpu v4 instructions on an older kernel
            auto k = kernel::test_run(*fd, frame);
            ASSERT_TRUE(k) << k.error().to_string();
            jit::JitOptions options;
            options.checked = false;
            ASSERT_TRUE(attach_jit(*program, options));
            const EngineOutcome jitted = run_engine(*program, {}, packet, false, vm::EngineKind::Jit);
            ASSERT_EQ(static_cast<std::uint32_t>(jitted.r0), static_cast<std::uint32_t>(k->retval))
                << "seed " << seed << ": JIT vs kernel\n"
                << engine_diff_listing(insns);
            ++kernel_compared;
        }
    }
    std::cout << fmt::format(
        "[ EngineDiff ] {} programs: {} compared (checked + unchecked, a quarter blinded too), "
        "{} address-dependent skipped, {} also against the kernel\n",
        programs, compared, skipped, kernel_compared);
    EXPECT_GT(compared, programs * 9 / 10);
}

TEST(EngineDiff, VerifiedMemoryPrograms) {
    const std::uint64_t programs = env_or("XBPF_ENGINE_DIFF_PROGRAMS", kVerified);
    const std::uint64_t first = env_or("XBPF_ENGINE_DIFF_FIRST_SEED", 1);
    std::uint64_t accepted = 0, address_dependent_programs = 0;
    EngineDiffStats total;
    for (std::uint64_t seed = first; seed < first + programs; ++seed) {
        const VerifierCase c = generate_verifier_case(seed);
        verifier::VerifyOptions vo;
        vo.type = object::ProgramType::Unspec;
        vo.raw_memory_size = c.mem_size;
        vo.privileged = c.privileged;
        vo.insn_limit = 20'000;
        const verifier::VerifyReport report = verifier::verify(c.insns, vo);
        SplitMix64 rng(seed * 0x9e3779b97f4a7c15ull);
        std::vector<std::vector<std::uint8_t>> contents;
        if (!c.hints.empty()) contents.emplace_back(c.mem_size, c.hints.front());
        for (int i = 0; i < 3; ++i) contents.push_back(random_bytes(rng, c.mem_size));
        EngineDiffStats stats;
        const std::string problem = compare_engines(c, report, contents, stats);
        ASSERT_EQ(problem, "") << "seed " << seed << (report.accepted ? " (accepted)" : " (rejected)") << "\n"
                               << engine_diff_listing(c.insns);
        if (stats.address_dependent) ++address_dependent_programs;
        if (report.accepted && !stats.address_dependent) ++accepted;
        total.checked_runs += stats.checked_runs;
        total.faults += stats.faults;
        total.unchecked_runs += stats.unchecked_runs;
    }
    std::cout << fmt::format(
        "[ EngineDiff ] {} generated programs: {} accepted ({} unchecked runs compared), {} "
        "checked runs compared ({} faults, the same in both), {} address-dependent skipped\n",
        programs, accepted, total.unchecked_runs, total.checked_runs, total.faults, address_dependent_programs);
    EXPECT_GT(accepted, programs / 5);
    EXPECT_GT(total.faults, 0u);
}

}  // namespace
}  // namespace xbpf::test
