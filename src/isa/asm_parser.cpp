// Assembler: the operand grammar both syntaxes share, calls, and the per-line choice of syntax.
#include <fmt/format.h>

#include "isa/asm_internal.hpp"

namespace xbpf::isa::asm_detail {
namespace {

// "r7" / "w7" / "%r7" -> (7, is32); nullopt when the token is not spelled like a register. Numbers past 10 are
// returned as they are so the caller can say "unknown register".
struct RegSpelling {
    unsigned num;
    bool is32;
};

std::optional<RegSpelling> register_spelling(const Token& tok) {
    if (tok.kind != TokenKind::Ident) return std::nullopt;
    std::string_view s = tok.text;
    if (s.starts_with('%')) s.remove_prefix(1);
    if (s.size() < 2 || s.size() > 4 || (s[0] != 'r' && s[0] != 'w')) return std::nullopt;
    unsigned num = 0;
    for (char c : s.substr(1)) {
        if (c < '0' || c > '9') return std::nullopt;
        num = num * 10 + static_cast<unsigned>(c - '0');
    }
    return RegSpelling{num, s[0] == 'w'};
}

std::string describe(const Token& tok) {
    if (tok.kind == TokenKind::End) return "end of line";
    return fmt::format("'{}'", tok.text);
}

}  // namespace

std::optional<Op> find_op(Shape shape, std::string_view text, int width, std::optional<bool> is32) {
    for (const OpInfo& row : all_ops()) {
        if (row.shape != shape || row.text != text) continue;
        if (width != 0 && row.width != width) continue;
        if (is32 && is_32bit(row.op) != *is32) continue;
        return row.op;
    }
    return std::nullopt;
}

std::optional<Op> find_mnemonic(std::string_view mnemonic, Shape shape) {
    for (const OpInfo& row : all_ops())
        if (row.shape == shape && row.mnemonic == mnemonic) return row.op;
    return std::nullopt;
}

// ---- cursor and diagnostics ----

const Token& LineParser::peek(std::size_t ahead) const {
    const std::size_t i = pos_ + ahead;
    return i < tokens_.size() ? tokens_[i] : tokens_.back();
}

const Token& LineParser::next() {
    const Token& tok = peek();
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return tok;
}

bool LineParser::at_punct(std::string_view p, std::size_t ahead) const {
    const Token& tok = peek(ahead);
    return tok.kind == TokenKind::Punct && tok.text == p;
}

bool LineParser::at_ident(std::string_view word, std::size_t ahead) const {
    const Token& tok = peek(ahead);
    return tok.kind == TokenKind::Ident && tok.text == word;
}

bool LineParser::at_register(std::size_t ahead) const { return register_spelling(peek(ahead)).has_value(); }

bool LineParser::at_number(std::size_t ahead) const {
    if (at_punct("-", ahead) || at_punct("+", ahead)) ++ahead;
    return peek(ahead).kind == TokenKind::Number;
}

std::unexpected<Error> LineParser::error(const Token& at, std::string message, ErrorCode code) const {
    return error_at(where_, at.column, std::move(message), code);
}

std::unexpected<Error> LineParser::error(int column, std::string message) const {
    return error_at(where_, column, std::move(message));
}

std::unexpected<Error> LineParser::expected(std::string_view what, const Token& found) const {
    return error(found, fmt::format("expected {}, found {}", what, describe(found)));
}

Result<void> LineParser::expect_punct(std::string_view p, std::string_view context) {
    if (!at_punct(p)) return error(peek(), fmt::format("expected '{}' {}, found {}", p, context, describe(peek())));
    next();
    return {};
}

Result<void> LineParser::expect_ident(std::string_view word, std::string_view context) {
    if (!at_ident(word))
        return error(peek(), fmt::format("expected '{}' {}, found {}", word, context, describe(peek())));
    next();
    return {};
}

Result<Reg> LineParser::parse_register(std::string_view role) {
    const Token& tok = peek();
    const auto spelling = register_spelling(tok);
    if (!spelling) return expected(fmt::format("{} register", role), tok);
    if (spelling->num >= kNumRegisters) return error(tok, fmt::format("unknown register '{}'", tok.text));
    next();
    return Reg{static_cast<std::uint8_t>(spelling->num), spelling->is32, tok.text, tok.column};
}

Result<Number> LineParser::parse_number(std::string_view what) {
    Number n;
    n.column = peek().column;
    if (at_punct("-") || at_punct("+")) {
        n.negative = at_punct("-");
        n.text = peek().text;
        next();
    }
    const Token& tok = peek();
    if (tok.kind != TokenKind::Number) return expected(what, tok);
    bool overflow = false;
    const auto value = parse_unsigned(tok.text, overflow);
    n.text += tok.text;
    if (!value) return error(tok, fmt::format("invalid number '{}'", tok.text));
    if (overflow) return error(n.column, fmt::format("immediate {} does not fit in 64 bits", n.text));
    n.magnitude = *value;
    next();
    return n;
}

Result<std::int32_t> LineParser::imm32(const Number& n) const {
    if (n.negative ? n.magnitude > 0x80000000ull : n.magnitude > 0xffffffffull)
        return error(n.column, fmt::format("immediate {} does not fit in 32 bits", n.text));
    auto bits = static_cast<std::uint32_t>(n.magnitude);
    if (n.negative) bits = 0u - bits;
    return static_cast<std::int32_t>(bits);
}

Result<std::uint64_t> LineParser::imm64(const Number& n) const {
    if (n.negative && n.magnitude > 0x8000000000000000ull)
        return error(n.column, fmt::format("immediate {} does not fit in 64 bits", n.text));
    return n.negative ? 0ull - n.magnitude : n.magnitude;
}

Result<std::int16_t> LineParser::mem_offset(const Number& n) const {
    // Non-negative offsets up to 0xffff wrap, as GNU as and uBPF print them ("[%r1+0xfffe]" is -2).
    if (n.negative ? n.magnitude > 0x8000ull : n.magnitude > 0xffffull)
        return error(n.column, fmt::format("offset {} does not fit in 16 bits", n.text));
    auto bits = static_cast<std::uint16_t>(n.magnitude);
    if (n.negative) bits = static_cast<std::uint16_t>(0u - bits);
    return static_cast<std::int16_t>(bits);
}

Result<std::int16_t> LineParser::jump_offset(const Number& n) const {
    if (n.negative ? n.magnitude > 0x8000ull : n.magnitude > 0x7fffull)
        return error(n.column, fmt::format("jump offset out of range: {} does not fit in 16 bits", n.text));
    return static_cast<std::int16_t>(n.negative ? -static_cast<std::int32_t>(n.magnitude)
                                                : static_cast<std::int32_t>(n.magnitude));
}

void LineParser::skip_annotation() {
    if (!at_punct("<")) return;
    while (peek().kind != TokenKind::End && !at_punct(">")) next();
    if (at_punct(">")) next();
}

Result<Target> LineParser::parse_target() {
    Target t;
    if (at_number()) {
        XBPF_ASM_TRY(n, parse_number("jump target"));
        t.offset = std::move(*n);
    } else if (peek().kind == TokenKind::Ident && !peek().text.starts_with('%')) {
        t.label = LabelRef{std::string(peek().text), peek().column};
        next();
    } else {
        return expected("jump target (+offset, -offset or label)", peek());
    }
    skip_annotation();
    return t;
}

Result<void> LineParser::expect_end() {
    if (peek().kind != TokenKind::End)
        return error(peek(), fmt::format("unexpected {} after instruction", describe(peek())));
    return {};
}

Result<MemRef> LineParser::parse_mem(std::string_view open, std::string_view close) {
    if (!open.empty()) {
        if (auto r = expect_punct(open, "before memory operand"); !r) return std::unexpected(r.error());
    }
    XBPF_ASM_TRY(base, parse_register("base"));
    if (base->is32) return error(base->column, fmt::format("base register must be 64-bit, found '{}'", base->text));
    MemRef m{*base, 0};
    if (at_punct("+") || at_punct("-")) {
        const bool minus = at_punct("-");
        const int column = peek().column;
        next();
        XBPF_ASM_TRY(n, parse_number("offset"));
        if (minus) n->negative = !n->negative;
        n->text = (minus ? "-" : "+") + n->text;
        n->column = column;
        XBPF_ASM_TRY(off, mem_offset(*n));
        m.off = *off;
    }
    if (!close.empty()) {
        if (auto r = expect_punct(close, "after memory operand"); !r) return std::unexpected(r.error());
    }
    return m;
}

Result<Token> LineParser::parse_cast() {
    if (auto r = expect_punct("(", "before access type"); !r) return std::unexpected(r.error());
    const Token type = peek();
    if (type.kind != TokenKind::Ident) return expected("access type (u8, u16, u32, u64, s8, s16, s32)", type);
    next();
    if (auto r = expect_punct("*", "after access type"); !r) return std::unexpected(r.error());
    if (auto r = expect_punct(")", "after access type"); !r) return std::unexpected(r.error());
    return type;
}

Result<Item> LineParser::make(Op op) const {
    Item item;
    item.insn.op = op;
    item.line = where_.line;
    item.column = start_column_;
    return item;
}

Result<Item> LineParser::parse_lddw_operand(Item item, const Reg& dst) {
    item.insn.dst = dst.num;
    // Pseudo sources (RFC 9669 §5.4): map_by_fd(N), map_by_idx(N), map_val(map_by_fd(N)) + M,
    // map_val(map_by_idx(N)) + M, var_addr(N), code_addr(N | label).
    const Token& head = peek();
    if (head.kind == TokenKind::Ident && !at_punct("(", 1)) {
        const std::string_view k = head.text;
        if (k == "map_fd" || k == "map_value" || k == "btf_id" || k == "func" || k == "map_idx" || k == "map_idx_value")
            return parse_lddw_keyword(std::move(item));
    }
    if (head.kind == TokenKind::Ident) {
        std::string_view fn = head.text;
        const bool map_val = fn == "map_val";
        if (map_val) {
            next();
            if (auto r = expect_punct("(", "after 'map_val'"); !r) return std::unexpected(r.error());
            fn = peek().text;
            if (fn != "map_by_fd" && fn != "map_by_idx")
                return expected("'map_by_fd' or 'map_by_idx' inside map_val()", peek());
        }
        std::uint8_t pseudo = 0;
        if (fn == "map_by_fd")
            pseudo = map_val ? kPseudoMapValue : kPseudoMapFd;
        else if (fn == "map_by_idx")
            pseudo = map_val ? kPseudoMapIdxValue : kPseudoMapIdx;
        else if (fn == "var_addr")
            pseudo = kPseudoBtfId;
        else if (fn == "code_addr")
            pseudo = kPseudoFunc;
        else
            return expected("64-bit immediate or pseudo source (map_by_fd, map_by_idx, map_val, var_addr, code_addr)",
                            head);
        const std::string name(peek().text);
        next();
        if (auto r = expect_punct("(", fmt::format("after '{}'", name)); !r) return std::unexpected(r.error());
        item.insn.src = pseudo;
        if (pseudo == kPseudoFunc && peek().kind == TokenKind::Ident) {
            item.fixup = Fixup::Imm;
            item.label = LabelRef{std::string(peek().text), peek().column};
            next();
        } else {
            XBPF_ASM_TRY(n, parse_number(fmt::format("number inside {}()", name)));
            XBPF_ASM_TRY(v, imm32(*n));
            item.insn.imm = *v;
        }
        if (auto r = expect_punct(")", fmt::format("after {}() argument", name)); !r) return std::unexpected(r.error());
        if (map_val) {
            if (auto r = expect_punct(")", "after map_val() argument"); !r) return std::unexpected(r.error());
            if (at_punct("+") || at_punct("-")) {
                const bool minus = at_punct("-");
                next();
                XBPF_ASM_TRY(n, parse_number("map value offset"));
                if (minus) {
                    n->negative = !n->negative;
                    n->text = "-" + n->text;
                }
                XBPF_ASM_TRY(v, imm32(*n));
                item.insn.next_imm = *v;
            }
        }
        return item;
    }
    XBPF_ASM_TRY(n, parse_number("64-bit immediate"));
    XBPF_ASM_TRY(v, imm64(*n));
    item.insn.src = kPseudoImm64;
    item.insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(*v));
    item.insn.next_imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(*v >> 32));
    return item;
}

