// Map-owned memory: zero-filled, page-aligned blocks from mmap that never move and are committed lazily (pages
// are touched on first use), so a large preallocated map costs address space, not RAM, until it fills up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace xbpf::maps {

/// One anonymous private mapping, released on destruction. Empty (false) when the allocation failed (-ENOMEM).
class MapMemory {
  public:
    MapMemory() = default;
    /// Allocates `bytes` (rounded up to pages; 0 gives an empty block that is still "valid").
    static MapMemory allocate(std::size_t bytes);
    MapMemory(MapMemory&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    MapMemory& operator=(MapMemory&& o) noexcept;
    MapMemory(const MapMemory&) = delete;
    MapMemory& operator=(const MapMemory&) = delete;
    ~MapMemory();

    [[nodiscard]] std::byte* data() const { return data_; }
    [[nodiscard]] std::size_t size() const { return size_; }
    explicit operator bool() const { return data_ != nullptr; }

  private:
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
};

/// round_up(x, 8), the kernel's value slot rounding.
constexpr std::uint64_t round_up8(std::uint64_t x) { return (x + 7) & ~std::uint64_t{7}; }

/// a * b, or false on overflow.
inline bool checked_mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
    return !__builtin_mul_overflow(a, b, &out);
}

/// The page size.
std::size_t page_size();

}  // namespace xbpf::maps
