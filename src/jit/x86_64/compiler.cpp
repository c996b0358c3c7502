// The module layout: the entry trampoline, one native function per BPF function, out-of-line fault paths, the
// checked-access stubs and the callx table; then relocation into W^X memory (jit::compile).
#include <cstddef>

#include <fmt/format.h>

#include "jit/x86_64/lowering.hpp"

namespace xbpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
std::int32_t engine_offset_depth() { return offsetof(vm::Engine, depth); }
std::int32_t engine_offset_stack_top() { return offsetof(vm::Engine, stack_top); }
std::int32_t engine_offset_budget() { return offsetof(vm::Engine, budget); }
std::int32_t engine_offset_tail_target() { return offsetof(vm::Engine, tail_target); }
std::int32_t engine_offset_tail_ctx() { return offsetof(vm::Engine, tail_ctx); }
std::int32_t engine_offset_aborted() {
    return static_cast<std::int32_t>(offsetof(vm::Engine, ctx) + offsetof(helpers::Context, aborted));
}
std::int32_t engine_offset_native_rsp() { return offsetof(vm::Engine, native_rsp); }
std::int32_t engine_offset_cur() { return offsetof(vm::Engine, cur); }
std::int32_t engine_offset_ctx() { return offsetof(vm::Engine, ctx); }
#pragma GCC diagnostic pop

namespace {

constexpr std::int32_t kTailCallHelper = 12;

bool ends_block(const isa::Instruction& insn) {
    switch (isa::info(insn.op).shape) {
        case isa::Shape::Ja:
        case isa::Shape::Gotol:
        case isa::Shape::JmpImm:
        case isa::Shape::JmpReg:
        case isa::Shape::Call:
        case isa::Shape::CallLocal:
        case isa::Shape::CallKfunc:
        case isa::Shape::Callx:
        case isa::Shape::Exit: return true;
        default: return false;
    }
}

/// The BPF register an instruction writes besides r0 (for the callee-saved analysis), or -1.
int written_register(const isa::Instruction& insn) {
    switch (isa::info(insn.op).shape) {
        case isa::Shape::AluImm:
        case isa::Shape::AluReg:
        case isa::Shape::Neg:
        case isa::Shape::MovSx:
        case isa::Shape::Endian:
        case isa::Shape::Lddw:
        case isa::Shape::Ldx:
        case isa::Shape::LdxSx: return insn.dst;
        case isa::Shape::Atomic: return (insn.imm & 1) != 0 ? insn.src : -1;  // fetch forms write src
        default: return -1;
    }
}

}  // namespace

Lowering::Lowering(const vm::Program::Impl& impl, const JitOptions& options, asmjit::CodeHolder& code)
    : impl_(impl), options_(options), a_(&code) {
    // Only blinded code needs random numbers. std::random_device costs ~15 us per construction (a device read), so
    // each thread seeds one generator once (from 64 bits of it) and later compiles continue its sequence.
    if (options.blind_constants) {
        thread_local std::mt19937_64 rng = [] {
            std::random_device dev;
            return std::mt19937_64(static_cast<std::uint64_t>(dev()) << 32 | dev());
        }();
        rng_ = &rng;
    }
}

