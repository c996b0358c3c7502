// The input format shared by fuzz_verifier and fuzz_jit (so that both start from corpus/verifier):
//   [mode] then
//   mode & 1 == 0  generated: the remaining bytes are the decisions of tests/support/verifier_gen.hpp's generator
//   mode & 1 == 1  raw: [memory size][flags][8-byte instruction slots...]; flags & 1: verify unprivileged
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <utility>

#include "fuzz_support.hpp"
#include "support/verifier_gen.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::fuzz {

/// The case an input describes, or nullopt for an input too short to describe one.
inline std::optional<test::VerifierCase> verifier_case_of(std::span<const std::uint8_t> input) {
    if (input.empty()) return std::nullopt;
    test::VerifierCase c;
    if ((input[0] & 1) == 0) {
        test::Choices choices(input.subspan(1));
        return test::generate_verifier_case(choices);
    }
    if (input.size() < 3) return std::nullopt;
    c.mem_size = input[1];
    c.privileged = (input[2] & 1) == 0;
    const auto code = input.subspan(3);
    auto slots = isa::from_bytes(code.first(code.size() - code.size() % 8));
    XBPF_FUZZ_CHECK(slots.has_value(), "from_bytes on whole slots");
    c.insns = std::move(*slots);
    return c;
}

/// Verifies `c` as the raw-memory program it is (type Unspec, its memory size and privilege), at `insn_limit`.
inline verifier::VerifyReport verify_case(const test::VerifierCase& c, std::uint64_t insn_limit) {
    verifier::VerifyOptions vo;
    vo.type = object::ProgramType::Unspec;
    vo.raw_memory_size = c.mem_size;
    vo.privileged = c.privileged;
    vo.insn_limit = insn_limit;
    return verifier::verify(c.insns, vo);
}

}  // namespace xbpf::fuzz
