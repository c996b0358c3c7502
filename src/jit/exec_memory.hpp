// Executable memory for generated code, under W^X: no mapping of code is ever writable and executable at once.
//
// Packed (the default), after the kernel's bpf_prog_pack (kernel/bpf/core.c): many programs share arenas of 2 MiB.
// An arena is a memfd mapped once, read+execute and MAP_SHARED; it is never mapped writable. Code is written with
// pwrite() at the slot's file offset (the page cache is what the read+execute mapping shows), as the kernel writes
// packs through text_poke_copy; slots are 64-byte units taken first-fit from a bitmap. Unused bytes of an arena are
// int3 (0xcc): a fresh arena is filled with them, a freed slot's code is overwritten with them before the slot is
// reused (the kernel's bpf_arch_text_invalidate), so the bytes past a program's end are int3 as well. Freed slots
// are invalidated in batches (up to 16 slots or 64 KiB, one pwrite per run of adjacent slots; earlier when an
// allocation needs the space, or by invalidate_freed()): as the kernel frees a JIT image only after an RCU grace
// period, freed code stays mapped, unreachable, for a while, and is never reused before it is int3. One empty arena
// is kept; further empty ones are unmapped.
//
// Fallback (requests above a quarter of an arena, or no memfd: seccomp, old kernels, or forced by
// set_packing(false) or XBPF_JIT_NO_PACK=1 in the environment): a private anonymous mapping, read-write while
// reserved, made read+execute by write(); freed mappings are made read-write again and pooled for later fallback
// allocations.
//
// fork(): a child shares the parent's memfds. It never writes into arenas it inherited (a pthread_atfork child
// handler abandons them: their mappings stay, so inherited code still runs, but the child neither allocates in them
// nor invalidates its copies of the parent's slots); it packs its own code into new arenas.
//
// Instruction-cache coherence: x86 keeps instruction fetch coherent with stores to the same physical memory,
// whatever the virtual mapping (Intel SDM vol. 3, 11.6 "Self-modifying code"); a slot being written runs nowhere
// (it was free), and a thread running new code receives its address through a synchronising hand-off.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.hpp"

namespace xbpf::jit {

namespace detail {
struct Arena;
}

/// Room for the generated code of one program. Move-only; freed on destruction (its code must no longer run).
class ExecMemory {
  public:
    ExecMemory() = default;
    ExecMemory(ExecMemory&& o) noexcept;
    ExecMemory& operator=(ExecMemory&& o) noexcept;
    ExecMemory(const ExecMemory&) = delete;
    ExecMemory& operator=(const ExecMemory&) = delete;
    ~ExecMemory();

    /// Reserves `size` bytes of code. data() is already the final (read+execute) address, so code can be relocated
    /// to it before write().
    static Result<ExecMemory> allocate(std::size_t size);
    /// Stores the code: once, with bytes.size() == size(). Afterwards data() holds these bytes and is executable.
    /// Fails (and nothing runs) for a second call, a wrong size, a slot reserved by a parent before fork(), or a
    /// failed pwrite/mprotect.
    Result<void> write(std::span<const std::uint8_t> bytes);

    /// The run-time address of the code (never writable through this address).
    [[nodiscard]] std::uint8_t* data() const { return base_; }
    /// Bytes of code.
    [[nodiscard]] std::size_t size() const { return size_; }
    /// Bytes reserved: a whole number of 64-byte units (packed) or of pages (fallback); past size() they hold int3
    /// once written.
    [[nodiscard]] std::size_t reserved() const { return reserved_; }
    /// Whether the code lives in a shared arena (false: its own mapping, the fallback).
    [[nodiscard]] bool packed() const { return arena_ != nullptr; }

    /// Test and operations hook: false makes later allocations use the fallback (as if memfd_create failed);
    /// returns the previous setting. The initial setting is false when XBPF_JIT_NO_PACK is set to a non-empty value
    /// other than "0".
    static bool set_packing(bool enabled);
    /// Overwrites every freed, not yet invalidated packed slot with int3 now (freed code is otherwise invalidated
    /// in batches of up to 16 slots, before any reuse).
    static void invalidate_freed();

    /// Bytes of one arena, and the largest request packed into arenas.
    static constexpr std::size_t kArenaBytes = std::size_t{2} << 20;
    static constexpr std::size_t kMaxPacked = kArenaBytes / 4;
    /// Allocation unit inside an arena.
    static constexpr std::size_t kUnit = 64;

  private:
    void release() noexcept;

    std::uint8_t* base_ = nullptr;
    std::size_t size_ = 0;            // bytes of code
    std::size_t reserved_ = 0;        // slot bytes (packed) or mapped bytes (fallback)
    detail::Arena* arena_ = nullptr;  // the arena of a packed slot; nullptr for the fallback
    bool written_ = false;            // write() was called (its bytes may be in the slot)
};

}  // namespace xbpf::jit
