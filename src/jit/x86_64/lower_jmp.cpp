// JMP and JMP32 (RFC 9669 §4.3): each conditional jump is one cmp/test (imm32 forms where BPF has an immediate)
// fused with its jcc; calls to helpers (System V: r1-r5 are already in the argument registers, the run's
// helpers::Context goes in r9), bpf-to-bpf calls (a native call with rbp lowered by one 512-byte frame and the
// engine's depth checked against the kernel's MAX_CALL_FRAMES), callx, tail calls and exit.
#include "jit/x86_64/lowering.hpp"

namespace xbpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;
using Id = x86::Inst::Id;

namespace {

constexpr std::int32_t kTailCallHelper = 12;

Id jcc_for(isa::Op op) {
    using isa::Op;
    switch (op) {
        case Op::Jeq64Imm:
        case Op::Jeq64Reg:
        case Op::Jeq32Imm:
        case Op::Jeq32Reg: return x86::Inst::kIdJe;
        case Op::Jne64Imm:
        case Op::Jne64Reg:
        case Op::Jne32Imm:
        case Op::Jne32Reg:
        case Op::Jset64Imm:
        case Op::Jset64Reg:
        case Op::Jset32Imm:
        case Op::Jset32Reg: return x86::Inst::kIdJne;
        case Op::Jgt64Imm:
        case Op::Jgt64Reg:
        case Op::Jgt32Imm:
        case Op::Jgt32Reg: return x86::Inst::kIdJa;
        case Op::Jge64Imm:
        case Op::Jge64Reg:
        case Op::Jge32Imm:
        case Op::Jge32Reg: return x86::Inst::kIdJae;
        case Op::Jlt64Imm:
        case Op::Jlt64Reg:
        case Op::Jlt32Imm:
        case Op::Jlt32Reg: return x86::Inst::kIdJb;
        case Op::Jle64Imm:
        case Op::Jle64Reg:
        case Op::Jle32Imm:
        case Op::Jle32Reg: return x86::Inst::kIdJbe;
        case Op::Jsgt64Imm:
        case Op::Jsgt64Reg:
        case Op::Jsgt32Imm:
        case Op::Jsgt32Reg: return x86::Inst::kIdJg;
        case Op::Jsge64Imm:
        case Op::Jsge64Reg:
        case Op::Jsge32Imm:
        case Op::Jsge32Reg: return x86::Inst::kIdJge;
        case Op::Jslt64Imm:
        case Op::Jslt64Reg:
        case Op::Jslt32Imm:
        case Op::Jslt32Reg: return x86::Inst::kIdJl;
        case Op::Jsle64Imm:
        case Op::Jsle64Reg:
        case Op::Jsle32Imm:
        case Op::Jsle32Reg: return x86::Inst::kIdJle;
        default: return x86::Inst::kIdNone;
    }
}

Id inverted(Id jcc) {
    switch (jcc) {
        case x86::Inst::kIdJe: return x86::Inst::kIdJne;
        case x86::Inst::kIdJne: return x86::Inst::kIdJe;
        case x86::Inst::kIdJa: return x86::Inst::kIdJbe;
        case x86::Inst::kIdJbe: return x86::Inst::kIdJa;
        case x86::Inst::kIdJae: return x86::Inst::kIdJb;
        case x86::Inst::kIdJb: return x86::Inst::kIdJae;
        case x86::Inst::kIdJg: return x86::Inst::kIdJle;
        case x86::Inst::kIdJle: return x86::Inst::kIdJg;
        case x86::Inst::kIdJge: return x86::Inst::kIdJl;
        case x86::Inst::kIdJl: return x86::Inst::kIdJge;
        default: return x86::Inst::kIdNone;
    }
}

bool is_jset(isa::Op op) {
    return op == isa::Op::Jset64Imm || op == isa::Op::Jset64Reg || op == isa::Op::Jset32Imm || op == isa::Op::Jset32Reg;
}

}  // namespace

