// The eBPF assembler: text in the LLVM/kernel pseudo-C syntax or the uBPF/bpf_conformance mnemonic syntax (chosen
// per line) to instruction slots. Listings printed by llvm-objdump or `xbpf disasm` assemble back to the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::isa {

/// Options for assemble().
struct AsmOptions {
    std::string file_name;  ///< used in error locations
};

/// Assemble text in either syntax (chosen per line) into instruction slots.
///
/// Pseudo-C (as llvm-objdump prints it): `r0 = 1`, `w1 += w2`, `r1 s>>= 3`, `r0 = -r0`, `r2 = be16 r2`,
/// `r1 = (s8)r2`, `if r1 s> 5 goto +2`, `goto label`, `gotol +100000`, `*(u32 *)(r10 - 4) = r1`,
/// `r2 = *(u16 *)(r1 + 12)`, `lock *(u64 *)(r1 + 0) += r2`, `r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)`,
/// `r2 = xchg_64(r1 + 8, r2)`, `r0 = cmpxchg_64(r1 + 0, r0, r2)`, `r1 = 0x1122334455667788 ll`,
/// `r0 = *(u8 *)skb[12]`, `call 1`, `call bpf_map_lookup_elem`, `call label`, `callx r1`, `exit`.
/// Mnemonic (uBPF, bpf_conformance): `mov32 %r0, 0`, `jeq r1, 0, +3`, `ldxw r0, [r1+4]`, `stxdw [%r10-8], %r1`,
/// `lddw r0, 0x1122334455667788`, `call local fn`, `lock fetch add [r1+0], r2`, `ja +1`, `exit`.
/// Both: `label:` definitions, `;`, `//` and `#` (at line start or after blank) comments, and objdump decorations
/// (`   0:\tb7 00 ...\t`, `0000000000000050 <LBB0_2>:`, `goto +2 <LBB0_2>`).
///
/// 32-bit immediates accept -2^31..2^32-1 (two's complement), 64-bit ones -2^63..2^64-1. Every error carries the
/// file name and the 1-based line and column. Never throws.
Result<std::vector<RawInsn>> assemble(std::string_view text, const AsmOptions& options = {});

}  // namespace xbpf::isa
