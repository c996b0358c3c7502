// The soundness generator's memory templates: bounds-checked, masked, constant and stack accesses, ALU chains with
// their concrete semantics, pointer walks, values merged from two paths, clobbered spills (verifier_gen.hpp).
#include <algorithm>
#include <climits>

#include "support/verifier_gen_internal.hpp"

namespace xbpf::test::gen_detail {

// A value-changing step on the index before its check: what the bounds logic has to follow.
void Generator::transform(std::uint8_t x) {
    switch (c_.below(12)) {
        case 0: emit(mov32_reg(x, x)); break;
        case 1: emit(alu64_imm(Alu::And, x, clamp32(mask(2 * n_, false)))); break;
        case 2: emit(alu64_imm(Alu::Rsh, x, static_cast<std::int32_t>(c_.below(64)))); break;
        case 3: emit(alu64_imm(Alu::Lsh, x, static_cast<std::int32_t>(1 + c_.below(3)))); break;
        case 4: emit(movsx64(x, x, pick({8, 16, 32}))); break;
        case 5: emit(alu64_imm(Alu::Add, x, static_cast<std::int32_t>(c_.below(9)) - 4)); break;
        case 6: emit(alu32_imm(Alu::Add, x, static_cast<std::int32_t>(c_.below(9)) - 4)); break;
        case 7: emit(alu64_imm(Alu::Arsh, x, static_cast<std::int32_t>(c_.below(64)))); break;
        case 8: emit(neg64(x)); break;
        case 9: emit(alu32_imm(Alu::Rsh, x, static_cast<std::int32_t>(c_.below(32)))); break;
        case 10: emit(bswap(x, pick({16, 32, 64}))); break;
        default: emit(alu64_imm(Alu::Mul, x, static_cast<std::int32_t>(c_.below(5)))); break;
    }
}

// `if x OP K goto skip; p = base + x; access` in its many forms, K at the last safe index.
void Generator::guarded_access(bool bad) {
    const std::uint32_t part = bad ? c_.below(3) : 3;  // what is bad: 0 the offset, 1 the check, 2 the size
    const Size sz = size(part == 2);
    const int bytes = size_bytes(sz);
    const std::int16_t off = access_off(bytes, part == 0);
    const bool bad_check = part == 1;
    const std::uint8_t from = base();
    const std::uint8_t x = dst();
    if (!usable(x) || c_.chance(50)) load_unknown(x, false);
    if (c_.chance(35)) transform(x);
    const std::uint32_t held_x = hold(x);                                // the index must survive until the access
    const std::int64_t b = static_cast<std::int64_t>(n_) - bytes - off;  // the last safe x
    const Kinds before = kinds_;
    const int skip = new_label();
    const bool is64 = c_.chance(70);
    // A 32-bit check bounds the whole register once its upper half is known zero: zero-extended before the
    // check, or after it (then the bound must carry over from the low half).
    const bool extend_after = !is64 && c_.chance(30);
    if (!is64 && !extend_after && !(bad_check && c_.chance(50))) emit(mov32_reg(x, x));
    switch (c_.below(bad_check ? 9 : 8)) {
        case 0: {  // unsigned upper bound
            if (c_.chance(50))
                jump(cond(Jmp::Jgt, is64, x, up(b, bad_check)), skip);
            else
                jump(cond(Jmp::Jge, is64, x, up(b, bad_check) + 1), skip);
            break;
        }
        case 1: {  // signed: a lower bound and an upper bound, either may be the bad one
            const bool bad_lower = bad_check && c_.chance(50);
            if (!bad_lower || c_.chance(50)) {
                const std::int64_t lo = bad_lower ? -1 - static_cast<std::int64_t>(c_.below(2)) : 0;
                if (c_.chance(50))
                    jump(cond(Jmp::Jslt, is64, x, lo), skip);
                else
                    jump(cond(Jmp::Jsle, is64, x, lo - 1), skip);
            }
            const std::int64_t k = up(b, bad_check && !bad_lower);
            if (c_.chance(50))
                jump(cond(Jmp::Jsgt, is64, x, k), skip);
            else
                jump(cond(Jmp::Jsge, is64, x, k + 1), skip);
            break;
        }
        case 2: {  // inverted: if x < K goto ok; goto skip; ok:
            const int ok = new_label();
            const Jmp j = pick({Jmp::Jlt, Jmp::Jle, Jmp::Jslt, Jmp::Jsle});
            const bool is_signed = j == Jmp::Jslt || j == Jmp::Jsle;
            if (is_signed && !(bad_check && c_.chance(50))) jump(cond(Jmp::Jslt, is64, x, 0), skip);
            const std::int64_t k = up(b, bad_check);
            jump(cond(j, is64, x, j == Jmp::Jlt || j == Jmp::Jslt ? k + 1 : k), ok);
            if (c_.chance(80))
                jump(ja(0), skip);
            else
                gotol_to(skip);
            bind(ok);
            break;
        }
        case 3: {  // equality: if x != K goto skip, or if x == K goto ok; goto skip
            std::int64_t k = b;
            if (bad_check)
                k = up(b, true);
            else if (b > 0 && c_.chance(50))
                k = static_cast<std::int64_t>(c_.below(static_cast<std::uint32_t>(b) + 1));
            if (c_.chance(70)) {
                jump(cond(Jmp::Jne, is64, x, k), skip);
            } else {
                const int ok = new_label();
                jump(cond(Jmp::Jeq, is64, x, k), ok);
                jump(ja(0), skip);
                bind(ok);
            }
            break;
        }
        case 4:  // bits: if x & ~M goto skip leaves x <= M
            jump(cond(Jmp::Jset, is64, x, ~mask(b, bad_check)), skip);
            break;
        case 5: {  // the bound in a register, maybe compared the other way round
            const std::uint8_t y = dst_except(x);
            const std::int64_t k = up(b, bad_check) + 1;  // x < k
            emit(mov64_imm(y, clamp32(k)));
            set_scalar(y);
            const Jmp j = pick({Jmp::Jge, Jmp::Jsge});
            if (j == Jmp::Jsge && !(bad_check && c_.chance(50))) jump(cond(Jmp::Jslt, is64, x, 0), skip);
            if (c_.chance(60))
                jump(cond_reg(j, is64, x, y), skip);
            else  // k <= x written as y <= x
                jump(cond_reg(j == Jmp::Jge ? Jmp::Jle : Jmp::Jsle, is64, y, x), skip);
            break;
        }
        case 6: {  // checked through a copy: the bound reaches x through the scalar id
            const std::uint8_t y = dst_except(x);
            if (bad_check && c_.chance(50)) {
                emit(mov64_reg(y, x));
                emit(alu64_imm(Alu::Add, y, -1));
            } else {
                emit(mov64_reg(y, x));
            }
            set_scalar(y);
            jump(cond(Jmp::Jgt, is64, y, up(b, bad_check && c_.chance(50))), skip);
            break;
        }
        case 7: {  // against another unknown: x < y (or x <= y, x == y) with y bounded teaches x's bound
            const std::uint8_t y = dst_except(x);
            emit(ldx_mem(Size::B, y, base(), static_cast<std::int16_t>(c_.below(n_))));
            const std::int64_t m = mask(b + 1, bad_check);  // y <= m, so x < y gives x <= m - 1
            emit(alu64_imm(Alu::And, y, static_cast<std::int32_t>(m)));
            set_scalar(y);
            hints_.push_back(0xff);
            const int ok = new_label();
            switch (c_.below(4)) {
                case 0: jump(cond_reg(Jmp::Jlt, is64, x, y), ok); break;
                case 1: jump(cond_reg(Jmp::Jgt, is64, y, x), ok); break;
                case 2:  // x <= y needs y <= b
                    emit(alu64_imm(Alu::Rsh, y, 1));
                    jump(cond_reg(Jmp::Jle, is64, x, y), ok);
                    break;
                default:
                    emit(alu64_imm(Alu::Rsh, y, 1));
                    jump(cond_reg(Jmp::Jeq, is64, x, y), ok);
                    break;
            }
            jump(ja(0), skip);
            bind(ok);
            break;
        }
        default:  // any comparison at all
            jump(cond(pick(kAllJmp), is64, x, up(b, true)), skip);
            if (c_.chance(50)) jump(cond(pick(kAllJmp), c_.chance(50), x, 0), skip);
            break;
    }
    if (extend_after && !(bad_check && c_.chance(50))) emit(mov32_reg(x, x));
    const std::uint8_t p = pointer_plus(from, x);
    std::int16_t o = off;
    if (c_.chance(15)) {  // move the pointer by a constant and the access back by it
        const auto d = static_cast<std::int16_t>(static_cast<int>(c_.below(9)) - 4);
        emit(alu64_imm(Alu::Add, p, d));
        o = static_cast<std::int16_t>(o - d);
    }
    access(p, o, sz, bad, false);
    reserved_ = held_x;
    bind(skip);
    kinds_ = kinds_.join(before);
}

// `x &= M` (or %, /, >>, 32-bit forms, mask then shift) then an access at base + x.
void Generator::masked_access(bool bad) {
    const Size sz = size(false);
    const int bytes = size_bytes(sz);
    const std::int16_t off = access_off(bytes, false);
    const std::uint8_t from = base();
    std::uint8_t x = dst();
    int width = 8;  // bytes of x that may be nonzero
    if (c_.chance(60))
        width = load_unknown(x, false);
    else
        x = dst_value();
    const std::int64_t b = static_cast<std::int64_t>(n_) - bytes - off;
    const std::uint64_t max = width >= 8 ? ~0ull : (1ull << (8 * width)) - 1;
    switch (c_.below(7)) {
        case 0: emit(alu64_imm(Alu::And, x, clamp32(mask(b, bad)))); break;
        case 1: {
            const std::int64_t k = bad ? b + 2 : b + 1;
            emit(c_.chance(70) ? alu64_imm(Alu::Mod, x, clamp32(k)) : alu32_imm(Alu::Mod, x, clamp32(k)));
            break;
        }
        case 2: {  // the smallest shift that brings the largest value to b
            int s = 0;
            while (s < 64 && (max >> s) > static_cast<std::uint64_t>(b)) ++s;
            if (s > 63) {  // only 0 fits: a shift cannot get there
                emit(alu64_imm(Alu::And, x, clamp32(mask(b, bad))));
                break;
            }
            if (bad && s > 0) --s;
            emit(alu64_imm(Alu::Rsh, x, s));
            break;
        }
        case 3: emit(alu32_imm(Alu::And, x, clamp32(mask(b, bad)))); break;
        case 4: {  // the smallest divisor that brings the largest value to b
            const std::uint64_t q = max / static_cast<std::uint64_t>(b + 1);
            const std::uint64_t k = q + 1;
            if (q >= INT32_MAX) {
                emit(alu64_imm(Alu::And, x, clamp32(mask(b, bad))));
                break;
            }
            emit(alu64_imm(Alu::Div, x, static_cast<std::int32_t>(bad && k > 1 ? k - 1 : k)));
            break;
        }
        case 5: {  // the mask in a register
            const std::uint8_t y = dst_except(x);
            emit(mov64_imm(y, clamp32(mask(b, bad))));
            set_scalar(y);
            emit(c_.chance(80) ? alu64_reg(Alu::And, x, y) : alu32_reg(Alu::And, x, y));
            break;
        }
        default: {  // two steps: a mask then a shift, or a mask then an add
            if (c_.chance(50)) {
                const int s = static_cast<int>(c_.below(3));
                emit(alu64_imm(Alu::And, x, clamp32(mask(b >> s, bad))));
                emit(alu64_imm(Alu::Lsh, x, s));
            } else {
                const int add = static_cast<int>(c_.below(3));
                emit(alu64_imm(Alu::And, x, clamp32(mask(std::max<std::int64_t>(b - add, 0), bad))));
                emit(alu64_imm(Alu::Add, x, add));
            }
            break;
        }
    }
    set_scalar(x);
    const std::uint32_t held_x = hold(x);
    const std::uint8_t p = pointer_plus(from, x);
    reserved_ = held_x;
    access(p, off, sz, false, false);
}

// An access at a constant offset near either end of the memory, directly or through a moved pointer.
void Generator::const_access(bool bad) {
    const Size sz = size(false);
    const int bytes = size_bytes(sz);
    const std::int64_t last = static_cast<std::int64_t>(n_) - bytes;
    std::int64_t at = 0;
    if (bad)
        at = c_.chance(70) ? last + 1 : -1;
    else
        at = pick({std::int64_t{0}, last, static_cast<std::int64_t>(c_.below(static_cast<std::uint32_t>(last) + 1))});
    const std::uint8_t from = base();
    if (c_.chance(40)) {
        access(from, static_cast<std::int16_t>(at), sz, bad, at % bytes == 0);
        return;
    }
    const std::uint8_t p = dst();
    emit(mov64_reg(p, from));
    set_pointer(p);
    const std::int64_t d = c_.chance(70) ? at : at - static_cast<std::int64_t>(c_.below(3));
    if (c_.chance(80))
        emit(alu64_imm(Alu::Add, p, clamp32(d)));
    else
        emit(alu64_imm(Alu::Sub, p, clamp32(-d)));
    access(p, static_cast<std::int16_t>(at - d), sz, bad, at % bytes == 0);
}

// A stack offset for `bytes`: aligned inside this function's usual depth; bad ones are misaligned or outside.
std::int16_t Generator::stack_off(int bytes, bool bad) {
    if (!bad) {
        const auto slots = static_cast<std::uint32_t>(scope_.stack_bytes / bytes);
        return static_cast<std::int16_t>(-bytes * static_cast<int>(1 + c_.below(slots)));
    }
    return pick<std::int16_t>({0, 8, -513, static_cast<std::int16_t>(-512 - bytes),
                               static_cast<std::int16_t>(-bytes * static_cast<int>(1 + c_.below(8)) + 1)});
}

// Constant-offset stack accesses: stores, loads, scalar and pointer spills and fills.
void Generator::stack_access(bool bad) {
    const Size sz = static_cast<Size>(c_.below(4));
    const int bytes = size_bytes(sz);
    switch (c_.below(6)) {
        case 0: emit(st_mem(sz, R10, stack_off(bytes, bad), pick_imm())); break;
        case 1: emit(stx_mem(sz, R10, bad ? wild() : value(), stack_off(bytes, bad))); break;
        case 2:
        case 3: {
            const std::int16_t o = stack_off(bytes, bad);
            const std::uint8_t r = dst();
            // A whole slot that may hold a spilled pointer gives the pointer back.
            const bool pointer_slot = ptr_slots_.count(o) != 0;
            if (pointer_slot && !bad && bytes != 8) break;
            emit(sz != Size::DW && opt_.signed_stack_loads && c_.chance(40) ? ldx_memsx(sz, r, R10, o)
                                                                            : ldx_mem(sz, r, R10, o));
            if (pointer_slot)
                set_pointer(r);
            else
                set_scalar(r);
            break;
        }
        case 4: {  // spill a scalar, fill it back, use it as an index (checked, or masked before the spill)
            const std::uint8_t x = dst_value();
            const std::int16_t o = stack_off(8, false);
            const bool masked = c_.chance(50);
            const Size use = size(false);
            const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(use);
            const bool clobber = bad && masked && c_.chance(50);
            if (masked) emit(alu64_imm(Alu::And, x, clamp32(mask(b, bad && !clobber))));
            const Size spill = c_.chance(75) ? Size::DW : pick({Size::B, Size::H, Size::W});
            emit(stx_mem(spill, R10, x, o));
            ptr_slots_.erase(o);
            if (c_.chance(30)) emit(alu64_imm(Alu::Add, x, static_cast<std::int32_t>(c_.below(100))));
            if (clobber) {
                // Part of the slot changes after the spill: the fill is no longer the masked value.
                if (c_.chance(50))
                    emit(st_mem(Size::B, R10, static_cast<std::int16_t>(o + static_cast<int>(c_.below(8))), 0x7f));
                else
                    emit(atomic_op(Size::DW, Atomic::Add, R10, value(), o));
            }
            const std::uint8_t y = dst();
            // A narrower fill of a wider spill is the low bytes; a wider fill reads bytes the spill did not write.
            emit(ldx_mem(c_.chance(80) ? spill : pick({Size::B, Size::H, Size::W, Size::DW}), y, R10, o));
            set_scalar(y);
            const Kinds before = kinds_;
            const int skip = new_label();
            if (!masked || c_.chance(30)) jump(cond(Jmp::Jgt, c_.chance(70), y, up(b, bad && masked)), skip);
            const std::uint32_t held_y = hold(y);
            const std::uint8_t p = pointer_plus(base(), y);
            reserved_ = held_y;
            access(p, 0, use, false, false);
            bind(skip);
            kinds_ = kinds_.join(before);
            break;
        }
        default: {  // spill a pointer (memory base or stack), fill it, access through the copy
            const std::uint8_t p = dst();
            const std::int16_t o = stack_off(8, false);
            bool is_stack = false;
            if (c_.chance(70)) {
                emit(stx_mem(bad && c_.chance(30) ? Size::W : Size::DW, R10, base(), o));
            } else {
                is_stack = true;
                emit(mov64_reg(p, R10));
                emit(alu64_imm(Alu::Add, p, -8 * static_cast<int>(1 + c_.below(8))));
                emit(stx_mem(Size::DW, R10, p, o));
            }
            ptr_slots_.insert(o);
            if (bad && c_.chance(30)) emit(st_mem(pick({Size::B, Size::W}), R10, static_cast<std::int16_t>(o + 4), 0));
            const std::int16_t from = bad && c_.chance(30) ? stack_off(8, false) : o;
            emit(ldx_mem(Size::DW, p, R10, from));
            set_pointer(p);
            const Size s = is_stack ? Size::DW : size(false);
            const std::int64_t last = is_stack ? 0 : static_cast<std::int64_t>(n_) - size_bytes(s);
            const std::int64_t at = bad ? last + 1 : pick({std::int64_t{0}, last});
            if (is_stack && !privileged_ && !bad) {
                // Unprivileged programs read only written stack: write before reading.
                emit(st_mem(Size::DW, p, 0, pick_imm()));
            }
            access(p, static_cast<std::int16_t>(at), s, bad, at % size_bytes(s) == 0, is_stack);
            break;
        }
    }
}

// A variable-offset stack access: p = r10 - C + (x & M), M aligned to the size and C >= M + size.
void Generator::stack_var_access(bool bad) {
    const Size sz = static_cast<Size>(c_.below(4));
    const int bytes = size_bytes(sz);
    std::uint8_t x = dst();
    if (c_.chance(60))
        load_unknown(x, false);
    else
        x = dst_value();
    std::int64_t m = ((1ll << (3 + c_.below(4))) - 1) & ~static_cast<std::int64_t>(bytes - 1);
    std::int64_t c = m + bytes + bytes * static_cast<std::int64_t>(c_.below(3));
    while (c > scope_.stack_bytes) {
        m >>= 1;
        m &= ~static_cast<std::int64_t>(bytes - 1);
        c = m + bytes;
    }
    if (bad) {
        if (c_.chance(50))
            m |= 1;  // misaligned
        else
            c = m + bytes - 1;  // reaches r10
    }
    emit(alu64_imm(Alu::And, x, static_cast<std::int32_t>(m)));
    set_scalar(x);
    const std::uint8_t p = dst_except(x);
    emit(mov64_reg(p, R10));
    emit(alu64_imm(Alu::Add, p, -static_cast<std::int32_t>(c)));
    emit(alu64_reg(Alu::Add, p, x));
    set_pointer(p);
    access(p, 0, sz, bad, true, true);
}

// Random ALU/ALU64 on scalar registers.
void Generator::alu(bool bad) {
    const std::uint8_t d = bad && c_.chance(30) ? wild() : dst_value();
    const auto src = [&] { return bad && c_.chance(30) ? wild() : value(); };
    const std::uint32_t kind = c_.below(100);
    if (kind < 4) {
        emit(c_.chance(50) ? neg64(d) : neg32(d));
    } else if (kind < 10) {
        emit(c_.chance(50) ? movsx64(d, src(), pick({8, 16, 32})) : movsx32(d, src(), pick({8, 16})));
    } else if (kind < 14) {
        const int bits = pick({16, 32, 64});
        emit(pick({le(d, bits), be(d, bits), bswap(d, bits)}));
    } else {
        const auto a = static_cast<Alu>(c_.below(14));
        const bool is64 = c_.chance(60);
        if (c_.chance(40)) {
            emit(is64 ? alu64_reg(a, d, src()) : alu32_reg(a, d, src()));
        } else {
            std::int32_t imm = pick_imm();
            switch (a) {
                case Alu::Div:
                case Alu::SDiv:
                case Alu::Mod:
                case Alu::SMod:
                    if (imm == 0 && !bad) imm = 3;
                    break;
                case Alu::Lsh:
                case Alu::Rsh:
                case Alu::Arsh:
                    if (!bad) imm = static_cast<std::int32_t>(c_.below(is64 ? 64 : 32));
                    break;
                default: break;
            }
            emit(is64 ? alu64_imm(a, d, imm) : alu32_imm(a, d, imm));
        }
    }
    if (d < 10 && (reserved_ & bit(d)) == 0) set_scalar(d);
}

// Division and modulo by a register, mostly checked against zero first.
void Generator::div_mod() {
    const std::uint8_t x = dst_value();
    const std::uint8_t y = value();
    const bool is64 = c_.chance(60);
    const Kinds before = kinds_;
    const int skip = new_label();
    const std::uint32_t guard = c_.below(4);
    if (guard == 0) jump(cond(Jmp::Jeq, is64, y, 0), skip);
    if (guard == 1) jump(cond(Jmp::Jeq, !is64, y, 0), skip);  // checked in the other width
    if (guard == 2 && c_.chance(50)) jump(cond(Jmp::Jeq, is64, y, -1), skip);
    const Alu a = pick({Alu::Div, Alu::Mod, Alu::SDiv, Alu::SMod});
    emit(is64 ? alu64_reg(a, x, y) : alu32_reg(a, x, y));
    set_scalar(x);
    bind(skip);
    kinds_ = kinds_.join(before);
}

// Pointer games. Privileged programs may subtract and compare pointers and move them with 32-bit moves; the
// rest is rejected everywhere (bad templates only).
void Generator::pointer_ops(bool bad) {
    const std::uint8_t p = dst();
    const std::uint32_t k = bad ? c_.below(6) : c_.below(3);
    const std::int64_t in = static_cast<std::int64_t>(c_.below(n_));
    switch (k) {
        case 0:  // the distance between two pointers into the memory is a number
            emit(mov64_reg(p, base()));
            emit(alu64_imm(Alu::Add, p, clamp32(in)));
            emit(alu64_reg(Alu::Sub, p, base()));
            set_scalar(p);
            break;
        case 1: {  // comparing pointers teaches nothing
            const Kinds before = kinds_;
            const int skip = new_label();
            emit(mov64_reg(p, base()));
            emit(alu64_imm(Alu::Add, p, clamp32(in)));
            set_pointer(p);
            jump(cond_reg(pick(kAllJmp), c_.chance(80), p, base()), skip);
            access(p, 0, Size::B, bad, true);
            bind(skip);
            kinds_ = kinds_.join(before);
            break;
        }
        case 2:
            emit(mov32_reg(p, base()));
            set_scalar(p);
            break;
        case 3: {  // a variable amount off the stack pointer
            const std::uint8_t x = value();
            emit(mov64_reg(p, R10));
            emit(alu64_reg(Alu::Sub, p, x));
            set_pointer(p);
            access(p, -8, Size::DW, bad, true, true);
            break;
        }
        case 4:  // the base itself moves, so later accesses through it shift
            if (!scope_.sub) {
                emit(alu64_imm(Alu::Add, R6, static_cast<std::int32_t>(1 + c_.below(4))));
                break;
            }
            [[fallthrough]];
        default:  // the index used as a pointer
            emit(mov64_reg(p, value()));
            access(p, 0, Size::B, bad, true);
            break;
    }
}

std::uint64_t Generator::apply(Alu a, bool is64, std::uint64_t x, std::uint64_t y) {
    if (!is64) {
        const auto a32 = static_cast<std::uint32_t>(x);
        const auto b32 = static_cast<std::uint32_t>(y);
        const auto sa = static_cast<std::int32_t>(a32);
        const auto sb = static_cast<std::int32_t>(b32);
        std::uint32_t r = 0;
        switch (a) {
            case Alu::Add: r = a32 + b32; break;
            case Alu::Sub: r = a32 - b32; break;
            case Alu::Mul: r = a32 * b32; break;
            case Alu::Div: r = b32 == 0 ? 0 : a32 / b32; break;
            case Alu::SDiv:
                r = sb == 0 ? 0 : (sa == INT32_MIN && sb == -1) ? a32 : static_cast<std::uint32_t>(sa / sb);
                break;
            case Alu::Or: r = a32 | b32; break;
            case Alu::And: r = a32 & b32; break;
            case Alu::Lsh: r = a32 << (b32 & 31); break;
            case Alu::Rsh: r = a32 >> (b32 & 31); break;
            case Alu::Mod: r = b32 == 0 ? a32 : a32 % b32; break;
            case Alu::SMod:
                r = sb == 0 ? a32 : (sa == INT32_MIN && sb == -1) ? 0 : static_cast<std::uint32_t>(sa % sb);
                break;
            case Alu::Xor: r = a32 ^ b32; break;
            case Alu::Mov: r = b32; break;
            case Alu::Arsh: r = static_cast<std::uint32_t>(sa >> (b32 & 31)); break;
        }
        return r;
    }
    const auto sx = static_cast<std::int64_t>(x);
    const auto sy = static_cast<std::int64_t>(y);
    switch (a) {
        case Alu::Add: return x + y;
        case Alu::Sub: return x - y;
        case Alu::Mul: return x * y;
        case Alu::Div: return y == 0 ? 0 : x / y;
        case Alu::SDiv: return sy == 0 ? 0 : (sx == INT64_MIN && sy == -1) ? x : static_cast<std::uint64_t>(sx / sy);
        case Alu::Or: return x | y;
        case Alu::And: return x & y;
        case Alu::Lsh: return x << (y & 63);
        case Alu::Rsh: return x >> (y & 63);
        case Alu::Mod: return y == 0 ? x : x % y;
        case Alu::SMod: return sy == 0 ? x : (sx == INT64_MIN && sy == -1) ? 0 : static_cast<std::uint64_t>(sx % sy);
        case Alu::Xor: return x ^ y;
        case Alu::Mov: return y;
        case Alu::Arsh: return static_cast<std::uint64_t>(sx >> (y & 63));
    }
    return 0;
}

std::uint64_t Generator::run_step(const Step& s, std::uint64_t x) {
    switch (s.kind) {
        case Step::Kind::Op: {
            const std::uint64_t y = s.is64 ? static_cast<std::uint64_t>(static_cast<std::int64_t>(s.imm))
                                           : static_cast<std::uint32_t>(s.imm);
            return apply(s.a, s.is64, x, y);
        }
        case Step::Kind::Self: return apply(s.a, s.is64, x, x);
        case Step::Kind::Neg: return s.is64 ? 0 - x : static_cast<std::uint32_t>(0 - static_cast<std::uint32_t>(x));
        case Step::Kind::MovSx: {
            const int bits = s.imm;
            const std::int64_t v = bits == 8    ? static_cast<std::int8_t>(x)
                                   : bits == 16 ? static_cast<std::int16_t>(x)
                                                : static_cast<std::int32_t>(x);
            return s.is64 ? static_cast<std::uint64_t>(v) : static_cast<std::uint32_t>(v);
        }
        case Step::Kind::ZeroExtend: return static_cast<std::uint32_t>(x);
    }
    return x;
}

Generator::Step Generator::random_step() {
    Step s;
    s.is64 = c_.chance(65);
    const std::uint32_t k = c_.below(100);
    if (k < 6) {
        s.kind = Step::Kind::Neg;
    } else if (k < 14) {
        s.kind = Step::Kind::MovSx;
        s.imm = s.is64 ? pick({8, 16, 32}) : pick({8, 16});
    } else if (k < 18) {
        s.kind = Step::Kind::ZeroExtend;
    } else if (k < 26) {
        s.kind = Step::Kind::Self;
        s.a = pick({Alu::Add, Alu::Sub, Alu::Mul, Alu::And, Alu::Or, Alu::Xor});
    } else {
        s.a = pick({Alu::Add, Alu::Add, Alu::Sub, Alu::Sub, Alu::Mul, Alu::Div, Alu::SDiv, Alu::Or, Alu::And, Alu::And,
                    Alu::Lsh, Alu::Rsh, Alu::Mod, Alu::SMod, Alu::Xor, Alu::Arsh});
        switch (s.a) {
            case Alu::Lsh:
            case Alu::Rsh:
            case Alu::Arsh: s.imm = static_cast<std::int32_t>(c_.below(c_.chance(80) ? 8 : (s.is64 ? 64 : 32))); break;
            case Alu::And: s.imm = c_.chance(70) ? pick({1, 3, 7, 15, 31, 63, 127, 255, -8, -16}) : pick_imm(); break;
            case Alu::Div:
            case Alu::SDiv:
            case Alu::Mod:
            case Alu::SMod:
                s.imm = c_.chance(80) ? static_cast<std::int32_t>(1 + c_.below(16)) : pick({-1, -2, -3, 255, INT_MIN});
                break;
            default: s.imm = c_.chance(70) ? static_cast<std::int32_t>(c_.below(33)) - 16 : pick_imm(); break;
        }
    }
    return s;
}

void Generator::emit_step(std::uint8_t x, const Step& s) {
    switch (s.kind) {
        case Step::Kind::Op: emit(s.is64 ? alu64_imm(s.a, x, s.imm) : alu32_imm(s.a, x, s.imm)); break;
        case Step::Kind::Self: emit(s.is64 ? alu64_reg(s.a, x, x) : alu32_reg(s.a, x, x)); break;
        case Step::Kind::Neg: emit(s.is64 ? neg64(x) : neg32(x)); break;
        case Step::Kind::MovSx: emit(s.is64 ? movsx64(x, x, s.imm) : movsx32(x, x, s.imm)); break;
        case Step::Kind::ZeroExtend: emit(mov32_reg(x, x)); break;
    }
}

// x = a loaded byte, then a chain of ALU steps, then an unchecked access at base + x + off. The generator
// computes the true range of x over all 256 bytes and puts the access exactly at its edge (or, bad, one past
// it): accepted only if the verifier's ALU transfer functions bound x at least as tightly, and soundly.
void Generator::alu_chain_access(bool bad) {
    const std::uint8_t x = dst();
    const std::uint8_t from = base();
    const auto at = static_cast<std::int16_t>(c_.below(n_));
    const bool sx = c_.chance(20);
    emit(sx ? ldx_memsx(Size::B, x, from, at) : ldx_mem(Size::B, x, from, at));
    set_scalar(x);
    const Size sz = size(false);
    // Chains whose values all fit in the memory, so the access can be placed safely; a few tries, then any.
    std::vector<Step> steps;
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    std::uint8_t lo_byte = 0;
    std::uint8_t hi_byte = 0;
    for (int attempt = 0; attempt < 6; ++attempt) {
        steps.clear();
        const std::uint32_t count = 1 + c_.below(4);
        for (std::uint32_t i = 0; i < count; ++i) steps.push_back(random_step());
        lo = INT64_MAX;
        hi = INT64_MIN;
        for (int byte = 0; byte < 256; ++byte) {
            std::uint64_t v = sx ? static_cast<std::uint64_t>(static_cast<std::int64_t>(static_cast<std::int8_t>(byte)))
                                 : static_cast<std::uint64_t>(byte);
            for (const Step& s : steps) v = run_step(s, v);
            const auto sv = static_cast<std::int64_t>(v);
            if (sv < lo) {
                lo = sv;
                lo_byte = static_cast<std::uint8_t>(byte);
            }
            if (sv > hi) {
                hi = sv;
                hi_byte = static_cast<std::uint8_t>(byte);
            }
        }
        if (lo >= 0 && hi - lo <= static_cast<std::int64_t>(n_) - size_bytes(sz)) break;
    }
    for (const Step& s : steps) emit_step(x, s);
    hints_.push_back(lo_byte);
    hints_.push_back(hi_byte);
    std::int64_t off = 0;
    if (lo >= 0 && hi < (1 << 20)) {
        const std::int64_t last = static_cast<std::int64_t>(n_) - size_bytes(sz) - hi;  // largest safe off
        if (bad)
            off = c_.chance(50) ? last + 1 : -lo - 1;
        else
            off = c_.chance(60) || -lo > last ? last : -lo;
    }
    off = std::clamp<std::int64_t>(off, INT16_MIN, INT16_MAX);
    const std::uint32_t held_x = hold(x);
    const std::uint8_t p = pointer_plus(from, x);
    reserved_ = held_x;
    access(p, static_cast<std::int16_t>(off), sz, bad, false);
}

// A pointer walked by constants and bounded unknowns, then an access at the edge of where it may be.
void Generator::pointer_walk(bool bad) {
    const Size sz = size(false);
    const std::uint8_t p = dst();
    emit(mov64_reg(p, base()));
    set_pointer(p);
    const std::uint32_t held_p = hold(p);
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    const std::uint32_t steps = 1 + c_.below(4);
    for (std::uint32_t i = 0; i < steps; ++i) {
        switch (c_.below(3)) {
            case 0: {
                const std::int64_t d = static_cast<std::int64_t>(c_.below(25)) - 8;
                emit(alu64_imm(Alu::Add, p, static_cast<std::int32_t>(d)));
                lo += d;
                hi += d;
                break;
            }
            case 1: {  // a bounded unknown that keeps the walk's spread within the memory
                const std::int64_t room = static_cast<std::int64_t>(n_) - size_bytes(sz) - (hi - lo);
                if (room < 1) break;
                const std::int64_t m = mask(room, false);
                const std::uint8_t x = dst_except(p);
                emit(ldx_mem(Size::B, x, base(), static_cast<std::int16_t>(c_.below(n_))));
                emit(alu64_imm(Alu::And, x, static_cast<std::int32_t>(m)));
                set_scalar(x);
                // Subtracting an unknown makes the offset possibly negative: the verifier rejects that.
                const bool sub = c_.chance(10);
                emit(alu64_reg(sub ? Alu::Sub : Alu::Add, p, x));
                if (sub)
                    lo -= m;
                else
                    hi += m;
                break;
            }
            default: {
                const std::int64_t d = c_.below(9);
                emit(alu64_imm(Alu::Sub, p, static_cast<std::int32_t>(d)));
                lo -= d;
                hi -= d;
                break;
            }
        }
    }
    reserved_ = held_p;
    const std::int64_t last = static_cast<std::int64_t>(n_) - size_bytes(sz) - hi;  // largest safe off
    std::int64_t off = c_.chance(50) || -lo > last ? last : -lo;
    if (bad) off = c_.chance(50) ? last + 1 : -lo - 1;
    hints_.push_back(0xff);
    access(p, static_cast<std::int16_t>(std::clamp<std::int64_t>(off, INT16_MIN, INT16_MAX)), sz, bad, false);
}

// x set differently on the two sides of a branch (directly, or through a stack slot), merged, then used
// unchecked: the verifier must not prune the second side because the first was safe.
void Generator::join_value_access(int depth, bool bad) {
    const Size sz = size(false);
    const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(sz);
    const std::uint8_t x = dst();
    const std::uint32_t held_x = hold(x);
    const bool via_stack = c_.chance(30);
    const std::int16_t o = stack_off(8, false);
    const Kinds before = kinds_;
    const int other = new_label();
    const int end = new_label();
    const auto set = [&](bool unsafe) {
        if (c_.chance(50)) {
            const std::int64_t v = unsafe ? b + 1 + static_cast<std::int64_t>(c_.below(8))
                                          : static_cast<std::int64_t>(c_.below(static_cast<std::uint32_t>(b) + 1));
            emit(mov64_imm(x, static_cast<std::int32_t>(v)));
        } else {
            emit(ldx_mem(Size::B, x, base(), static_cast<std::int16_t>(c_.below(n_))));
            emit(alu64_imm(Alu::And, x, clamp32(mask(b, unsafe))));
        }
        set_scalar(x);
        if (via_stack) emit(stx_mem(Size::DW, R10, x, o));
        const std::uint32_t filler = c_.below(3);
        for (std::uint32_t i = 0; i < filler; ++i) item(depth + 1);
    };
    const bool bad_side = c_.chance(50);  // which side is the unsafe one
    jump(any_cond(false), other);
    set(bad && bad_side);
    jump(ja(0), end);
    const Kinds then_kinds = kinds_;
    kinds_ = before;
    bind(other);
    set(bad && !bad_side);
    bind(end);
    kinds_ = kinds_.join(then_kinds);
    set_scalar(x);
    if (via_stack) {
        ptr_slots_.erase(o);
        if (c_.chance(50)) emit(alu64_imm(Alu::Add, x, 1000));  // the register no longer matters
        emit(ldx_mem(Size::DW, x, R10, o));
    }
    const std::uint32_t filler = c_.below(3);
    for (std::uint32_t i = 0; i < filler; ++i) item(depth + 1);
    const std::uint8_t p = pointer_plus(base(), x);
    reserved_ = held_x;
    access(p, 0, sz, bad, false);
}

// A stack slot holding a pointer (or a safe index) overwritten by a variable-offset store that may cover it,
// then filled and used: the verifier must forget what the slot held.
void Generator::spill_clobber() {
    const std::int16_t o = static_cast<std::int16_t>(-8 * static_cast<int>(1 + c_.below(8)));
    const bool pointer = c_.chance(60);
    if (pointer) {
        emit(stx_mem(Size::DW, R10, base(), o));
        ptr_slots_.insert(o);
    } else {
        emit(st_mem(Size::DW, R10, o, 0));
    }
    const std::uint8_t x = dst();
    emit(ldx_mem(Size::B, x, base(), static_cast<std::int16_t>(c_.below(n_))));
    emit(alu64_imm(Alu::And, x, 0x38));
    set_scalar(x);
    const std::uint8_t p = dst_except(x);
    emit(mov64_reg(p, R10));
    emit(alu64_imm(Alu::Add, p, -64));
    emit(alu64_reg(Alu::Add, p, x));
    if (c_.chance(50))
        emit(st_mem(Size::DW, p, 0, static_cast<std::int32_t>(n_ + 1000)));
    else
        emit(stx_mem(Size::DW, p, value(), 0));
    set_scalar(p);
    const std::uint8_t q = dst();
    emit(ldx_mem(Size::DW, q, R10, o));
    hints_.push_back(static_cast<std::uint8_t>(o + 64));  // the byte that makes the store hit the slot
    if (pointer) {
        set_pointer(q);
        access(q, 0, Size::B, true, false);
    } else {
        set_scalar(q);
        const std::uint32_t held_q = hold(q);
        const std::uint8_t r = pointer_plus(base(), q);
        reserved_ = held_q;
        access(r, 0, Size::B, true, false);
    }
}
}  // namespace xbpf::test::gen_detail
