// Assembler: the mnemonic syntax of uBPF and the bpf_conformance suite. The mnemonics are the `mnemonic` column of
// opcode_table.def; registers are written with or without '%'.
//
//   mov32 %r0, 0 | add r1, 2 | neg r0 | le16 r0 | be32 r0 | bswap64 r0 (swap64 too) | movsx864 r1, r2 | sdiv r1, 3
//   jeq r1, 0, +3 | jeq %r1, %r2, label | ja +1 | ja32 +100000 | call 1 | call local fn | callx r1 | exit
//   lddw r0, 0x1122334455667788 | lddw r1, map_by_fd(3)
//   ldxw r0, [r1+4] | ldxsb r0, [r1-2] | stw [r10-4], 5 | stxdw [%r10-8], %r1 | ldabsh 12 | ldindw r1, 4
//   lock add [r1+0], r2 | lock fetch add32 [r1], r2 | lock xchg [r1+8], r2 | lock cmpxchg [r1], r2
#include <string>

#include <fmt/format.h>

#include "isa/asm_internal.hpp"

namespace xbpf::isa::asm_detail {
namespace {

// bpf_conformance spelled the ALU64 byte swaps "swap16" .. "swap64" before RFC 9669 named them bswap.
std::string_view canonical_mnemonic(std::string_view m) {
    if (m == "swap16") return "bswap16";
    if (m == "swap32") return "bswap32";
    if (m == "swap64") return "bswap64";
    return m;
}

// The shape of the first non-atomic, non-call table row spelled `m`.
std::optional<Shape> mnemonic_shape(std::string_view m) {
    for (const OpInfo& row : all_ops()) {
        if (row.mnemonic != m || row.shape == Shape::Atomic) continue;
        return row.shape;
    }
    return std::nullopt;
}

}  // namespace

Result<Item> LineParser::mn_instruction() {
    const Token head = next();
    const std::string_view m = canonical_mnemonic(head.text);
    const auto shape = mnemonic_shape(m);
    if (!shape) return error(head, fmt::format("unknown instruction '{}'", head.text));
    const std::string after_dst = "after destination register";
    switch (*shape) {
        case Shape::AluImm:
        case Shape::AluReg: {
            XBPF_ASM_TRY(dst, parse_register("destination"));
            if (auto r = expect_punct(",", after_dst); !r) return std::unexpected(r.error());
            if (at_register()) {
                XBPF_ASM_TRY(src, parse_register("source"));
                const auto op = find_mnemonic(m, Shape::AluReg);
                if (!op) return error(head, fmt::format("'{}' has no register form", head.text));
                XBPF_ASM_TRY(item, make(*op));
                item->insn.dst = dst->num;
                item->insn.src = src->num;
                return item;
            }
            XBPF_ASM_TRY(n, parse_number("register or immediate source"));
            XBPF_ASM_TRY(v, imm32(*n));
            const auto op = find_mnemonic(m, Shape::AluImm);
            if (!op) return error(head, fmt::format("'{}' has no immediate form", head.text));
            XBPF_ASM_TRY(item, make(*op));
            item->insn.dst = dst->num;
            item->insn.imm = *v;
            return item;
        }
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Callx: {
            XBPF_ASM_TRY(dst, parse_register("destination"));
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.dst = dst->num;
            return item;
        }
        case Shape::MovSx: {
            XBPF_ASM_TRY(dst, parse_register("destination"));
            if (auto r = expect_punct(",", after_dst); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(src, parse_register("source"));
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.dst = dst->num;
            item->insn.src = src->num;
            return item;
        }
        case Shape::Ja:
        case Shape::Gotol: {
            XBPF_ASM_TRY(target, parse_target());
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            if (target->label) {
                item->fixup = *shape == Shape::Ja ? Fixup::Off : Fixup::Imm;
                item->label = std::move(*target->label);
            } else if (*shape == Shape::Ja) {
                XBPF_ASM_TRY(off, jump_offset(*target->offset));
                item->insn.off = *off;
            } else {
                XBPF_ASM_TRY(v, imm32(*target->offset));
                item->insn.imm = *v;
            }
            return item;
        }
        case Shape::JmpImm:
        case Shape::JmpReg: {
            XBPF_ASM_TRY(dst, parse_register("compared"));
            if (auto r = expect_punct(",", "after first compared register"); !r) return std::unexpected(r.error());
            Item item;
            if (at_register()) {
                XBPF_ASM_TRY(src, parse_register("compared"));
                XBPF_ASM_TRY(made, make(*find_mnemonic(m, Shape::JmpReg)));
                item = std::move(*made);
                item.insn.src = src->num;
            } else {
                XBPF_ASM_TRY(n, parse_number("register or immediate to compare with"));
                XBPF_ASM_TRY(v, imm32(*n));
                XBPF_ASM_TRY(made, make(*find_mnemonic(m, Shape::JmpImm)));
                item = std::move(*made);
                item.insn.imm = *v;
            }
            item.insn.dst = dst->num;
            if (auto r = expect_punct(",", "before jump target"); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(target, parse_target());
            if (target->label) {
                item.fixup = Fixup::Off;
                item.label = std::move(*target->label);
            } else {
                XBPF_ASM_TRY(off, jump_offset(*target->offset));
                item.insn.off = *off;
            }
            return item;
        }
        case Shape::Exit: return make(Op::Exit);
        case Shape::Lddw: {
            XBPF_ASM_TRY(dst, parse_register("destination"));
            if (auto r = expect_punct(",", after_dst); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(item, make(Op::Lddw));
            return parse_lddw_operand(std::move(*item), *dst);
        }
        case Shape::LdAbs: {
            XBPF_ASM_TRY(n, parse_number("packet offset"));
            XBPF_ASM_TRY(v, imm32(*n));
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.imm = *v;
            return item;
        }
        case Shape::LdInd: {
            XBPF_ASM_TRY(src, parse_register("index"));
            if (auto r = expect_punct(",", "after index register"); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(n, parse_number("packet offset"));
            XBPF_ASM_TRY(v, imm32(*n));
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.src = src->num;
            item->insn.imm = *v;
            return item;
        }
        case Shape::Ldx:
        case Shape::LdxSx: {
            XBPF_ASM_TRY(dst, parse_register("destination"));
            if (auto r = expect_punct(",", after_dst); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(mem, parse_mem("[", "]"));
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.dst = dst->num;
            item->insn.src = mem->base.num;
            item->insn.off = mem->off;
            return item;
        }
        case Shape::St:
        case Shape::Stx: {
            XBPF_ASM_TRY(mem, parse_mem("[", "]"));
            if (auto r = expect_punct(",", "after memory operand"); !r) return std::unexpected(r.error());
            XBPF_ASM_TRY(item, make(*find_mnemonic(m, *shape)));
            item->insn.dst = mem->base.num;
            item->insn.off = mem->off;
            if (*shape == Shape::Stx) {
                XBPF_ASM_TRY(src, parse_register("source"));
                item->insn.src = src->num;
            } else {
                XBPF_ASM_TRY(n, parse_number("immediate to store"));
                XBPF_ASM_TRY(v, imm32(*n));
                item->insn.imm = *v;
            }
            return item;
        }
        case Shape::Call:
        case Shape::CallLocal:
        case Shape::CallKfunc:
        case Shape::Atomic: break;  // "call" and "lock ..." are parsed before the table lookup
    }
    return error(head, fmt::format("unknown instruction '{}'", head.text));
}

// lock [fetch] <op>[32] [rD+off], rS   (bpf_conformance); also "lock fetch_add32 ..." as the table spells it.
Result<Item> LineParser::mn_lock() {
    next();  // "lock"
    bool fetch = false;
    if (at_ident("fetch")) {
        fetch = true;
        next();
    }
    const Token op = peek();
    if (op.kind != TokenKind::Ident) return expected("atomic operation after 'lock'", op);
    next();
    std::string name(op.text);
    const bool always_fetches = name.starts_with("xchg") || name.starts_with("cmpxchg");
    if (fetch && !always_fetches) name = "fetch_" + name;
    const auto atomic = find_mnemonic(name, Shape::Atomic);
    if (!atomic) return error(op, fmt::format("unknown atomic operation '{}{}'", fetch ? "fetch " : "", op.text));
    XBPF_ASM_TRY(mem, parse_mem("[", "]"));
    if (auto r = expect_punct(",", "after memory operand"); !r) return std::unexpected(r.error());
    XBPF_ASM_TRY(src, parse_register("source"));
    XBPF_ASM_TRY(item, make(*atomic));
    item->insn.dst = mem->base.num;
    item->insn.src = src->num;
    item->insn.off = mem->off;
    return item;
}

}  // namespace xbpf::isa::asm_detail
