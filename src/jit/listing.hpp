// Printing JIT output: machine code disassembled with Zydis (AT&T syntax, as bpftool's `prog dump jited` and
// objdump print it), each block annotated with the BPF instructions it comes from and, where line info exists, the
// source line.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::jit {

/// JitCode::insn_offsets entry of an instruction without code of its own.
inline constexpr std::uint32_t kNoCode = UINT32_MAX;

/// What disassemble_code needs: the code and, for each BPF instruction, where its code starts.
struct ListingInput {
    std::span<const std::uint8_t> code;  ///< the machine code
    /// The address the listing gives the code's first byte: jump and call targets print relative to it (0: as
    /// offsets into the code, as bpftool prints a JIT image).
    std::uint64_t address = 0;
    /// Per BPF instruction: offset of its code in `code`, or kNoCode; an optional last entry (index insns.size())
    /// marks where the program's own code ends and the shared exits and stubs begin.
    std::span<const std::uint32_t> insn_offsets;
    std::span<const isa::Instruction> insns;  ///< the BPF program (for the annotations); may be empty
    /// Names of native code positions (offset -> "xdp_prog", "entry trampoline", ...), printed as "<name>:".
    std::map<std::uint32_t, std::string> labels;
    /// The source line of BPF instruction `pc`, or "" (from BTF line info); may be empty.
    std::function<std::string(std::size_t pc)> source_line;
};

/// One machine instruction of a listing.
struct ListingLine {
    std::uint64_t offset = 0;  ///< from the start of the code
    std::string operation;     ///< mnemonic, with prefixes ("lock cmpxchg")
    std::string operands;      ///< AT&T operands, objdump's spacing ("%rsp,%rbp")
    std::vector<std::uint8_t> bytes;
    std::string label;  ///< ListingInput::labels at this offset, or ""
    /// The BPF instructions whose code begins here: [bpf_first, bpf_last] (several when a lowering folds an
    /// instruction into the next one, e.g. `r7 = r1; r7 += 14` -> one lea), or -1.
    std::int64_t bpf_first = -1;
    std::int64_t bpf_last = -1;
    bool stubs = false;  ///< the first line after the program's own code (shared exits, abort stubs)
    std::string source;  ///< the source line of bpf_first, when it has one
};

/// Decodes the whole code; an undecodable byte sequence is an error naming its offset.
Result<std::vector<ListingLine>> disassemble_code(const ListingInput& input);

/// objdump-style text: labels as "<name>:", per BPF instruction a "; <source>" line (when known, once per change)
/// and a "; <pc>: <bpf insn>" line, then "   off:\t<operation> <operands>" lines; with `opcodes`, each line's
/// bytes follow on their own line. The code after the program's own is marked "; exits and stubs".
std::string format_listing(std::span<const ListingLine> lines, std::span<const isa::Instruction> insns, bool opcodes);

}  // namespace xbpf::jit
