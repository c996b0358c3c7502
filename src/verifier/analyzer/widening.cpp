// Loop summarisation: what xbpf does at a loop head once the kernel-style walk is blowing up (the loop was followed
// many times, a good part of the instruction budget is gone, and the head still sees new states).
//
// Widening. The path's state S is joined with the state A the same path had at this head one or more iterations
// earlier (its nearest ancestor checkpoint here), and every scalar bound that grew jumps to the next constant the
// function compares against (then to the type's limit): W = A widen S. W describes every concrete state S does, so
// exploring from W instead of S is sound for safety; bounds the loop's exit test needs are re-derived by branch
// refinement after the head. W is stored as a checkpoint marked widened; further arrivals that W does not include
// are widened again (thresholds and type limits make every chain of widenings finite).
//
// Termination. A path that comes back to an unfinished widened checkpoint W with a state W includes ends there (a
// cycle in the proof, which the kernel never allows: it only prunes against finished states). That is sound only if
// no concrete execution goes around this cycle forever, so each such loop has a counter: a register or 8-byte stack
// spill of the innermost frame, chosen at the first widening as the location that changed by a constant between A
// and S. Leaving W, the counter carries a ghost tag naming W with delta 0 (RegState::ghost); moves, spills, fills
// and additions of bounded scalars keep the tag and add to the delta range, every other write drops it, and pruning
// requires a stored state's ghost claims to hold in the current state. A path may end at W only if its counter still
// has W's tag with a delta range that excludes 0 and has the same sign on every way around, and the addition
// cannot have wrapped (unsigned or signed, the same interpretation each time): the counter then moves strictly
// monotonically, within W's bounds, so the loop runs at most span / step + 1 times; more than kMaxLoops (the
// kernel's BPF_MAX_LOOPS, bpf_loop's limit) is refused. A loop whose states stop growing without such a proof is
// rejected with the reason ("loop at insn N is not proven to terminate").
//
// Fallback (verify() in analyzer.cpp): a rejection after widening is checked by the kernel-style walk alone, whose
// verdict wins unless it runs out of instructions too; so summarising never turns an accepted program into a
// rejected one.
//
// Why pruning against other checkpoints stays sound: every concrete execution maps to a walk over the explored
// states; edges to finished checkpoints lead to states completed earlier, so an endless execution must take cycle
// edges endlessly; take the latest-completed widened checkpoint W it returns to infinitely often: between two
// returns it stays in W's subtree (anything outside W's subtree that could lead back to W would have W as an
// ancestor), where the ghost relation holds (pruning only between states with the same relation), so each return
// moves W's counter strictly in one direction within W's bounds: contradiction.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "verifier/analyzer/analyzer.hpp"
#include "verifier/cfg/liveness.hpp"

namespace xbpf::verifier {

namespace {

using isa::Op;
using isa::Shape;

/// Visits of a loop head and share of the instruction budget spent before a loop is summarised: below these the
/// walk is the kernel's, so ordinary programs keep the kernel's verdicts, messages and processed-insn counts.
constexpr std::uint32_t kWidenMinVisits = 64;
constexpr std::uint64_t kWidenBudgetDivisor = 32;
/// The most iterations a summarised loop may run (BPF_MAX_LOOPS, the kernel's limit for bpf_loop).
constexpr std::uint64_t kMaxLoops = std::uint64_t{1} << 23;

RegState* counter_of(State& st, LoopCounter c) {
    auto& frame = st.cur();
    if (c.reg >= 0) {
        auto& r = frame.regs[static_cast<std::size_t>(c.reg)];
        return r.kind == RegKind::Scalar ? &r : nullptr;
    }
    if (c.slot >= 0 && static_cast<std::size_t>(c.slot) < frame.stack.size()) {
        auto& s = frame.stack[static_cast<std::size_t>(c.slot)];
        if (s.is_spill() && s.spill_size() == 8 && s.spilled.kind == RegKind::Scalar) return &s.spilled;
    }
    return nullptr;
}

const RegState* counter_of(const State& st, LoopCounter c) { return counter_of(const_cast<State&>(st), c); }

std::string counter_name(LoopCounter c) {
    return c.reg >= 0 ? fmt::format("r{}", c.reg) : fmt::format("the stack slot at r10{}", -8 * (c.slot + 1));
}

void clear_ghost(RegState& r) {
    r.ghost = 0;
    r.ghost_lo = 0;
    r.ghost_hi = 0;
}

/// Consistent renaming of (old id, cur id) pairs to fresh ids in a joined state.
class IdJoin {
  public:
    explicit IdJoin(std::uint32_t& gen) : gen_(gen) {}
    /// The joined id, or nullopt when one side is linked and the other is not (`need`: pointers, whose ids carry
    /// null checks and packet ranges, cannot simply drop a link).
    std::optional<std::uint32_t> map(std::uint32_t o, std::uint32_t c, bool pointer) {
        if (o == 0 || c == 0) {
            if (pointer && (o == 0) != (c == 0)) return std::nullopt;
            return 0;
        }
        for (const auto& [po, pc, id] : pairs_)
            if (po == o && pc == c) return id;
        pairs_.emplace_back(o, c, ++gen_);
        return gen_;
    }

