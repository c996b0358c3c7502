#include "verifier/analyzer/analyzer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "isa/disassembler.hpp"
#include "isa/helper_names.hpp"
#include "verifier/cfg/relevance.hpp"

namespace xbpf::verifier {

using isa::Op;
using isa::Shape;

Analyzer::Analyzer(std::span<const isa::Instruction> insns, const Cfg& cfg, const VerifyOptions& options,
                   VerifyReport& report, bool widening)
    : insns_(insns), cfg_(cfg), options_(options), report_(report), widening_(widening) {
    ctx_ = context_layout(options.type, options.attach);
    if (options.type == object::ProgramType::Tracing || options.type == object::ProgramType::Lsm) {
        kernel_btf_ = options.kernel_btf ? options.kernel_btf : vmlinux_btf();
        tracing_ = tracing_args(kernel_btf_, options.type, options.attach, options.attach_target);
    }
    maps_ = options.maps;
    inner_of_.assign(maps_.size(), ~0u);
    for (std::size_t i = 0; i < options.maps.size(); ++i) {
        if (options.maps[i].spec.inner) {
            inner_of_[i] = static_cast<std::uint32_t>(maps_.size());
            maps_.push_back(MapInfo{*options.maps[i].spec.inner, {}});
            inner_of_.push_back(~0u);
        }
    }
    explored_.resize(insns.size());
    visits_.assign(insns.size(), 0);
    stack_depth_.assign(cfg.functions.size(), 0);
    callback_site_.assign(insns.size(), 0);
    for (std::size_t pc = 0; pc < insns.size(); ++pc) {
        // Helper calls that run a callback are where its iterations converge: always a prune point.
        if (!insns[pc].is_lddw_tail && insns[pc].op == Op::Call && (insns[pc].imm == 181 || insns[pc].imm == 164))
            callback_site_[pc] = 1;
    }
    report_.facts.assign(insns.size(), InsnFacts{});
}

State Analyzer::initial_state() const {
    State st;
    FrameState frame;
    if (options_.type == object::ProgramType::Unspec) {
        // xbpf's raw memory programs (uBPF's convention): r1 = the memory, r2 = its size.
        frame.regs[1] = RegState::pointer(RegKind::Mem);
        frame.regs[1].mem_size = options_.raw_memory_size;
        frame.regs[2] = RegState::constant(options_.raw_memory_size);
    } else {
        frame.regs[1] = RegState::pointer(RegKind::Ctx);
    }
    frame.regs[10] = RegState::pointer(RegKind::Stack, 0);
    st.frames.push_back(std::move(frame));
    return st;
}

void Analyzer::run() {
    auto start = std::chrono::steady_clock::now();
    pending_.push_back(Path{initial_state(), nullptr, nullptr});
    while (!pending_.empty() && !failed_) {
        Path path = std::move(pending_.back());
        pending_.pop_back();
        if (options_.log) {
            report_.log += fmt::format("from {} to {}:", path.history ? path.history->from : 0, path.state.pc);
            for (int r = 0; r < 11; ++r) {
                const auto& reg = path.state.cur().regs[static_cast<std::size_t>(r)];
                if (reg.kind != RegKind::NotInit) report_.log += fmt::format(" R{}={}", r, reg.to_string());
            }
            report_.log += "\n";
        }
        while (!failed_) {
            auto more = step(path);
            if (!more) {
                fail(path, std::move(more.error()));
                break;
            }
            if (!*more) {
                end_path(path);
                break;
            }
        }
    }
    if (!failed_) {
        // Combined stack depth of every call chain (check_max_stack_depth): each frame rounded up to 16 bytes, as
        // the kernel's round_up_stack_depth does for JITed programs (xbpf JITs too; 32 is the interpreter's).
        std::vector<std::vector<std::uint32_t>> callees(cfg_.functions.size());
        for (std::size_t pc = 0; pc < insns_.size(); ++pc) {
            const auto& insn = insns_[pc];
            if (insn.is_lddw_tail) continue;
            bool is_call = insn.op == Op::CallLocal || (insn.op == Op::Lddw && insn.src == isa::kPseudoFunc);
            if (!is_call) continue;
            int f = cfg_.function_at(static_cast<std::size_t>(insn.target(pc)));
            if (f >= 0) callees[cfg_.function_of[pc]].push_back(static_cast<std::uint32_t>(f));
        }
        auto frame_size = [&](std::uint32_t f) { return (stack_depth_[f] + 15) / 16 * 16; };
        std::uint32_t worst = 0;
        std::vector<std::uint32_t> chain;
        std::vector<std::uint32_t> worst_chain;
        auto dfs = [&](auto&& self, std::uint32_t f, std::uint32_t depth) -> void {
            if (std::find(chain.begin(), chain.end(), f) != chain.end()) return;
            chain.push_back(f);
            depth += frame_size(f);
            if (depth > worst) {
                worst = depth;
                worst_chain = chain;
            }
            for (auto c : callees[f]) self(self, c, depth);
            chain.pop_back();
        };
        dfs(dfs, 0, 0);
        report_.max_stack_depth = worst;
        if (worst > isa::kStackSize) {
            Path dummy;
            dummy.state.pc = 0;
            dummy.state.pc = static_cast<std::uint32_t>(cfg_.functions[worst_chain.back()].start);
            fail(dummy,
                 Failure{fmt::format("combined stack size of {} calls is {}. Too large", worst_chain.size(), worst),
                         fmt::format("the deepest chain of calls uses {} bytes of stack; the limit is {} for "
                                     "all frames together",
                                     worst, isa::kStackSize),
                         {}});
        }
    }
    report_.accepted = !failed_;
    report_.time_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
    if (options_.log) {
        std::size_t max_states = 0;
        for (const auto& v : explored_) max_states = std::max(max_states, v.size());
        report_.log += fmt::format(
            "processed {} insns (limit {}) max_states_per_insn {} total_states {} "
            "peak_states {} pruned {}\n",
            report_.insns_processed, options_.insn_limit, max_states, report_.states_stored, report_.peak_states,
            report_.states_pruned);
    }
}

std::expected<bool, Failure> Analyzer::step(Path& path) {
    State& st = path.state;
    const std::uint32_t pc = st.pc;
    if (++report_.insns_processed > options_.insn_limit) {
        // Name the loop that ate the budget, when there is one.
        std::size_t hot = pc;
        for (std::size_t i = 0; i < visits_.size(); ++i)
            if (cfg_.loop_head[i] && visits_[i] > visits_[hot]) hot = i;
        std::string why = cfg_.loop_head[hot]
                              ? fmt::format(
                                    "the loop at insn {}{} was followed {} times without reaching a state seen before; "
                                    "bound it with a constant the verifier can see, or use bpf_loop",
                                    hot, line_text(static_cast<std::uint32_t>(hot)), visits_[hot])
                              : std::string("the program has too many paths to explore; reduce branching or split it");
        return std::unexpected(Failure{
            fmt::format("BPF program is too large. Processed {} insn", options_.insn_limit), std::move(why), {}});
    }
    if (cfg_.prune_point[pc] || callback_site_[pc]) {
        auto covered = visit_prune_point(path);
        if (!covered) return std::unexpected(std::move(covered.error()));
        if (*covered) return false;
    }
    ++visits_[pc];
    record_facts(st, pc);
    if (options_.log) log_insn(path, pc);
    const isa::Instruction& insn = insns_[pc];
    const auto shape = isa::info(insn.op).shape;
    if (ghost_gen_ != 0) {
        // A loop was summarised: keep the counters' ghost relations true (widening.cpp).
        const std::size_t frame = st.frames.size() - 1;
        const auto before = st.cur().regs;
        auto more = execute(path, insn, pc, shape);
        if (more) track_ghosts(path.state, frame, before, insn);
        path.prev_pc = pc;
        return more;
    }
    path.prev_pc = pc;
    return execute(path, insn, pc, shape);
}

std::expected<bool, Failure> Analyzer::execute(Path& path, const isa::Instruction& insn, std::uint32_t pc,
                                               isa::Shape shape) {
    State& st = path.state;
    Status ok;
    switch (shape) {
        case Shape::AluImm:
        case Shape::AluReg:
        case Shape::Neg:
        case Shape::MovSx:
        case Shape::Endian: ok = check_alu(st, insn, pc); break;
        case Shape::Ja:
        case Shape::Gotol: {
            auto target = static_cast<std::uint32_t>(insn.target(pc));
            record_jump(path, pc, target);
            st.pc = target;
            return true;
        }
        case Shape::JmpImm:
        case Shape::JmpReg: return check_branch(path, insn, pc);
        case Shape::Call: return check_helper_call(path, insn, pc);
        case Shape::CallLocal: {
            auto called = check_local_call(path, insn, pc);
            if (!called) return std::unexpected(std::move(called.error()));
            return true;
        }
        case Shape::CallKfunc:
            return std::unexpected(Failure{"calling kernel functions is not supported",
                                           "kfunc calls (call by BTF id) need kernel BTF; xbpf does not provide any "
                                           "kernel function",
                                           {}});
        case Shape::Callx:
            return std::unexpected(Failure{"BPF_CALLX is not supported",
                                           "indirect calls through a register are not allowed (as in the kernel)",
                                           {}});
        case Shape::Exit: return check_exit(path, pc);
        case Shape::Lddw:
            ok = check_lddw(st, insn, pc);
            if (ok) st.pc = pc + 2;
            return ok ? std::expected<bool, Failure>(true) : std::unexpected(std::move(ok.error()));
        case Shape::LdAbs:
        case Shape::LdInd: ok = check_ld_abs(st, insn, pc); break;
        case Shape::Ldx:
        case Shape::LdxSx: ok = check_load(st, insn, pc); break;
        case Shape::St:
        case Shape::Stx: ok = check_store(st, insn, pc); break;
        case Shape::Atomic: ok = check_atomic(st, insn, pc); break;
    }
    if (!ok) return std::unexpected(std::move(ok.error()));
    st.pc = pc + 1;
    return true;
}

std::expected<bool, Failure> Analyzer::visit_prune_point(Path& path) {
    const std::uint32_t pc = path.state.pc;
    auto& here = explored_[pc];
    const bool privileged = options_.privileged;
    // Like the kernel, store a new state only every few jumps and instructions (states at every prune point cost
    // memory and comparisons and rarely help), except where a callback's iterations must converge.
    const bool add_new_state =
        callback_site_[pc] || widening_armed(pc) ||
        (jumps_processed_ - jumps_at_checkpoint_ >= 2 && report_.insns_processed - insns_at_checkpoint_ >= 8);
    for (std::size_t i = 0; i < here.size();) {
        Checkpoint* cp = here[i];
        bool covered = false;
        if (cp->branches > 0) {
            // Unfinished: its proof is not complete, so it cannot cover this path, except at a callback call site
            // (the callback's iterations converge: the state entering it again adds nothing new).
            covered = callback_site_[pc] && state_includes(cp->state, path.state, cfg_, false, privileged);
            // Equal states in different iterations of a callback are progress, not a loop (callback_unroll_depth).
            if (!covered && cp->state.callback_iterations == path.state.callback_iterations &&
                state_includes(cp->state, path.state, cfg_, true, privileged)) {
                return std::unexpected(
                    Failure{fmt::format("infinite loop detected at insn {}", pc),
                            fmt::format("the program comes back to insn {}{} with nothing the verifier tracks "
                                        "having changed, so it cannot prove that this loop ends (bound it with a "
                                        "counter compared to a constant, or use bpf_loop)",
                                        pc, line_text(pc)),
                            {}});
            }
        } else {
            covered = state_includes(cp->state, path.state, cfg_, false, privileged);
        }
        // Widened checkpoints are never dropped (below): comparisons with them are charged to the budget, so the
        // work per insn of the budget stays bounded however many of them a loop head collects.
        if (cp->ghost != 0) charge_summary_work(1);
        if (covered) {
            ++cp->hits;
            ++report_.states_pruned;
            return true;
        }
        if (cp->ghost != 0) {  // widened states stay: paths come back to them (widening.cpp)
            ++i;
            continue;
        }
        // A state that keeps missing is unlikely to help: drop it from the list (the kernel's miss_cnt heuristic;
        // it stays alive for its children's parent links).
        if (add_new_state) ++cp->misses;
        const std::uint32_t n = callback_site_[pc] && cp->branches > 0 ? 64 : 3;
        if (cp->misses > cp->hits * n + n) {
            here[i] = here.back();
            here.pop_back();
            --live_checkpoints_;
            continue;
        }
        ++i;
    }
    if (cfg_.loop_head[pc]) {
        // A loop the ordinary walk cannot finish: summarise it (widening.cpp).
        const std::size_t stored = checkpoints_.size();
        auto summarised = summarise_loop(path);
        if (!summarised || *summarised || checkpoints_.size() != stored) return summarised;
    }
    if (!add_new_state) return false;
    jumps_at_checkpoint_ = jumps_processed_;
    insns_at_checkpoint_ = report_.insns_processed;
    checkpoints_.push_back(Checkpoint{path.state, path.parent, 1});
    Checkpoint* cp = &checkpoints_.back();
    here.push_back(cp);
    path.parent = cp;
    ++report_.states_stored;
    ++live_checkpoints_;
    report_.peak_states = std::max(report_.peak_states, live_checkpoints_);
    return false;
}

void Analyzer::end_path(Path& path) {
    for (Checkpoint* cp = path.parent; cp != nullptr; cp = cp->parent) {
        if (--cp->branches > 0) break;
    }
}

void Analyzer::fork(const Path& from, State state, std::uint32_t from_pc) {
    Path p{std::move(state), from.parent, from.history, from_pc};
    if (p.parent) ++p.parent->branches;
    record_jump(p, from_pc, p.state.pc);
    pending_.push_back(std::move(p));
}

void Analyzer::record_jump(Path& path, std::uint32_t from, std::uint32_t to) {
    ++jumps_processed_;
    if (to == from + 1) return;
    const std::uint32_t depth = path.history ? path.history->depth + 1 : 1;
    if (depth > kMaxPathJumps) return;
    path.history = std::make_shared<const PathNode>(PathNode{from, to, depth, path.history});
}

void Analyzer::record_facts(const State& st, std::uint32_t pc) {
    InsnFacts& f = report_.facts[pc];
    const isa::Instruction& insn = insns_[pc];
    const auto& regs = st.cur().regs;
    const bool first = !f.reached;
    f.reached = true;
    const auto& text = isa::info(insn.op).text;
    const bool is_div = text == "/=" || text == "%=" || text == "s/=" || text == "s%=";
    if (is_div && isa::info(insn.op).shape == Shape::AluReg) {
        const RegState& d = regs[insn.src];
        bool is32 = isa::is_32bit(insn.op);
        bool nonzero = d.kind == RegKind::Scalar && (is32 ? (d.var.u32_min > 0) : (d.var.umin > 0));
        bool not_m1 = d.kind == RegKind::Scalar &&
                      (is32 ? !(d.var.s32_min <= -1 && d.var.s32_max >= -1) : !(d.var.smin <= -1 && d.var.smax >= -1));
        f.divisor_nonzero = first ? nonzero : (f.divisor_nonzero && nonzero);
        f.divisor_not_minus1 = first ? not_m1 : (f.divisor_not_minus1 && not_m1);
    } else if (is_div) {
        f.divisor_nonzero = insn.imm != 0;
        f.divisor_not_minus1 = insn.imm != -1;
    }
    const auto shape = isa::info(insn.op).shape;
    int base = -1;
    if (shape == Shape::Ldx || shape == Shape::LdxSx) base = insn.src;
    if (shape == Shape::St || shape == Shape::Stx || shape == Shape::Atomic) base = insn.dst;
    if (base >= 0) {
        auto kind = static_cast<std::uint8_t>(regs[static_cast<std::size_t>(base)].kind);
        if (regs[static_cast<std::size_t>(base)].kind == RegKind::BtfPtr) f.probe_mem = true;
        if (first)
            f.mem_kind = kind;
        else if (f.mem_kind != kind)
            f.mem_kind = 0;
    }
}

void Analyzer::log_insn(const Path& path, std::uint32_t pc) {
    const auto& insn = insns_[pc];
    std::string text = isa::format_instruction(insn, pc);
    std::string regs;
    const auto& frame = path.state.cur();
    auto shape = isa::info(insn.op).shape;
    auto show = [&](int r) {
        const auto& reg = frame.regs[static_cast<std::size_t>(r)];
        if (reg.kind != RegKind::NotInit) regs += fmt::format(" R{}={}", r, reg.to_string());
    };
    switch (shape) {
        case Shape::JmpReg:
            show(insn.dst);
            show(insn.src);
            break;
        case Shape::JmpImm:
        case Shape::AluImm:
        case Shape::Neg:
        case Shape::Endian: show(insn.dst); break;
        case Shape::AluReg:
        case Shape::MovSx:
        case Shape::Stx:
        case Shape::Atomic:
            show(insn.dst);
            show(insn.src);
            break;
        case Shape::Ldx:
        case Shape::LdxSx: show(insn.src); break;
        case Shape::St: show(insn.dst); break;
        case Shape::Call:
            for (int r = 1; r <= 5; ++r) show(r);
            break;
        case Shape::Exit: show(0); break;
        default: break;
    }
    auto raw = isa::RawInsn{};
    std::vector<isa::RawInsn> enc;
    isa::encode_one(insn, enc);
    raw = enc.front();
    report_.log += fmt::format("{}: ({:02x}) {}{}{}\n", pc, raw.opcode, text, regs.empty() ? "" : "\t;", regs);
}

void Analyzer::fail(const Path& path, Failure failure) {
    failed_ = true;
    Finding f;
    f.insn = path.state.pc;
    f.message = std::move(failure.message);
    f.explanation = std::move(failure.explanation);
    if (f.insn < insns_.size()) f.disasm = isa::format_instruction(insns_[f.insn], f.insn);
    if (!path.state.frames.empty()) {
        std::vector<int> regs = failure.regs;
        if (regs.empty() && f.insn < insns_.size()) {
            const auto& insn = insns_[f.insn];
            switch (isa::info(insn.op).shape) {
                case Shape::AluReg:
                case Shape::JmpReg:
                case Shape::Stx:
                case Shape::Atomic:
                case Shape::MovSx: regs = {insn.dst, insn.src}; break;
                case Shape::Ldx:
                case Shape::LdxSx: regs = {insn.src}; break;
                case Shape::Call: regs = {1, 2, 3, 4, 5}; break;
                case Shape::Exit: regs = {0}; break;
                default: regs = {insn.dst}; break;
            }
        }
        for (int r : regs) {
            const auto& reg = path.state.cur().regs[static_cast<std::size_t>(r)];
            if (!f.registers.empty()) f.registers += " ";
            f.registers += fmt::format("r{}={}", r, reg.to_string());
        }
    }
    if (options_.spec) {
        if (const auto* line = options_.spec->line_at(f.insn)) f.line = *line;
    }
    std::vector<std::pair<std::size_t, std::size_t>> jumps;
    for (auto n = path.history; n; n = n->prev) jumps.emplace_back(n->from, n->to);
    std::reverse(jumps.begin(), jumps.end());
    f.path = std::move(jumps);
    if (options_.log) report_.log += fmt::format("{}: {}\n", f.insn, f.message);
    report_.findings.insert(report_.findings.begin(), std::move(f));
}

Status Analyzer::check_reg_read(const State& st, int regno) const {
    const auto& reg = st.cur().regs[static_cast<std::size_t>(regno)];
    if (reg.kind == RegKind::NotInit) {
        std::string why = regno >= 1 && regno <= 5 && st.pc > 0
                              ? fmt::format(
                                    "r{} is read here but no instruction on this path wrote it (calls leave r1-r5 "
                                    "unusable)",
                                    regno)
                              : fmt::format("r{} is read here but no instruction on this path wrote it", regno);
        return std::unexpected(Failure{fmt::format("R{} !read_ok", regno), std::move(why), {regno}});
    }
    return {};
}

Status Analyzer::check_reg_write(int regno) const {
    if (regno == isa::kFramePointer)
        return std::unexpected(Failure{
            "frame pointer is read only", "r10 is the frame pointer; programs may read it but not change it", {}});
    return {};
}

const MapInfo* Analyzer::map_of(const RegState& reg) const {
    return reg.aux < maps_.size() ? &maps_[reg.aux] : nullptr;
}

std::string Analyzer::map_name(std::uint32_t index) const {
    if (index >= maps_.size()) return "?";
    return maps_[index].spec.name.empty() ? fmt::format("#{}", index) : maps_[index].spec.name;
}

std::string Analyzer::line_text(std::uint32_t pc) const {
    if (!options_.spec) return "";
    const auto* line = options_.spec->line_at(pc);
    if (!line || line->line == 0) return "";
    return fmt::format(" (line {})", line->line);
}

std::string Analyzer::origin_text(const RegState& reg) const {
    std::uint32_t pc = reg.origin;
    if (pc >= insns_.size()) return "";
    const auto& insn = insns_[pc];
    std::string what;
    if (insn.op == Op::Call)
        what = fmt::format("bpf_{}", isa::helper_name(insn.imm));
    else
        what = isa::format_instruction(insn, pc);
    return fmt::format("{} at insn {}{}", what, pc, line_text(pc));
}

void Analyzer::invalidate_packet_pointers(State& st) {
    st.for_each_reg([](RegState& r) {
        if (r.kind == RegKind::Packet || r.kind == RegKind::PacketMeta || r.kind == RegKind::PacketEnd)
            r = RegState::unknown(r.origin);
    });
}

void Analyzer::mark_id(State& st, std::uint32_t id, const RegState& like) {
    if (id == 0) return;
    st.for_each_reg([&](RegState& r) {
        if (r.kind == like.kind && r.id == id) {
            auto origin = r.origin;
            r = like;
            r.origin = origin;
        }
    });
}

bool helper_changes_packet_data(std::int32_t id) {
    switch (id) {
        case 9:    // skb_store_bytes
        case 10:   // l3_csum_replace
        case 11:   // l4_csum_replace
        case 13:   // clone_redirect
        case 18:   // skb_vlan_push
        case 19:   // skb_vlan_pop
        case 31:   // skb_change_proto
        case 38:   // skb_change_tail
        case 39:   // skb_pull_data
        case 43:   // skb_change_head
        case 44:   // xdp_adjust_head
        case 50:   // skb_adjust_room
        case 54:   // xdp_adjust_meta
        case 65:   // xdp_adjust_tail
        case 57:   // msg_pull_data
        case 63:   // msg_push_data... (kernel list)
        case 73:   // lwt_push_encap
        case 74:   // lwt_seg6_store_bytes
        case 75:   // lwt_seg6_adjust_srh
        case 76:   // lwt_seg6_action
        case 91:   // msg_pop_data
        case 141:  // store_hdr_opt
            return true;
        default: return false;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Public entry points

VerifyReport verify(std::span<const isa::RawInsn> raw, const VerifyOptions& options) {
    VerifyReport report;
    auto fail_static = [&](const Error& e) {
        Finding f;
        f.insn = e.where.insn.value_or(0);
        f.message = e.message;
        f.explanation = "the program's control flow is malformed; nothing was executed";
        if (options.spec) {
            if (const auto* line = options.spec->line_at(f.insn)) f.line = *line;
        }
        report.findings.push_back(std::move(f));
        return report;
    };
    if (raw.empty()) {
        Error e{ErrorCode::kVerify, "the program is empty", {}};
        return fail_static(e);
    }
    if (raw.size() > 1'000'000) {
        Error e{ErrorCode::kVerify, fmt::format("program of {} instructions is larger than 1000000", raw.size()), {}};
        return fail_static(e);
    }
    auto decoded = isa::decode(raw);
    if (!decoded) return fail_static(decoded.error());
    auto cfg = build_cfg(*decoded);
    if (!cfg) return fail_static(cfg.error());
    compute_relevance(*decoded, *cfg, return_range(options.type, options.attach).has_value());
    Analyzer analyzer(*decoded, *cfg, options, report, true);
    analyzer.run();
    if (!report.accepted && analyzer.summarised_loops()) {
        // A summarised loop loses precision the exact walk has: a rejection after widening is confirmed by the
        // kernel-style walk alone, so widening only ever adds accepted programs. When that walk cannot finish
        // either (it hits the instruction limit), the finding in the summarised loop is the better explanation.
        VerifyReport exact;
        Analyzer again(*decoded, *cfg, options, exact, false);
        again.run();
        const bool gave_up = !exact.accepted && !exact.findings.empty() &&
                             exact.findings.front().message.starts_with("BPF program is too large");
        const std::uint64_t time = report.time_ns + exact.time_ns;
        if (!gave_up) {
            if (options.log)
                exact.log = fmt::format("summarised walk rejected ({}); the walk without loop summaries decides:\n{}",
                                        report.summary(), exact.log);
            report = std::move(exact);
        }
        report.time_ns = time;
    }
    return report;
}

std::string Finding::to_string() const {
    std::string s = fmt::format("insn {}: {}", insn, message);
    if (line) {
        s += fmt::format("\n  at {}:{}", line->file, line->line);
        if (!line->source.empty()) s += fmt::format(": {}", line->source);
    }
    if (!disasm.empty()) s += fmt::format("\n  instruction: {}", disasm);
    if (!registers.empty()) s += fmt::format("\n  registers: {}", registers);
    if (!explanation.empty()) s += fmt::format("\n  {}", explanation);
    if (!path.empty()) {
        // Runs of the same jump are shown once with a count; a long path shows its start and its end.
        std::vector<std::pair<std::string, std::size_t>> runs;
        for (const auto& [from, to] : path) {
            std::string j = fmt::format("{}->{}", from, to);
            if (!runs.empty() && runs.back().first == j)
                ++runs.back().second;
            else
                runs.emplace_back(std::move(j), 1);
        }
        s += "\n  path:";
        constexpr std::size_t kHead = 8, kTail = 24;
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (runs.size() > kHead + kTail && i == kHead) {
                s += fmt::format(" ... ({} more)", runs.size() - kHead - kTail);
                i = runs.size() - kTail;
            }
            s += " " + runs[i].first;
            if (runs[i].second > 1) s += fmt::format(" (x{})", runs[i].second);
        }
    }
    return s;
}

std::string VerifyReport::summary() const {
    if (findings.empty()) return "";
    return fmt::format("insn {}: {}", findings.front().insn, findings.front().message);
}

}  // namespace xbpf::verifier
