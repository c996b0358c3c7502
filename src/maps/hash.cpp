#include "maps/hash.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <new>
#include <random>

#include <fmt/format.h>

#include "maps/cpu.hpp"
#include "maps/families.hpp"
#include "maps/key_hash.hpp"

namespace xbpf::maps {
namespace {

constexpr std::uint32_t kHtabCreateFlags = kFNoPrealloc | kFNoCommonLru | kFNumaNode | kFAccessMask | kFZeroSeed;
constexpr std::uint64_t kKmallocMaxSize = std::uint64_t{1} << 22;  // x86-64: PAGE_SHIFT + MAX_PAGE_ORDER
constexpr std::uint64_t kKernelHtabElemSize = 48;                  // sizeof(struct htab_elem)
constexpr std::uint64_t kKernelBucketSize = 16;                    // sizeof(struct bucket)
constexpr std::uint32_t kPcpuMinUnitSize = 32 << 10;

bool is_percpu_type(MapType t) { return t == MapType::PercpuHash || t == MapType::LruPercpuHash; }
bool is_lru_type(MapType t) { return t == MapType::LruHash || t == MapType::LruPercpuHash; }

}  // namespace

namespace detail {

std::optional<MapError> check_hash_attrs(const MapSpec& spec) {
    const bool percpu = is_percpu_type(spec.type);
    const bool lru = is_lru_type(spec.type);
    const bool percpu_lru = spec.flags & kFNoCommonLru;
    const bool prealloc = !(spec.flags & kFNoPrealloc);
    if ((spec.flags & ~kHtabCreateFlags) || !flags_access_ok(spec.flags))
        return MapError{-EINVAL, fmt::format("flags {:#x} not allowed for hash maps", spec.flags)};
    if (!lru && percpu_lru) return MapError{-EINVAL, "BPF_F_NO_COMMON_LRU is only for LRU maps"};
    if (lru && !prealloc) return MapError{-kENOTSUPP, "LRU maps are always preallocated (BPF_F_NO_PREALLOC)"};
    if ((spec.flags & kFNumaNode) && (percpu || percpu_lru))
        return MapError{-EINVAL, "per-CPU maps and per-CPU LRU lists cannot take a NUMA node"};
    if (spec.max_entries == 0) return MapError{-EINVAL, "max_entries must be > 0"};
    if (spec.key_size == 0) return MapError{-EINVAL, "key_size must be > 0"};
    if (spec.value_size == 0) return MapError{-EINVAL, "value_size must be > 0"};
    if (std::uint64_t{spec.key_size} + spec.value_size >= kKmallocMaxSize - kKernelHtabElemSize)
        return MapError{-E2BIG, "key_size + value_size too large"};
    if (percpu && round_up8(spec.value_size) > kPcpuMinUnitSize)
        return MapError{-E2BIG, fmt::format("per-CPU values are at most {} bytes", kPcpuMinUnitSize)};
    return std::nullopt;
}

MakeResult make_hash(const MapSpec& spec_in) {
    if (auto problem = check_hash_attrs(spec_in)) return std::unexpected(std::move(*problem));
    MapSpec spec = spec_in;
    const bool percpu = is_percpu_type(spec.type);
    const bool percpu_lru = spec.flags & kFNoCommonLru;
    const std::uint32_t ncpus = num_possible_cpus();
    if (percpu_lru) {
        // htab_map_alloc: each CPU's LRU list gets the same number (>= 1) of elements.
        const std::uint64_t up = (std::uint64_t{spec.max_entries} + ncpus - 1) / ncpus * ncpus;
        spec.max_entries = up <= UINT32_MAX ? static_cast<std::uint32_t>(up) : spec.max_entries / ncpus * ncpus;
    }
    if (spec.max_entries > (1u << 31)) return refuse(-E2BIG, "max_entries above 2^31");
    HashMap::Layout layout;
    layout.n_buckets = std::bit_ceil(spec.max_entries);
    if (layout.n_buckets > UINT32_MAX / kKernelBucketSize) return refuse(-E2BIG, "too many hash buckets");
    layout.n_elems = spec.max_entries;
    layout.n_pools = percpu_lru ? ncpus : 1;
    layout.elem_stride = 16 + round_up8(spec.key_size) + (percpu ? 0 : round_up8(spec.value_size));

    std::uint64_t elem_bytes = 0, pcpu_bytes = 0;
    if (!checked_mul(layout.elem_stride, layout.n_elems, elem_bytes)) return refuse(-ENOMEM, "hash map too large");
    if (percpu) {
        std::uint64_t one = 0;
        if (!checked_mul(round_up8(spec.value_size), layout.n_elems, one)) return refuse(-ENOMEM, "too large");
        layout.pcpu_stride = (one + 63) / 64 * 64;
        if (!checked_mul(layout.pcpu_stride, ncpus, pcpu_bytes)) return refuse(-ENOMEM, "hash map too large");
    }
    MapMemory buckets = MapMemory::allocate(std::size_t{layout.n_buckets} * 16);
    MapMemory elems = MapMemory::allocate(elem_bytes);
    MapMemory pcpu = percpu ? MapMemory::allocate(pcpu_bytes) : MapMemory();
    if (!buckets || !elems || (percpu && !pcpu))
        return refuse(-ENOMEM, fmt::format("cannot allocate {} elements", layout.n_elems));
    return std::make_shared<HashMap>(spec, layout, std::move(buckets), std::move(elems), std::move(pcpu));
}

}  // namespace detail

HashMap::HashMap(const MapSpec& spec, const Layout& layout, MapMemory buckets, MapMemory elems, MapMemory pcpu)
    : Map(spec),
      layout_(layout),
      buckets_(std::move(buckets)),
      elems_(std::move(elems)),
      pcpu_(std::move(pcpu)),
      pools_(new Pool[layout.n_pools]),
      key_stride_(round_up8(spec.key_size)),
      value_stride_(round_up8(spec.value_size)),
      percpu_(is_percpu_type(spec.type)),
      lru_(is_lru_type(spec.type)),
      percpu_lru_((spec.flags & kFNoCommonLru) != 0) {
    const std::uint32_t per_pool = layout_.n_elems / layout_.n_pools;
    for (std::uint32_t p = 0; p < layout_.n_pools; ++p) {
        Pool& pool = pools_[p];
        pool.begin = p * per_pool;
        pool.end = p + 1 == layout_.n_pools ? layout_.n_elems : (p + 1) * per_pool;
        pool.bump = pool.begin;
        pool.hand = pool.begin;
    }
    seed_ = (spec.flags & kFZeroSeed) ? 0 : std::random_device{}();
}

std::uint32_t HashMap::hash_of(const void* key) const { return hash_bytes(key, spec().key_size, seed_); }

HashMap::Pool& HashMap::insert_pool() { return percpu_lru_ ? pools_[current_cpu()] : pools_[0]; }

HashMap::Pool& HashMap::owner_pool(std::uint32_t index) {
    return percpu_lru_ ? pools_[index / (layout_.n_elems / layout_.n_pools)] : pools_[0];
}

std::uint32_t HashMap::find(const Bucket& b, std::uint32_t hash, const void* key) const {
    // Under the bucket lock the chain and the keys of its elements are stable (re-initialising an element needs
    // it unlinked first, which needs this lock), so plain key compares are fine.
    const std::size_t ks = spec().key_size;
    for (std::uint32_t link = b.head.load(std::memory_order_relaxed); link != 0;) {
        const std::uint32_t i = link - 1;
        const Elem* e = elem(i);
        if (e->hash.load(std::memory_order_relaxed) == hash && bytes_equal(key_of(i), key, ks)) return i;
        link = e->next.load(std::memory_order_relaxed);
    }
    return kNil;
}

bool HashMap::key_equals_atomic(std::uint32_t index, const void* key) const {
    // Word by word with atomic loads: the element may be re-initialised by a writer meanwhile (the seqlock then
    // discards the result), and atomic accesses keep that a benign race rather than undefined behaviour.
    const auto* words = reinterpret_cast<const std::uint64_t*>(key_of(index));
    const auto* k = static_cast<const unsigned char*>(key);
    std::size_t left = spec().key_size;
    for (std::size_t w = 0; left > 0; ++w) {
        std::uint64_t mine = __atomic_load_n(&words[w], __ATOMIC_RELAXED);
        const std::size_t n = std::min<std::size_t>(left, 8);
        const std::uint64_t theirs = load_le_bytes(k + 8 * w, n);
        if (n < 8) mine &= (std::uint64_t{1} << (8 * n)) - 1;  // little-endian: the key's bytes are the low ones
        if (mine != theirs) return false;
        left -= n;
    }
    return true;
}

void HashMap::store_key(std::uint32_t index, const void* key) {
    auto* words = reinterpret_cast<std::uint64_t*>(key_of(index));
    const auto* k = static_cast<const unsigned char*>(key);
    std::size_t left = spec().key_size;
    for (std::size_t w = 0; left > 0; ++w) {
        const std::size_t n = std::min<std::size_t>(left, 8);
        __atomic_store_n(&words[w], load_le_bytes(k + 8 * w, n), __ATOMIC_RELAXED);  // padding bytes stay zero
        left -= n;
    }
}

void HashMap::begin_write(Bucket& b) {
    b.seq.store(b.seq.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);  // the odd count is visible before any relinking
}

void HashMap::end_write(Bucket& b) {
    b.seq.store(b.seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);
}

std::uint32_t HashMap::find_lockless(const Bucket& b, std::uint32_t hash, const void* key) const {
    for (;;) {
        const std::uint32_t before = b.seq.load(std::memory_order_acquire);
        if (before & 1) continue;  // a writer is relinking this chain (a few instructions)
        std::uint32_t found = kNil;
        std::uint32_t link = b.head.load(std::memory_order_relaxed);
        // Bounded: a walk that followed an element into another chain or the free list may cycle; the sequence
        // check below then rejects it anyway.
        for (std::uint32_t steps = 0; link != 0 && link <= layout_.n_elems && steps <= layout_.n_elems; ++steps) {
            const std::uint32_t i = link - 1;
            const Elem* e = elem(i);
            if (e->hash.load(std::memory_order_relaxed) == hash && key_equals_atomic(i, key)) {
                found = i;
                break;
            }
            link = e->next.load(std::memory_order_relaxed);
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (b.seq.load(std::memory_order_relaxed) == before) return found;
    }
}

bool HashMap::unlink(Bucket& b, std::uint32_t index) {
    std::uint32_t link = b.head.load(std::memory_order_relaxed);
    std::uint32_t prev = kNil;
    while (link != 0 && link != index + 1) {
        prev = link - 1;
        link = elem(prev)->next.load(std::memory_order_relaxed);
    }
    if (link == 0) return false;
    const std::uint32_t after = elem(index)->next.load(std::memory_order_relaxed);
    begin_write(b);
    if (prev == kNil)
        b.head.store(after, std::memory_order_relaxed);
    else
        elem(prev)->next.store(after, std::memory_order_relaxed);
    end_write(b);
    elem(index)->live.store(0, std::memory_order_release);
    count_.fetch_sub(1, std::memory_order_relaxed);
    return true;
}

void HashMap::link(Bucket& b, std::uint32_t index) {
    // The element's key and hash were written before it becomes reachable; end_write's release publishes them to
    // lockless readers that see the new head.
    Elem* e = elem(index);
    begin_write(b);
    e->next.store(b.head.load(std::memory_order_relaxed), std::memory_order_relaxed);
    e->live.store(1, std::memory_order_release);
    b.head.store(index + 1, std::memory_order_relaxed);
    end_write(b);
    count_.fetch_add(1, std::memory_order_relaxed);
}

std::uint32_t HashMap::pool_pop(Pool& p) {
    if (p.free_head != 0) {
        const std::uint32_t i = p.free_head - 1;
        p.free_head = elem(i)->next.load(std::memory_order_relaxed);
        return i;
    }
    if (p.bump < p.end) {
        const std::uint32_t i = p.bump++;
        new (elem(i)) Elem();  // first use: start the header's lifetime (the block is zero-filled)
        return i;
    }
    return kNil;
}

void HashMap::pool_push(std::uint32_t index) {
    Pool& p = owner_pool(index);
    std::lock_guard lock(p.lock);
    elem(index)->next.store(p.free_head, std::memory_order_relaxed);
    p.free_head = index + 1;
}

std::uint32_t HashMap::lru_alloc(Pool& p) {
    std::lock_guard lock(p.lock);
    if (const std::uint32_t i = pool_pop(p); i != kNil) return i;
    // The pool is full: sweep with the clock hand. Two turns clear every reference bit set before the sweep, so
    // only elements that concurrent lookups keep re-marking (or that are being inserted) can make it fail.
    const std::uint64_t size = p.end - p.begin;
    for (std::uint64_t step = 0; step < 2 * size + 2; ++step) {
        const std::uint32_t i = p.hand;
        p.hand = i + 1 == p.end ? p.begin : i + 1;
        Elem* e = elem(i);
        if (!e->live.load(std::memory_order_acquire)) continue;
        if (e->ref.load(std::memory_order_relaxed)) {
            e->ref.store(0, std::memory_order_relaxed);
            continue;
        }
        Bucket& b = bucket_for(e->hash.load(std::memory_order_relaxed));
        std::lock_guard bucket_lock(b.lock);
        if (unlink(b, i)) return i;  // evicted; programs holding its value pointer see it reused (kernel too)
    }
    return kNil;
}

void HashMap::init_new(std::uint32_t index, std::uint32_t hash, const void* key, const void* value, std::uint64_t flags,
                       bool all_cpus) {
    Elem* e = elem(index);
    store_key(index, key);
    e->hash.store(hash, std::memory_order_relaxed);
    e->ref.store(0, std::memory_order_relaxed);
    if (!percpu_) {
        copy_value_in(value_of(index, 0), value, (flags & kFLock) != 0);
        return;
    }
    const std::uint32_t ncpus = num_possible_cpus();
    const std::size_t vs = spec().value_size;
    if (all_cpus) {
        // The host gives one round_up(value_size, 8) slot per CPU, copied whole, padding included
        // (copy_map_value_long in Linux 6.18's pcpu_copy_value; lookups return the same bytes).
        const auto* in = static_cast<const std::byte*>(value);
        for (std::uint32_t cpu = 0; cpu < ncpus; ++cpu)
            std::memcpy(value_of(index, cpu), in + cpu * value_stride_, value_stride_);
    } else {
        // pcpu_init_value: a program's insert sets its CPU's value and zeroes the other CPUs'.
        const std::uint32_t self = current_cpu();
        for (std::uint32_t cpu = 0; cpu < ncpus; ++cpu) {
            if (cpu == self)
                std::memcpy(value_of(index, cpu), value, vs);
            else
                std::memset(value_of(index, cpu), 0, vs);
        }
    }
}

void HashMap::write_existing(std::uint32_t index, const void* value, std::uint64_t flags, bool all_cpus) {
    if (lru_) elem(index)->ref.store(1, std::memory_order_relaxed);
    if (!percpu_) {
        copy_value_in(value_of(index, 0), value, (flags & kFLock) != 0);
        return;
    }
    const std::size_t vs = spec().value_size;
    if (!all_cpus) {
        std::memcpy(value_of(index, current_cpu()), value, vs);
        return;
    }
    const auto* in = static_cast<const std::byte*>(value);
    for (std::uint32_t cpu = 0; cpu < num_possible_cpus(); ++cpu)
        std::memcpy(value_of(index, cpu), in + cpu * value_stride_, value_stride_);
}

int HashMap::update_impl(const void* key, const void* value, std::uint64_t flags, bool all_cpus) {
    const std::uint64_t mode = flags & ~kFLock;
    const std::uint32_t hash = hash_of(key);
    Bucket& b = bucket_for(hash);
    {
        std::lock_guard lock(b.lock);
        const std::uint32_t old = find(b, hash, key);
        if (old != kNil) {
            if (mode == kNoExist) return -EEXIST;
            write_existing(old, value, flags, all_cpus);
            return 0;
        }
        if (mode == kExist) return -ENOENT;
        if (!lru_) {
            Pool& p = insert_pool();
            std::uint32_t fresh;
            {
                std::lock_guard pool_lock(p.lock);
                fresh = pool_pop(p);
            }
            if (fresh == kNil) return -E2BIG;  // every preallocated element is in use
            init_new(fresh, hash, key, value, flags, all_cpus);
            link(b, fresh);
            return 0;
        }
    }
    // LRU insert: take an element first (possibly evicting, which locks other buckets), then the bucket.
    const std::uint32_t fresh = lru_alloc(insert_pool());
    if (fresh == kNil) return -ENOMEM;
    init_new(fresh, hash, key, value, flags, all_cpus);
    int rc = 0;
    bool used = false;
    {
        std::lock_guard lock(b.lock);
        const std::uint32_t old = find(b, hash, key);
        if (old == kNil) {
            link(b, fresh);
            used = true;
        } else if (mode == kNoExist) {
            rc = -EEXIST;  // inserted by another thread meanwhile
        } else {
            write_existing(old, value, flags, all_cpus);
        }
    }
    if (!used) pool_push(fresh);
    return rc;
}

int HashMap::update(const void* key, const void* value, std::uint64_t flags) {
    // htab_map_update_elem accepts BPF_F_LOCK; the LRU and per-CPU variants do not.
    if (lru_ || percpu_) {
        if (flags > kExist) return -EINVAL;
    } else {
        if ((flags & ~kFLock) > kExist) return -EINVAL;
        if ((flags & kFLock) && !has_spin_lock()) return -EINVAL;
    }
    return update_impl(key, value, flags, false);
}

int HashMap::sys_update(const void* key, const void* value, std::uint64_t flags) {
    if (!percpu_) return update(key, value, flags);
    if (flags > kExist) return -EINVAL;  // bpf_percpu_hash_update: values for every CPU
    return update_impl(key, value, flags, true);
}

void* HashMap::lookup(const void* key) {
    const std::uint32_t hash = hash_of(key);
    const std::uint32_t i = find_lockless(bucket_for(hash), hash, key);
    if (i == kNil) return nullptr;
    if (lru_) {
        std::atomic<std::uint8_t>& ref = elem(i)->ref;
        if (!ref.load(std::memory_order_relaxed)) ref.store(1, std::memory_order_relaxed);
    }
    return value_of(i, percpu_ ? current_cpu() : 0);
}

void* HashMap::lookup_sys_only(const void* key) {
    const std::uint32_t hash = hash_of(key);
    Bucket& b = bucket_for(hash);
    std::lock_guard lock(b.lock);
    const std::uint32_t i = find(b, hash, key);
    return i == kNil ? nullptr : value_of(i, 0);
}

void* HashMap::lookup_percpu(const void* key, std::uint32_t cpu) {
    if (!percpu_ || cpu >= num_possible_cpus()) return nullptr;
    const std::uint32_t hash = hash_of(key);
    const std::uint32_t i = find_lockless(bucket_for(hash), hash, key);
    if (i == kNil) return nullptr;
    if (lru_) elem(i)->ref.store(1, std::memory_order_relaxed);
    return value_of(i, cpu);
}

int HashMap::erase(const void* key) {
    const std::uint32_t hash = hash_of(key);
    Bucket& b = bucket_for(hash);
    std::uint32_t i;
    {
        std::lock_guard lock(b.lock);
        i = find(b, hash, key);
        if (i == kNil) return -ENOENT;
        unlink(b, i);
    }
    pool_push(i);
    return 0;
}

void HashMap::copy_out(std::uint32_t index, void* value_out, std::uint64_t flags) const {
    if (!percpu_) {
        copy_value_out(value_out, value_of(index, 0), (flags & kFLock) != 0);
        return;
    }
    // bpf_percpu_hash_copy: every possible CPU's value, each in a round_up(value_size, 8) slot.
    auto* out = static_cast<std::byte*>(value_out);
    for (std::uint32_t cpu = 0; cpu < num_possible_cpus(); ++cpu)
        std::memcpy(out + cpu * value_stride_, value_of(index, cpu), value_stride_);
}

int HashMap::sys_lookup(const void* key, void* value_out, std::uint64_t flags) {
    const std::uint32_t hash = hash_of(key);
    Bucket& b = bucket_for(hash);
    std::lock_guard lock(b.lock);
    const std::uint32_t i = find(b, hash, key);
    if (i == kNil) return -ENOENT;
    copy_out(i, value_out, flags);
    return 0;
}

int HashMap::sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t flags) {
    const std::uint32_t hash = hash_of(key);
    Bucket& b = bucket_for(hash);
    std::uint32_t i;
    {
        std::lock_guard lock(b.lock);
        i = find(b, hash, key);
        if (i == kNil) return -ENOENT;
        copy_out(i, value_out, flags);
        unlink(b, i);
    }
    pool_push(i);
    return 0;
}

int HashMap::get_next_key(const void* key, void* next_key) {
    const std::size_t ks = spec().key_size;
    std::uint32_t start = 0;
    if (key) {
        const std::uint32_t hash = hash_of(key);
        Bucket& b = bucket_for(hash);
        std::lock_guard lock(b.lock);
        const std::uint32_t i = find(b, hash, key);
        if (i != kNil) {
            // Found: the next element of the same chain, else the first of a later bucket.
            if (const std::uint32_t next = elem(i)->next.load(std::memory_order_relaxed); next != 0) {
                std::memcpy(next_key, key_of(next - 1), ks);
                return 0;
            }
            start = (hash & (layout_.n_buckets - 1)) + 1;
        }
        // Not found: restart from the first bucket (the kernel's rule, so iteration survives deletions).
    }
    for (std::uint32_t bi = start; bi < layout_.n_buckets; ++bi) {
        Bucket& b = bucket_at(bi);
        if (b.head.load(std::memory_order_relaxed) == 0) continue;
        std::lock_guard lock(b.lock);
        if (const std::uint32_t head = b.head.load(std::memory_order_relaxed); head != 0) {
            std::memcpy(next_key, key_of(head - 1), ks);
            return 0;
        }
    }
    return -ENOENT;
}

long HashMap::for_each_elem(const ElemCallback& fn) {
    // bpf_for_each_hash_elem. The callback may update or delete in this map, so it runs without bucket locks,
    // on elements collected per bucket (an element deleted meanwhile is still valid memory, as in the kernel).
    const std::uint32_t cpu = percpu_ ? current_cpu() : 0;
    std::vector<std::uint32_t> batch;
    long n = 0;
    for (std::uint32_t bi = 0; bi < layout_.n_buckets; ++bi) {
        Bucket& b = bucket_at(bi);
        if (b.head.load(std::memory_order_relaxed) == 0) continue;
        batch.clear();
        {
            std::lock_guard lock(b.lock);
            for (std::uint32_t link = b.head.load(std::memory_order_relaxed); link != 0;
                 link = elem(link - 1)->next.load(std::memory_order_relaxed))
                batch.push_back(link - 1);
        }
        for (const std::uint32_t i : batch) {
            ++n;
            if (fn(key_of(i), value_of(i, cpu)) != 0) return n;
        }
    }
    return n;
}

}  // namespace xbpf::maps