void Lowering::plan() {
    const std::size_t n = impl_.insns.size();
    slot_label.assign(n + 1, asmjit::Label());
    insn_offsets.assign(n + 1, 0);
    function_of.assign(n, 0);
    for (std::size_t pc = 0; pc < n; ++pc)
        if (impl_.is_function_start[pc]) {
            if (!functions.empty()) functions.back().end = pc;
            Function f;
            f.start = pc;
            f.entry = a_.newLabel();
            f.epilogue = a_.newLabel();
            functions.push_back(std::move(f));
        }
    functions.back().end = n;
    for (std::size_t i = 0; i < functions.size(); ++i)
        for (std::size_t pc = functions[i].start; pc < functions[i].end; ++pc) function_of[pc] = static_cast<int>(i);

    // Basic blocks (for the checked-mode budget): function starts, jump targets, and what follows a jump or call.
    block_start_.assign(n, false);
    loop_head_.assign(n, false);
    std::vector<std::int32_t> loop_depth_delta(n + 1, 0);
    for (const Function& f : functions) block_start_[f.start] = true;
    bool crosses = false;
    for (std::size_t pc = 0; pc < n; ++pc) {
        const isa::Instruction& insn = impl_.insns[pc];
        if (insn.is_lddw_tail) continue;
        const std::size_t next = pc + (insn.op == isa::Op::Lddw ? 2 : 1);
        if (ends_block(insn) && next < n) block_start_[next] = true;
        if (isa::has_target(insn.op) && insn.op != isa::Op::CallLocal) {
            const auto t = static_cast<std::size_t>(insn.target(pc));
            if (t <= n && !slot_label[t].isValid()) slot_label[t] = a_.newLabel();
            if (t <= pc) {  // a loop [t, pc]
                loop_head_[t] = true;
                ++loop_depth_delta[t];
                --loop_depth_delta[pc + 1];
            }
            if (t < n) {
                block_start_[t] = true;
                crosses = crosses || function_of[t] != function_of[pc];
            }
        }
        if (insn.op == isa::Op::Call &&
            impl_.helper_ids[static_cast<std::size_t>(impl_.code_unchecked[pc].imm)] == kTailCallHelper)
            uses_tail_call_ = true;
        if (insn.op == isa::Op::Callx) uses_callx_ = true;
    }
    // Loop heads are aligned unless the code before falls into them on every iteration of an enclosing loop (the
    // padding would then run each time): aligning those too made the `switch` kernel 25% slower.
    std::int32_t depth = 0;
    for (std::size_t pc = 0; pc + 1 < n; ++pc) {
        depth += loop_depth_delta[pc];
        const isa::Op next_prev = impl_.insns[pc].is_lddw_tail ? isa::Op::Lddw : impl_.insns[pc].op;
        const bool falls_through =
            next_prev != isa::Op::Ja && next_prev != isa::Op::Gotol && next_prev != isa::Op::Exit;
        if (loop_head_[pc + 1] && falls_through && depth > 0) loop_head_[pc + 1] = false;
    }
    block_len_.assign(n, 0);
    for (std::size_t pc = 0; pc < n;) {
        std::size_t at = pc;
        std::uint32_t count = 0;
        do {
            if (!impl_.insns[at].is_lddw_tail) ++count;
            ++at;
        } while (at < n && !block_start_[at] && count < 0xffff);
        if (at < n && !block_start_[at]) block_start_[at] = true;  // split very long blocks (16-bit counts)
        block_len_[pc] = count;
        pc = at;
    }

    // Callee-saved registers (BPF r6-r10) each function writes; with jumps between functions, all use the union
    // so that any function's epilogue fits any path.
    std::vector<std::array<bool, 11>> writes(functions.size(), std::array<bool, 11>{});
    for (std::size_t pc = 0; pc < n; ++pc) {
        const int r = impl_.insns[pc].is_lddw_tail ? -1 : written_register(impl_.insns[pc]);
        if (r == isa::kFramePointer) writes_r10_ = true;
        if (r >= 6) writes[static_cast<std::size_t>(function_of[pc])][static_cast<std::size_t>(r)] = true;
    }
    if (crosses) {
        std::array<bool, 11> all{};
        for (const auto& w : writes)
            for (std::size_t r = 0; r < 11; ++r) all[r] = all[r] || w[r];
        for (auto& w : writes) w = all;
    }
    for (std::size_t i = 0; i < functions.size(); ++i) {
        for (std::size_t r = 6; r <= 10; ++r)
            if (writes[i][r]) functions[i].saved.push_back(kReg[r]);
        // Entered with rsp = 8 (mod 16); each push adds 8; the body wants 0 (mod 16).
        functions[i].pad = functions[i].saved.size() % 2 == 0;
    }
}

void Lowering::call_abs(const void* fn) {
    a_.mov(x86::r10, Imm(reinterpret_cast<std::uint64_t>(fn)));
    a_.call(x86::r10);
}

void Lowering::mov_imm64(const x86::Gp& dst, std::uint64_t value) {
    if (options_.blind_constants) {
        const std::uint64_t rnd = (*rng_)();
        a_.mov(dst, Imm(value ^ rnd));
        a_.mov(x86::r10, Imm(rnd));
        a_.xor_(dst, x86::r10);
        return;
    }
    if (value == 0)
        a_.xor_(dst.r32(), dst.r32());
    else
        a_.mov(dst, Imm(value));
}

