// Relevance of registers and stack slots (src/verifier/cfg/relevance.*), and the pruning it allows: a stack slot whose
// value never reaches anything that matters may differ between states (the kernel's imprecise spilled scalars).
#include <gtest/gtest.h>

#include <string_view>

#include "isa/assembler.hpp"
#include "isa/instruction.hpp"
#include "verifier/cfg/cfg.hpp"
#include "verifier/cfg/relevance.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::verifier {
namespace {

Cfg relevance_of(std::string_view text, bool exit_checked = false) {
    auto raw = isa::assemble(text);
    EXPECT_TRUE(raw.has_value()) << (raw ? "" : raw.error().message);
    auto insns = isa::decode(*raw);
    EXPECT_TRUE(insns.has_value());
    auto cfg = build_cfg(*insns);
    EXPECT_TRUE(cfg.has_value()) << (cfg ? "" : cfg.error().message);
    compute_relevance(*insns, *cfg, exit_checked);
    return std::move(*cfg);
}

constexpr std::uint64_t kSlot0 = 1;  // fp-8
constexpr std::uint64_t kSlot1 = 2;  // fp-16

TEST(VerifierRelevance, SlotReadIntoABranchIsRelevant) {
    auto cfg = relevance_of(R"(
    *(u64 *)(r10 - 8) = 0
    r1 = *(u64 *)(r10 - 8)
    if r1 > 3 goto out
  out:
    r0 = 0
    exit
)");
    EXPECT_EQ(cfg.relevant_stack_in[1] & kSlot0, kSlot0);  // read into r1, which the branch compares
    EXPECT_EQ(cfg.relevant_stack_in[0] & kSlot0, 0u);      // the store overwrites the whole slot
    EXPECT_EQ(cfg.relevant_stack_in[2], 0u);
}

TEST(VerifierRelevance, SlotOnlyReturnedIsNotRelevant) {
    const char* text = R"(
    *(u64 *)(r10 - 8) = 0
    r1 = *(u64 *)(r10 - 8)
    r1 += 1
    *(u64 *)(r10 - 8) = r1
    r0 = *(u64 *)(r10 - 8)
    exit
)";
    auto cfg = relevance_of(text);
    for (std::size_t pc = 0; pc < cfg.relevant_stack_in.size(); ++pc) EXPECT_EQ(cfg.relevant_stack_in[pc], 0u) << pc;
    EXPECT_EQ(cfg.relevant_in[3], 0u);  // the stored r1 does not matter either
    // When the program's return value is checked, the slot (and what is stored into it) matters.
    auto checked = relevance_of(text, true);
    EXPECT_EQ(checked.relevant_stack_in[1] & kSlot0, kSlot0);
    EXPECT_NE(checked.relevant_in[3] & (1u << 1), 0u);
}

TEST(VerifierRelevance, PartialStoreKeepsTheSlotRelevant) {
    auto cfg = relevance_of(R"(
    *(u64 *)(r10 - 16) = 0
    *(u32 *)(r10 - 16) = 1
    r1 = *(u64 *)(r10 - 16)
    if r1 > 3 goto out
  out:
    r0 = 0
    exit
)");
    EXPECT_EQ(cfg.relevant_stack_in[1] & kSlot1, kSlot1);  // the upper 4 bytes survive the 4-byte store
    EXPECT_EQ(cfg.relevant_stack_in[0] & kSlot1, 0u);
}

TEST(VerifierRelevance, IndirectRelevantReadMakesEverySlotRelevant) {
    // r2 points into the stack: a relevant load through it cannot be attributed to a slot.
    auto cfg = relevance_of(R"(
    *(u64 *)(r10 - 8) = 0
    *(u64 *)(r10 - 16) = 0
    r2 = r10
    r2 += -16
    r1 = *(u64 *)(r2 + 0)
    if r1 > 3 goto out
  out:
    r0 = 0
    exit
)");
    EXPECT_EQ(cfg.relevant_stack_in[4], ~std::uint64_t{0});
    // Loads through pointers that cannot be stack pointers (the context) leave the stack alone.
    auto ctx = relevance_of(R"(
    *(u64 *)(r10 - 8) = 0
    r1 = *(u32 *)(r1 + 0)
    if r1 > 3 goto out
  out:
    r0 = 0
    exit
)");
    EXPECT_EQ(ctx.relevant_stack_in[1], 0u);
}

TEST(VerifierRelevance, CalleeStoreThroughCallerPointerKeepsValueRelevant) {
    // The callee writes the caller's slot, which the caller then compares: the stored value is relevant.
    auto cfg = relevance_of(R"(
    *(u64 *)(r10 - 8) = 0
    r1 = r10
    r1 += -8
    call f
    r1 = *(u64 *)(r10 - 8)
    if r1 > 3 goto out
  out:
    r0 = 0
    exit
  f:
    r2 = 7
    *(u64 *)(r1 + 0) = r2
    r0 = 0
    exit
)");
    const std::size_t store = 9;  // *(u64 *)(r1 + 0) = r2
    EXPECT_NE(cfg.relevant_in[store] & (1u << 2), 0u);
}

TEST(VerifierRelevance, IrrelevantStackCounterDoesNotExplodeTheWalk) {
    // A count kept in a slot and only returned: the loop head's states differ only in the slot, which pruning
    // ignores, so the walk is linear in the trip count (it was quadratic when every slot was compared).
    auto raw = isa::assemble(R"(
    r6 = 0
    *(u64 *)(r10 - 8) = 0
  loop:
    call bpf_get_prandom_u32
    if r0 > 100 goto skip
    r1 = *(u64 *)(r10 - 8)
    r1 += 1
    *(u64 *)(r10 - 8) = r1
  skip:
    r6 += 1
    if r6 < 3000 goto loop
    r0 = *(u64 *)(r10 - 8)
    exit
)");
    ASSERT_TRUE(raw.has_value());
    VerifyOptions options;
    options.type = object::ProgramType::SocketFilter;
    auto report = verify(*raw, options);
    EXPECT_TRUE(report.accepted) << report.summary();
    EXPECT_LT(report.insns_processed, 60'000u);
}

}  // namespace
}  // namespace xbpf::verifier
