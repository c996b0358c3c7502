// Calls and exits: helper calls checked against helpers::prototype (check_helper_call / check_func_arg), map
// compatibility (check_map_func_compatibility), references (ring buffer records) and spin locks, bpf-to-bpf calls
// with a frame per call, callbacks (bpf_loop, bpf_for_each_map_elem) iterated to a fixed point, and the return
// rules of program exit.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "helpers/prototype.hpp"
#include "isa/helper_names.hpp"
#include "maps/cpu.hpp"
#include "object/core.hpp"
#include "verifier/analyzer/analyzer.hpp"

namespace xbpf::verifier {

using helpers::ArgType;
using maps::MapType;

namespace {

constexpr std::int32_t kTailCall = 12;
constexpr std::int32_t kSpinLock = 93;
constexpr std::int32_t kSpinUnlock = 94;
constexpr std::int32_t kForEachMapElem = 164;
constexpr std::int32_t kLoop = 181;
constexpr std::int64_t kMaxVarOff = 1 << 29;
constexpr std::int32_t kCorePoisonCall = object::kCorePoisonHelper;

bool is_callback_helper(std::int32_t id) { return id == kLoop || id == kForEachMapElem; }

/// The kernel's check_map_func_compatibility, for the helpers and maps xbpf knows. Empty string: compatible.
std::string map_func_incompatibility(MapType map, std::int32_t func) {
    auto only = [&](std::initializer_list<std::int32_t> ids) {
        return std::find(ids.begin(), ids.end(), func) != ids.end();
    };
    bool map_ok = true;
    switch (map) {
        case MapType::ProgArray: map_ok = only({kTailCall}); break;
        case MapType::PerfEventArray: map_ok = only({22, 25, 55, 111, 121}); break;
        case MapType::Ringbuf: map_ok = only({130, 131, 134}); break;
        case MapType::StackTrace: map_ok = only({27}); break;
        case MapType::CgroupArray: map_ok = only({33, 37}); break;
        case MapType::Queue:
        case MapType::Stack: map_ok = only({87, 88, 89}); break;
        case MapType::BloomFilter: map_ok = only({87, 89}); break;
        case MapType::ArrayOfMaps:
        case MapType::HashOfMaps: map_ok = only({1}); break;
        default: break;
    }
    if (!map_ok) return "map";
    bool func_ok = true;
    switch (func) {
        case kTailCall: func_ok = map == MapType::ProgArray; break;
        case 22:
        case 25:
        case 55:
        case 111:
        case 121: func_ok = map == MapType::PerfEventArray; break;
        case 130:
        case 131:
        case 134: func_ok = map == MapType::Ringbuf; break;
        case 27: func_ok = map == MapType::StackTrace; break;
        case 33:
        case 37: func_ok = map == MapType::CgroupArray; break;
        case 87:
        case 89: func_ok = map == MapType::Queue || map == MapType::Stack || map == MapType::BloomFilter; break;
        case 88: func_ok = map == MapType::Queue || map == MapType::Stack; break;
        case kForEachMapElem:
            func_ok = map == MapType::Array || map == MapType::PercpuArray || map == MapType::Hash ||
                      map == MapType::PercpuHash || map == MapType::LruHash || map == MapType::LruPercpuHash;
            break;
        default: break;
    }
    return func_ok ? "" : "func";
}

}  // namespace

std::optional<std::pair<std::int64_t, std::int64_t>> return_range(object::ProgramType type, object::AttachType attach) {
    using object::AttachType;
    using object::ProgramType;
    using Range = std::pair<std::int64_t, std::int64_t>;
    switch (type) {
        case ProgramType::CgroupSkb: return attach == AttachType::CgroupInetEgress ? Range{0, 3} : Range{0, 1};
        case ProgramType::CgroupSock:
        case ProgramType::CgroupDevice:
        case ProgramType::CgroupSysctl:
        case ProgramType::CgroupSockopt:
        case ProgramType::CgroupSockAddr:
        case ProgramType::SockOps: return Range{0, 1};
        case ProgramType::Tracing:
            if (attach == AttachType::TraceFentry || attach == AttachType::TraceFexit) return Range{0, 0};
            if (attach == AttachType::TraceIter) return Range{0, 1};
            return std::nullopt;
        default: return std::nullopt;
    }
}

Status Analyzer::check_helper_mem(State& st, int regno, const RegState& reg, std::uint64_t min_size,
                                  std::uint64_t max_size, bool write, std::uint32_t pc) {
    if (max_size == 0) return {};
    (void)min_size;
    switch (reg.kind) {
        case RegKind::Stack: {
            const Scalar& v = reg.var;
            if (!v.is_const() && (v.smin <= -kMaxVarOff || v.smax >= kMaxVarOff))
                return std::unexpected(
                    Failure{fmt::format("invalid unbounded variable-offset indirect access to stack R{}", regno),
                            "the stack offset is not bounded",
                            {regno}});
            std::int64_t lo = reg.off + (v.is_const() ? static_cast<std::int64_t>(v.value()) : v.smin);
            std::int64_t hi = reg.off + (v.is_const() ? static_cast<std::int64_t>(v.value()) : v.smax) +
                              static_cast<std::int64_t>(max_size);
            if (write && (min_size != max_size || !v.is_const())) {
                // The helper may write fewer bytes than the range (or elsewhere in it): the range must already
                // be initialised, as the kernel requires when the size or offset is not constant.
                if (auto r = check_stack_range(st, regno, reg, lo, hi, false, pc); !r) return r;
            }
            return check_stack_range(st, regno, reg, lo, hi, write, pc);
        }
        case RegKind::Packet:
        case RegKind::PacketMeta:
        case RegKind::MapValue:
        case RegKind::MapKey:
        case RegKind::Mem: {
            // One access of the largest size covers the range (the region checks are on [off, off + size)).
            if (max_size > static_cast<std::uint64_t>(kMaxVarOff))
                return std::unexpected(Failure{fmt::format("R{} unbounded memory access", regno), "", {regno}});
            const int chunk = static_cast<int>(max_size);
            // check_map_access_type on the helper's access (off = the pointer's fixed offset, as the kernel
            // prints it): BPF_F_RDONLY_PROG maps may not be written, BPF_F_WRONLY_PROG maps not read.
            if (reg.kind == RegKind::MapValue && map_of(reg)) {
                const auto& spec = map_of(reg)->spec;
                if (write && (reg.rdonly || (spec.flags & maps::kFRdonlyProg)))
                    return std::unexpected(
                        Failure{fmt::format("write into map forbidden, value_size={} off={} size={}", spec.value_size,
                                            reg.off, chunk),
                                fmt::format("the helper writes into map '{}', which is read-only for programs",
                                            map_name(reg.aux)),
                                {regno}});
                if (!write && (spec.flags & maps::kFWronlyProg))
                    return std::unexpected(Failure{
                        fmt::format("read from map forbidden, value_size={} off={} size={}", spec.value_size, reg.off,
                                    chunk),
                        fmt::format("the helper reads map '{}', which is write-only for programs (BPF_F_WRONLY_PROG)",
                                    map_name(reg.aux)),
                        {regno}});
            }
            if (reg.kind == RegKind::MapKey && write)
                return std::unexpected(Failure{fmt::format("R{} cannot write into map_key", regno), "", {regno}});
            if (reg.kind == RegKind::Mem && write && reg.rdonly)
                return std::unexpected(Failure{fmt::format("R{} cannot write into rdonly mem", regno), "", {regno}});
            if (reg.kind == RegKind::Packet || reg.kind == RegKind::PacketMeta) {
                std::int64_t end = reg.off + chunk;
                if (reg.off < 0 || end > static_cast<std::int64_t>(reg.mem_size))
                    return std::unexpected(Failure{
                        fmt::format("invalid access to packet, off={} size={}, R{}(id={},off={},r={})", reg.off, chunk,
                                    regno, reg.id, reg.off, reg.mem_size),
                        fmt::format("the helper may access {} bytes at r{}, but only {} bytes past it were proven to "
                                    "be in the packet",
                                    chunk, regno,
                                    reg.mem_size > static_cast<std::uint32_t>(std::max(reg.off, 0))
                                        ? reg.mem_size - static_cast<std::uint32_t>(reg.off)
                                        : 0),
                        {regno}});
                return {};
            }
            std::uint64_t limit = reg.kind == RegKind::Mem      ? reg.mem_size
                                  : reg.kind == RegKind::MapKey ? (map_of(reg) ? map_of(reg)->spec.key_size : 0)
                                                                : (map_of(reg) ? map_of(reg)->spec.value_size : 0);
            const char* what = reg.kind == RegKind::Mem      ? "memory"
                               : reg.kind == RegKind::MapKey ? "map key"
                                                             : "map value";
            return check_region(regno, reg, 0, chunk, limit, what, pc);
        }
        default: break;
    }
    if (reg.maybe_null)
        return std::unexpected(Failure{
            fmt::format("R{} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem", regno, type_name(reg)),
            fmt::format("r{} may be NULL here: it comes from {} and is passed to the helper without a check", regno,
                        origin_text(reg)),
            {regno}});
    return std::unexpected(
        Failure{fmt::format("R{} type={} expected=fp, pkt, pkt_meta, map_key, map_value, mem", regno, type_name(reg)),
                fmt::format("the helper needs a pointer to memory in r{}, but it holds {}", regno, reg.to_string()),
                {regno}});
}

Status Analyzer::check_stack_range(State& st, int regno, const RegState& reg, std::int64_t min_off,
                                   std::int64_t max_end, bool write, std::uint32_t pc) {
    (void)pc;
    if (reg.aux >= st.frames.size()) return std::unexpected(Failure{"stack pointer of a returned frame", "", {regno}});
    FrameState& frame = st.frames[reg.aux];
    if (min_off < -static_cast<std::int64_t>(isa::kStackSize) || max_end > 0)
        return std::unexpected(Failure{
            fmt::format("invalid indirect access to stack R{} off={} size={}", regno, min_off, max_end - min_off),
            fmt::format("the helper may access [{}, {}) relative to r10; the stack is the {} bytes below r10", min_off,
                        max_end, isa::kStackSize),
            {regno}});
    auto& depth = stack_depth_[frame.function];
    depth = std::max(depth, static_cast<std::uint32_t>(-min_off));
    auto need = static_cast<std::size_t>((-min_off + 7) / 8);
    if (write && frame.stack.size() < need) frame.stack.resize(need);
    for (std::int64_t a = min_off; a < max_end; ++a) {
        auto index = static_cast<std::size_t>((-a - 1) / 8);
        auto b = static_cast<std::size_t>(a + 8 * static_cast<std::int64_t>(index + 1));
        if (write) {
            StackSlot& s = frame.stack[index];
            if (s.is_spill() && s.spilled.is_pointer() && !options_.privileged)
                return std::unexpected(Failure{"attempt to corrupt spilled pointer on stack",
                                               "the helper would overwrite part of a spilled pointer, whose bytes "
                                               "could then be read back",
                                               {regno}});
            if (s.is_spill()) {
                for (auto& t : s.type)
                    if (t == SlotType::Spill) t = SlotType::Misc;
                s.spilled = RegState{};
            }
            s.type[b] = SlotType::Misc;
            continue;
        }
        SlotType t = index < frame.stack.size() ? frame.stack[index].type[b] : SlotType::Invalid;
        if (t == SlotType::Invalid && !options_.privileged)
            return std::unexpected(
                Failure{fmt::format("invalid indirect read from stack R{} off {}+{} size {}", regno, min_off,
                                    a - min_off, max_end - min_off),
                        fmt::format("the helper reads stack byte {} (r10{}), which nothing on this path wrote", a, a),
                        {regno}});
        if (t == SlotType::Spill && frame.stack[index].spilled.is_pointer() && !options_.privileged)
            return std::unexpected(Failure{fmt::format("R{} leaks addr into helper function", regno), "", {regno}});
    }
    return {};
}

std::expected<bool, Failure> Analyzer::check_helper_call(Path& path, const isa::Instruction& insn, std::uint32_t pc) {
    State& st = path.state;
    const std::int32_t func = insn.imm;
    auto proto = helpers::prototype(func);
    if (!proto && func == kCorePoisonCall)
        return std::unexpected(Failure{
            fmt::format("invalid func unknown#{}", func),
            "this call is libbpf's marker for a CO-RE relocation that failed (the field or type it needs does not "
            "exist in the target kernel's BTF); a program may keep such code only where it cannot be reached",
            {}});
    if (!proto) {
        std::string_view name = isa::helper_name(func);
        return std::unexpected(Failure{
            fmt::format("invalid func {}#{}", name.empty() ? "unknown" : std::string("bpf_") + std::string(name), func),
            name.empty() ? fmt::format("there is no helper with id {}", func)
                         : fmt::format("xbpf does not implement bpf_{} (helper {})", name, func),
            {}});
    }
    // The program type's get_func_proto (check_helper_call: "program of this type cannot use helper").
    if (!helpers::offered_to(func, static_cast<std::uint32_t>(options_.type), options_.privileged)) {
        const bool perfmon_only = helpers::offered_to(func, static_cast<std::uint32_t>(options_.type), true);
        return std::unexpected(Failure{
            fmt::format("program of this type cannot use helper bpf_{}#{}", proto->name, func),
            perfmon_only ? fmt::format("{} programs may call bpf_{} only when loaded with CAP_PERFMON (privileged)",
                                       object::program_type_name(options_.type), proto->name)
                         : fmt::format("the kernel does not offer bpf_{} to {} programs", proto->name,
                                       object::program_type_name(options_.type)),
            {}});
    }
    if (proto->gpl_only && !options_.gpl_compatible)
        return std::unexpected(
            Failure{"cannot call GPL-restricted function from non-GPL compatible program",
                    fmt::format("bpf_{} is only for programs with a GPL-compatible license", proto->name),
                    {}});
    if (st.active_lock && func != kSpinUnlock)
        return std::unexpected(Failure{"function calls are not allowed while holding a lock",
                                       fmt::format("the program holds the bpf_spin_lock taken at insn {} and calls "
                                                   "bpf_{} before releasing it",
                                                   st.active_lock - 1, proto->name),
                                       {}});
    if (func == kTailCall && !st.refs.empty())
        return std::unexpected(Failure{"tail_call would lead to reference leak",
                                       fmt::format("the reference acquired at insn {} is still held; a tail call "
                                                   "would never release it",
                                                   st.refs.front().insn),
                                       {}});

    struct Meta {
        std::int64_t map = -1;
        int mem_reg = -1;
        bool mem_write = false;
        bool mem_null = false;
        std::uint64_t msize_max = 0;
        std::uint32_t alloc_size = 0;
        std::uint32_t release_ref = 0;
        std::int64_t callback = -1;
    } meta;

    auto& regs = st.cur().regs;
    const int nargs = helpers::arg_count(*proto);
    for (int i = 0; i < nargs; ++i) {
        const helpers::Arg& arg = proto->args[static_cast<std::size_t>(i)];
        const int r = i + 1;
        if (arg.type == ArgType::DontCare) continue;
        if (auto ok = check_reg_read(st, r); !ok) return std::unexpected(std::move(ok.error()));
        RegState reg = regs[static_cast<std::size_t>(r)];
        auto type_error = [&](const char* expected) {
            std::string why = reg.maybe_null ? fmt::format(
                                                   "r{} may be NULL here: it comes from {} and is passed to bpf_{} "
                                                   "without a check",
                                                   r, origin_text(reg), proto->name)
                                             : fmt::format("argument {} of bpf_{} must be {}, but r{} holds {}", r,
                                                           proto->name, expected, r, reg.to_string());
            return std::unexpected(
                Failure{fmt::format("R{} type={} expected={}", r, type_name(reg), expected), std::move(why), {r}});
        };
        const bool may_be_null = (arg.flags & helpers::kMaybeNull) != 0;
        switch (arg.type) {
            case ArgType::DontCare: break;
            case ArgType::Anything:
                if (reg.is_pointer() && !options_.privileged)
                    return std::unexpected(Failure{fmt::format("R{} leaks addr into helper function", r),
                                                   "passing a pointer where a number is expected exposes the address",
                                                   {r}});
                break;
            case ArgType::ConstMapPtr: {
                if (reg.kind != RegKind::MapPtr || reg.maybe_null) return type_error("map_ptr");
                meta.map = reg.aux;
                const auto& spec = maps_[reg.aux].spec;
                std::string bad = map_func_incompatibility(spec.type, func);
                if (!bad.empty())
                    return std::unexpected(Failure{fmt::format("cannot pass map_type {} into func bpf_{}#{}",
                                                               static_cast<int>(spec.type), proto->name, func),
                                                   fmt::format("bpf_{} does not work on {} maps like '{}'", proto->name,
                                                               maps::map_type_name(spec.type), map_name(reg.aux)),
                                                   {r}});
                break;
            }
            case ArgType::PtrToMapKey:
            case ArgType::PtrToMapValue: {
                if (meta.map < 0) return std::unexpected(Failure{"invalid map_ptr to access map->key", "", {r}});
                const auto& spec = maps_[static_cast<std::size_t>(meta.map)].spec;
                std::uint32_t size = arg.type == ArgType::PtrToMapKey ? spec.key_size : spec.value_size;
                bool write = (arg.flags & helpers::kUninit) != 0;
                if ((reg.kind == RegKind::Packet || reg.kind == RegKind::PacketMeta) && !proto->pkt_access)
                    return type_error("fp, map_value");
                if (auto ok = check_helper_mem(st, r, reg, size, size, write, pc); !ok)
                    return std::unexpected(std::move(ok.error()));
                break;
            }
            case ArgType::PtrToMem: {
                if (may_be_null && reg.is_null()) {
                    meta.mem_reg = r;
                    meta.mem_null = true;
                    break;
                }
                meta.mem_null = false;
                if (!reg.is_pointer() || reg.kind == RegKind::Ctx || reg.kind == RegKind::MapPtr ||
                    reg.kind == RegKind::PacketEnd || reg.kind == RegKind::Func || reg.maybe_null)
                    return type_error("fp, pkt, pkt_meta, map_key, map_value, mem");
                if ((reg.kind == RegKind::Packet || reg.kind == RegKind::PacketMeta) && !proto->pkt_access &&
                    (arg.flags & helpers::kUninit))
                    return type_error("fp, map_value, mem");
                bool write = (arg.flags & helpers::kUninit) != 0;
                if (arg.flags & helpers::kFixedSize) {
                    if (auto ok = check_helper_mem(st, r, reg, arg.fixed_size, arg.fixed_size, write, pc); !ok)
                        return std::unexpected(std::move(ok.error()));
                } else {
                    meta.mem_reg = r;
                    meta.mem_write = write;
                }
                break;
            }
            case ArgType::ConstSize:
            case ArgType::ConstSizeOrZero: {
                if (reg.kind != RegKind::Scalar)
                    return std::unexpected(Failure{fmt::format("R{} is not a scalar", r),
                                                   fmt::format("argument {} of bpf_{} is a size", r, proto->name),
                                                   {r}});
                const Scalar& v = reg.var;
                if (v.smin < 0)
                    return std::unexpected(Failure{
                        fmt::format("R{} min value is negative, either use unsigned or 'var &= const'", r),
                        fmt::format("the size passed to bpf_{} may be negative ({})", proto->name, v.to_string()),
                        {r}});
                if (v.umin == 0 && arg.type == ArgType::ConstSize)
                    return std::unexpected(Failure{fmt::format("R{} invalid zero-sized read", r),
                                                   fmt::format("the size passed to bpf_{} may be 0", proto->name),
                                                   {r}});
                if (v.umax >= static_cast<std::uint64_t>(kMaxVarOff))
                    return std::unexpected(
                        Failure{fmt::format("R{} unbounded memory access, use 'var &= const' or 'if (var < const)'", r),
                                fmt::format("the size passed to bpf_{} has no upper bound the verifier can see ({})",
                                            proto->name, v.to_string()),
                                {r}});
                meta.msize_max = v.umax;
                if (meta.mem_reg >= 0) {
                    if (meta.mem_null) {
                        if (v.umax != 0)
                            return std::unexpected(Failure{
                                fmt::format("R{} type=scalar expected=fp, pkt, pkt_meta, map_key, map_value, mem",
                                            meta.mem_reg),
                                "a NULL buffer needs a size of 0",
                                {meta.mem_reg, r}});
                    } else if (auto ok = check_helper_mem(st, meta.mem_reg,
                                                          st.cur().regs[static_cast<std::size_t>(meta.mem_reg)], v.umin,
                                                          v.umax, meta.mem_write, pc);
                               !ok) {
                        return std::unexpected(std::move(ok.error()));
                    }
                }
                break;
            }
            case ArgType::ConstAllocSizeOrZero:
                if (!reg.is_const())
                    return std::unexpected(Failure{fmt::format("R{} is not a known constant'", r),
                                                   fmt::format("the size of memory bpf_{} allocates must be a "
                                                               "constant",
                                                               proto->name),
                                                   {r}});
                if (reg.var.value() >= static_cast<std::uint64_t>(kMaxVarOff))
                    return std::unexpected(Failure{fmt::format("R{} size is too large", r), "", {r}});
                meta.alloc_size = static_cast<std::uint32_t>(reg.var.value());
                break;
            case ArgType::PtrToCtx:
                if (reg.kind != RegKind::Ctx) return type_error("ctx");
                if (reg.off != 0 || !reg.var.is_const() || reg.var.value() != 0)
                    return std::unexpected(
                        Failure{fmt::format("dereference of modified ctx ptr R{} off={} disallowed", r, reg.off),
                                "helpers need the context pointer exactly as the program received it",
                                {r}});
                break;
            case ArgType::PtrToSpinLock: {
                if (reg.kind != RegKind::MapValue || reg.maybe_null) return type_error("map_value");
                const auto& spec = maps_[reg.aux].spec;
                if (!reg.var.is_const())
                    return std::unexpected(Failure{
                        fmt::format("R{} doesn't have constant offset. bpf_spin_lock has to be at the constant offset",
                                    r),
                        "",
                        {r}});
                if (spec.spin_lock_off < 0)
                    return std::unexpected(
                        Failure{fmt::format("map '{}' has no valid bpf_spin_lock", map_name(reg.aux)),
                                "the map's value type has no struct bpf_spin_lock field",
                                {r}});
                std::int64_t at = reg.off + static_cast<std::int64_t>(reg.var.value());
                if (at != spec.spin_lock_off)
                    return std::unexpected(Failure{fmt::format("off {} doesn't point to 'struct bpf_spin_lock' that is "
                                                               "at {}",
                                                               at, spec.spin_lock_off),
                                                   "",
                                                   {r}});
                break;
            }
            case ArgType::PtrToLong:
                if (auto ok = check_helper_mem(st, r, reg, 8, 8, true, pc); !ok)
                    return std::unexpected(std::move(ok.error()));
                break;
            case ArgType::PtrToAllocMem:
                if (reg.kind != RegKind::Mem || reg.ref_obj_id == 0 || reg.maybe_null) {
                    if (reg.maybe_null) return type_error("alloc_mem");
                    return type_error("alloc_mem");
                }
                if (reg.off != 0 || !reg.var.is_const() || reg.var.value() != 0)
                    return std::unexpected(
                        Failure{fmt::format("R{} must have zero offset when passed to release func", r),
                                "pass the pointer bpf_ringbuf_reserve returned, not one moved from it",
                                {r}});
                meta.release_ref = reg.ref_obj_id;
                break;
            case ArgType::PtrToFunc:
                if (reg.kind != RegKind::Func) return type_error("func");
                meta.callback = reg.aux;
                break;
            case ArgType::PtrToStack:
                if (may_be_null && reg.is_null()) break;
                if (reg.kind != RegKind::Stack) return type_error("fp");
                break;
            case ArgType::PtrToConstStr: {
                if (reg.kind != RegKind::MapValue || reg.maybe_null) return type_error("map_value");
                const MapInfo* map = map_of(reg);
                if (!reg.rdonly || !map || map->frozen_value.empty())
                    return std::unexpected(Failure{fmt::format("R{} does not point to a readonly map'", r),
                                                   "the format string must be a constant in read-only global data",
                                                   {r}});
                if (!reg.var.is_const())
                    return std::unexpected(Failure{fmt::format("R{} is not a constant address'", r), "", {r}});
                auto at = static_cast<std::size_t>(reg.off + static_cast<std::int64_t>(reg.var.value()));
                if (at >= map->frozen_value.size() ||
                    std::memchr(map->frozen_value.data() + at, 0, map->frozen_value.size() - at) == nullptr)
                    return std::unexpected(Failure{
                        "string is not zero-terminated", "the constant string has no terminating NUL in its map", {r}});
                break;
            }
        }
    }

    // Effects.
    if (meta.release_ref) {
        auto it =
            std::find_if(st.refs.begin(), st.refs.end(), [&](const RefState& s) { return s.id == meta.release_ref; });
        if (it == st.refs.end())
            return std::unexpected(Failure{"reference has not been acquired before",
                                           "the record was already submitted or discarded on this path",
                                           {1}});
        st.refs.erase(it);
        const bool privileged = options_.privileged;
        st.for_each_reg([&](RegState& r) {
            if (r.ref_obj_id == meta.release_ref) r = privileged ? RegState::unknown(pc) : RegState{};
        });
    }
    if (func == kSpinLock) {
        if (st.active_lock)
            return std::unexpected(Failure{"Locking two bpf_spin_locks are not allowed",
                                           fmt::format("the lock taken at insn {} is still held", st.active_lock - 1),
                                           {1}});
        st.active_lock = pc + 1;
    } else if (func == kSpinUnlock) {
        if (!st.active_lock)
            return std::unexpected(
                Failure{"bpf_spin_unlock without taking a lock", "no bpf_spin_lock is held on this path", {1}});
        st.active_lock = 0;
    }
    if (helper_changes_packet_data(func)) invalidate_packet_pointers(st);

    // The return value and the clobbered argument registers.
    RegState ret;
    switch (proto->ret) {
        case helpers::RetType::Integer: {
            ret = RegState::unknown(pc);
            if (func == 45 || func == 114 || func == 115 || func == 67) {
                // do_refine_retval_range: at most the buffer size, or a negative errno.
                ret.var = Scalar::signed_range(-4095, static_cast<std::int64_t>(meta.msize_max));
            } else if (func == 8) {
                ret.var = Scalar::unsigned_range(0, maps::num_possible_cpus() - 1);
            }
            break;
        }
        case helpers::RetType::Void: break;
        case helpers::RetType::PtrToMapValueOrNull: {
            auto m = static_cast<std::uint32_t>(meta.map);
            if (inner_of_[m] != ~0u) {
                ret = RegState::pointer(RegKind::MapPtr, inner_of_[m], pc);
            } else {
                ret = RegState::pointer(RegKind::MapValue, m, pc);
                ret.rdonly = (maps_[m].spec.flags & maps::kFRdonlyProg) != 0;
            }
            ret.maybe_null = true;
            ret.id = new_id();
            break;
        }
        case helpers::RetType::PtrToAllocMemOrNull: {
            ret = RegState::pointer(RegKind::Mem, 0, pc);
            ret.mem_size = meta.alloc_size;
            ret.maybe_null = true;
            ret.id = new_id();
            ret.ref_obj_id = new_id();
            st.refs.push_back(RefState{ret.ref_obj_id, pc});
            break;
        }
    }

    if (is_callback_helper(func) && meta.callback >= 0) {
        // Fork: the helper returns (the callback ran some number of times, maybe none), or the callback runs once
        // more from here; when it returns, the walk comes back to this call (see check_exit).
        if (st.frames.size() >= isa::kMaxCallDepth)
            return std::unexpected(
                Failure{fmt::format("the call stack of {} frames is too deep !", st.frames.size() + 1),
                        "bpf-to-bpf calls and callbacks nest at most 8 deep",
                        {}});
        State done = st;
        auto& dregs = done.cur().regs;
        for (int r = 1; r <= 5; ++r) dregs[static_cast<std::size_t>(r)] = RegState{};
        dregs[0] = ret;
        done.pc = pc + 1;
        Path done_path{std::move(done), path.parent, path.history};
        if (done_path.parent) ++done_path.parent->branches;
        pending_.push_back(std::move(done_path));

        FrameState callee;
        callee.function = static_cast<std::uint32_t>(meta.callback);
        callee.callsite = pc;
        callee.frameno = static_cast<std::uint32_t>(st.frames.size());
        callee.is_callback = true;
        callee.callback_helper = static_cast<std::uint32_t>(func);
        const auto& caller = st.cur().regs;
        if (func == kLoop) {
            callee.regs[1] = RegState::scalar(Scalar::of_size(4), pc);
            callee.regs[2] = caller[3];
        } else {
            auto m = static_cast<std::uint32_t>(meta.map);
            callee.regs[1] = caller[1];
            callee.regs[2] = RegState::pointer(RegKind::MapKey, m, pc);
            callee.regs[3] = RegState::pointer(RegKind::MapValue, m, pc);
            callee.regs[3].rdonly = (maps_[m].spec.flags & maps::kFRdonlyProg) != 0;
            callee.regs[4] = caller[3];
        }
        callee.regs[10] = RegState::pointer(RegKind::Stack, callee.frameno);
        st.frames.push_back(std::move(callee));
        ++st.callback_iterations;
        std::uint32_t start = static_cast<std::uint32_t>(cfg_.functions[static_cast<std::size_t>(meta.callback)].start);
        record_jump(path, pc, start);
        st.pc = start;
        return true;
    }

    for (int r = 1; r <= 5; ++r) regs[static_cast<std::size_t>(r)] = RegState{};
    regs[0] = ret;
    st.pc = pc + 1;
    return true;
}

Status Analyzer::check_local_call(Path& path, const isa::Instruction& insn, std::uint32_t pc) {
    State& st = path.state;
    auto target = static_cast<std::size_t>(insn.target(pc));
    int f = cfg_.function_at(target);
    if (f < 0) return std::unexpected(Failure{fmt::format("call to insn {} is not a function start", target), "", {}});
    for (const auto& frame : st.frames)
        if (frame.function == static_cast<std::uint32_t>(f) && !frame.is_callback)
            return std::unexpected(Failure{
                fmt::format("recursive call from insn {} to {}", pc, target), "bpf-to-bpf calls may not recurse", {}});
    if (static_cast<std::size_t>(f) < globals().size() && globals()[static_cast<std::size_t>(f)].is_global)
        return check_global_call(st, f, pc);
    if (st.frames.size() >= isa::kMaxCallDepth)
        return std::unexpected(Failure{fmt::format("the call stack of {} frames is too deep !", st.frames.size() + 1),
                                       "bpf-to-bpf calls nest at most 8 deep",
                                       {}});
    FrameState callee;
    callee.function = static_cast<std::uint32_t>(f);
    callee.callsite = pc;
    callee.frameno = static_cast<std::uint32_t>(st.frames.size());
    auto& caller = st.cur().regs;
    for (int r = 1; r <= 5; ++r) callee.regs[static_cast<std::size_t>(r)] = caller[static_cast<std::size_t>(r)];
    callee.regs[10] = RegState::pointer(RegKind::Stack, callee.frameno);
    for (int r = 0; r <= 5; ++r) caller[static_cast<std::size_t>(r)] = RegState{};
    st.frames.push_back(std::move(callee));
    record_jump(path, pc, static_cast<std::uint32_t>(target));
    st.pc = static_cast<std::uint32_t>(target);
    return {};
}

const std::vector<GlobalFunc>& Analyzer::globals() {
    if (globals_.empty() && !cfg_.functions.empty()) {
        globals_.resize(cfg_.functions.size());
        global_queued_.assign(cfg_.functions.size(), 0);
        if (options_.program_btf && options_.spec)
            for (std::size_t f = 1; f < cfg_.functions.size(); ++f)
                globals_[f] =
                    global_function(options_.program_btf, *options_.spec, cfg_.functions[f].start, options_.type);
    }
    return globals_;
}

Status Analyzer::check_global_call(State& st, int f, std::uint32_t pc) {
    const auto fi = static_cast<std::size_t>(f);
    const GlobalFunc& g = globals()[fi];
    auto invalid = [&](std::string detail, std::string why, std::vector<int> regs) {
        return std::unexpected(
            Failure{fmt::format("Caller passes invalid args into func#{} ('{}') ({})", f, g.name, detail),
                    std::move(why), std::move(regs)});
    };
    if (!g.error.empty())
        return invalid(g.error,
                       fmt::format("{}() is global: the kernel verifies it once from its BTF prototype, and "
                                   "cannot type this one",
                                   g.name),
                       {});
    if (st.active_lock)
        return std::unexpected(Failure{
            "global function calls are not allowed while holding a lock, use static function instead",
            fmt::format("the program holds the bpf_spin_lock taken at insn {} and calls the global function {}()",
                        st.active_lock - 1, g.name),
            {}});
    // btf_check_func_arg_match.
    auto& regs = st.cur().regs;
    for (std::size_t i = 0; i < g.args.size(); ++i) {
        const int r = static_cast<int>(i) + 1;
        const GlobalArg& arg = g.args[i];
        if (auto ok = check_reg_read(st, r); !ok) return std::unexpected(std::move(ok.error()));
        const RegState reg = regs[static_cast<std::size_t>(r)];
        switch (arg.kind) {
            case GlobalArg::Kind::Scalar:
                if (reg.kind != RegKind::Scalar)
                    return invalid(fmt::format("R{} is not a scalar", r),
                                   fmt::format("argument {} of {}() is a number, but r{} holds {}", i + 1, g.name, r,
                                               reg.to_string()),
                                   {r});
                break;
            case GlobalArg::Kind::Ctx:
                if (reg.kind != RegKind::Ctx || reg.maybe_null)
                    return invalid(fmt::format("arg#{} expects pointer to ctx", i),
                                   fmt::format("argument {} of {}() is the program's context, but r{} holds {}", i + 1,
                                               g.name, r, reg.to_string()),
                                   {r});
                if (reg.off != 0 || !reg.var.is_const() || reg.var.value() != 0)
                    return std::unexpected(
                        Failure{fmt::format("dereference of modified ctx ptr R{} off={} disallowed", r, reg.off),
                                "pass the context pointer exactly as the program received it",
                                {r}});
                break;
            case GlobalArg::Kind::Mem: {
                if (reg.is_null()) break;  // check_mem_reg: NULL passes (even for arg:nonnull, as in the kernel)
                // check_mem_reg: `size` bytes must be readable and writable (the callee may do either).
                RegState nonnull = reg;
                nonnull.maybe_null = false;
                if (auto ok = check_helper_mem(st, r, nonnull, arg.size, arg.size, false, pc); !ok)
                    return invalid(ok.error().message, std::move(ok.error().explanation), {r});
                if (auto ok = check_helper_mem(st, r, nonnull, arg.size, arg.size, true, pc); !ok)
                    return invalid(ok.error().message, std::move(ok.error().explanation), {r});
                if (!arg.nullable && reg.maybe_null)
                    return invalid(fmt::format("arg#{} is expected to be non-NULL", i),
                                   fmt::format("r{} may be NULL: it comes from {}", r, origin_text(reg)), {r});
                break;
            }
        }
    }
    // A global function that may move packet data invalidates the caller's packet pointers (changes_pkt_data).
    bool changes_pkt = false;
    std::vector<std::size_t> todo{fi};
    std::vector<std::uint8_t> seen(cfg_.functions.size(), 0);
    while (!todo.empty() && !changes_pkt) {
        const std::size_t cur = todo.back();
        todo.pop_back();
        if (seen[cur]) continue;
        seen[cur] = 1;
        for (std::size_t s = cfg_.functions[cur].start; s < cfg_.functions[cur].end; ++s) {
            const auto& in = insns_[s];
            if (in.is_lddw_tail) continue;
            if (in.op == isa::Op::Call && helper_changes_packet_data(in.imm)) changes_pkt = true;
            if (in.op == isa::Op::CallLocal) {
                const int callee = cfg_.function_at(static_cast<std::size_t>(in.target(s)));
                if (callee >= 0) todo.push_back(static_cast<std::size_t>(callee));
            }
        }
    }
    if (changes_pkt) invalidate_packet_pointers(st);
    // Queue the function's own verification (do_check_subprogs: every called global function, once, after the
    // main program: the queue sits below the main program's pending paths, lowest function first).
    if (!global_queued_[fi]) {
        global_queued_[fi] = 1;
        State entry;
        FrameState frame;
        frame.function = static_cast<std::uint32_t>(f);
        for (std::size_t i = 0; i < g.args.size(); ++i) {
            RegState& a = frame.regs[i + 1];
            switch (g.args[i].kind) {
                case GlobalArg::Kind::Scalar: a = RegState::unknown(); break;
                case GlobalArg::Kind::Ctx: a = RegState::pointer(RegKind::Ctx); break;
                case GlobalArg::Kind::Mem:
                    a = RegState::pointer(RegKind::Mem);
                    a.mem_size = g.args[i].size;
                    a.maybe_null = g.args[i].nullable;
                    if (a.maybe_null) a.id = new_id();
                    break;
            }
        }
        frame.regs[10] = RegState::pointer(RegKind::Stack, 0);
        entry.frames.push_back(std::move(frame));
        entry.pc = static_cast<std::uint32_t>(cfg_.functions[fi].start);
        auto is_global_entry = [&](const Path& p) {
            return p.history == nullptr && p.parent == nullptr && p.state.frames.size() == 1 &&
                   p.state.frames[0].function != 0;
        };
        auto at = pending_.begin();
        while (at != pending_.end() && is_global_entry(*at) && at->state.frames[0].function > frame.function) ++at;
        pending_.insert(at, Path{std::move(entry), nullptr, nullptr});
    }
    for (int r = 1; r <= 5; ++r) regs[static_cast<std::size_t>(r)] = RegState{};
    regs[0] = RegState::unknown(pc);
    st.pc = pc + 1;
    return {};
}

std::expected<bool, Failure> Analyzer::check_exit(Path& path, std::uint32_t pc) {
    State& st = path.state;
    // A bpf-to-bpf callee may return nothing (a void function): the caller's r0 is then unreadable.
    const std::uint32_t own_function = st.frames.front().function;  // != 0: a global function verified alone
    const bool plain_callee = st.frames.size() > 1 && !st.cur().is_callback;
    if (auto r = check_reg_read(st, 0); !r && !plain_callee) {
        Failure f = std::move(r.error());
        f.explanation = st.frames.size() > 1 ? "the callback returns without setting r0"
                                             : "the program exits without setting r0, its return value";
        return std::unexpected(std::move(f));
    }
    const RegState r0 = st.cur().regs[0];
    if (st.frames.size() > 1) {
        FrameState& frame = st.cur();
        if (r0.kind == RegKind::Stack && r0.aux == frame.frameno)
            return std::unexpected(Failure{
                "cannot return stack pointer to the caller", "the function's stack is gone once it returns", {0}});
        if (frame.is_callback) {
            if (r0.kind != RegKind::Scalar || r0.var.smin < 0 || r0.var.smax > 1)
                return std::unexpected(Failure{
                    fmt::format("At callback return the register R0 has {} should have been in [0, 1]", r0.to_string()),
                    fmt::format("bpf_{} callbacks return 0 (continue) or 1 (stop)",
                                isa::helper_name(static_cast<std::int32_t>(frame.callback_helper))),
                    {0}});
            std::uint32_t callsite = frame.callsite;
            st.frames.pop_back();
            record_jump(path, pc, callsite);
            st.pc = callsite;  // the helper may call it again
            return true;
        }
        std::uint32_t callsite = frame.callsite;
        st.frames.pop_back();
        st.cur().regs[0] = r0;
        record_jump(path, pc, callsite + 1);
        st.pc = callsite + 1;
        return true;
    }
    if (st.active_lock)
        return std::unexpected(
            Failure{"bpf_spin_unlock is missing",
                    fmt::format("the lock taken at insn {} is still held at exit", st.active_lock - 1),
                    {}});
    if (!st.refs.empty()) {
        const auto& ref = st.refs.front();
        return std::unexpected(Failure{
            fmt::format("Unreleased reference id={} alloc_insn={}", ref.id, ref.insn),
            fmt::format("the ring buffer record reserved at insn {}{} is neither submitted nor discarded on this "
                        "path",
                        ref.insn, line_text(ref.insn)),
            {}});
    }
    if (own_function != 0) {
        // A global function verified on its own (check_return_code for a subprogram): r0 must be a number.
        if (r0.kind != RegKind::Scalar)
            return std::unexpected(
                Failure{fmt::format("At subprogram exit the register R0 is not a scalar value ({})", type_name(r0)),
                        "global functions return a number",
                        {0}});
        return false;
    }
    if (r0.is_pointer() && !options_.privileged)
        return std::unexpected(Failure{"R0 leaks addr as return value", "the program returns a pointer", {0}});
    // Return ranges (check_return_code) for the types that have one.
    auto range = return_range(options_.type, options_.attach);
    if (range) {
        if (r0.kind != RegKind::Scalar)
            return std::unexpected(
                Failure{fmt::format("At program exit the register R0 is not a known value ({})", type_name(r0)),
                        "this program type must return a number",
                        {0}});
        if (r0.var.smin < range->first || r0.var.smax > range->second)
            return std::unexpected(
                Failure{fmt::format("At program exit the register R0 has {} should have been in [{}, {}]",
                                    r0.to_string(), range->first, range->second),
                        fmt::format("{} programs must return a value in [{}, {}]",
                                    object::program_type_name(options_.type), range->first, range->second),
                        {0}});
    }
    return false;
}

}  // namespace xbpf::verifier
