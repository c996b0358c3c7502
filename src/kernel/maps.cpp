#include "kernel/maps.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/btf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace xbpf::kernel {
namespace {

int rc_of(int ret) { return ret < 0 ? -errno : 0; }

struct BtfDeleter {
    void operator()(struct btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<struct btf, BtfDeleter>;

/// BTF with `int` (or char[key_size]) as the key and a struct with a bpf_spin_lock at spin_lock_off as the value.
/// Returns the loaded BTF (its fd stays open while the object lives) or nullptr; ids through the out-params.
BtfPtr spin_lock_btf(const maps::MapSpec& spec, std::uint32_t& key_id, std::uint32_t& value_id) {
    BtfPtr btf(btf__new_empty());
    if (!btf) return nullptr;
    struct btf* b = btf.get();
    const int int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
    const int char_id = btf__add_int(b, "char", 1, BTF_INT_CHAR);
    const int lock_id = btf__add_struct(b, "bpf_spin_lock", 4);
    btf__add_field(b, "val", int_id, 0, 0);
    const int key = spec.key_size == 4 ? int_id : btf__add_array(b, int_id, char_id, spec.key_size);
    const auto off = static_cast<std::uint32_t>(spec.spin_lock_off);
    const std::uint32_t post = spec.value_size > off + 4 ? spec.value_size - off - 4 : 0;
    const int pre_id = off > 0 ? btf__add_array(b, int_id, char_id, off) : 0;
    const int post_id = post > 0 ? btf__add_array(b, int_id, char_id, post) : 0;
    const int val = btf__add_struct(b, "val", spec.value_size);
    if (pre_id > 0) btf__add_field(b, "pre", pre_id, 0, 0);
    btf__add_field(b, "lock", lock_id, off * 8, 0);
    if (post_id > 0) btf__add_field(b, "post", post_id, (off + 4) * 8, 0);
    if (int_id < 0 || char_id < 0 || lock_id < 0 || key < 0 || val < 0) return nullptr;
    if (btf__load_into_kernel(b) != 0) return nullptr;
    key_id = static_cast<std::uint32_t>(key);
    value_id = static_cast<std::uint32_t>(val);
    return btf;
}

}  // namespace

MapFd& MapFd::operator=(MapFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

MapFd::~MapFd() {
    if (fd_ >= 0) ::close(fd_);
}

int create_map_raw(const maps::MapSpec& spec, MapFd& out, int inner_map_fd) {
    LIBBPF_OPTS(bpf_map_create_opts, opts);
    opts.map_flags = spec.flags;
    opts.map_extra = spec.map_extra;
    if (spec.flags & maps::kFNumaNode) opts.numa_node = 0;
    if (inner_map_fd >= 0) opts.inner_map_fd = static_cast<__u32>(inner_map_fd);
    BtfPtr btf;
    if (spec.spin_lock_off >= 0) {
        std::uint32_t key_id = 0, value_id = 0;
        btf = spin_lock_btf(spec, key_id, value_id);
        if (!btf) return -EINVAL;
        opts.btf_fd = static_cast<__u32>(btf__fd(btf.get()));
        opts.btf_key_type_id = key_id;
        opts.btf_value_type_id = value_id;
    }
    const int fd =
        bpf_map_create(static_cast<enum bpf_map_type>(spec.type), spec.name.empty() ? nullptr : spec.name.c_str(),
                       spec.key_size, spec.value_size, spec.max_entries, &opts);
    if (fd < 0) return -errno;
    out = MapFd(fd);
    return 0;
}

Result<MapFd> create_map(const maps::MapSpec& spec, int inner_map_fd) {
    MapFd fd;
    if (const int rc = create_map_raw(spec, fd, inner_map_fd))
        return make_error(ErrorCode::kKernel, fmt::format("BPF_MAP_CREATE (map type {}): {}",
                                                          static_cast<std::uint32_t>(spec.type), std::strerror(-rc)));
    return fd;
}

int map_lookup(const MapFd& map, const void* key, void* value, std::uint64_t flags) {
    return rc_of(bpf_map_lookup_elem_flags(map.get(), key, value, flags));
}

int map_update(const MapFd& map, const void* key, const void* value, std::uint64_t flags) {
    return rc_of(bpf_map_update_elem(map.get(), key, value, flags));
}

int map_delete(const MapFd& map, const void* key) { return rc_of(bpf_map_delete_elem(map.get(), key)); }

int map_get_next_key(const MapFd& map, const void* key, void* next_key) {
    return rc_of(bpf_map_get_next_key(map.get(), key, next_key));
}

int map_lookup_and_delete(const MapFd& map, const void* key, void* value, std::uint64_t flags) {
    return rc_of(bpf_map_lookup_and_delete_elem_flags(map.get(), key, value, flags));
}

int map_freeze(const MapFd& map) { return rc_of(bpf_map_freeze(map.get())); }

std::int64_t map_id(int map_fd) {
    struct bpf_map_info info {};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) return -errno;
    return info.id;
}

std::int64_t prog_id(int prog_fd) {
    struct bpf_prog_info info {};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return -errno;
    return info.id;
}

}  // namespace xbpf::kernel
