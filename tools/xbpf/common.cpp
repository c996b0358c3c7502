#include "common.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "isa/assembler.hpp"

namespace xbpf::cli {

int parse_args(CLI::App& app, int argc, char** argv) {
    try {
        app.parse(argc, argv);
        return -1;
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(), e.what());
        return 2;
    }
}

Result<std::vector<std::uint8_t>> read_file(const std::string& path) {
    if (path == "-") {
        std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
        return bytes;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)), where);
    }
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes;
}

Result<void> write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
    if (path == "-") {
        std::fwrite(bytes.data(), 1, bytes.size(), stdout);
        std::fflush(stdout);
        return {};
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kIo, fmt::format("cannot write: {}", std::strerror(errno)), where);
    }
    return {};
}

namespace {

// Assembly text is printable ASCII with tabs and newlines; instruction bytes almost never are (opcode 0x95 exit,
// zero bytes in nearly every slot).
bool looks_like_text(const std::vector<std::uint8_t>& bytes) {
    for (std::uint8_t b : bytes)
        if (b == 0 || (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b >= 0x7f) return false;
    return true;
}

}  // namespace

Result<std::vector<isa::RawInsn>> load_program_file(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return std::unexpected(bytes.error());
    if (bytes->empty()) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kInvalidArgument, "empty file", where);
    }
    if (bytes->size() >= 4 && std::memcmp(bytes->data(),
                                          "\x7f"
                                          "ELF",
                                          4) == 0) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kUnsupported,
                          "ELF objects are not supported yet: give assembly text or raw instruction bytes", where);
    }
    if (looks_like_text(*bytes)) {
        isa::AsmOptions opts;
        opts.file_name = path;
        return isa::assemble(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), opts);
    }
    auto insns = isa::from_bytes(*bytes);
    if (!insns) {
        Error e = insns.error();
        e.where.file = path;
        return std::unexpected(e);
    }
    return insns;
}

Result<std::vector<std::uint8_t>> parse_hex_bytes(const std::string& text) {
    std::vector<std::uint8_t> out;
    int nibble = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
            if (nibble >= 0) {
                out.push_back(static_cast<std::uint8_t>(nibble));  // a lone digit is one byte
                nibble = -1;
            }
            continue;
        } else {
            Location where;
            where.byte_offset = i;
            return make_error(ErrorCode::kParse, fmt::format("invalid hex digit '{}'", c), where);
        }
        if (nibble < 0)
            nibble = v;
        else {
            out.push_back(static_cast<std::uint8_t>(nibble << 4 | v));
            nibble = -1;
        }
    }
    if (nibble >= 0) out.push_back(static_cast<std::uint8_t>(nibble));
    return out;
}

int report(const char* command, const Error& error) {
    std::fprintf(stderr, "xbpf %s: %s\n", command, error.to_string().c_str());
    return 1;
}

Result<std::vector<isa::RawInsn>> program_from_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path) {
    Location where;
    where.file = path;
    if (bytes.empty()) return make_error(ErrorCode::kInvalidArgument, "empty file", where);
    if (is_elf(bytes))
        return make_error(ErrorCode::kUnsupported,
                          "ELF objects are not supported here: give assembly text or raw instruction bytes", where);
    if (looks_like_text(bytes)) {
        isa::AsmOptions opts;
        opts.file_name = path;
        return isa::assemble(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), opts);
    }
    auto insns = isa::from_bytes(bytes);
    if (!insns) {
        Error e = insns.error();
        e.where.file = path;
        return std::unexpected(e);
    }
    return insns;
}

bool is_elf(std::span<const std::uint8_t> bytes) {
    return bytes.size() >= 4 && bytes[0] == 0x7f && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F';
}

Result<object::ObjectSpec> load_object_file(const std::string& path) {
    auto bytes = read_file(path);
    if (!bytes) return std::unexpected(bytes.error());
    if (!is_elf(*bytes)) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kParse, "not an ELF object (no \\x7fELF magic)", where);
    }
    return object::parse_object(*bytes, path);
}

std::string bpftool_hex(std::span<const std::uint8_t> bytes) {
    std::string out;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 0) {
        } else if (i % 16 == 0)
            out += '\n';
        else if (i % 8 == 0)
            out += "  ";
        else
            out += ' ';
        out += fmt::format("{:02x}", bytes[i]);
    }
    return out;
}

void report_jit_fallback(const char* command, std::string_view reason) {
    std::string r(reason);
    if (r.starts_with("jit: ")) r = r.substr(5);
    fmt::print(stderr, "xbpf {}: jit: {}; running in the interpreter\n", command, r);
}

}  // namespace xbpf::cli
