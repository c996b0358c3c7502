// LD, LDX, ST, STX and atomics (RFC 9669 §5.1-§5.3): loads zero- or sign-extend with movzx/movsx/movsxd; atomics
// are lock-prefixed (add/or/and/xor, xadd for fetch_add, xchg, cmpxchg with r0 in rax; fetch_or/and/xor as a
// cmpxchg loop, as the kernel's x86 JIT); the legacy LD_ABS/LD_IND loads call rt_packet_load. Checked code
// computes each address into r11 and calls a check stub (vm::Engine::access_ok) first; atomics must then also be
// naturally aligned.
#include "jit/x86_64/lowering.hpp"

namespace xbpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;

namespace {

x86::Gp sized(const x86::Gp& r, std::uint32_t size) {
    switch (size) {
        case 1: return r.r8();
        case 2: return r.r16();
        case 4: return r.r32();
        default: return r.r64();
    }
}

}  // namespace

x86::Mem Lowering::checked_address(std::size_t pc, const x86::Gp& base, std::int16_t off, std::uint32_t size,
                                   bool write) {
    if (!options_.checked) return x86::ptr(base, off, size);
    a_.lea(x86::r11, x86::ptr(base, off));
    if (writes_r10_) {  // rbp may not be the frame top: every access asks Engine::access_ok
        a_.call(use(check_stub_[size][write ? 1 : 0]));
        a_.jz(fault(write ? FaultKind::Write : FaultKind::Read, size, pc));
        return x86::ptr(x86::r11, 0, size);
    }
    // rbp is the active frame's top (stack_top - depth * 512), and that frame, [rbp - 512, rbp), lies inside the
    // active frames Engine::access_ok accepts: r10 with a constant offset inside it needs no test, any other address
    // an inline one; the rest (callers' frames, regions, granted memory) goes to access_ok out of line.
    if (base == kReg[isa::kFramePointer] && off >= -static_cast<std::int32_t>(isa::kStackSize) &&
        off + static_cast<std::int32_t>(size) <= 0)
        return x86::ptr(x86::r11, 0, size);
    SlowCheck c{a_.newLabel(), a_.newLabel(), size, write, pc};
    a_.lea(x86::r10, x86::ptr(x86::r11, static_cast<std::int32_t>(isa::kStackSize)));
    a_.sub(x86::r10, x86::rbp);  // addr - (rbp - 512), unsigned
    a_.cmp(x86::r10, Imm(isa::kStackSize - size));
    a_.ja(c.label);
    a_.bind(c.back);
    slow_checks_.push_back(c);
    return x86::ptr(x86::r11, 0, size);
}

void Lowering::lower_packet_load(std::size_t pc, const isa::Instruction& insn) {
    (void)pc;
    const std::uint32_t size = isa::info(insn.op).width;
    if (isa::info(insn.op).shape == isa::Shape::LdInd) {
        a_.mov(x86::r11d, kReg[insn.src].r32());
        a_.add(x86::r11d, Imm(insn.imm));
    } else {
        a_.mov(x86::r11d, Imm(static_cast<std::uint32_t>(insn.imm)));
    }
    // r1-r5 keep their values (the interpreter's behaviour); r0 receives the value.
    for (const x86::Gp& r : {x86::rdi, x86::rsi, x86::rdx, x86::rcx, x86::r8}) a_.push(r);
    a_.sub(x86::rsp, 8);
    a_.mov(x86::rdi, kEngine);
    a_.mov(x86::rsi, x86::r11);
    a_.mov(x86::edx, Imm(size));
    call_abs(reinterpret_cast<const void*>(&rt_packet_load));
    a_.mov(x86::r11, x86::rdx);
    a_.add(x86::rsp, 8);
    for (const x86::Gp& r : {x86::r8, x86::rcx, x86::rdx, x86::rsi, x86::rdi}) a_.pop(r);
    a_.test(x86::r11, x86::r11);
    a_.jz(use(end_zero_));  // out of bounds: the program ends with r0 = 0
}

void Lowering::lower_atomic(std::size_t pc, const isa::Instruction& insn) {
    using isa::Op;
    const bool is64 = isa::info(insn.op).width == 64;
    const std::uint32_t size = is64 ? 8 : 4;
    x86::Mem m = checked_address(pc, kReg[insn.dst], insn.off, size, true);
    if (options_.checked) {
        a_.test(x86::r11b, Imm(size - 1));
        a_.jnz(fault(FaultKind::Misaligned, size, pc));
    }
    const x86::Gp src = w(kReg[insn.src], is64);
    const x86::Gp rax = w(x86::rax, is64);
    switch (insn.op) {
        case Op::AtomicAdd32:
        case Op::AtomicAdd64: a_.lock().add(m, src); return;
        case Op::AtomicOr32:
        case Op::AtomicOr64: a_.lock().or_(m, src); return;
        case Op::AtomicAnd32:
        case Op::AtomicAnd64: a_.lock().and_(m, src); return;
        case Op::AtomicXor32:
        case Op::AtomicXor64: a_.lock().xor_(m, src); return;
        case Op::AtomicFetchAdd32:
        case Op::AtomicFetchAdd64: a_.lock().xadd(m, src); return;
        case Op::AtomicXchg32:
        case Op::AtomicXchg64: a_.xchg(m, src); return;
        case Op::AtomicCmpxchg32:
        case Op::AtomicCmpxchg64:
            a_.lock().cmpxchg(m, src, rax);
            if (!is64) a_.mov(x86::eax, x86::eax);  // r0 = the old value, zero-extended, whether or not it matched
            return;
        default: break;
    }
    // fetch_or / fetch_and / fetch_xor: a cmpxchg loop through rax; r9 = address, r10 = BPF r0, r11 = new value.
    const bool src_is_r0 = insn.src == 0;
    a_.lea(x86::r9, m);
    a_.mov(x86::r10, x86::rax);
    const x86::Gp operand = src_is_r0 ? w(x86::r10, is64) : src;
    const x86::Mem at = x86::ptr(x86::r9, 0, size);
    const x86::Gp tmp = w(x86::r11, is64);
    a_.mov(rax, at);
    Label again = a_.newLabel();
    a_.bind(again);
    a_.mov(tmp, rax);
    switch (insn.op) {
        case Op::AtomicFetchOr32:
        case Op::AtomicFetchOr64: a_.or_(tmp, operand); break;
        case Op::AtomicFetchAnd32:
        case Op::AtomicFetchAnd64: a_.and_(tmp, operand); break;
        default: a_.xor_(tmp, operand); break;
    }
    a_.lock().cmpxchg(at, tmp, rax);
    a_.jne(again);
    if (!src_is_r0) {
        a_.mov(src, rax);  // src = the old value (zero-extended for 32 bits)
        a_.mov(x86::rax, x86::r10);
    }
}

