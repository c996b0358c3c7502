// hash, percpu_hash, lru_hash and lru_percpu_hash (kernel/bpf/hashtab.c, bpf_lru_list.c).
//
// Storage: max_entries elements preallocated in one block (the kernel's default; with BPF_F_NO_PREALLOC the
// block is the same but its pages are only committed as elements are first used). Elements are never freed while
// the map lives: a deleted element goes back to a free list and may be reused while a program still holds a
// pointer to its value, exactly the kernel's semantics for preallocated hash maps. Each element is a 16-byte
// header, the key (rounded up to 8) and the value (rounded up to 8, so values are 8-byte aligned for atomics);
// per-CPU values live in one block per CPU, each on its own cache lines.
//
// Concurrency: n_buckets = roundup_pow_of_two(max_entries) buckets of 16 bytes (a FutexLock, a sequence count and
// the chain head; chains are singly linked by element index). Writers (update, delete, eviction) and the host's
// reads take the bucket's lock. Program lookups take no lock, like the kernel's RCU lookups: they walk the chain
// and validate the walk with the bucket's sequence count (a seqlock: writers make it odd while they relink), retrying
// if a writer relinked meanwhile; key words and links are read and written atomically, and a walk is bounded, so a
// reader that follows an element being deleted and reused elsewhere neither races nor loops. A free list (one per
// LRU pool) has its own lock. Lock order: bucket -> free list (plain hash insert); free list -> bucket (LRU
// eviction); the LRU insert path therefore takes its element before the bucket lock, as the kernel's does.
//
// Update of an existing key writes the value in place under the bucket lock (the kernel swaps in a fresh element;
// both give readers either the old or the new value, never a mix, through lookup_copy). BPF_F_LOCK copies under
// the value's bpf_spin_lock.
//
// LRU: an approximation of least-recently-used, like the kernel's (which keeps active/inactive lists with a
// reference bit). Here: CLOCK (second chance). A program lookup or an update sets the element's reference bit;
// when an insert finds its pool empty, a clock hand sweeps the pool's elements, clearing set bits and evicting the
// first element whose bit is clear. New elements start unreferenced, so they survive one full sweep. Host lookups
// (BPF_MAP_LOOKUP_ELEM) do not set the bit, as htab_lru_map_lookup_elem_sys. With BPF_F_NO_COMMON_LRU each
// possible CPU has its own pool of max_entries / num_possible_cpus() elements and an insert evicts only from the
// current CPU's pool (the kernel's per-CPU LRU lists); max_entries is rounded to a multiple of the CPUs as the
// kernel does. Differences from the kernel: the kernel moves free nodes to per-CPU local lists in batches and may
// evict before the map is full (and on an update of an existing key); xbpf evicts only when the pool is full.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "maps/lock.hpp"
#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_HASH, PERCPU_HASH, LRU_HASH and LRU_PERCPU_HASH.
class HashMap final : public Map {
  public:
    /// Geometry computed by make_map from the spec.
    struct Layout {
        std::uint32_t n_buckets = 0;
        std::uint32_t n_elems = 0;
        std::size_t elem_stride = 0;  // header + round_up(key_size, 8) [+ round_up(value_size, 8)]
        std::size_t pcpu_stride = 0;  // bytes between two CPUs' value blocks (per-CPU types)
        std::uint32_t n_pools = 1;    // per-CPU LRU: one pool per possible CPU
    };
    /// Use make_map; public for std::make_shared.
    HashMap(const MapSpec& spec, const Layout& layout, MapMemory buckets, MapMemory elems, MapMemory pcpu);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;
    void* lookup_percpu(const void* key, std::uint32_t cpu) override;
    long for_each_elem(const ElemCallback& fn) override;

