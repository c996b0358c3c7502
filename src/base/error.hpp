// Error and Result: how anything that user input can cause is reported (see ../../docs/architecture.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>
#include <utility>

namespace xbpf {

/// What kind of failure an Error describes; stable, so callers and tests may switch on it.
enum class ErrorCode : std::uint8_t {
    kInvalidArgument,     ///< a bad flag, option or API argument
    kInvalidInstruction,  ///< an encoding the ISA does not define (RFC 9669)
    kParse,               ///< assembly or other text that does not parse
    kIo,                  ///< a file that cannot be read or written
    kRuntime,             ///< a program stopped at run time (checked mode violation, budget)
    kUnsupported,         ///< valid, but not implemented by this back end
    kNotFound,            ///< a named thing (helper, program, label) does not exist
    kKernel,              ///< the Linux bpf() syscall refused
    kVerify,              ///< the verifier rejected a program (it may be unsafe)
};

/// Where an error happened. Every field is optional; to_string() prints only the known ones.
struct Location {
    std::optional<std::size_t> insn;         ///< instruction (slot) index
    std::optional<std::size_t> byte_offset;  ///< byte offset in a file or section
    std::string file;                        ///< file name, if any
    int line = 0;                            ///< 1-based source line, 0 if unknown
    int column = 0;                          ///< 1-based column, 0 if unknown
};

/// A failure caused by input: a code, one human sentence, and where.
struct Error {
    ErrorCode code = ErrorCode::kInvalidArgument;
    std::string message;
    Location where;

    /// "file:line:col: message" or "insn 12: message", as users read it on one line.
    [[nodiscard]] std::string to_string() const;
};

/// The result of anything that user input can make fail.
template <class T>
using Result = std::expected<T, Error>;

/// Shorthand for `return make_error(...)` from a function returning Result<T>.
inline std::unexpected<Error> make_error(ErrorCode code, std::string message, Location where = {}) {
    return std::unexpected<Error>(Error{code, std::move(message), std::move(where)});
}

/// Location of an instruction index.
inline Location at_insn(std::size_t index) {
    Location l;
    l.insn = index;
    return l;
}

}  // namespace xbpf