Result<Item> LineParser::parse_lddw_keyword(Item item) {
    const Token kind = next();
    std::uint8_t pseudo = 0;
    if (kind.text == "map_fd")
        pseudo = kPseudoMapFd;
    else if (kind.text == "map_value")
        pseudo = kPseudoMapValue;
    else if (kind.text == "btf_id")
        pseudo = kPseudoBtfId;
    else if (kind.text == "func")
        pseudo = kPseudoFunc;
    else if (kind.text == "map_idx")
        pseudo = kPseudoMapIdx;
    else
        pseudo = kPseudoMapIdxValue;
    item.insn.src = pseudo;
    if (pseudo == kPseudoFunc && peek().kind == TokenKind::Ident) {
        item.fixup = Fixup::Imm;
        item.label = LabelRef{std::string(peek().text), peek().column};
        next();
        return item;
    }
    XBPF_ASM_TRY(n, parse_number(fmt::format("number after '{}'", kind.text)));
    XBPF_ASM_TRY(v, imm32(*n));
    item.insn.imm = *v;
    if (pseudo == kPseudoMapValue || pseudo == kPseudoMapIdxValue) {
        if (auto r = expect_punct(",", fmt::format("after '{}' map", kind.text)); !r) return std::unexpected(r.error());
        XBPF_ASM_TRY(m, parse_number("map value offset"));
        XBPF_ASM_TRY(off, imm32(*m));
        item.insn.next_imm = *off;
    }
    return item;
}

