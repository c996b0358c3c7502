// Kernel types for tracing programs: the arguments a fentry/fexit, tp_btf or LSM program receives (from the
// kernel's BTF: the traced function's prototype, or the tracepoint's btf_trace_<name> typedef) and what a load
// through a typed kernel pointer gives (the kernel's btf_ctx_access and btf_struct_access).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "object/object_spec.hpp"

struct btf;

namespace xbpf::verifier {

/// What a tracing program's context holds: one u64 per argument (and the return value for fexit).
struct TracingArgs {
    std::string function;             ///< the traced function or tracepoint
    std::vector<std::uint32_t> args;  ///< per argument: the struct a pointer argument points to, or 0 (scalar)
    bool has_return = false;          ///< fexit / fmod_ret: args.size() is followed by the return value
    std::uint32_t return_struct = 0;  ///< the struct the return value points to, or 0
};

/// The arguments of the program's attach target in `kernel` (vmlinux BTF), or nullopt when the program type has
/// none (not Tracing/Lsm) or the target is not in the BTF.
std::optional<TracingArgs> tracing_args(const struct btf* kernel, object::ProgramType type, object::AttachType attach,
                                        std::string_view target);

/// The result of a load through a pointer to kernel struct `type_id`.
struct BtfLoad {
    std::uint32_t pointee = 0;  ///< the load gives a pointer to this struct (0: a scalar)
};

/// A `size`-byte load at byte `off` of kernel struct `type_id` (btf_struct_access). Errors are the kernel's
/// messages ("access beyond struct task_struct at off 9000 size 4").
std::optional<BtfLoad> btf_struct_load(const struct btf* kernel, std::uint32_t type_id, std::int64_t off, int size,
                                       std::string* error);

/// The name of a struct ("task_struct"), or "?".
std::string btf_struct_name(const struct btf* kernel, std::uint32_t type_id);

/// The running kernel's BTF (/sys/kernel/btf/vmlinux), loaded once; null when absent.
const struct btf* vmlinux_btf();

}  // namespace xbpf::verifier
