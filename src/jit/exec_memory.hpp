// Executable memory under W^X: mapped read-write, filled, then sealed read+execute; never both at once. Freed
// mappings are made read-write again and kept in a small process-wide pool for later allocations.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/error.hpp"

namespace xbpf::jit {

/// One anonymous mapping holding generated code. Move-only; unmapped on destruction.
class ExecMemory {
  public:
    ExecMemory() = default;
    ExecMemory(ExecMemory&& o) noexcept : base_(o.base_), size_(o.size_), mapped_(o.mapped_), sealed_(o.sealed_) {
        o.base_ = nullptr;
        o.size_ = o.mapped_ = 0;
        o.sealed_ = false;
    }
    ExecMemory& operator=(ExecMemory&& o) noexcept;
    ExecMemory(const ExecMemory&) = delete;
    ExecMemory& operator=(const ExecMemory&) = delete;
    ~ExecMemory();

    /// Maps `size` bytes read-write (not executable): a pooled mapping (its bytes past `size` filled with int3) or a
    /// fresh one.
    static Result<ExecMemory> allocate(std::size_t size);
    /// Makes the mapping read+execute (and no longer writable). Call once, after filling it.
    Result<void> seal();

    [[nodiscard]] std::uint8_t* data() const { return base_; }
    [[nodiscard]] std::size_t size() const { return size_; }

  private:
    std::uint8_t* base_ = nullptr;
    std::size_t size_ = 0;    // bytes of code
    std::size_t mapped_ = 0;  // bytes mapped (whole pages)
    bool sealed_ = false;     // read+execute (made read-write again before the pool takes it)
};

}  // namespace xbpf::jit
