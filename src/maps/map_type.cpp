#include "maps/map.hpp"

namespace xbpf::maps {

std::string_view map_type_name(MapType type) {
    switch (type) {
        case MapType::Unspec: return "unspec";
        case MapType::Hash: return "hash";
        case MapType::Array: return "array";
        case MapType::ProgArray: return "prog_array";
        case MapType::PerfEventArray: return "perf_event_array";
        case MapType::PercpuHash: return "percpu_hash";
        case MapType::PercpuArray: return "percpu_array";
        case MapType::StackTrace: return "stack_trace";
        case MapType::CgroupArray: return "cgroup_array";
        case MapType::LruHash: return "lru_hash";
        case MapType::LruPercpuHash: return "lru_percpu_hash";
        case MapType::LpmTrie: return "lpm_trie";
        case MapType::ArrayOfMaps: return "array_of_maps";
        case MapType::HashOfMaps: return "hash_of_maps";
        case MapType::Queue: return "queue";
        case MapType::Stack: return "stack";
        case MapType::Ringbuf: return "ringbuf";
        case MapType::BloomFilter: return "bloom_filter";
    }
    return "unknown";
}

}  // namespace xbpf::maps
