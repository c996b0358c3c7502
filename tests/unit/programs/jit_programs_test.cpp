// The object cases (cases.cpp) through xbpf's JIT, and mutations of them.
//
//   JitPrograms.Cases/NAME        each case loaded with LoadOptions::compile_native = jit::native_compiler(): the
//                                 program must get native code and meet the same hand-derived expectations as in
//                                 the interpreter (xbpf_programs_test.cpp).
//   JitPrograms.MutationsAgree    issue 5: "generated programs (and mutations of tests/programs) accepted by the
//                                 verifier run in interpreter and JIT ... same r0, same memory and map side
//                                 effects". Each case's program gets seeded random mutations (an immediate, a jump
//                                 condition, a memory offset, a jump offset); those xbpf's verifier accepts (as an
//                                 unprivileged user's: no pointer may reach a map or r0) run on
//                                 the case's input in two fresh loads of the object, one interpreted and one
//                                 JIT-compiled: retval, data_out, ctx_out and every map must be identical.
#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "cases.hpp"
#include "isa/opcodes.hpp"
#include "jit/jit.hpp"
#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "support/program_gen.hpp"
#include "vm/object.hpp"

namespace xbpf::test::programs {
namespace {

vm::TestRunInput input_of(const Case& c, const vm::LoadedProgram& prog) {
    vm::TestRunInput in;
    in.data_in = c.data_in;
    in.ctx_in = c.ctx_in;
    in.repeat = c.repeat;
    in.checked = !prog.runs_unchecked();
    return in;
}

vm::LoadOptions jit_options(bool unprivileged = false) {
    vm::LoadOptions o;
    o.compile_native = jit::native_compiler();
    o.unprivileged = unprivileged;
    return o;
}

/// Mutants are verified as an unprivileged user's: a privileged program may store a pointer in a map or return it,
/// and the two loads' packets and maps live at different addresses, so such a mutant proves nothing about the
/// engines. (Unprivileged loads also get blinded constants in the JIT.)
vm::LoadOptions mutant_options(bool jit) {
    vm::LoadOptions o = jit ? jit_options(true) : vm::LoadOptions{};
    o.unprivileged = true;
    return o;
}

DumpFn dump_of(const vm::Object& obj) {
    return [&obj](std::string_view name) -> Result<std::vector<maps::MapEntry>> {
        auto m = obj.map(name);
        if (!m) return make_error(ErrorCode::kInvalidArgument, "no map '" + std::string(name) + "'");
        return m->dump();
    };
}

class JitPrograms : public ::testing::TestWithParam<Case> {};

TEST_P(JitPrograms, Cases) {
    const Case& c = GetParam();
    std::string why;
    auto spec = load_spec(c.object, &why);
    if (!spec) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << why;
    const std::string where = c.object + "/" + c.program;
    auto obj = vm::Object::load(*spec, jit_options());
    ASSERT_TRUE(obj.has_value()) << where << ": " << obj.error().to_string();
    const vm::LoadedProgram* prog = (*obj)->program(c.program);
    ASSERT_NE(prog, nullptr) << where;
    ASSERT_NE(prog->program().native(), nullptr) << where << ": no native code: " << prog->native_error();
    auto out = vm::test_run(*prog, input_of(c, *prog));
    ASSERT_TRUE(out.has_value()) << where << ": " << out.error().to_string();
    for (const auto& m : check_case(c, *spec, *out, dump_of(**obj))) ADD_FAILURE() << where << " (JIT): " << m;
}

INSTANTIATE_TEST_SUITE_P(Cases, JitPrograms, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

/// One random change to `insns` that keeps the program decodable: an ALU/JMP immediate, a jump condition, a load or
/// store offset, or a jump offset (kept inside the program). Returns false when slot `i` has nothing to change.
bool mutate_slot(std::vector<isa::RawInsn>& insns, std::size_t i, SplitMix64& rng) {
    isa::RawInsn& r = insns[i];
    if (i > 0 && insns[i - 1].opcode == 0x18) return false;  // the second slot of an lddw
    const std::uint8_t cls = r.opcode & 0x07;
    const bool jmp = cls == 0x05 || cls == 0x06;
    const std::uint8_t op = r.opcode & 0xf0;
    if (jmp && (op == 0x80 || op == 0x90)) return false;  // call, exit: a changed id or kind is just refused
    static const std::int32_t kImms[] = {0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 0x7fffffff, INT32_MIN};
    switch (rng.below(4)) {
        case 0:                                                       // immediate (ALU, JMP, ST)
            if ((r.opcode & 0x08) != 0 && cls != 0x03) return false;  // register source (except STX)
            r.imm = rng.chance(50) ? kImms[rng.below(16)] : r.imm + static_cast<std::int32_t>(rng.below(9)) - 4;
            return true;
        case 1: {  // jump condition
            static const std::uint8_t kConds[] = {0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0};
            if (!jmp || op == 0x00) return false;
            r.opcode = static_cast<std::uint8_t>((r.opcode & 0x0f) | kConds[rng.below(11)]);
            return true;
        }
        case 2:                                          // memory offset
            if (cls < 0x01 || cls > 0x03) return false;  // LDX, ST, STX
            r.off = static_cast<std::int16_t>(r.off + static_cast<std::int16_t>(rng.below(17)) - 8);
            return true;
        default: {  // jump offset, kept inside the program
            if (!jmp || (op == 0x00 && cls == 0x06)) return false;
            const std::int64_t target = static_cast<std::int64_t>(i) + 1 + r.off + rng.below(7) - 3;
            if (target < 0 || target >= static_cast<std::int64_t>(insns.size())) return false;
            r.off = static_cast<std::int16_t>(target - static_cast<std::int64_t>(i) - 1);
            return true;
        }
    }
}

#if defined(__SANITIZE_ADDRESS__)
constexpr int kMutantsPerCase = 6;
#else
constexpr int kMutantsPerCase = 30;
#endif

TEST(JitPrograms, MutationsAgree) {
    std::string no_kernel;
    const bool kernel = kernel::available(&no_kernel);
    if (!kernel) std::cout << "[ JitPrograms ] kernel column skipped: " << no_kernel << "\n";
    std::size_t tried = 0, accepted = 0, compared = 0, kernel_compared = 0, kernel_rejected = 0;
    const char* every = std::getenv("XBPF_JIT_MUTANTS_KERNEL_EVERY");  // 1: every accepted mutant
    const std::size_t kernel_every = every != nullptr && std::atoi(every) > 0 ? std::atoi(every) : 4;
    for (const Case& c : cases()) {
        std::string why;
        auto spec = load_spec(c.object, &why);
        if (!spec) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << why;
        std::size_t index = spec->programs.size();
        for (std::size_t p = 0; p < spec->programs.size(); ++p)
            if (spec->programs[p].name == c.program) index = p;
        ASSERT_LT(index, spec->programs.size()) << c.name;
        SplitMix64 rng(std::hash<std::string>{}(c.name));
        for (int m = 0; m < kMutantsPerCase; ++m) {
            object::ObjectSpec mutant = *spec;
            auto& insns = mutant.programs[index].insns;
            std::string what;
            for (int changes = 1 + static_cast<int>(rng.below(2)), tries = 0; changes > 0 && tries < 50; ++tries) {
                const std::size_t i = rng.below(static_cast<std::uint32_t>(insns.size()));
                if (mutate_slot(insns, i, rng)) {
                    what += fmt::format(" slot {}", i);
                    --changes;
                }
            }
            ++tried;
            auto interp = vm::Object::load(mutant, mutant_options(false));  // a rejected mutant fails here
            if (!interp) continue;
            ++accepted;
            auto jitted = vm::Object::load(mutant, mutant_options(true));
            ASSERT_TRUE(jitted.has_value()) << c.name << what << ": " << jitted.error().to_string();
            const vm::LoadedProgram* a = (*interp)->program(c.program);
            const vm::LoadedProgram* b = (*jitted)->program(c.program);
            ASSERT_TRUE(a && b);
            ASSERT_NE(b->program().native(), nullptr) << c.name << what << ": " << b->native_error();
            auto out_a = vm::test_run(*a, input_of(c, *a));
            auto out_b = vm::test_run(*b, input_of(c, *b));
            ASSERT_EQ(out_a.has_value(), out_b.has_value())
                << c.name << what << ": " << (out_a ? out_b.error().to_string() : out_a.error().to_string());
            if (!out_a) {
                EXPECT_EQ(out_a.error().to_string(), out_b.error().to_string()) << c.name << what;
                continue;
            }
            EXPECT_EQ(out_a->retval, out_b->retval) << c.name << what << ": retval, interpreter vs JIT";
            EXPECT_EQ(hex(out_a->data_out), hex(out_b->data_out)) << c.name << what << ": data_out";
            EXPECT_EQ(hex(out_a->ctx_out), hex(out_b->ctx_out)) << c.name << what << ": ctx_out";
            for (const auto& d : compare_maps(mutant, dump_of(**interp), dump_of(**jitted)))
                ADD_FAILURE() << c.name << what << ": " << d;
            ++compared;
            // The kernel, where bpf() works: the same mutant, the same input (it reports r0's low 32 bits).
            // Every fourth accepted mutant: a kernel XDP test run costs milliseconds (RCU grace periods).
            if (!kernel || accepted % kernel_every != 0) continue;
            auto kobj = kernel::Object::load(mutant);
            if (!kobj) {
                // xbpf accepts what the kernel refuses: a verifier question, not an engine one; say which.
                ++kernel_rejected;
                std::cout << "[ JitPrograms ] the kernel refuses " << c.name << what << ": "
                          << kobj.error().message.substr(0, 300) << "\n";
                continue;
            }
            auto kout = (*kobj)->test_run(c.program, input_of(c, *b));
            ASSERT_TRUE(kout.has_value()) << c.name << what << ": " << kout.error().to_string();
            EXPECT_EQ(static_cast<std::uint32_t>(out_b->retval), static_cast<std::uint32_t>(kout->retval))
                << c.name << what << ": retval, JIT vs kernel";
            EXPECT_EQ(hex(out_b->data_out), hex(kout->data_out)) << c.name << what << ": data_out, JIT vs kernel";
            const DumpFn kernel_dump = [&](std::string_view name) { return (*kobj)->dump_map(name); };
            for (const auto& d : compare_maps(mutant, dump_of(**jitted), kernel_dump))
                ADD_FAILURE() << c.name << what << " (JIT vs kernel): " << d;
            ++kernel_compared;
        }
    }
    std::cout << fmt::format(
        "[ JitPrograms ] {} mutants of {} cases: {} accepted by the verifier, {} compared "
        "(interpreter vs JIT); {} also run in the kernel, {} the kernel refused\n",
        tried, cases().size(), accepted, compared, kernel_compared, kernel_rejected);
    EXPECT_GT(compared, tried / 10);
}

}  // namespace
}  // namespace xbpf::test::programs
