// Internal to src/maps: the factory of each map family, called by make_map (create.cpp) after the checks every
// map type shares. Each validates its own rules (the kernel's map_alloc_check + map_alloc) and allocates.
#pragma once

#include <expected>
#include <memory>
#include <optional>
#include <string>

#include "maps/map.hpp"

namespace xbpf::maps::detail {

using MakeResult = std::expected<std::shared_ptr<Map>, MapError>;

/// Shorthand for returning a refusal: refuse(-EINVAL, "key_size must be 4").
inline std::unexpected<MapError> refuse(int err, std::string message) {
    return std::unexpected<MapError>(MapError{err, std::move(message)});
}

/// bpf_map_flags_access_ok: BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG together are refused.
inline bool flags_access_ok(std::uint32_t flags) {
    return (flags & (kFRdonlyProg | kFWronlyProg)) != (kFRdonlyProg | kFWronlyProg);
}

MakeResult make_array(const MapSpec& spec);             // array, percpu_array
MakeResult make_hash(const MapSpec& spec);              // hash, percpu_hash, lru_hash, lru_percpu_hash
MakeResult make_queue_stack(const MapSpec& spec);       // queue, stack
MakeResult make_bloom_filter(const MapSpec& spec);      // bloom_filter
MakeResult make_lpm_trie(const MapSpec& spec);          // lpm_trie
MakeResult make_ringbuf(const MapSpec& spec);           // ringbuf
MakeResult make_perf_event_array(const MapSpec& spec);  // perf_event_array
MakeResult make_stack_trace(const MapSpec& spec);       // stack_trace
MakeResult make_prog_array(const MapSpec& spec);        // prog_array
MakeResult make_map_in_map(const MapSpec& spec);        // array_of_maps, hash_of_maps

/// The array-family checks shared by array, percpu_array and the fd arrays (array_map_alloc_check).
std::optional<MapError> check_array_attrs(const MapSpec& spec);
/// The hash-family checks shared by the hash types and hash_of_maps (htab_map_alloc_check).
std::optional<MapError> check_hash_attrs(const MapSpec& spec);

}  // namespace xbpf::maps::detail
