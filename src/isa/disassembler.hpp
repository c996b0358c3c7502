// The disassembler: decoded instructions to text, in two syntaxes.
//
// PseudoC is the text llvm-objdump prints (LLVM's BPFInstrInfo.td asm strings), byte for byte as llvm-objdump 14
// prints `llvm-objdump -d`, and with FormatOptions::hex_immediates / alu32 as it prints `--print-imm-hex` (the
// default of LLVM 15 and later) / `--mattr=+alu32`. For encodings llvm-objdump 14 cannot decode it uses the spelling
// of later LLVM (17/18) and of the kernel's verifier log:
//   sdiv/smod          r1 s/= r2, w1 s%= 5
//   movsx              r1 = (s8)r2, w1 = (s16)w2
//   sign-extending ld  r1 = *(s8 *)(r2 + 4)
//   bswap              r1 = bswap16 r1
//   gotol, callx       gotol +70000, callx r1
//   store immediate    *(u32 *)(r10 - 8) = 100
//   jset, mod          if r1 & 0x10 goto +2, r1 %= r2
//   32-bit atomics     lock *(u32 *)(r1 + 0) |= w2, w2 = atomic_fetch_add((u32 *)(r1 + 0), w2),
//                      w2 = xchg32_32(r1 + 0, w2), w0 = cmpxchg32_32(r1 + 0, w0, w2)
//                      (llvm-objdump 14 decodes these only with --mattr=+alu32; without it, it prints <unknown>
//                      or, for a fetching add, the non-fetching `lock ... += r2`.)
// Deliberate differences from llvm-objdump 14, all on encodings clang never emits: LD_IND prints a nonzero imm
// (`skb[r3 + 12]`; LLVM drops it), callx names the register in dst (LLVM 14 reads it from imm), and fields the
// kernel rejects (nonzero reserved fields, r11+, an lddw whose second slot is not zero) print as <unknown> where
// LLVM ignores them.
//
// Mnemonic is the uBPF / bpf_conformance style, one regular grammar the assembler reads back:
//   mnemonic dst, src|imm[, offset]      registers %r0..%r10, immediates signed hex (0x0, -0x1), offsets +N / -N
//   add %r1, 0x2   mov32 %r0, %r1   neg %r1   le16 %r0   movsx864 %r1, %r2
//   jeq %r1, 0x0, +3   jsgt32 %r1, %r2, -1   ja +3   ja32 +70000
//   call 1   call local +3   call kfunc 17   callx %r1   exit
//   ldxw %r0, [%r1+4]   ldxsb %r0, [%r1-2]   stw [%r10-8], 0x5   stxdw [%r10-8], %r1   ldabsh 0xc   ldindb %r3, 0x0
//   lock add32 [%r1+0], %r2   lock fetch_or [%r1+8], %r2   lock xchg [%r1+0], %r2   lock cmpxchg32 [%r1+0], %r2
//   lddw %r0, 0x1122334455667788
//   lddw %r1, map_fd 5   lddw %r1, map_value 5, 8   lddw %r1, btf_id 7   lddw %r1, func +3
//   lddw %r1, map_idx 0  lddw %r1, map_idx_value 0, 8
// The mnemonic is the table's `mnemonic` column; atomics take the `lock` prefix because their mnemonics (add32, xchg)
// would otherwise collide with ALU ones, and the three call forms are told apart by a keyword as in bpf_conformance.
#pragma once

#include <cstddef>
#include <map>
#include <span>
#include <string>

#include "isa/instruction.hpp"

namespace xbpf::isa {

/// Which text form to print.
enum class Syntax {
    PseudoC,   ///< llvm-objdump's C-like form: "r0 = *(u32 *)(r1 + 4)"
    Mnemonic,  ///< uBPF / bpf_conformance assembly: "ldxw %r0, [%r1+4]"
};

/// Symbols by slot index, e.g. {{0, "prog"}, {5, "LBB0_2"}}. With labels, a jump gets llvm-objdump's suffix naming
/// the nearest symbol at or before its target: " <LBB0_2>" or " <prog+0x28>" (byte offset).
using Labels = std::map<std::size_t, std::string>;

/// How format_instruction prints.
struct FormatOptions {
    Syntax syntax = Syntax::PseudoC;
    bool hex_immediates = false;     ///< PseudoC: immediates and offsets in hex, as llvm-objdump --print-imm-hex
    bool alu32 = false;              ///< PseudoC: w registers for sub-64-bit loads, stores and atomics (--mattr=+alu32)
    const Labels* labels = nullptr;  ///< PseudoC: symbols for jump-target suffixes; null for none
};

/// Text of one decoded instruction at slot `pc`, e.g. "r0 = 1", "if r1 s> 5 goto +2", "lddw %r0, 0x1" — no address,
/// no bytes. The second slot of a lddw (`is_lddw_tail`) has no text of its own: the result is empty.
std::string format_instruction(const Instruction& insn, std::size_t pc, Syntax syntax = Syntax::PseudoC);

/// As above, with every option.
std::string format_instruction(const Instruction& insn, std::size_t pc, const FormatOptions& options);

/// How disassemble lays out a listing.
struct DisasmOptions {
    Syntax syntax = Syntax::PseudoC;
    bool show_bytes = true;       ///< the instruction's bytes, as llvm-objdump does unless --no-show-raw-insn
    bool show_index = true;       ///< the slot index, right-aligned in 8 columns, then ':'
    bool hex_immediates = false;  ///< see FormatOptions
    bool alu32 = false;           ///< see FormatOptions
    Labels labels;                ///< symbols: printed as "<name>:" header lines and used for jump suffixes
};

/// Full listing in llvm-objdump -d's layout, one line per instruction
/// ("      12:\t61 12 0c 00 00 00 00 00\tr2 = *(u32 *)(r1 + 12)"), lddw on one line with 16 bytes. Slots that do not
/// decode print "<unknown>" like llvm-objdump does (a lddw whose second slot is missing or not zero takes one slot).
/// Jump lines carry no <label> suffix unless labels are given. Runs of zero slots are printed, not elided (-z).
std::string disassemble(std::span<const RawInsn> program, const DisasmOptions& options = {});

}  // namespace xbpf::isa
