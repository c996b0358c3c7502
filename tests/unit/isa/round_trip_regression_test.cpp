// Regressions found by fuzzing (tests/fuzz/README.md, "Findings"): listings must assemble back to the same bytes.
#include <gtest/gtest.h>

#include "isa/assembler.hpp"
#include "isa/disassembler.hpp"

namespace xbpf::isa {
namespace {

std::vector<RawInsn> round_trip(const std::vector<RawInsn>& program, Syntax syntax, bool bytes) {
    DisasmOptions options;
    options.syntax = syntax;
    options.show_bytes = bytes;
    auto back = assemble(disassemble(program, options));
    EXPECT_TRUE(back) << back.error().to_string();
    return back ? *back : std::vector<RawInsn>{};
}

// call-negative-imm: a helper call with a negative id printed as "call -5" read back as a local call.
TEST(RoundTripRegression, HelperCallWithNegativeId) {
    const std::vector<RawInsn> program = {{0x85, 0, 0, 0, -5}, {0x95, 0, 0, 0, 0}};
    EXPECT_EQ(round_trip(program, Syntax::Mnemonic, false), program);  // "call helper -5"
    EXPECT_EQ(round_trip(program, Syntax::Mnemonic, true), program);
    EXPECT_EQ(round_trip(program, Syntax::PseudoC, true), program);  // llvm's "call -5"; the bytes decide
    const std::vector<RawInsn> local = {{0x85, 0, 1, 0, 1}, {0x95, 0, 0, 0, 0}, {0xb7, 0, 0, 0, 1}, {0x95, 0, 0, 0, 0}};
    EXPECT_EQ(round_trip(local, Syntax::PseudoC, true), local);
    EXPECT_EQ(round_trip(local, Syntax::Mnemonic, false), local);
}

// lddw-tail-imm: a lddw whose pseudo source needs a zero second imm, with a nonzero one, listed as a valid lddw
// without that imm; it does not decode, so it must list as <unknown> (and re-assemble from its bytes).
TEST(RoundTripRegression, LddwWithNonzeroTailImmIsUnknown) {
    const std::vector<RawInsn> program = {{0x18, 1, 1, 0, 5}, {0, 0, 0, 0, 7}, {0x95, 0, 0, 0, 0}};
    DisasmOptions options;
    options.syntax = Syntax::Mnemonic;
    const std::string text = disassemble(program, options);
    EXPECT_NE(text.find("<unknown>"), std::string::npos) << text;
    EXPECT_EQ(round_trip(program, Syntax::Mnemonic, true), program);
    auto decoded = decode_at(program, 0);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().where.insn, 1u);
}

}  // namespace
}  // namespace xbpf::isa
