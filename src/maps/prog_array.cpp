#include "maps/prog_array.hpp"

#include <cerrno>
#include <cstring>

#include "maps/array_slots.hpp"
#include "maps/families.hpp"
#include "maps/rcu.hpp"

namespace xbpf::maps {
namespace {

using detail::read_u32;

}  // namespace

namespace detail {

MakeResult make_prog_array(const MapSpec& spec) {
    if (spec.value_size != 4) return refuse(-EINVAL, "value_size must be 4 (a program fd)");
    if (spec.flags & (kFRdonlyProg | kFWronlyProg))
        return refuse(-EINVAL, "BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG are not supported for fd arrays");
    if (auto problem = check_array_attrs(spec)) return std::unexpected(std::move(*problem));
    MapMemory slots = MapMemory::allocate(std::size_t{spec.max_entries} * sizeof(void*));
    if (!slots) return refuse(-ENOMEM, "cannot allocate the program slots");
    return std::make_shared<ProgArrayMap>(spec, std::move(slots));
}

}  // namespace detail

ProgArrayMap::ProgArrayMap(const MapSpec& spec, MapMemory slots) : Map(spec), slots_(std::move(slots)) {}

bool ProgArrayMap::claim_owner(std::uint32_t prog_type) {
    std::int64_t expected = -1;
    if (owner_type_.compare_exchange_strong(expected, prog_type, std::memory_order_acq_rel)) return true;
    return expected == prog_type;
}

void ProgArrayMap::set_resolver(Resolver resolver) {
    std::lock_guard lock(mu_);
    resolver_ = std::move(resolver);
}

int ProgArrayMap::set(std::uint32_t index, std::shared_ptr<TailCallTarget> prog) {
    if (index >= spec().max_entries) return -E2BIG;
    if (!prog) return -EBADF;
    if (!claim_owner(prog->prog_type())) return -EINVAL;
    std::shared_ptr<TailCallTarget> old;
    {
        std::lock_guard lock(mu_);
        slot(index).store(prog.get(), std::memory_order_release);
        old = std::exchange(owners_[index], std::move(prog));
    }
    rcu_retire(std::move(old));
    return 0;
}

void* ProgArrayMap::lookup(const void*) { return nullptr; }  // not for programs (-EOPNOTSUPP)
int ProgArrayMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }

int ProgArrayMap::erase(const void* key) {
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -E2BIG;
    return detail::erase_owned_slot(slot(index), mu_, owners_, index);
}

int ProgArrayMap::get_next_key(const void* key, void* next_key) {
    return detail::array_next_key(key, next_key, spec().max_entries);
}

int ProgArrayMap::sys_lookup(const void* key, void* value_out, std::uint64_t) {
    const std::uint32_t index = read_u32(key);
    std::lock_guard lock(mu_);
    const auto it = owners_.find(index);
    if (it == owners_.end() || !it->second) return -ENOENT;
    const std::uint32_t id = it->second->prog_id();
    std::memcpy(value_out, &id, 4);
    return 0;
}

int ProgArrayMap::sys_update(const void* key, const void* value, std::uint64_t flags) {
    // bpf_fd_array_map_update_elem: BPF_ANY only, then the index, then the fd.
    if (flags != kAny) return -EINVAL;
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -E2BIG;
    Resolver resolver;
    {
        std::lock_guard lock(mu_);
        resolver = resolver_;
    }
    std::shared_ptr<TailCallTarget> prog = resolver ? resolver(read_u32(value)) : nullptr;
    if (!prog) return -EBADF;
    return set(index, std::move(prog));
}

}  // namespace xbpf::maps
