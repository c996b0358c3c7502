// bloom_filter (kernel/bpf/bloom_filter.c): a bit array of max_entries * nr_hash_funcs / ln(2) bits (rounded up
// to a power of two), nr_hash_funcs = map_extra & 0xf (5 when 0). push sets the k bits of a value; peek answers
// 0 when all k are set (possibly present: false positives happen) and -ENOENT otherwise (surely absent: no false
// negatives). Bits are set with atomic OR, so concurrent pushes and peeks need no lock. Values cannot be removed.
#pragma once

#include <atomic>
#include <cstdint>

#include "maps/map.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {

/// BPF_MAP_TYPE_BLOOM_FILTER.
class BloomFilterMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared. `bit_mask` + 1 bits live in `bits` (64-bit words).
    BloomFilterMap(const MapSpec& spec, MapMemory bits, std::uint32_t bit_mask, std::uint32_t nr_hash_funcs);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;
    int push(const void* value, std::uint64_t flags) override;
    int pop(void* value) override;
    int peek(void* value) override;

    /// Number of hash functions (k).
    [[nodiscard]] std::uint32_t nr_hash_funcs() const { return nr_hash_funcs_; }
    /// Size of the bit array.
    [[nodiscard]] std::uint64_t nr_bits() const { return std::uint64_t{bit_mask_} + 1; }

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;

  private:
    std::atomic<std::uint64_t>& word(std::uint32_t bit) const {
        return reinterpret_cast<std::atomic<std::uint64_t>*>(bits_.data())[bit / 64];
    }
    std::uint32_t bit_of(const void* value, std::uint32_t i) const;

    MapMemory bits_;
    std::uint32_t bit_mask_;
    std::uint32_t nr_hash_funcs_;
    std::uint32_t seed_;
};

}  // namespace xbpf::maps
