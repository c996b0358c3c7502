// Conditional jumps: branch outcome (is_branch_taken), refinement of both sides (reg_set_min_max), null checks
// (mark_ptr_or_null_regs) and packet range checks against data_end (try_match_pkt_pointers).
#include <fmt/format.h>

#include "verifier/analyzer/analyzer.hpp"

namespace xbpf::verifier {

using isa::Shape;

namespace {

constexpr std::uint64_t kMaxPacketOff = 0xffff;

CmpOp cmp_of(std::string_view t) {
    if (t == "==") return CmpOp::Eq;
    if (t == "!=") return CmpOp::Ne;
    if (t == ">") return CmpOp::Gt;
    if (t == ">=") return CmpOp::Ge;
    if (t == "<") return CmpOp::Lt;
    if (t == "<=") return CmpOp::Le;
    if (t == "s>") return CmpOp::Sgt;
    if (t == "s>=") return CmpOp::Sge;
    if (t == "s<") return CmpOp::Slt;
    if (t == "s<=") return CmpOp::Sle;
    return CmpOp::Set;
}

/// Every register holding the same scalar (same nonzero id) takes the refined value (find_equal_scalars).
void share_scalar(State& st, const RegState& refined) {
    if (refined.id == 0 || refined.kind != RegKind::Scalar) return;
    st.for_each_reg([&](RegState& r) {
        if (r.kind == RegKind::Scalar && r.id == refined.id) r.var = refined.var;
    });
}

/// Null-check outcome for every pointer sharing `id` (mark_ptr_or_null_regs).
void mark_null_checked(State& st, std::uint32_t id, bool is_null) {
    std::uint32_t ref = 0;
    st.for_each_reg([&](RegState& r) {
        if (r.id != id || !r.maybe_null) return;
        if (is_null) {
            if (r.ref_obj_id) ref = r.ref_obj_id;
            auto origin = r.origin;
            r = RegState::constant(0, origin);
        } else {
            r.maybe_null = false;
        }
    });
    // A NULL result holds nothing: the reference it would have carried is gone (release_reference_state).
    if (is_null && ref != 0) {
        std::erase_if(st.refs, [&](const RefState& s) { return s.id == ref; });
    }
}

/// Mark every packet pointer with `reg`'s id (and kind) as having at least `range` bytes (find_good_pkt_pointers).
void mark_packet_range(State& st, const RegState& reg, std::int64_t range) {
    if (range <= 0) return;
    if (reg.var.umax > kMaxPacketOff || reg.var.umax + static_cast<std::uint64_t>(std::max(reg.off, 0)) > kMaxPacketOff)
        return;
    st.for_each_reg([&](RegState& r) {
        if (r.kind == reg.kind && r.id == reg.id)
            r.mem_size = std::max<std::uint32_t>(r.mem_size, static_cast<std::uint32_t>(range));
    });
}

}  // namespace

std::expected<bool, Failure> Analyzer::check_branch(Path& path, const isa::Instruction& insn, std::uint32_t pc) {
    State& st = path.state;
    const auto& info = isa::info(insn.op);
    const bool is32 = info.width == 32;
    const CmpOp op = cmp_of(info.text);
    const auto target = static_cast<std::uint32_t>(insn.target(pc));
    if (auto r = check_reg_read(st, insn.dst); !r) return std::unexpected(std::move(r.error()));
    RegState imm_reg;
    const bool src_is_reg = info.shape == Shape::JmpReg;
    if (src_is_reg) {
        if (auto r = check_reg_read(st, insn.src); !r) return std::unexpected(std::move(r.error()));
    } else {
        imm_reg = RegState::constant(is32 ? static_cast<std::uint32_t>(insn.imm)
                                          : static_cast<std::uint64_t>(static_cast<std::int64_t>(insn.imm)),
                                     pc);
    }
    const RegState dst = st.cur().regs[insn.dst];
    const RegState src = src_is_reg ? st.cur().regs[insn.src] : imm_reg;

    auto go = [&](bool taken) -> std::expected<bool, Failure> {
        if (taken) {
            record_jump(path, pc, target);
            st.pc = target;
        } else {
            st.pc = pc + 1;
        }
        return true;
    };
    // Both outcomes possible: the taken side is pushed, the fall-through continues.
    auto split = [&](State taken_state) -> std::expected<bool, Failure> {
        taken_state.pc = target;
        fork(path, std::move(taken_state), pc);
        st.pc = pc + 1;
        return true;
    };

    // Scalars.
    if (dst.kind == RegKind::Scalar && src.kind == RegKind::Scalar) {
        int known = branch_taken(op, is32, dst.var, src.var);
        if (known == 1) return go(true);
        if (known == 0) return go(false);
        auto yes = refine_branch(op, is32, true, dst.var, src.var);
        auto no = refine_branch(op, is32, false, dst.var, src.var);
        if (!yes && !no) return false;  // no concrete pair at all: a dead path
        auto apply = [&](State& s, const std::pair<Scalar, Scalar>& r) {
            auto& d = s.cur().regs[insn.dst];
            d.var = r.first;
            share_scalar(s, d);
            if (src_is_reg) {
                auto& sr = s.cur().regs[insn.src];
                sr.var = r.second;
                share_scalar(s, sr);
            }
        };
        if (!yes) {
            apply(st, *no);
            return go(false);
        }
        if (!no) {
            apply(st, *yes);
            return go(true);
        }
        State taken = st;
        apply(taken, *yes);
        apply(st, *no);
        return split(std::move(taken));
    }

    // A pointer against the constant 0: null checks, and the known outcome for pointers that cannot be NULL.
    const bool eq_ne = op == CmpOp::Eq || op == CmpOp::Ne;
    auto null_check = [&](const RegState& ptr, const RegState& other) -> std::optional<std::expected<bool, Failure>> {
        if (!ptr.is_pointer() || !other.is_null() || !eq_ne || is32) return std::nullopt;
        if (ptr.kind == RegKind::BtfPtr) return split(st);  // kernel pointers may be NULL: both sides run
        if (!ptr.maybe_null) return go(op == CmpOp::Ne);
        State taken = st;
        // Eq taken: the pointer is NULL on the jump side; Ne taken: it is not.
        mark_null_checked(taken, ptr.id, op == CmpOp::Eq);
        mark_null_checked(st, ptr.id, op != CmpOp::Eq);
        return split(std::move(taken));
    };
    if (auto r = null_check(dst, src)) return *r;
    if (src_is_reg) {
        if (auto r = null_check(src, dst)) return *r;
    }

    // Packet pointers against data_end (and packet_meta against data).
    if (!is32 && src_is_reg && dst.is_pointer() && src.is_pointer() && !dst.maybe_null && !src.maybe_null) {
        // Normalise to "p OP end" where p is the pointer whose range we learn and end its limit.
        auto is_limit_of = [](const RegState& p, const RegState& end) {
            return (p.kind == RegKind::Packet && end.kind == RegKind::PacketEnd) ||
                   (p.kind == RegKind::PacketMeta && end.kind == RegKind::Packet && end.off == 0 &&
                    end.var.is_const() && end.var.value() == 0);
        };
        std::optional<CmpOp> rel;  // relation "p rel end"
        const RegState* p = nullptr;
        int preg = -1;
        if (is_limit_of(dst, src)) {
            rel = op;
            p = &dst;
            preg = insn.dst;
        } else if (is_limit_of(src, dst)) {
            rel = swap_operands(op);
            p = &src;
            preg = insn.src;
        }
        if (rel && (*rel == CmpOp::Gt || *rel == CmpOp::Ge || *rel == CmpOp::Lt || *rel == CmpOp::Le)) {
            (void)preg;
            // p <= end proves [base, base + off) is in the packet; p < end proves one byte more.
            std::int64_t le_range = p->off;      // range when p <= end
            std::int64_t lt_range = p->off + 1;  // range when p < end
            State taken = st;
            const RegState pc_copy = *p;
            switch (*rel) {
                case CmpOp::Gt:  // taken: p > end; fall-through: p <= end
                    mark_packet_range(st, pc_copy, le_range);
                    break;
                case CmpOp::Ge:  // taken: p >= end; fall-through: p < end
                    mark_packet_range(st, pc_copy, lt_range);
                    break;
                case CmpOp::Lt:  // taken: p < end
                    mark_packet_range(taken, pc_copy, lt_range);
                    break;
                case CmpOp::Le:  // taken: p <= end
                    mark_packet_range(taken, pc_copy, le_range);
                    break;
                default: break;
            }
            return split(std::move(taken));
        }
    }

    // Two pointers into the same object (same kind, object and id, e.g. a raw program's r1 and r1 + r2): their
    // difference is the difference of their offsets, so the comparison is one of offsets (beyond the kernel,
    // which learns nothing here; it makes "p + n > end" loops over raw memory verifiable).
    if (!is32 && src_is_reg && dst.is_pointer() && dst.kind == src.kind && dst.aux == src.aux && dst.id == src.id &&
        dst.mem_size == src.mem_size && !dst.maybe_null && !src.maybe_null &&
        (dst.kind == RegKind::Mem || dst.kind == RegKind::Stack || dst.kind == RegKind::MapValue)) {
        auto offset = [](const RegState& r) {
            return scalar_alu(AluOp::Add, true, r.var,
                              Scalar::constant(static_cast<std::uint64_t>(static_cast<std::int64_t>(r.off))));
        };
        const Scalar a = offset(dst);
        const Scalar b = offset(src);
        // Offsets stay within ±2^29, so comparing them as signed numbers is comparing the addresses unsigned.
        CmpOp sop = op;
        switch (op) {
            case CmpOp::Gt: sop = CmpOp::Sgt; break;
            case CmpOp::Ge: sop = CmpOp::Sge; break;
            case CmpOp::Lt: sop = CmpOp::Slt; break;
            case CmpOp::Le: sop = CmpOp::Sle; break;
            default: break;
        }
        if (sop != CmpOp::Set) {
            int known = branch_taken(sop, false, a, b);
            if (known == 1) return go(true);
            if (known == 0) return go(false);
        }
    }

    // Any other comparison involving a pointer: allowed for privileged programs, nothing is learnt.
    if (!options_.privileged && (dst.is_pointer() || src.is_pointer()))
        return std::unexpected(
            Failure{fmt::format("R{} pointer comparison prohibited", dst.is_pointer() ? insn.dst : insn.src),
                    "unprivileged programs may compare pointers only with NULL or packet "
                    "pointers with data_end",
                    {}});
    if ((dst.maybe_null || src.maybe_null) && !eq_ne) {
        // Comparing a maybe-NULL pointer otherwise proves nothing about NULL; still allowed.
    }
    State taken = st;
    return split(std::move(taken));
}

}  // namespace xbpf::verifier
