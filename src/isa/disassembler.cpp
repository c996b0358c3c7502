#include "isa/disassembler.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace xbpf::isa {
namespace {

// ---- Number formats ----

// llvm's formatImm: decimal, or with --print-imm-hex "0x1f" / "-0x1f" (MCInstPrinter::formatHex on a signed value).
std::string llvm_imm(std::int64_t value, bool hex) {
    if (!hex) return fmt::format("{}", value);
    if (value < 0) return fmt::format("-{:#x}", std::uint64_t{0} - static_cast<std::uint64_t>(value));
    return fmt::format("{:#x}", value);
}

// llvm's printBrTargetOperand: a sign always, "+3" / "-3" or "+0x3" / "-0x3".
std::string llvm_branch(std::int64_t offset, bool hex) {
    return fmt::format("{}{}", offset >= 0 ? "+" : "", llvm_imm(offset, hex));
}

// llvm's printMemOperand: "r10 - 8", "r1 + 0".
std::string llvm_address(std::uint8_t base, std::int64_t off, bool hex) {
    return fmt::format("r{} {} {}", base, off < 0 ? '-' : '+', llvm_imm(off < 0 ? -off : off, hex));
}

// uBPF-style signed hex immediate: 0x0, 0x1f, -0x1.
std::string asm_imm(std::int64_t value) {
    if (value < 0) return fmt::format("-{:#x}", std::uint64_t{0} - static_cast<std::uint64_t>(value));
    return fmt::format("{:#x}", value);
}

// Jump and call offsets: +3, -3, +0.
std::string asm_offset(std::int64_t offset) { return fmt::format("{:+d}", offset); }

// Memory operand: [%r10-8], [%r1+0].
std::string asm_memory(std::uint8_t base, std::int16_t off) { return fmt::format("[%r{}{:+d}]", base, off); }

// ---- Labels ----

// llvm-objdump's jump suffix: the last symbol at or below the target address (unsigned, so a negative target wraps
// to the top of the address space), " <sym>" or " <sym+0xoff>".
std::string label_suffix(const Labels& labels, std::int64_t target_slot) {
    if (labels.empty()) return {};
    auto it = target_slot < 0 ? labels.end() : labels.upper_bound(static_cast<std::size_t>(target_slot));
    if (it == labels.begin()) return {};
    --it;
    const std::uint64_t target = static_cast<std::uint64_t>(target_slot) * sizeof(RawInsn);
    const std::uint64_t address = static_cast<std::uint64_t>(it->first) * sizeof(RawInsn);
    if (address == target) return fmt::format(" <{}>", it->second);
    return fmt::format(" <{}+{:#x}>", it->second, target - address);
}

// ---- Pseudo-C ----

class PseudoC {
  public:
    PseudoC(const Instruction& insn, std::size_t pc, const FormatOptions& options)
        : insn_(insn),
          pc_(pc),
          row_(info(insn.op)),
          hex_(options.hex_immediates),
          alu32_(options.alu32),
          labels_(options.labels) {}

    std::string print() const {
        const std::string_view text = row_.text;
        const char w = is_32bit(insn_.op) ? 'w' : 'r';
        switch (row_.shape) {
            case Shape::AluImm: return fmt::format("{}{} {} {}", w, insn_.dst, text, imm(insn_.imm));
            case Shape::AluReg: return fmt::format("{}{} {} {}{}", w, insn_.dst, text, w, insn_.src);
            case Shape::Neg: return fmt::format("{0}{1} = -{0}{1}", w, insn_.dst);
            case Shape::MovSx: return fmt::format("{0}{1} = ({2}){0}{3}", w, insn_.dst, text, insn_.src);
            // Byte swaps operate on the whole register: llvm prints r even for class ALU (le/be).
            case Shape::Endian: return fmt::format("r{0} = {1}{2} r{0}", insn_.dst, text, row_.width);
            case Shape::Ja: return fmt::format("goto {}{}", branch(insn_.off), suffix());
            case Shape::Gotol: return fmt::format("gotol {}{}", branch(insn_.imm), suffix());
            case Shape::JmpImm:
                return fmt::format("if {}{} {} {} goto {}{}", w, insn_.dst, text, imm(insn_.imm), branch(insn_.off),
                                   suffix());
            case Shape::JmpReg:
                return fmt::format("if {0}{1} {2} {0}{3} goto {4}{5}", w, insn_.dst, text, insn_.src, branch(insn_.off),
                                   suffix());
            case Shape::Call:
            case Shape::CallLocal:
            case Shape::CallKfunc: return fmt::format("call {}", imm(insn_.imm));
            case Shape::Callx: return fmt::format("callx r{}", insn_.dst);
            case Shape::Exit: return "exit";
            case Shape::Lddw: return lddw();
            case Shape::LdAbs: return fmt::format("r0 = *({} *)skb[{}]", text, imm(insn_.imm));
            case Shape::LdInd:  // llvm prints no imm here (clang never sets it); show a nonzero one as the kernel does
                if (insn_.imm == 0) return fmt::format("r0 = *({} *)skb[r{}]", text, insn_.src);
                return fmt::format("r0 = *({} *)skb[{}]", text, llvm_address(insn_.src, insn_.imm, hex_));
            case Shape::Ldx:
                return fmt::format("{}{} = *({} *)({})", narrow_reg(), insn_.dst, text, address(insn_.src));
            case Shape::LdxSx: return fmt::format("r{} = *({} *)({})", insn_.dst, text, address(insn_.src));
            case Shape::St: return fmt::format("*({} *)({}) = {}", text, address(insn_.dst), imm(insn_.imm));
            case Shape::Stx:
                return fmt::format("*({} *)({}) = {}{}", text, address(insn_.dst), narrow_reg(), insn_.src);
            case Shape::Atomic: return atomic();
        }
        return "<unknown>";
    }

