// Internals of the assembler (assembler.cpp and asm_*.cpp); not part of the isa library's interface.
//
// Pipeline, one source line at a time: strip comments and listing decorations (asm_lexer.cpp), tokenize
// (asm_lexer.cpp), parse one instruction into an Item (asm_parser.cpp dispatches to asm_pseudo_c.cpp or
// asm_mnemonic.cpp). assembler.cpp then places labels, resolves label references and encodes through encode_one().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"
#include "isa/opcodes.hpp"

/// Evaluate `expr` (a Result), return its error from the enclosing function, else bind the value to `var`.
#define XBPF_ASM_TRY(var, expr) \
    auto var = (expr);          \
    if (!var) return std::unexpected<Error>(std::move(var.error()))

namespace xbpf::isa::asm_detail {

/// Where the current line is, for error locations.
struct LineInfo {
    const std::string* file = nullptr;
    int line = 0;
};

/// An error at a 1-based column of the current line.
std::unexpected<Error> error_at(const LineInfo& where, int column, std::string message,
                                ErrorCode code = ErrorCode::kParse);

enum class TokenKind : std::uint8_t { Ident, Number, Punct, End };

/// One token; `text` views the source line, `column` is 1-based.
struct Token {
    TokenKind kind = TokenKind::End;
    std::string_view text;
    int column = 0;
};

/// What a raw line holds once comments are removed.
struct LineContent {
    enum class Kind : std::uint8_t { Empty, HeaderLabel, Code } kind = Kind::Empty;
    std::size_t begin = 0;            ///< Code: offset of the instruction text; HeaderLabel: offset of the label name
    std::size_t end = 0;              ///< end of the instruction text (comment start) or of the label name
    std::vector<std::uint8_t> bytes;  ///< Code from a listing: the raw instruction bytes printed before the text
};

/// Classify a line: blank/comment/objdump noise (Empty), a symbol header `0000000000000050 <LBB0_2>:` or
/// `<LBB0_2>:` (HeaderLabel), or code with the listing's `N:` index and raw hex bytes removed (Code).
LineContent preprocess_line(std::string_view line);

/// Split line[begin, end) into tokens; the last token is always End (column just past the text).
Result<std::vector<Token>> tokenize(std::string_view line, std::size_t begin, std::size_t end, const LineInfo& where);

/// A signed literal as written: sign, magnitude, and its spelling for messages.
struct Number {
    bool negative = false;
    std::uint64_t magnitude = 0;
    std::string text;  ///< e.g. "-0x10"
    int column = 0;
};

/// Parse an unsigned decimal or 0x-hex literal; nullopt if malformed, `overflow` set when it exceeds 64 bits.
std::optional<std::uint64_t> parse_unsigned(std::string_view text, bool& overflow);

/// A reference to a label, resolved after all lines are read.
struct LabelRef {
    std::string name;
    int column = 0;
};

/// How a label reference is written into the instruction.
enum class Fixup : std::uint8_t {
    None,
    Off,         ///< 16-bit pc-relative jump offset (Ja, JmpImm, JmpReg)
    Imm,         ///< 32-bit pc-relative imm (Gotol, CallLocal, Lddw code_addr)
    CallByName,  ///< `call name`: a local call if `name` is a label, else a helper called by name
    HelperName,  ///< `call helper name`: always a helper
};

/// One parsed instruction, before labels are resolved.
struct Item {
    Instruction insn;
    Fixup fixup = Fixup::None;
    LabelRef label;  ///< when fixup != None
    int line = 0;    ///< 1-based source line
    int column = 0;  ///< column of the instruction's first token
    std::size_t slot = 0;
    /// The text is one of llvm-objdump's lossy printings, which a listing's raw bytes may complete (see
    /// Assembler::apply_listing_bytes): `call N` (helper, local or kfunc), `lock *(u32 *)(..) += wS` (LLVM 14 prints
    /// the 32-bit fetch-add so) and `ld_pseudo rD, K, imm` (no second-slot imm).
    bool lossy_text = false;
    /// A listing's "<unknown>" slot: emitted as these bytes, `insn` unused.
    std::optional<RawInsn> raw;
};

/// A register operand; `is32` for the wN spelling.
struct Reg {
    std::uint8_t num = 0;
    bool is32 = false;
    std::string_view text;
    int column = 0;
};

/// `(rN + off)` or `[rN+off]`.
struct MemRef {
    Reg base;
    std::int16_t off = 0;
};

/// A jump or call target: a numeric pc-relative offset or a label.
struct Target {
    std::optional<Number> offset;
    std::optional<LabelRef> label;
};

/// The first table row with this shape and operator text; `width` 0 matches any, `is32` unset matches either.
std::optional<Op> find_op(Shape shape, std::string_view text, int width = 0, std::optional<bool> is32 = std::nullopt);

/// The first table row with this mnemonic and shape.
std::optional<Op> find_mnemonic(std::string_view mnemonic, Shape shape);

/// Parses the tokens of one instruction (labels already removed) in either syntax.
class LineParser {
  public:
    LineParser(std::span<const Token> tokens, const LineInfo& where) : tokens_(tokens), where_(where) {}