void Lowering::lower_local_call(std::size_t pc, const Label* target, const x86::Gp* target_reg) {
    // depth + 1 must stay below MAX_CALL_FRAMES (checked in both modes: the frames are the Engine's stack block).
    a_.mov(x86::r9, x86::qword_ptr(kEngine, engine_offset_depth()));
    a_.add(x86::r9, 1);
    a_.cmp(x86::r9, Imm(isa::kMaxCallDepth));
    a_.jae(fault(FaultKind::Depth, 0, pc));
    a_.mov(x86::qword_ptr(kEngine, engine_offset_depth()), x86::r9);
    // The callee's r10 is this one's minus 512; on return r10 is this one's again (the interpreter restores its saved
    // copy). A callee returns rbp as it got it unless a tail call replaced it by the frame top: equal when this
    // program never writes r10, and otherwise rbp is saved around the call (16 bytes keep rsp aligned).
    if (writes_r10_) {
        a_.push(x86::rbp);
        a_.sub(x86::rsp, 8);
    }
    a_.sub(x86::rbp, Imm(isa::kStackSize));
    if (target)
        a_.call(*target);
    else
        a_.call(*target_reg);
    if (writes_r10_) {
        a_.add(x86::rsp, 8);
        a_.pop(x86::rbp);
    } else {
        a_.add(x86::rbp, Imm(isa::kStackSize));
    }
    a_.sub(x86::qword_ptr(kEngine, engine_offset_depth()), 1);
    if (uses_tail_call_) {  // a tail call in the callee switched e->cur; this code runs this program again
        a_.mov(x86::r10, Imm(reinterpret_cast<std::uint64_t>(&impl_)));
        a_.mov(x86::qword_ptr(kEngine, engine_offset_cur()), x86::r10);
    }
}

void Lowering::lower_helper_call(std::size_t pc, const isa::Instruction&) {
    const auto index = static_cast<std::size_t>(impl_.code_unchecked[pc].imm);
    if (options_.checked) {
        // Checked code proves the helper's arguments first (vm::check_helper_args, through rt_check_helper): r1..r5
        // are pushed as the u64[5] it reads (8 bytes of padding keep rsp aligned); on failure it recorded the error
        // and the run unwinds (the abort path restores rsp from the trampoline's record). The copy stays on the
        // stack across the helper, and r1..r5 get their values back afterwards, as in the interpreter: an
        // unverified program may read them after the call (RFC 9669 leaves them undefined; verified programs never
        // do, so unchecked code does not pay for this).
        a_.sub(x86::rsp, 8);
        for (const x86::Gp& r : {x86::r8, x86::rcx, x86::rdx, x86::rsi, x86::rdi}) a_.push(r);
        a_.mov(x86::rdi, kEngine);
        a_.mov(x86::esi, Imm(static_cast<std::uint32_t>(index)));
        a_.mov(x86::edx, Imm(static_cast<std::uint32_t>(pc)));
        a_.mov(x86::rcx, x86::rsp);
        call_abs(reinterpret_cast<const void*>(&rt_check_helper));
        a_.test(x86::al, x86::al);
        a_.jz(use(abort_));
        const auto reload = [&] {
            const x86::Gp regs[] = {x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8};
            for (int i = 0; i < 5; ++i) a_.mov(regs[i], x86::qword_ptr(x86::rsp, i * 8));
        };
        reload();
        a_.lea(x86::r9, x86::ptr(kEngine, engine_offset_ctx()));
        call_abs(reinterpret_cast<const void*>(impl_.helper_fns[index]));
        reload();
        a_.add(x86::rsp, 48);
    } else {
        a_.lea(x86::r9, x86::ptr(kEngine, engine_offset_ctx()));
        call_abs(reinterpret_cast<const void*>(impl_.helper_fns[index]));
    }
    // A callback (bpf_loop, for_each_map_elem) or the CO-RE poison call failed: the run ends with its error.
    a_.cmp(x86::byte_ptr(kEngine, engine_offset_aborted()), 0);
    a_.jne(fault(FaultKind::Callback, 0, pc));
    if (impl_.helper_ids[index] != kTailCallHelper) return;
    // bpf_tail_call succeeded if it recorded a target: leave this function as its epilogue would and jump to the
    // target's entry (which returns to this function's caller), or return what the interpreter ran.
    Label cont = a_.newLabel();
    Label interp = a_.newLabel();
    a_.cmp(x86::qword_ptr(kEngine, engine_offset_tail_target()), 0);
    a_.je(cont);
    a_.mov(x86::rdi, kEngine);
    call_abs(reinterpret_cast<const void*>(&rt_tail_call));
    a_.test(x86::rax, x86::rax);
    a_.jz(use(abort_));
    a_.cmp(x86::rax, 1);
    a_.je(interp);
    a_.mov(x86::r11, x86::rax);
    // The target starts with r1 = ctx and r0, r2-r5 zero, as in the interpreter (r6-r9 hold what this function's
    // epilogue restores: the target's own prologue saves them for this function's caller).
    a_.mov(x86::rdi, x86::qword_ptr(kEngine, engine_offset_tail_ctx()));
    for (const x86::Gp& r : {x86::eax, x86::esi, x86::edx, x86::ecx, x86::r8d}) a_.xor_(r, r);
    emit_epilogue_body(functions[cur_fn_]);
    // The target's r10 is the frame top stack_top - depth * 512, as the interpreter sets it (whatever this
    // program did to its r10); checked code relies on rbp being that value.
    a_.mov(x86::r10, x86::qword_ptr(kEngine, engine_offset_depth()));
    a_.shl(x86::r10, Imm(9));
    static_assert(isa::kStackSize == 1u << 9);
    a_.mov(x86::rbp, x86::qword_ptr(kEngine, engine_offset_stack_top()));
    a_.sub(x86::rbp, x86::r10);
    a_.jmp(x86::r11);
    a_.bind(interp);
    a_.mov(x86::rax, x86::qword_ptr(kEngine, engine_offset_tail_ctx()));
    a_.jmp(functions[cur_fn_].epilogue);
    a_.bind(cont);
}

