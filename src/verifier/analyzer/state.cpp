#include "verifier/analyzer/state.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace xbpf::verifier {

const char* kind_name(RegKind kind) {
    switch (kind) {
        case RegKind::NotInit: return "?";
        case RegKind::Scalar: return "scalar";
        case RegKind::Ctx: return "ctx";
        case RegKind::Stack: return "fp";
        case RegKind::MapPtr: return "map_ptr";
        case RegKind::MapValue: return "map_value";
        case RegKind::MapKey: return "map_key";
        case RegKind::Packet: return "pkt";
        case RegKind::PacketMeta: return "pkt_meta";
        case RegKind::PacketEnd: return "pkt_end";
        case RegKind::Mem: return "mem";
        case RegKind::Func: return "func";
        case RegKind::BtfPtr: return "ptr_";
    }
    return "?";
}

std::string type_name(const RegState& reg) {
    std::string n = kind_name(reg.kind);
    if (reg.maybe_null) n.append("_or_null");
    return n;
}

std::string RegState::to_string() const {
    if (kind == RegKind::NotInit) return "?";
    if (kind == RegKind::Scalar) {
        std::string s = var.to_string();
        if (id != 0 && !var.is_const()) s.insert(s.find('(') + 1, fmt::format("id={},", id));
        return s;
    }
    std::string name = kind_name(kind);
    if (maybe_null) name += "_or_null";
    if (rdonly) name = "rdonly_" + name;
    if (kind == RegKind::Stack && var.is_const() && var.value() == 0 && id == 0) {
        return aux == 0 ? fmt::format("fp{}", off) : fmt::format("fp[{}]{}", aux, off);
    }
    std::vector<std::string> parts;
    if (id != 0) parts.push_back(fmt::format("id={}", id));
    if (ref_obj_id != 0) parts.push_back(fmt::format("ref_obj_id={}", ref_obj_id));
    if (off != 0) parts.push_back(fmt::format("off={}", off));
    if (kind == RegKind::Packet || kind == RegKind::PacketMeta) parts.push_back(fmt::format("r={}", mem_size));
    if (kind == RegKind::Mem) parts.push_back(fmt::format("sz={}", mem_size));
    if (!(var.is_const() && var.value() == 0)) parts.push_back(fmt::format("var={}", var.to_string()));
    std::string joined;
    for (const auto& p : parts) joined += (joined.empty() ? "" : ",") + p;
    return joined.empty() ? name : fmt::format("{}({})", name, joined);
}

int StackSlot::spill_size() const {
    int n = 0;
    while (n < 8 && type[static_cast<std::size_t>(n)] == SlotType::Spill) ++n;
    return n;
}

StackSlot* FrameState::slot(std::int64_t off) {
    // off in [-512, 0): slot index (-off - 1) / 8.
    auto index = static_cast<std::size_t>((-off - 1) / 8);
    if (index >= stack.size()) return nullptr;
    return &stack[index];
}

namespace {

/// A consistent renaming of old ids to cur ids (the kernel's bpf_idmap / check_ids).
class IdMap {
  public:
    bool check(std::uint32_t old_id, std::uint32_t cur_id) {
        if (old_id == 0) return true;
        if (cur_id == 0) cur_id = 0x80000000u + ++fresh_;  // a cur value linked to nothing
        for (auto& [o, c] : pairs_) {
            if (o == old_id) return c == cur_id;
            if (c == cur_id) return false;
        }
        pairs_.emplace_back(old_id, cur_id);
        return true;
    }
    bool check_exact(std::uint32_t old_id, std::uint32_t cur_id) {
        if ((old_id == 0) != (cur_id == 0)) return false;
        return check(old_id, cur_id);
    }

