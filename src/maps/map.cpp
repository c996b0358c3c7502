#include "maps/map.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "maps/cpu.hpp"
#include "maps/lock.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {
namespace {

struct Registry {
    std::mutex mu;
    std::unordered_map<std::uint32_t, std::weak_ptr<Map>> maps;
    std::uint32_t next_id = 1;
};

Registry& registry() {
    static Registry* r = new Registry;  // leaked: maps may be destroyed during static destruction
    return *r;
}

std::uint32_t allocate_id() {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    std::uint32_t id = r.next_id++;
    if (r.next_id == 0 || r.next_id > 0x7fffffffu) r.next_id = 1;  // cyclic, like idr_alloc_cyclic(1, INT_MAX)
    while (r.maps.contains(id)) id = r.next_id++;
    r.maps.emplace(id, std::weak_ptr<Map>());
    return id;
}

/// RAII for host writes in flight, so that BPF_MAP_FREEZE can refuse with -EBUSY while one runs.
class WriteActive {
  public:
    explicit WriteActive(std::atomic<std::uint32_t>& n) : n_(n) { n_.fetch_add(1, std::memory_order_acq_rel); }
    ~WriteActive() { n_.fetch_sub(1, std::memory_order_acq_rel); }
    WriteActive(const WriteActive&) = delete;
    WriteActive& operator=(const WriteActive&) = delete;

  private:
    std::atomic<std::uint32_t>& n_;
};

/// The syscall copies key_size bytes from the user key pointer; a key-less map takes only a NULL key
/// (__bpf_copy_key). A NULL key for a map with keys would fault the copy.
int check_key_ptr(std::uint32_t key_size, const void* key) {
    if (key_size == 0) return key ? -EINVAL : 0;
    return key ? 0 : -EFAULT;
}

}  // namespace

namespace detail {
void register_map(const std::shared_ptr<Map>& map) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.maps[map->id()] = map;
}
}  // namespace detail

std::shared_ptr<Map> find_map_by_id(std::uint32_t id) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.maps.find(id);
    return it == r.maps.end() ? nullptr : it->second.lock();
}

std::string_view errno_name(int err) {
    switch (err < 0 ? -err : err) {
        case 0: return "0";
        case EPERM: return "EPERM";
        case ENOENT: return "ENOENT";
        case E2BIG: return "E2BIG";
        case EBADF: return "EBADF";
        case EAGAIN: return "EAGAIN";
        case ENOMEM: return "ENOMEM";
        case EACCES: return "EACCES";
        case EFAULT: return "EFAULT";
        case EBUSY: return "EBUSY";
        case EEXIST: return "EEXIST";
        case EINVAL: return "EINVAL";
        case ENOSPC: return "ENOSPC";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case kENOTSUPP: return "ENOTSUPP";
        default: return "E?";
    }
}

Map::Map(const MapSpec& spec) : spec_(spec), id_(allocate_id()) {}

Map::~Map() {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    r.maps.erase(id_);
}

std::size_t Map::host_value_size() const {
    switch (spec_.type) {
        case MapType::PercpuHash:
        case MapType::LruPercpuHash:
        case MapType::PercpuArray: return round_up8(spec_.value_size) * num_possible_cpus();
        case MapType::ProgArray:
        case MapType::PerfEventArray:
        case MapType::ArrayOfMaps:
        case MapType::HashOfMaps: return sizeof(std::uint32_t);
        default: return spec_.value_size;
    }
}

// ---- program-side defaults: the op does not exist for this type ----

void* Map::lookup(const void*) { return nullptr; }
int Map::update(const void*, const void*, std::uint64_t) { return -EOPNOTSUPP; }
int Map::erase(const void*) { return -EOPNOTSUPP; }
int Map::get_next_key(const void*, void*) { return -EOPNOTSUPP; }
int Map::push(const void*, std::uint64_t) { return -EOPNOTSUPP; }
int Map::pop(void*) { return -EOPNOTSUPP; }
int Map::peek(void*) { return -EOPNOTSUPP; }
void* Map::lookup_percpu(const void*, std::uint32_t) { return nullptr; }
long Map::for_each_elem(const ElemCallback&) { return -EINVAL; }

// ---- host side: kernel/bpf/syscall.c map_lookup_elem, map_update_elem, ... ----

int Map::lookup_copy(const void* key, void* value_out, std::uint64_t flags) {
    if (flags & ~kFLock) return -EINVAL;
    if (spec_.flags & kFWronly) return -EPERM;
    if ((flags & kFLock) && !has_spin_lock()) return -EINVAL;
    if (const int rc = check_key_ptr(spec_.key_size, key)) return rc;
    return sys_lookup(key, value_out, flags);
}

