// A seeded random generator of eBPF programs that are *almost* safe, for soundness testing of the verifier
// (tests/unit/verifier/soundness_test.cpp, tests/fuzz/fuzz_verifier.cpp): every program is a raw-memory program
// (VerifyOptions::type = Unspec, raw_memory_size = N: r1 points to N bytes, r2 = N), and its accesses sit right at
// the edges the verifier has to prove: about a third are accepted (three in five of the programs generated to be
// safe everywhere, VerifierCase::clean), and a verifier that is off by one, forgets a sign, a 32-bit truncation or a
// path, accepts a program that faults.
//
// Shape of a program:
//   prologue  r6 = r1 (the memory base for the whole main function), scalar registers set to constants or to values
//             loaded from the memory (unknown to the verifier), some stack slots written
//   body      templates, each self-contained and randomly perturbed near its safety boundary:
//               - loads of unknown values; random ALU/ALU64 ops (every op, imm and reg, movsx, bswap, neg)
//               - bounds-checked accesses: `if x OP K goto skip; p = base; p += x; *(S *)(p + off)` with every
//                 JMP/JMP32 op (signed and unsigned, imm and reg), one- and two-sided, inverted (`goto ok; ja skip`),
//                 jeq/jne/jset forms, and K within a few bytes of the last safe index N - S - off
//               - masked (&=, %=, /=, >>=) and shifted offsets; constant pointer moves; pointer differences
//               - stack accesses at constant and variable offsets, scalar and pointer spills and fills
//               - small bounded loops (counter compared with a constant, possibly indexing the memory)
//               - forward skips and if-else diamonds around other templates; div/mod by registers; atomics
//               - bpf-to-bpf calls to sub-programs that get the memory base, a scalar and a pointer to the
//                 caller's stack, and return a (possibly bounded) scalar the caller may use as an index
//               - helper calls whose memory arguments (pointer + constant or bounded size) end at the edge;
//                 bpf_loop with a callback that indexes the memory and updates a context on the caller's stack
//               - ALU chains on a loaded byte whose true range the generator computes (the access is placed at its
//                 edge), pointer walks, values merged from two paths, spilled slots clobbered at variable offsets
//   epilogue  r0 = some scalar; exit
// Every instruction is reachable in the CFG (ja only closes the then-part of a diamond). Nothing guarantees safety:
// the verifier decides.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "isa/instruction.hpp"
#include "support/program_gen.hpp"

namespace xbpf::test {

/// Where the generator's decisions come from: a seeded SplitMix64, or the bytes of a fuzz input (one to four bytes
/// per decision, so that libFuzzer's byte mutations change a program locally), continued by a SplitMix64 seeded
/// from the input once its bytes run out.
class Choices {
  public:
    /// Decisions from SplitMix64(seed).
    explicit Choices(std::uint64_t seed) : rng_(seed) {}
    /// Decisions read from `bytes` (which must outlive this object), then from a PRNG seeded by their hash.
    explicit Choices(std::span<const std::uint8_t> bytes);

    /// Uniform in [0, n) for n > 0.
    std::uint32_t below(std::uint32_t n);
    /// True with probability percent/100.
    bool chance(std::uint32_t percent) { return below(100) < percent; }
    /// 64 random bits.
    std::uint64_t next64();

  private:
    std::uint64_t take(int bytes);

    SplitMix64 rng_;
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

/// What the generator may emit.
struct VerifierGenOptions {
    std::uint32_t items = 14;                 ///< top-level templates in the main function
    std::uint32_t unprivileged_percent = 20;  ///< programs verified with VerifyOptions::privileged = false
    bool loops = true;                        ///< bounded loops (backward jumps)
    bool calls = true;                        ///< bpf-to-bpf calls to sub-programs
    bool atomics = true;                      ///< atomic operations on the stack and the memory
    bool helpers = true;                      ///< helper calls with memory arguments (and get_prandom_u32)
    /// Sign-extending loads (ldxs) from the stack; off steps around findings there (as `ldxs-stack` was,
    /// tests/fuzz/README.md).
    bool signed_stack_loads = true;
};

/// A generated program and the options to verify it with.
struct VerifierCase {
    std::vector<isa::RawInsn> insns;
    std::uint32_t mem_size = 0;  ///< VerifyOptions::raw_memory_size: r1 points to this many bytes, r2 holds it
    bool privileged = true;      ///< VerifyOptions::privileged
    /// Byte values that make some access of the program reach its extreme offset when every byte of the memory
    /// holds them (computed by the generator for the ALU-chain template): the oracle runs these contents first.
    std::vector<std::uint8_t> hints;
    /// Every template was generated to be safe (no deliberate step past an edge). Rejecting such a program is
    /// imprecision (of the verifier, or of the generator's own reasoning), not a soundness problem.
    bool clean = false;
};

/// A deterministic program: the same choices always give the same case.
VerifierCase generate_verifier_case(Choices& choices, const VerifierGenOptions& options = {});

/// generate_verifier_case with Choices(seed).
VerifierCase generate_verifier_case(std::uint64_t seed, const VerifierGenOptions& options = {});

}  // namespace xbpf::test
