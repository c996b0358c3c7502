// Maps: one interface, one file per map family (array.cpp, hash.cpp, ...). Semantics are the Linux kernel's:
// same type ids, update flags, error codes (negative errno, as the bpf() syscall and the helpers return them),
// get_next_key order rules, per-CPU value layout.
//
// Two sides, as in the kernel:
// - the program side (what helpers call: lookup/update/erase/push/pop/peek, ...) works on map memory directly:
//   `lookup` returns a pointer into map-owned storage that stays valid for the map's lifetime (elements are
//   preallocated and never freed while the map lives; a deleted element may be reused, exactly as the kernel
//   reuses preallocated hash elements);
// - the host side (what the bpf() syscall does: lookup_copy/update_host/erase_host/get_next_key_host/...) copies
//   values in and out in the syscall's layout (per-CPU maps: one round_up(value_size, 8) slot per possible CPU)
//   and applies the syscall's own checks (flags, BPF_F_RDONLY/WRONLY, frozen maps, key-less maps).
//
// Every operation is safe to call from several threads at once (programs on several threads plus the host).
#pragma once

#include <atomic>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace xbpf::maps {

/// Map types, numbered as enum bpf_map_type in include/uapi/linux/bpf.h.
enum class MapType : std::uint32_t {
    Unspec = 0,
    Hash = 1,
    Array = 2,
    ProgArray = 3,
    PerfEventArray = 4,
    PercpuHash = 5,
    PercpuArray = 6,
    StackTrace = 7,
    CgroupArray = 8,
    LruHash = 9,
    LruPercpuHash = 10,
    LpmTrie = 11,
    ArrayOfMaps = 12,
    HashOfMaps = 13,
    Queue = 22,
    Stack = 23,
    Ringbuf = 27,
    BloomFilter = 30,
};

/// Kernel name of a map type ("hash", "percpu_array", ...), as bpftool prints it; "unknown" otherwise.
std::string_view map_type_name(MapType type);

/// Update flags (BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK).
inline constexpr std::uint64_t kAny = 0;
inline constexpr std::uint64_t kNoExist = 1;
inline constexpr std::uint64_t kExist = 2;
inline constexpr std::uint64_t kFLock = 4;

/// Map creation flags (BPF_F_NO_PREALLOC, BPF_F_RDONLY_PROG, ...), numbered as the kernel's.
inline constexpr std::uint32_t kFNoPrealloc = 1u << 0;
inline constexpr std::uint32_t kFNoCommonLru = 1u << 1;
inline constexpr std::uint32_t kFNumaNode = 1u << 2;
inline constexpr std::uint32_t kFRdonly = 1u << 3;
inline constexpr std::uint32_t kFWronly = 1u << 4;
inline constexpr std::uint32_t kFStackBuildId = 1u << 5;
inline constexpr std::uint32_t kFZeroSeed = 1u << 6;
inline constexpr std::uint32_t kFRdonlyProg = 1u << 7;
inline constexpr std::uint32_t kFWronlyProg = 1u << 8;
inline constexpr std::uint32_t kFClone = 1u << 9;
inline constexpr std::uint32_t kFMmapable = 1u << 10;
inline constexpr std::uint32_t kFPreserveElems = 1u << 11;
inline constexpr std::uint32_t kFInnerMap = 1u << 12;
/// BPF_F_ACCESS_MASK: the four access flags.
inline constexpr std::uint32_t kFAccessMask = kFRdonly | kFRdonlyProg | kFWronly | kFWronlyProg;

/// The kernel-internal ENOTSUPP (524), which the bpf() syscall does return for some map operations
/// (e.g. every element operation on a ring buffer). Not the same as EOPNOTSUPP (95).
inline constexpr int kENOTSUPP = 524;

