// Shared pieces of the xbpf subcommands: reading inputs and reporting errors the same way everywhere.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"
#include "object/object_spec.hpp"

namespace CLI {
class App;
}

namespace xbpf::cli {

/// Parses argv with CLI11: -1 when parsing succeeded and the command goes on; otherwise the exit status to return
/// at once (0 after --help; 2 for a bad option, reported as one line "xbpf <cmd>: <problem> (see --help)").
int parse_args(CLI::App& app, int argc, char** argv);

/// One subcommand: its name, one-line summary and entry point (argv[0] is the subcommand name).
struct Command {
    const char* name;
    const char* summary;
    int (*main)(int argc, char** argv);
};

/// Reads a whole file (or standard input for "-").
Result<std::vector<std::uint8_t>> read_file(const std::string& path);

/// Writes bytes to a file (or standard output for "-").
Result<void> write_file(const std::string& path, const std::vector<std::uint8_t>& bytes);

/// A program file: raw instruction bytes, or assembly text in either syntax (detected by content).
Result<std::vector<isa::RawInsn>> load_program_file(const std::string& path);

/// Parses space-separated (or contiguous) hex bytes, as the bpf_conformance plugin protocol passes them.
Result<std::vector<std::uint8_t>> parse_hex_bytes(const std::string& text);

/// As load_program_file, for bytes already read from `path` (so standard input is read once): raw instruction bytes
/// or assembly text; ELF objects are refused.
Result<std::vector<isa::RawInsn>> program_from_bytes(const std::vector<std::uint8_t>& bytes, const std::string& path);

/// True if `bytes` start with the ELF magic (\x7fELF).
bool is_elf(std::span<const std::uint8_t> bytes);

/// Reads and parses a BPF ELF object (or standard input for "-"). A file without the ELF magic is refused with
/// "not an ELF object"; parse errors are the object parser's ("prog.o: offset 16: section ...").
Result<object::ObjectSpec> load_object_file(const std::string& path);

/// Bytes as bpftool's fprint_hex prints them: "01 02 03" with two spaces after every 8th byte and a newline after
/// every 16th.
std::string bpftool_hex(std::span<const std::uint8_t> bytes);

/// `--engine` of run and conformance-plugin: "auto" (the JIT for verified programs, else the interpreter), "jit"
/// (also for unverified programs: checked JIT code) or "interp".
inline constexpr const char* kEngineHelp =
    "execution engine: auto (the JIT for verified programs, the interpreter otherwise), jit (with --no-verify: "
    "checked JIT code), interp";

/// Prints the one-line JIT fallback notice: "xbpf <cmd>: jit: <reason>; running in the interpreter".
void report_jit_fallback(const char* command, std::string_view reason);

/// Prints "xbpf <cmd>: <error>" on one line to stderr and returns the exit status to use (1).
int report(const char* command, const Error& error);

}  // namespace xbpf::cli
