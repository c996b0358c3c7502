// ALU and ALU64 (RFC 9669 §5.1, §5.2): 32-bit forms use 32-bit x86 operations, which zero-extend their result, so no
// separate zero-extension is ever emitted; immediates use the x86 imm32 forms (sign-extended for 64-bit operations,
// as BPF's imm); shifts by a register go through cl (BPF r4 is rcx) and x86 masks the count to 31/63 as BPF does;
// division and modulo follow the RFC's rules for a zero divisor (quotient 0, remainder = dividend) and for signed
// INT_MIN / -1 (quotient INT_MIN, remainder 0), with the checks left out where the verifier proved the divisor
// non-zero (and not -1). Unsigned division by an immediate is a shift (powers of two) or a multiplication.
#include <bit>

#include "jit/x86_64/lowering.hpp"

namespace xbpf::jit::x86_64 {

using asmjit::Imm;
using asmjit::Label;
using Id = x86::Inst::Id;

namespace {

bool host_has_bmi2() {
    static const bool bmi2 = asmjit::CpuInfo::host().hasFeature(asmjit::CpuFeatures::X86::kBMI2);
    return bmi2;
}

}  // namespace

void Lowering::lower_shift(const isa::Instruction& insn, bool is64, Id id) {
    const x86::Gp dst = kReg[insn.dst];
    if (options_.optimize && host_has_bmi2()) {
        // BMI2's shlx/shrx/sarx take the count in any register (masked to 5 or 6 bits as BPF's shifts are) and
        // zero-extend 32-bit results, as the kernel's x86 JIT does when the CPU has them.
        const Id x = id == x86::Inst::kIdShl   ? x86::Inst::kIdShlx
                     : id == x86::Inst::kIdShr ? x86::Inst::kIdShrx
                                               : x86::Inst::kIdSarx;
        a_.emit(x, w(dst, is64), w(dst, is64), w(kReg[insn.src], is64));
        return;
    }
    if (insn.src == 4) {  // the count is already in cl
        a_.emit(id, w(dst, is64), x86::cl);
        return;
    }
    a_.mov(x86::r11, x86::rcx);
    a_.mov(x86::ecx, kReg[insn.src].r32());
    if (insn.dst == 4) {  // the shifted register is rcx itself: shift its saved copy
        a_.emit(id, w(x86::r11, is64), x86::cl);
        a_.mov(x86::rcx, x86::r11);
        return;
    }
    a_.emit(id, w(dst, is64), x86::cl);
    a_.mov(x86::rcx, x86::r11);
}

void Lowering::divmod32_by_constant(const isa::Instruction& insn, std::uint32_t d, bool is_mod) {
    // Unsigned 32-bit division by an invariant d (not a power of two) as Granlund and Montgomery, "Division by
    // Invariant Integers using Multiplication" (PLDI 1994), figure 4.1 with N = 32: l = ceil(log2 d),
    // m' = floor(2^N (2^l - d) / d) + 1, t = (m' * x) >> N, q = (t + ((x - t) >> 1)) >> (l - 1). m' < 2^32 and
    // x < 2^32, so m' * x is exact in 64 bits.
    const x86::Gp dst = kReg[insn.dst].r32();
    const auto l = static_cast<std::uint32_t>(32 - std::countl_zero(d - 1));
    const std::uint64_t m = ((std::uint64_t{1} << 32) * ((std::uint64_t{1} << l) - d)) / d + 1;
    a_.mov(x86::r11d, dst);                                 // x
    a_.mov(x86::r10d, Imm(static_cast<std::uint32_t>(m)));  // m'
    a_.imul(x86::r10, x86::r11);
    a_.shr(x86::r10, 32);  // t
    a_.mov(x86::r9d, x86::r11d);
    a_.sub(x86::r9d, x86::r10d);
    a_.shr(x86::r9d, 1);
    a_.add(x86::r9d, x86::r10d);
    if (l > 1) a_.shr(x86::r9d, Imm(l - 1));  // q
    if (!is_mod) {
        a_.mov(dst, x86::r9d);
        return;
    }
    a_.imul(x86::r9d, x86::r9d, Imm(static_cast<std::int32_t>(d)));  // q * d (low 32 bits)
    a_.mov(dst, x86::r11d);
    a_.sub(dst, x86::r9d);  // x - q * d
}

void Lowering::divmod64_by_constant(const isa::Instruction& insn, std::uint64_t d, bool is_mod) {
    // The same method with N = 64: m' = floor(2^64 (2^l - d) / d) + 1 < 2^64, t = the high half of m' * x (x86's
    // 128-bit mul in rdx:rax), q = (t + ((x - t) >> 1)) >> (l - 1). BPF r0 (rax) and r3 (rdx) are kept in r9 and r10
    // unless the destination is one of them.
    const x86::Gp dst = kReg[insn.dst];
    const auto l = static_cast<std::uint32_t>(64 - std::countl_zero(d - 1));
    const unsigned __int128 two_l_minus_d = (static_cast<unsigned __int128>(1) << l) - d;
    const auto m = static_cast<std::uint64_t>((two_l_minus_d << 64) / d + 1);
    const bool dst_rax = insn.dst == 0;
    const bool dst_rdx = insn.dst == 3;
    a_.mov(x86::r11, dst);  // x
    if (!dst_rax) a_.mov(x86::r9, x86::rax);
    if (!dst_rdx) a_.mov(x86::r10, x86::rdx);
    a_.mov(x86::rax, Imm(m));
    a_.mul(x86::rdx, x86::rax, x86::r11);  // rdx = t
    a_.mov(x86::rax, x86::r11);
    a_.sub(x86::rax, x86::rdx);
    a_.shr(x86::rax, 1);
    a_.add(x86::rax, x86::rdx);
    if (l > 1) a_.shr(x86::rax, Imm(l - 1));  // q
    x86::Gp result = x86::rax;
    if (is_mod) {
        a_.imul(x86::rax, x86::rax, Imm(static_cast<std::int32_t>(d)));  // d < 2^31: q * d
        a_.sub(x86::r11, x86::rax);                                      // x - q * d
        result = x86::r11;
    }
    if (dst != result) a_.mov(dst, result);
    if (!dst_rax) a_.mov(x86::rax, x86::r9);
    if (!dst_rdx) a_.mov(x86::rdx, x86::r10);
}

void Lowering::lower_divmod(std::size_t pc, const isa::Instruction& insn, bool is64, bool is_signed, bool is_mod) {
    const x86::Gp dst = w(kReg[insn.dst], is64);
    const bool by_imm = isa::info(insn.op).shape == isa::Shape::AluImm;
    const auto zero_result = [&] {
        if (!is_mod)
            a_.xor_(dst.r32(), dst.r32());
        else if (!is64)
            a_.mov(dst.r32(), dst.r32());  // remainder = dividend, zero-extended
    };
    const auto minus1_result = [&] {
        if (is_mod)
            a_.xor_(dst.r32(), dst.r32());
        else
            a_.neg(dst);  // INT_MIN / -1 wraps to INT_MIN
    };
    if (by_imm && insn.imm == 0) return zero_result();
    if (by_imm && is_signed && insn.imm == -1) return minus1_result();
    if (by_imm && !is_signed && !options_.blind_constants && options_.optimize) {
        // Unsigned division by a power of two is a shift, the remainder a mask (the divisor is imm sign-extended
        // for 64 bits, so only positive immediates qualify there; 32-bit forms take imm as u32).
        const std::uint64_t d = is64 ? static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm))
                                     : static_cast<std::uint32_t>(insn.imm);
        if ((d & (d - 1)) == 0 && (!is64 || insn.imm > 0)) {
            const auto k = static_cast<std::uint32_t>(std::countr_zero(d));
            if (is_mod) {
                if (is64)
                    a_.and_(dst, Imm(static_cast<std::int64_t>(d - 1)));
                else
                    a_.and_(dst, Imm(static_cast<std::uint32_t>(d - 1)));
            } else if (k != 0) {
                a_.shr(dst, Imm(k));
            } else if (!is64) {
                a_.mov(dst, dst);  // x / 1, zero-extended
            }
            return;
        }
        if (!is64 && d > 1) return divmod32_by_constant(insn, static_cast<std::uint32_t>(d), is_mod);
        if (is64 && insn.imm > 1) return divmod64_by_constant(insn, d, is_mod);
    }

    // Labels only where a test needs them (each costs an allocation in asmjit's zone).
    Label done;
    Label zero;
    Label minus1;
    bool need_zero = false;
    bool need_minus1 = false;
    const x86::Gp divisor = w(x86::r11, is64);
    if (by_imm) {
        const asmjit::Operand v = imm_operand(insn.imm, is64);
        a_.emit(x86::Inst::kIdMov, divisor, v);
    } else {
        const x86::Gp src = w(kReg[insn.src], is64);
        const bool facts = pc < options_.facts.size();
        if (!(facts && options_.facts[pc].divisor_nonzero)) {
            zero = a_.newLabel();
            a_.test(src, src);
            a_.jz(zero);
            need_zero = true;
        }
        if (is_signed && !(facts && options_.facts[pc].divisor_not_minus1)) {
            minus1 = a_.newLabel();
            a_.cmp(src, -1);
            a_.je(minus1);
            need_minus1 = true;
        }
        a_.mov(divisor, src);
    }
    // x86 div/idiv use rdx:rax; keep BPF r0 (rax) and r3 (rdx) in r9 and r10 unless the destination is one of them.
    const bool dst_rax = insn.dst == 0;
    const bool dst_rdx = insn.dst == 3;
    if (!dst_rax) a_.mov(x86::r9, x86::rax);
    if (!dst_rdx) a_.mov(x86::r10, x86::rdx);
    if (!dst_rax) a_.mov(w(x86::rax, is64), dst);
    if (is_signed) {
        if (is64)
            a_.cqo(x86::rdx, x86::rax);
        else
            a_.cdq(x86::edx, x86::eax);
    } else {
        a_.xor_(x86::edx, x86::edx);
    }
    if (is_signed)
        a_.idiv(w(x86::rdx, is64), w(x86::rax, is64), divisor);
    else
        a_.div(w(x86::rdx, is64), w(x86::rax, is64), divisor);
    const x86::Gp result = w(is_mod ? x86::rdx : x86::rax, is64);
    if (dst_rax) {
        if (is_mod) a_.mov(w(x86::rax, is64), result);
        a_.mov(x86::rdx, x86::r10);
    } else if (dst_rdx) {
        if (!is_mod) a_.mov(w(x86::rdx, is64), result);
        a_.mov(x86::rax, x86::r9);
    } else {
        a_.mov(dst, result);
        a_.mov(x86::rax, x86::r9);
        a_.mov(x86::rdx, x86::r10);
    }
    if (!need_zero && !need_minus1) return;
    done = a_.newLabel();
    a_.jmp(done);
    if (need_zero) {
        a_.bind(zero);
        zero_result();
        if (need_minus1) a_.jmp(done);
    }
    if (need_minus1) {
        a_.bind(minus1);
        minus1_result();
    }
    a_.bind(done);
}