    /// Number of elements in the map now.
    [[nodiscard]] std::uint32_t count() const { return count_.load(std::memory_order_relaxed); }

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;
    int sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t flags) override;
    void* lookup_sys_only(const void* key) override;

  private:
    static constexpr std::uint32_t kNil = UINT32_MAX;

    // Links (bucket heads, `next`) hold element index + 1; 0 ends a chain. A zero-filled block is therefore a
    // table of empty, unlocked buckets.
    struct Bucket {
        FutexLock lock;
        std::atomic<std::uint32_t> seq;   // odd while a writer relinks the chain (seqlock for lockless lookups)
        std::atomic<std::uint32_t> head;  // written under `lock`
        std::uint32_t pad;
    };
    static_assert(sizeof(Bucket) == 16);

    struct Elem {
        std::atomic<std::uint32_t> next{0};  // chain link (in a bucket) or free-list link; written under locks
        std::atomic<std::uint32_t> hash{0};  // read by lockless lookups and the LRU sweep
        std::atomic<std::uint8_t> ref{0};    // LRU reference bit
        std::atomic<std::uint8_t> live{0};   // in a bucket (LRU sweep hint; confirmed under the bucket lock)
        std::uint8_t pad[6] = {};
    };
    static_assert(sizeof(Elem) == 16);

    struct Pool {
        FutexLock lock;
        std::uint32_t free_head = 0;  // index + 1 of the first free element, 0 if none
        std::uint32_t begin = 0;      // this pool's elements are [begin, end)
        std::uint32_t end = 0;
        std::uint32_t bump = 0;  // elements [bump, end) were never used (their pages may be untouched)
        std::uint32_t hand = 0;  // LRU clock hand
    };

    Elem* elem(std::uint32_t i) const { return reinterpret_cast<Elem*>(elems_.data() + i * layout_.elem_stride); }
    std::byte* key_of(std::uint32_t i) const { return elems_.data() + i * layout_.elem_stride + sizeof(Elem); }
    std::byte* value_of(std::uint32_t i, std::uint32_t cpu) const {
        if (percpu_) return pcpu_.data() + cpu * layout_.pcpu_stride + std::size_t{i} * value_stride_;
        return key_of(i) + key_stride_;
    }
    Bucket& bucket_for(std::uint32_t hash) const {
        return reinterpret_cast<Bucket*>(buckets_.data())[hash & (layout_.n_buckets - 1)];
    }
    Bucket& bucket_at(std::uint32_t index) const { return reinterpret_cast<Bucket*>(buckets_.data())[index]; }
    std::uint32_t hash_of(const void* key) const;
    Pool& insert_pool();
    Pool& owner_pool(std::uint32_t index);

    /// The element holding `key` in `b` (whose lock the caller holds), or kNil.
    std::uint32_t find(const Bucket& b, std::uint32_t hash, const void* key) const;
    /// The same without the lock (validated by the bucket's sequence count); for program lookups.
    std::uint32_t find_lockless(const Bucket& b, std::uint32_t hash, const void* key) const;
    bool key_equals_atomic(std::uint32_t index, const void* key) const;
    void store_key(std::uint32_t index, const void* key);
    static void begin_write(Bucket& b);
    static void end_write(Bucket& b);
    /// Removes element `index` from `b` (lock held); false if it is not in that chain.
    bool unlink(Bucket& b, std::uint32_t index);
    void link(Bucket& b, std::uint32_t index);

    std::uint32_t pool_pop(Pool& p);      // a free or never-used element; p.lock held
    void pool_push(std::uint32_t index);  // return an unlinked element to its pool
    std::uint32_t lru_alloc(Pool& p);     // pool_pop, else evict (takes p.lock, then bucket locks)

    void init_new(std::uint32_t index, std::uint32_t hash, const void* key, const void* value, std::uint64_t flags,
                  bool all_cpus);
    void write_existing(std::uint32_t index, const void* value, std::uint64_t flags, bool all_cpus);
    int update_impl(const void* key, const void* value, std::uint64_t flags, bool all_cpus);
    void copy_out(std::uint32_t index, void* value_out, std::uint64_t flags) const;

    Layout layout_;
    MapMemory buckets_;
    MapMemory elems_;
    MapMemory pcpu_;
    std::unique_ptr<Pool[]> pools_;
    std::size_t key_stride_;
    std::size_t value_stride_;
    std::uint32_t seed_;
    bool percpu_;
    bool lru_;
    bool percpu_lru_;
    std::atomic<std::uint32_t> count_{0};
};

}  // namespace xbpf::maps