  private:
    std::string imm(std::int64_t value) const { return llvm_imm(value, hex_); }
    std::string branch(std::int64_t offset) const { return llvm_branch(offset, hex_); }
    std::string address(std::uint8_t base) const { return llvm_address(base, insn_.off, hex_); }
    std::string suffix() const {
        return labels_ == nullptr ? std::string() : label_suffix(*labels_, insn_.target(pc_));
    }
    // Sub-64-bit loads and stores name the w register only when decoding for alu32 (LLVM's BPFALU32 namespace).
    char narrow_reg() const { return alu32_ && row_.width < 8 ? 'w' : 'r'; }

    std::string lddw() const {
        if (insn_.src == kPseudoImm64)
            return fmt::format("r{} = {} ll", insn_.dst, imm(static_cast<std::int64_t>(insn_.imm64)));
        // LLVM's LD_pseudo: the pseudo kind and the first slot's imm, zero-extended (the second slot is not shown).
        return fmt::format("ld_pseudo\tr{}, {}, {}", insn_.dst, imm(insn_.src),
                           imm(static_cast<std::uint32_t>(insn_.imm)));
    }

    // The table's text is the operator ("+=") for the non-fetching forms, the operation name ("add") for the
    // fetching ones, and "xchg" / "cmpxchg" for the exchanges.
    std::string atomic() const {
        const std::string_view text = row_.text;
        const bool wide = row_.width == 64;
        const std::string_view size = wide ? "u64" : "u32";
        const std::string mem = address(insn_.dst);
        if (text.ends_with('=')) {
            // LLVM 14's non-alu32 XADDW prints the 32-bit add with an r register; every other 32-bit atomic exists
            // only in its alu32 form.
            const char v = !wide && (alu32_ || row_.disc_value != 0) ? 'w' : 'r';
            return fmt::format("lock *({} *)({}) {} {}{}", size, mem, text, v, insn_.src);
        }
        const char v = wide ? 'r' : 'w';
        if (text == "xchg")
            return fmt::format("{0}{1} = xchg{2}_{3}({4}, {0}{1})", v, insn_.src, wide ? "" : "32", row_.width, mem);
        if (text == "cmpxchg")
            return fmt::format("{0}0 = cmpxchg{1}_{2}({3}, {0}0, {0}{4})", v, wide ? "" : "32", row_.width, mem,
                               insn_.src);
        return fmt::format("{0}{1} = atomic_fetch_{2}(({3} *)({4}), {0}{1})", v, insn_.src, text, size, mem);
    }