  private:
    std::uint32_t& gen_;
    std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>> pairs_;
};

struct Widener {
    const std::vector<std::uint64_t>& unsigned_t;
    std::vector<std::int64_t> signed_t;
    IdJoin ids;

    std::uint64_t above(std::uint64_t x) const {
        auto it = std::lower_bound(unsigned_t.begin(), unsigned_t.end(), x);
        return it == unsigned_t.end() ? std::numeric_limits<std::uint64_t>::max() : *it;
    }
    std::uint64_t below(std::uint64_t x) const {
        auto it = std::upper_bound(unsigned_t.begin(), unsigned_t.end(), x);
        return it == unsigned_t.begin() ? 0 : *std::prev(it);
    }
    std::int64_t sabove(std::int64_t x) const {
        auto it = std::lower_bound(signed_t.begin(), signed_t.end(), x);
        return it == signed_t.end() ? std::numeric_limits<std::int64_t>::max() : *it;
    }
    std::int64_t sbelow(std::int64_t x) const {
        auto it = std::upper_bound(signed_t.begin(), signed_t.end(), x);
        return it == signed_t.begin() ? std::numeric_limits<std::int64_t>::min() : *std::prev(it);
    }

    /// o widen c: includes both; bounds that grew go to the next threshold.
    Scalar scalar(const Scalar& o, const Scalar& c) const {
        if (o.includes(c)) return o;
        Scalar j = o.join(c);
        Scalar w = Scalar::unknown();
        w.umin = c.umin < o.umin ? below(c.umin) : j.umin;
        w.umax = c.umax > o.umax ? above(c.umax) : j.umax;
        w.smin = c.smin < o.smin ? sbelow(c.smin) : j.smin;
        w.smax = c.smax > o.smax ? sabove(c.smax) : j.smax;
        if (w.umin == j.umin && w.umax == j.umax && w.smin == j.smin && w.smax == j.smax) return j;
        w.sync();
        return w;
    }

    std::optional<RegState> reg(const RegState& o, const RegState& c, bool live) {
        if (!live) return RegState{};
        if (o.kind == RegKind::NotInit && c.kind == RegKind::NotInit) return RegState{};
        if (o.kind != c.kind || o.maybe_null != c.maybe_null || o.rdonly != c.rdonly || o.off != c.off ||
            o.aux != c.aux || o.ref_obj_id != c.ref_obj_id)
            return std::nullopt;
        RegState r = c;
        switch (c.kind) {
            case RegKind::NotInit: return r;
            case RegKind::Scalar: {
                auto id = ids.map(o.id, c.id, false);
                r.var = scalar(o.var, c.var);
                r.id = *id;
                if (o.ghost == c.ghost && c.ghost != 0) {
                    r.ghost_lo = std::min(o.ghost_lo, c.ghost_lo);
                    r.ghost_hi = std::max(o.ghost_hi, c.ghost_hi);
                }
                return r;
            }
            case RegKind::MapValue:
            case RegKind::MapKey:
            case RegKind::Mem:
            case RegKind::BtfPtr:
            case RegKind::Packet:
            case RegKind::PacketMeta: {
                if (c.kind == RegKind::Mem && o.mem_size != c.mem_size) return std::nullopt;
                auto id = ids.map(o.id, c.id, true);
                if (!id) return std::nullopt;
                r.var = scalar(o.var, c.var);
                r.id = *id;
                r.mem_size = std::min(o.mem_size, c.mem_size);
                clear_ghost(r);
                return r;
            }
            case RegKind::Ctx:
            case RegKind::Stack:
            case RegKind::MapPtr:
            case RegKind::PacketEnd:
            case RegKind::Func: {
                if (o.var != c.var || o.mem_size != c.mem_size) return std::nullopt;
                auto id = ids.map(o.id, c.id, true);
                if (!id) return std::nullopt;
                r.id = *id;
                return r;
            }
        }
        return std::nullopt;
    }

