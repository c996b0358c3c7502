// Register liveness (see liveness.hpp). The transfer function mirrors what the kernel's check_reg_arg(SRC_OP /
// DST_OP) calls do per instruction class in do_check, with calls as in check_helper_call / check_func_call
// (a helper's declared arguments, r1..r5 for local calls, read as arguments; r0..r5 clobbered) and LD_ABS/LD_IND as in
// check_ld_abs (r6 read, caller-saved registers clobbered).
#include "verifier/cfg/liveness.hpp"

#include <cstddef>
#include <vector>

#include "helpers/prototype.hpp"

namespace xbpf::verifier {
namespace {

using isa::Op;
using isa::Shape;

bool is_plain_move(Op op) {
    return op == Op::Mov64Imm || op == Op::Mov64Reg || op == Op::Mov32Imm || op == Op::Mov32Reg;
}

bool is_cmpxchg(Op op) { return op == Op::AtomicCmpxchg32 || op == Op::AtomicCmpxchg64; }

}  // namespace

RegEffect reg_effect(const isa::Instruction& insn) {
    if (insn.is_lddw_tail) return {};
    const RegMask dst = reg_bit(insn.dst);
    const RegMask src = reg_bit(insn.src);
    const isa::OpInfo& row = isa::info(insn.op);
    RegEffect e;
    switch (row.shape) {
        case Shape::AluImm: e = {is_plain_move(insn.op) ? RegMask{0} : dst, dst}; break;
        case Shape::AluReg: e = {static_cast<RegMask>(is_plain_move(insn.op) ? src : (dst | src)), dst}; break;
        case Shape::MovSx: e = {src, dst}; break;
        case Shape::Neg:
        case Shape::Endian: e = {dst, dst}; break;
        case Shape::Ja:
        case Shape::Gotol: break;
        case Shape::JmpImm: e = {dst, 0}; break;
        case Shape::JmpReg: e = {static_cast<RegMask>(dst | src), 0}; break;
        case Shape::Call: {
            // A helper reads only the arguments its prototype declares (check_helper_call skips ARG_DONTCARE);
            // an unknown helper (refused by the walk) reads all five.
            RegMask use = kArgRegs;
            if (const auto proto = helpers::prototype(insn.imm)) {
                use = 0;
                for (unsigned i = 0; i < 5; ++i)
                    if (proto->args[i].type != helpers::ArgType::DontCare)
                        use = static_cast<RegMask>(use | reg_bit(i + 1));
            }
            e = {use, kCallerSaved};
            break;
        }
        case Shape::CallLocal:
        case Shape::CallKfunc: e = {kArgRegs, kCallerSaved}; break;
        case Shape::Callx: e = {static_cast<RegMask>(kArgRegs | dst), kCallerSaved}; break;
        case Shape::Exit: e = {reg_bit(0), 0}; break;
        case Shape::Lddw: e = {0, dst}; break;  // src is the pseudo kind, not a register
        case Shape::LdAbs: e = {reg_bit(6), kCallerSaved}; break;
        case Shape::LdInd: e = {static_cast<RegMask>(reg_bit(6) | src), kCallerSaved}; break;
        case Shape::Ldx:
        case Shape::LdxSx: e = {src, dst}; break;
        case Shape::St: e = {dst, 0}; break;
        case Shape::Stx: e = {static_cast<RegMask>(dst | src), 0}; break;
        case Shape::Atomic:
            e.use = static_cast<RegMask>(dst | src);
            if (is_cmpxchg(insn.op)) {
                e.use |= reg_bit(0);
                e.def = reg_bit(0);
            } else if ((row.disc_value & isa::kAtomicFetch) != 0) {
                e.def = src;
            }
            break;
    }
    e.def &= static_cast<RegMask>(~kFramePointerBit);
    return e;
}

void compute_liveness(std::span<const isa::Instruction> insns, Cfg& cfg, std::span<const std::uint32_t> postorder) {
    const std::size_t n = insns.size();
    cfg.live_in.assign(n, kFramePointerBit);
    if (n == 0) return;

    // Predecessors in compressed rows: preds[pred_begin[s] .. pred_begin[s + 1]).
    std::vector<std::uint32_t> pred_begin(n + 1, 0);
    for (std::size_t s = 0; s < n; ++s)
        for (const std::uint32_t t : cfg.successors[s]) ++pred_begin[t + 1];
    for (std::size_t s = 0; s < n; ++s) pred_begin[s + 1] += pred_begin[s];
    std::vector<std::uint32_t> preds(pred_begin[n]);
    {
        std::vector<std::uint32_t> fill(pred_begin.begin(), pred_begin.end() - 1);
        for (std::size_t s = 0; s < n; ++s)
            for (const std::uint32_t t : cfg.successors[s]) preds[fill[t]++] = static_cast<std::uint32_t>(s);
    }

    std::vector<RegEffect> effect(n);
    for (std::size_t s = 0; s < n; ++s) effect[s] = reg_effect(insns[s]);

    // FIFO worklist seeded in postorder (successors first); a slot is re-queued when a successor's live-in grows.
    // Slots the search did not reach go first, highest slot first, so they are still covered.
    std::vector<std::uint32_t> queue;
    queue.reserve(n);
    std::vector<bool> queued(n, false);
    for (const std::uint32_t s : postorder) queued[s] = true;
    for (std::size_t s = n; s-- > 0;)
        if (!queued[s] && !insns[s].is_lddw_tail) {
            queue.push_back(static_cast<std::uint32_t>(s));
            queued[s] = true;
        }
    queue.insert(queue.end(), postorder.begin(), postorder.end());

    // A ring over `queue`: every slot is in it at most once, so n entries suffice.
    std::size_t head = 0;
    std::size_t count = queue.size();
    queue.resize(n);
    while (count > 0) {
        const std::uint32_t s = queue[head];
        head = head + 1 == n ? 0 : head + 1;
        --count;
        queued[s] = false;

        RegMask out = 0;
        for (const std::uint32_t t : cfg.successors[s]) out |= cfg.live_in[t];
        const RegMask in = static_cast<RegMask>(effect[s].use | (out & ~effect[s].def) | kFramePointerBit) & kAllRegs;
        if (in == cfg.live_in[s]) continue;
        cfg.live_in[s] = in;
        for (std::uint32_t i = pred_begin[s]; i < pred_begin[s + 1]; ++i) {
            const std::uint32_t p = preds[i];
            if (queued[p]) continue;
            queued[p] = true;
            std::size_t tail = head + count;
            if (tail >= n) tail -= n;
            queue[tail] = p;
            ++count;
        }
    }

    // An Lddw tail carries the head's live-out.
    for (std::size_t s = 0; s + 1 < n; ++s) {
        if (!insns[s + 1].is_lddw_tail) continue;
        RegMask out = kFramePointerBit;
        for (const std::uint32_t t : cfg.successors[s]) out |= cfg.live_in[t];
        cfg.live_in[s + 1] = out;
    }
}

}  // namespace xbpf::verifier
