#include "maps/array.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

#include <fmt/format.h>

#include "maps/array_slots.hpp"
#include "maps/cpu.hpp"
#include "maps/families.hpp"

namespace xbpf::maps {
namespace {

constexpr std::uint32_t kArrayCreateFlags = kFNumaNode | kFMmapable | kFAccessMask | kFPreserveElems | kFInnerMap;
constexpr std::uint32_t kPcpuMinUnitSize = 32 << 10;  // PCPU_MIN_UNIT_SIZE bounds per-CPU values

using detail::read_u32;

}  // namespace

namespace detail {

std::optional<MapError> check_array_attrs(const MapSpec& spec) {
    const bool percpu = spec.type == MapType::PercpuArray;
    if (spec.max_entries == 0) return MapError{-EINVAL, "max_entries must be > 0"};
    if (spec.key_size != 4) return MapError{-EINVAL, fmt::format("key_size must be 4, not {}", spec.key_size)};
    if (spec.value_size == 0) return MapError{-EINVAL, "value_size must be > 0"};
    if (spec.flags & ~kArrayCreateFlags)
        return MapError{-EINVAL,
                        fmt::format("flags {:#x} not allowed for array maps", spec.flags & ~kArrayCreateFlags)};
    if (!flags_access_ok(spec.flags)) return MapError{-EINVAL, "BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG are exclusive"};
    if (percpu && (spec.flags & kFNumaNode)) return MapError{-EINVAL, "per-CPU maps cannot take a NUMA node"};
    if (spec.type != MapType::Array && (spec.flags & (kFMmapable | kFInnerMap)))
        return MapError{-EINVAL, "BPF_F_MMAPABLE and BPF_F_INNER_MAP are only for array maps"};
    if (spec.type != MapType::PerfEventArray && (spec.flags & kFPreserveElems))
        return MapError{-EINVAL, "BPF_F_PRESERVE_ELEMS is only for perf_event_array maps"};
    if (spec.value_size > INT_MAX) return MapError{-E2BIG, "value_size too large"};
    if (percpu && spec.value_size > kPcpuMinUnitSize)
        return MapError{-E2BIG, fmt::format("per-CPU values are at most {} bytes", kPcpuMinUnitSize)};
    return std::nullopt;
}

MakeResult make_array(const MapSpec& spec) {
    if (auto problem = check_array_attrs(spec)) return std::unexpected(std::move(*problem));
    const bool percpu = spec.type == MapType::PercpuArray;
    const std::uint64_t elem = round_up8(spec.value_size);
    std::uint64_t one_copy = 0, total = 0;
    if (!checked_mul(elem, spec.max_entries, one_copy)) return refuse(-ENOMEM, "array too large");
    // Per-CPU copies start on their own cache line so two CPUs never share one.
    const std::uint64_t stride = percpu ? (one_copy + 63) / 64 * 64 : 0;
    if (!checked_mul(percpu ? stride : one_copy, percpu ? num_possible_cpus() : 1, total))
        return refuse(-ENOMEM, "array too large");
    MapMemory memory = MapMemory::allocate(total);
    if (!memory) return refuse(-ENOMEM, fmt::format("cannot allocate {} bytes", total));
    return std::make_shared<ArrayMap>(spec, std::move(memory), stride);
}

}  // namespace detail

ArrayMap::ArrayMap(const MapSpec& spec, MapMemory memory, std::size_t cpu_stride)
    : Map(spec),
      memory_(std::move(memory)),
      elem_size_(round_up8(spec.value_size)),
      cpu_stride_(cpu_stride),
      percpu_(spec.type == MapType::PercpuArray) {}

void* ArrayMap::lookup(const void* key) {
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return nullptr;
    return value_ptr(index, percpu_ ? current_cpu() : 0);
}

void* ArrayMap::lookup_percpu(const void* key, std::uint32_t cpu) {
    if (!percpu_) return nullptr;
    const std::uint32_t index = read_u32(key);
    if (cpu >= num_possible_cpus() || index >= spec().max_entries) return nullptr;
    return value_ptr(index, cpu);
}

int ArrayMap::update(const void* key, const void* value, std::uint64_t flags) {
    // array_map_update_elem, in its order of checks.
    if ((flags & ~kFLock) > kExist) return -EINVAL;
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -E2BIG;
    if (flags & kNoExist) return -EEXIST;
    if ((flags & kFLock) && !has_spin_lock()) return -EINVAL;
    copy_value_in(value_ptr(index, percpu_ ? current_cpu() : 0), value, (flags & kFLock) != 0);
    return 0;
}

int ArrayMap::erase(const void*) { return -EINVAL; }

int ArrayMap::get_next_key(const void* key, void* next_key) {
    return detail::array_next_key(key, next_key, spec().max_entries);
}

long ArrayMap::for_each_elem(const ElemCallback& fn) {
    const std::uint32_t cpu = percpu_ ? current_cpu() : 0;
    long n = 0;
    for (std::uint32_t i = 0; i < spec().max_entries; ++i) {
        const std::uint32_t key = i;
        ++n;
        if (fn(&key, value_ptr(i, cpu)) != 0) break;
    }
    return n;
}

int ArrayMap::sys_lookup(const void* key, void* value_out, std::uint64_t flags) {
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -ENOENT;
    if (!percpu_) {
        copy_value_out(value_out, value_ptr(index), (flags & kFLock) != 0);
        return 0;
    }
    // bpf_percpu_array_copy: every possible CPU's rounded slot, padding included (it only holds what the host
    // wrote there or zeros).
    auto* out = static_cast<std::byte*>(value_out);
    for (std::uint32_t cpu = 0; cpu < num_possible_cpus(); ++cpu)
        std::memcpy(out + cpu * elem_size_, value_ptr(index, cpu), elem_size_);
    return 0;
}

int ArrayMap::sys_update(const void* key, const void* value, std::uint64_t flags) {
    if (!percpu_) return update(key, value, flags);
    // bpf_percpu_array_update: copies round_up(value_size, 8) bytes per CPU (copy_map_value_long).
    if (flags > kExist) return -EINVAL;
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -E2BIG;
    if (flags == kNoExist) return -EEXIST;
    const auto* in = static_cast<const std::byte*>(value);
    for (std::uint32_t cpu = 0; cpu < num_possible_cpus(); ++cpu)
        std::memcpy(value_ptr(index, cpu), in + cpu * elem_size_, elem_size_);
    return 0;
}

}  // namespace xbpf::maps
