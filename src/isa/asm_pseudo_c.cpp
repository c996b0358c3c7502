// Assembler: the LLVM/kernel pseudo-C syntax, as llvm-objdump and the kernel verifier log print it.
//
//   r0 = 1 | w1 += w2 | r1 s>>= 3 | r0 = -r0 | r2 = be16 r2 | r2 = bswap64 r2 | r1 = (s8)r2
//   r1 = 0x1122334455667788 ll | r1 = map_by_fd(3) ll
//   r2 = *(u16 *)(r1 + 12) | r2 = *(s8 *)(r1 + 12) | r0 = *(u8 *)skb[12] | r0 = *(u16 *)skb[r1 + 12]
//   *(u32 *)(r10 - 4) = r1 | *(u64 *)(r10 - 8) = 7
//   lock *(u64 *)(r1 + 0) += r2 | r2 = atomic_fetch_add((u64 *)(r1 + 0), r2) | r2 = xchg_64(r1 + 8, r2)
//   r0 = cmpxchg_64(r1 + 0, r0, r2) | w0 = cmpxchg32_32(r1 + 0, w0, w2) | r2 = atomic64_xchg((u64 *)(r1 +0), r2)
//   if r1 s> 5 goto +2 | if w1 == w2 goto label | goto +5 <LBB0_2> | gotol +100000
#include <fmt/format.h>

#include "isa/asm_internal.hpp"

