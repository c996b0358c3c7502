// queue and stack (kernel/bpf/queue_stack_maps.c): key-less maps of at most max_entries values in a ring of
// max_entries + 1 slots, under one lock. push with BPF_EXIST on a full map drops the oldest value to make room;
// pop and peek on an empty map give -ENOENT. lookup/update/delete/get_next_key by key do not exist (-EINVAL);
// the syscall's lookup peeks, update pushes and lookup-and-delete pops.
#pragma once

#include <cstdint>

#include "maps/lock.hpp"
#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO).
class QueueStackMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared.
    QueueStackMap(const MapSpec& spec, MapMemory slots);

    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;
    int push(const void* value, std::uint64_t flags) override;
    int pop(void* value) override;
    int peek(void* value) override;
    /// The values in pop order, without popping them.
    std::vector<MapEntry> dump() override;
    /// Number of values held.
    [[nodiscard]] std::uint32_t size() const;

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;
    int sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t flags) override;

  private:
    int take(void* value, bool remove);
    std::byte* slot(std::uint64_t i) const { return slots_.data() + i * spec().value_size; }

    mutable FutexLock lock_;
    MapMemory slots_;
    std::uint64_t size_;      // max_entries + 1 (64-bit: max_entries may be 2^32 - 1)
    std::uint64_t head_ = 0;  // next slot to write
    std::uint64_t tail_ = 0;  // oldest value
    bool stack_;
};

}  // namespace xbpf::maps
