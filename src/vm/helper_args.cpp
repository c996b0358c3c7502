// Checked mode's helper-argument test (helper_args.hpp): the run-time counterpart of the verifier's check_func_arg
// (kernel/bpf/verifier.c) for one concrete call, on the prototypes the verifier itself uses.
#include "vm/helper_args.hpp"

#include <string>
#include <vector>

#include <fmt/format.h>

#include "helpers/prototype.hpp"
#include "maps/ringbuf.hpp"

namespace xbpf::vm {
namespace {

using u64 = std::uint64_t;
using helpers::Arg;
using helpers::ArgType;

bool holds_maps(const maps::Map& m) {
    return m.type() == maps::MapType::ArrayOfMaps || m.type() == maps::MapType::HashOfMaps;
}

// Is `p` an inner map of the map-in-map `outer` (what bpf_map_lookup_elem on it returned)? Walks the outer map's
// keys: only unverified programs passing a map they did not name directly pay for it.
bool is_inner_map_of(maps::Map& outer, u64 p) {
    std::vector<std::uint8_t> key(outer.spec().key_size);
    std::vector<std::uint8_t> next(key.size());
    const void* cur = nullptr;
    for (std::uint64_t n = 0; n <= outer.spec().max_entries; ++n) {
        if (outer.get_next_key(cur, next.data()) != 0) return false;
        if (reinterpret_cast<u64>(outer.lookup(next.data())) == p) return true;
        key.swap(next);
        cur = key.data();
    }
    return false;
}

// The map whose address is `p`: one of the running program's maps (ARG_CONST_MAP_PTR comes from lddw src=1/5), or
// an inner map of one of its map-in-maps (CONST_PTR_TO_MAP from a lookup). Null when `p` is neither.
maps::Map* find_map(const Program::Impl& impl, u64 p) {
    for (const auto& m : impl.maps)
        if (reinterpret_cast<u64>(m.get()) == p) return m.get();
    for (const auto& m : impl.maps)
        if (m && holds_maps(*m) && is_inner_map_of(*m, p)) return reinterpret_cast<maps::Map*>(p);
    return nullptr;
}

class Checker {
  public:
    Checker(Engine& e, const helpers::Prototype& proto, const u64* args, std::size_t pc)
        : e_(e), proto_(proto), args_(args), pc_(pc) {}

    std::optional<Error> run() {
        for (std::size_t i = 0; i < proto_.args.size(); ++i)
            if (!check(i)) return error_;
        return std::nullopt;
    }

  private:
    // [addr, addr + size) must be accessible (written: writable).
    bool mem(std::size_t i, u64 addr, u64 size, bool write) {
        if (size == 0 || e_.access_ok(addr, size, write, e_.depth)) return true;
        return fail(i, fmt::format("{} byte{}, {}", size, size == 1 ? "" : "s", write ? "written" : "read"),
                    "is outside the memory this program may access");
    }

