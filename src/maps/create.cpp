// make_map / create_map: the checks of kernel/bpf/syscall.c map_create that every type shares, in the kernel's
// order (so that a spec with several problems gets the errno the kernel gives), then the family's own checks.
#include <cctype>
#include <cerrno>
#include <new>

#include <fmt/format.h>

#include "maps/families.hpp"
#include "maps/map.hpp"

namespace xbpf::maps {
namespace detail {
void register_map(const std::shared_ptr<Map>& map);
}  // namespace detail

namespace {

using detail::refuse;

/// bpf_obj_name_cpy on the name as libbpf passes it (truncated to BPF_OBJ_NAME_LEN - 1 = 15 characters).
bool name_ok(const std::string& name) {
    const std::size_t n = std::min<std::size_t>(name.size(), 15);
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned char c = static_cast<unsigned char>(name[i]);
        if (!std::isalnum(c) && c != '_' && c != '.') return false;
    }
    return true;
}

/// The BTF stage (map_check_btf): which types may have a bpf_spin_lock, and where it may sit.
std::optional<MapError> check_spin_lock(const MapSpec& spec) {
    if (spec.spin_lock_off < 0) return std::nullopt;
    if (spec.type != MapType::Hash && spec.type != MapType::Array)
        return MapError{-EOPNOTSUPP, "only hash and array maps may hold a bpf_spin_lock"};
    if (spec.flags & (kFRdonlyProg | kFWronlyProg))
        return MapError{-EACCES, "a map with a bpf_spin_lock cannot be BPF_F_RDONLY_PROG or BPF_F_WRONLY_PROG"};
    const auto off = static_cast<std::uint64_t>(spec.spin_lock_off);
    if (off % 4 != 0 || off + 4 > spec.value_size)
        return MapError{-EINVAL, fmt::format("bpf_spin_lock at offset {} does not fit a 4-aligned slot of the "
                                             "{}-byte value",
                                             off, spec.value_size)};
    return std::nullopt;
}

/// The family's own checks and allocation (the kernel's map_alloc_check + map_alloc).
detail::MakeResult make_family(const MapSpec& spec) {
    switch (spec.type) {
        case MapType::Array:
        case MapType::PercpuArray: return detail::make_array(spec);
        case MapType::Hash:
        case MapType::PercpuHash:
        case MapType::LruHash:
        case MapType::LruPercpuHash: return detail::make_hash(spec);
        case MapType::Queue:
        case MapType::Stack: return detail::make_queue_stack(spec);
        case MapType::BloomFilter: return detail::make_bloom_filter(spec);
        case MapType::LpmTrie: return detail::make_lpm_trie(spec);
        case MapType::Ringbuf: return detail::make_ringbuf(spec);
        case MapType::PerfEventArray: return detail::make_perf_event_array(spec);
        case MapType::StackTrace: return detail::make_stack_trace(spec);
        case MapType::ProgArray: return detail::make_prog_array(spec);
        case MapType::ArrayOfMaps:
        case MapType::HashOfMaps: return detail::make_map_in_map(spec);
        case MapType::CgroupArray:
            return refuse(-EOPNOTSUPP, "cgroup_array maps are not supported by xbpf (no cgroups in user space)");
        case MapType::Unspec: return refuse(-EINVAL, "map type 0 (unspec) is not a map type");
        default: return refuse(-EINVAL, fmt::format("unknown map type {}", static_cast<std::uint32_t>(spec.type)));
    }
}

}  // namespace

std::expected<std::shared_ptr<Map>, MapError> make_map(const MapSpec& spec) {
    if (spec.map_extra != 0 && spec.type != MapType::BloomFilter)
        return refuse(-EINVAL, "map_extra is only meaningful for bloom filters");
    if ((spec.flags & kFRdonly) && (spec.flags & kFWronly))
        return refuse(-EINVAL, "BPF_F_RDONLY and BPF_F_WRONLY are exclusive");

    detail::MakeResult made;
    try {
        made = make_family(spec);
    } catch (const std::bad_alloc&) {
        return refuse(-ENOMEM, "out of memory");  // e.g. a prog_array with billions of slots
    }
    if (!made) return made;
    if (!name_ok(spec.name)) return refuse(-EINVAL, "map names may only contain letters, digits, '_' and '.'");
    if (auto problem = check_spin_lock(spec)) return std::unexpected(std::move(*problem));
    detail::register_map(*made);
    return made;
}

Result<std::shared_ptr<Map>> create_map(const MapSpec& spec) {
    auto made = make_map(spec);
    if (made) return std::move(*made);
    const MapError& e = made.error();
    const bool unsupported = spec.type == MapType::CgroupArray;
    return make_error(
        unsupported ? ErrorCode::kUnsupported : ErrorCode::kInvalidArgument,
        fmt::format("map '{}' ({}): {} ({})", spec.name, map_type_name(spec.type), e.message, errno_name(e.err)));
}

}  // namespace xbpf::maps