asmjit::Operand Lowering::imm_operand(std::int32_t imm, bool is64) {
    if (!options_.blind_constants) return Imm(imm);
    // The kernel's bpf_jit_blind_constants: AX = imm ^ rnd; AX ^= rnd (sign extension commutes with xor).
    const auto rnd = static_cast<std::int32_t>((*rng_)());
    const std::int32_t blinded = imm ^ rnd;
    if (is64) {
        a_.mov(x86::r10, Imm(static_cast<std::int64_t>(blinded)));
        a_.xor_(x86::r10, Imm(rnd));
        return x86::r10;
    }
    a_.mov(x86::r10d, Imm(static_cast<std::uint32_t>(blinded)));
    a_.xor_(x86::r10d, Imm(rnd));
    return x86::r10d;
}

Label Lowering::fault(FaultKind kind, std::uint32_t size, std::size_t pc, std::uint32_t count) {
    FaultSite site{a_.newLabel(), pack_fault(kind, size, count, pc)};
    faults_.push_back(site);
    return site.label;
}

void Lowering::emit_trampoline() {
    // u64 trampoline(Engine* e, const u64* args, u64 target, u64 frame_top)
    a_.bind(trampoline);
    a_.push(x86::rbx);
    a_.push(x86::rbp);
    a_.push(x86::r12);
    a_.push(x86::r13);
    a_.push(x86::r14);
    a_.push(x86::r15);
    a_.sub(x86::rsp, 8);  // 8 (return address) + 48 + 8: aligned at the call below
    a_.mov(x86::qword_ptr(x86::rdi, engine_offset_native_rsp()), x86::rsp);
    a_.mov(kEngine, x86::rdi);
    a_.mov(x86::r11, x86::rdx);
    a_.mov(x86::rbp, x86::rcx);
    a_.mov(x86::rdi, x86::qword_ptr(x86::rsi, 0));
    a_.mov(x86::rdx, x86::qword_ptr(x86::rsi, 16));
    a_.mov(x86::rcx, x86::qword_ptr(x86::rsi, 24));
    a_.mov(x86::r8, x86::qword_ptr(x86::rsi, 32));
    a_.mov(x86::rsi, x86::qword_ptr(x86::rsi, 8));
    // r0 and r6-r9 start at zero, as in the interpreter.
    a_.xor_(x86::eax, x86::eax);
    a_.xor_(x86::ebx, x86::ebx);
    a_.xor_(x86::r13d, x86::r13d);
    a_.xor_(x86::r14d, x86::r14d);
    a_.xor_(x86::r15d, x86::r15d);
    a_.call(x86::r11);
    a_.bind(tramp_ret_);
    a_.add(x86::rsp, 8);
    a_.pop(x86::r15);
    a_.pop(x86::r14);
    a_.pop(x86::r13);
    a_.pop(x86::r12);
    a_.pop(x86::rbp);
    a_.pop(x86::rbx);
    a_.ret();
}

void Lowering::emit_prologue(const Function& f) {
    for (const x86::Gp& r : f.saved) a_.push(r);
    if (f.pad) a_.sub(x86::rsp, 8);
}

void Lowering::emit_epilogue_body(const Function& f) {
    if (f.pad) a_.add(x86::rsp, 8);
    for (auto it = f.saved.rbegin(); it != f.saved.rend(); ++it) a_.pop(*it);
}

