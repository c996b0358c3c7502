// Internal: checked mode's test of a helper call's arguments, shared by the interpreter and checked native code.
//
// A verified program's helper arguments were proven by the verifier (kernel/bpf/verifier.c: check_func_arg and
// check_helper_mem_access against the helper's bpf_func_proto). A checked run of an unverified program has no
// such proof, and helpers trust their pointers and sizes, so before each call the engine checks the arguments
// against the same prototype table (helpers::prototype) with the same access rule as loads and stores
// (Engine::access_ok). Unchecked (verified) runs never call this.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/error.hpp"
#include "vm/engine.hpp"

namespace xbpf::vm {

/// Checks r1..r5 (`args`) of a call to helper `helper_index` (an index into e.cur->helper_fns) at instruction `pc`
/// with e.depth the active frame: nullopt when the helper may run, else the run's error (ErrorCode::kRuntime,
/// naming the instruction, the helper, the argument and why). Helpers without a prototype (an embedder's own)
/// are not checked.
std::optional<Error> check_helper_args(Engine& e, std::size_t helper_index, const std::uint64_t* args, std::size_t pc);

}  // namespace xbpf::vm
