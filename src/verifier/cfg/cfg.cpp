// The control-flow graph and the kernel's structural checks that precede its path walk (kernel/bpf/verifier.c):
//   add_subprog_and_kfunc  function starts: slot 0, every `call pc+imm` target, every `lddw src=4` target
//   check_subprogs         no jump leaves its function; each function ends in `exit` or `goto`
//   check_cfg / visit_insn every slot reachable from slot 0 (through calls), back edges (bounded loops), prune points
// The checks run in that order and each reports the first offending slot, so a program with several faults gets
// the message the kernel would give.
#include "verifier/cfg/cfg.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "verifier/cfg/liveness.hpp"

namespace xbpf::verifier {
namespace {

using isa::Op;
using isa::Shape;

std::unexpected<Error> reject(std::size_t pc, std::string message) {
    return make_error(ErrorCode::kVerify, std::move(message), at_insn(pc));
}

Shape shape_of(const isa::Instruction& insn) { return isa::info(insn.op).shape; }

/// `lddw rX, func`: takes the address of a function (a callback); its target is pc + imm + 1 like a local call.
bool is_func_address(const isa::Instruction& insn) {
    return !insn.is_lddw_tail && insn.op == Op::Lddw && insn.src == isa::kPseudoFunc;
}

/// Jumps within a function (the kernel's check_subprogs range check covers these, not calls or exit).
bool is_jump(Shape s) { return s == Shape::Ja || s == Shape::Gotol || s == Shape::JmpImm || s == Shape::JmpReg; }

bool is_call(Shape s) {
    return s == Shape::Call || s == Shape::CallLocal || s == Shape::CallKfunc || s == Shape::Callx;
}

/// Target slot of a local call or function address (pc + imm + 1).
std::int64_t callee_of(const isa::Instruction& insn, std::size_t pc) {
    return static_cast<std::int64_t>(pc) + 1 + insn.imm;
}

constexpr std::uint8_t kStart = 1;
constexpr std::uint8_t kCalled = 2;
constexpr std::uint8_t kCallback = 4;

// add_subprog_and_kfunc: mark function starts. Checks what decode does not (lddw src=4 targets) and what it does
// (local-call targets), so build_cfg is safe on any Instruction vector.
Result<std::vector<std::uint8_t>> find_function_starts(std::span<const isa::Instruction> insns) {
    const std::size_t n = insns.size();
    std::vector<std::uint8_t> mark(n, 0);
    mark[0] = kStart;
    std::size_t count = 1;
    for (std::size_t pc = 0; pc < n; ++pc) {
        const isa::Instruction& insn = insns[pc];
        std::uint8_t kind = 0;
        if (insn.is_lddw_tail) continue;
        if (insn.op == Op::CallLocal)
            kind = kCalled;
        else if (is_func_address(insn))
            kind = kCallback;
        else
            continue;
        const std::int64_t t = callee_of(insn, pc);
        if (t < 0 || t >= static_cast<std::int64_t>(n)) return reject(pc, "call to invalid destination");
        const auto target = static_cast<std::size_t>(t);
        if (insns[target].is_lddw_tail) return reject(pc, fmt::format("call to insn {} is not a function start", t));
        if ((mark[target] & kStart) == 0) {
            if (++count > kMaxFunctions) return reject(pc, "too many subprograms");
            mark[target] |= kStart;
        }
        mark[target] |= kind;
    }
    return mark;
}

// check_subprogs: in slot order, jumps stay inside their function and each function's last slot is `exit` or an
// unconditional jump (`goto`/`gotol`; an Lddw tail there fails too, as in the kernel).
Result<void> check_functions(std::span<const isa::Instruction> insns, const Cfg& cfg) {
    for (std::size_t pc = 0; pc < insns.size(); ++pc) {
        const isa::Instruction& insn = insns[pc];
        const CfgFunction& f = cfg.functions[cfg.function_of[pc]];
        const Shape s = shape_of(insn);
        if (!insn.is_lddw_tail && s == Shape::Lddw && (pc + 1 >= insns.size() || !insns[pc + 1].is_lddw_tail))
            return reject(pc, "invalid bpf_ld_imm64 insn");
        if (!insn.is_lddw_tail && is_jump(s)) {
            const std::int64_t t = insn.target(pc);
            if (t < static_cast<std::int64_t>(f.start) || t >= static_cast<std::int64_t>(f.end))
                return reject(pc, fmt::format("jump out of range from insn {} to {}", pc, t));
            if (insns[static_cast<std::size_t>(t)].is_lddw_tail)
                return reject(pc, fmt::format("jump into the middle of ldimm64 insn {}", t - 1));
        }
        if (pc + 1 == f.end && (insn.is_lddw_tail || (s != Shape::Exit && s != Shape::Ja && s != Shape::Gotol)))
            return reject(pc, "last insn is not an exit or jmp");
    }
    return {};
}

// visit_insn's edges, within the function: fall-through first, then the branch (the kernel's DFS order).
void build_successors(std::span<const isa::Instruction> insns, Cfg& cfg) {
    const std::size_t n = insns.size();
    cfg.successors.assign(n, {});
    for (std::size_t pc = 0; pc < n; ++pc) {
        const isa::Instruction& insn = insns[pc];
        if (insn.is_lddw_tail) continue;
        const auto next = static_cast<std::uint32_t>(pc + 1);
        auto& out = cfg.successors[pc];
        switch (shape_of(insn)) {
            case Shape::Exit: break;
            case Shape::Ja:
            case Shape::Gotol: out = {static_cast<std::uint32_t>(insn.target(pc))}; break;
            case Shape::JmpImm:
            case Shape::JmpReg: {
                const auto t = static_cast<std::uint32_t>(insn.target(pc));
                if (t == next)
                    out = {next};
                else
                    out = {next, t};
                break;
            }
            case Shape::Lddw: out = {next + 1}; break;
            case Shape::AluImm:
            case Shape::AluReg:
            case Shape::Neg:
            case Shape::MovSx:
            case Shape::Endian:
            case Shape::Call:
            case Shape::CallLocal:
            case Shape::CallKfunc:
            case Shape::Callx:
            case Shape::LdAbs:
            case Shape::LdInd:
            case Shape::Ldx:
            case Shape::LdxSx:
            case Shape::St:
            case Shape::Stx:
            case Shape::Atomic: out = {next}; break;
        }
    }
}

// Iterative depth-first search from each function start over the function's own edges (calls do not enter the
// callee). Marks loop heads (targets of edges to a slot still on the stack) and returns the postorder; `state`
// ends 2 for every slot reached from its function's start.
std::vector<std::uint32_t> depth_first(Cfg& cfg, std::vector<std::uint8_t>& state) {
    const std::size_t n = cfg.successors.size();
    std::vector<std::uint32_t> postorder;
    postorder.reserve(n);
    std::vector<std::pair<std::uint32_t, std::uint32_t>> stack;  // slot, index of the next successor to try
    for (const CfgFunction& f : cfg.functions) {
        state[f.start] = 1;
        stack.emplace_back(static_cast<std::uint32_t>(f.start), 0);
        while (!stack.empty()) {
            const auto [v, i] = stack.back();
            const auto& succ = cfg.successors[v];
            if (i == succ.size()) {
                state[v] = 2;
                postorder.push_back(v);
                stack.pop_back();
                continue;
            }
            ++stack.back().second;
            const std::uint32_t w = succ[i];
            if (state[w] == 0) {
                state[w] = 1;
                stack.emplace_back(w, 0);
            } else if (state[w] == 1) {
                cfg.loop_head[w] = true;  // back edge v -> w
                cfg.back_edges.emplace_back(v, w);
            }
        }
    }
    return postorder;
}

// check_cfg's "unreachable insn": the kernel walks from slot 0 following calls into callees, so a slot is reached
// when its function's start reaches it and its function is reached (the entry, or named by a reached call or
// function address). Reports the lowest unreached slot that is not an Lddw tail.
Result<void> check_reachable(std::span<const isa::Instruction> insns, const Cfg& cfg,
                             const std::vector<std::uint8_t>& state) {
    std::vector<bool> reached(cfg.functions.size(), false);
    std::vector<std::uint32_t> work{0};
    reached[0] = true;
    while (!work.empty()) {
        const CfgFunction& f = cfg.functions[work.back()];
        work.pop_back();
        for (std::size_t pc = f.start; pc < f.end; ++pc) {
            const isa::Instruction& insn = insns[pc];
            if (state[pc] != 2 || insn.is_lddw_tail || (insn.op != Op::CallLocal && !is_func_address(insn))) continue;
            const std::uint32_t callee = cfg.function_of[static_cast<std::size_t>(callee_of(insn, pc))];
            if (!reached[callee]) {
                reached[callee] = true;
                work.push_back(callee);
            }
        }
    }
    for (std::size_t pc = 0; pc < insns.size(); ++pc)
        if (!insns[pc].is_lddw_tail && (state[pc] != 2 || !reached[cfg.function_of[pc]]))
            return reject(pc, fmt::format("unreachable insn {}", pc));
    return {};
}

// visit_insn's mark_prune_point calls, plus the header's wider set: the conditional jump itself (kernel), its
// fall-through and its target, the target of `goto`, every call site and the slot after it (kernel: after any
// call; the site itself for local calls and callback-taking helpers), `lddw src=4` and the slot after it (kernel),
// and every loop head (where a bounded loop's states must be compared to stop).
void mark_prune_points(std::span<const isa::Instruction> insns, Cfg& cfg) {
    const std::size_t n = insns.size();
    cfg.prune_point.assign(n, false);
    const auto mark = [&](std::int64_t slot) {
        if (slot >= 0 && static_cast<std::size_t>(slot) < n) cfg.prune_point[static_cast<std::size_t>(slot)] = true;
    };
    for (std::size_t pc = 0; pc < n; ++pc) {
        const isa::Instruction& insn = insns[pc];
        if (insn.is_lddw_tail) continue;
        const auto p = static_cast<std::int64_t>(pc);
        const Shape s = shape_of(insn);
        if (s == Shape::Ja || s == Shape::Gotol) {
            mark(insn.target(pc));
        } else if (s == Shape::JmpImm || s == Shape::JmpReg) {
            mark(p);
            mark(p + 1);
            mark(insn.target(pc));
        } else if (is_call(s)) {
            mark(p);
            mark(p + 1);
        } else if (is_func_address(insn)) {
            mark(p);
            mark(p + 2);
        }
        if (cfg.loop_head[pc]) mark(p);
    }
}

}  // namespace

bool Cfg::is_back_edge(std::uint32_t from, std::uint32_t to) const {
    return std::binary_search(back_edges.begin(), back_edges.end(), std::pair{from, to});
}

int Cfg::function_at(std::size_t slot) const {
    const auto it = std::lower_bound(functions.begin(), functions.end(), slot,
                                     [](const CfgFunction& f, std::size_t s) { return f.start < s; });
    if (it == functions.end() || it->start != slot) return -1;
    return static_cast<int>(it - functions.begin());
}

Result<Cfg> build_cfg(std::span<const isa::Instruction> insns) {
    const std::size_t n = insns.size();
    if (n == 0) return reject(0, "program is empty");
    if (n > UINT32_MAX) return reject(0, "program too large");

    auto starts = find_function_starts(insns);
    if (!starts) return std::unexpected(starts.error());

    Cfg cfg;
    cfg.function_of.resize(n);
    for (std::size_t pc = 0; pc < n; ++pc) {
        const std::uint8_t m = (*starts)[pc];
        if ((m & kStart) != 0) {
            if (!cfg.functions.empty()) cfg.functions.back().end = pc;
            cfg.functions.push_back({pc, n, (m & kCallback) != 0, (m & kCalled) != 0});
        }
        cfg.function_of[pc] = static_cast<std::uint32_t>(cfg.functions.size() - 1);
    }

    if (auto r = check_functions(insns, cfg); !r) return std::unexpected(r.error());

    build_successors(insns, cfg);
    cfg.loop_head.assign(n, false);
    std::vector<std::uint8_t> state(n, 0);
    const std::vector<std::uint32_t> postorder = depth_first(cfg, state);
    std::sort(cfg.back_edges.begin(), cfg.back_edges.end());
    if (auto r = check_reachable(insns, cfg, state); !r) return std::unexpected(r.error());

    mark_prune_points(insns, cfg);
    compute_liveness(insns, cfg, postorder);
    return cfg;
}

}  // namespace xbpf::verifier
