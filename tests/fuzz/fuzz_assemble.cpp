// Fuzz target: assembly text (either syntax, any bytes) -> isa::assemble.
//
// Properties:
//  1. assemble never crashes or throws, whatever the bytes (NULs, control characters, overlong lines, huge numbers).
//  2. An error is kParse or kNotFound (an undefined label or helper), has a message, names the file it was given, and
//     points inside the text: 1 <= line <= number of lines, 1 <= column <= length of that line + 1 (the end).
//  3. Success gives slots that disassemble and reassemble to the same slots (fuzz_support.hpp): listings with raw
//     bytes always, the bare mnemonic text when the slots decode as a program.
//  4. Assembling is a function of the text: the same text assembles to the same slots again.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using namespace xbpf;

constexpr std::string_view kFileName = "fuzz.s";

// Length of the 1-based line `line` of `text` (lines end at '\n'), or npos when there is no such line.
std::size_t line_length(std::string_view text, int line) {
    std::size_t begin = 0;
    for (int l = 1; l < line; ++l) {
        const std::size_t nl = text.find('\n', begin);
        if (nl == std::string_view::npos) return std::string_view::npos;
        begin = nl + 1;
    }
    const std::size_t end = text.find('\n', begin);
    return (end == std::string_view::npos ? text.size() : end) - begin;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    isa::AsmOptions options;
    options.file_name = std::string(kFileName);

    const auto slots = isa::assemble(text, options);
    if (!slots) {
        const Error& e = slots.error();
        XBPF_FUZZ_CHECK(e.code == ErrorCode::kParse || e.code == ErrorCode::kNotFound, "error code {}: {}",
                        static_cast<int>(e.code), e.to_string());
        XBPF_FUZZ_CHECK(!e.message.empty(), "error without a message at {}:{}", e.where.line, e.where.column);
        XBPF_FUZZ_CHECK(e.where.file == kFileName, "error names file '{}'", e.where.file);
        XBPF_FUZZ_CHECK(e.where.line >= 1, "error without a line: {}", e.to_string());
        const std::size_t length = line_length(text, e.where.line);
        XBPF_FUZZ_CHECK(length != std::string_view::npos, "error on line {}, past the end of the text: {}",
                        e.where.line, e.to_string());
        XBPF_FUZZ_CHECK(e.where.column >= 1 && static_cast<std::size_t>(e.where.column) <= length + 1,
                        "error column {} outside line {} of length {}: {}", e.where.column, e.where.line, length,
                        e.to_string());
        return 0;
    }

    const auto again = isa::assemble(text, options);
    XBPF_FUZZ_CHECK(again && *again == *slots, "assembling the same text twice differs");

    fuzz::check_text_round_trip(*slots, isa::decode(*slots).has_value());
    return 0;
}
