// Internal to src/jit/x86_64: the state of one compilation and the lowering of each instruction class.
//
// Register mapping (as the kernel's x86-64 JIT): r0=rax r1=rdi r2=rsi r3=rdx r4=rcx r5=r8 r6=rbx r7=r13 r8=r14
// r9=r15 r10=rbp; r12 holds the vm::Engine* of the run; r9, r10, r11 are scratch. BPF stack frames live in the
// Engine's stack block (never on the native stack): a local call is a native call with rbp lowered by 512.
// Inside a function body the native rsp is 16-byte aligned, so helpers and glue are called directly.
#pragma once

#include <asmjit/x86.h>
#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"
#include "jit/jit.hpp"
#include "jit/module.hpp"
#include "vm/engine.hpp"

namespace xbpf::jit::x86_64 {

namespace x86 = asmjit::x86;

/// BPF register -> x86-64 register.
inline const x86::Gp kReg[11] = {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8,
                                 x86::rbx, x86::r13, x86::r14, x86::r15, x86::rbp};
inline const x86::Gp kEngine = x86::r12;

/// `r` as a 64-bit or 32-bit register.
inline x86::Gp w(const x86::Gp& r, bool is64) {
    if (is64) return r.r64();
    return r.r32();
}

/// Per-slot working arrays of a compilation, kept per thread between compiles (a 100,000-instruction program
/// needs megabytes: allocating them anew would page-fault them in each time).
struct PlanScratch {
    std::vector<asmjit::Label> slot_label;
    std::vector<int> function_of;
    std::vector<std::uint8_t> block_start;
    std::vector<std::uint8_t> loop_head;
    std::vector<std::uint32_t> block_len;
    std::vector<std::uint32_t> latch_copy_end;
    std::vector<std::int32_t> depth_delta;
    std::vector<std::uint8_t> in_loop;
};

/// One function of the program: slots [start, end).
struct Function {
    std::size_t start = 0;
    std::size_t end = 0;
    std::vector<x86::Gp> saved;  ///< callee-saved registers its prologue pushes
    bool pad = false;            ///< an extra 8 bytes keep rsp 16-byte aligned in the body
    asmjit::Label entry;
    asmjit::Label epilogue;
};

/// An out-of-line fault site: jumps to the common fault path with r10 = packed (r11 holds the value).
struct FaultSite {
    asmjit::Label label;
    std::uint64_t packed;
};

/// The out-of-line slow path of a checked access whose inline stack-frame test failed: the address is in r11.
struct SlowCheck {
    asmjit::Label label;
    asmjit::Label back;
    std::uint32_t size;
    bool write;
    std::size_t pc;
};

class Lowering {
  public:
    /// `entry_abort`: the shared entry code's abort path (entry_code()).
    Lowering(const vm::Program::Impl& impl, const JitOptions& options, asmjit::CodeHolder& code,
             std::uint64_t entry_abort);

    /// Emits the whole module: trampoline, functions, stubs, tables.
    Result<void> emit_all();

    std::uint64_t entry_abort_;
    /// Per slot: a label only where a jump lands (invalid elsewhere: labels cost time and memory per compile).
    PlanScratch& scratch_;
    std::vector<asmjit::Label>& slot_label;
    /// Per slot (+1: the end of the last function): where its code starts. The code is one section that asmjit
    /// emits in place (forward jumps take rel32 forms), so the offset at emission is the final one.
    std::vector<std::uint32_t> insn_offsets;
    std::vector<Function> functions;
    std::vector<int>& function_of;  ///< slot -> index in functions

  private:
    // compiler.cpp
    void plan();
    void plan_latch_copies();                        ///< after plan() computed the loops (scratch_.in_loop)
    std::size_t block_end(std::size_t start) const;  ///< the next block start after `start`
    std::size_t last_insn(std::size_t start, std::size_t end) const;  ///< the last instruction of [start, end)
    /// Lowers the slots [from, to) again after the jump at `pc` (a latch copy: no labels, no slot offsets).
    Result<void> emit_copy(std::size_t from, std::size_t to);
    /// Lowers the slots [from, to) of the current function; `copy`: a second copy (no labels, no slot offsets).
    Result<void> emit_slots(std::size_t from, std::size_t to, bool copy);
    void emit_function(Function& f);
    void emit_prologue(const Function& f);
    void emit_epilogue_body(const Function& f);  ///< restores registers, no ret
    void emit_stubs();
    Result<void> lower(std::size_t pc);
    /// Peephole: a 64-bit register copy followed by adds to the copy becomes one lea, or part of the addressing
    /// mode of a load through it; returns the number of slots it emitted code for (0: none).
    std::size_t fuse_address(std::size_t pc);
    /// The load at `pc` from [base + index + disp] as its instruction's width and extension.
    void emit_folded_load(std::size_t pc, const x86::Gp& base, std::optional<x86::Gp> index, std::int32_t disp);
    /// Emits the load at `pc` if an earlier sum was deferred into it; true if it did.
    bool emit_pending_load(std::size_t pc);
    asmjit::Label fault(FaultKind kind, std::uint32_t size, std::size_t pc, std::uint32_t count = 0);
    /// `label`, created on first use (labels the code never refers to cost nothing).
    asmjit::Label& use(asmjit::Label& label);
    void call_abs(const void* fn);  ///< call a C++ function by absolute address (through r10)
    /// An immediate operand for `imm` (sign-extended for 64-bit operations); with blinding, loaded into r10.
    asmjit::Operand imm_operand(std::int32_t imm, bool is64);
    void mov_imm64(const x86::Gp& dst, std::uint64_t value);

