// A seeded random generator of eBPF programs that the Linux verifier accepts, for differential testing of xbpf
// against the kernel (tests/unit/kernel/differential_test.cpp).
//
// Shape of every program (all control flow is forward, so there are no loops):
//   prologue  optional LD_ABS loads into r6..r9 (values the verifier cannot know, so it explores both sides of
//             later branches); every register r0..r9 initialised; the stack area r10-64..r10-1 initialised
//   body      random ALU/ALU64 (every op, imm and reg, cpu v4 sdiv/smod/movsx/bswap), JMP/JMP32 forward
//             conditionals, ja/gotol, stack stores and loads (incl. sign-extending), atomics on stack slots, lddw
//   epilogue  every register and stack slot folded into r0 (so a wrong value anywhere changes r0), then exit
// Every jump lands inside the body or on the first epilogue instruction. Programs with packet loads use only the
// non-fetching atomics: see the note in program_gen.cpp on a Linux 6.18 verifier precision-tracking bug.
#pragma once

#include <cstdint>
#include <vector>

#include "isa/instruction.hpp"

namespace xbpf::test {

/// What the generator may emit.
struct GenOptions {
    std::uint32_t body_items = 40;  ///< random body instructions (lddw counts once, for two slots)
    bool cpu_v4 = true;             ///< sdiv, smod, movsx, bswap, sign-extending loads, gotol
    bool atomics = true;            ///< atomic read-modify-write on stack slots
    bool stack = true;              ///< stack stores and loads in the body
    bool jumps = true;              ///< forward conditional and unconditional jumps
    /// Percent of programs (chosen by seed) whose prologue loads packet bytes with LD_ABS into r6..r9. Such programs
    /// need the packet: the kernel's socket-filter skb data, which for BPF_PROG_TEST_RUN starts after the 14-byte
    /// Ethernet header of the test data.
    std::uint32_t packet_load_percent = 25;
    bool fold_epilogue = true;  ///< fold all registers and stack slots into r0 before exit
};

/// Bytes of stack the generated programs use, at r10-kGenStackBytes .. r10-1.
inline constexpr int kGenStackBytes = 64;
/// Bytes of packet the generated LD_ABS loads may read (offsets 0 .. kGenPacketBytes-1).
inline constexpr int kGenPacketBytes = 48;

/// A deterministic program for `seed`: the same seed and options always give the same instructions.
std::vector<isa::RawInsn> generate_program(std::uint64_t seed, const GenOptions& options = {});

/// `program` with `r0 >>= 32` inserted before its final exit (jumps to that exit land on the shift), so a back end
/// that returns only the low 32 bits of r0 reports the high half.
std::vector<isa::RawInsn> with_high_half(std::vector<isa::RawInsn> program);

/// SplitMix64: small, fast, and the same sequence on every platform (unlike std:: distributions).
class SplitMix64 {
  public:
    explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
    /// Next 64 random bits.
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, n) for n > 0 (bias is negligible for the small n used here).
    std::uint32_t below(std::uint32_t n) { return static_cast<std::uint32_t>(next() % n); }
    /// True with probability percent/100.
    bool chance(std::uint32_t percent) { return below(100) < percent; }

  private:
    std::uint64_t state_;
};

}  // namespace xbpf::test