    const Instruction& insn_;
    std::size_t pc_;
    const OpInfo& row_;
    bool hex_;
    bool alu32_;
    const Labels* labels_;
};

// ---- Mnemonic ----

std::string_view pseudo_name(std::uint8_t src) {
    switch (src) {
        case kPseudoMapFd: return "map_fd";
        case kPseudoMapValue: return "map_value";
        case kPseudoBtfId: return "btf_id";
        case kPseudoFunc: return "func";
        case kPseudoMapIdx: return "map_idx";
        case kPseudoMapIdxValue: return "map_idx_value";
        default: return {};
    }
}

std::string mnemonic_lddw(const Instruction& insn) {
    const std::string_view name = pseudo_name(insn.src);
    if (insn.src == kPseudoImm64 || name.empty()) return fmt::format("lddw %r{}, {:#x}", insn.dst, insn.imm64);
    if (insn.src == kPseudoFunc) return fmt::format("lddw %r{}, {} {}", insn.dst, name, asm_offset(insn.imm));
    if (insn.src == kPseudoMapValue || insn.src == kPseudoMapIdxValue)
        return fmt::format("lddw %r{}, {} {}, {}", insn.dst, name, insn.imm, insn.next_imm);
    return fmt::format("lddw %r{}, {} {}", insn.dst, name, insn.imm);
}

std::string mnemonic(const Instruction& insn) {
    const OpInfo& row = info(insn.op);
    const std::string_view mn = row.mnemonic;
    switch (row.shape) {
        case Shape::AluImm: return fmt::format("{} %r{}, {}", mn, insn.dst, asm_imm(insn.imm));
        case Shape::AluReg:
        case Shape::MovSx: return fmt::format("{} %r{}, %r{}", mn, insn.dst, insn.src);
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Callx: return fmt::format("{} %r{}", mn, insn.dst);
        case Shape::Ja: return fmt::format("{} {}", mn, asm_offset(insn.off));
        case Shape::Gotol: return fmt::format("{} {}", mn, asm_offset(insn.imm));
        case Shape::JmpImm:
            return fmt::format("{} %r{}, {}, {}", mn, insn.dst, asm_imm(insn.imm), asm_offset(insn.off));
        case Shape::JmpReg: return fmt::format("{} %r{}, %r{}, {}", mn, insn.dst, insn.src, asm_offset(insn.off));
        case Shape::Call:  // a signed number alone would read back as a local call: say "helper" then
            return insn.imm < 0 ? fmt::format("{} helper {}", mn, insn.imm) : fmt::format("{} {}", mn, insn.imm);
        case Shape::CallLocal: return fmt::format("{} local {}", mn, asm_offset(insn.imm));
        case Shape::CallKfunc:
            if (insn.off == 0) return fmt::format("{} kfunc {}", mn, insn.imm);
            return fmt::format("{} kfunc {}, {}", mn, insn.imm, insn.off);
        case Shape::Exit: return std::string(mn);
        case Shape::Lddw: return mnemonic_lddw(insn);
        case Shape::LdAbs: return fmt::format("{} {}", mn, asm_imm(insn.imm));
        case Shape::LdInd: return fmt::format("{} %r{}, {}", mn, insn.src, asm_imm(insn.imm));
        case Shape::Ldx:
        case Shape::LdxSx: return fmt::format("{} %r{}, {}", mn, insn.dst, asm_memory(insn.src, insn.off));
        case Shape::St: return fmt::format("{} {}, {}", mn, asm_memory(insn.dst, insn.off), asm_imm(insn.imm));
        case Shape::Stx: return fmt::format("{} {}, %r{}", mn, asm_memory(insn.dst, insn.off), insn.src);
        case Shape::Atomic: return fmt::format("lock {} {}, %r{}", mn, asm_memory(insn.dst, insn.off), insn.src);
    }
    return "<unknown>";
}

// ---- Listing ----

void append_bytes(std::string& out, std::span<const RawInsn> slots) {
    const std::vector<std::uint8_t> bytes = to_bytes(slots);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0) out += ' ';
        out += fmt::format("{:02x}", bytes[i]);
    }
}

// The slot's instruction, with a lddw joined to its second slot; nullopt when it does not decode on its own.
}  // namespace

std::string format_instruction(const Instruction& insn, std::size_t pc, Syntax syntax) {
    FormatOptions options;
    options.syntax = syntax;
    return format_instruction(insn, pc, options);
}

std::string format_instruction(const Instruction& insn, std::size_t pc, const FormatOptions& options) {
    if (insn.is_lddw_tail) return {};
    if (options.syntax == Syntax::Mnemonic) return mnemonic(insn);
    return PseudoC(insn, pc, options).print();
}

std::string disassemble(std::span<const RawInsn> program, const DisasmOptions& options) {
    FormatOptions format;
    format.syntax = options.syntax;
    format.hex_immediates = options.hex_immediates;
    format.alu32 = options.alu32;
    format.labels = options.labels.empty() ? nullptr : &options.labels;

    std::string out;
    for (std::size_t pc = 0; pc < program.size();) {
        if (const auto label = options.labels.find(pc); label != options.labels.end())
            out += fmt::format("{}<{}>:\n", out.empty() ? "" : "\n", label->second);
        const Result<Instruction> insn = decode_at(program, pc);
        const std::size_t slots = insn && insn->op == Op::Lddw ? 2 : 1;
        if (options.show_index) out += fmt::format("{:>8}:\t", pc);
        if (options.show_bytes) {
            append_bytes(out, program.subspan(pc, slots));
            out += '\t';
        }
        out += insn ? format_instruction(*insn, pc, format) : std::string("<unknown>");
        out += '\n';
        pc += slots;
    }
    return out;
}

}  // namespace xbpf::isa