    std::optional<StackSlot> slot(const StackSlot& o, const StackSlot& c) {
        if (o.is_spill() && c.is_spill() && o.spill_size() == c.spill_size() && o.type == c.type) {
            auto r = reg(o.spilled, c.spilled, true);
            if (r) {
                StackSlot s = c;
                s.spilled = *r;
                return s;
            }
        }
        // Pointer spills must agree; scalar data of any kind becomes Misc; uninitialised wins.
        if ((o.is_spill() && o.spilled.kind != RegKind::Scalar) || (c.is_spill() && c.spilled.kind != RegKind::Scalar))
            return std::nullopt;
        StackSlot s;
        for (std::size_t b = 0; b < 8; ++b) {
            SlotType ot = o.type[b] == SlotType::Spill ? SlotType::Misc : o.type[b];
            SlotType ct = c.type[b] == SlotType::Spill ? SlotType::Misc : c.type[b];
            if (ot == SlotType::Invalid || ct == SlotType::Invalid)
                s.type[b] = SlotType::Invalid;
            else if (ot == SlotType::Zero && ct == SlotType::Zero)
                s.type[b] = SlotType::Zero;
            else
                s.type[b] = SlotType::Misc;
        }
        return s;
    }
};

}  // namespace

const std::vector<std::uint64_t>& Analyzer::thresholds(std::uint32_t function) {
    if (thresholds_.size() != cfg_.functions.size()) thresholds_.resize(cfg_.functions.size());
    auto& t = thresholds_[function];
    if (!t.empty()) return t;
    const auto& f = cfg_.functions[function];
    auto add = [&](std::uint64_t c) {
        t.push_back(c - 1);
        t.push_back(c);
        t.push_back(c + 1);
    };
    add(0);
    for (std::size_t pc = f.start; pc < f.end; ++pc) {
        const auto& insn = insns_[pc];
        if (insn.is_lddw_tail) continue;
        const auto shape = isa::info(insn.op).shape;
        const bool is32 = isa::is_32bit(insn.op);
        if (shape == Shape::JmpImm || (shape == Shape::AluImm && isa::info(insn.op).text == "=")) {
            add(is32 ? static_cast<std::uint32_t>(insn.imm)
                     : static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)));
            if (is32) add(static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)));
        } else if (shape == Shape::Lddw && insn.src == 0) {
            add(insn.imm64);
        }
    }
    std::sort(t.begin(), t.end());
    t.erase(std::unique(t.begin(), t.end()), t.end());
    return t;
}

bool Analyzer::widening_armed(std::uint32_t pc) const {
    return widening_ && cfg_.loop_head[pc] && visits_[pc] >= kWidenMinVisits &&
           report_.insns_processed >= options_.insn_limit / kWidenBudgetDivisor;
}

