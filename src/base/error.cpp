#include "base/error.hpp"

#include <fmt/format.h>

namespace xbpf {

std::string Error::to_string() const {
    std::string prefix;
    if (!where.file.empty()) {
        prefix = where.file;
        if (where.line > 0) {
            prefix += fmt::format(":{}", where.line);
            if (where.column > 0) prefix += fmt::format(":{}", where.column);
        }
        prefix += ": ";
    } else if (where.line > 0) {
        prefix = where.column > 0 ? fmt::format("line {}:{}: ", where.line, where.column)
                                  : fmt::format("line {}: ", where.line);
    }
    if (where.insn)
        prefix += fmt::format("insn {}: ", *where.insn);
    else if (where.byte_offset)
        prefix += fmt::format("offset {}: ", *where.byte_offset);
    return prefix + message;
}

}  // namespace xbpf
