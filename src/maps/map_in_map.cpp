#include "maps/map_in_map.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "maps/array_slots.hpp"
#include "maps/families.hpp"
#include "maps/rcu.hpp"

namespace xbpf::maps {
namespace {

std::atomic_ref<std::uintptr_t> slot_ref(void* slot) {
    return std::atomic_ref<std::uintptr_t>(*static_cast<std::uintptr_t*>(slot));
}

using detail::read_u32;

}  // namespace

namespace detail {

MakeResult make_map_in_map(const MapSpec& spec) {
    const bool array = spec.type == MapType::ArrayOfMaps;
    // Creation checks (fd_array_map_alloc_check / fd_htab_map_alloc_check) ...
    if (spec.value_size != 4) return refuse(-EINVAL, "value_size must be 4 (an inner map fd)");
    if (array) {
        if (spec.flags & (kFRdonlyProg | kFWronlyProg))
            return refuse(-EINVAL, "BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG are not supported for fd arrays");
        if (auto problem = check_array_attrs(spec)) return std::unexpected(std::move(*problem));
    } else if (auto problem = check_hash_attrs(spec)) {
        return std::unexpected(std::move(*problem));
    }
    // ... then the inner map template (bpf_map_meta_alloc) ...
    if (!spec.inner) return refuse(-EBADF, "a map-in-map needs an inner map template (MapSpec::inner)");
    const MapType it = spec.inner->type;
    if (it == MapType::ArrayOfMaps || it == MapType::HashOfMaps)
        return refuse(-EINVAL, "inner maps cannot themselves hold maps");
    if (it == MapType::ProgArray) return refuse(-kENOTSUPP, "prog_array maps cannot be inner maps");
    // ... then the table: one 8-byte Map* per key.
    MapSpec table_spec;
    table_spec.name = spec.name;
    table_spec.type = array ? MapType::Array : MapType::Hash;
    table_spec.key_size = spec.key_size;
    table_spec.value_size = sizeof(std::uintptr_t);
    table_spec.max_entries = spec.max_entries;
    table_spec.flags = array ? 0 : spec.flags & (kFNoPrealloc | kFZeroSeed);
    auto table = array ? make_array(table_spec) : make_hash(table_spec);
    if (!table) return std::unexpected(std::move(table.error()));
    return std::make_shared<MapInMap>(spec, std::move(*table));
}

}  // namespace detail

MapInMap::MapInMap(const MapSpec& spec, std::shared_ptr<Map> table)
    : Map(spec), table_(std::move(table)), array_(spec.type == MapType::ArrayOfMaps) {}

MapInMap::~MapInMap() = default;

bool MapInMap::inner_compatible(const MapSpec& tmpl, const MapSpec& c) {
    constexpr std::uint32_t kFdFlags = kFRdonly | kFWronly;  // belong to the fd, not the map
    if (tmpl.type != c.type || tmpl.key_size != c.key_size || tmpl.value_size != c.value_size ||
        (tmpl.flags & ~kFdFlags) != (c.flags & ~kFdFlags) || tmpl.spin_lock_off != c.spin_lock_off)
        return false;
    if (tmpl.type == MapType::Array && !(tmpl.flags & kFInnerMap)) return tmpl.max_entries == c.max_entries;
    return true;
}

Map* MapInMap::load_slot(const void* key) const {
    void* slot = table_->lookup(key);
    return slot ? reinterpret_cast<Map*>(slot_ref(slot).load(std::memory_order_acquire)) : nullptr;
}

void* MapInMap::lookup(const void* key) { return load_slot(key); }

std::shared_ptr<Map> MapInMap::get_inner(const void* key) {
    std::lock_guard lock(write_mu_);
    Map* m = load_slot(key);
    if (!m) return nullptr;
    auto it = refs_.find(m);
    return it == refs_.end() ? nullptr : it->second.first;
}

void MapInMap::hold(const std::shared_ptr<Map>& inner) {
    auto& entry = refs_[inner.get()];
    if (entry.second++ == 0) entry.first = inner;
}

void MapInMap::release(Map* inner) {
    if (!inner) return;
    auto it = refs_.find(inner);
    if (it == refs_.end()) return;
    if (--it->second.second == 0) {
        rcu_retire(std::move(it->second.first));  // a running program may still use it
        refs_.erase(it);
    }
}

int MapInMap::set_inner(const void* key, std::shared_ptr<Map> inner, std::uint64_t flags) {
    if (array_) {
        if (flags != kAny) return -EINVAL;
        if (read_u32(key) >= spec().max_entries) return -E2BIG;
    }
    if (!inner) return -EBADF;
    if (!spec().inner || !inner_compatible(*spec().inner, inner->spec())) return -EINVAL;
    if (!array_ && flags > kExist) return -EINVAL;
    std::lock_guard lock(write_mu_);
    const auto ptr = reinterpret_cast<std::uintptr_t>(inner.get());
    if (void* slot = table_->lookup(key)) {
        if (!array_ && flags == kNoExist) return -EEXIST;
        hold(inner);
        release(reinterpret_cast<Map*>(slot_ref(slot).exchange(ptr, std::memory_order_acq_rel)));
        return 0;
    }
    if (array_) return -E2BIG;  // unreachable: every index below max_entries has a slot
    if (flags == kExist) return -ENOENT;
    if (const int rc = table_->update(key, &ptr, kNoExist)) return rc;
    hold(inner);
    return 0;
}

int MapInMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }  // not from programs

int MapInMap::erase(const void* key) {
    std::lock_guard lock(write_mu_);
    if (array_) {
        if (read_u32(key) >= spec().max_entries) return -E2BIG;
        void* slot = table_->lookup(key);
        Map* old = reinterpret_cast<Map*>(slot_ref(slot).exchange(0, std::memory_order_acq_rel));
        if (!old) return -ENOENT;
        release(old);
        return 0;
    }
    Map* old = load_slot(key);
    if (const int rc = table_->erase(key)) return rc;
    release(old);
    return 0;
}

int MapInMap::get_next_key(const void* key, void* next_key) { return table_->get_next_key(key, next_key); }

int MapInMap::sys_lookup(const void* key, void* value_out, std::uint64_t) {
    std::lock_guard lock(write_mu_);  // the inner map stays alive while we read its id
    Map* m = load_slot(key);
    if (!m) return -ENOENT;
    const std::uint32_t id = m->id();
    std::memcpy(value_out, &id, 4);
    return 0;
}

int MapInMap::sys_update(const void* key, const void* value, std::uint64_t flags) {
    // Arrays check flags and index before the fd (bpf_fd_array_map_update_elem); hashes resolve the fd first
    // (bpf_fd_htab_map_update_elem). The "fd" is an xbpf map id.
    if (array_) {
        if (flags != kAny) return -EINVAL;
        if (read_u32(key) >= spec().max_entries) return -E2BIG;
    }
    std::shared_ptr<Map> inner = find_map_by_id(read_u32(value));
    if (!inner) return -EBADF;
    return set_inner(key, std::move(inner), flags);
}

}  // namespace xbpf::maps