void Lowering::emit_function(Function& f) {
    cur_fn_ = static_cast<std::size_t>(&f - functions.data());
    a_.align(asmjit::AlignMode::kCode, 16);
    a_.bind(f.entry);
    emit_prologue(f);
    for (std::size_t pc = f.start; pc < f.end; ++pc) {
        // Loop heads start a 16-byte fetch block, as compilers align loops (strcmp: 1.8x -> 1.5x native).
        if (options_.optimize && pc < loop_head_.size() && loop_head_[pc]) a_.align(asmjit::AlignMode::kCode, 16);
        insn_offsets[pc] = static_cast<std::uint32_t>(a_.offset());
        if (slot_label[pc].isValid()) a_.bind(slot_label[pc]);
        if (impl_.insns[pc].is_lddw_tail) continue;
        if (options_.checked && block_start_[pc]) {
            a_.sub(x86::qword_ptr(kEngine, engine_offset_budget()), Imm(block_len_[pc]));
            a_.jb(fault(FaultKind::Budget, 0, pc, block_len_[pc]));
        }
        if (options_.optimize && fuse_mov_add(pc)) {  // the add's slot (no jump target) is part of this code
            insn_offsets[++pc] = static_cast<std::uint32_t>(a_.offset());
            continue;
        }
        if (auto r = lower(pc); !r) {
            pending_error_ = r.error();
            return;
        }
    }
    a_.bind(f.epilogue);
    emit_epilogue_body(f);
    a_.ret();
}

bool Lowering::fuse_mov_add(std::size_t pc) {
    // `rD = rS; rD += imm` or `rD = rS; rD += rT` (rT != rD) is one lea, when nothing jumps to the add.
    const std::size_t next = pc + 1;
    if (next >= functions[cur_fn_].end || block_start_[next]) return false;
    const isa::Instruction& mov = impl_.insns[pc];
    const isa::Instruction& add = impl_.insns[next];
    if (mov.op != isa::Op::Mov64Reg || mov.dst == mov.src || add.dst != mov.dst) return false;
    if (add.op == isa::Op::Add64Imm && !options_.blind_constants) {
        a_.lea(kReg[mov.dst], x86::ptr(kReg[mov.src], add.imm));
        return true;
    }
    if (add.op == isa::Op::Add64Reg && add.src != add.dst) {
        a_.lea(kReg[mov.dst], x86::ptr(kReg[mov.src], kReg[add.src]));
        return true;
    }
    return false;
}

void Lowering::emit_stubs() {
    // Slow paths of checked accesses first: they add fault sites.
    for (std::size_t i = 0; i < slow_checks_.size(); ++i) {
        const SlowCheck c = slow_checks_[i];
        a_.bind(c.label);
        a_.call(check_stub_[c.size][c.write ? 1 : 0]);
        a_.jz(fault(c.write ? FaultKind::Write : FaultKind::Read, c.size, c.pc));
        a_.jmp(c.back);
    }
    for (const FaultSite& site : faults_) {
        a_.bind(site.label);
        a_.mov(x86::r10, Imm(site.packed));
        a_.jmp(fault_common_);
    }
    a_.bind(fault_common_);
    a_.mov(x86::rdi, kEngine);
    a_.mov(x86::rsi, x86::r10);
    a_.mov(x86::rdx, x86::r11);
    call_abs(reinterpret_cast<const void*>(&rt_fault));
    // Unwind to the innermost trampoline, which returns to JitCode::run (which reports e->error).
    a_.bind(abort_);
    a_.mov(x86::rsp, x86::qword_ptr(kEngine, engine_offset_native_rsp()));
    a_.jmp(tramp_ret_);
    a_.bind(end_zero_);
    a_.xor_(x86::eax, x86::eax);
    a_.jmp(abort_);

    // Checked access: r11 = address; returns ZF clear when allowed; preserves every BPF register and r11.
    for (std::uint32_t size : {1u, 2u, 4u, 8u})
        for (int write = 0; write < 2; ++write) {
            if (!check_used_[size][write]) continue;
            a_.bind(check_stub_[size][write]);
            for (const x86::Gp& r : {x86::rax, x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8, x86::r11}) a_.push(r);
            a_.mov(x86::rdi, kEngine);
            a_.mov(x86::rsi, x86::r11);
            a_.mov(x86::edx, Imm(size | static_cast<std::uint32_t>(write) << 8));
            call_abs(reinterpret_cast<const void*>(&rt_access_ok));
            a_.test(x86::al, x86::al);
            for (const x86::Gp& r : {x86::r11, x86::r8, x86::rcx, x86::rdx, x86::rsi, x86::rdi, x86::rax}) a_.pop(r);
            a_.ret();
        }

    if (uses_callx_) {
        a_.align(asmjit::AlignMode::kData, 8);
        a_.bind(callx_table_);
        for (std::size_t pc = 0; pc < impl_.insns.size(); ++pc) {
            if (impl_.is_function_start[pc])
                a_.embedLabel(functions[static_cast<std::size_t>(function_of[pc])].entry);
            else
                a_.embedUInt64(0);
        }
    }
}

