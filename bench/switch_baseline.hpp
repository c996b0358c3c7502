// A reference interpreter for the benchmarks only: the classic design of uBPF's ubpf_exec loop (fetch the raw
// 8-byte instruction, bounds-check pc, `switch` on the opcode byte, call a bounds-check function on every load
// and store against the memory buffer and the stack). It is NOT uBPF (uBPF is not packaged in Debian and its code
// is not copied here); it is our own minimal implementation of that design, so the benchmark can show what
// direct threading and pre-decoding buy over it. Covers ALU/ALU64, JMP/JMP32, LDX/ST/STX, lddw and exit — what
// the compute kernels use; anything else stops with an error.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "isa/instruction.hpp"

namespace xbpf::bench {

/// Runs `program` with r1 = mem, r2 = mem.size(). nullopt on an unsupported opcode or a failed bounds check.
std::optional<std::uint64_t> run_switch_baseline(std::span<const isa::RawInsn> program, std::span<std::uint8_t> mem);

}  // namespace xbpf::bench
