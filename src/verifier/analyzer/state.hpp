// The abstract machine state of the path walk: registers, stack bytes, call frames and held references, with the
// kernel's meaning (struct bpf_reg_state, bpf_stack_state, bpf_func_state, bpf_verifier_state) and its pruning
// test (states_equal: every concrete state of `cur` is one of `old`'s, so `old`'s safety proof covers `cur`).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "verifier/cfg/cfg.hpp"
#include "verifier/domains/scalar.hpp"

namespace xbpf::verifier {

/// Base register types (the kernel's enum bpf_reg_type without flags).
enum class RegKind : std::uint8_t {
    NotInit,     ///< never written (NOT_INIT): reading it is an error
    Scalar,      ///< SCALAR_VALUE
    Ctx,         ///< PTR_TO_CTX
    Stack,       ///< PTR_TO_STACK (RegState::aux = frame number)
    MapPtr,      ///< CONST_PTR_TO_MAP (aux = map index)
    MapValue,    ///< PTR_TO_MAP_VALUE (aux = map index)
    MapKey,      ///< PTR_TO_MAP_KEY (callback argument; aux = map index)
    Packet,      ///< PTR_TO_PACKET
    PacketMeta,  ///< PTR_TO_PACKET_META
    PacketEnd,   ///< PTR_TO_PACKET_END
    Mem,         ///< PTR_TO_MEM (mem_size bytes: ring buffer records, raw program memory)
    Func,        ///< PTR_TO_FUNC (aux = function index in the CFG)
    BtfPtr,      ///< PTR_TO_BTF_ID: a kernel struct (aux = its id in the kernel's BTF); loads are probe reads
};

/// Kernel log name of a kind: "scalar", "ctx", "fp", "map_ptr", "map_value", "pkt", "pkt_end", "mem", ...
const char* kind_name(RegKind kind);

struct RegState;
/// The kernel's reg_type_str: the kind name with "_or_null" for a pointer that may be NULL ("map_value_or_null").
std::string type_name(const RegState& reg);

/// One register. Pointers are base + off + var (var: the variable part, a Scalar; off: the fixed part).
struct RegState {
    RegKind kind = RegKind::NotInit;
    bool maybe_null = false;       ///< PTR_MAYBE_NULL: must be compared with 0 before use
    bool rdonly = false;           ///< MEM_RDONLY: loads only
    std::int32_t off = 0;          ///< fixed offset of a pointer
    Scalar var;                    ///< the scalar, or the pointer's variable offset
    std::uint32_t id = 0;          ///< links copies: null checks, packet ranges, scalar refinements reach every holder
    std::uint32_t ref_obj_id = 0;  ///< the reference this pointer holds (ring buffer record), 0 if none
    std::uint32_t aux = 0;         ///< map index (MapPtr, MapValue, MapKey), frame (Stack), function (Func)
    std::uint32_t mem_size = 0;    ///< Mem: bytes; Packet*: proven range (bytes past base + var)
    std::uint32_t origin = 0;      ///< instruction that produced this value, for messages
    /// Loop summarisation (widening.cpp): this scalar equals the value the loop's counter had when the path left
    /// the widened checkpoint tagged `ghost` (0: no such relation), plus some delta in [ghost_lo, ghost_hi]
    /// (mod 2^64). Kept through moves, spills, fills and additions of bounded scalars; any other write drops it.
    std::uint32_t ghost = 0;
    std::int32_t ghost_lo = 0;  ///< a delta outside 32 bits drops the relation
    std::int32_t ghost_hi = 0;

    [[nodiscard]] bool is_pointer() const { return kind != RegKind::NotInit && kind != RegKind::Scalar; }
    [[nodiscard]] bool is_packet() const { return kind == RegKind::Packet || kind == RegKind::PacketMeta; }
    /// A known constant scalar.
    [[nodiscard]] bool is_const() const { return kind == RegKind::Scalar && var.is_const(); }
    [[nodiscard]] bool is_null() const { return is_const() && var.value() == 0; }