/// What a map is: pure data, as an object file or a bpftrace script declares it.
struct MapSpec {
    std::string name;
    MapType type = MapType::Unspec;
    std::uint32_t key_size = 0;
    std::uint32_t value_size = 0;
    std::uint32_t max_entries = 0;
    std::uint32_t flags = 0;
    std::uint64_t map_extra = 0;           ///< bloom filter: number of hash functions (low 4 bits)
    std::shared_ptr<const MapSpec> inner;  ///< array_of_maps / hash_of_maps: the inner map's shape
    /// Offset of a `struct bpf_spin_lock` (4 bytes) inside the value, from the value's BTF; -1 when none.
    /// Only hash and array maps may have one (as in the kernel); it enables BPF_F_LOCK.
    std::int32_t spin_lock_off = -1;
};

/// Why the kernel's rules refuse a spec or an operation: the negative errno and one sentence.
struct MapError {
    int err = 0;  ///< negative errno, e.g. -EINVAL
    std::string message;
};

/// One entry of a host-side dump: the key and the value in the syscall's layout (see Map::host_value_size).
struct MapEntry {
    std::vector<std::uint8_t> key;
    std::vector<std::uint8_t> value;
};

/// A live map. Create with make_map/create_map; share with std::shared_ptr (map-in-map holds references).
class Map {
  public:
    virtual ~Map();
    Map(const Map&) = delete;
    Map& operator=(const Map&) = delete;

    /// The spec as the kernel keeps it (max_entries may be adjusted, e.g. per-CPU LRU rounds it to the CPUs).
    [[nodiscard]] const MapSpec& spec() const { return spec_; }
    /// The map's type.
    [[nodiscard]] MapType type() const { return spec_.type; }
    /// Process-wide unique id (>= 1), the analogue of the kernel's map id; see find_map_by_id.
    [[nodiscard]] std::uint32_t id() const { return id_; }
    /// Size of the value buffer the host-side calls read and write: value_size, or round_up(value_size, 8) times
    /// the possible CPUs for per-CPU maps, or 4 for the fd-holding maps (prog_array, perf_event_array,
    /// array_of_maps, hash_of_maps), as bpf_map_value_size() in kernel/bpf/syscall.c.
    [[nodiscard]] std::size_t host_value_size() const;
    /// True when the value has a bpf_spin_lock (spec().spin_lock_off >= 0).
    [[nodiscard]] bool has_spin_lock() const { return spec_.spin_lock_off >= 0; }

    // ---- Program side: what the helpers call. Keys and values are raw bytes of key_size / value_size. ----

    /// bpf_map_lookup_elem: pointer to the value in map storage (per-CPU maps: the current CPU's slot;
    /// array_of_maps/hash_of_maps: the inner `Map*` itself), or nullptr when absent or not supported.
    virtual void* lookup(const void* key);
    /// bpf_map_update_elem: 0 or a negative errno, exactly as the kernel's map_update_elem op for this type.
    virtual int update(const void* key, const void* value, std::uint64_t flags);
    /// bpf_map_delete_elem: 0 or a negative errno.
    virtual int erase(const void* key);
    /// The map_get_next_key op: `key` may be nullptr (first key). 0, -ENOENT at the end, or another errno.
    virtual int get_next_key(const void* key, void* next_key);
    /// bpf_map_push_elem (queue, stack, bloom_filter).
    virtual int push(const void* value, std::uint64_t flags);
    /// bpf_map_pop_elem (queue, stack).
    virtual int pop(void* value);
    /// bpf_map_peek_elem (queue, stack; bloom_filter: 0 if possibly present, -ENOENT if surely absent).
    virtual int peek(void* value);
    /// bpf_map_lookup_percpu_elem: the slot of `cpu` in a per-CPU map; nullptr if absent, out of range or not
    /// a per-CPU map.
    virtual void* lookup_percpu(const void* key, std::uint32_t cpu);
    /// Callback of for_each_elem: key and value pointers into map storage; return 0 to go on, 1 to stop.
    using ElemCallback = std::function<long(const void* key, void* value)>;
    /// bpf_for_each_map_elem (hash and array families): number of elements visited, or -EINVAL if the type
    /// does not support it. The callback may update or delete elements of this map.
    virtual long for_each_elem(const ElemCallback& fn);

    // ---- Host side: the bpf() syscall's BPF_MAP_* commands, with the syscall's checks. ----

