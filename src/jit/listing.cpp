#include "jit/listing.hpp"

#include <Zydis/Zydis.h>
#include <fmt/format.h>

#include "isa/disassembler.hpp"

namespace xbpf::jit {

namespace {

// Zydis prints "mov %rsp, %rbp"; objdump (and bpftool) print "mov    %rsp,%rbp". Splits the mnemonic (with its
// prefixes) from the operands and drops the space after each operand separator.
void split_text(std::string_view text, ListingLine& line) {
    // Prefixes (lock, rep, ...) are words followed by another word that is still part of the operation.
    std::size_t op_end = 0;
    for (;;) {
        const std::size_t space = text.find(' ', op_end);
        if (space == std::string_view::npos) {
            op_end = text.size();
            break;
        }
        const std::string_view word = text.substr(op_end, space - op_end);
        const bool prefix = word == "lock" || word == "rep" || word == "repe" || word == "repne" || word == "repz" ||
                            word == "repnz" || word == "notrack" || word == "bnd" || word == "data16";
        if (!prefix) {
            op_end = space;
            break;
        }
        op_end = space + 1;
    }
    line.operation = std::string(text.substr(0, op_end));
    std::string_view rest = op_end < text.size() ? text.substr(op_end + 1) : std::string_view{};
    std::string operands;
    int depth = 0;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        const char c = rest[i];
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (c == ' ' && i > 0 && rest[i - 1] == ',' && depth == 0) continue;
        operands += c;
    }
    line.operands = std::move(operands);
}

}  // namespace

Result<std::vector<ListingLine>> disassemble_code(const ListingInput& input) {
    // The first and last BPF instruction whose code begins at each offset (consecutive instructions share an offset
    // when a lowering folds one into the next; an lddw's second slot has the next instruction's offset).
    const std::size_t n = input.code.size();
    std::vector<std::int64_t> first(n + 1, -1), last(n + 1, -1);
    std::size_t stubs_at = SIZE_MAX;
    for (std::size_t pc = 0; pc < input.insn_offsets.size(); ++pc) {
        const std::uint32_t off = input.insn_offsets[pc];
        if (off == kNoCode || off > n) continue;
        if (pc == input.insns.size() && !input.insns.empty()) {
            stubs_at = off;
            continue;
        }
        if (first[off] < 0) first[off] = static_cast<std::int64_t>(pc);
        last[off] = static_cast<std::int64_t>(pc);
    }
    ZydisDecoder decoder;
    ZydisFormatter formatter;
    if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64)) ||
        !ZYAN_SUCCESS(ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_ATT)))
        return make_error(ErrorCode::kUnsupported, "Zydis could not be initialised");
    // objdump's "0x8(%rdi)", "$0x1" and "0xe", not "0x08(%rdi)" or "0xE".
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_DISP_PADDING, ZYDIS_PADDING_DISABLED);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_IMM_PADDING, ZYDIS_PADDING_DISABLED);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
    ZydisFormatterSetProperty(&formatter, ZYDIS_FORMATTER_PROP_ADDR_PADDING_ABSOLUTE, ZYDIS_PADDING_DISABLED);
    std::vector<ListingLine> lines;
    std::size_t off = 0;
    std::size_t next = 0;  // offsets below `next` have been attached to a line
    while (off < n) {
        ZydisDecodedInstruction insn;
        ZydisDecodedOperand operands[ZYDIS_MAX_OPERAND_COUNT];
        char text[128];
        ZyanStatus status = ZydisDecoderDecodeFull(&decoder, input.code.data() + off, n - off, &insn, operands);
        if (ZYAN_SUCCESS(status))
            status = ZydisFormatterFormatInstruction(&formatter, &insn, operands, insn.operand_count_visible, text,
                                                     sizeof(text), input.address + off, nullptr);
        if (!ZYAN_SUCCESS(status))
            return make_error(ErrorCode::kParse, fmt::format("machine code offset {:#x}: not an x86-64 instruction "
                                                             "(Zydis status {:#x})",
                                                             off, static_cast<std::uint32_t>(status)));
        ListingLine line;
        line.offset = off;
        split_text(text, line);
        line.bytes.assign(input.code.begin() + static_cast<std::ptrdiff_t>(off),
                          input.code.begin() + static_cast<std::ptrdiff_t>(off + insn.length));
        if (const auto it = input.labels.find(static_cast<std::uint32_t>(off)); it != input.labels.end())
            line.label = it->second;
        // Offsets inside this instruction (only if the table is wrong) are attached here too, never lost.
        for (; next < off + insn.length && next <= n; ++next) {
            if (first[next] >= 0) {
                if (line.bpf_first < 0) line.bpf_first = first[next];
                line.bpf_last = last[next];
            }
            if (next == stubs_at) line.stubs = true;
        }
        if (line.bpf_first >= 0 && input.source_line)
            line.source = input.source_line(static_cast<std::size_t>(line.bpf_first));
        off += insn.length;
        lines.push_back(std::move(line));
    }
    return lines;
}

std::string format_listing(std::span<const ListingLine> lines, std::span<const isa::Instruction> insns, bool opcodes) {
    std::string out;
    std::string last_source;
    for (const ListingLine& line : lines) {
        if (!line.label.empty()) out += fmt::format("{}:\n", line.label);
        if (line.stubs) out += "; exits and stubs\n";
        if (!line.source.empty() && line.source != last_source) {
            out += fmt::format("; {}\n", line.source);
            last_source = line.source;
        }
        for (std::int64_t pc = line.bpf_first; pc >= 0 && pc <= line.bpf_last; ++pc) {
            const auto i = static_cast<std::size_t>(pc);
            if (i >= insns.size()) {
                out += fmt::format("; insn {}\n", i);
                continue;
            }
            if (insns[i].is_lddw_tail) continue;
            out += fmt::format("; {}: {}\n", i, isa::format_instruction(insns[i], i));
        }
        const std::string text =
            line.operands.empty() ? line.operation : fmt::format("{:<6} {}", line.operation, line.operands);
        out += fmt::format("{:>4x}:\t{}\n", line.offset, text);
        if (opcodes) out += fmt::format("\t{:02x}\n", fmt::join(line.bytes, " "));
    }
    return out;
}

}  // namespace xbpf::jit
