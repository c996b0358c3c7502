// Internal, shared by the array-shaped maps (array, percpu_array, prog_array, perf_event_array, array_of_maps):
// u32 keys, the kernel's get_next_key rule for arrays, and emptying a slot of the fd-holding arrays.
#pragma once

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>

#include "maps/rcu.hpp"

namespace xbpf::maps::detail {

/// A u32 key or value at p (unaligned).
inline std::uint32_t read_u32(const void* p) {
    std::uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

/// array_map_get_next_key: no key or an index out of range gives index 0; the last index gives -ENOENT; otherwise
/// the next index.
inline int array_next_key(const void* key, void* next_key, std::uint32_t max_entries) {
    const std::uint32_t index = key ? read_u32(key) : UINT32_MAX;
    std::uint32_t next = 0;
    if (index < max_entries) {
        if (index == max_entries - 1) return -ENOENT;
        next = index + 1;
    }
    std::memcpy(next_key, &next, sizeof next);
    return 0;
}

/// Empties slot `index` of an fd-holding array (fd_array_map_delete_elem): clears the pointer programs read, then
/// hands the slot's owning reference to RCU (a program on another thread may still hold the object). `owners` is
/// a map from index to shared_ptr<T>, guarded by `mu`. 0, or -ENOENT when the slot was empty; the caller checks
/// the index against max_entries (-E2BIG) first.
template <class T, class Owners>
int erase_owned_slot(std::atomic<T*>& slot, std::mutex& mu, Owners& owners, std::uint32_t index) {
    std::shared_ptr<T> old;
    {
        std::lock_guard lock(mu);
        slot.store(nullptr, std::memory_order_release);
        if (auto it = owners.find(index); it != owners.end()) {
            old = std::move(it->second);
            owners.erase(it);
        }
    }
    if (!old) return -ENOENT;
    rcu_retire(std::move(old));
    return 0;
}

}  // namespace xbpf::maps::detail
