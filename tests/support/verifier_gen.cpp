// The soundness generator: choices, the Generator's skeleton (prologue, accesses, emission), control flow, calls,
// helpers and callbacks. The memory templates are in verifier_gen_memory.cpp.
#include "support/verifier_gen.hpp"

#include <algorithm>
#include <cstddef>

#include "support/verifier_gen_internal.hpp"

namespace xbpf::test {

namespace {

// FNV-1a: seeds the PRNG that continues a fuzz input's decisions once its bytes run out.
std::uint64_t hash_bytes(std::span<const std::uint8_t> bytes) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (const std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
    return h ^ bytes.size();
}

}  // namespace

Choices::Choices(std::span<const std::uint8_t> bytes) : rng_(hash_bytes(bytes)), bytes_(bytes) {}

std::uint64_t Choices::take(int bytes) {
    if (pos_ + static_cast<std::size_t>(bytes) > bytes_.size()) {
        pos_ = bytes_.size();
        return rng_.next();
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v |= static_cast<std::uint64_t>(bytes_[pos_ + static_cast<std::size_t>(i)]) << (8 * i);
    pos_ += static_cast<std::size_t>(bytes);
    return v;
}

std::uint32_t Choices::below(std::uint32_t n) {
    const int bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
    return static_cast<std::uint32_t>(take(bytes) % n);
}

std::uint64_t Choices::next64() { return take(8); }

namespace gen_detail {

VerifierCase Generator::run() {
    VerifierCase out;
    n_ = kMemSizes[c_.below(kMemSizes.size())];
    out.mem_size = n_;
    out.privileged = !c_.chance(opt_.unprivileged_percent);
    privileged_ = out.privileged;
    // Clean programs mean to be safe everywhere; the others have some templates one step past the edge.
    risk_ = c_.chance(45) ? 0 : 8 + c_.below(12);
    out.clean = risk_ == 0;

    scope_.base = R6;
    scope_.pool = {R0, R2, R3, R4, R5, R7, R8, R9};
    scope_.stack_bytes = privileged_ && c_.chance(15) ? 384 : 128;
    main_prologue();
    for (std::uint32_t i = 0; i < opt_.items; ++i) item(0);
    const bool bad = risky();
    if (!usable(R0) || c_.chance(60)) {
        if (!bad) emit(mov64_reg(R0, value()));
    }
    emit(exit_insn());

    // Sub-programs after the main function (subs_ does not grow while they are generated: no nested calls).
    for (std::size_t i = 0; i < subs_.size(); ++i) sub_program(subs_[i]);
    for (const Callback& cb : callbacks_) callback_program(cb);
    out.insns = resolve();
    std::sort(hints_.begin(), hints_.end());
    hints_.erase(std::unique(hints_.begin(), hints_.end()), hints_.end());
    out.hints = std::move(hints_);
    return out;
}

std::vector<RawInsn> Generator::resolve() {
    std::vector<std::size_t> pos(items_.size() + 1);
    std::size_t slot = 0;
    for (std::size_t i = 0; i < items_.size(); ++i) {
        pos[i] = slot;
        slot += items_[i].slots.count;
    }
    pos[items_.size()] = slot;
    std::vector<RawInsn> out;
    out.reserve(slot);
    for (std::size_t i = 0; i < items_.size(); ++i) {
        Item& item = items_[i];
        if (item.fix != Fix::None) {
            const auto target = static_cast<std::size_t>(labels_[static_cast<std::size_t>(item.label)]);
            const auto rel = static_cast<std::int64_t>(pos[target]) - static_cast<std::int64_t>(pos[i]) - 1;
            if (item.fix == Fix::Off)
                item.slots.insn[0].off = static_cast<std::int16_t>(rel);
            else
                item.slots.insn[0].imm = static_cast<std::int32_t>(rel);
        }
        append(out, item.slots);
    }
    return out;
}

void Generator::main_prologue() {
    emit(mov64_reg(R6, R1));
    r1_valid_ = true;
    kinds_ = Kinds{bit(R1) | bit(R6) | bit(R10), 0};
    for (const std::uint8_t r : {R0, R3, R4, R5, R7, R8, R9}) {
        if (risk_ > 0 && c_.chance(3)) {  // left uninitialised: reading it must be rejected
            kinds_.uninit |= bit(r);
            continue;
        }
        if (c_.chance(45))
            load_unknown(r, false);
        else
            emit(mov64_imm(r, pick_imm()));
        set_scalar(r);
    }
    if (!privileged_) {  // unprivileged programs may not read stack bytes nothing wrote
        for (int off = -scope_.stack_bytes; off < 0; off += 8)
            emit(st_mem(Size::DW, R10, static_cast<std::int16_t>(off), pick_imm()));
        return;
    }
    const std::uint32_t slots = c_.below(5);
    for (std::uint32_t i = 0; i < slots; ++i) {
        const auto off = static_cast<std::int16_t>(-8 * static_cast<int>(1 + c_.below(8)));
        emit(stx_mem(Size::DW, R10, value(), off));
    }
}

// `r = *(S *)(base + k)`: a value the verifier cannot know. Returns its width in bytes (8 when sign-extended).
int Generator::load_unknown(std::uint8_t r, bool bad) {
    const Size s = size(bad);
    const int bytes = size_bytes(s);
    const int last = static_cast<int>(n_) - bytes;
    int k = last >= 0 ? static_cast<int>(c_.below(static_cast<std::uint32_t>(last) + 1)) : 0;
    if (bad) k = c_.chance(70) ? last + 1 : -1;
    const std::uint8_t from = base();
    set_scalar(r);
    if (c_.chance(15) && s != Size::DW) {
        emit(ldx_memsx(s, r, from, static_cast<std::int16_t>(k)));
        return 8;
    }
    emit(ldx_mem(s, r, from, static_cast<std::int16_t>(k)));
    return bytes;
}

// One load, store or atomic of `size` bytes at ptr + off. Atomics only where the address is `aligned` to the
// size (or in bad templates): the verifier requires it.
void Generator::access(std::uint8_t ptr, std::int16_t off, Size size, bool bad, bool aligned, bool stack) {
    const std::uint32_t k = c_.below(100);
    const bool can_atomic = opt_.atomics && (size == Size::W || size == Size::DW) && (aligned || bad);
    if (k < 48) {
        const std::uint8_t r = dst();
        emit(ldx_mem(size, r, ptr, off));
        set_scalar(r);
    } else if (k < 58 && size != Size::DW && (!stack || opt_.signed_stack_loads)) {
        const std::uint8_t r = dst();
        emit(ldx_memsx(size, r, ptr, off));
        set_scalar(r);
    } else if (k < 73) {
        emit(st_mem(size, ptr, off, pick_imm()));
    } else if (k < 92 || !can_atomic) {
        // Storing a pointer into the memory leaks it: unprivileged programs may not.
        const std::uint8_t v = bad && c_.chance(30) ? wild() : value();
        emit(stx_mem(size, ptr, v, off));
    } else {
        auto op = static_cast<Atomic>(c_.below(10));
        if (op == Atomic::Cmpxchg && !usable(R0) && !bad) op = Atomic::Add;
        const std::uint8_t src = dst_value();
        emit(atomic_op(size, op, ptr, src, off));
        if (op == Atomic::Cmpxchg) set_scalar(R0);
    }
}

// `p = base; p += x` (or `p = x; p += base`), p a register other than x.
std::uint8_t Generator::pointer_plus(std::uint8_t from, std::uint8_t x) {
    const std::uint8_t p = dst_except(x);
    if (c_.chance(80)) {
        emit(mov64_reg(p, from));
        emit(alu64_reg(Alu::Add, p, x));
    } else {
        emit(mov64_reg(p, x));
        emit(alu64_reg(Alu::Add, p, from));
    }
    set_pointer(p);
    return p;
}

// A comparison of scalars for skips and diamonds.
RawInsn Generator::any_cond(bool bad) {
    const std::uint8_t x = bad && c_.chance(30) ? wild() : value();
    const bool is64 = c_.chance(60);
    if (c_.chance(35)) return cond_reg(pick(kAllJmp), is64, x, value());
    return cond(pick(kAllJmp), is64, x, c_.chance(60) ? static_cast<std::int64_t>(c_.below(2 * n_ + 2)) : pick_imm());
}

void Generator::skip(int depth, bool bad) {
    const Kinds before = kinds_;
    const int l = new_label();
    jump(any_cond(bad), l);
    const std::uint32_t n = 1 + c_.below(3);
    for (std::uint32_t i = 0; i < n; ++i) item(depth + 1);
    bind(l);
    kinds_ = kinds_.join(before);
}

void Generator::diamond(int depth, bool bad) {
    const Kinds before = kinds_;
    const int other = new_label();
    const int end = new_label();
    jump(any_cond(bad), other);
    const std::uint32_t then_n = 1 + c_.below(2);
    for (std::uint32_t i = 0; i < then_n; ++i) item(depth + 1);
    if (c_.chance(20))
        gotol_to(end);
    else
        jump(ja(0), end);
    const Kinds then_kinds = kinds_;
    kinds_ = before;
    bind(other);
    const std::uint32_t else_n = 1 + c_.below(2);
    for (std::uint32_t i = 0; i < else_n; ++i) item(depth + 1);
    bind(end);
    kinds_ = kinds_.join(then_kinds);
}

// A small bounded loop: i = init; do { body } while (i OP K), the body maybe indexing the memory with i.
void Generator::loop(int depth, bool bad) {
    if (c_.chance(10)) return long_loop(bad);
    const std::uint8_t i = dst();
    const Size sz = size(false);
    const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(sz);  // the last safe index
    const bool indexes = c_.chance(60);
    const std::int64_t last = indexes ? b : static_cast<std::int64_t>(c_.below(12));  // the last i in the body
    const bool down = c_.chance(15);
    if (down) {
        emit(mov64_imm(i, clamp32(bad && c_.chance(50) ? last + 1 : last)));
    } else if (last >= 7 && c_.chance(25)) {
        load_unknown(i, false);
        emit(alu64_imm(Alu::And, i, pick({3, 7})));
    } else {
        emit(mov64_imm(i, 0));
    }
    set_scalar(i);
    const std::uint32_t held_i = hold(i);
    const int head = new_label();
    bind(head);
    const std::uint32_t n = c_.below(3);
    for (std::uint32_t k = 0; k < n; ++k) {
        const bool body_bad = risky();
        switch (c_.below(5)) {
            case 0: alu(body_bad); break;
            case 1: guarded_access(body_bad); break;
            case 2: masked_access(body_bad); break;
            case 3: stack_access(body_bad); break;
            default: skip(depth + 2, body_bad); break;
        }
    }
    if (indexes) access(pointer_plus(base(), i), 0, sz, false, false);
    const bool is64 = c_.chance(75);
    if (down) {
        emit(alu64_imm(Alu::Add, i, -1));
        // Continue while i > 0 (or i >= 0, signed): the body sees `last` down to 0. Bad: one further (i >= -1).
        const Jmp j = bad ? Jmp::Jsge : pick({Jmp::Jsgt, Jmp::Jsge, Jmp::Jne, Jmp::Jgt});
        jump(cond(j, is64, i, j == Jmp::Jsge ? (bad ? -1 : 0) : 0), head);
    } else {
        std::int32_t step = 1;
        std::int64_t limit = last + 1;  // continue while i < limit
        // Bad loops mostly run one index too far; rarely they never end (a step that skips the limit of a `!=`
        // or no step at all), which the verifier must reject (after up to insn_limit instructions: slow).
        bool endless = false;
        if (bad) {
            if (c_.chance(95)) {
                limit += 1;
            } else {
                step = pick({0, 2, 3});
                endless = true;
            }
        }
        emit(is64 || c_.chance(50) ? alu64_imm(Alu::Add, i, step) : alu32_imm(Alu::Add, i, step));
        const Jmp j = endless ? Jmp::Jne : pick({Jmp::Jlt, Jmp::Jlt, Jmp::Jle, Jmp::Jne, Jmp::Jslt, Jmp::Jsle});
        jump(cond(j, is64, i, j == Jmp::Jle || j == Jmp::Jsle ? limit - 1 : limit), head);
    }
    reserved_ = held_i;
}

// A long counted loop (160..1024 iterations) whose body indexes the memory with i >> s, so the verifier summarises it
// (src/verifier/analyzer/widening.cpp) once the loop head has been visited 64 times: i = 0; do { [body]
// access(mem + (i >> s)); i += 1 } while (i < T). Safe: T = (b + 1) << s, the last index is b (the last safe one).
// Bad: T = ((b + 1) << s) + 1, only the last iteration reads one element too far.
void Generator::long_loop(bool bad) {
    const std::uint8_t i = dst();
    const Size sz = size(false);
    const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(sz);  // the last safe index
    if (b < 0) return;
    int s = 0;
    while (((b + 1) << s) < 160) ++s;
    if (((b + 1) << s) > 1024) return;
    const std::int64_t trips = ((b + 1) << s) + (bad ? 1 : 0);
    emit(mov64_imm(i, 0));
    set_scalar(i);
    const std::uint32_t held_i = hold(i);
    const int head = new_label();
    bind(head);
    if (c_.chance(50)) alu(false);
    const std::uint8_t j = dst_except(i);
    emit(mov64_reg(j, i));
    if (s > 0) emit(alu64_imm(Alu::Rsh, j, s));
    set_scalar(j);
    access(pointer_plus(base(), j), 0, sz, false, false);
    emit(alu64_imm(Alu::Add, i, 1));
    jump(cond(Jmp::Jlt, true, i, trips), head);
    reserved_ = held_i;
}

// A bpf-to-bpf call: r1 = memory, r2 = a scalar, r3 = a pointer into this stack (or a scalar); the result in r0
// is then often used as an index.
void Generator::call_sub(bool bad) {
    const bool fresh = subs_.empty() || (subs_.size() < 3 && c_.chance(40));
    if (fresh) {
        const std::int64_t ret = c_.chance(60) ? mask(static_cast<std::int64_t>(n_) - 1, false) : -1;
        const std::int64_t ret_ptr = c_.chance(20) ? static_cast<std::int64_t>(c_.below(n_)) : -1;
        subs_.push_back(Sub{new_label(), c_.chance(50), ret, ret_ptr});
    }
    const Sub sub = fresh ? subs_.back() : subs_[c_.below(static_cast<std::uint32_t>(subs_.size()))];
    const bool bad_arg = bad && c_.chance(50);
    emit(mov64_reg(R1, bad_arg && c_.chance(30) ? std::uint8_t{R10} : scope_.base));
    if (c_.chance(70)) {
        emit(mov64_reg(R2, value()));
    } else {
        load_unknown(R2, false);
        emit(alu64_imm(Alu::And, R2, clamp32(mask(static_cast<std::int64_t>(n_) - 1, false))));
    }
    // The slot passed to the sub-program holds an index that is safe before the call; after it, the caller
    // may use it unchecked only if the verifier knows what the callee wrote there.
    int passed = 0;
    const Size slot_use = size(false);
    if (sub.stack_arg != (bad_arg && c_.chance(70))) {
        const std::int16_t o = stack_off(8, false);
        if (!bad_arg || c_.chance(50)) {
            const std::uint8_t v = dst_value();
            emit(alu64_imm(Alu::And, v, clamp32(mask(static_cast<std::int64_t>(n_) - size_bytes(slot_use), false))));
            emit(stx_mem(Size::DW, R10, v, o));
            passed = o;
        }
        ptr_slots_.erase(o);
        emit(mov64_reg(R3, R10));
        emit(alu64_imm(Alu::Add, R3, o));
    } else {
        emit(mov64_imm(R3, pick_imm()));
    }
    call(sub.label);
    clobbered_by_call(bad && !bad_arg);
    if (passed != 0 && c_.chance(40)) {
        const std::uint8_t y = dst();
        emit(ldx_mem(Size::DW, y, R10, static_cast<std::int16_t>(passed)));
        set_scalar(y);
        const std::uint32_t held_y = hold(y);
        const std::uint8_t p = pointer_plus(scope_.base, y);
        reserved_ = held_y;
        access(p, 0, slot_use, false, false);
    }
    if (sub.ret_ptr >= 0) {  // the result is a pointer ret_ptr bytes into the memory
        set_pointer(R0);
        const Size sz = size(false);
        const std::int64_t last = static_cast<std::int64_t>(n_) - size_bytes(sz) - sub.ret_ptr;
        const std::int64_t at = bad ? last + 1 : c_.chance(50) ? last : -sub.ret_ptr;
        access(R0, static_cast<std::int16_t>(at), sz, bad, false);
    } else if (c_.chance(50)) {  // the result as an index
        const Size sz = size(false);
        const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(sz);
        const Kinds before = kinds_;
        const int skip = new_label();
        if (sub.ret_mask < 0 || sub.ret_mask > b || c_.chance(30))
            jump(cond(Jmp::Jgt, c_.chance(80), R0, up(b, bad)), skip);
        const std::uint32_t held_r0 = hold(R0);
        const std::uint8_t p = pointer_plus(scope_.base, R0);
        reserved_ = held_r0;
        access(p, 0, sz, false, false);
        bind(skip);
        kinds_ = kinds_.join(before);
    }
}

// After a call: r0 is the result, r1-r5 are gone; most are written again (bad: some are not).
void Generator::clobbered_by_call(bool bad) {
    r1_valid_ = false;
    kinds_.uninit |= bit(R1) | bit(R2) | bit(R3) | bit(R4) | bit(R5);
    kinds_.ptr &= ~(bit(R1) | bit(R2) | bit(R3) | bit(R4) | bit(R5));
    set_scalar(R0);
    for (const std::uint8_t r : {R2, R3, R4, R5}) {
        if (bad && c_.chance(30)) continue;
        if (c_.chance(30)) {
            const std::uint8_t from = pick({R7, R8, R9, R0});
            emit(usable(from) ? mov64_reg(r, from) : mov64_imm(r, pick_imm()));
        } else {
            emit(mov64_imm(r, pick_imm()));
        }
        set_scalar(r);
    }
}

// A helper that writes or reads memory the program names with a pointer and a size (bpf_get_current_comm,
// bpf_probe_read_kernel, bpf_csum_diff), or bpf_get_prandom_u32: the pointer and the size at the edge of the
// memory or the stack.
void Generator::helper_call(bool bad) {
    const std::uint32_t which = c_.below(4);
    if (which == 0) {
        emit(call_helper(7));
        clobbered_by_call(bad);
        return;
    }
    const bool to_stack = c_.chance(35);
    const std::int64_t limit = to_stack ? 64 : static_cast<std::int64_t>(n_);
    // The size: a constant, or a bounded unknown in [0, m].
    std::int64_t max_size = 0;
    std::int64_t min_size = 0;
    if (c_.chance(50)) {
        max_size = min_size = 1 + static_cast<std::int64_t>(c_.below(static_cast<std::uint32_t>(limit)));
        emit(mov64_imm(R2, static_cast<std::int32_t>(max_size)));
    } else {
        emit(ldx_mem(Size::B, R2, scope_.base, static_cast<std::int16_t>(c_.below(n_))));
        max_size = mask(limit, false);
        emit(alu64_imm(Alu::And, R2, static_cast<std::int32_t>(max_size)));
        hints_.push_back(0xff);
    }
    set_scalar(R2);
    // The destination: [at, at + size) must fit.
    std::int64_t at = limit - max_size;
    if (!to_stack && c_.chance(40)) at = 0;
    if (bad) at += 1;
    if (to_stack) {
        emit(mov64_reg(R1, R10));
        emit(alu64_imm(Alu::Add, R1, static_cast<std::int32_t>(-limit + at)));
    } else {
        emit(mov64_reg(R1, scope_.base));
        if (at != 0) emit(alu64_imm(Alu::Add, R1, static_cast<std::int32_t>(at)));
    }
    set_pointer(R1);
    if (which == 1) {
        emit(call_helper(16));  // get_current_comm(buf, size): size must be > 0
    } else if (which == 2) {
        emit(mov64_reg(R3, scope_.base));  // probe_read_kernel(dst, size, src): reads the memory
        emit(call_helper(113));
    } else {
        // csum_diff(from, from_size, to, to_size, seed): reads both
        emit(mov64_reg(R3, scope_.base));
        emit(mov64_imm(R4, static_cast<std::int32_t>(4 * c_.below(static_cast<std::uint32_t>(n_ / 4 + 1)))));
        emit(mov64_imm(R5, pick_imm()));
        emit(call_helper(28));
    }
    (void)min_size;
    clobbered_by_call(bad);
}

// bpf_loop(nr, callback, ctx, 0) over a 16-byte context on the stack: [ctx] = a safe index, [ctx + 8] = the
// memory base. The callback indexes the memory with its iteration number and may update [ctx]; afterwards
// the caller may use [ctx] unchecked, which is safe only if every number of iterations keeps it in bounds.
void Generator::loop_helper(bool bad) {
    const Size sz = size(false);
    const std::int64_t b = static_cast<std::int64_t>(n_) - size_bytes(sz);
    Callback cb;
    cb.label = new_label();
    cb.kind = c_.below(4);
    cb.bound = mask(b, false);
    cb.bad = bad;
    callbacks_.push_back(cb);
    const auto o = static_cast<std::int16_t>(-16 * static_cast<int>(1 + c_.below(4)));
    emit(st_mem(Size::DW, R10, o, static_cast<std::int32_t>(c_.below(static_cast<std::uint32_t>(cb.bound) + 1))));
    emit(stx_mem(Size::DW, R10, scope_.base, static_cast<std::int16_t>(o + 8)));
    ptr_slots_.insert(static_cast<std::int16_t>(o + 8));
    ptr_slots_.erase(o);
    if (c_.chance(50)) {
        emit(mov64_imm(R1, static_cast<std::int32_t>(c_.below(9))));
    } else {
        emit(ldx_mem(Size::B, R1, scope_.base, static_cast<std::int16_t>(c_.below(n_))));
        emit(alu64_imm(Alu::And, R1, 7));
    }
    RawInsn func = make(Op::Lddw, R2, isa::kPseudoFunc);
    items_.push_back(Item{Slots(func, RawInsn{}), Fix::Imm, cb.label});
    emit(mov64_reg(R3, R10));
    emit(alu64_imm(Alu::Add, R3, o));
    emit(mov64_imm(R4, 0));
    emit(call_helper(181));
    clobbered_by_call(false);
    if (c_.chance(60)) {  // [ctx] after any number of iterations, unchecked
        const std::uint8_t y = dst();
        emit(ldx_mem(Size::DW, y, R10, o));
        set_scalar(y);
        const std::uint32_t held_y = hold(y);
        const std::uint8_t p = pointer_plus(scope_.base, y);
        reserved_ = held_y;
        access(p, 0, sz, false, false);
    }
}

// The body of a bpf_loop callback (r1 = index, r2 = ctx); kinds:
//   0  access the memory at base + (index & M)
//   1  access the memory at base + index after `if index > K goto out`
//   2  [ctx] = ([ctx] + 1) & M: a counter that stays bounded
//   3  [ctx] = index & M
// Bad ones use M or K one past the edge (kinds 2 and 3: the caller's later use is what goes past it).
void Generator::callback_program(const Callback& cb) {
    bind(cb.label);
    const std::int64_t m = cb.bad ? cb.bound * 2 + 1 : cb.bound;
    emit(ldx_mem(Size::DW, R3, R2, 8));  // the memory base
    switch (cb.kind) {
        case 0:
            emit(mov64_reg(R4, R1));
            emit(alu64_imm(Alu::And, R4, static_cast<std::int32_t>(m)));
            emit(alu64_reg(Alu::Add, R3, R4));
            emit(ldx_mem(Size::B, R0, R3, 0));
            break;
        case 1: {
            const int out = new_label();
            jump(jmp_imm(Jmp::Jgt, R1, static_cast<std::int32_t>(cb.bad ? cb.bound + 1 : cb.bound), 0), out);
            emit(alu64_reg(Alu::Add, R3, R1));
            emit(st_mem(Size::B, R3, 0, 1));
            bind(out);
            break;
        }
        case 2:
            emit(ldx_mem(Size::DW, R4, R2, 0));
            emit(alu64_imm(Alu::Add, R4, 1));
            emit(alu64_imm(Alu::And, R4, static_cast<std::int32_t>(m)));
            emit(stx_mem(Size::DW, R2, R4, 0));
            break;
        default:
            emit(mov64_reg(R4, R1));
            emit(alu64_imm(Alu::And, R4, static_cast<std::int32_t>(m)));
            emit(stx_mem(Size::DW, R2, R4, 0));
            break;
    }
    // 0: continue, 1: stop; the index's low bit stops some runs early.
    if (c_.chance(70)) {
        emit(mov64_imm(R0, 0));
    } else {
        emit(mov64_reg(R0, R1));
        emit(alu64_imm(Alu::And, R0, 1));
    }
    emit(exit_insn());
}

void Generator::sub_program(const Sub& sub) {
    bind(sub.label);
    const Scope saved_scope = scope_;
    const Kinds saved_kinds = kinds_;
    scope_ = Scope{};
    scope_.base = R1;
    scope_.pool = {R0, R2, R4, R5};
    scope_.stack_bytes = 64;
    scope_.sub = true;
    // A callee starts with r1-r5 from its caller; r0 and r6-r9 are uninitialised.
    kinds_ = Kinds{bit(R1) | bit(R10), bit(R0) | bit(R4) | bit(R5) | bit(R6) | bit(R7) | bit(R8) | bit(R9)};
    if (sub.stack_arg)
        kinds_.ptr |= bit(R3);
    else
        scope_.pool.push_back(R3);
    for (const std::uint8_t r : {R0, R4, R5}) {
        if (risk_ > 0 && c_.chance(5)) continue;
        emit(mov64_imm(r, pick_imm()));
        set_scalar(r);
    }
    if (!privileged_) {  // the callee's own frame, as the main prologue does for the caller's
        for (int off = -scope_.stack_bytes; off < 0; off += 8)
            emit(st_mem(Size::DW, R10, static_cast<std::int16_t>(off), pick_imm()));
    }
    const std::uint32_t n = 1 + c_.below(4);
    for (std::uint32_t i = 0; i < n; ++i) {
        if (sub.stack_arg && c_.chance(35)) {
            const bool bad = risky();
            const Size s = c_.chance(70) ? Size::DW : static_cast<Size>(c_.below(4));
            access(R3, bad ? static_cast<std::int16_t>(8 * (c_.chance(50) ? 1 : -1)) : std::int16_t{0}, s, bad, true,
                   true);
        } else {
            item(1);
        }
    }
    const bool bad = risky();
    if (sub.ret_ptr >= 0) {
        emit(mov64_reg(R0, R1));
        if (sub.ret_ptr != 0 || bad)
            emit(alu64_imm(Alu::Add, R0, static_cast<std::int32_t>(sub.ret_ptr + (bad ? 1 : 0))));
    } else if (sub.ret_mask >= 0) {
        emit(mov64_reg(R0, value()));
        emit(alu64_imm(Alu::And, R0, clamp32(bad ? sub.ret_mask * 2 + 1 : sub.ret_mask)));
    } else if (!usable(R0) || c_.chance(50)) {
        if (!bad) emit(mov64_reg(R0, value()));
    }
    emit(exit_insn());
    scope_ = saved_scope;
    kinds_ = saved_kinds;
}

// One template; `depth` > 0 inside skips, diamonds, loops and sub-programs (no loops or calls nest).
void Generator::item(int depth) {
    const bool bad = risky();
    const std::uint32_t k = c_.below(100);
    if (k < 6) {
        load_unknown(dst(), bad);
    } else if (k < 20) {
        alu(bad);
    } else if (k < 38) {
        guarded_access(bad);
    } else if (k < 49) {
        masked_access(bad);
    } else if (k < 55) {
        const_access(bad);
    } else if (k < 64) {
        stack_access(bad);
    } else if (k < 69) {
        stack_var_access(bad);
    } else if (k < 72) {
        div_mod();
    } else if (k < 74) {
        if (privileged_ || bad) pointer_ops(bad);
    } else if (k < 79) {
        alu_chain_access(bad);
    } else if (k < 82) {
        pointer_walk(bad);
    } else if (k < 83) {
        if (bad)
            spill_clobber();
        else
            const_access(false);
    } else if (depth < 2 && k < 86) {
        join_value_access(depth, bad);
    } else if (depth < 2 && k < 89) {
        skip(depth, bad);
    } else if (depth < 2 && k < 91) {
        diamond(depth, bad);
    } else if (depth == 0 && opt_.loops && k < 95) {
        loop(depth, bad);
    } else if (depth == 0 && opt_.calls && !scope_.sub && k < 97) {
        call_sub(bad);
    } else if (opt_.helpers && !scope_.sub && k < 98) {
        helper_call(bad);
    } else if (depth == 0 && opt_.helpers && !scope_.sub && k < 99) {
        loop_helper(bad);
    } else {
        guarded_access(bad);
    }
}

}  // namespace gen_detail

VerifierCase generate_verifier_case(Choices& choices, const VerifierGenOptions& options) {
    return gen_detail::Generator(choices, options).run();
}

VerifierCase generate_verifier_case(std::uint64_t seed, const VerifierGenOptions& options) {
    Choices choices(seed);
    return gen_detail::Generator(choices, options).run();
}

}  // namespace xbpf::test
