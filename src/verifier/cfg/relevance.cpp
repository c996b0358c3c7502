#include "verifier/cfg/relevance.hpp"

#include <deque>

#include "helpers/prototype.hpp"
#include "verifier/cfg/liveness.hpp"

namespace xbpf::verifier {

namespace {

using isa::Shape;

/// Registers relevant before `insn`, given those relevant after it.
RegMask transfer(const isa::Instruction& insn, RegMask out, bool in_main, bool exit_value_checked) {
    const auto& info = isa::info(insn.op);
    const RegMask dst = reg_bit(insn.dst);
    const RegMask src = reg_bit(insn.src);
    const bool is_div = info.text == "/=" || info.text == "%=" || info.text == "s/=" || info.text == "s%=";
    switch (info.shape) {
        case Shape::AluImm:
            if (info.text == "=") return static_cast<RegMask>(out & ~dst);
            return out;
        case Shape::AluReg:
            if (info.text == "=") return static_cast<RegMask>((out & ~dst) | ((out & dst) ? src : 0));
            return static_cast<RegMask>(out | ((out & dst) || is_div ? src : 0));
        case Shape::MovSx: return static_cast<RegMask>((out & ~dst) | ((out & dst) ? src : 0));
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Ja:
        case Shape::Gotol: return out;
        case Shape::JmpImm: return static_cast<RegMask>(out | dst);
        case Shape::JmpReg: return static_cast<RegMask>(out | dst | src);
        case Shape::Call: {
            RegMask in = static_cast<RegMask>(out & ~kCallerSaved);
            auto proto = helpers::prototype(insn.imm);
            if (!proto) return static_cast<RegMask>(in | kArgRegs);
            for (int i = 0; i < 5; ++i) {
                auto t = proto->args[static_cast<std::size_t>(i)].type;
                if (t != helpers::ArgType::DontCare && t != helpers::ArgType::Anything)
                    in = static_cast<RegMask>(in | reg_bit(static_cast<unsigned>(i + 1)));
            }
            return in;
        }
        case Shape::CallLocal:
        case Shape::CallKfunc:
        case Shape::Callx: return static_cast<RegMask>((out & ~kCallerSaved) | reg_effect(insn).use);
        case Shape::Exit: return (in_main && !exit_value_checked) ? RegMask{0} : reg_bit(0);
        case Shape::Lddw: return static_cast<RegMask>(out & ~dst);
        case Shape::LdAbs: return static_cast<RegMask>((out & ~kCallerSaved) | reg_bit(6));
        case Shape::LdInd: return static_cast<RegMask>((out & ~kCallerSaved) | reg_bit(6) | src);
        case Shape::Ldx:
        case Shape::LdxSx: return static_cast<RegMask>((out & ~dst) | src);
        case Shape::St: return static_cast<RegMask>(out | dst);
        case Shape::Stx: return static_cast<RegMask>(out | dst | src);
        case Shape::Atomic: {
            // The fetched value is unknown whatever was stored: it carries no relevance backwards.
            RegMask def = reg_effect(insn).def;
            return static_cast<RegMask>((out & ~def) | dst | src | (info.text == "cmpxchg" ? reg_bit(0) : 0));
        }
    }
    return out;
}

}  // namespace

void compute_relevance(std::span<const isa::Instruction> insns, Cfg& cfg, bool exit_value_checked) {
    const std::size_t n = insns.size();
    cfg.relevant_in.assign(n, 0);
    std::deque<std::uint32_t> work;
    std::vector<bool> queued(n, true);
    // Every slot once, from the end (successors mostly first), then whatever changes.
    for (std::size_t i = n; i-- > 0;) work.push_back(static_cast<std::uint32_t>(i));
    // Predecessors, to requeue.
    std::vector<std::vector<std::uint32_t>> preds(n);
    for (std::size_t i = 0; i < n; ++i)
        for (auto t : cfg.successors[i]) preds[t].push_back(static_cast<std::uint32_t>(i));
    while (!work.empty()) {
        std::uint32_t pc = work.front();
        work.pop_front();
        queued[pc] = false;
        const auto& insn = insns[pc];
        if (insn.is_lddw_tail) continue;
        RegMask out = 0;
        for (auto t : cfg.successors[pc]) out = static_cast<RegMask>(out | cfg.relevant_in[t]);
        RegMask in = transfer(insn, out, cfg.function_of[pc] == 0, exit_value_checked);
        in = static_cast<RegMask>(in & cfg.live_in[pc] & ~kFramePointerBit);
        if (in == cfg.relevant_in[pc]) continue;
        cfg.relevant_in[pc] = static_cast<RegMask>(cfg.relevant_in[pc] | in);
        for (auto p : preds[pc])
            if (!queued[p]) {
                queued[p] = true;
                work.push_back(p);
            }
    }
}

}  // namespace xbpf::verifier