int Map::update_host(const void* key, const void* value, std::uint64_t flags) {
    WriteActive active(writers_);
    if ((spec_.flags & kFRdonly) || frozen()) return -EPERM;
    if ((flags & kFLock) && !has_spin_lock()) return -EINVAL;
    if (const int rc = check_key_ptr(spec_.key_size, key)) return rc;
    return sys_update(key, value, flags);
}

int Map::erase_host(const void* key) {
    WriteActive active(writers_);
    if ((spec_.flags & kFRdonly) || frozen()) return -EPERM;
    if (const int rc = check_key_ptr(spec_.key_size, key)) return rc;
    return sys_erase(key);
}

int Map::get_next_key_host(const void* key, void* next_key) {
    if (spec_.flags & kFWronly) return -EPERM;
    if (key && spec_.key_size == 0) return -EINVAL;
    return get_next_key(key, next_key);
}

int Map::lookup_and_delete(const void* key, void* value_out, std::uint64_t flags) {
    if (flags & ~kFLock) return -EINVAL;
    WriteActive active(writers_);
    if ((spec_.flags & (kFRdonly | kFWronly)) || frozen()) return -EPERM;
    if (flags && (spec_.type == MapType::Queue || spec_.type == MapType::Stack)) return -EINVAL;
    if ((flags & kFLock) && !has_spin_lock()) return -EINVAL;
    if (const int rc = check_key_ptr(spec_.key_size, key)) return rc;
    return sys_lookup_and_delete(key, value_out, flags);
}

int Map::freeze() {
    // A map with special fields in its value (a spin lock here) cannot be frozen: -ENOTSUPP, then the write
    // permission (a frozen map has lost it, so a second freeze is -EPERM), then writers in flight.
    if (has_spin_lock()) return -kENOTSUPP;
    if ((spec_.flags & kFRdonly) || frozen()) return -EPERM;
    if (writers_.load(std::memory_order_acquire) != 0) return -EBUSY;
    bool expected = false;
    if (!frozen_.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return -EBUSY;
    return 0;
}

std::vector<MapEntry> Map::dump() {
    std::vector<MapEntry> out;
    if (spec_.key_size == 0) return out;
    std::vector<std::uint8_t> key(spec_.key_size), next(spec_.key_size), value(host_value_size());
    // Bounded walk: under concurrent churn a hash walk may restart from the first key; stop rather than loop.
    const std::uint64_t limit = 2 * std::uint64_t{spec_.max_entries} + 64;
    int rc = get_next_key_host(nullptr, next.data());
    for (std::uint64_t steps = 0; rc == 0 && steps < limit; ++steps) {
        const int lrc = lookup_copy(next.data(), value.data());
        if (lrc == 0) {
            out.push_back({next, value});
        } else if (lrc != -ENOENT) {
            out.push_back({next, {}});  // keys without a readable value (e.g. perf_event_array)
        }
        key.swap(next);
        rc = get_next_key_host(key.data(), next.data());
    }
    return out;
}

int Map::sys_lookup(const void* key, void* value_out, std::uint64_t flags) {
    const void* ptr = lookup_sys_only(key);
    if (!ptr) return -ENOENT;
    copy_value_out(value_out, ptr, (flags & kFLock) != 0);
    return 0;
}

int Map::sys_update(const void* key, const void* value, std::uint64_t flags) { return update(key, value, flags); }
int Map::sys_erase(const void* key) { return erase(key); }
int Map::sys_lookup_and_delete(const void*, void*, std::uint64_t) { return -kENOTSUPP; }
void* Map::lookup_sys_only(const void* key) { return lookup(key); }

void Map::copy_value_in(void* dst, const void* src, bool locked) const {
    const std::size_t n = spec_.value_size;
    if (!has_spin_lock()) {
        std::memcpy(dst, src, n);
        return;
    }
    const std::size_t off = static_cast<std::size_t>(spec_.spin_lock_off);
    auto* d = static_cast<std::byte*>(dst);
    const auto* s = static_cast<const std::byte*>(src);
    if (locked) value_spin_lock(d + off);
    std::memcpy(d, s, off);
    std::memcpy(d + off + 4, s + off + 4, n - off - 4);
    if (locked) value_spin_unlock(d + off);
}

void Map::copy_value_out(void* dst, const void* src, bool locked) const {
    const std::size_t n = spec_.value_size;
    if (!has_spin_lock()) {
        std::memcpy(dst, src, n);
        return;
    }
    const std::size_t off = static_cast<std::size_t>(spec_.spin_lock_off);
    auto* d = static_cast<std::byte*>(dst);
    const auto* s = static_cast<const std::byte*>(src);
    if (locked) value_spin_lock(const_cast<std::byte*>(s) + off);
    std::memcpy(d, s, off);
    std::memcpy(d + off + 4, s + off + 4, n - off - 4);
    if (locked) value_spin_unlock(const_cast<std::byte*>(s) + off);
    std::memset(d + off, 0, 4);
}

}  // namespace xbpf::maps
