// Golden test of xbpf's disassembler against llvm-objdump.
//
// For every executable section of every object, runs `llvm-objdump -d -z` (in four modes: plain, --mattr=+alu32,
// --print-imm-hex, both), rebuilds the section's bytes from the listing, disassembles them with xbpf using the
// symbols llvm-objdump printed as labels, and compares every instruction line: slot index, bytes and text (with the
// jump's <label> suffix). Relocated lddw / call instructions compare like any other: both sides see the same bytes.
//
// Lines are accepted without an identical text only when llvm-objdump 14 itself cannot print the instruction:
//   - it prints <unknown> (jset, mod, cpu v4 encodings, 32-bit atomics other than add without +alu32): xbpf must
//     print a real instruction there;
//   - a documented LLVM 14 decoding gap (see known_llvm14_gap) where it prints a different instruction.
// Both are counted and listed. Any other difference fails the test.
//
// With --raw, also assembles a synthetic object with one or more encodings of every Op (edge values: INT32_MIN,
// off -32768, every lddw pseudo source, ...) through llvm-mc's .byte directive and checks it the same way.
//
// usage: objdump_golden --llvm-objdump PATH [--llvm-mc PATH --work-dir DIR --raw] [OBJECT...]
#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "isa/disassembler.hpp"

namespace {

using xbpf::isa::DisasmOptions;
using xbpf::isa::Labels;
using xbpf::isa::Op;
using xbpf::isa::RawInsn;
using xbpf::isa::Shape;

struct Mode {
    const char* name;
    const char* flags;
    bool alu32;
    bool hex;
};

constexpr std::array<Mode, 4> kModes = {{
    {"default", "", false, false},
    {"alu32", "--mattr=+alu32", true, false},
    {"hex", "--print-imm-hex", false, true},
    {"alu32+hex", "--mattr=+alu32 --print-imm-hex", true, true},
}};

struct Line {
    std::size_t index = 0;
    std::string bytes;  // as printed: "b7 00 00 00 01 00 00 00"
    std::string text;
};

struct Section {
    std::string name;
    std::vector<Line> lines;
    Labels labels;
};

struct Counts {
    std::size_t compared = 0;
    std::size_t identical = 0;
    std::size_t unknown = 0;  // llvm-objdump printed <unknown>, xbpf a real instruction
    std::size_t gaps = 0;     // documented llvm-objdump 14 decoding gaps
    std::size_t failures = 0;
};

std::optional<std::string> run(const std::string& command) {
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return std::nullopt;
    std::string out;
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) out.append(buffer.data(), n);
    if (pclose(pipe) != 0) return std::nullopt;
    return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        lines.push_back(text.substr(0, end));
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    return lines;
}

// "      12:\t61 12 0c 00 00 00 00 00\tr2 = *(u32 *)(r1 + 12)" (the text may hold a tab itself: ld_pseudo).
std::optional<Line> parse_insn_line(std::string_view s, bool with_bytes) {
    std::size_t i = 0;
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t digits = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == digits || i + 1 >= s.size() || s[i] != ':' || s[i + 1] != '\t') return std::nullopt;
    Line line;
    line.index = std::stoull(std::string(s.substr(digits, i - digits)));
    s.remove_prefix(i + 2);
    if (with_bytes) {
        const std::size_t tab = s.find('\t');
        if (tab == std::string_view::npos) return std::nullopt;
        line.bytes = std::string(s.substr(0, tab));
        s.remove_prefix(tab + 1);
    }
    line.text = std::string(s);
    return line;
}

// "0000000000000028 <LBB0_2>:"
std::optional<std::pair<std::uint64_t, std::string>> parse_symbol_line(std::string_view s) {
    if (s.size() < 21 || s[16] != ' ' || s[17] != '<' || !s.ends_with(">:")) return std::nullopt;
    for (std::size_t i = 0; i < 16; ++i)
        if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    return std::pair{std::stoull(std::string(s.substr(0, 16)), nullptr, 16), std::string(s.substr(18, s.size() - 20))};
}

std::optional<std::vector<Section>> parse_objdump(std::string_view output, std::string& error) {
    std::vector<Section> sections;
    constexpr std::string_view kSection = "Disassembly of section ";
    for (const std::string_view s : split_lines(output)) {
        if (s.starts_with(kSection)) {
            sections.push_back(Section{std::string(s.substr(kSection.size(), s.size() - kSection.size() - 1)), {}, {}});
        } else if (auto symbol = parse_symbol_line(s)) {
            if (sections.empty()) return error = "symbol before any section", std::nullopt;
            if (symbol->first % sizeof(RawInsn) != 0)
                return error = fmt::format("unaligned symbol {}", s), std::nullopt;
            sections.back().labels.emplace(symbol->first / sizeof(RawInsn), symbol->second);
        } else if (auto line = parse_insn_line(s, true)) {
            if (sections.empty()) return error = "instruction before any section", std::nullopt;
            sections.back().lines.push_back(std::move(*line));
        } else if (s.find("...") != std::string_view::npos) {
            return error = "llvm-objdump elided zero bytes (expected -z)", std::nullopt;
        }
    }
    return sections;
}

