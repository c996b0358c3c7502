// Map helpers (kernel/bpf/helpers.c): lookup/update/delete, push/pop/peek, lookup_percpu_elem, and the
// bpf_spin_lock pair, all through maps::Map's program-side API (which already gives the kernel's errnos and the
// current CPU's slot of per-CPU maps).
//
// A value pointer handed to a program is granted to a checked run for value_size bytes, writable unless the map
// was created with BPF_F_RDONLY_PROG. Map-in-map lookups return the inner map object itself: it is only passed on
// to other map helpers, so nothing is granted.
#include "helpers/internal.hpp"
#include "maps/lock.hpp"

namespace xbpf::helpers::detail {
namespace {

bool holds_maps(const maps::Map& m) {
    return m.type() == maps::MapType::ArrayOfMaps || m.type() == maps::MapType::HashOfMaps;
}

u64 grant_value(Context* ctx, const maps::Map& m, void* value) {
    if (value && !holds_maps(m)) grant(ctx, value, m.spec().value_size, (m.spec().flags & maps::kFRdonlyProg) == 0);
    return ret_ptr(value);
}

u64 map_lookup_elem(u64 map, u64 key, u64, u64, u64, Context* ctx) {
    maps::Map& m = *as_map(map);
    return grant_value(ctx, m, m.lookup(as_ptr(key)));
}

u64 map_update_elem(u64 map, u64 key, u64 value, u64 flags, u64, Context*) {
    return ret_err(as_map(map)->update(as_ptr(key), as_ptr(value), flags));
}

u64 map_delete_elem(u64 map, u64 key, u64, u64, u64, Context*) { return ret_err(as_map(map)->erase(as_ptr(key))); }

u64 map_push_elem(u64 map, u64 value, u64 flags, u64, u64, Context*) {
    return ret_err(as_map(map)->push(as_ptr(value), flags));
}

u64 map_pop_elem(u64 map, u64 value, u64, u64, u64, Context*) { return ret_err(as_map(map)->pop(as_ptr(value))); }

u64 map_peek_elem(u64 map, u64 value, u64, u64, u64, Context*) { return ret_err(as_map(map)->peek(as_ptr(value))); }

u64 map_lookup_percpu_elem(u64 map, u64 key, u64 cpu, u64, u64, Context* ctx) {
    maps::Map& m = *as_map(map);
    return grant_value(ctx, m, m.lookup_percpu(as_ptr(key), static_cast<u32>(cpu)));
}

u64 spin_lock(u64 lock, u64, u64, u64, u64, Context*) {
    maps::value_spin_lock(as_ptr(lock));
    return 0;
}

u64 spin_unlock(u64 lock, u64, u64, u64, u64, Context*) {
    maps::value_spin_unlock(as_ptr(lock));
    return 0;
}

}  // namespace

void register_map_helpers(HelperTable& t) {
    t.add({1, "bpf_map_lookup_elem", map_lookup_elem});
    t.add({2, "bpf_map_update_elem", map_update_elem});
    t.add({3, "bpf_map_delete_elem", map_delete_elem});
    t.add({87, "bpf_map_push_elem", map_push_elem});
    t.add({88, "bpf_map_pop_elem", map_pop_elem});
    t.add({89, "bpf_map_peek_elem", map_peek_elem});
    t.add({93, "bpf_spin_lock", spin_lock});
    t.add({94, "bpf_spin_unlock", spin_unlock});
    t.add({195, "bpf_map_lookup_percpu_elem", map_lookup_percpu_elem});
}

}  // namespace xbpf::helpers::detail
