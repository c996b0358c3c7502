// The helpers that need the engine itself: bpf_tail_call (switches the running program), bpf_loop and
// bpf_for_each_map_elem (run BPF callbacks through Context::call). Semantics of kernel/bpf/bpf_iter.c (bpf_loop),
// kernel/bpf/helpers.c / arraymap.c / hashtab.c (for_each) and the interpreter's tail call (kernel/bpf/core.c).
#include <cerrno>

#include "helpers/registry.hpp"
#include "maps/prog_array.hpp"
#include "vm/engine.hpp"
#include "vm/object.hpp"

namespace xbpf::vm {
namespace {

using u64 = std::uint64_t;

constexpr std::int32_t kTailCallId = 12;
constexpr std::int32_t kForEachMapElemId = 164;
constexpr std::int32_t kLoopId = 181;
constexpr u64 kMaxLoops = 1ull << 23;  // BPF_MAX_LOOPS

u64 neg(int err) { return static_cast<u64>(static_cast<std::int64_t>(-err)); }

// long bpf_tail_call(void *ctx, struct bpf_map *prog_array_map, u32 index): on success the engine runs the target
// from its entry once this returns (the caller never resumes); on failure the caller goes on with a negative r0:
// -EINVAL (not a prog_array), -ENOENT (empty slot or index out of range), -E2BIG (33 tail calls already taken).
u64 bpf_tail_call(u64 ctx, u64 map_ptr, u64 index, u64, u64, helpers::Context* c) {
    auto* map = reinterpret_cast<maps::Map*>(map_ptr);
    if (!map || map->type() != maps::MapType::ProgArray) return neg(EINVAL);
    auto* array = static_cast<maps::ProgArrayMap*>(map);
    maps::TailCallTarget* target = array->tail_call_target(static_cast<std::uint32_t>(index));
    if (!target) return neg(ENOENT);
    Engine* e = Engine::from(c);
    if (e->tail_calls >= kMaxTailCalls) return neg(E2BIG);
    auto* loaded = dynamic_cast<LoadedProgram*>(target);
    if (!loaded) return neg(EINVAL);
    ++e->tail_calls;
    e->tail_target = &loaded->program().impl();
    e->tail_ctx = ctx;
    return 0;
}

// long bpf_loop(u32 nr_loops, void *callback_fn, void *callback_ctx, u64 flags): calls callback(i, ctx) for
// i = 0.. until it returns nonzero; returns the number of calls made. -E2BIG past 1 << 23 loops, -EINVAL for flags.
u64 bpf_loop(u64 nr_loops, u64 fn, u64 cb_ctx, u64 flags, u64, helpers::Context* c) {
    if (flags != 0) return neg(EINVAL);
    const u64 n = static_cast<std::uint32_t>(nr_loops);
    if (n > kMaxLoops) return neg(E2BIG);
    for (u64 i = 0; i < n; ++i) {
        const u64 r = c->call(c, fn, i, cb_ctx, 0, 0, 0);
        if (c->aborted) return 0;
        if (r != 0) return i + 1;
    }
    return n;
}

// long bpf_for_each_map_elem(struct bpf_map *map, void *callback_fn, void *callback_ctx, u64 flags): calls
// callback(map, key, value, ctx) per element until it returns nonzero; returns the number of elements visited.
// The key and value are granted to the callback (key read-only; value writable unless BPF_F_RDONLY_PROG) and
// revoked after it returns (an array map's key lives only during the call).
u64 bpf_for_each_map_elem(u64 map_ptr, u64 fn, u64 cb_ctx, u64 flags, u64, helpers::Context* c) {
    auto* map = reinterpret_cast<maps::Map*>(map_ptr);
    if (!map || flags != 0) return neg(EINVAL);
    Engine* e = Engine::from(c);
    const std::size_t key_size = map->spec().key_size;
    const std::size_t value_size = map->spec().value_size;
    const bool value_writable = (map->spec().flags & maps::kFRdonlyProg) == 0;
    const long visited = map->for_each_elem([&](const void* key, void* value) -> long {
        const std::size_t mark = e->granted.size();
        if (e->checked) {
            e->grant(key, key_size, false, "map key");
            e->grant(value, value_size, value_writable, "map value");
        }
        const u64 r = c->call(c, fn, map_ptr, reinterpret_cast<u64>(key), reinterpret_cast<u64>(value), cb_ctx, 0);
        if (e->checked) e->revoke_to(mark);
        if (c->aborted) return 1;
        return r != 0 ? 1 : 0;
    });
    if (c->aborted) return 0;
    return static_cast<u64>(static_cast<std::int64_t>(visited));
}

}  // namespace

std::uint64_t core_poisoned(std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                            helpers::Context* self) {
    Engine* e = Engine::from(self);
    e->error = make_error(ErrorCode::kRuntime,
                          "reached a CO-RE relocation that found no match in the target BTF (libbpf's poisoned "
                          "call 0xbad2310): the type or field does not exist there")
                   .error();
    self->aborted = true;
    return 0;
}

const HelperTable& standard_helpers() {
    static const HelperTable table = [] {
        HelperTable t = helpers::kernel_helpers();
        t.add({kTailCallId, "bpf_tail_call", bpf_tail_call});
        t.add({kForEachMapElemId, "bpf_for_each_map_elem", bpf_for_each_map_elem});
        t.add({kLoopId, "bpf_loop", bpf_loop});
        return t;
    }();
    return table;
}

}  // namespace xbpf::vm
