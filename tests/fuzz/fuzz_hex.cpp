// Fuzz target: the hex byte parser of the bpf_conformance plugin protocol (tools/xbpf/common.cpp, parse_hex_bytes),
// which reads the program and memory the conformance runner sends.
//
// Properties:
//  1. parse_hex_bytes never crashes; an error is kParse with a byte offset inside the text, pointing at a character
//     that is not a hex digit nor a separator (blank, tab, newline, carriage return, comma).
//  2. Success gives at most one byte per hex digit, and at least one byte per two.
//  3. The bytes printed as the conformance runner prints them ("b7  00  ...") parse back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "tools/xbpf/common.hpp"

namespace {

bool is_hex_digit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_separator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ','; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace xbpf;
    const std::string text(reinterpret_cast<const char*>(data), size);
    const auto bytes = cli::parse_hex_bytes(text);
    if (!bytes) {
        const Error& e = bytes.error();
        XBPF_FUZZ_CHECK(e.code == ErrorCode::kParse, "error code {}: {}", static_cast<int>(e.code), e.to_string());
        XBPF_FUZZ_CHECK(e.where.byte_offset.has_value() && *e.where.byte_offset < size, "error offset: {}",
                        e.to_string());
        const char bad = text[*e.where.byte_offset];
        XBPF_FUZZ_CHECK(!is_hex_digit(bad) && !is_separator(bad), "error at a valid character {:#04x}: {}",
                        static_cast<unsigned char>(bad), e.to_string());
        return 0;
    }
    std::size_t digits = 0;
    for (const char c : text) {
        XBPF_FUZZ_CHECK(is_hex_digit(c) || is_separator(c), "accepted character {:#04x}",
                        static_cast<unsigned char>(c));
        digits += is_hex_digit(c) ? 1 : 0;
    }
    XBPF_FUZZ_CHECK(bytes->size() <= digits && 2 * bytes->size() >= digits, "{} bytes from {} hex digits",
                    bytes->size(), digits);

    std::string printed;
    for (const std::uint8_t b : *bytes) printed += fmt::format("{:02x}  ", b);
    const auto again = cli::parse_hex_bytes(printed);
    XBPF_FUZZ_CHECK(again && *again == *bytes, "printed bytes do not parse back: '{}'", printed);
    return 0;
}
