#include "verifier/cfg/relevance.hpp"

#include <deque>

#include "helpers/prototype.hpp"
#include "verifier/cfg/liveness.hpp"

namespace xbpf::verifier {

namespace {

using isa::Shape;

constexpr std::uint64_t kAllSlots = ~std::uint64_t{0};

/// Slots of the current frame touched by a `size`-byte access at r10 + off (bit i: [r10 - 8(i+1), r10 - 8i)).
/// An access outside the 512-byte frame (which the walk rejects) touches every slot, conservatively.
std::uint64_t touched_slots(std::int64_t off, int size) {
    if (off < -512 || off + size > 0 || size <= 0) return kAllSlots;
    std::uint64_t mask = 0;
    for (std::int64_t b = off; b < off + size; ++b) mask |= std::uint64_t{1} << ((-b - 1) / 8);
    return mask;
}

/// The slot fully overwritten by an aligned 8-byte access at r10 + off, or 0.
std::uint64_t killed_slot(std::int64_t off, int size) {
    if (size != 8 || off % 8 != 0 || off < -512 || off >= 0) return 0;
    return std::uint64_t{1} << ((-off - 1) / 8);
}

/// Registers that may hold a pointer into some stack frame before each slot (forward fixpoint within each
/// function): r10; in sub-programs and callbacks r1..r5 (a caller's stack may be passed); copies and arithmetic of
/// such registers; 8-byte loads through them (a spilled stack pointer). Loads through other pointers, constants,
/// helper results cannot be stack pointers. A local call's r0 is included (conservatively).
std::vector<RegMask> may_stack_in(std::span<const isa::Instruction> insns, const Cfg& cfg) {
    const std::size_t n = insns.size();
    std::vector<RegMask> in(n, 0);
    std::vector<bool> seen(n, false);
    std::deque<std::uint32_t> work;
    for (std::size_t f = 0; f < cfg.functions.size(); ++f) {
        auto start = static_cast<std::uint32_t>(cfg.functions[f].start);
        in[start] = static_cast<RegMask>(kFramePointerBit | (f == 0 ? 0 : kArgRegs));
        seen[start] = true;
        work.push_back(start);
    }
    while (!work.empty()) {
        std::uint32_t pc = work.front();
        work.pop_front();
        const auto& insn = insns[pc];
        if (insn.is_lddw_tail) continue;
        const auto& info = isa::info(insn.op);
        RegMask m = in[pc];
        const RegMask dst = reg_bit(insn.dst);
        const bool src_stack = (m & reg_bit(insn.src)) != 0;
        switch (info.shape) {
            case Shape::AluImm:
                if (info.text == "=") m = static_cast<RegMask>(m & ~dst);
                break;
            case Shape::AluReg:
            case Shape::MovSx:
                if (info.text == "=" || info.shape == Shape::MovSx) m = static_cast<RegMask>(m & ~dst);
                if (src_stack) m = static_cast<RegMask>(m | dst);
                break;
            case Shape::Ldx:
            case Shape::LdxSx:
                m = static_cast<RegMask>(m & ~dst);
                if (src_stack && info.width == 8) m = static_cast<RegMask>(m | dst);
                break;
            case Shape::Lddw: m = static_cast<RegMask>(m & ~dst); break;
            case Shape::Call:
            case Shape::LdAbs:
            case Shape::LdInd:
            case Shape::CallKfunc:
            case Shape::Callx: m = static_cast<RegMask>(m & ~kCallerSaved); break;
            case Shape::CallLocal: m = static_cast<RegMask>((m & ~kCallerSaved) | reg_bit(0)); break;
            case Shape::Atomic: {
                const RegMask def = reg_effect(insn).def;
                m = static_cast<RegMask>(m & ~def);
                if (def != 0 && (m & dst)) m = static_cast<RegMask>(m | def);
                break;
            }
            default: break;
        }
        m = static_cast<RegMask>(m | kFramePointerBit);
        for (auto t : cfg.successors[pc]) {
            RegMask next = static_cast<RegMask>(in[t] | m);
            if (seen[t] && next == in[t]) continue;
            in[t] = next;
            seen[t] = true;
            work.push_back(t);
        }
    }
    return in;
}

/// What one backward pass found out about stack reads the per-slot analysis cannot attribute.
struct Flags {
    /// Some load through a pointer that may point into a stack (not r10 itself) feeds a relevant register: any
    /// slot of any frame may matter anywhere.
    bool indirect_read = false;
    /// Some slot is relevant somewhere: a store through a may-stack pointer may write it, so its value matters.
    bool any_slot = false;
    friend bool operator==(const Flags&, const Flags&) = default;
};

struct Rel {
    RegMask regs = 0;
    std::uint64_t slots = 0;
};

/// Relevance before `insn`, given that after it. `assume` is the previous pass's Flags (sound upper bounds for this
/// pass); `found` collects this pass's.
Rel transfer(const isa::Instruction& insn, Rel out, RegMask may_stack, bool in_main, bool exit_value_checked,
             const Flags& assume, Flags& found) {
    const auto& info = isa::info(insn.op);
    const RegMask dst = reg_bit(insn.dst);
    const RegMask src = reg_bit(insn.src);
    const bool is_div = info.text == "/=" || info.text == "%=" || info.text == "s/=" || info.text == "s%=";
    if (assume.indirect_read) out.slots = kAllSlots;
    Rel in = out;
    auto set = [&](RegMask m) { in.regs = m; };
    switch (info.shape) {
        case Shape::AluImm:
            if (info.text == "=") set(static_cast<RegMask>(out.regs & ~dst));
            break;
        case Shape::AluReg:
            if (info.text == "=")
                set(static_cast<RegMask>((out.regs & ~dst) | ((out.regs & dst) ? src : 0)));
            else
                set(static_cast<RegMask>(out.regs | ((out.regs & dst) || is_div ? src : 0)));
            break;
        case Shape::MovSx: set(static_cast<RegMask>((out.regs & ~dst) | ((out.regs & dst) ? src : 0))); break;
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Ja:
        case Shape::Gotol: break;
        case Shape::JmpImm: set(static_cast<RegMask>(out.regs | dst)); break;
        case Shape::JmpReg: set(static_cast<RegMask>(out.regs | dst | src)); break;
        case Shape::Call: {
            RegMask r = static_cast<RegMask>(out.regs & ~kCallerSaved);
            auto proto = helpers::prototype(insn.imm);
            if (!proto) {
                r = static_cast<RegMask>(r | kArgRegs);
            } else {
                for (int i = 0; i < 5; ++i) {
                    auto t = proto->args[static_cast<std::size_t>(i)].type;
                    if (t != helpers::ArgType::DontCare && t != helpers::ArgType::Anything)
                        r = static_cast<RegMask>(r | reg_bit(static_cast<unsigned>(i + 1)));
                }
            }
            set(r);
            break;
        }
        case Shape::CallLocal:
        case Shape::CallKfunc:
        case Shape::Callx: set(static_cast<RegMask>((out.regs & ~kCallerSaved) | reg_effect(insn).use)); break;
        case Shape::Exit:
            set((in_main && !exit_value_checked) ? RegMask{0} : reg_bit(0));
            in.slots = 0;  // the frame ends
            break;
        case Shape::Lddw: set(static_cast<RegMask>(out.regs & ~dst)); break;
        case Shape::LdAbs: set(static_cast<RegMask>((out.regs & ~kCallerSaved) | reg_bit(6))); break;
        case Shape::LdInd: set(static_cast<RegMask>((out.regs & ~kCallerSaved) | reg_bit(6) | src)); break;
        case Shape::Ldx:
        case Shape::LdxSx: {
            const bool loaded_relevant = (out.regs & dst) != 0;
            set(static_cast<RegMask>((out.regs & ~dst) | src));
            if (loaded_relevant) {
                if (insn.src == isa::kFramePointer)
                    in.slots |= touched_slots(insn.off, info.width);
                else if (may_stack & src)
                    found.indirect_read = true;
            }
            break;
        }
        case Shape::St:
        case Shape::Stx: {
            // The base always matters (it is an address); the stored value matters when what it is stored into
            // may later be read into a relevant register: a relevant slot of this frame, any slot for a store
            // through another stack pointer (when some slot is relevant anywhere), and always for other memory.
            bool value_relevant = true;
            if (insn.dst == isa::kFramePointer) {
                const std::uint64_t touched = touched_slots(insn.off, info.width);
                value_relevant = (out.slots & touched) != 0;
                in.slots = out.slots & ~killed_slot(insn.off, info.width);
            } else if (may_stack & dst) {
                value_relevant = assume.any_slot || assume.indirect_read;
            }
            RegMask r = static_cast<RegMask>(out.regs | dst);
            if (info.shape == Shape::Stx && value_relevant) r = static_cast<RegMask>(r | src);
            set(r);
            break;
        }
        case Shape::Atomic: {
            // The fetched value is unknown whatever was stored: it carries no relevance backwards.
            RegMask def = reg_effect(insn).def;
            set(static_cast<RegMask>((out.regs & ~def) | dst | src | (info.text == "cmpxchg" ? reg_bit(0) : 0)));
            if (insn.dst == isa::kFramePointer)
                in.slots |= touched_slots(insn.off, info.width / 8);
            else if ((may_stack & dst) && (out.regs & def))
                found.indirect_read = true;
            break;
        }
    }
    return in;
}

/// One backward fixpoint under `assume`; returns what it found.
Flags relevance_pass(std::span<const isa::Instruction> insns, Cfg& cfg, bool exit_value_checked,
                     const std::vector<RegMask>& may_stack, const std::vector<std::vector<std::uint32_t>>& preds,
                     const Flags& assume) {
    const std::size_t n = insns.size();
    cfg.relevant_in.assign(n, 0);
    cfg.relevant_stack_in.assign(n, 0);
    Flags found;
    std::deque<std::uint32_t> work;
    std::vector<bool> queued(n, true);
    // Every slot once, from the end (successors mostly first), then whatever changes.
    for (std::size_t i = n; i-- > 0;) work.push_back(static_cast<std::uint32_t>(i));
    while (!work.empty()) {
        std::uint32_t pc = work.front();
        work.pop_front();
        queued[pc] = false;
        const auto& insn = insns[pc];
        if (insn.is_lddw_tail) continue;
        Rel out;
        for (auto t : cfg.successors[pc]) {
            out.regs = static_cast<RegMask>(out.regs | cfg.relevant_in[t]);
            out.slots |= cfg.relevant_stack_in[t];
        }
        Rel in = transfer(insn, out, may_stack[pc], cfg.function_of[pc] == 0, exit_value_checked, assume, found);
        in.regs = static_cast<RegMask>(in.regs & cfg.live_in[pc] & ~kFramePointerBit);
        if (assume.indirect_read) in.slots = kAllSlots;
        const RegMask regs = static_cast<RegMask>(cfg.relevant_in[pc] | in.regs);
        const std::uint64_t slots = cfg.relevant_stack_in[pc] | in.slots;
        if (regs == cfg.relevant_in[pc] && slots == cfg.relevant_stack_in[pc]) continue;
        cfg.relevant_in[pc] = regs;
        cfg.relevant_stack_in[pc] = slots;
        for (auto p : preds[pc])
            if (!queued[p]) {
                queued[p] = true;
                work.push_back(p);
            }
    }
    for (auto s : cfg.relevant_stack_in) found.any_slot = found.any_slot || s != 0;
    found.indirect_read = found.indirect_read || assume.indirect_read;
    found.any_slot = found.any_slot || assume.any_slot;
    return found;
}

}  // namespace

void compute_relevance(std::span<const isa::Instruction> insns, Cfg& cfg, bool exit_value_checked) {
    const std::size_t n = insns.size();
    // Predecessors, to requeue.
    std::vector<std::vector<std::uint32_t>> preds(n);
    for (std::size_t i = 0; i < n; ++i)
        for (auto t : cfg.successors[i]) preds[t].push_back(static_cast<std::uint32_t>(i));
    const auto may_stack = may_stack_in(insns, cfg);
    // The flags only grow (each pass assumes the previous one's, which makes more relevant), so this ends after at
    // most three passes; the last pass's result is consistent with the flags it assumed.
    Flags assume;
    for (;;) {
        Flags found = relevance_pass(insns, cfg, exit_value_checked, may_stack, preds, assume);
        if (found == assume) break;
        assume = found;
    }
}

}  // namespace xbpf::verifier
