// The xbpf virtual machine: loaded programs, memory regions, helper registry and the interpreter.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "helpers/helper.hpp"
#include "isa/instruction.hpp"

namespace xbpf::vm {

/// A contiguous range of host memory a program may access (checked mode refuses anything else).
struct MemoryRegion {
    std::uint64_t start = 0;  ///< host address
    std::uint64_t size = 0;   ///< bytes
    bool writable = true;
    std::string name;  ///< shown in violation messages ("mem", "ctx", "stack", map names)

    [[nodiscard]] bool contains(std::uint64_t addr, std::uint64_t len) const {
        return addr >= start && len <= size && addr - start <= size - len;
    }
};

/// Helpers and the per-run state they see live in src/helpers (helper.hpp); the VM's names for them.
using HelperFn = helpers::HelperFn;
using Helper = helpers::Helper;
using HelperTable = helpers::HelperTable;
using RunState = helpers::Context;

/// A program ready to run: decoded once, validated, with its threaded code prepared per engine mode.
class Program {
  public:
    /// Decodes and validates `insns` (see isa::decode). Helper calls are resolved against `helpers`, which must
    /// outlive the Program; a call to an unknown helper id is an error here, not at run time.
    static Result<Program> load(std::span<const isa::RawInsn> insns, const HelperTable* helpers = nullptr);

    Program(Program&&) noexcept;
    Program& operator=(Program&&) noexcept;
    ~Program();

    [[nodiscard]] const std::vector<isa::Instruction>& instructions() const;
    [[nodiscard]] std::size_t size() const;

    struct Impl;
    [[nodiscard]] const Impl& impl() const { return *impl_; }

  private:
    explicit Program(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// How to run.
struct RunOptions {
    /// Checked mode (for programs no verifier has accepted): every load and store is checked against the stack
    /// and `regions`, and at most `insn_budget` instructions run. Unchecked mode trusts the program completely.
    bool checked = true;
    std::uint64_t insn_budget = 1ull << 32;
};

/// What a program is given: its first five argument registers and the memory it may touch.
struct RunInput {
    std::array<std::uint64_t, 5> args{};  ///< r1..r5 at entry
    std::vector<MemoryRegion> regions;    ///< memory besides the stack (checked mode)
    /// Packet for the legacy LD_ABS/LD_IND loads (read-only); empty means those loads end the program with 0.
    std::span<const std::uint8_t> packet;
    /// Opaque pointer passed through to helpers (RunState::user).
    void* user = nullptr;
};

/// The result of one run.
struct RunResult {
    std::uint64_t r0 = 0;
    std::uint64_t insns = 0;  ///< instructions executed (checked mode only; 0 otherwise)
};

/// Runs `program` in the interpreter. Checked-mode violations (out-of-bounds access, budget exhausted,
/// call depth exceeded) return ErrorCode::kRuntime naming the instruction.
Result<RunResult> interpret(const Program& program, const RunInput& input, const RunOptions& options = {});

/// Convenience for the raw-memory convention of uBPF and bpf_conformance: r1 = mem, r2 = mem size.
Result<RunResult> run_raw(const Program& program, std::span<std::uint8_t> mem, const RunOptions& options = {});

}  // namespace xbpf::vm