Result<void> Lowering::lower_jmp(std::size_t pc, const isa::Instruction& insn) {
    const isa::OpInfo& info = isa::info(insn.op);
    switch (info.shape) {
        case isa::Shape::Ja:
        case isa::Shape::Gotol: {
            const auto t = static_cast<std::size_t>(insn.target(pc));
            if (t != pc + 1) a_.jmp(slot_label[t]);
            return {};
        }
        case isa::Shape::JmpImm:
        case isa::Shape::JmpReg: {
            const bool is64 = info.width == 64;
            const x86::Gp dst = w(kReg[insn.dst], is64);
            const bool by_reg = info.shape == isa::Shape::JmpReg;
            const Label& target = slot_label[static_cast<std::size_t>(insn.target(pc))];
            if (is_jset(insn.op)) {
                if (by_reg)
                    a_.test(dst, w(kReg[insn.src], is64));
                else if (options_.blind_constants)
                    a_.emit(x86::Inst::kIdTest, dst, imm_operand(insn.imm, is64));
                else
                    a_.test(dst, Imm(insn.imm));
            } else if (by_reg) {
                a_.cmp(dst, w(kReg[insn.src], is64));
            } else if (insn.imm == 0 && !options_.blind_constants &&
                       (insn.op == isa::Op::Jeq64Imm || insn.op == isa::Op::Jne64Imm || insn.op == isa::Op::Jeq32Imm ||
                        insn.op == isa::Op::Jne32Imm)) {
                a_.test(dst, dst);
            } else {
                a_.emit(x86::Inst::kIdCmp, dst, imm_operand(insn.imm, is64));
            }
            if (!latch_copy_end_.empty() && latch_copy_end_[pc] != 0) {
                // The latch block at the target follows as a copy (plan_latch_copies); the fall-through is a jump.
                a_.emit(inverted(jcc_for(insn.op)), slot_label[pc + 1]);
                return emit_copy(static_cast<std::size_t>(insn.target(pc)), latch_copy_end_[pc]);
            }
            a_.emit(jcc_for(insn.op), target);
            return {};
        }
        case isa::Shape::Call: lower_helper_call(pc, insn); return {};
        case isa::Shape::CallLocal: {
            const auto t = static_cast<std::size_t>(insn.target(pc));
            lower_local_call(pc, &functions[static_cast<std::size_t>(function_of[t])].entry, nullptr);
            return {};
        }
        case isa::Shape::Callx: {
            // The target is a slot index (lddw src=4 loads one); the table maps function starts to their code.
            const Label bad = fault(FaultKind::BadCallx, 0, pc);
            a_.mov(x86::r11, kReg[insn.dst]);
            a_.cmp(x86::r11, Imm(static_cast<std::uint32_t>(impl_.insns.size())));
            a_.jae(bad);
            a_.lea(x86::r10, x86::ptr(use(callx_table_)));
            a_.mov(x86::r10, x86::qword_ptr(x86::r10, x86::r11, 3));
            a_.test(x86::r10, x86::r10);
            a_.jz(bad);
            a_.mov(x86::r11, x86::r10);
            lower_local_call(pc, nullptr, &x86::r11);
            return {};
        }
        case isa::Shape::Exit:
            if (pc + 1 != functions[cur_fn_].end) a_.jmp(functions[cur_fn_].epilogue);
            return {};
        default:
            return make_error(ErrorCode::kUnsupported, fmt::format("jit: cannot compile {}", info.name), at_insn(pc));
    }
}

}  // namespace xbpf::jit::x86_64
