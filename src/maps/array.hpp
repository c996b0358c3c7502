// array and percpu_array (kernel/bpf/arraymap.c): max_entries preallocated, zero-filled values indexed by a u32
// key. Values are never freed or moved, so lookup needs no lock: a value pointer is valid for the map's lifetime.
// Every element always exists: delete is -EINVAL, BPF_NOEXIST is -EEXIST, an index past the end is -E2BIG.
#pragma once

#include <cstddef>
#include <cstdint>

#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_ARRAY and BPF_MAP_TYPE_PERCPU_ARRAY.
class ArrayMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared. `memory` holds the values (see value_ptr for the layout).
    ArrayMap(const MapSpec& spec, MapMemory memory, std::size_t cpu_stride);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;
    void* lookup_percpu(const void* key, std::uint32_t cpu) override;
    long for_each_elem(const ElemCallback& fn) override;

    /// The value of element `index` for `cpu` (cpu ignored unless per-CPU); index must be < max_entries.
    /// Values are round_up(value_size, 8) apart, 8-byte aligned; for array maps the values are one contiguous,
    /// page-aligned block starting at value_ptr(0) (BPF_F_MMAPABLE, global data sections).
    [[nodiscard]] std::byte* value_ptr(std::uint32_t index, std::uint32_t cpu = 0) const {
        return memory_.data() + cpu * cpu_stride_ + std::size_t{index} * elem_size_;
    }
    /// round_up(value_size, 8).
    [[nodiscard]] std::size_t elem_size() const { return elem_size_; }
    [[nodiscard]] bool percpu() const { return percpu_; }

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;

  private:
    MapMemory memory_;
    std::size_t elem_size_;
    std::size_t cpu_stride_;  // bytes between two CPUs' copies of the array (per-CPU only)
    bool percpu_;
};

}  // namespace xbpf::maps
