// lpm_trie (kernel/bpf/lpm_trie.c): longest-prefix match over keys `struct bpf_lpm_trie_key_u8 { u32 prefixlen;
// u8 data[]; }` (host-endian prefix length, data in network bit order: bit 0 is the high bit of data[0]).
//
// The same path-compressed binary trie as the kernel's: a node per stored prefix plus "intermediate" nodes where
// two prefixes diverge; every intermediate node has exactly two children. The shape is canonical for a set of
// prefixes, so get_next_key walks in the kernel's order: post-order, more specific prefixes before less specific
// ones, the leftmost node for a missing key. A full trie refuses new prefixes with -ENOSPC; BPF_F_NO_PREALLOC is
// mandatory, as in the kernel.
//
// Memory: nodes come from chunks that are allocated as the trie grows and never freed while the map lives (a
// deleted node returns to a free list), so value pointers handed to programs stay valid. Lookups take a shared
// lock, updates and deletes an exclusive one.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_LPM_TRIE.
class LpmTrieMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared.
    explicit LpmTrieMap(const MapSpec& spec);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

    /// Number of prefixes stored.
    [[nodiscard]] std::uint32_t count() const;

  private:
    static constexpr std::uint32_t kImFlag = 1;  // LPM_TREE_NODE_FLAG_IM
    struct Node {
        std::uint32_t child[2];  // node index + 1, 0 = none
        std::uint32_t prefixlen;
        std::uint32_t flags;
    };

    Node* node(std::uint32_t link) const;  // link = index + 1, non-zero
    std::uint8_t* data_of(std::uint32_t link) const { return reinterpret_cast<std::uint8_t*>(node(link) + 1); }
    std::byte* value_of(std::uint32_t link) const { return reinterpret_cast<std::byte*>(data_of(link)) + data_stride_; }
    std::uint32_t alloc_node();  // 0 when out of memory; lock held exclusively
    void free_node(std::uint32_t link);
    std::uint32_t match_len(std::uint32_t link, std::uint32_t key_prefixlen, const std::uint8_t* key_data) const;
    std::uint32_t leftmost(std::uint32_t link) const;
    void copy_key_out(std::uint32_t link, void* out) const;

    mutable std::shared_mutex lock_;
    std::vector<MapMemory> chunks_;
    std::uint32_t data_size_;    // key_size - 4
    std::uint32_t data_stride_;  // round_up(data_size, 8)
    std::size_t node_stride_;
    std::uint32_t chunk_nodes_;  // nodes per chunk: about 64 KiB of nodes, at least one
    std::uint32_t max_prefixlen_;
    std::uint32_t root_ = 0;
    std::uint32_t free_head_ = 0;
    std::uint32_t allocated_ = 0;
    std::uint32_t n_entries_ = 0;
};

}  // namespace xbpf::maps