Result<void> Lowering::emit_all() {
    trampoline = a_.newLabel();
    fault_common_ = a_.newLabel();
    abort_ = a_.newLabel();
    end_zero_ = a_.newLabel();
    tramp_ret_ = a_.newLabel();
    callx_table_ = a_.newLabel();
    for (auto& by_size : check_stub_)
        for (auto& l : by_size) l = a_.newLabel();
    plan();
    emit_trampoline();
    for (Function& f : functions) {
        emit_function(f);
        if (pending_error_) return std::unexpected(*pending_error_);
    }
    insn_offsets[impl_.insns.size()] = static_cast<std::uint32_t>(a_.offset());
    if (slot_label[impl_.insns.size()].isValid()) a_.bind(slot_label[impl_.insns.size()]);
    emit_stubs();
    return {};
}

}  // namespace xbpf::jit::x86_64

namespace xbpf::jit {

namespace {

class RecordingErrorHandler : public asmjit::ErrorHandler {
  public:
    void handleError(asmjit::Error err, const char* message, asmjit::BaseEmitter*) override {
        if (!failed) {
            failed = true;
            text = fmt::format("{} ({})", message, err);
        }
    }
    bool failed = false;
    std::string text;
};

}  // namespace

Result<std::shared_ptr<const JitCode>> compile(const vm::Program& program, const JitOptions& options) {
    const vm::Program::Impl& impl = program.impl();
    asmjit::CodeHolder code;
    RecordingErrorHandler eh;
    code.init(asmjit::Environment::host());
    code.setErrorHandler(&eh);
    // About 8 bytes of code per instruction plus the trampoline and stubs: one allocation instead of doublings.
    code.reserveBuffer(&code.textSection()->buffer(), impl.insns.size() * 12 + 1024);
    x86_64::Lowering lowering(impl, options, code);
    if (auto r = lowering.emit_all(); !r) return std::unexpected(r.error());
    if (eh.failed) return make_error(ErrorCode::kUnsupported, "jit: asmjit: " + eh.text);
    if (code.flatten() != asmjit::kErrorOk || code.resolveUnresolvedLinks() != asmjit::kErrorOk)
        return make_error(ErrorCode::kUnsupported, "jit: cannot lay out the code");
    const std::size_t size = code.codeSize();
    auto memory = ExecMemory::allocate(size);
    if (!memory) return std::unexpected(memory.error());
    const auto base = reinterpret_cast<std::uint64_t>(memory->data());
    if (code.relocateToBase(base) != asmjit::kErrorOk ||
        code.copyFlattenedData(memory->data(), size, asmjit::CopySectionFlags::kPadTargetBuffer) != asmjit::kErrorOk)
        return make_error(ErrorCode::kUnsupported, "jit: cannot relocate the code");
    if (auto s = memory->seal(); !s) return std::unexpected(s.error());

    auto m = std::make_unique<Module>();
    m->checked = options.checked;
    m->impl = &impl;
    m->trampoline = base + code.labelOffsetFromBase(lowering.trampoline);
    m->insn_offsets = std::move(lowering.insn_offsets);
    m->fn_address.assign(impl.insns.size(), 0);
    for (const x86_64::Function& f : lowering.functions)
        m->fn_address[f.start] = base + code.labelOffsetFromBase(f.entry);
    m->memory = std::move(*memory);
    return std::shared_ptr<const JitCode>(std::make_shared<JitCode>(std::move(m)));
}

vm::LoadOptions::NativeCompiler native_compiler(bool blind) {
    return [blind](const vm::Program& program, const verifier::VerifyReport* report, bool checked,
                   bool unprivileged) -> Result<std::shared_ptr<const vm::NativeCode>> {
        JitOptions o;
        o.checked = checked;
        o.blind_constants = blind || unprivileged;
        if (report && !checked) o.facts = report->facts;
        auto code = compile(program, o);
        if (!code) return std::unexpected(code.error());
        return std::shared_ptr<const vm::NativeCode>(*code);
    };
}

}  // namespace xbpf::jit