    static RegState scalar(const Scalar& s, std::uint32_t origin = 0) {
        RegState r;
        r.kind = RegKind::Scalar;
        r.var = s;
        r.origin = origin;
        return r;
    }
    static RegState unknown(std::uint32_t origin = 0) { return scalar(Scalar::unknown(), origin); }
    static RegState constant(std::uint64_t v, std::uint32_t origin = 0) { return scalar(Scalar::constant(v), origin); }
    static RegState pointer(RegKind kind, std::uint32_t aux = 0, std::uint32_t origin = 0) {
        RegState r;
        r.kind = kind;
        r.aux = aux;
        r.origin = origin;
        return r;
    }

    /// Kernel log form: "scalar(...)", "fp-8", "map_value(map=counts,off=4,ks=4,vs=8)", "pkt(id=2,off=14,r=34)".
    [[nodiscard]] std::string to_string() const;
};

/// Stack byte types (the kernel's STACK_INVALID, STACK_MISC, STACK_ZERO, STACK_SPILL).
enum class SlotType : std::uint8_t { Invalid, Misc, Zero, Spill };

/// Eight bytes of stack: slot i covers frame offsets [-8(i+1), -8i); byte b of the slot is at -8(i+1) + b.
/// A register spill occupies bytes [0, spill size) and keeps its full state in `spilled`.
struct StackSlot {
    std::array<SlotType, 8> type{};  ///< per byte, Invalid initially
    RegState spilled;                ///< meaningful when type[0] == Spill

    [[nodiscard]] bool is_spill() const { return type[0] == SlotType::Spill; }
    [[nodiscard]] int spill_size() const;
};

/// One call frame.
struct FrameState {
    std::array<RegState, 11> regs{};
    std::vector<StackSlot> stack;  ///< grows as deeper slots are written
    std::uint32_t function = 0;    ///< CFG function index
    std::uint32_t callsite = 0;    ///< caller's call instruction (frame > 0)
    std::uint32_t frameno = 0;
    bool is_callback = false;  ///< entered by a helper (bpf_loop, for_each_map_elem), returns to the helper
    std::uint32_t callback_helper = 0;

    [[nodiscard]] StackSlot* slot(std::int64_t off);
};

/// A reference the program must release (ring buffer record).
struct RefState {
    std::uint32_t id = 0;
    std::uint32_t insn = 0;  ///< the acquiring call
};

/// The whole machine at one instruction.
struct State {
    std::vector<FrameState> frames;
    std::vector<RefState> refs;
    std::uint32_t active_lock = 0;  ///< insn of the bpf_spin_lock held, 0 if none (stored as insn + 1)
    std::uint32_t pc = 0;
    /// Callback bodies entered on this path (the kernel's callback_unroll_depth): the infinite-loop test only
    /// compares states of the same iteration.
    std::uint32_t callback_iterations = 0;

    [[nodiscard]] FrameState& cur() { return frames.back(); }
    [[nodiscard]] const FrameState& cur() const { return frames.back(); }
    /// Calls f(RegState&) for every register and spilled register of every frame.
    template <class F>
    void for_each_reg(F&& f) {
        for (auto& frame : frames) {
            for (auto& r : frame.regs) f(r);
            for (auto& s : frame.stack)
                if (s.is_spill()) f(s.spilled);
        }
    }
};

/// The pruning test: true if every concrete state described by `cur` is described by `old` (which was proven
/// safe from this instruction on). Only live registers are compared: those of cfg.live_in at the instruction for
/// the innermost frame, and at each call's return point for the frames below. With `exact`, the states must be
/// identical up to id renaming (used to detect infinite loops). `privileged`: uninitialised stack reads as unknown
/// data, so old Misc bytes cover uninitialised ones.
/// Relevance (Cfg::relevant_in, Cfg::relevant_stack_in) lets a live scalar register or stack slot that cannot
/// matter to safety differ in value. A ghost relation (RegState::ghost) held by `old` must be held by `cur`.
bool state_includes(const State& old, const State& cur, const Cfg& cfg, bool exact, bool privileged);

}  // namespace xbpf::verifier
