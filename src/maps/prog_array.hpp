// prog_array (kernel/bpf/arraymap.c, prog_fd_array_*): the tail-call table. Slots hold program handles; the VM
// implements TailCallTarget for its loaded programs and calls tail_call_target() from bpf_tail_call. All programs
// in one prog_array must have the same program type (bpf_prog_map_compatible): the first program stored, or the
// first caller that claims the map, fixes it. Removed or replaced programs are released through RCU (maps/rcu.hpp),
// so a program running a tail call on another thread keeps a valid target until its CpuScope ends.
//
// Host side, as the syscall: update takes a u32 "fd" that a resolver turns into a program (xbpf has no program
// fds: the loader installs a resolver, e.g. from its program ids; without one, or for an unknown value, -EBADF),
// only with BPF_ANY; lookup returns the program's id; delete empties a slot.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// A loaded program as a prog_array sees it; implemented by the VM.
class TailCallTarget {
  public:
    virtual ~TailCallTarget() = default;
    /// enum bpf_prog_type.
    [[nodiscard]] virtual std::uint32_t prog_type() const = 0;
    /// The id reported by lookups (the kernel's prog id).
    [[nodiscard]] virtual std::uint32_t prog_id() const = 0;
};

/// BPF_MAP_TYPE_PROG_ARRAY.
class ProgArrayMap final : public Map {
  public:
    /// Turns the u32 value of a host update into a program, or nullptr (-EBADF).
    using Resolver = std::function<std::shared_ptr<TailCallTarget>(std::uint32_t fd)>;

    /// Use make_map; public for std::make_shared.
    ProgArrayMap(const MapSpec& spec, MapMemory slots);

    /// Stores `prog` at `index`: 0, -E2BIG (index), -EINVAL (program type differs from the map's owner type).
    int set(std::uint32_t index, std::shared_ptr<TailCallTarget> prog);
    /// The program at `index`, or nullptr (empty or out of range). Valid until the caller's CpuScope/RcuReadLock
    /// ends; bpf_tail_call's hot path (one atomic load).
    [[nodiscard]] TailCallTarget* tail_call_target(std::uint32_t index) const {
        return index < spec().max_entries ? slot(index).load(std::memory_order_acquire) : nullptr;
    }
    /// A program of `prog_type` uses this map for tail calls: false if the map already belongs to another type.
    bool claim_owner(std::uint32_t prog_type);
    /// Installs the resolver used by update_host.
    void set_resolver(Resolver resolver);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;

  private:
    std::atomic<TailCallTarget*>& slot(std::uint32_t index) const {
        return reinterpret_cast<std::atomic<TailCallTarget*>*>(slots_.data())[index];
    }

    MapMemory slots_;  // max_entries atomic pointers, zero-filled (null) and committed lazily
    std::mutex mu_;    // writers
    std::unordered_map<std::uint32_t, std::shared_ptr<TailCallTarget>> owners_;  // guarded by mu_
    std::atomic<std::int64_t> owner_type_{-1};
    Resolver resolver_;
};

}  // namespace xbpf::maps
