// Loop summarisation (src/verifier/analyzer/widening.cpp): the counter relation (RegState::ghost) must survive only
// the operations that keep "counter = value at the widened head + delta", and the termination proof must fail
// whenever the counter may not move, may move both ways, or may wrap. Every loop here is far beyond the instruction
// budget of the kernel-style walk, so the verdict is the summarised walk's.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "isa/assembler.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::verifier {
namespace {

VerifyReport verify_text(std::string_view text) {
    auto raw = isa::assemble(text);
    EXPECT_TRUE(raw.has_value()) << (raw ? "" : raw.error().message);
    VerifyOptions options;  // raw memory program: r1 = 64 bytes of memory
    options.raw_memory_size = 64;
    return verify(*raw, options);
}

std::string message(const VerifyReport& r) { return r.findings.empty() ? "" : r.findings.front().message; }

TEST(VerifierWidening, CounterStepInABoundedRangeIsAccepted) {
    // r1 grows by 1..8 each time (a random amount): the delta range [1, 8] excludes 0.
    auto r = verify_text(R"(
    r6 = 0
  loop:
    call bpf_get_prandom_u32
    r0 &= 7
    r0 += 1
    r6 += r0
    if r6 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_TRUE(r.accepted) << r.summary();
}

TEST(VerifierWidening, CounterStepThatMayBeZeroIsRejected) {
    auto r = verify_text(R"(
    r6 = 0
  loop:
    call bpf_get_prandom_u32
    r0 &= 7
    r6 += r0
    if r6 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(message(r), "loop at insn 1 is not proven to terminate");
}

TEST(VerifierWidening, CounterThroughMultiplicationLosesTheRelation) {
    // r6 = r6 * 1 + 1 changes r6 by +1, but a multiplication drops the relation: not proven.
    auto r = verify_text(R"(
    r6 = 0
  loop:
    r6 *= 1
    r6 += 1
    if r6 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(message(r), "loop at insn 1 is not proven to terminate");
}

TEST(VerifierWidening, CounterThroughSpillAndFillKeepsTheRelation) {
    auto r = verify_text(R"(
    *(u64 *)(r10 - 8) = 0
  loop:
    r1 = *(u64 *)(r10 - 8)
    r2 = r1
    r2 += 1
    *(u64 *)(r10 - 8) = r2
    if r2 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_TRUE(r.accepted) << r.summary();
}

TEST(VerifierWidening, ThirtyTwoBitCounterThatWrapsIsRejected) {
    // w1 counts up and wraps to 0 after 2^32 steps: the loop ends, but only after more than 2^23 iterations, and
    // the wrap breaks the "+1" relation on the way.
    auto r = verify_text(R"(
    w1 = 0
  loop:
    w1 += 1
    if w1 != 0 goto loop
    r0 = 0
    exit
)");
    EXPECT_FALSE(r.accepted);
}

TEST(VerifierWidening, ThirtyTwoBitCounterIsAccepted) {
    auto r = verify_text(R"(
    w1 = 0
  loop:
    w1 += 1
    if w1 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_TRUE(r.accepted) << r.summary();
}

TEST(VerifierWidening, CounterGoingBothWaysIsRejected) {
    // +3 on one way around, -1 on the other: the loop may never end (r7 keeps the kernel-style walk from ever
    // seeing a state twice, so only the summary can tell).
    auto r = verify_text(R"(
    r6 = 0
    r7 = 0
  loop:
    r7 += 1
    call bpf_get_prandom_u32
    if r0 > 5 goto up
    r6 += -1
    goto next
  up:
    r6 += 3
  next:
    if r6 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(message(r), "loop at insn 2 is not proven to terminate");
}

TEST(VerifierWidening, SummarisedLoopStillChecksMemoryAccesses) {
    // r6 >> 14 indexes 64 bytes, checked against 71: bytes 64..71 are read only once r6 passes 2^20, which the
    // kernel-style walk never reaches (it runs out of instructions); the summary finds it.
    auto r = verify_text(R"(
    r7 = r1
    r6 = 0
  loop:
    r2 = r6
    r2 >>= 14
    if r2 > 71 goto next
    r3 = r7
    r3 += r2
    r0 = *(u8 *)(r3 + 0)
  next:
    r6 += 1
    if r6 < 3000000 goto loop
    r0 = 0
    exit
)");
    EXPECT_FALSE(r.accepted);
    EXPECT_EQ(message(r).rfind("invalid access to memory", 0), 0u) << message(r);
}

}  // namespace
}  // namespace xbpf::verifier