    /// Parse exactly one instruction; trailing tokens are an error.
    Result<Item> parse();

  private:
    // ---- cursor and diagnostics (asm_parser.cpp) ----
    [[nodiscard]] const Token& peek(std::size_t ahead = 0) const;
    const Token& next();
    [[nodiscard]] bool at_punct(std::string_view p, std::size_t ahead = 0) const;
    [[nodiscard]] bool at_ident(std::string_view word, std::size_t ahead = 0) const;
    [[nodiscard]] bool at_register(std::size_t ahead = 0) const;
    [[nodiscard]] bool at_number(std::size_t ahead = 0) const;  ///< optionally signed
    [[nodiscard]] std::unexpected<Error> error(const Token& at, std::string message,
                                               ErrorCode code = ErrorCode::kParse) const;
    [[nodiscard]] std::unexpected<Error> error(int column, std::string message) const;
    /// "expected <what>, found '<tok>'"
    [[nodiscard]] std::unexpected<Error> expected(std::string_view what, const Token& found) const;
    /// Consume punctuation `p`, else "expected '<p>' <context>, found ...".
    Result<void> expect_punct(std::string_view p, std::string_view context);
    /// Consume the identifier `word`, else "expected '<word>' <context>, found ...".
    Result<void> expect_ident(std::string_view word, std::string_view context);
    Result<Reg> parse_register(std::string_view role);
    Result<Number> parse_number(std::string_view what);
    [[nodiscard]] Result<std::int32_t> imm32(const Number& n) const;
    [[nodiscard]] Result<std::uint64_t> imm64(const Number& n) const;
    [[nodiscard]] Result<std::int16_t> mem_offset(const Number& n) const;
    [[nodiscard]] Result<std::int16_t> jump_offset(const Number& n) const;
    /// `+N`, `-N`, `N` or a label, then an optional objdump `<name>` annotation.
    Result<Target> parse_target();
    /// Skip an objdump `<...>` annotation if present.
    void skip_annotation();
    Result<void> expect_end();
    /// `rN`, `rN + off` or `rN - off` between `open` and `close`: "(" ")" in pseudo-C, "[" "]" in mnemonic
    /// syntax, none for LLVM's `xchg_64(r1 + 8, r2)`.
    Result<MemRef> parse_mem(std::string_view open, std::string_view close);
    /// `(u32 *)`; returns the type token.
    Result<Token> parse_cast();
    /// 64-bit immediate operand of lddw: a number or a pseudo form (map_by_fd(N), map_val(map_by_idx(N)) + M, ...).
    Result<Item> parse_lddw_operand(Item item, const Reg& dst);
    /// The disassembler's mnemonic pseudo forms: map_fd N | map_value N, M | btf_id N | func +N | func label |
    /// map_idx N | map_idx_value N, M.
    Result<Item> parse_lddw_keyword(Item item);
    /// LLVM's `ld_pseudo rD, kind, imm` (llvm-objdump's text for a lddw with a pseudo source).
    Result<Item> parse_ld_pseudo();
    Result<Item> parse_call();
    Result<Item> parse_callx();
    Result<Item> make(Op op) const;

    // ---- pseudo-C (asm_pseudo_c.cpp) ----
    Result<Item> pc_assignment();
    Result<Item> pc_assign_value(const Reg& dst);
    Result<Item> pc_atomic_call(const Reg& dst);
    Result<Item> pc_store();
    Result<Item> pc_lock();
    Result<Item> pc_if();
    Result<Item> pc_goto(bool is_long);

    // ---- mnemonic (asm_mnemonic.cpp) ----
    Result<Item> mn_instruction();
    Result<Item> mn_lock();

    std::span<const Token> tokens_;
    std::size_t pos_ = 0;
    LineInfo where_;
    int start_column_ = 0;
};

}  // namespace xbpf::isa::asm_detail