std::optional<std::vector<std::uint8_t>> parse_bytes(std::string_view hex) {
    std::vector<std::uint8_t> bytes;
    for (std::size_t i = 0; i < hex.size();) {
        if (hex[i] == ' ') {
            ++i;
            continue;
        }
        if (i + 1 >= hex.size()) return std::nullopt;
        bytes.push_back(static_cast<std::uint8_t>(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
        i += 2;
    }
    return bytes;
}

// Where llvm-objdump 14 decodes an encoding as a different instruction than the one it is (the ISA as the kernel
// and RFC 9669 define it), the reason; else nullopt.
std::optional<std::string_view> known_llvm14_gap(const RawInsn& raw, const Mode& mode, std::string_view llvm_text) {
    const auto decoded = xbpf::isa::decode_one(raw, 0);
    if (!decoded) return std::nullopt;
    const xbpf::isa::OpInfo& row = xbpf::isa::info(decoded->op);
    if ((row.shape == Shape::AluImm || row.shape == Shape::AluReg || row.shape == Shape::MovSx) &&
        row.disc == xbpf::isa::Disc::Off && row.disc_value != 0)
        return "cpu v4 sdiv/smod/movsx: llvm 14 ignores the offset field";
    if (row.shape == Shape::Callx) return "callx: llvm 14 reads the register from imm, the ISA from dst";
    if (row.shape == Shape::Atomic && row.width == 32 && (row.disc_value & xbpf::isa::kAtomicFetch) != 0 &&
        !mode.alu32 && llvm_text.starts_with("lock "))
        return "32-bit fetching atomic: llvm 14 without +alu32 decodes it as the non-fetching add";
    return std::nullopt;
}

// Compares one section; prints every line that is not identical.
void check_section(const std::string& object, const Section& section, const Mode& mode, Counts& counts) {
    std::vector<std::uint8_t> bytes;
    for (const Line& line : section.lines) {
        if (line.index * sizeof(RawInsn) != bytes.size()) {
            fmt::print("FAIL {} [{}] {}: slot {} does not follow the previous line\n", object, mode.name, section.name,
                       line.index);
            ++counts.failures;
            return;
        }
        const auto b = parse_bytes(line.bytes);
        if (!b) {
            fmt::print("FAIL {} [{}] {}: bad bytes '{}'\n", object, mode.name, section.name, line.bytes);
            ++counts.failures;
            return;
        }
        bytes.insert(bytes.end(), b->begin(), b->end());
    }
    const auto program = xbpf::isa::from_bytes(bytes);
    if (!program) {
        fmt::print("FAIL {} [{}] {}: {}\n", object, mode.name, section.name, program.error().to_string());
        ++counts.failures;
        return;
    }
    DisasmOptions options;
    options.alu32 = mode.alu32;
    options.hex_immediates = mode.hex;
    options.labels = section.labels;
    const std::string listing = xbpf::isa::disassemble(*program, options);
    std::vector<Line> ours;
    for (const std::string_view s : split_lines(listing))
        if (auto line = parse_insn_line(s, true)) ours.push_back(std::move(*line));

    const std::size_t n = std::max(ours.size(), section.lines.size());
    for (std::size_t i = 0; i < n; ++i) {
        ++counts.compared;
        if (i >= ours.size() || i >= section.lines.size()) {
            fmt::print("FAIL {} [{}] {}: llvm-objdump has {} lines, xbpf {}\n", object, mode.name, section.name,
                       section.lines.size(), ours.size());
            ++counts.failures;
            return;
        }
        const Line& theirs = section.lines[i];
        const Line& mine = ours[i];
        const std::string where = fmt::format("{} [{}] {}:{}", object, mode.name, section.name, theirs.index);
        if (mine.index != theirs.index || mine.bytes != theirs.bytes) {
            fmt::print("FAIL {}: layout differs\n  llvm-objdump: {:>6}: {}\n  xbpf:         {:>6}: {}\n", where,
                       theirs.index, theirs.bytes, mine.index, mine.bytes);
            ++counts.failures;
            return;  // the rest of the section is out of step
        }
        if (mine.text == theirs.text) {
            ++counts.identical;
            continue;
        }
        const RawInsn& raw = (*program)[theirs.index];
        if (theirs.text == "<unknown>") {
            if (mine.text == "<unknown>") {
                fmt::print("FAIL {}: neither decodes {}\n", where, theirs.bytes);
                ++counts.failures;
            } else {
                fmt::print("unknown to llvm-objdump 14  {}: {}  xbpf: {}\n", where, theirs.bytes, mine.text);
                ++counts.unknown;
            }
            continue;
        }
        if (const auto gap = known_llvm14_gap(raw, mode, theirs.text)) {
            fmt::print("llvm 14 gap  {}: {}\n  llvm-objdump: {}\n  xbpf:         {}\n  ({})\n", where, theirs.bytes,
                       theirs.text, mine.text, *gap);
            ++counts.gaps;
            continue;
        }
        fmt::print("FAIL {}: {}\n  llvm-objdump: {}\n  xbpf:         {}\n", where, theirs.bytes, theirs.text,
                   mine.text);
        ++counts.failures;
    }
}

// ---- Synthetic encodings of every Op ----

std::vector<RawInsn> every_op_encodings() {
    constexpr std::int32_t kMin = INT32_MIN;
    constexpr std::int32_t kMax = INT32_MAX;
    const std::vector<std::int16_t> jump_offsets = {0, 1, -1, 32767, -32768};
    const std::vector<std::int16_t> mem_offsets = {0, 4, -8, 32767, -32768};
    const std::vector<std::int32_t> alu_imms = {0, 1, -1, 7, 10, 16, 255, -100, 0x7fff, kMin, kMax};
    const std::vector<std::int32_t> jmp_imms = {0, 5, -5, 16, kMin, kMax};
    std::vector<RawInsn> out;
    for (const xbpf::isa::OpInfo& row : xbpf::isa::all_ops()) {
        const auto emit = [&](std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm) {
            RawInsn raw;
            raw.opcode = row.opcode;
            raw.dst = dst;
            raw.src = src;
            raw.off = off;
            raw.imm = imm;
            switch (row.disc) {
                case xbpf::isa::Disc::Off: raw.off = static_cast<std::int16_t>(row.disc_value); break;
                case xbpf::isa::Disc::Imm: raw.imm = row.disc_value; break;
                case xbpf::isa::Disc::Src: raw.src = static_cast<std::uint8_t>(row.disc_value); break;
                case xbpf::isa::Disc::None: break;
            }
            out.push_back(raw);
        };
        switch (row.shape) {
            case Shape::AluImm:
                for (std::uint8_t dst : {0, 1, 9})
                    for (std::int32_t imm : alu_imms) emit(dst, 0, 0, imm);
                break;
            case Shape::AluReg:
            case Shape::MovSx:
                emit(1, 2, 0, 0);
                emit(0, 10, 0, 0);
                emit(9, 0, 0, 0);
                break;
            case Shape::Neg:
            case Shape::Endian:
                for (std::uint8_t dst : {0, 3, 9}) emit(dst, 0, 0, 0);
                break;
            case Shape::Ja:
                for (std::int16_t off : jump_offsets) emit(0, 0, off, 0);
                break;
            case Shape::Gotol:
                for (std::int32_t imm : {0, 1, -1, 70000, -70000, kMin, kMax}) emit(0, 0, 0, imm);
                break;
            case Shape::JmpImm:
                for (std::int16_t off : jump_offsets)
                    for (std::int32_t imm : jmp_imms) emit(1, 0, off, imm);
                emit(10, 0, 3, -1);
                break;
            case Shape::JmpReg:
                for (std::int16_t off : jump_offsets) emit(1, 2, off, 0);
                emit(10, 0, 3, 0);
                break;
            case Shape::Call:
                for (std::int32_t imm : {0, 1, 212, -1, kMax}) emit(0, 0, 0, imm);
                break;
            case Shape::CallLocal:
                for (std::int32_t imm : {0, 5, -3, -1}) emit(0, 0, 0, imm);
                break;
            case Shape::CallKfunc:
                for (std::int32_t imm : {7, 100000}) emit(0, 0, 0, imm);
                break;
            case Shape::Callx: emit(1, 0, 0, 0); break;
            case Shape::Exit: emit(0, 0, 0, 0); break;
            case Shape::Lddw: {
                const std::vector<std::pair<std::int32_t, std::int32_t>> values = {
                    {0, 0}, {1, 0}, {-1, -1}, {0x55667788, 0x11223344}, {0, 1}, {kMin, 0}, {5, -1}, {0, kMin}};
                for (std::uint8_t src = 0; src <= xbpf::isa::kPseudoMapIdxValue; ++src)
                    for (const auto& [lo, hi] : values) {
                        const bool tail_must_be_zero = src != xbpf::isa::kPseudoImm64 &&
                                                       src != xbpf::isa::kPseudoMapValue &&
                                                       src != xbpf::isa::kPseudoMapIdxValue;
                        if (tail_must_be_zero && hi != 0) continue;
                        emit(src == 0 ? 1 : 2, src, 0, lo);
                        RawInsn tail;
                        tail.imm = hi;
                        out.push_back(tail);
                    }
                break;
            }
            case Shape::LdAbs:
                for (std::int32_t imm : {0, 12, -1, kMax}) emit(0, 0, 0, imm);
                break;
            case Shape::LdInd:  // imm = 0: llvm-objdump does not print LD_IND's imm
                for (std::uint8_t src : {0, 3}) emit(0, src, 0, 0);
                break;
            case Shape::Ldx:
            case Shape::LdxSx:
                for (std::int16_t off : mem_offsets) {
                    emit(1, 10, off, 0);
                    emit(0, 1, off, 0);
                }
                break;
            case Shape::St:
                for (std::int16_t off : {0, -8, 32767})
                    for (std::int32_t imm : {0, 1, -1, 100, kMin}) emit(10, 0, static_cast<std::int16_t>(off), imm);
                break;
            case Shape::Stx:
            case Shape::Atomic:
                for (std::int16_t off : mem_offsets) {
                    emit(10, 1, off, 0);
                    emit(1, 0, off, 0);
                }
                break;
        }
    }
    return out;
}

bool write_raw_object(const std::string& llvm_mc, const std::string& dir, std::string& object, std::size_t& count) {
    const std::vector<RawInsn> program = every_op_encodings();
    count = program.size();
    const std::string source = dir + "/every_op.s";
    object = dir + "/every_op.o";
    std::ofstream s(source);
    s << "\t.text\n\t.globl\tf\n\t.type\tf,@function\nf:\n";
    const std::vector<std::uint8_t> bytes = xbpf::isa::to_bytes(program);
    for (std::size_t i = 0; i < bytes.size(); i += sizeof(RawInsn)) {
        s << "\t.byte\t";
        for (std::size_t j = 0; j < sizeof(RawInsn); ++j) s << (j ? "," : "") << static_cast<int>(bytes[i + j]);
        s << '\n';
    }
    s.close();
    return run(fmt::format("'{}' -triple bpfel -filetype=obj '{}' -o '{}' 2>&1", llvm_mc, source, object)).has_value();
}

}  // namespace

int main(int argc, char** argv) {
    std::string objdump;
    std::string llvm_mc;
    std::string work_dir = ".";
    bool raw = false;
    std::vector<std::string> objects;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--llvm-objdump" && i + 1 < argc)
            objdump = argv[++i];
        else if (arg == "--llvm-mc" && i + 1 < argc)
            llvm_mc = argv[++i];
        else if (arg == "--work-dir" && i + 1 < argc)
            work_dir = argv[++i];
        else if (arg == "--raw")
            raw = true;
        else
            objects.emplace_back(arg);
    }
    if (objdump.empty() || (raw && llvm_mc.empty()) || (!raw && objects.empty())) {
        fmt::print(stderr, "usage: {} --llvm-objdump PATH [--llvm-mc PATH --work-dir DIR --raw] [OBJECT...]\n",
                   argv[0]);
        return 2;
    }
    if (raw) {
        std::string object;
        std::size_t count = 0;
        if (!write_raw_object(llvm_mc, work_dir, object, count)) {
            fmt::print("FAIL: llvm-mc could not assemble the synthetic encodings\n");
            return 1;
        }
        fmt::print("synthetic object: {} slots covering all {} ops\n", count, xbpf::isa::kNumOps);
        objects.push_back(object);
    }

    Counts total;
    for (const Mode& mode : kModes) {
        Counts counts;
        for (const std::string& object : objects) {
            const auto output = run(fmt::format("'{}' -d -z {} '{}'", objdump, mode.flags, object));
            if (!output) {
                fmt::print("FAIL {}: llvm-objdump failed\n", object);
                ++counts.failures;
                continue;
            }
            std::string error;
            const auto sections = parse_objdump(*output, error);
            if (!sections || sections->empty()) {
                fmt::print("FAIL {}: {}\n", object, sections ? "no executable section" : error);
                ++counts.failures;
                continue;
            }
            for (const Section& section : *sections) check_section(object, section, mode, counts);
        }
        fmt::print(
            "[{}] {} objects: {} lines compared, {} identical, {} <unknown> to llvm-objdump 14 (xbpf decodes "
            "them), {} llvm 14 gaps, {} failures\n",
            mode.name, objects.size(), counts.compared, counts.identical, counts.unknown, counts.gaps, counts.failures);
        total.compared += counts.compared;
        total.identical += counts.identical;
        total.unknown += counts.unknown;
        total.gaps += counts.gaps;
        total.failures += counts.failures;
    }
    fmt::print("TOTAL: {} lines compared, {} identical, {} <unknown> skipped, {} llvm 14 gaps, {} failures\n",
               total.compared, total.identical, total.unknown, total.gaps, total.failures);
    if (total.compared == 0) return 1;
    return total.failures == 0 ? 0 : 1;
}
