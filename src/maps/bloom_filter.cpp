#include "maps/bloom_filter.hpp"

#include <bit>
#include <cerrno>
#include <random>

#include <fmt/format.h>

#include "maps/families.hpp"
#include "maps/key_hash.hpp"

namespace xbpf::maps {

namespace detail {

MakeResult make_bloom_filter(const MapSpec& spec) {
    constexpr std::uint32_t kAllowed = kFNumaNode | kFZeroSeed | kFAccessMask;
    if (spec.key_size != 0) return refuse(-EINVAL, "key_size must be 0 (bloom filters hold values only)");
    if (spec.value_size == 0) return refuse(-EINVAL, "value_size must be > 0");
    if (spec.max_entries == 0) return refuse(-EINVAL, "max_entries must be > 0");
    if ((spec.flags & ~kAllowed) || !flags_access_ok(spec.flags))
        return refuse(-EINVAL, fmt::format("flags {:#x} not allowed for bloom filters", spec.flags));
    if (spec.map_extra & ~std::uint64_t{0xf})
        return refuse(-EINVAL, "map_extra holds the number of hash functions in its low 4 bits only");
    const std::uint32_t k = spec.map_extra == 0 ? 5 : static_cast<std::uint32_t>(spec.map_extra);
    // bloom_map_alloc: n * k / ln(2) bits, approximated by n * k * 7 / 5, rounded up to a power of two.
    std::uint32_t nr_bits = 0;
    std::uint64_t bits = 0;
    std::uint32_t mask = 0;
    if (__builtin_mul_overflow(spec.max_entries, k, &nr_bits) || __builtin_mul_overflow(nr_bits / 5, 7u, &nr_bits) ||
        nr_bits > (1u << 31)) {
        bits = std::uint64_t{1} << 32;
        mask = UINT32_MAX;
    } else {
        nr_bits = nr_bits <= 64 ? 64 : std::bit_ceil(nr_bits);
        bits = nr_bits;
        mask = nr_bits - 1;
    }
    MapMemory memory = MapMemory::allocate(bits / 8);
    if (!memory) return refuse(-ENOMEM, fmt::format("cannot allocate {} bits", bits));
    return std::make_shared<BloomFilterMap>(spec, std::move(memory), mask, k);
}

}  // namespace detail

BloomFilterMap::BloomFilterMap(const MapSpec& spec, MapMemory bits, std::uint32_t bit_mask, std::uint32_t nr_hash_funcs)
    : Map(spec),
      bits_(std::move(bits)),
      bit_mask_(bit_mask),
      nr_hash_funcs_(nr_hash_funcs),
      seed_((spec.flags & kFZeroSeed) ? 0 : std::random_device{}()) {}

std::uint32_t BloomFilterMap::bit_of(const void* value, std::uint32_t i) const {
    return hash_bytes(value, spec().value_size, seed_ + i) & bit_mask_;
}

int BloomFilterMap::push(const void* value, std::uint64_t flags) {
    if (flags != kAny) return -EINVAL;
    for (std::uint32_t i = 0; i < nr_hash_funcs_; ++i) {
        const std::uint32_t bit = bit_of(value, i);
        word(bit).fetch_or(std::uint64_t{1} << (bit % 64), std::memory_order_relaxed);
    }
    return 0;
}

int BloomFilterMap::peek(void* value) {
    for (std::uint32_t i = 0; i < nr_hash_funcs_; ++i) {
        const std::uint32_t bit = bit_of(value, i);
        if (!(word(bit).load(std::memory_order_relaxed) & (std::uint64_t{1} << (bit % 64)))) return -ENOENT;
    }
    return 0;
}

void* BloomFilterMap::lookup(const void*) { return nullptr; }  // programs use peek (the kernel: -EINVAL)
int BloomFilterMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }
int BloomFilterMap::erase(const void*) { return -EOPNOTSUPP; }
int BloomFilterMap::get_next_key(const void*, void*) { return -EOPNOTSUPP; }
int BloomFilterMap::pop(void*) { return -EOPNOTSUPP; }

int BloomFilterMap::sys_lookup(const void*, void* value_out, std::uint64_t) { return peek(value_out); }
int BloomFilterMap::sys_update(const void*, const void* value, std::uint64_t flags) { return push(value, flags); }

}  // namespace xbpf::maps
