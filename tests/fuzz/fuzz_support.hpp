// Shared by the fuzz targets in this folder: property checks that abort (so libFuzzer, or the replay driver under
// ASan, reports the input) and the text round trip of instruction slots through the disassembler and the assembler.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "isa/assembler.hpp"
#include "isa/disassembler.hpp"
#include "isa/instruction.hpp"

/// libFuzzer's entry point; each target defines it, and replay_main.cpp calls it.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace xbpf::fuzz {

/// Prints which property failed and aborts: a property violation is a finding, exactly like a sanitizer report.
[[noreturn]] inline void fail(std::string_view message) {
    std::fprintf(stderr, "\n==fuzz== PROPERTY VIOLATED: %.*s\n", static_cast<int>(message.size()), message.data());
    std::fflush(stderr);
    std::abort();
}

/// Abort with a formatted message unless `cond` holds.
#define XBPF_FUZZ_CHECK(cond, ...)                                                               \
    do {                                                                                         \
        if (!(cond)) ::xbpf::fuzz::fail(fmt::format("{}: {}", #cond, fmt::format(__VA_ARGS__))); \
    } while (0)

/// Findings already reported but not fixed yet can be stepped around, so that a long run looks for the next bug
/// instead of rediscovering the first: a target guards the check with `if (skipping("name") && <matches>)`, and
/// XBPF_FUZZ_SKIP is a comma-separated list of the names to skip (README.md, "Findings"). Unset, every property is
/// checked. Delete the guard with the fix.
inline bool skipping(std::string_view finding) {
    static const std::string list = [] {
        const char* env = std::getenv("XBPF_FUZZ_SKIP");
        return std::string(",") + (env ? env : "") + ",";
    }();
    return list.find(fmt::format(",{},", finding)) != std::string::npos;
}

/// "b7 00 00 00 01 00 00 00 | 95 ..." for messages: slots separated by '|'.
inline std::string hex(std::span<const isa::RawInsn> slots) {
    std::string out;
    const std::vector<std::uint8_t> bytes = isa::to_bytes(slots);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i != 0) out += i % 8 == 0 ? " | " : " ";
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

namespace detail {

inline void expect_same(std::span<const isa::RawInsn> slots, const std::string& text, std::string_view form) {
    isa::AsmOptions options;
    options.file_name = "<round trip>";
    const auto again = isa::assemble(text, options);
    XBPF_FUZZ_CHECK(again.has_value(), "{} of [{}] does not reassemble: {}\n--- text ---\n{}", form, hex(slots),
                    again ? std::string() : again.error().to_string(), text);
    XBPF_FUZZ_CHECK(std::ranges::equal(*again, slots),
                    "{} reassembles to different slots\n  in:  [{}]\n  out: [{}]\n--- text ---\n{}", form, hex(slots),
                    hex(*again), text);
}

}  // namespace detail

/// Disassembles `slots` and assembles the text back; every form must give the same slots. `decodable` says whether
/// isa::decode accepted the whole program (the bare mnemonic form has no way to spell an undecodable slot).
///
/// Forms and why they must round-trip (src/isa/assembler.hpp: "Listings printed by llvm-objdump or `xbpf disasm`
/// assemble back to the same bytes"):
///  - the mnemonic listing with raw bytes: the mnemonic syntax is lossless, and `<unknown>` lines carry their bytes;
///  - the pseudo-C listing with raw bytes, with symbol headers and jump suffixes, decimal and --print-imm-hex +alu32:
///    the bytes complete pseudo-C's lossy texts (call kinds, ld_pseudo's second imm, LLVM 14's 32-bit fetch-add);
///  - the bare mnemonic text, when the program decodes.
inline void check_text_round_trip(std::span<const isa::RawInsn> slots, bool decodable) {
    isa::DisasmOptions mnemonic;
    mnemonic.syntax = isa::Syntax::Mnemonic;
    detail::expect_same(slots, isa::disassemble(slots, mnemonic), "mnemonic listing");

    isa::DisasmOptions pseudo_c;
    pseudo_c.labels = {{0, "prog"}};
    if (slots.size() > 2) pseudo_c.labels.emplace(slots.size() / 2, "LBB0_1");
    detail::expect_same(slots, isa::disassemble(slots, pseudo_c), "pseudo-C listing");

    isa::DisasmOptions pseudo_c_hex;
    pseudo_c_hex.hex_immediates = true;
    pseudo_c_hex.alu32 = true;
    detail::expect_same(slots, isa::disassemble(slots, pseudo_c_hex), "pseudo-C listing (hex, alu32)");

    if (decodable) {
        isa::DisasmOptions bare;
        bare.syntax = isa::Syntax::Mnemonic;
        bare.show_bytes = false;
        bare.show_index = false;
        detail::expect_same(slots, isa::disassemble(slots, bare), "bare mnemonic text");
    }
}

}  // namespace xbpf::fuzz