std::expected<bool, Failure> Analyzer::summarise_loop(Path& path) {
    const std::uint32_t pc = path.state.pc;
    if (!widening_armed(pc)) return false;
    if (loop_counter_.size() != insns_.size()) loop_counter_.assign(insns_.size(), LoopCounter{});
    LoopCounter& lc = loop_counter_[pc];
    const bool privileged = options_.privileged;

    // 1. Back around a widened loop: end the path at the widened state it came from, if the counter moved.
    std::string why_not;
    for (Checkpoint* cp : explored_[pc]) {
        if (cp->ghost == 0 || cp->branches == 0 || !lc.valid()) continue;
        const RegState* v = counter_of(path.state, lc);
        const RegState* w = counter_of(cp->state, lc);
        if (!v || !w || v->ghost != cp->ghost) continue;
        charge_summary_work(1);  // the comparison is summarisation work: charged to the budget
        if (!state_includes(cp->state, path.state, cfg_, false, privileged)) continue;
        // The counter itself must be within W's: state_includes skips scalars no later branch or access reads
        // (relevance), and a counter the exit test does not read is exactly such a scalar; the bound argument below
        // needs it inside W's range (open finding widened-loop-termination: r4 += 1 in a loop that exits on r0).
        if (!w->var.includes(v->var)) continue;
        const std::int64_t lo = v->ghost_lo, hi = v->ghost_hi;
        const int dir = lo >= 1 ? 1 : hi <= -1 ? -1 : 0;
        const std::string name = counter_name(lc);
        if (dir == 0) {
            why_not = v->ghost_lo == 0 && v->ghost_hi == 0
                          ? fmt::format("{} is the same as at the previous iteration on some way around it", name)
                          : fmt::format("{} changes by an amount in [{}, {}] around it, which may be 0", name,
                                        v->ghost_lo, v->ghost_hi);
        } else if (cp->direction != 0 && dir != (cp->direction > 0 ? 1 : -1)) {
            why_not = fmt::format("{} goes up on some ways around it and down on others", name);
        } else {
            // Strict monotonicity: the addition of the delta cannot have wrapped, as unsigned or as signed.
            const std::uint64_t step_max = static_cast<std::uint64_t>(dir > 0 ? hi : -lo);
            const std::uint64_t step_min = static_cast<std::uint64_t>(dir > 0 ? lo : -hi);
            const bool no_wrap_u =
                dir > 0 ? v->var.umin >= step_max : v->var.umax <= std::numeric_limits<std::uint64_t>::max() - step_max;
            const bool no_wrap_s =
                dir > 0 ? v->var.smin >= std::numeric_limits<std::int64_t>::min() + static_cast<std::int64_t>(step_max)
                        : v->var.smax <= std::numeric_limits<std::int64_t>::max() - static_cast<std::int64_t>(step_max);
            // The interpretation fixed by the first return (cp->direction = ±1 unsigned, ±2 signed).
            int measure = std::abs(cp->direction);
            if (measure == 0) measure = no_wrap_u ? 1 : 2;
            const bool no_wrap = measure == 1 ? no_wrap_u : no_wrap_s;
            const std::uint64_t span =
                measure == 1 ? w->var.umax - w->var.umin
                             : static_cast<std::uint64_t>(w->var.smax) - static_cast<std::uint64_t>(w->var.smin);
            const std::uint64_t iterations = span / step_min + 1;
            if (!no_wrap) {
                why_not = fmt::format("{} may wrap around ({} at the loop head)", name, w->var.to_string());
            } else if (iterations > kMaxLoops || iterations == 0) {
                return std::unexpected(Failure{
                    fmt::format("loop at insn {} may run {} times, more than {}", pc, iterations, kMaxLoops),
                    fmt::format("the loop at insn {}{} is bounded by its counter {} ({} at the loop head, moving by "
                                "at least {} each time), but xbpf summarises loops of at most {} iterations (the "
                                "kernel's limit for bpf_loop)",
                                pc, line_text(pc), name, w->var.to_string(), step_min, kMaxLoops),
                    {}});
            } else {
                cp->direction = dir * measure;
                ++cp->hits;
                ++report_.states_pruned;
                return true;
            }
        }
        return std::unexpected(Failure{
            fmt::format("loop at insn {} is not proven to terminate", pc),
            fmt::format("the loop at insn {}{} was summarised (its states stopped growing), but the verifier cannot "
                        "prove it ends: {}; count with a register or stack slot that moves by a nonzero constant "
                        "towards a bound on every way around the loop, or use bpf_loop",
                        pc, line_text(pc), why_not),
            {}});
    }

    // 2. Widen with the state this path had at this head before.
    // Did the path just come around the loop (rather than enter it from outside, e.g. from an enclosing loop)?
    // Only such paths are widened: an entry keeps its exact state, so an enclosing loop's counter stays exact
    // through the inner loop's summary (and can be chosen as the enclosing loop's counter).
    if (!cfg_.is_back_edge(path.prev_pc, pc)) return false;
    Checkpoint* anc = nullptr;
    std::uint64_t walked = 0;
    for (Checkpoint* cp = path.parent; cp != nullptr; cp = cp->parent, ++walked)
        if (cp->state.pc == pc && cp->state.frames.size() == path.state.frames.size()) {
            anc = cp;
            break;
        }
    charge_summary_work(walked);  // the walk up the path's checkpoints is summarisation work too
    if (anc == nullptr) return false;
    const State& a = anc->state;
    State& c = path.state;
    if (!lc.valid()) {
        // Choose the counter on a way back around the loop (the last jump goes from inside it to the head): the
        // location, constant in both states, that moved least (relevant registers first, then spill slots).
        std::uint64_t best = 0;
        const RegMask relevant = pc < cfg_.relevant_in.size() ? cfg_.relevant_in[pc] : RegMask{0};
        const RegMask live = pc < cfg_.live_in.size() ? cfg_.live_in[pc] : kAllRegs;
        const std::uint64_t relevant_slots = pc < cfg_.relevant_stack_in.size() ? cfg_.relevant_stack_in[pc] : ~0ull;
        auto consider = [&](LoopCounter cand) {
            const RegState* so = counter_of(a, cand);
            const RegState* sc = counter_of(c, cand);
            if (!so || !sc || !so->is_const() || !sc->is_const() || so->var.value() == sc->var.value()) return;
            std::uint64_t d = sc->var.value() - so->var.value();
            d = std::min(d, 0 - d);
            if (!lc.valid() || d < best) {
                lc = cand;
                best = d;
            }
        };
        // Relevant registers, then relevant slots, then other live registers, then other slots.
        for (int pass = 0; pass < 4 && !lc.valid(); ++pass) {
            const bool want_relevant = pass < 2;
            if (pass % 2 == 0) {
                for (int r = 0; r < 10; ++r) {
                    const RegMask bit = reg_bit(static_cast<unsigned>(r));
                    if ((live & bit) && ((relevant & bit) != 0) == want_relevant) consider(LoopCounter{r, -1});
                }
            } else {
                const std::size_t n = std::min(a.cur().stack.size(), c.cur().stack.size());
                for (std::size_t sl = 0; sl < n; ++sl) {
                    const bool rel = sl >= 64 || (relevant_slots >> sl & 1) != 0;
                    if (rel == want_relevant) consider(LoopCounter{-1, static_cast<int>(sl)});
                }
            }
        }
        // No constant moved: a relevant location whose range moved (a counter stepping by a bounded amount).
        for (int r = 0; r < 10 && !lc.valid(); ++r) {
            const RegMask bit = reg_bit(static_cast<unsigned>(r));
            const auto& ro = a.cur().regs[static_cast<std::size_t>(r)];
            const auto& rc = c.cur().regs[static_cast<std::size_t>(r)];
            if ((live & relevant & bit) && ro.kind == RegKind::Scalar && rc.kind == RegKind::Scalar && ro.var != rc.var)
                lc = LoopCounter{r, -1};
        }
        const std::size_t slots = std::min(a.cur().stack.size(), c.cur().stack.size());
        for (std::size_t sl = 0; sl < slots && sl < 64 && !lc.valid(); ++sl) {
            LoopCounter cand{-1, static_cast<int>(sl)};
            const RegState* so = counter_of(a, cand);
            const RegState* sc = counter_of(c, cand);
            if ((relevant_slots >> sl & 1) && so && sc && so->var != sc->var) lc = cand;
        }
        if (!lc.valid()) return false;
    }
    if (!counter_of(c, lc) || !counter_of(a, lc)) return false;
    if (a.frames.size() != c.frames.size() || a.refs.size() != c.refs.size() || a.active_lock != c.active_lock)
        return false;
    for (std::size_t i = 0; i < a.refs.size(); ++i)
        if (a.refs[i].id != c.refs[i].id) return false;

    Widener wid{thresholds(cfg_.function_of[pc]), {}, IdJoin(id_gen_)};
    for (auto u : wid.unsigned_t) wid.signed_t.push_back(static_cast<std::int64_t>(u));
    std::sort(wid.signed_t.begin(), wid.signed_t.end());
    State w = c;
    for (std::size_t f = 0; f < a.frames.size(); ++f) {
        const FrameState& fo = a.frames[f];
        const FrameState& fc = c.frames[f];
        if (fo.function != fc.function || fo.callsite != fc.callsite || fo.is_callback != fc.is_callback ||
            fo.callback_helper != fc.callback_helper)
            return false;
        const std::size_t at = f + 1 == a.frames.size() ? pc : a.frames[f + 1].callsite + 1;
        const RegMask live = at < cfg_.live_in.size() ? cfg_.live_in[at] : kAllRegs;
        FrameState& fw = w.frames[f];
        for (std::size_t r = 0; r < fw.regs.size(); ++r) {
            auto reg = wid.reg(fo.regs[r], fc.regs[r], (live & (1u << r)) != 0);
            if (!reg) return false;
            fw.regs[r] = *reg;
        }
        fw.stack.resize(std::max(fo.stack.size(), fc.stack.size()));
        static const StackSlot kEmpty{};
        for (std::size_t s = 0; s < fw.stack.size(); ++s) {
            auto slot =
                wid.slot(s < fo.stack.size() ? fo.stack[s] : kEmpty, s < fc.stack.size() ? fc.stack[s] : kEmpty);
            if (!slot) return false;
            fw.stack[s] = *slot;
        }
    }
    RegState* wc = counter_of(w, lc);
    if (!wc) return false;
    clear_ghost(*wc);
    const RegState* ac = counter_of(anc->state, lc);
    // (The counter is compared by itself: state_includes skips scalars nothing later reads, and a counter that only
    // counts is one; a counter that left the widened range has grown.)
    if (anc->ghost != 0 && state_includes(anc->state, w, cfg_, false, privileged) && ac != nullptr &&
        ac->var.includes(wc->var)) {
        // Nothing grew and the path is not a proven way around the widened loop: the walk would go on forever.
        return std::unexpected(Failure{
            fmt::format("loop at insn {} is not proven to terminate", pc),
            fmt::format("the loop at insn {}{} was summarised (its states stopped growing), but the verifier cannot "
                        "prove it ends: its counter {} does not change by a bounded amount (a constant, or a bounded "
                        "number) on every way around it; count with a register or stack slot that moves by a nonzero "
                        "constant towards a bound, or use bpf_loop",
                        pc, line_text(pc), counter_name(lc)),
            {}});
    }
    checkpoints_.push_back(Checkpoint{w, path.parent, 1});
    Checkpoint* cp = &checkpoints_.back();
    cp->ghost = ++ghost_gen_;
    explored_[pc].push_back(cp);
    path.parent = cp;
    ++report_.states_stored;
    ++live_checkpoints_;
    report_.peak_states = std::max(report_.peak_states, live_checkpoints_);
    jumps_at_checkpoint_ = jumps_processed_;
    insns_at_checkpoint_ = report_.insns_processed;
    path.state = std::move(w);
    RegState* counter = counter_of(path.state, lc);
    counter->ghost = cp->ghost;
    if (options_.log)
        report_.log +=
            fmt::format("widened loop at insn {}: counter {} = {}\n", pc, counter_name(lc), counter->var.to_string());
    return false;
}

