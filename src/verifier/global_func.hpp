// Global functions (BTF_FUNC_GLOBAL linkage in the program's func_info): the kernel verifies each once, on its own,
// with arguments typed from its BTF prototype (btf_prepare_func_args), and its callers only check their arguments
// against those types and get an unknown scalar back (check_func_call, btf_check_subprog_call). This file reads the
// signatures; the analyzer (transfer_call.cpp) does the rest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "object/object_spec.hpp"

struct btf;

namespace xbpf::verifier {

/// How a global function's argument is typed (the kernel's bpf_subprog_arg_info).
struct GlobalArg {
    enum class Kind : std::uint8_t {
        Scalar,  ///< ARG_ANYTHING: integers and enums
        Ctx,     ///< ARG_PTR_TO_CTX: a pointer to the program type's context struct (or tagged "arg:ctx")
        Mem,     ///< ARG_PTR_TO_MEM: a pointer to a sized type, `size` bytes readable and writable
    };
    Kind kind = Kind::Scalar;
    bool nullable = true;    ///< Mem: PTR_MAYBE_NULL unless tagged "arg:nonnull"
    std::uint32_t size = 0;  ///< Mem: bytes
};

/// A function's signature as the verifier uses it.
struct GlobalFunc {
    bool is_global = false;  ///< BTF_FUNC_GLOBAL linkage and not the entry function
    std::string name;
    std::vector<GlobalArg> args;
    /// Non-empty when the prototype cannot be used (the kernel's btf_prepare_func_args error, e.g.
    /// "Arg#0 type STRUCT in f() is not supported yet."; Linux 6.18 also refuses void functions): every call to
    /// the function is refused.
    std::string error;
};

/// The signature of the function starting at slot `start` of `program`, read from `program_btf` (the object's BTF,
/// which func_info's type ids refer to). `is_global` is false for static functions, for the entry (start 0), and
/// when there is no BTF or func_info.
GlobalFunc global_function(const struct btf* program_btf, const object::ProgramSpec& program, std::size_t start,
                           object::ProgramType type);

}  // namespace xbpf::verifier
