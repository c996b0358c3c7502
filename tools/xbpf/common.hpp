// Shared pieces of the xbpf subcommands: reading inputs and reporting errors the same way everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::cli {

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

/// Prints "xbpf <cmd>: <error>" on one line to stderr and returns the exit status to use (1).
int report(const char* command, const Error& error);

}  // namespace xbpf::cli