void Lowering::emit_load(const isa::Instruction& load, const x86::Mem& m) {
    const std::uint32_t size = isa::info(load.op).width;
    const x86::Gp dst = kReg[load.dst];
    if (isa::info(load.op).shape == isa::Shape::LdxSx)
        size == 4 ? a_.movsxd(dst, m) : a_.movsx(dst, m);
    else if (size == 8)
        a_.mov(dst, m);
    else if (size == 4)
        a_.mov(dst.r32(), m);  // (32-bit moves zero-extend)
    else
        a_.movzx(dst.r32(), m);
}

Result<void> Lowering::lower_mem(std::size_t pc, const isa::Instruction& insn) {
    using isa::Op;
    const isa::OpInfo& info = isa::info(insn.op);
    const std::uint32_t size = info.width;
    const x86::Gp dst = kReg[insn.dst];
    switch (info.shape) {
        case isa::Shape::Ldx:
        case isa::Shape::LdxSx: emit_load(insn, checked_address(pc, kReg[insn.src], insn.off, size, false)); return {};
        case isa::Shape::St: {
            if (options_.blind_constants) {
                const x86::Mem m = checked_address(pc, dst, insn.off, size, true);  // (the check clobbers r10)
                (void)imm_operand(insn.imm, true);                                  // r10 = sext(imm)
                a_.mov(m, sized(x86::r10, size));
                return {};
            }
            const x86::Mem m = checked_address(pc, dst, insn.off, size, true);
            switch (size) {
                case 1: a_.mov(m, Imm(static_cast<std::int8_t>(insn.imm))); break;
                case 2: a_.mov(m, Imm(static_cast<std::int16_t>(insn.imm))); break;
                default: a_.mov(m, Imm(insn.imm)); break;  // qword: imm32 sign-extended, as BPF's StDW
            }
            return {};
        }
        case isa::Shape::Stx: {
            const x86::Mem m = checked_address(pc, dst, insn.off, size, true);
            a_.mov(m, sized(kReg[insn.src], size));
            return {};
        }
        case isa::Shape::Atomic: lower_atomic(pc, insn); return {};
        case isa::Shape::LdAbs:
        case isa::Shape::LdInd: lower_packet_load(pc, insn); return {};
        case isa::Shape::Lddw: {
            std::uint64_t value = insn.imm64;
            const auto& t = impl_.code_unchecked;  // resolved: map addresses, function slot indexes
            value = static_cast<std::uint32_t>(t[pc].imm) |
                    static_cast<std::uint64_t>(static_cast<std::uint32_t>(t[pc + 1].imm)) << 32;
            mov_imm64(dst, value);
            return {};
        }
        default:
            return make_error(ErrorCode::kUnsupported, fmt::format("jit: cannot compile {}", info.name), at_insn(pc));
    }
}

Result<void> Lowering::lower(std::size_t pc) {
    const isa::Instruction& insn = impl_.insns[pc];
    switch (isa::info(insn.op).shape) {
        case isa::Shape::AluImm:
        case isa::Shape::AluReg:
        case isa::Shape::Neg:
        case isa::Shape::MovSx:
        case isa::Shape::Endian: return lower_alu(pc, insn);
        case isa::Shape::Ja:
        case isa::Shape::Gotol:
        case isa::Shape::JmpImm:
        case isa::Shape::JmpReg:
        case isa::Shape::Call:
        case isa::Shape::CallLocal:
        case isa::Shape::Callx:
        case isa::Shape::Exit: return lower_jmp(pc, insn);
        case isa::Shape::CallKfunc:
            return make_error(ErrorCode::kUnsupported, "jit: kfunc calls are not supported", at_insn(pc));
        case isa::Shape::Lddw:
        case isa::Shape::LdAbs:
        case isa::Shape::LdInd:
        case isa::Shape::Ldx:
        case isa::Shape::LdxSx:
        case isa::Shape::St:
        case isa::Shape::Stx:
        case isa::Shape::Atomic: return lower_mem(pc, insn);
    }
    return make_error(ErrorCode::kUnsupported, "jit: unknown instruction shape", at_insn(pc));
}

}  // namespace xbpf::jit::x86_64