  private:
    std::vector<std::pair<std::uint32_t, std::uint32_t>> pairs_;
    std::uint32_t fresh_ = 0;
};

bool same_shape(const RegState& a, const RegState& b) {
    return a.kind == b.kind && a.maybe_null == b.maybe_null && a.rdonly == b.rdonly && a.off == b.off &&
           a.aux == b.aux && a.mem_size == b.mem_size;
}

/// A ghost relation claimed by old (loop summarisation) holds in cur too.
bool ghost_includes(const RegState& old, const RegState& cur) {
    return old.ghost == 0 || (old.ghost == cur.ghost && old.ghost_lo <= cur.ghost_lo && cur.ghost_hi <= old.ghost_hi);
}

bool reg_exact(const RegState& old, const RegState& cur, IdMap& ids) {
    return same_shape(old, cur) && old.var == cur.var && ids.check_exact(old.id, cur.id) &&
           ids.check_exact(old.ref_obj_id, cur.ref_obj_id) && old.ghost == cur.ghost && old.ghost_lo == cur.ghost_lo &&
           old.ghost_hi == cur.ghost_hi;
}

/// regsafe: may a path that reached `old` (and was proven safe) stand for one with `cur`?
bool reg_includes(const RegState& old, const RegState& cur, IdMap& ids, bool exact) {
    if (exact) return old.kind == RegKind::NotInit ? cur.kind == RegKind::NotInit : reg_exact(old, cur, ids);
    if (old.kind == RegKind::NotInit) return true;  // old never read it (reading would have failed)
    if (old.kind != cur.kind) return false;
    switch (old.kind) {
        case RegKind::NotInit: return true;
        case RegKind::Scalar: return old.var.includes(cur.var) && ids.check(old.id, cur.id) && ghost_includes(old, cur);
        case RegKind::MapValue:
        case RegKind::MapKey:
        case RegKind::Mem:
        case RegKind::BtfPtr:
            return same_shape(old, cur) && old.var.includes(cur.var) && ids.check(old.id, cur.id) &&
                   ids.check(old.ref_obj_id, cur.ref_obj_id);
        case RegKind::Packet:
        case RegKind::PacketMeta:
            // A larger proven range in cur is fine: old was safe with less.
            return old.off == cur.off && old.mem_size <= cur.mem_size && old.var.includes(cur.var) &&
                   ids.check(old.id, cur.id);
        case RegKind::Ctx:
        case RegKind::Stack:
        case RegKind::MapPtr:
        case RegKind::PacketEnd:
        case RegKind::Func: return reg_exact(old, cur, ids);
    }
    return false;
}

/// Bytes of a slot that hold scalar data of some value: Misc, Zero, or part of a spilled scalar.
bool scalar_byte(const StackSlot& s, std::size_t b) {
    SlotType t = s.type[b];
    return t == SlotType::Misc || t == SlotType::Zero || (t == SlotType::Spill && s.spilled.kind == RegKind::Scalar);
}

/// An irrelevant slot (Cfg::relevant_stack_in): old's scalar bytes cover any scalar bytes of cur, whatever their
/// values (Zero, Misc and spilled scalars are all "some number" to a path that never reads them into anything that
/// matters); uninitialised bytes and pointer spills are compared as usual.
bool irrelevant_slot_includes(const StackSlot& o, const StackSlot& c, bool privileged) {
    if (o.is_spill() && o.spilled.kind != RegKind::Scalar) return false;  // compared the usual way
    for (std::size_t b = 0; b < 8; ++b) {
        if (o.type[b] == SlotType::Invalid) continue;
        if (!scalar_byte(o, b)) return false;
        if (scalar_byte(c, b)) continue;
        if (c.type[b] == SlotType::Invalid && privileged) continue;
        return false;
    }
    return !o.is_spill() || ghost_includes(o.spilled, c.is_spill() ? c.spilled : RegState{});
}

bool stack_includes(const FrameState& old, const FrameState& cur, IdMap& ids, bool exact, bool privileged,
                    std::uint64_t relevant_slots) {
    if (exact && old.stack.size() != cur.stack.size()) return false;
    static const StackSlot kEmpty{};
    for (std::size_t i = 0; i < old.stack.size(); ++i) {
        const StackSlot& o = old.stack[i];
        const StackSlot& c = i < cur.stack.size() ? cur.stack[i] : kEmpty;
        if (!exact && i < 64 && !(relevant_slots & (std::uint64_t{1} << i)) &&
            irrelevant_slot_includes(o, c, privileged))
            continue;
        for (std::size_t b = 0; b < 8; ++b) {
            SlotType ot = o.type[b];
            SlotType ct = c.type[b];
            if (exact) {
                if (ot != ct) return false;
                continue;
            }
            if (ot == SlotType::Invalid) continue;
            if (ot == SlotType::Misc) {
                if (ct == SlotType::Misc || ct == SlotType::Zero) continue;
                if (ct == SlotType::Invalid && privileged) continue;
                if (ct == SlotType::Spill && c.spilled.kind == RegKind::Scalar) continue;
                return false;
            }
            if (ot != ct) return false;
        }
        if (o.is_spill()) {
            if (!c.is_spill() || o.spill_size() != c.spill_size()) return false;
            if (!reg_includes(o.spilled, c.spilled, ids, exact)) return false;
        }
    }
    return true;
}

}  // namespace

bool state_includes(const State& old, const State& cur, const Cfg& cfg, bool exact, bool privileged) {
    if (old.frames.size() != cur.frames.size() || old.refs.size() != cur.refs.size()) return false;
    if (old.active_lock != cur.active_lock) return false;
    IdMap ids;
    for (std::size_t f = 0; f < old.frames.size(); ++f) {
        const FrameState& o = old.frames[f];
        const FrameState& c = cur.frames[f];
        if (o.callsite != c.callsite || o.function != c.function || o.is_callback != c.is_callback) return false;
        // Registers that matter: live at the instruction (innermost frame), or after the call returns.
        // Registers that matter: live at the instruction (innermost frame), or after the call returns; of those,
        // a scalar's value matters only where it is relevant (Cfg::relevant_in).
        RegMask live = 0x7ff;
        RegMask relevant = 0x7ff;
        std::uint64_t relevant_slots = ~std::uint64_t{0};
        if (!exact) {
            std::size_t at = f + 1 == old.frames.size() ? cur.pc : old.frames[f + 1].callsite + 1;
            const RegMask mask = f + 1 == old.frames.size() ? RegMask{0x7ff} : static_cast<RegMask>(~RegMask{1});
            if (at < cfg.live_in.size()) {
                live = static_cast<RegMask>(cfg.live_in[at] & mask);
                relevant = at < cfg.relevant_in.size() ? static_cast<RegMask>(cfg.relevant_in[at] & mask) : live;
            }
            if (at < cfg.relevant_stack_in.size()) relevant_slots = cfg.relevant_stack_in[at];
        }
        for (std::size_t r = 0; r < o.regs.size(); ++r) {
            if (!(live & (1u << r))) continue;
            if (!(relevant & (1u << r)) && o.regs[r].kind == RegKind::Scalar && c.regs[r].kind == RegKind::Scalar) {
                if (!ghost_includes(o.regs[r], c.regs[r])) return false;
                continue;
            }
            if (!reg_includes(o.regs[r], c.regs[r], ids, exact)) return false;
        }
        if (!stack_includes(o, c, ids, exact, privileged, relevant_slots)) return false;
    }
    for (std::size_t i = 0; i < old.refs.size(); ++i)
        if (!ids.check_exact(old.refs[i].id, cur.refs[i].id)) return false;
    return true;
}

}  // namespace xbpf::verifier