namespace xbpf::isa::asm_detail {
namespace {

// Access width in bytes of a cast type ("u16" -> 2), 0 if it is not one.
int type_bytes(std::string_view type) {
    if (type.size() < 2 || (type[0] != 'u' && type[0] != 's')) return 0;
    const std::string_view bits = type.substr(1);
    if (bits == "8") return 1;
    if (bits == "16") return 2;
    if (bits == "32") return 4;
    if (bits == "64") return 8;
    return 0;
}

bool is_signed_type(std::string_view type) { return !type.empty() && type[0] == 's'; }

}  // namespace

Result<Item> LineParser::pc_assignment() {
    XBPF_ASM_TRY(dst, parse_register("destination"));
    const Token op = peek();
    if (op.kind == TokenKind::Punct && op.text == "=") {
        next();
        return pc_assign_value(*dst);
    }
    const auto imm_op = op.kind == TokenKind::Punct ? find_op(Shape::AluImm, op.text, 0, dst->is32) : std::nullopt;
    if (!imm_op) return expected(fmt::format("assignment operator after '{}'", dst->text), op);
    next();
    if (at_register()) {
        XBPF_ASM_TRY(src, parse_register("source"));
        if (src->is32 != dst->is32)
            return error(src->column, fmt::format("register width mismatch: '{}' and '{}'", dst->text, src->text));
        const auto reg_op = find_op(Shape::AluReg, op.text, 0, dst->is32);
        if (!reg_op) return error(op, fmt::format("operator '{}' has no register form", op.text));
        XBPF_ASM_TRY(item, make(*reg_op));
        item->insn.dst = dst->num;
        item->insn.src = src->num;
        return item;
    }
    XBPF_ASM_TRY(n, parse_number(fmt::format("register or immediate after '{}'", op.text)));
    XBPF_ASM_TRY(v, imm32(*n));
    XBPF_ASM_TRY(item, make(*imm_op));
    item->insn.dst = dst->num;
    item->insn.imm = *v;
    return item;
}

Result<Item> LineParser::pc_assign_value(const Reg& dst) {
    // dst = -dst
    if (at_punct("-") && at_register(1)) {
        next();
        XBPF_ASM_TRY(src, parse_register("negated"));
        if (src->num != dst.num || src->is32 != dst.is32)
            return error(src->column, fmt::format("negation must use the same register on both sides ('{}' = -'{}')",
                                                  dst.text, src->text));
        XBPF_ASM_TRY(item, make(*find_op(Shape::Neg, "-", 0, dst.is32)));
        item->insn.dst = dst.num;
        return item;
    }
    // dst = imm | dst = imm64 ll
    if (at_number()) {
        const std::size_t start = pos_;
        XBPF_ASM_TRY(n, parse_number("immediate"));
        if (at_ident("ll")) {
            if (dst.is32) return error(dst.column, "a 64-bit immediate load needs a 64-bit register");
            pos_ = start;
            XBPF_ASM_TRY(item, make(Op::Lddw));
            XBPF_ASM_TRY(lddw, parse_lddw_operand(std::move(*item), dst));
            next();  // "ll"
            return lddw;
        }
        XBPF_ASM_TRY(v, imm32(*n));
        XBPF_ASM_TRY(item, make(*find_op(Shape::AluImm, "=", 0, dst.is32)));
        item->insn.dst = dst.num;
        item->insn.imm = *v;
        return item;
    }
    // dst = src
    if (at_register()) {
        XBPF_ASM_TRY(src, parse_register("source"));
        if (src->is32 != dst.is32)
            return error(src->column, fmt::format("register width mismatch: '{}' and '{}'", dst.text, src->text));
        XBPF_ASM_TRY(item, make(*find_op(Shape::AluReg, "=", 0, dst.is32)));
        item->insn.dst = dst.num;
        item->insn.src = src->num;
        return item;
    }
    // dst = (s8)src
    if (at_punct("(")) {
        next();
        const Token type = peek();
        if (type.kind != TokenKind::Ident) return expected("sign-extension type (s8, s16, s32)", type);
        next();
        if (auto r = expect_punct(")", "after sign-extension type"); !r) return std::unexpected(r.error());
        XBPF_ASM_TRY(src, parse_register("source"));
        const auto op = find_op(Shape::MovSx, type.text, 0, dst.is32);
        if (!op)
            return error(type, fmt::format("no sign-extending move from '{}' to a {}-bit register", type.text,
                                           dst.is32 ? 32 : 64));
        if (src->is32 != dst.is32)
            return error(src->column, fmt::format("register width mismatch: '{}' and '{}'", dst.text, src->text));
        XBPF_ASM_TRY(item, make(*op));
        item->insn.dst = dst.num;
        item->insn.src = src->num;
        return item;
    }
    // dst = *(uN *)(src + off) | r0 = *(uN *)skb[imm] | r0 = *(uN *)skb[src + imm]
    if (at_punct("*")) {
        next();
        XBPF_ASM_TRY(type, parse_cast());
        const int bytes = type_bytes(type->text);
        if (bytes == 0) return error(*type, fmt::format("unknown access type '{}'", type->text));
        if (at_ident("skb")) {
            next();
            if (is_signed_type(type->text) || bytes == 8)
                return error(*type, fmt::format("packet loads take u8, u16 or u32, not '{}'", type->text));
            if (dst.num != 0 || dst.is32)
                return error(dst.column, fmt::format("packet loads always write r0, not '{}'", dst.text));
            if (auto r = expect_punct("[", "after 'skb'"); !r) return std::unexpected(r.error());
            Item item;
            if (at_register()) {
                XBPF_ASM_TRY(src, parse_register("index"));
                XBPF_ASM_TRY(ind, make(*find_op(Shape::LdInd, type->text)));
                item = std::move(*ind);
                item.insn.src = src->num;
                if (at_punct("+") || at_punct("-")) {
                    const bool minus = at_punct("-");
                    next();
                    XBPF_ASM_TRY(n, parse_number("packet offset"));
                    if (minus) {
                        n->negative = !n->negative;
                        n->text = "-" + n->text;
                    }
                    XBPF_ASM_TRY(v, imm32(*n));
                    item.insn.imm = *v;
                }
            } else {
                XBPF_ASM_TRY(n, parse_number("packet offset"));
                XBPF_ASM_TRY(v, imm32(*n));
                XBPF_ASM_TRY(abs, make(*find_op(Shape::LdAbs, type->text)));
                item = std::move(*abs);
                item.insn.imm = *v;
            }
            if (auto r = expect_punct("]", "after packet offset"); !r) return std::unexpected(r.error());
            return item;
        }
        XBPF_ASM_TRY(mem, parse_mem("(", ")"));
        const Shape shape = is_signed_type(type->text) ? Shape::LdxSx : Shape::Ldx;
        const auto op = find_op(shape, type->text);
        if (!op) return error(*type, fmt::format("no load of type '{}'", type->text));
        if (dst.is32 && (shape == Shape::LdxSx || bytes == 8))
            return error(dst.column,
                         fmt::format("a '{}' load needs a 64-bit destination, found '{}'", type->text, dst.text));
        XBPF_ASM_TRY(item, make(*op));
        item->insn.dst = dst.num;
        item->insn.src = mem->base.num;
        item->insn.off = mem->off;
        return item;
    }
    const Token& word = peek();
    if (word.kind == TokenKind::Ident) {
        // dst = le16 dst | be32 dst | bswap64 dst
        const std::string_view w = word.text;
        const std::string_view kind = w.starts_with("bswap") ? "bswap"
                                      : w.starts_with("le")  ? "le"
                                      : w.starts_with("be")  ? "be"
                                                             : "";
        if (!kind.empty()) {
            const std::string_view bits = w.substr(kind.size());
            const int width = bits == "16" ? 16 : bits == "32" ? 32 : bits == "64" ? 64 : 0;
            if (width != 0) {
                next();
                XBPF_ASM_TRY(src, parse_register("byte swap"));
                if (src->num != dst.num)
                    return error(src->column, fmt::format("byte swap must use the same register on both sides "
                                                          "('{}' = {} '{}')",
                                                          dst.text, w, src->text));
                XBPF_ASM_TRY(item, make(*find_op(Shape::Endian, kind, width)));
                item->insn.dst = dst.num;
                return item;
            }
        }
        if (w == "map_by_fd" || w == "map_by_idx" || w == "map_val" || w == "var_addr" || w == "code_addr") {
            if (dst.is32) return error(dst.column, "a 64-bit immediate load needs a 64-bit register");
            XBPF_ASM_TRY(item, make(Op::Lddw));
            XBPF_ASM_TRY(lddw, parse_lddw_operand(std::move(*item), dst));
            if (at_ident("ll")) next();
            return lddw;
        }
        if (at_punct("(", 1)) return pc_atomic_call(dst);
    }
    return expected(fmt::format("value after '{} ='", dst.text), peek());
}

// r2 = atomic_fetch_add((u64 *)(r1 + 0), r2)   w2 = atomic_fetch_or((u32 *)(r1 + 0), w2)    (LLVM)
// r2 = xchg_64(r1 + 8, r2)                     w2 = xchg32_32(r1 + 8, w2)                   (LLVM)
// r0 = cmpxchg_64(r1 + 0, r0, r2)              w0 = cmpxchg32_32(r1 + 0, w0, w2)            (LLVM)
// r2 = atomic64_fetch_add((u64 *)(r1 +0), r2)  r0 = atomic64_cmpxchg((u64 *)(r1 +0), r0, r2) (kernel log)
Result<Item> LineParser::pc_atomic_call(const Reg& dst) {
    const Token fn = next();
    std::string_view base = fn.text;
    int width = 0;
    if (base.starts_with("atomic64_")) {
        base.remove_prefix(9);
        width = 64;
    } else if (base.starts_with("atomic_")) {
        base.remove_prefix(7);
    }
    if (base.ends_with("_64")) {
        base.remove_suffix(3);
        width = 64;
    } else if (base.ends_with("_32")) {
        base.remove_suffix(3);
        width = 32;
    }
    if (base == "xchg32" || base == "cmpxchg32") base.remove_suffix(2);
    std::string_view text;
    if (base == "fetch_add" || base == "fetch_or" || base == "fetch_and" || base == "fetch_xor")
        text = base.substr(6);
    else if (base == "xchg" || base == "cmpxchg")
        text = base;
    else
        return error(fn, fmt::format("unknown function '{}' (expected an atomic operation such as atomic_fetch_add, "
                                     "xchg_64 or cmpxchg_64)",
                                     fn.text));
    if (auto r = expect_punct("(", fmt::format("after '{}'", fn.text)); !r) return std::unexpected(r.error());
    MemRef mem;
    if (at_punct("(") && peek(1).kind == TokenKind::Ident && at_punct("*", 2)) {
        XBPF_ASM_TRY(type, parse_cast());
        const int type_width = type->text == "u32" ? 32 : type->text == "u64" ? 64 : 0;
        if (type_width == 0)
            return error(*type, fmt::format("atomic operations take u32 or u64, not '{}'", type->text));
        if (width != 0 && width != type_width)
            return error(*type, fmt::format("'{}' does not match the width of '{}'", type->text, fn.text));
        width = type_width;
        XBPF_ASM_TRY(m, parse_mem("(", ")"));
        mem = *m;
    } else {
        XBPF_ASM_TRY(m, parse_mem("", ""));
        mem = *m;
    }
    if (width == 0) width = dst.is32 ? 32 : 64;
    const auto check_width = [&](const Reg& r) -> Result<void> {
        if (width == 64 && r.is32)
            return error(r.column, fmt::format("64-bit atomic operation needs a 64-bit register, found '{}'", r.text));
        return {};
    };
    if (auto r = check_width(dst); !r) return std::unexpected(r.error());
    if (text == "cmpxchg") {
        if (dst.num != 0) return error(dst.column, fmt::format("cmpxchg always writes r0, not '{}'", dst.text));
        if (auto r = expect_punct(",", "after memory operand"); !r) return std::unexpected(r.error());
        XBPF_ASM_TRY(expected_reg, parse_register("comparand"));
        if (expected_reg->num != 0)
            return error(expected_reg->column,
                         fmt::format("cmpxchg always compares with r0, not '{}'", expected_reg->text));
    }
    if (auto r = expect_punct(",", "before source register"); !r) return std::unexpected(r.error());
    XBPF_ASM_TRY(src, parse_register("source"));
    if (auto r = check_width(*src); !r) return std::unexpected(r.error());
    if (text != "cmpxchg" && src->num != dst.num)
        return error(src->column, fmt::format("'{}' returns the old value in its source register: write '{} = {}(..., "
                                              "{})'",
                                              fn.text, src->text, fn.text, src->text));
    if (auto r = expect_punct(")", fmt::format("after '{}' arguments", fn.text)); !r) return std::unexpected(r.error());
    XBPF_ASM_TRY(item, make(*find_op(Shape::Atomic, text, width)));
    item->insn.dst = mem.base.num;
    item->insn.src = src->num;
    item->insn.off = mem.off;
    return item;
}

// *(u32 *)(r10 - 4) = r1 | *(u64 *)(r10 - 8) = 7
Result<Item> LineParser::pc_store() {
    next();  // "*"
    XBPF_ASM_TRY(type, parse_cast());
    const int bytes = type_bytes(type->text);
    if (bytes == 0 || is_signed_type(type->text))
        return error(*type, fmt::format("stores take u8, u16, u32 or u64, not '{}'", type->text));
    XBPF_ASM_TRY(mem, parse_mem("(", ")"));
    if (auto r = expect_punct("=", "after store address"); !r) return std::unexpected(r.error());
    if (at_register()) {
        XBPF_ASM_TRY(src, parse_register("source"));
        if (src->is32 && bytes == 8)
            return error(src->column, fmt::format("a u64 store needs a 64-bit source, found '{}'", src->text));
        XBPF_ASM_TRY(item, make(*find_op(Shape::Stx, type->text)));
        item->insn.dst = mem->base.num;
        item->insn.src = src->num;
        item->insn.off = mem->off;
        return item;
    }
    XBPF_ASM_TRY(n, parse_number("register or immediate to store"));
    XBPF_ASM_TRY(v, imm32(*n));
    XBPF_ASM_TRY(item, make(*find_op(Shape::St, type->text)));
    item->insn.dst = mem->base.num;
    item->insn.off = mem->off;
    item->insn.imm = *v;
    return item;
}

// lock *(u64 *)(r1 + 0) += r2 | lock *(u32 *)(r1 + 0) |= w2
Result<Item> LineParser::pc_lock() {
    next();  // "lock"
    next();  // "*"
    XBPF_ASM_TRY(type, parse_cast());
    const int width = type->text == "u32" ? 32 : type->text == "u64" ? 64 : 0;
    if (width == 0) return error(*type, fmt::format("atomic operations take u32 or u64, not '{}'", type->text));
    XBPF_ASM_TRY(mem, parse_mem("(", ")"));
    const Token op = peek();
    const auto atomic = op.kind == TokenKind::Punct ? find_op(Shape::Atomic, op.text, width) : std::nullopt;
    if (!atomic) return expected("atomic operator (+=, |=, &=, ^=)", op);
    next();
    XBPF_ASM_TRY(src, parse_register("source"));
    if (width == 64 && src->is32)
        return error(src->column,
                     fmt::format("64-bit atomic operation needs a 64-bit register, found '{}'", src->text));
    XBPF_ASM_TRY(item, make(*atomic));
    item->insn.dst = mem->base.num;
    item->insn.src = src->num;
    item->insn.off = mem->off;
    item->lossy_text = *atomic == Op::AtomicAdd32;
    return item;
}

// if r1 s> 5 goto +2 | if w1 == w2 goto label
Result<Item> LineParser::pc_if() {
    next();  // "if"
    XBPF_ASM_TRY(dst, parse_register("compared"));
    const Token op = peek();
    const auto imm_op = op.kind == TokenKind::Punct ? find_op(Shape::JmpImm, op.text, 0, dst->is32) : std::nullopt;
    if (!imm_op) return expected("comparison operator (==, !=, >, >=, <, <=, s>, s>=, s<, s<=, &)", op);
    next();
    Item item;
    if (at_register()) {
        XBPF_ASM_TRY(src, parse_register("compared"));
        if (src->is32 != dst->is32)
            return error(src->column, fmt::format("register width mismatch: '{}' and '{}'", dst->text, src->text));
        XBPF_ASM_TRY(made, make(*find_op(Shape::JmpReg, op.text, 0, dst->is32)));
        item = std::move(*made);
        item.insn.src = src->num;
    } else {
        XBPF_ASM_TRY(n, parse_number(fmt::format("register or immediate after '{}'", op.text)));
        XBPF_ASM_TRY(v, imm32(*n));
        XBPF_ASM_TRY(made, make(*imm_op));
        item = std::move(*made);
        item.insn.imm = *v;
    }
    item.insn.dst = dst->num;
    if (auto r = expect_ident("goto", "after comparison"); !r) return std::unexpected(r.error());
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

// goto +5 | goto label | gotol +100000
Result<Item> LineParser::pc_goto(bool is_long) {
    next();  // "goto" / "gotol"
    XBPF_ASM_TRY(target, parse_target());
    XBPF_ASM_TRY(item, make(is_long ? Op::Gotol : Op::Ja));
    if (target->label) {
        item->fixup = is_long ? Fixup::Imm : Fixup::Off;
        item->label = std::move(*target->label);
    } else if (is_long) {
        const Number& n = *target->offset;
        if (n.negative ? n.magnitude > 0x80000000ull : n.magnitude > 0x7fffffffull)
            return error(n.column, fmt::format("jump offset out of range: {} does not fit in 32 bits", n.text));
        XBPF_ASM_TRY(v, imm32(n));
        item->insn.imm = *v;
    } else {
        XBPF_ASM_TRY(off, jump_offset(*target->offset));
        item->insn.off = *off;
    }
    return item;
}

}  // namespace xbpf::isa::asm_detail
