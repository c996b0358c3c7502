// array_of_maps and hash_of_maps (kernel/bpf/map_in_map.c, arraymap.c, hashtab.c): values are references to
// inner maps whose shape matches the template given at creation (MapSpec::inner): same type, key and value size,
// flags and spin lock, and for array inner maps the same max_entries unless the template has BPF_F_INNER_MAP
// (bpf_map_meta_equal, array_map_meta_equal). Programs look an inner map up (lookup returns the inner `Map*`) and
// use it within their run; the host stores, replaces and deletes. An inner map stays alive while referenced and,
// after its last reference goes, until running programs are done with it (RCU, maps/rcu.hpp).
//
// Host side, as the syscall: update takes a u32 "fd", here the inner map's id (Map::id(), find_map_by_id);
// lookup returns the inner map's id.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "maps/map.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_ARRAY_OF_MAPS and BPF_MAP_TYPE_HASH_OF_MAPS.
class MapInMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared. `table` stores one `Map*` (8 bytes) per key.
    MapInMap(const MapSpec& spec, std::shared_ptr<Map> table);
    ~MapInMap() override;

    /// True when `candidate` may be stored in a map-in-map whose template is `tmpl`.
    static bool inner_compatible(const MapSpec& tmpl, const MapSpec& candidate);

    /// Stores `inner` under `key`: 0 or the kernel's errno (array: -EINVAL unless BPF_ANY, -E2BIG; hash:
    /// -EEXIST/-ENOENT per flags, -E2BIG when full; both: -EINVAL for an incompatible map, -EBADF for nullptr).
    int set_inner(const void* key, std::shared_ptr<Map> inner, std::uint64_t flags = kAny);
    /// The inner map under `key`, or nullptr.
    [[nodiscard]] std::shared_ptr<Map> get_inner(const void* key);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;

  private:
    Map* load_slot(const void* key) const;
    void hold(const std::shared_ptr<Map>& inner);  // write_mu_ held
    void release(Map* inner);                      // write_mu_ held

    std::shared_ptr<Map> table_;
    bool array_;
    std::mutex write_mu_;
    std::unordered_map<Map*, std::pair<std::shared_ptr<Map>, std::uint64_t>> refs_;  // guarded by write_mu_
};

}  // namespace xbpf::maps