Result<Item> LineParser::parse_ld_pseudo() {
    next();  // "ld_pseudo"
    XBPF_ASM_TRY(dst, parse_register("destination"));
    if (dst->is32) return error(dst->column, "a 64-bit immediate load needs a 64-bit register");
    if (auto r = expect_punct(",", "after destination register"); !r) return std::unexpected(r.error());
    XBPF_ASM_TRY(kind, parse_number("pseudo source kind"));
    if (kind->negative || kind->magnitude < 1 || kind->magnitude > kPseudoMapIdxValue)
        return error(kind->column, fmt::format("pseudo source {} is not one of 1..{}", kind->text, kPseudoMapIdxValue));
    if (auto r = expect_punct(",", "after pseudo source kind"); !r) return std::unexpected(r.error());
    XBPF_ASM_TRY(n, parse_number("immediate"));
    XBPF_ASM_TRY(v, imm32(*n));
    XBPF_ASM_TRY(item, make(Op::Lddw));
    item->insn.dst = dst->num;
    item->insn.src = static_cast<std::uint8_t>(kind->magnitude);
    item->insn.imm = *v;
    item->lossy_text = true;
    return item;
}

// call forms shared by both syntaxes:
//   call 1 | call helper 1 | call helper name | call bpf_map_lookup_elem | call map_lookup_elem#1   helper
//   call +3 | call -3 | call pc+3 | call local label | call local 3 | call label                     local (src=1)
//   call kfunc 5 | call runtime 5                                                                    kfunc (src=2)
//   call %r2 (bpf_conformance)                                                                        callx
Result<Item> LineParser::parse_call() {
    next();  // "call"
    if (at_register()) return parse_callx();
    if (at_ident("local")) {
        next();
        XBPF_ASM_TRY(item, make(Op::CallLocal));
        if (at_number()) {
            XBPF_ASM_TRY(n, parse_number("call target"));
            XBPF_ASM_TRY(v, imm32(*n));
            item->insn.imm = *v;
        } else if (peek().kind == TokenKind::Ident) {
            item->fixup = Fixup::Imm;
            item->label = LabelRef{std::string(peek().text), peek().column};
            next();
        } else {
            return expected("call target (offset or label)", peek());
        }
        skip_annotation();
        return item;
    }
    if (at_ident("kfunc") || at_ident("runtime")) {
        next();
        XBPF_ASM_TRY(item, make(Op::CallKfunc));
        XBPF_ASM_TRY(n, parse_number("kernel function BTF id"));
        XBPF_ASM_TRY(v, imm32(*n));
        item->insn.imm = *v;
        if (at_punct(",")) {  // "call kfunc 17, 5": off selects the module's BTF (fd_array index)
            next();
            XBPF_ASM_TRY(m, parse_number("module BTF index"));
            XBPF_ASM_TRY(off, mem_offset(*m));
            item->insn.off = *off;
        }
        skip_annotation();
        return item;
    }
    const bool helper_keyword = at_ident("helper");
    if (helper_keyword) next();
    if (!helper_keyword && at_ident("pc") && (at_punct("+", 1) || at_punct("-", 1))) {
        next();  // kernel verifier log: "call pc+3"
        XBPF_ASM_TRY(item, make(Op::CallLocal));
        XBPF_ASM_TRY(n, parse_number("call offset"));
        XBPF_ASM_TRY(v, imm32(*n));
        item->insn.imm = *v;
        return item;
    }
    if (at_number()) {
        const bool relative = at_punct("+") || at_punct("-");
        XBPF_ASM_TRY(n, parse_number("call target"));
        XBPF_ASM_TRY(v, imm32(*n));
        XBPF_ASM_TRY(item, make(relative && !helper_keyword ? Op::CallLocal : Op::Call));
        item->insn.imm = *v;
        item->lossy_text = !helper_keyword;  // "call 3" and "call -3" both leave the call kind to the bytes
        skip_annotation();
        return item;
    }
    if (peek().kind == TokenKind::Ident && !peek().text.starts_with('%')) {
        const Token name = next();
        XBPF_ASM_TRY(item, make(Op::Call));
        if (at_punct("#")) {  // kernel log: "call bpf_map_lookup_elem#1"
            next();
            XBPF_ASM_TRY(n, parse_number("helper id after '#'"));
            XBPF_ASM_TRY(v, imm32(*n));
            item->insn.imm = *v;
            return item;
        }
        item->fixup = helper_keyword ? Fixup::HelperName : Fixup::CallByName;
        item->label = LabelRef{std::string(name.text), name.column};
        skip_annotation();
        return item;
    }
    return expected("helper id, helper name or call target", peek());
}

