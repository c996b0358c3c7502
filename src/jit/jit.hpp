// The x86-64 JIT: compiles a loaded vm::Program (plus the verifier's facts) to machine code through asmjit.
//
// Contract: compiled code gives the same r0, memory effects and errors as the interpreter (src/vm/interpreter.cpp)
// in the same mode. Checked code (for unverified programs) checks every memory access: inline for the active stack
// frame, otherwise with the interpreter's region and grant logic (vm::Engine::access_ok); it charges the
// instruction budget per basic block, and applies the RFC 9669 division rules; unchecked code (verified programs)
// has no checks except the call depth, and omits the division checks the verifier's facts prove unnecessary.
// Executable memory is never writable and executable at once (src/jit/exec_memory.hpp: packed read+execute arenas).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/error.hpp"
#include "verifier/verifier.hpp"
#include "vm/native.hpp"
#include "vm/object.hpp"
#include "vm/vm.hpp"

namespace xbpf::jit {

/// How to compile.
struct JitOptions {
    /// Run-time checks for programs no verifier accepted (see the header comment). Checked code runs checked runs.
    bool checked = true;
    /// Materialise every 32/64-bit immediate as (imm ^ rnd) ^ rnd through a scratch register, as the kernel's
    /// bpf_jit_blind_constants does for unprivileged programs (no program immediate appears in the code bytes).
    bool blind_constants = false;
    /// The verifier's facts per slot (VerifyReport::facts) of an accepted program, or empty. Unchecked code uses
    /// divisor_nonzero / divisor_not_minus1 to emit bare divisions.
    std::span<const verifier::InsnFacts> facts;
    /// Optimisations beyond one lowering per instruction: mov + add as one lea; unsigned division and modulo by an
    /// immediate as a shift / mask (powers of two) or a multiplication (other 32-bit divisors). Off only to measure.
    bool optimize = true;
};

class Module;

/// Machine code for one Program: the code bytes (sealed read+execute), where each BPF instruction's code begins,
/// and the run entry the VM calls (vm::NativeCode).
class JitCode final : public vm::NativeCode {
  public:
    ~JitCode() override;
    [[nodiscard]] bool checked() const override;
    Result<std::uint64_t> run(vm::Engine* e, std::size_t fn, const std::uint64_t* args) const override;

    /// The generated code (entry trampoline, functions, out-of-line stubs, tables), as mapped.
    [[nodiscard]] std::span<const std::uint8_t> code() const;
    /// Native offset (from code().data()) where the code of BPF slot `slot` starts; the second slot of an lddw
    /// has the offset of the next instruction. One entry per slot plus one for the end of the last function.
    [[nodiscard]] const std::vector<std::uint32_t>& insn_offsets() const;
    /// Native address of the function starting at slot `fn`, or 0 if `fn` does not start a function.
    [[nodiscard]] std::uint64_t function_address(std::size_t fn) const;

    explicit JitCode(std::unique_ptr<Module> m);

  private:
    std::unique_ptr<Module> m_;
};

/// Compiles `program`. Errors (kUnsupported naming the instruction) mean: run it in the interpreter.
Result<std::shared_ptr<const JitCode>> compile(const vm::Program& program, const JitOptions& options = {});

/// A LoadOptions::compile_native for vm::Object::load: checked or facts-using code as the VM asks, constant
/// blinding for unprivileged loads (or when `blind` is set).
vm::LoadOptions::NativeCompiler native_compiler(bool blind = false);

}  // namespace xbpf::jit
