// Assembler front: comments, objdump listing decorations, tokens and numeric literals.
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "isa/asm_internal.hpp"

namespace xbpf::isa::asm_detail {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_start(char c) { return is_alpha(c) || c == '_' || c == '.' || c == '$'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

std::size_t skip_blanks(std::string_view s, std::size_t i) {
    while (i < s.size() && is_blank(s[i])) ++i;
    return i;
}

// Where the comment starts: `;` or `//` anywhere, `#` at line start or after a blank.
std::size_t comment_start(std::string_view line) {
    for (std::size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (c == ';') return i;
        if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') return i;
        if (c == '#' && (i == 0 || is_blank(line[i - 1]))) return i;
    }
    return line.size();
}

// If s[i..] is a run of hex digits followed by ':', the offset just past the ':'.
std::optional<std::size_t> index_prefix(std::string_view s, std::size_t i, bool& all_decimal) {
    const std::size_t start = i;
    all_decimal = true;
    while (i < s.size() && is_hex(s[i])) {
        if (!is_digit(s[i])) all_decimal = false;
        ++i;
    }
    if (i == start || i >= s.size() || s[i] != ':') return std::nullopt;
    return i + 1;
}

int hex_value(char c) {
    if (is_digit(c)) return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

// Skip objdump's raw bytes ("b7 00 00 00 01 00 00 00"): two hex digits each, blank separated; collect their values.
std::size_t skip_hex_bytes(std::string_view s, std::size_t i, std::vector<std::uint8_t>& bytes) {
    bytes.clear();
    for (;;) {
        const std::size_t j = skip_blanks(s, i);
        if (j + 2 <= s.size() && is_hex(s[j]) && is_hex(s[j + 1]) && (j + 2 == s.size() || is_blank(s[j + 2]))) {
            bytes.push_back(static_cast<std::uint8_t>(hex_value(s[j]) * 16 + hex_value(s[j + 1])));
            i = j + 2;
            continue;
        }
        return bytes.empty() ? i : j;
    }
}

std::string_view trim_right(std::string_view s) {
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

// Multi-character operators, longest first within each starting character.
constexpr std::array<std::string_view, 18> kOperators = {
    "s>>=", "<<=", ">>=", "s>=", "s<=", "s/=", "s%=", "==", "!=", ">=", "<=", "+=", "-=", "*=", "/=", "%=", "|=", "&=",
};
constexpr std::array<std::string_view, 4> kMoreOperators = {"^=", "s>", "s<", "<<"};
constexpr std::string_view kSingleChars = "=<>&+-*/%()[],:#!|^~{}";

std::optional<std::string_view> match_operator(std::string_view rest) {
    for (std::string_view op : kOperators)
        if (rest.starts_with(op)) return op;
    for (std::string_view op : kMoreOperators)
        if (rest.starts_with(op)) return op;
    if (rest.starts_with(">>")) return rest.substr(0, 2);
    if (!rest.empty() && kSingleChars.find(rest[0]) != std::string_view::npos) return rest.substr(0, 1);
    return std::nullopt;
}

}  // namespace

std::unexpected<Error> error_at(const LineInfo& where, int column, std::string message, ErrorCode code) {
    Location loc;
    if (where.file) loc.file = *where.file;
    loc.line = where.line;
    loc.column = column;
    return make_error(code, std::move(message), std::move(loc));
}

LineContent preprocess_line(std::string_view line) {
    LineContent out;
    const std::string_view text = trim_right(line.substr(0, comment_start(line)));
    const std::size_t begin = skip_blanks(text, 0);
    if (begin >= text.size()) return out;
    const std::string_view body = text.substr(begin);
    // llvm-objdump banners.
    if (body.find("file format") != std::string_view::npos || body.starts_with("Disassembly of section")) return out;

    bool all_decimal = false;
    const auto after_index = index_prefix(text, begin, all_decimal);
    // Symbol header: "0000000000000050 <LBB0_2>:" (llvm-objdump) or "<LBB0_2>:" (xbpf disasm).
    if (!after_index && text.ends_with(">:")) {
        std::size_t i = begin;
        while (i < text.size() && is_hex(text[i])) ++i;
        const std::size_t lt = skip_blanks(text, i);
        if ((i == begin || lt > i) && lt < text.size() && text[lt] == '<') {
            const std::size_t name_begin = lt + 1;
            const std::size_t name_end = text.size() - 2;
            if (name_end > name_begin) {
                out.kind = LineContent::Kind::HeaderLabel;
                out.begin = name_begin;
                out.end = name_end;
                return out;
            }
        }
    }
    if (after_index) {
        const std::size_t after = skip_blanks(text, *after_index);
        // Relocation line under an instruction: "0000000000000008:  R_BPF_64_64  my_map".
        if (text.substr(after).starts_with("R_")) return out;
        const std::size_t code = skip_hex_bytes(text, *after_index, out.bytes);
        // A decimal "N:" is always an index (labels cannot start with a digit); a hex-looking one such as "add:" or
        // "a8:" only when raw instruction bytes follow it.
        if (all_decimal || out.bytes.size() >= 8) {
            out.begin = skip_blanks(text, code);
            out.end = text.size();
            out.kind = out.begin < out.end ? LineContent::Kind::Code : LineContent::Kind::Empty;
            return out;
        }
        out.bytes.clear();
    }
    out.kind = LineContent::Kind::Code;
    out.begin = begin;
    out.end = text.size();
    return out;
}

Result<std::vector<Token>> tokenize(std::string_view line, std::size_t begin, std::size_t end, const LineInfo& where) {
    std::vector<Token> tokens;
    end = std::min(end, line.size());
    std::size_t i = begin;
    while (i < end) {
        const char c = line[i];
        const int column = static_cast<int>(i) + 1;
        if (is_blank(c)) {
            ++i;
            continue;
        }
        const std::string_view rest = line.substr(i, end - i);
        // Signed operators spelled with a leading 's' (s>, s>=, s<, s<=, s>>=, s/=, s%=).
        if (c == 's' && rest.size() > 1 && (rest[1] == '>' || rest[1] == '<' || rest[1] == '/' || rest[1] == '%')) {
            if (auto op = match_operator(rest); op && op->size() > 1 && (*op)[0] == 's') {
                tokens.push_back({TokenKind::Punct, *op, column});
                i += op->size();
                continue;
            }
        }
        if (is_ident_start(c) || (c == '%' && rest.size() > 1 && is_alpha(rest[1]))) {
            std::size_t j = i + 1;
            while (j < end && is_ident_char(line[j])) ++j;
            tokens.push_back({TokenKind::Ident, line.substr(i, j - i), column});
            i = j;
            continue;
        }
        if (is_digit(c)) {
            std::size_t j = i + 1;
            while (j < end && (is_ident_char(line[j]) && line[j] != '.' && line[j] != '$')) ++j;
            tokens.push_back({TokenKind::Number, line.substr(i, j - i), column});
            i = j;
            continue;
        }
        if (auto op = match_operator(rest)) {
            tokens.push_back({TokenKind::Punct, *op, column});
            i += op->size();
            continue;
        }
        const auto byte = static_cast<unsigned char>(c);
        if (std::isprint(byte)) return error_at(where, column, fmt::format("unexpected character '{}'", c));
        return error_at(where, column, fmt::format("unexpected byte 0x{:02x}", byte));
    }
    tokens.push_back({TokenKind::End, {}, static_cast<int>(end) + 1});
    return tokens;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text, bool& overflow) {
    overflow = false;
    unsigned base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text.remove_prefix(2);
    }
    if (text.empty()) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : text) {
        unsigned digit = 0;
        if (is_digit(c))
            digit = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            digit = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            digit = static_cast<unsigned>(c - 'A' + 10);
        else
            return std::nullopt;
        if (value > (UINT64_MAX - digit) / base) overflow = true;
        value = value * base + digit;
    }
    return value;
}

}  // namespace xbpf::isa::asm_detail
