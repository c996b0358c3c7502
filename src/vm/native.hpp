// The VM's view of native code: what a compiler above the VM (src/jit) produces for a Program. The VM declares the
// interface and never includes the compiler, so dependencies stay one-way (jit -> vm). A Program holds at most one
// NativeCode; vm::run enters it, engine_call enters it for callbacks, and tail calls jump between them.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/error.hpp"

namespace xbpf::vm {

struct Engine;

/// Compiled machine code of one Program.
class NativeCode {
  public:
    virtual ~NativeCode() = default;
    /// True if the code checks every memory access, the instruction budget and division rules at run time (for
    /// programs no verifier accepted); such code runs only checked runs, unchecked code only unchecked runs.
    [[nodiscard]] virtual bool checked() const = 0;
    /// Runs the function starting at slot `fn` (0: the entry; else a function start, as Context::call passes) on
    /// the engine's active frame `e->depth` with r1..r5 = args[0..4], and returns r0 or the run's error (the same
    /// kRuntime texts as the interpreter, naming the instruction).
    virtual Result<std::uint64_t> run(Engine* e, std::size_t fn, const std::uint64_t* args) const = 0;
};

}  // namespace xbpf::vm
