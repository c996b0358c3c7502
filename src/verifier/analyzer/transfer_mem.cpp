// Loads, stores and atomics: the kernel's check_mem_access and its per-region checks (stack bytes and spills,
// map values, context fields, packets, memory from helpers), plus the 64-bit immediate loads and LD_ABS/LD_IND.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "verifier/analyzer/analyzer.hpp"

namespace xbpf::verifier {

using isa::Op;
using isa::Shape;

namespace {

constexpr std::int64_t kMaxVarOff = 1 << 29;

/// Narrow a loaded scalar to `size` bytes (coerce_reg_to_size / _sx).
Scalar coerce(const Scalar& v, int size, bool is_signed) {
    if (size >= 8) return v;
    if (is_signed)
        return scalar_alu(size == 1   ? AluOp::MovSx8
                          : size == 2 ? AluOp::MovSx16
                                      : AluOp::MovSx32,
                          true, Scalar::constant(0), v);
    std::uint64_t mask = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
    return scalar_alu(AluOp::And, true, v, Scalar::constant(mask));
}

}  // namespace

Status Analyzer::check_lddw(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    if (auto w = check_reg_write(insn.dst); !w) return w;
    RegState& dst = st.cur().regs[insn.dst];
    switch (insn.src) {
        case isa::kPseudoImm64: dst = RegState::constant(insn.imm64, pc); return {};
        case isa::kPseudoMapFd:
        case isa::kPseudoMapIdx:
        case isa::kPseudoMapValue:
        case isa::kPseudoMapIdxValue: {
            auto index = static_cast<std::uint32_t>(insn.imm);
            if (index >= options_.maps.size())
                return std::unexpected(Failure{fmt::format("fd {} is not pointing to valid bpf_map", insn.imm),
                                               fmt::format("the program refers to map {}, but only {} maps were "
                                                           "given",
                                                           index, options_.maps.size()),
                                               {}});
            const auto& map = maps_[index];
            // check_map_prog_compatibility: maps holding a bpf_spin_lock are refused to socket filters and to the
            // tracing types (is_tracing_prog_type), whatever the program does with them.
            if (map.spec.spin_lock_off >= 0) {
                using object::ProgramType;
                const ProgramType t = options_.type;
                const bool tracing = t == ProgramType::Kprobe || t == ProgramType::Tracepoint ||
                                     t == ProgramType::PerfEvent || t == ProgramType::RawTracepoint ||
                                     t == ProgramType::RawTracepointWritable;
                if (t == ProgramType::SocketFilter || tracing)
                    return std::unexpected(
                        Failure{t == ProgramType::SocketFilter ? "socket filter progs cannot use bpf_spin_lock yet"
                                                               : "tracing progs cannot use bpf_spin_lock yet",
                                fmt::format("map '{}' holds a struct bpf_spin_lock, which {} programs may not use",
                                            map_name(index), object::program_type_name(t)),
                                {}});
            }
            if (insn.src == isa::kPseudoMapFd || insn.src == isa::kPseudoMapIdx) {
                dst = RegState::pointer(RegKind::MapPtr, index, pc);
                return {};
            }
            auto off = static_cast<std::uint32_t>(insn.next_imm);
            if (map.spec.type != maps::MapType::Array || map.spec.max_entries < 1)
                return std::unexpected(Failure{"map does not support direct value access",
                                               fmt::format("map '{}' is not an array; only array maps (global data) "
                                                           "have an address programs can load",
                                                           map_name(index)),
                                               {}});
            if (off >= map.spec.value_size)
                return std::unexpected(Failure{fmt::format("invalid access to map value pointer, value_size={} "
                                                           "off={}",
                                                           map.spec.value_size, off),
                                               "the offset is past the end of the map value",
                                               {}});
            dst = RegState::pointer(RegKind::MapValue, index, pc);
            dst.off = static_cast<std::int32_t>(off);
            dst.rdonly = (map.spec.flags & maps::kFRdonlyProg) != 0;
            return {};
        }
        case isa::kPseudoFunc: {
            int f = cfg_.function_at(static_cast<std::size_t>(static_cast<std::int64_t>(pc) + insn.imm + 1));
            if (f < 0) return std::unexpected(Failure{"func address does not point at a function start", "", {}});
            dst = RegState::pointer(RegKind::Func, static_cast<std::uint32_t>(f), pc);
            return {};
        }
        default:
            return std::unexpected(Failure{fmt::format("unsupported 64-bit immediate load (src={})", insn.src),
                                           "loads of kernel variables by BTF id (__ksym) need kernel BTF and are "
                                           "not supported by xbpf",
                                           {}});
    }
}

Status Analyzer::check_region(int regno, const RegState& reg, std::int64_t off, std::int64_t size, std::uint64_t limit,
                              const char* what, std::uint32_t pc) {
    (void)pc;
    const Scalar& v = reg.var;
    std::int64_t total = off + reg.off;
    if (v.smin < 0 && (v.smin == std::numeric_limits<std::int64_t>::min() || total + v.smin < 0))
        return std::unexpected(Failure{
            fmt::format("R{} min value is negative, either use unsigned index or do a if (index >=0) check.", regno),
            fmt::format("the offset into the {} may be negative ({}): bound it from below first", what, v.to_string()),
            {regno}});
    if (v.umax >= static_cast<std::uint64_t>(kMaxVarOff))
        return std::unexpected(
            Failure{fmt::format("R{} unbounded memory access, make sure to bounds check any such access", regno),
                    fmt::format("the offset into the {} may be any number up to {}: compare it with the size first",
                                what, v.umax),
                    {regno}});
    const std::string size_name = std::string(what) == "map value" ? "value_size" : "mem_size";
    if (v.is_const()) {
        const std::int64_t at = total + static_cast<std::int64_t>(v.value());
        if (at < 0 || at + size > static_cast<std::int64_t>(limit))
            return std::unexpected(
                Failure{fmt::format("invalid access to {}, {}={} off={} size={}", what, size_name, limit, at, size),
                        fmt::format("the access covers bytes [{}, {}) of a {}-byte {}", at, at + size, limit, what),
                        {regno}});
        return {};
    }
    // check_mem_region_access: the smallest offset, then the largest, each named in the message with the kernel's
    // second line ("R0 max value is outside of the allowed memory range").
    const std::int64_t lo = total + v.smin;
    const std::int64_t hi = total + static_cast<std::int64_t>(v.umax);
    for (const auto& [at, side] : {std::pair{lo, "min"}, std::pair{hi, "max"}}) {
        if (at >= 0 && at + size <= static_cast<std::int64_t>(limit)) continue;
        return std::unexpected(Failure{
            fmt::format("invalid access to {}, {}={} off={} size={} (R{} {} value is outside of the allowed memory "
                        "range)",
                        what, size_name, limit, at, size, regno, side),
            fmt::format("with r{}'s variable offset ({}), the access may reach bytes [{}, {}) of a {}-byte {}", regno,
                        v.to_string(), lo, hi + size, limit, what),
            {regno}});
    }
    return {};
}

Status Analyzer::check_mem_access(State& st, int regno, const RegState& reg, std::int64_t off, int size, bool write,
                                  RegState* out, const RegState* value, std::int64_t imm, bool is_signed, bool atomic,
                                  std::uint32_t pc) {
    auto set_out = [&](const Scalar& s) {
        if (out) *out = RegState::scalar(coerce(s, size, is_signed), pc);
    };
    if (reg.maybe_null) {
        return std::unexpected(Failure{
            fmt::format("R{} invalid mem access '{}'", regno, type_name(reg)),
            fmt::format("r{} may be NULL here: it comes from {} and is used without a check", regno, origin_text(reg)),
            {regno}});
    }
    if (write && value && value->is_pointer() && !options_.privileged && reg.kind != RegKind::Stack)
        return std::unexpected(Failure{fmt::format("R{} leaks addr into {}", insn_value_reg_, kind_name(reg.kind)),
                                       "storing a pointer where it can be read back as a number exposes the address",
                                       {}});
    switch (reg.kind) {
        case RegKind::Stack: {
            auto r = check_stack_access(st, regno, reg, off, size, write, out, value, imm, pc);
            // Stack reads give the value zero-extended from `size` bytes; a sign-extending load (ldxs) extends it.
            if (r && out && is_signed && size < 8 && out->kind == RegKind::Scalar) {
                out->var = coerce(out->var, size, true);
                out->id = 0;
            }
            return r;
        }
        case RegKind::MapValue: {
            const MapInfo* map = map_of(reg);
            if (!map) return std::unexpected(Failure{"map value of unknown map", "", {regno}});
            if (write && reg.rdonly)
                return std::unexpected(
                    Failure{fmt::format("write into map forbidden, value_size={} off={} size={}", map->spec.value_size,
                                        reg.off + off, size),
                            fmt::format("map '{}' is read-only for programs (BPF_F_RDONLY_PROG, e.g. .rodata)",
                                        map_name(reg.aux)),
                            {regno}});
            // check_map_access_type: BPF_F_WRONLY_PROG maps may not be read (atomics read too).
            if ((!write || atomic) && (map->spec.flags & maps::kFWronlyProg))
                return std::unexpected(
                    Failure{fmt::format("read from map forbidden, value_size={} off={} size={}", map->spec.value_size,
                                        reg.off + off, size),
                            fmt::format("map '{}' is write-only for programs (BPF_F_WRONLY_PROG)", map_name(reg.aux)),
                            {regno}});
            if (auto r = check_region(regno, reg, off, size, map->spec.value_size, "map value", pc); !r) return r;
            if (map->spec.spin_lock_off >= 0) {
                std::int64_t lo = reg.off + off + std::max<std::int64_t>(reg.var.smin, 0);
                std::int64_t hi = reg.off + off + static_cast<std::int64_t>(reg.var.umax) + size;
                if (lo < map->spec.spin_lock_off + 4 && hi > map->spec.spin_lock_off)
                    return std::unexpected(Failure{"bpf_spin_lock cannot be accessed directly by load/store",
                                                   "the access overlaps the map value's struct bpf_spin_lock; use "
                                                   "bpf_spin_lock/bpf_spin_unlock",
                                                   {regno}});
            }
            if (out) {
                // Frozen read-only data (.rodata) is known: load the constant (bpf_map_direct_read).
                std::int64_t at = reg.off + off;
                if (reg.rdonly && reg.var.is_const() && !map->frozen_value.empty() && !is_signed) {
                    at += static_cast<std::int64_t>(reg.var.value());
                    if (at >= 0 && at + size <= static_cast<std::int64_t>(map->frozen_value.size())) {
                        std::uint64_t v = 0;
                        std::memcpy(&v, map->frozen_value.data() + at, static_cast<std::size_t>(size));
                        *out = RegState::constant(v, pc);
                        return {};
                    }
                }
                set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
            }
            return {};
        }
        case RegKind::MapKey: {
            const MapInfo* map = map_of(reg);
            if (!map) return std::unexpected(Failure{"map key of unknown map", "", {regno}});
            if (write)
                return std::unexpected(Failure{fmt::format("R{} cannot write into map_key", regno),
                                               "the key a callback receives is read-only",
                                               {regno}});
            if (auto r = check_region(regno, reg, off, size, map->spec.key_size, "map key", pc); !r) return r;
            set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
            return {};
        }
        case RegKind::Mem: {
            if (write && reg.rdonly)
                return std::unexpected(Failure{fmt::format("R{} cannot write into rdonly mem", regno),
                                               "this memory is read-only for the program",
                                               {regno}});
            if (auto r = check_region(regno, reg, off, size, reg.mem_size, "memory", pc); !r) return r;
            set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
            return {};
        }
        case RegKind::Ctx: {
            if (atomic)
                return std::unexpected(Failure{fmt::format("BPF_ATOMIC stores into R{} ctx is not allowed", regno),
                                               "atomic operations work on the stack and map values only",
                                               {regno}});
            if (reg.off != 0)
                return std::unexpected(Failure{
                    fmt::format("dereference of modified ctx ptr R{} off={} disallowed", regno, reg.off),
                    "context fields must be addressed as ctx + constant in the instruction itself, not through a "
                    "moved pointer",
                    {regno}});
            if (!reg.var.is_const() || reg.var.value() != 0)
                return std::unexpected(
                    Failure{fmt::format("variable ctx access var_off={} disallowed", reg.var.var_off.to_string()),
                            "context fields must be addressed with a constant offset",
                            {regno}});
            auto field = check_context_access(options_.type, options_.attach, off, size, write);
            if (field && tracing_ && !write) {
                // Arguments typed by the traced function's prototype (btf_ctx_access).
                const auto arg = static_cast<std::size_t>(off / 8);
                const std::size_t n = tracing_->args.size();
                if (arg > n || (arg == n && !tracing_->has_return))
                    return std::unexpected(
                        Failure{fmt::format("func '{}' doesn't have {}-th argument", tracing_->function, arg + 1),
                                fmt::format("{} has {} argument{}; ctx + {} is past them", tracing_->function, n,
                                            n == 1 ? "" : "s", off),
                                {regno}});
                const std::uint32_t pointee = arg < n ? tracing_->args[arg] : tracing_->return_struct;
                if (out && pointee != 0 && size == 8) {
                    *out = RegState::pointer(RegKind::BtfPtr, pointee, pc);
                    return {};
                }
            }
            if (!field) {
                std::string name = context_field_name(options_.type, off);
                return std::unexpected(
                    Failure{field.error().message,
                            name.empty()
                                ? fmt::format("offset {} is not a field this program type may {} with a {}-byte access",
                                              off, write ? "write" : "read", size)
                                : fmt::format("{}.{} may not be {} this way by a {} program", ctx_.struct_name, name,
                                              write ? "written" : "read", object::program_type_name(options_.type)),
                            {regno}});
            }
            if (out) {
                switch (*field) {
                    case CtxFieldType::Scalar:
                        set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
                        break;
                    case CtxFieldType::PacketStart: *out = RegState::pointer(RegKind::Packet, 0, pc); break;
                    case CtxFieldType::PacketEnd: *out = RegState::pointer(RegKind::PacketEnd, 0, pc); break;
                    case CtxFieldType::PacketMeta: *out = RegState::pointer(RegKind::PacketMeta, 0, pc); break;
                }
            }
            return {};
        }
        case RegKind::Packet:
        case RegKind::PacketMeta: {
            if (atomic)
                return std::unexpected(Failure{fmt::format("BPF_ATOMIC stores into R{} pkt is not allowed", regno),
                                               "atomic operations work on the stack and map values only",
                                               {regno}});
            bool writable =
                options_.type == object::ProgramType::Xdp || options_.type == object::ProgramType::SchedCls ||
                options_.type == object::ProgramType::SchedAct || options_.type == object::ProgramType::LwtXmit ||
                options_.type == object::ProgramType::SkSkb;
            if (write && !writable)
                return std::unexpected(Failure{"cannot write into packet",
                                               fmt::format("{} programs may read the packet but not change it",
                                                           object::program_type_name(options_.type)),
                                               {regno}});
            if (reg.var.smin < 0)
                return std::unexpected(Failure{
                    fmt::format("R{} min value is negative, either use unsigned index or do a if (index >=0) check.",
                                regno),
                    "the offset into the packet may be negative",
                    {regno}});
            std::int64_t start = reg.off + off;
            if (start < 0 || start + size > static_cast<std::int64_t>(reg.mem_size)) {
                return std::unexpected(Failure{
                    fmt::format("invalid access to packet, off={} size={}, R{}(id={},off={},r={})", start, size, regno,
                                reg.id, reg.off, reg.mem_size),
                    reg.mem_size == 0
                        ? fmt::format("r{} points into the packet, but nothing on this path proved that byte {} "
                                      "exists: compare a pointer to it with ctx->data_end first",
                                      regno, start + size - 1)
                        : fmt::format("the access reaches byte {} past r{}, but only {} bytes were proven to be in the "
                                      "packet by the comparison with data_end",
                                      start + size, regno, reg.mem_size),
                    {regno}});
            }
            set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
            return {};
        }
        case RegKind::BtfPtr: {
            const std::string name = btf_struct_name(kernel_btf_, reg.aux);
            if (write || atomic)
                return std::unexpected(
                    Failure{fmt::format("R{} is ptr_{} only read is supported", regno, name),
                            "kernel structures reached through typed pointers may be read, not written",
                            {regno}});
            if (!reg.var.is_const())
                return std::unexpected(Failure{fmt::format("R{} is ptr_{} invalid variable offset: off={}, var_off={}",
                                                           regno, name, reg.off, reg.var.var_off.to_string()),
                                               "fields of kernel structures must be read at constant offsets",
                                               {regno}});
            const std::int64_t at = reg.off + off + static_cast<std::int64_t>(reg.var.value());
            if (at < 0)
                return std::unexpected(
                    Failure{fmt::format("R{} is ptr_{} invalid negative access: off={}", regno, name, at),
                            "the access is before the start of the structure",
                            {regno}});
            std::string error;
            auto load = kernel_btf_ ? btf_struct_load(kernel_btf_, reg.aux, at, size, &error) : std::nullopt;
            if (!load)
                return std::unexpected(
                    Failure{error.empty() ? "no kernel BTF" : error,
                            fmt::format("struct {} has no field at bytes [{}, {})", name, at, at + size),
                            {regno}});
            if (out) {
                if (load->pointee != 0)
                    *out = RegState::pointer(RegKind::BtfPtr, load->pointee, pc);
                else
                    set_out(Scalar::of_size(static_cast<std::uint8_t>(size), is_signed));
            }
            return {};
        }
        case RegKind::NotInit:
        case RegKind::Scalar:
        case RegKind::MapPtr:
        case RegKind::PacketEnd:
        case RegKind::Func: break;
    }
    std::string why;
    if (reg.kind == RegKind::Scalar) {
        why = fmt::format("r{} holds a number ({}), not a pointer the program was given", regno, reg.to_string());
        if ((options_.type == object::ProgramType::Tracing || options_.type == object::ProgramType::Lsm) && !tracing_)
            why += fmt::format(
                "; the attach target '{}' is not in the kernel's BTF, so its arguments are plain "
                "numbers (set the real target before verifying)",
                options_.attach_target);
    } else if (reg.kind == RegKind::PacketEnd)
        why = "data_end marks the end of the packet; it may be compared but not dereferenced";
    else
        why = fmt::format("r{} is a {}, which cannot be dereferenced", regno, type_name(reg));
    return std::unexpected(
        Failure{fmt::format("R{} invalid mem access '{}'", regno, type_name(reg)), std::move(why), {regno}});
}

Status Analyzer::check_stack_access(State& st, int regno, const RegState& reg, std::int64_t off, int size, bool write,
                                    RegState* out, const RegState* value, std::int64_t imm, std::uint32_t pc) {
    if (reg.aux >= st.frames.size()) return std::unexpected(Failure{"stack pointer of a returned frame", "", {regno}});
    FrameState& frame = st.frames[reg.aux];
    const Scalar& v = reg.var;
    std::int64_t base = reg.off + off;
    std::int64_t lo = 0;
    std::int64_t hi = 0;
    if (v.is_const()) {
        lo = base + static_cast<std::int64_t>(v.value());
        hi = lo + size;
    } else {
        if (v.smin <= -kMaxVarOff || v.smax >= kMaxVarOff)
            return std::unexpected(Failure{
                fmt::format("invalid unbounded variable-offset {} stack R{}", write ? "write to" : "read from", regno),
                fmt::format("the stack offset in r{} is not bounded ({})", regno, v.to_string()),
                {regno}});
        lo = base + v.smin;
        hi = base + v.smax + size;
    }
    if (lo < -static_cast<std::int64_t>(isa::kStackSize) || hi > 0) {
        return std::unexpected(
            Failure{fmt::format("invalid {} stack R{} off={} size={}", write ? "write to" : "read from", regno,
                                v.is_const() ? lo : base, size),
                    fmt::format("the access covers [{}, {}) relative to r10; the stack is the {} bytes below r10", lo,
                                hi, isa::kStackSize),
                    {regno}});
    }
    // The stack is strictly aligned (check_ptr_alignment: strict for PTR_TO_STACK).
    if (v.is_const() ? (lo % size != 0)
                     : !tnum_add(v.var_off, Tnum::constant(static_cast<std::uint64_t>(base)))
                            .is_aligned(static_cast<std::uint64_t>(size)))
        return std::unexpected(Failure{fmt::format("misaligned stack access off {}+{} size {}", reg.off, off, size),
                                       fmt::format("a {}-byte stack access must be at a multiple of {}", size, size),
                                       {regno}});
    auto& depth = stack_depth_[frame.function];
    depth = std::max(depth, static_cast<std::uint32_t>(-lo));
    auto need = static_cast<std::size_t>((-lo + 7) / 8);
    if (write && frame.stack.size() < need) frame.stack.resize(need);

    auto byte_at = [&](std::int64_t addr) -> std::pair<StackSlot*, std::size_t> {
        auto index = static_cast<std::size_t>((-addr - 1) / 8);
        if (index >= frame.stack.size()) return {nullptr, 0};
        auto b = static_cast<std::size_t>(addr + 8 * static_cast<std::int64_t>(index + 1));
        return {&frame.stack[index], b};
    };

    if (write) {
        if (!v.is_const()) {
            // Variable offset: every byte that may be written becomes unknown data. Unprivileged programs may not
            // do this over bytes never written, or over a spilled pointer (check_stack_write_var_off).
            for (std::int64_t a = lo; a < hi && !options_.privileged; ++a) {
                auto [slot, b] = byte_at(a);
                if (slot->type[b] == SlotType::Invalid || slot->type[b] == SlotType::Spill)
                    return std::unexpected(Failure{
                        fmt::format("uninit stack in range of var-offset write prohibited for !root; off: {}", a),
                        fmt::format("with its variable offset the store may write stack byte {}, which holds no "
                                    "data yet (or part of a spilled register)",
                                    a),
                        {regno}});
            }
            for (std::int64_t a = lo; a < hi; ++a) {
                auto [slot, b] = byte_at(a);
                if (slot->is_spill()) {
                    for (auto& t : slot->type)
                        if (t == SlotType::Spill) t = SlotType::Misc;
                    slot->spilled = RegState{};
                }
                slot->type[b] = SlotType::Misc;
            }
            return {};
        }
        auto [slot, b] = byte_at(lo);
        const bool slot_start = b == 0;
        // A narrow store into a spilled pointer would let its bytes be read back (check_stack_write_fixed_off).
        if (slot->is_spill() && slot->spilled.is_pointer() && size != 8 && !options_.privileged)
            return std::unexpected(Failure{"attempt to corrupt spilled pointer on stack",
                                           "a narrow store into a spilled pointer would let its bytes be read back",
                                           {regno}});
        const bool value_is_reg = value != nullptr;
        if (value_is_reg && value->is_pointer()) {
            if (size != 8 || !slot_start)
                return std::unexpected(Failure{"invalid size of register spill",
                                               "pointers may only be stored to the stack as whole 8-byte slots",
                                               {regno}});
            if (value->kind == RegKind::Stack && reg.aux + 1 != st.frames.size())
                return std::unexpected(Failure{"cannot spill pointers to stack into stack frame of the caller",
                                               "a callee's stack does not outlive the call",
                                               {regno}});
            slot->type.fill(SlotType::Spill);
            slot->spilled = *value;
            return {};
        }
        if (slot_start && (value_is_reg ? value->kind == RegKind::Scalar : true)) {
            // A register (or immediate) spill of a scalar keeps its value (save_register_state).
            RegState spilled = value_is_reg ? *value : RegState::constant(static_cast<std::uint64_t>(imm), pc);
            if (size < 8) {
                // A narrowing spill of a wider value is a different value: break the link.
                if (spilled.var.umax >> (size * 8) != 0) spilled.id = 0;
                spilled.var = coerce(spilled.var, size, false);
            }
            if (value_is_reg && insn_value_reg_ >= 0 && size == 8 && spilled.id == 0 && !spilled.var.is_const()) {
                // Keep the spill linked to the register, so a later check of either refines both.
                auto& src = st.cur().regs[static_cast<std::size_t>(insn_value_reg_)];
                if (src.kind == RegKind::Scalar && src.id == 0) src.id = new_id();
                spilled.id = src.id;
            }
            for (std::size_t i = 0; i < 8; ++i) {
                if (i < static_cast<std::size_t>(size))
                    slot->type[i] = SlotType::Spill;
                else if (slot->type[i] == SlotType::Spill)
                    slot->type[i] = SlotType::Misc;
            }
            slot->spilled = spilled;
            return {};
        }
        // Plain data: the touched bytes become Misc (or Zero for a known zero); a spill there is destroyed.
        bool zero = value_is_reg ? value->is_null() : imm == 0;
        if (slot->is_spill()) {
            for (auto& t : slot->type)
                if (t == SlotType::Spill) t = SlotType::Misc;
            slot->spilled = RegState{};
        }
        for (int i = 0; i < size; ++i)
            slot->type[b + static_cast<std::size_t>(i)] = zero ? SlotType::Zero : SlotType::Misc;
        return {};
    }

    // Reads.
    const bool allow_uninit = options_.privileged;
    if (v.is_const()) {
        auto [slot, b] = byte_at(lo);
        if (slot && slot->is_spill() && b == 0) {
            int spill = slot->spill_size();
            if (size == 8 && spill == 8) {
                if (out) *out = slot->spilled;
                return {};
            }
            if (slot->spilled.kind != RegKind::Scalar) {
                if (!options_.privileged || size == 8)
                    return std::unexpected(Failure{"invalid size of register fill",
                                                   fmt::format("the slot holds a spilled pointer ({}); it must be "
                                                               "read back with one 8-byte load",
                                                               slot->spilled.to_string()),
                                                   {regno}});
            } else if (size <= spill) {
                if (out) {
                    *out = slot->spilled;
                    if (size < spill) out->id = 0;
                    out->var = coerce(out->var, size, false);
                }
                return {};
            }
        }
        int zeros = 0;
        for (std::int64_t a = lo; a < hi; ++a) {
            auto [s, sb] = byte_at(a);
            SlotType t = s ? s->type[sb] : SlotType::Invalid;
            if (t == SlotType::Zero) ++zeros;
            if (t == SlotType::Spill && s->spilled.kind != RegKind::Scalar && !options_.privileged)
                return std::unexpected(
                    Failure{"leaking pointer from stack", "part of a spilled pointer is read", {regno}});
            if (t == SlotType::Spill && s->spilled.is_null()) ++zeros;
            if (t == SlotType::Invalid && !allow_uninit)
                return std::unexpected(Failure{
                    fmt::format("invalid read from stack off {}+{} size {}", lo, a - lo, size),
                    fmt::format("stack byte {} (r10{}) is read before anything was written to it on this path", a, a),
                    {regno}});
        }
        if (out) {
            if (zeros == size)
                *out = RegState::constant(0, pc);
            else
                *out = RegState::scalar(Scalar::of_size(static_cast<std::uint8_t>(size)), pc);
        }
        return {};
    }
    for (std::int64_t a = lo; a < hi; ++a) {
        auto [s, sb] = byte_at(a);
        SlotType t = s ? s->type[sb] : SlotType::Invalid;
        if (t == SlotType::Invalid && !allow_uninit)
            return std::unexpected(Failure{
                fmt::format("invalid variable-offset read from stack R{} var_off={} off={} size={}", regno,
                            v.var_off.to_string(), base, size),
                fmt::format("with the variable offset, the read may touch stack byte {}, which nothing wrote", a),
                {regno}});
        if (t == SlotType::Spill && s->spilled.kind != RegKind::Scalar && !options_.privileged)
            return std::unexpected(
                Failure{"leaking pointer from stack", "part of a spilled pointer may be read", {regno}});
    }
    if (out) *out = RegState::scalar(Scalar::of_size(static_cast<std::uint8_t>(size)), pc);
    return {};
}

Status Analyzer::check_load(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    const auto& info = isa::info(insn.op);
    if (auto r = check_reg_read(st, insn.src); !r) return r;
    if (auto w = check_reg_write(insn.dst); !w) return w;
    RegState base = st.cur().regs[insn.src];
    RegState out;
    const bool is_signed = info.shape == Shape::LdxSx;
    insn_value_reg_ = -1;
    if (auto r =
            check_mem_access(st, insn.src, base, insn.off, info.width, false, &out, nullptr, 0, is_signed, false, pc);
        !r)
        return r;
    if (out.kind == RegKind::Scalar && info.width < 8 && !is_signed && out.var.umax >> (info.width * 8) != 0)
        out.var = coerce(out.var, info.width, false);
    st.cur().regs[insn.dst] = out;
    return {};
}

Status Analyzer::check_store(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    const auto& info = isa::info(insn.op);
    if (auto r = check_reg_read(st, insn.dst); !r) return r;
    RegState base = st.cur().regs[insn.dst];
    if (info.shape == Shape::Stx) {
        if (auto r = check_reg_read(st, insn.src); !r) return r;
        RegState value = st.cur().regs[insn.src];
        insn_value_reg_ = insn.src;
        return check_mem_access(st, insn.dst, base, insn.off, info.width, true, nullptr, &value, 0, false, false, pc);
    }
    // BPF_ST into the context is checked as a BPF_STX store of a scalar: Linux >= 6.3 accepts it wherever the
    // register form is allowed (commit "bpf: allow ctx writes using BPF_ST_MEM instruction").
    insn_value_reg_ = -1;
    std::int64_t imm = insn.imm;
    return check_mem_access(st, insn.dst, base, insn.off, info.width, true, nullptr, nullptr, imm, false, false, pc);
}

Status Analyzer::check_atomic(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    const auto& info = isa::info(insn.op);
    const int size = info.width / 8;
    if (auto r = check_reg_read(st, insn.dst); !r) return r;
    if (auto r = check_reg_read(st, insn.src); !r) return r;
    const bool cmpxchg = info.text == "cmpxchg";
    const bool fetch = (insn.imm & isa::kAtomicFetch) != 0;
    if (cmpxchg) {
        if (auto r = check_reg_read(st, 0); !r) return r;
    }
    RegState base = st.cur().regs[insn.dst];
    RegState value = st.cur().regs[insn.src];
    if (value.is_pointer() && !options_.privileged)
        return std::unexpected(Failure{fmt::format("R{} leaks addr into mem", insn.src),
                                       "an atomic operation would store a pointer into memory",
                                       {insn.src}});
    if (cmpxchg && st.cur().regs[0].is_pointer() && !options_.privileged)
        return std::unexpected(Failure{"R0 leaks addr into mem",
                                       "cmpxchg compares r0, a pointer, with memory: the outcome reveals the address",
                                       {0}});
    if (base.kind == RegKind::Stack && !options_.privileged && base.var.is_const() && base.aux < st.frames.size()) {
        const std::int64_t at = base.off + insn.off + static_cast<std::int64_t>(base.var.value());
        if (at < 0 && at >= -static_cast<std::int64_t>(isa::kStackSize)) {
            if (StackSlot* slot = st.frames[base.aux].slot(at); slot && slot->is_spill() && slot->spilled.is_pointer())
                return std::unexpected(Failure{fmt::format("leaking pointer from stack off {}", at),
                                               "the atomic operation would turn a spilled pointer into a number",
                                               {insn.dst}});
        }
    }
    if (base.kind != RegKind::Stack && base.kind != RegKind::MapValue && base.kind != RegKind::Mem &&
        !base.maybe_null && base.kind != RegKind::Scalar && base.kind != RegKind::NotInit)
        return std::unexpected(
            Failure{fmt::format("BPF_ATOMIC stores into R{} {} is not allowed", insn.dst, kind_name(base.kind)),
                    "atomic operations work on the stack and map values only",
                    {insn.dst}});
    // Atomics must be aligned to their size on every architecture.
    if (base.kind != RegKind::Scalar && !base.maybe_null) {
        Tnum addr =
            tnum_add(base.var.var_off,
                     Tnum::constant(static_cast<std::uint64_t>(static_cast<std::int64_t>(base.off) + insn.off)));
        if (!addr.is_aligned(static_cast<std::uint64_t>(size)))
            return std::unexpected(Failure{fmt::format("misaligned access off {}+{} size {}", base.off, insn.off, size),
                                           fmt::format("atomic operations need {}-byte alignment", size),
                                           {insn.dst}});
    }
    insn_value_reg_ = -1;
    RegState loaded;
    if (auto r = check_mem_access(st, insn.dst, base, insn.off, size, false, &loaded, nullptr, 0, false, true, pc); !r)
        return r;
    RegState unknown_value = RegState::unknown(pc);
    if (auto r =
            check_mem_access(st, insn.dst, base, insn.off, size, true, nullptr, &unknown_value, 0, false, true, pc);
        !r)
        return r;
    // The stored result is some function of old and new: plain data, not a spill.
    if (base.kind == RegKind::Stack) {
        FrameState& frame = st.frames[base.aux];
        std::int64_t lo = base.off + insn.off + static_cast<std::int64_t>(base.var.is_const() ? base.var.value() : 0);
        if (StackSlot* slot = frame.slot(lo); slot && base.var.is_const()) {
            if (slot->is_spill() && size == 8) {
                slot->type.fill(SlotType::Misc);
                slot->spilled = RegState{};
            } else {
                auto b = static_cast<std::size_t>(lo + 8 * ((-lo - 1) / 8 + 1));
                for (int i = 0; i < size; ++i) slot->type[b + static_cast<std::size_t>(i)] = SlotType::Misc;
            }
        }
    }
    if (fetch) {
        int out_reg = cmpxchg ? 0 : insn.src;
        st.cur().regs[static_cast<std::size_t>(out_reg)] =
            RegState::scalar(Scalar::of_size(static_cast<std::uint8_t>(size)), pc);
    }
    return {};
}

Status Analyzer::check_ld_abs(State& st, const isa::Instruction& insn, std::uint32_t pc) {
    const auto& info = isa::info(insn.op);
    using object::ProgramType;
    if (options_.type != ProgramType::SocketFilter && options_.type != ProgramType::SchedCls &&
        options_.type != ProgramType::SchedAct)
        return std::unexpected(Failure{"BPF_LD_[ABS|IND] instructions not allowed for this program type",
                                       "legacy packet loads exist only for socket filters and tc programs",
                                       {}});
    if (!st.refs.empty())
        return std::unexpected(Failure{"BPF_LD_[ABS|IND] cannot be mixed with socket references",
                                       "a legacy packet load may end the program, which would leak the reference",
                                       {}});
    if (st.active_lock)
        return std::unexpected(Failure{"BPF_LD_[ABS|IND] cannot be used inside bpf_spin_lock-ed region", "", {}});
    const auto& r6 = st.cur().regs[6];
    if (r6.kind != RegKind::Ctx || r6.off != 0)
        return std::unexpected(Failure{"at the time of BPF_LD_ABS|IND R6 != pointer to skb",
                                       "legacy packet loads read through r6, which must hold the context",
                                       {6}});
    if (info.shape == Shape::LdInd) {
        if (auto r = check_reg_read(st, insn.src); !r) return r;
        if (st.cur().regs[insn.src].is_pointer() && !options_.privileged)
            return std::unexpected(Failure{fmt::format("R{} leaks addr", insn.src), "", {insn.src}});
    }
    auto& regs = st.cur().regs;
    for (int r = 1; r <= 5; ++r) regs[static_cast<std::size_t>(r)] = RegState{};
    regs[0] = RegState::scalar(Scalar::of_size(info.width), pc);
    return {};
}

}  // namespace xbpf::verifier