Result<Item> LineParser::parse_callx() {
    XBPF_ASM_TRY(reg, parse_register("call target"));
    XBPF_ASM_TRY(item, make(Op::Callx));
    item->insn.dst = reg->num;
    return item;
}

Result<Item> LineParser::parse() {
    start_column_ = peek().column;
    Result<Item> item = std::unexpected(Error{});
    const Token& first = peek();
    if (first.kind == TokenKind::End) return expected("instruction", first);
    if (at_ident("call")) {
        item = parse_call();
    } else if (at_ident("callx")) {
        next();
        item = parse_callx();
    } else if (at_ident("exit")) {
        next();
        item = make(Op::Exit);
    } else if (at_ident("ld_pseudo")) {
        item = parse_ld_pseudo();
    } else if (at_punct("*")) {
        item = pc_store();
    } else if (at_ident("lock")) {
        item = at_punct("*", 1) ? pc_lock() : mn_lock();
    } else if (at_ident("if")) {
        item = pc_if();
    } else if (at_ident("goto") || at_ident("gotol")) {
        item = pc_goto(at_ident("gotol"));
    } else if (at_register()) {
        item = pc_assignment();
    } else if (first.kind == TokenKind::Ident) {
        item = mn_instruction();
    } else {
        return expected("instruction", first);
    }
    if (!item) return item;
    if (auto r = expect_end(); !r) return std::unexpected(r.error());
    return item;
}

}  // namespace xbpf::isa::asm_detail