void Analyzer::track_ghosts(State& st, std::size_t fi, const std::array<RegState, 11>& bregs,
                            const isa::Instruction& insn) {
    const auto& info = isa::info(insn.op);
    if (fi >= st.frames.size()) return;
    auto& regs = st.frames[fi].regs;
    auto clear_stack = [&](std::size_t frame) {
        if (frame >= st.frames.size()) return;
        for (auto& s : st.frames[frame].stack) clear_ghost(s.spilled);
    };
    switch (info.shape) {
        case Shape::AluImm:
        case Shape::AluReg: {
            RegState& d = regs[insn.dst];
            const RegState& bd = bregs[insn.dst];
            // 32-bit forms zero-extend: the same value (a move) or the same sum (an addition) as the 64-bit form
            // only when operands and result are known to fit in 32 bits (checked below, on the operands' bounds).
            const bool is32 = isa::is_32bit(insn.op);
            constexpr std::uint64_t kU32Max = 0xffffffffu;
            if (d.kind != RegKind::Scalar) {
                clear_ghost(d);
                break;
            }
            if (info.text == "=") {
                if (info.shape == Shape::AluImm || (is32 && bregs[insn.src].var.umax > kU32Max))
                    clear_ghost(d);
                else {
                    d.ghost = bregs[insn.src].ghost;
                    d.ghost_lo = bregs[insn.src].ghost_lo;
                    d.ghost_hi = bregs[insn.src].ghost_hi;
                }
                break;
            }
            if ((info.text != "+=" && info.text != "-=") || bd.ghost == 0) {
                clear_ghost(d);
                break;
            }
            std::int64_t lo = insn.imm, hi = insn.imm;
            if (info.shape == Shape::AluReg) {
                const RegState& s = bregs[insn.src];
                if (s.kind != RegKind::Scalar || (is32 && !s.var.is_const())) {
                    clear_ghost(d);
                    break;
                }
                lo = is32 ? static_cast<std::int32_t>(s.var.value()) : s.var.smin;
                hi = is32 ? static_cast<std::int32_t>(s.var.value()) : s.var.smax;
            }
            if (info.text == "-=") {
                if (lo == std::numeric_limits<std::int64_t>::min()) {
                    clear_ghost(d);
                    break;
                }
                std::swap(lo, hi);
                lo = -lo;
                hi = -hi;
            }
            if (is32) {
                // No 32-bit wrap: every dst value plus the added amount stays in [0, 2^32).
                const std::int64_t add = lo;  // lo == hi: a constant (already negated for -=)
                const bool fits =
                    bd.var.umax <= kU32Max && (add >= 0 ? bd.var.umax + static_cast<std::uint64_t>(add) <= kU32Max
                                                        : bd.var.umin >= static_cast<std::uint64_t>(-add));
                if (!fits) {
                    clear_ghost(d);
                    break;
                }
            }
            std::int32_t nlo = 0, nhi = 0;
            if (__builtin_add_overflow(bd.ghost_lo, lo, &nlo) || __builtin_add_overflow(bd.ghost_hi, hi, &nhi)) {
                clear_ghost(d);
                break;
            }
            d.ghost = bd.ghost;
            d.ghost_lo = nlo;
            d.ghost_hi = nhi;
            break;
        }
        case Shape::MovSx:
        case Shape::Neg:
        case Shape::Endian:
        case Shape::Lddw: clear_ghost(regs[insn.dst]); break;
        case Shape::Ldx:
        case Shape::LdxSx:
            // Only a full 8-byte fill of a spill keeps the spilled value (and its relation).
            if (info.shape == Shape::LdxSx || info.width != 8 || bregs[insn.src].kind != RegKind::Stack)
                clear_ghost(regs[insn.dst]);
            break;
        case Shape::St:
        case Shape::Stx:
        case Shape::Atomic: {
            const RegState& base = bregs[insn.dst];
            if (info.shape == Shape::Atomic) {
                const RegMask def = reg_effect(insn).def;
                for (unsigned r = 0; r < 11; ++r)
                    if (def & reg_bit(r)) clear_ghost(regs[r]);
            }
            // An 8-byte register spill at a known offset copies the register (and its relation); any other write
            // into a stack drops the relations of that frame's spills.
            const bool spill = info.shape == Shape::Stx && info.width == 8 && base.var.is_const();
            if (base.kind == RegKind::Stack && !spill) clear_stack(base.aux);
            break;
        }
        case Shape::Call:
        case Shape::LdAbs:
        case Shape::LdInd:
            for (unsigned r = 0; r <= 5; ++r) {
                clear_ghost(regs[r]);
                // A helper may write into a stack it is given.
                if (r >= 1 && bregs[r].kind == RegKind::Stack) clear_stack(bregs[r].aux);
            }
            break;
        case Shape::Exit:
            if (!st.frames.empty()) clear_ghost(st.cur().regs[0]);
            break;
        default: break;
    }
}

}  // namespace xbpf::verifier
