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
#include "maps/map.hpp"

namespace xbpf::vm {

class NativeCode;

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

/// What a program is linked against when it loads.
struct ProgramEnv {
    /// Helpers by kernel id; must outlive the Program. Null: no helper calls allowed.
    const HelperTable* helpers = nullptr;
    /// The map table: `lddw src=1 (map fd) / src=5 (map idx)` with imm = i loads the address of the maps::Map
    /// object maps[i] (helpers cast r1 to maps::Map*); `lddw src=2 / src=6` loads the address of element 0 of the
    /// array map maps[i] plus the second imm. The Program keeps the maps alive. Empty: map references are
    /// refused (kUnsupported), as for a bare instruction stream.
    std::span<const std::shared_ptr<maps::Map>> maps;
    /// enum bpf_prog_type (0: raw memory program). A prog_array the program refers to is claimed for this type,
    /// as the kernel's bpf_prog_map_compatible does at load.
    std::uint32_t prog_type = 0;
};

/// A program ready to run: decoded once, validated, with its threaded code prepared per engine mode.
class Program {
  public:
    /// Decodes and validates `insns` (see isa::decode). Helper calls are resolved against `helpers`, which must
    /// outlive the Program; a call to an unknown helper id is an error here, not at run time.
    static Result<Program> load(std::span<const isa::RawInsn> insns, const HelperTable* helpers = nullptr);
    /// As above, linked against `env` (helpers, maps, program type). Errors name the instruction: unknown helper,
    /// unknown map index, a map value reference to a map without direct value access (not an array) or past
    /// its value, a prog_array owned by another program type.
    static Result<Program> load(std::span<const isa::RawInsn> insns, const ProgramEnv& env);

    Program(Program&&) noexcept;
    Program& operator=(Program&&) noexcept;
    ~Program();

    [[nodiscard]] const std::vector<isa::Instruction>& instructions() const;
    [[nodiscard]] std::size_t size() const;

    /// Attaches machine code compiled for this program (src/jit); vm::run prefers it when its mode matches the
    /// run's (see RunOptions::engine). Null detaches.
    void set_native(std::shared_ptr<const NativeCode> code);
    /// The attached machine code, or null.
    [[nodiscard]] const NativeCode* native() const;

    struct Impl;
    [[nodiscard]] const Impl& impl() const { return *impl_; }

  private:
    explicit Program(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Which engine runs a program.
enum class EngineKind : std::uint8_t {
    Auto,    ///< the program's native code when it has code for the run's mode, else the interpreter
    Jit,     ///< the same as Auto (the caller compiled the program and reports a fallback itself)
    Interp,  ///< always the interpreter
};

/// How to run.
struct RunOptions {
    /// Checked mode (for programs no verifier has accepted): every load and store is checked against the stack
    /// and `regions`, and at most `insn_budget` instructions run. Unchecked mode trusts the program completely.
    bool checked = true;
    std::uint64_t insn_budget = 1ull << 32;
    /// The engine (vm::run; vm::interpret always interprets).
    EngineKind engine = EngineKind::Auto;
    /// Unchecked runs start with a zeroed stack too (checked runs always do). A privileged program may read stack
    /// it never wrote (as in the kernel) and then sees whatever the host left there; differential tests set this so
    /// that both engines see the same bytes.
    bool zero_stack = false;
};

/// What a program is given: its first five argument registers and the memory it may touch.
struct RunInput {
    std::array<std::uint64_t, 5> args{};  ///< r1..r5 at entry
    std::vector<MemoryRegion> regions;    ///< memory besides the stack (checked mode)
    /// Packet for the legacy LD_ABS/LD_IND loads (read-only); empty means those loads end the program with 0.
    std::span<const std::uint8_t> packet;
    /// Opaque pointer passed through to helpers (RunState::user).
    void* user = nullptr;
    /// Output sinks for helpers (trace_printk); null means helpers::default_environment().
    const helpers::Environment* env = nullptr;
    /// enum bpf_prog_type seen by helpers (RunState::prog_type); 0 means the Program's own (ProgramEnv).
    std::uint32_t prog_type = 0;
    /// xdp / skb programs: the packet helpers such as bpf_xdp_adjust_head work on (RunState::packet).
    helpers::Packet* packet_buffer = nullptr;
};

/// The result of one run.
struct RunResult {
    std::uint64_t r0 = 0;
    std::uint64_t insns = 0;  ///< instructions executed (checked mode only; 0 otherwise)
    bool native = false;      ///< the run entered native (JIT) code
};

/// Runs `program` in the interpreter. Checked-mode violations (out-of-bounds access, budget exhausted,
/// call depth exceeded) return ErrorCode::kRuntime naming the instruction.
Result<RunResult> interpret(const Program& program, const RunInput& input, const RunOptions& options = {});

/// Runs `program` in its native code when it has code for the run's mode (checked or not) and `options.engine`
/// allows it, else in the interpreter. Same results and errors as interpret (the instruction budget is charged per
/// basic block in native code: a run that ends normally reports the same count).
Result<RunResult> run(const Program& program, const RunInput& input, const RunOptions& options = {});

/// Convenience for the raw-memory convention of uBPF and bpf_conformance: r1 = mem, r2 = mem size (through run).
Result<RunResult> run_raw(const Program& program, std::span<std::uint8_t> mem, const RunOptions& options = {});

}  // namespace xbpf::vm