    bool check(std::size_t i) {
        const Arg& a = proto_.args[i];
        const u64 v = args_[i];
        const bool maybe_null = (a.flags & helpers::kMaybeNull) != 0;
        switch (a.type) {
            case ArgType::DontCare:
            case ArgType::Anything:
            case ArgType::ConstSize:  // checked with their PtrToMem
            case ArgType::ConstSizeOrZero:
            case ArgType::ConstAllocSizeOrZero:
            case ArgType::PtrToFunc: return true;  // engine_call accepts only function starts
            case ArgType::PtrToMem: {
                const bool write = (a.flags & helpers::kRdonly) == 0;
                if (a.flags & helpers::kFixedSize) {
                    if (v == 0 && maybe_null) return true;
                    return mem(i, v, a.fixed_size, write);
                }
                if (i + 1 >= proto_.args.size()) return true;  // no size argument: the table never says so
                const ArgType st = proto_.args[i + 1].type;
                if (st != ArgType::ConstSize && st != ArgType::ConstSizeOrZero) return true;
                const u64 size = args_[i + 1];
                if (size == 0 && st == ArgType::ConstSize)
                    return fail(i + 1, "", "is zero; this helper needs a size above zero");
                if (v == 0 && maybe_null) {
                    if (size == 0) return true;
                    return fail(i, fmt::format("{} bytes", size), "is NULL with a size above zero");
                }
                return mem(i, v, size, write);
            }
            case ArgType::ConstMapPtr:
                map_ = find_map(*e_.cur, v);
                if (map_) return true;
                return fail(i, "", "is not a map this program refers to");
            case ArgType::PtrToMapKey:
                if (!map_) return fail(i, "", "has no map argument before it");
                return mem(i, v, map_->spec().key_size, false);
            case ArgType::PtrToMapValue:
                if (!map_) return fail(i, "", "has no map argument before it");
                return mem(i, v, map_->spec().value_size, (a.flags & helpers::kUninit) != 0);
            case ArgType::PtrToCtx:
                if (v == e_.ctx.ctx) return true;
                return fail(i, "", fmt::format("is not the program's context ({:#x})", e_.ctx.ctx));
            case ArgType::PtrToSpinLock: return mem(i, v, 4, true);
            case ArgType::PtrToLong: return mem(i, v, 8, true);
            case ArgType::PtrToStack: {
                if (v == 0 && maybe_null) return true;
                const u64 bottom = e_.stack_top - (e_.depth + 1) * isa::kStackSize;
                if (v >= bottom && v <= e_.stack_top) return true;  // r10 itself included: never dereferenced
                return fail(i, "", "is not inside the active stack frames");
            }
            case ArgType::PtrToAllocMem: {
                // A sample bpf_ringbuf_reserve returned (granted at its start) in one of the program's ring
                // buffers: the helper reads the 8-byte record header before it to find the ring buffer.
                if (e_.granted_by_start.contains(v) && v >= 8)
                    for (const auto& m : e_.cur->maps)
                        if (m && m->type() == maps::MapType::Ringbuf &&
                            static_cast<const maps::RingbufMap&>(*m).contains(reinterpret_cast<const void*>(v - 8), 8))
                            return true;
                return fail(i, "", "is not a ring buffer sample from bpf_ringbuf_reserve");
            }
            case ArgType::PtrToConstStr: {
                // NUL-terminated inside readable memory (the kernel also wants a read-only map value; reading is
                // what the helper does).
                for (u64 p = v;; ++p) {
                    if (!e_.access_ok(p, 1, false, e_.depth))
                        return fail(i, "", "is not a NUL-terminated string in memory this program may read");
                    if (*reinterpret_cast<const char*>(p) == '\0') return true;
                }
            }
        }
        return true;
    }

    bool fail(std::size_t i, std::string_view what, std::string_view why) {
        error_ = make_error(ErrorCode::kRuntime,
                            fmt::format("helper bpf_{}#{}: argument {} (r{} = {:#x}{}{}) {}", proto_.name, proto_.id,
                                        i + 1, i + 1, args_[i], what.empty() ? "" : ", ", what, why),
                            at_insn(pc_))
                     .error();
        return false;
    }

    Engine& e_;
    const helpers::Prototype& proto_;
    const u64* args_;
    std::size_t pc_;
    maps::Map* map_ = nullptr;  // the latest ConstMapPtr argument (the map keys and values belong to)
    std::optional<Error> error_;
};

}  // namespace

std::optional<Error> check_helper_args(Engine& e, std::size_t helper_index, const std::uint64_t* args, std::size_t pc) {
    const auto proto = helpers::prototype(e.cur->helper_ids[helper_index]);
    if (!proto) return std::nullopt;  // an embedder's own helper: its contract is unknown here
    return Checker(e, *proto, args, pc).run();
}

}  // namespace xbpf::vm