    /// BPF_MAP_LOOKUP_ELEM: copies host_value_size() bytes to value_out. flags: 0 or BPF_F_LOCK.
    /// For key-less maps (queue, stack, bloom_filter, ringbuf) key must be nullptr; bloom_filter reads
    /// value_out as the value to test.
    int lookup_copy(const void* key, void* value_out, std::uint64_t flags = 0);
    /// BPF_MAP_UPDATE_ELEM: value holds host_value_size() bytes. Queue/stack/bloom_filter push.
    int update_host(const void* key, const void* value, std::uint64_t flags = 0);
    /// BPF_MAP_DELETE_ELEM.
    int erase_host(const void* key);
    /// BPF_MAP_GET_NEXT_KEY: key nullptr for the first key.
    int get_next_key_host(const void* key, void* next_key);
    /// BPF_MAP_LOOKUP_AND_DELETE_ELEM (hash family: copy and delete; queue/stack: pop).
    int lookup_and_delete(const void* key, void* value_out, std::uint64_t flags = 0);
    /// BPF_MAP_FREEZE: the host can no longer write (update/delete give -EPERM); programs still can.
    int freeze();
    /// True once freeze() succeeded.
    [[nodiscard]] bool frozen() const { return frozen_.load(std::memory_order_acquire); }
    /// Every entry in get_next_key order (queue/stack: in pop order, without popping). Entries deleted during
    /// the walk are skipped, as bpftool does.
    virtual std::vector<MapEntry> dump();

  protected:
    explicit Map(const MapSpec& spec);
    /// For constructors that adjust the spec the kernel way (per-CPU LRU rounding max_entries).
    MapSpec& mutable_spec() { return spec_; }

    /// The syscall's lookup after the common checks (bpf_map_copy_value). Default: lookup_sys_only + copy.
    virtual int sys_lookup(const void* key, void* value_out, std::uint64_t flags);
    /// The syscall's update after the common checks (bpf_map_update_value). Default: update().
    virtual int sys_update(const void* key, const void* value, std::uint64_t flags);
    /// The syscall's delete after the common checks. Default: erase().
    virtual int sys_erase(const void* key);
    /// The syscall's lookup-and-delete after the common checks. Default: -ENOTSUPP.
    virtual int sys_lookup_and_delete(const void* key, void* value_out, std::uint64_t flags);
    /// Lookup for the syscall path (LRU maps do not mark the element referenced). Default: lookup().
    virtual void* lookup_sys_only(const void* key);

    /// copy_map_value / copy_map_value_locked: copies value_size bytes from src to dst, leaving the spin lock
    /// word of dst alone; with `locked`, under the spin lock of the map-side value (`map_side`, which is dst
    /// or src). Out-copies (to a caller buffer) zero the lock word, as check_and_init_map_value does.
    void copy_value_in(void* dst, const void* src, bool locked) const;
    void copy_value_out(void* dst, const void* src, bool locked) const;

  private:
    MapSpec spec_;
    std::uint32_t id_ = 0;
    std::atomic<bool> frozen_{false};
    std::atomic<std::uint32_t> writers_{0};  // host writes in flight (BPF_MAP_FREEZE gives -EBUSY)
};

/// Checks a spec against the kernel's rules and builds the map. On refusal: the errno the kernel's
/// BPF_MAP_CREATE gives for the same attributes, and a sentence naming the problem.
std::expected<std::shared_ptr<Map>, MapError> make_map(const MapSpec& spec);

/// make_map as a Result: ErrorCode::kInvalidArgument (or kUnsupported for types xbpf does not implement) with
/// a message naming the map, the problem and the errno ("map 'counts' (hash): key_size must be > 0 (EINVAL)").
Result<std::shared_ptr<Map>> create_map(const MapSpec& spec);

/// The live map with this id, or nullptr (the analogue of BPF_MAP_GET_FD_BY_ID).
std::shared_ptr<Map> find_map_by_id(std::uint32_t id);

/// Short errno name for messages: "EINVAL", "E2BIG", "ENOTSUPP", ... (accepts negative values).
std::string_view errno_name(int err);

}  // namespace xbpf::maps