namespace {

constexpr std::array<Id, isa::kNumOps> make_simple_alu() {
    std::array<Id, isa::kNumOps> t{};
    for (auto& id : t) id = x86::Inst::kIdNone;
    using isa::Op;
    const auto set = [&](std::initializer_list<Op> ops, Id id) {
        for (Op op : ops) t[static_cast<std::size_t>(op)] = id;
    };
    set({Op::Add64Imm, Op::Add64Reg, Op::Add32Imm, Op::Add32Reg}, x86::Inst::kIdAdd);
    set({Op::Sub64Imm, Op::Sub64Reg, Op::Sub32Imm, Op::Sub32Reg}, x86::Inst::kIdSub);
    set({Op::Or64Imm, Op::Or64Reg, Op::Or32Imm, Op::Or32Reg}, x86::Inst::kIdOr);
    set({Op::And64Imm, Op::And64Reg, Op::And32Imm, Op::And32Reg}, x86::Inst::kIdAnd);
    set({Op::Xor64Imm, Op::Xor64Reg, Op::Xor32Imm, Op::Xor32Reg}, x86::Inst::kIdXor);
    return t;
}
constexpr std::array<Id, isa::kNumOps> kSimpleAlu = make_simple_alu();

}  // namespace

Result<void> Lowering::lower_alu(std::size_t pc, const isa::Instruction& insn) {
    using isa::Op;
    const isa::OpInfo& info = isa::info(insn.op);
    const bool is64 = info.width == 64;
    const x86::Gp dst = w(kReg[insn.dst], is64);
    const auto shift_imm = [&](Id id) {
        const std::uint32_t count = static_cast<std::uint32_t>(insn.imm) & (is64 ? 63u : 31u);
        if (count == 0) {
            if (!is64) a_.mov(dst, dst);  // a 32-bit result is zero-extended even when nothing shifts
            return;
        }
        a_.emit(id, dst, Imm(count));
    };
    // The two-operand operations by table (one load instead of a second, mispredicted, indirect jump).
    if (const Id simple = kSimpleAlu[static_cast<std::size_t>(insn.op)]; simple != x86::Inst::kIdNone) {
        if (info.shape == isa::Shape::AluReg)
            a_.emit(simple, dst, w(kReg[insn.src], is64));
        else if (options_.blind_constants)
            a_.emit(simple, dst, imm_operand(insn.imm, is64));
        else
            a_.emit(simple, dst, Imm(insn.imm));
        return {};
    }
    switch (insn.op) {
        case Op::Mul64Reg:
        case Op::Mul32Reg: a_.imul(dst, w(kReg[insn.src], is64)); break;
        case Op::Mul64Imm:
        case Op::Mul32Imm:
            if (options_.blind_constants)
                a_.emit(x86::Inst::kIdImul, dst, imm_operand(insn.imm, is64));
            else
                a_.imul(dst, dst, Imm(insn.imm));
            break;
        case Op::Mov64Imm:
        case Op::Mov32Imm:
            if (options_.blind_constants)
                a_.emit(x86::Inst::kIdMov, dst, imm_operand(insn.imm, is64));
            else if (insn.imm == 0)
                a_.xor_(dst.r32(), dst.r32());
            else if (is64)
                a_.mov(dst, Imm(static_cast<std::int64_t>(insn.imm)));
            else
                a_.mov(dst, Imm(static_cast<std::uint32_t>(insn.imm)));
            break;
        case Op::Mov64Reg:
            if (insn.dst != insn.src) a_.mov(dst, kReg[insn.src]);
            break;
        case Op::Mov32Reg: a_.mov(dst, kReg[insn.src].r32()); break;  // also when dst == src: zero-extends
        case Op::Neg64:
        case Op::Neg32: a_.neg(dst); break;
        case Op::Lsh64Imm:
        case Op::Lsh32Imm: shift_imm(x86::Inst::kIdShl); break;
        case Op::Rsh64Imm:
        case Op::Rsh32Imm: shift_imm(x86::Inst::kIdShr); break;
        case Op::Arsh64Imm:
        case Op::Arsh32Imm: shift_imm(x86::Inst::kIdSar); break;
        case Op::Lsh64Reg:
        case Op::Lsh32Reg: lower_shift(insn, is64, x86::Inst::kIdShl); break;
        case Op::Rsh64Reg:
        case Op::Rsh32Reg: lower_shift(insn, is64, x86::Inst::kIdShr); break;
        case Op::Arsh64Reg:
        case Op::Arsh32Reg: lower_shift(insn, is64, x86::Inst::kIdSar); break;
        case Op::Div64Imm:
        case Op::Div64Reg:
        case Op::Div32Imm:
        case Op::Div32Reg: lower_divmod(pc, insn, is64, false, false); break;
        case Op::SDiv64Imm:
        case Op::SDiv64Reg:
        case Op::SDiv32Imm:
        case Op::SDiv32Reg: lower_divmod(pc, insn, is64, true, false); break;
        case Op::Mod64Imm:
        case Op::Mod64Reg:
        case Op::Mod32Imm:
        case Op::Mod32Reg: lower_divmod(pc, insn, is64, false, true); break;
        case Op::SMod64Imm:
        case Op::SMod64Reg:
        case Op::SMod32Imm:
        case Op::SMod32Reg: lower_divmod(pc, insn, is64, true, true); break;
        case Op::MovSx8To64: a_.movsx(kReg[insn.dst], kReg[insn.src].r8()); break;
        case Op::MovSx16To64: a_.movsx(kReg[insn.dst], kReg[insn.src].r16()); break;
        case Op::MovSx32To64: a_.movsxd(kReg[insn.dst], kReg[insn.src].r32()); break;
        case Op::MovSx8To32: a_.movsx(kReg[insn.dst].r32(), kReg[insn.src].r8()); break;
        case Op::MovSx16To32: a_.movsx(kReg[insn.dst].r32(), kReg[insn.src].r16()); break;
        case Op::Le16: a_.movzx(kReg[insn.dst].r32(), kReg[insn.dst].r16()); break;
        case Op::Le32: a_.mov(kReg[insn.dst].r32(), kReg[insn.dst].r32()); break;
        case Op::Le64: break;
        case Op::Be16:
        case Op::Bswap16:
            a_.rol(kReg[insn.dst].r16(), 8);
            a_.movzx(kReg[insn.dst].r32(), kReg[insn.dst].r16());
            break;
        case Op::Be32:
        case Op::Bswap32: a_.bswap(kReg[insn.dst].r32()); break;
        case Op::Be64:
        case Op::Bswap64: a_.bswap(kReg[insn.dst]); break;
        default:
            return make_error(ErrorCode::kUnsupported,
                              fmt::format("jit: no ALU lowering for {}", isa::info(insn.op).name), at_insn(pc));
    }
    return {};
}

}  // namespace xbpf::jit::x86_64
