// stack_trace (kernel/bpf/stackmap.c): id -> stack trace. bpf_get_stackid hashes the trace, uses
// hash & (n_buckets - 1) as the id (n_buckets = roundup_pow_of_two(max_entries), so ids may exceed max_entries),
// and returns the id when the bucket already holds the same trace; a different trace in the bucket gives -EEXIST,
// unless BPF_F_REUSE_STACKID replaces it. BPF_F_FAST_STACK_CMP compares hashes only. Up to max_entries traces are
// preallocated; the values are arrays of u64 addresses (or struct bpf_stack_build_id with BPF_F_STACK_BUILD_ID),
// zero-filled past the trace's length when read. Programs cannot look traces up; the host reads, iterates (ids in
// increasing order) and deletes them. One lock guards the table (the kernel swaps bucket pointers atomically).
#pragma once

#include <cstdint>
#include <mutex>

#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// bpf_get_stackid flags.
inline constexpr std::uint64_t kFSkipFieldMask = 0xff;
inline constexpr std::uint64_t kFUserStack = 1u << 8;
inline constexpr std::uint64_t kFFastStackCmp = 1u << 9;
inline constexpr std::uint64_t kFReuseStackId = 1u << 10;

/// BPF_MAP_TYPE_STACK_TRACE.
class StackTraceMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared.
    StackTraceMap(const MapSpec& spec, std::uint32_t n_buckets, MapMemory buckets, MapMemory elems);

    /// Bytes per trace entry: 8 (an address) or 32 (struct bpf_stack_build_id with BPF_F_STACK_BUILD_ID).
    [[nodiscard]] std::size_t entry_size() const { return entry_size_; }
    /// The map side of bpf_get_stackid: `entries` is the captured stack, innermost first (`nr` entries of
    /// entry_size() bytes). Skips flags & BPF_F_SKIP_FIELD_MASK entries, keeps at most value_size / entry_size()
    /// and stores the trace. Returns the id, or -EINVAL (flags), -EFAULT (nothing left after skipping), -EEXIST
    /// (another trace holds the id), -ENOMEM (all traces in use).
    long get_stackid(const void* entries, std::uint32_t nr, std::uint64_t flags);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t flags) override;

  private:
    struct Elem {
        std::uint32_t hash;
        std::uint32_t nr;  // entries stored; data follows
    };
    Elem* elem(std::uint32_t i) const { return reinterpret_cast<Elem*>(elems_.data() + i * elem_stride_); }
    std::uint32_t* buckets() const { return reinterpret_cast<std::uint32_t*>(buckets_.data()); }
    int extract(const void* key, void* value_out, bool remove);

    std::mutex mu_;
    std::uint32_t n_buckets_;
    MapMemory buckets_;  // id -> element index + 1, 0 if empty
    MapMemory elems_;
    std::size_t entry_size_;
    std::size_t elem_stride_;
    std::uint32_t free_head_ = 0;  // index + 1; free elements link through Elem::hash
    std::uint32_t bump_ = 0;
};

}  // namespace xbpf::maps