    // lower_alu.cpp
    Result<void> lower_alu(std::size_t pc, const isa::Instruction& insn);
    void lower_divmod(std::size_t pc, const isa::Instruction& insn, bool is64, bool is_signed, bool is_mod);
    void divmod32_by_constant(const isa::Instruction& insn, std::uint32_t d, bool is_mod);
    void divmod64_by_constant(const isa::Instruction& insn, std::uint64_t d, bool is_mod);  ///< 1 < d < 2^31
    void lower_shift(const isa::Instruction& insn, bool is64, x86::Inst::Id id);
    // lower_jmp.cpp
    Result<void> lower_jmp(std::size_t pc, const isa::Instruction& insn);
    void lower_helper_call(std::size_t pc, const isa::Instruction& insn);
    void lower_local_call(std::size_t pc, const asmjit::Label* target, const x86::Gp* target_reg);
    // lower_mem.cpp
    Result<void> lower_mem(std::size_t pc, const isa::Instruction& insn);
    /// The Ldx/LdxSx `load` from `m`: its width, zero- or sign-extended into its dst.
    void emit_load(const isa::Instruction& load, const x86::Mem& m);
    x86::Mem checked_address(std::size_t pc, const x86::Gp& base, std::int16_t off, std::uint32_t size, bool write);
    void lower_atomic(std::size_t pc, const isa::Instruction& insn);
    void lower_packet_load(std::size_t pc, const isa::Instruction& insn);

    const vm::Program::Impl& impl_;
    const JitOptions& options_;
    x86::Assembler a_;
    std::mt19937_64* rng_ = nullptr;          ///< blinding only: the thread's generator
    std::vector<std::uint8_t>& block_start_;  ///< per slot (+1): a basic block starts here
    std::vector<std::uint8_t>& loop_head_;    ///< a backward jump's target not fallen into inside another loop: aligned
    std::vector<std::uint32_t>& block_len_;
    /// Unchecked optimised code: per conditional jump whose target's latch block is copied after it, the end of
    /// that block (0: none).
    std::vector<std::uint32_t>& latch_copy_end_;
    static constexpr std::size_t kMaxLatchCopy = 12;  ///< slots
    /// An address sum folded into a later load (fuse_address): emitted when the slot is.
    struct PendingLoad {
        std::size_t slot;
        x86::Gp base;
        std::optional<x86::Gp> index;
        std::int32_t disp;
    };
    std::vector<PendingLoad> pending_loads_;
    static constexpr std::size_t kMaxFoldDistance = 6;  ///< instructions between a sum and its load
    std::vector<FaultSite> faults_;
    std::vector<SlowCheck> slow_checks_;
    /// Some instruction writes BPF r10 (only unverified programs can): rbp may then differ from the frame top
    /// stack_top - depth * 512, so checked code has no inline stack test and local calls save rbp.
    bool writes_r10_ = false;
    asmjit::Label fault_common_;
    asmjit::Label abort_;
    asmjit::Label callx_table_;
    asmjit::Label check_stub_[9][2];  ///< by size (1, 2, 4, 8) and write
    asmjit::Label end_zero_;          ///< ends the run with r0 = 0 (legacy packet load out of bounds)
    std::optional<Error> pending_error_;
    bool uses_tail_call_ = false;
    bool uses_callx_ = false;
    std::size_t cur_fn_ = 0;
};

/// The process-wide entry code (program-independent, so compiled once, on first use): the trampoline every run
/// enters (`u64 (Engine*, const u64* args, u64 target, u64 frame_top)`), and `abort`, which unwinds a run to the
/// innermost trampoline (whose caller, JitCode::run, reports e->error).
struct EntryCode {
    ExecMemory memory;
    std::uint64_t trampoline = 0;
    std::uint64_t abort = 0;
};
const Result<EntryCode>& entry_code();

/// Lays out `code` (asmjit), relocates it to fresh ExecMemory and writes it there (then executable); errors name
/// `what`.
Result<ExecMemory> install(asmjit::CodeHolder& code, std::string_view what);

/// Offsets of the Engine fields generated code reads and writes.
std::int32_t engine_offset_depth();
std::int32_t engine_offset_stack_top();
std::int32_t engine_offset_budget();
std::int32_t engine_offset_tail_target();
std::int32_t engine_offset_tail_ctx();
std::int32_t engine_offset_aborted();
std::int32_t engine_offset_native_rsp();
std::int32_t engine_offset_cur();
std::int32_t engine_offset_ctx();

}  // namespace xbpf::jit::x86_64
