// The Linux back end for maps: BPF_MAP_CREATE and the element commands through libbpf's low-level API. Used by the
// map differential tests (the same operations on a kernel map and an xbpf map) and the map benchmarks. Every
// element call returns 0 or the kernel's negative errno, like xbpf::maps::Map's host side, so the two compare
// directly.
#pragma once

#include <cstdint>
#include <utility>

#include "base/error.hpp"
#include "maps/map.hpp"

namespace xbpf::kernel {

/// An owned file descriptor of a kernel map.
class MapFd {
  public:
    MapFd() = default;
    explicit MapFd(int fd) : fd_(fd) {}
    MapFd(MapFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    MapFd& operator=(MapFd&& o) noexcept;
    MapFd(const MapFd&) = delete;
    MapFd& operator=(const MapFd&) = delete;
    ~MapFd();
    [[nodiscard]] int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

  private:
    int fd_ = -1;
};

/// BPF_MAP_CREATE for `spec`: 0 and the map in `out`, or the kernel's negative errno. `inner_map_fd` is the
/// template for array_of_maps/hash_of_maps. A spec with spin_lock_off >= 0 gets a BTF value type holding a
/// struct bpf_spin_lock there (loaded into the kernel for the occasion), so BPF_F_LOCK works.
int create_map_raw(const maps::MapSpec& spec, MapFd& out, int inner_map_fd = -1);

/// create_map_raw as a Result (ErrorCode::kKernel with errno's text).
Result<MapFd> create_map(const maps::MapSpec& spec, int inner_map_fd = -1);

/// BPF_MAP_LOOKUP_ELEM (bpf_map_lookup_elem_flags).
int map_lookup(const MapFd& map, const void* key, void* value, std::uint64_t flags = 0);
/// BPF_MAP_UPDATE_ELEM.
int map_update(const MapFd& map, const void* key, const void* value, std::uint64_t flags = 0);
/// BPF_MAP_DELETE_ELEM.
int map_delete(const MapFd& map, const void* key);
/// BPF_MAP_GET_NEXT_KEY (key nullptr for the first key).
int map_get_next_key(const MapFd& map, const void* key, void* next_key);
/// BPF_MAP_LOOKUP_AND_DELETE_ELEM.
int map_lookup_and_delete(const MapFd& map, const void* key, void* value, std::uint64_t flags = 0);
/// BPF_MAP_FREEZE.
int map_freeze(const MapFd& map);

/// The kernel id of a map or program fd (BPF_OBJ_GET_INFO_BY_FD), or a negative errno.
std::int64_t map_id(int map_fd);
std::int64_t prog_id(int prog_fd);

}  // namespace xbpf::kernel
