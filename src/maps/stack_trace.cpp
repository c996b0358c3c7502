#include "maps/stack_trace.hpp"

#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "maps/families.hpp"
#include "maps/key_hash.hpp"

namespace xbpf::maps {
namespace {

constexpr std::size_t kBuildIdEntrySize = 32;  // sizeof(struct bpf_stack_build_id)

/// sysctl kernel.perf_event_max_stack (127 by default).
std::uint32_t perf_event_max_stack() {
    static const std::uint32_t value = [] {
        std::ifstream in("/proc/sys/kernel/perf_event_max_stack");
        std::uint32_t v = 0;
        return (in >> v) && v > 0 ? v : 127u;
    }();
    return value;
}

std::uint32_t read_id(const void* key) {
    std::uint32_t id;
    std::memcpy(&id, key, 4);
    return id;
}

}  // namespace

namespace detail {

MakeResult make_stack_trace(const MapSpec& spec) {
    constexpr std::uint32_t kAllowed = kFNumaNode | kFRdonly | kFWronly | kFStackBuildId;
    if (spec.flags & ~kAllowed)
        return refuse(-EINVAL, fmt::format("flags {:#x} not allowed for stack trace maps", spec.flags & ~kAllowed));
    if (spec.max_entries == 0 || spec.key_size != 4 || spec.value_size < 8 || spec.value_size % 8)
        return refuse(-EINVAL, spec.key_size != 4      ? "key_size must be 4 (a stack id)"
                               : spec.max_entries == 0 ? "max_entries must be > 0"
                                                       : "value_size must be a non-zero multiple of 8 (u64 addresses)");
    const bool build_id = spec.flags & kFStackBuildId;
    const std::size_t entry = build_id ? kBuildIdEntrySize : 8;
    if ((build_id && spec.value_size % kBuildIdEntrySize) || spec.value_size / entry > perf_event_max_stack())
        return refuse(-EINVAL, fmt::format("value_size {} exceeds kernel.perf_event_max_stack ({}) entries",
                                           spec.value_size, perf_event_max_stack()));
    if (spec.max_entries > (1u << 31)) return refuse(-E2BIG, "max_entries above 2^31");
    const std::uint32_t n_buckets = std::bit_ceil(spec.max_entries);
    const std::size_t stride = 8 + spec.value_size;
    std::uint64_t bytes = 0;
    if (!checked_mul(stride, spec.max_entries, bytes)) return refuse(-ENOMEM, "stack trace map too large");
    MapMemory buckets = MapMemory::allocate(std::size_t{n_buckets} * 4);
    MapMemory elems = MapMemory::allocate(bytes);
    if (!buckets || !elems) return refuse(-ENOMEM, "cannot allocate the stack traces");
    return std::make_shared<StackTraceMap>(spec, n_buckets, std::move(buckets), std::move(elems));
}

}  // namespace detail

StackTraceMap::StackTraceMap(const MapSpec& spec, std::uint32_t n_buckets, MapMemory buckets, MapMemory elems)
    : Map(spec),
      n_buckets_(n_buckets),
      buckets_(std::move(buckets)),
      elems_(std::move(elems)),
      entry_size_((spec.flags & kFStackBuildId) ? kBuildIdEntrySize : 8),
      elem_stride_(8 + spec.value_size) {}

long StackTraceMap::get_stackid(const void* entries, std::uint32_t nr, std::uint64_t flags) {
    if (flags & ~(kFSkipFieldMask | kFUserStack | kFFastStackCmp | kFReuseStackId)) return -EINVAL;
    const std::uint32_t skip = flags & kFSkipFieldMask;
    if (nr <= skip) return -EFAULT;  // skipping more than the usable stack
    const std::uint32_t max_depth = static_cast<std::uint32_t>(spec().value_size / entry_size_);
    const std::uint32_t trace_nr = std::min(nr - skip, max_depth);
    const std::size_t trace_len = trace_nr * entry_size_;
    const auto* trace = static_cast<const std::byte*>(entries) + skip * entry_size_;
    const std::uint32_t hash = hash_bytes(trace, trace_len, 0);
    const std::uint32_t id = hash & (n_buckets_ - 1);

    std::lock_guard lock(mu_);
    const std::uint32_t cur = buckets()[id];
    const bool hash_matches = cur != 0 && elem(cur - 1)->hash == hash;
    if (hash_matches && (flags & kFFastStackCmp)) return id;
    if (hash_matches && elem(cur - 1)->nr == trace_nr && std::memcmp(elem(cur - 1) + 1, trace, trace_len) == 0)
        return id;
    if (cur != 0 && !(flags & kFReuseStackId)) return -EEXIST;
    std::uint32_t fresh;
    if (free_head_ != 0) {
        fresh = free_head_ - 1;
        free_head_ = elem(fresh)->hash;
    } else if (bump_ < spec().max_entries) {
        fresh = bump_++;
    } else {
        return -ENOMEM;
    }
    Elem* e = elem(fresh);
    e->hash = hash;
    e->nr = trace_nr;
    std::memcpy(e + 1, trace, trace_len);
    buckets()[id] = fresh + 1;
    if (cur != 0) {  // replaced (BPF_F_REUSE_STACKID): the old trace's element is free again
        elem(cur - 1)->hash = free_head_;
        free_head_ = cur;
    }
    return id;
}

void* StackTraceMap::lookup(const void*) { return nullptr; }  // -EOPNOTSUPP for programs
int StackTraceMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }

int StackTraceMap::erase(const void* key) {
    const std::uint32_t id = read_id(key);
    if (id >= n_buckets_) return -E2BIG;
    std::lock_guard lock(mu_);
    const std::uint32_t cur = buckets()[id];
    if (cur == 0) return -ENOENT;
    buckets()[id] = 0;
    elem(cur - 1)->hash = free_head_;
    free_head_ = cur;
    return 0;
}

int StackTraceMap::get_next_key(const void* key, void* next_key) {
    std::lock_guard lock(mu_);
    std::uint32_t id = 0;
    if (key) {
        id = read_id(key);
        id = (id >= n_buckets_ || buckets()[id] == 0) ? 0 : id + 1;
    }
    while (id < n_buckets_ && buckets()[id] == 0) ++id;
    if (id >= n_buckets_) return -ENOENT;
    std::memcpy(next_key, &id, 4);
    return 0;
}

int StackTraceMap::extract(const void* key, void* value_out, bool remove) {
    const std::uint32_t id = read_id(key);
    if (id >= n_buckets_) return -ENOENT;
    std::lock_guard lock(mu_);
    const std::uint32_t cur = buckets()[id];
    if (cur == 0) return -ENOENT;
    const Elem* e = elem(cur - 1);
    const std::size_t len = e->nr * entry_size_;
    std::memcpy(value_out, e + 1, len);
    std::memset(static_cast<std::byte*>(value_out) + len, 0, spec().value_size - len);
    if (remove) {
        buckets()[id] = 0;
        elem(cur - 1)->hash = free_head_;
        free_head_ = cur;
    }
    return 0;
}

int StackTraceMap::sys_lookup(const void* key, void* value_out, std::uint64_t) {
    return extract(key, value_out, false);
}
int StackTraceMap::sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t) {
    return extract(key, value_out, true);
}

}  // namespace xbpf::maps
