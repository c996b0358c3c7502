#include "jit/exec_memory.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U  // Linux 6.3 (include/uapi/linux/memfd.h): executable memfd, says so to vm.memfd_noexec
#endif

namespace xbpf::jit {

namespace detail {

/// One memfd of ExecMemory::kArenaBytes mapped read+execute. Invariant: every unit whose bit is clear holds int3,
/// and so does every byte of a used slot past the code written into it.
struct Arena {
    static constexpr std::size_t kUnits = ExecMemory::kArenaBytes / ExecMemory::kUnit;

    int fd = -1;
    std::uint8_t* base = nullptr;
    std::array<std::uint64_t, kUnits / 64> used{};  // bit u: unit u belongs to a slot
    std::size_t used_units = 0;
    std::size_t hint = 0;  // no clear bit below it
    // False in a child of fork() for arenas its parent made: nothing writes into them any more. Written only by the
    // atfork child handler (while the child is single-threaded).
    std::atomic<bool> owned{true};

    /// The first unit in [u, limit) whose bit is `value`, or `limit`.
    [[nodiscard]] std::size_t next(std::size_t u, bool value, std::size_t limit = kUnits) const {
        while (u < limit) {
            const std::uint64_t w = (value ? used[u / 64] : ~used[u / 64]) >> (u % 64);
            if (w != 0) return std::min(limit, u + static_cast<std::size_t>(std::countr_zero(w)));
            u = (u / 64 + 1) * 64;
        }
        return limit;
    }

    /// First fit: the lowest run of `n` clear units, or kUnits. Looks at no more than `n` units past each free one
    /// (a mostly empty arena is not scanned to its end).
    [[nodiscard]] std::size_t find(std::size_t n) const {
        for (std::size_t u = next(hint, false); u + n <= kUnits; u = next(u, false)) {
            const std::size_t end = next(u, true, u + n);
            if (end == u + n) return u;
            u = end;
        }
        return kUnits;
    }

    void mark(std::size_t u, std::size_t n, bool value) {
        for (std::size_t i = u; i < u + n; ++i) {
            if (value)
                used[i / 64] |= std::uint64_t{1} << (i % 64);
            else
                used[i / 64] &= ~(std::uint64_t{1} << (i % 64));
        }
        if (value) {
            used_units += n;
            if (u == hint) hint = next(u + n, false);
        } else {
            used_units -= n;
            hint = std::min(hint, u);
        }
    }
};

}  // namespace detail

namespace {

using detail::Arena;

// Fallback mappings of freed code, kept read-write (never executable while here) for the next fallback allocations:
// mmap, the first touch of each page and munmap (with its TLB shootdown) cost more than compiling a small program.
constexpr std::size_t kPoolMaxMappings = 32;
constexpr std::size_t kPoolMaxBytes = std::size_t{8} << 20;

/// Process-wide state: the arenas this process may write into and the fallback pool, under one mutex (the atfork
/// prepare handler holds it across fork(), so a child never inherits it locked by a vanished thread).
struct State {
    std::mutex mu;
    std::vector<Arena*> arenas;     // owned by this process
    std::vector<Arena*> abandoned;  // inherited from the parent (kept alive: the child's ExecMemory copies point here)
    std::vector<std::pair<std::uint8_t*, std::size_t>> pool;  // fallback: base, bytes mapped
    std::size_t pool_bytes = 0;
    bool memfd_works = true;  // cleared for good when memfd_create/mmap fail other than for a shortage
    std::atomic<bool> packing_enabled{true};
    /// Freed slots whose code is not yet overwritten with int3: not reusable until it is (flush_freed).
    struct Freed {
        Arena* arena;
        std::size_t unit;
        std::size_t units;
    };
    std::vector<Freed> quarantine;
    std::size_t quarantine_units = 0;
};

/// Freed code waits for invalidation in batches (one pwrite per run of adjacent slots instead of one per program):
/// at most this many slots or units. Like the kernel, which frees a JIT image only after an RCU grace period, a
/// freed program's code stays mapped (and unreachable: its JitCode is gone) for a while; it is never reused first.
constexpr std::size_t kQuarantineSlots = 16;
constexpr std::size_t kQuarantineUnits = 1024;  // 64 KiB

State& state();

void atfork_prepare() { state().mu.lock(); }
void atfork_parent() { state().mu.unlock(); }
void atfork_child() {
    State& s = state();
    s.quarantine.clear();  // slots of the parent's arenas: the child writes none of them
    s.quarantine_units = 0;
    for (Arena* a : s.arenas) {
        a->owned.store(false, std::memory_order_relaxed);
        close(a->fd);  // the mapping keeps the file; the parent's descriptor is its own
        a->fd = -1;
        s.abandoned.push_back(a);
    }
    s.arenas.clear();
    s.mu.unlock();
}

State& state() {
    static State* s = [] {
        auto* st = new State;  // never destroyed: ExecMemory objects with static lifetime release into it at exit
        const char* env = std::getenv("XBPF_JIT_NO_PACK");
        if (env && *env && std::strcmp(env, "0") != 0) st->packing_enabled = false;
        pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
        return st;
    }();
    return *s;
}

std::size_t page_size() {
    static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

std::unexpected<Error> sys_error(const std::string& what) {
    return make_error(ErrorCode::kRuntime, fmt::format("jit: {} failed: {}", what, strerror(errno)));
}

/// Writes `n` int3 bytes at `offset` of `fd`.
bool fill_int3(int fd, std::size_t n, off_t offset) {
    static const auto kInt3 = [] {
        std::array<std::uint8_t, 16384> a{};
        a.fill(0xcc);
        return a;
    }();
    while (n > 0) {
        const std::size_t chunk = std::min(n, kInt3.size());
        const ssize_t w = pwrite(fd, kInt3.data(), chunk, offset);
        if (w < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        n -= static_cast<std::size_t>(w);
        offset += w;
    }
    return true;
}

/// A new arena, filled with int3 and mapped read+execute, or
/// nullptr (errno set) when memfd_create, ftruncate, pwrite or mmap fail.
Arena* make_arena() {
    int fd = memfd_create("xbpf-jit", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL) fd = memfd_create("xbpf-jit", MFD_CLOEXEC | MFD_ALLOW_SEALING);  // before 6.3
    if (fd < 0) return nullptr;
    void* p = MAP_FAILED;
    if (ftruncate(fd, static_cast<off_t>(ExecMemory::kArenaBytes)) == 0 && fill_int3(fd, ExecMemory::kArenaBytes, 0)) {
        // The size can no longer change (a shrink would turn running code into SIGBUS).
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        // MAP_POPULATE: about 0.8 ms instead of 0.6 ms per arena, but running code never takes a page fault (touching
        // the 512 pages later costs about 135 us of faults, in the runs of the first programs).
        p = mmap(nullptr, ExecMemory::kArenaBytes, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_POPULATE, fd, 0);
    }
    if (p == MAP_FAILED) {
        const int err = errno;
        close(fd);
        errno = err;
        return nullptr;
    }
    auto* a = new Arena;
    a->fd = fd;
    a->base = static_cast<std::uint8_t*>(p);
    return a;
}

void destroy_arena(Arena* a) {
    munmap(a->base, ExecMemory::kArenaBytes);
    close(a->fd);
    delete a;
}

void flush_locked(State& s);

/// A packed slot of `units` units: {arena, first unit}, or {nullptr, 0} when no arena can be made.
std::pair<Arena*, std::size_t> take_slot(std::size_t units) {
    State& s = state();
    {
        std::lock_guard lock(s.mu);
        if (!s.memfd_works) return {nullptr, 0};
        for (int attempt = 0; attempt < 2; ++attempt) {
            for (Arena* a : s.arenas)
                if (const std::size_t u = a->find(units); u != Arena::kUnits) {
                    a->mark(u, units, true);
                    return {a, u};
                }
            if (s.quarantine.empty()) break;
            flush_locked(s);  // freed slots first, then a new arena
        }
    }
    // A new arena, made without the lock (it writes 2 MiB); another thread may be making one too, which is harmless.
    Arena* a = make_arena();
    const int err = errno;
    std::lock_guard lock(s.mu);
    if (!a) {
        // A shortage (memory, descriptors) falls back this once; anything else (ENOSYS, EPERM from seccomp, EACCES
        // from a noexec policy, ...) for good.
        if (err != ENOMEM && err != EMFILE && err != ENFILE && err != ENOSPC && err != EAGAIN) s.memfd_works = false;
        return {nullptr, 0};
    }
    s.arenas.push_back(a);
    a->mark(0, units, true);
    return {a, 0};
}

/// Returns a slot whose code bytes are already int3 again; unmaps its arena if it is empty and another empty one is
/// kept. Called with s.mu held.
void put_slot_locked(State& s, Arena* a, std::size_t unit, std::size_t units) {
    a->mark(unit, units, false);
    if (a->used_units != 0) return;
    const auto empty = std::count_if(s.arenas.begin(), s.arenas.end(), [](Arena* x) { return x->used_units == 0; });
    if (empty <= 1) return;
    std::erase(s.arenas, a);
    destroy_arena(a);
}

/// Overwrites the quarantined slots with int3, one pwrite per run of adjacent slots, and returns them. A slot whose
/// invalidation fails is never reused. Called with s.mu held.
void flush_locked(State& s) {
    if (s.quarantine.empty()) return;
    std::sort(s.quarantine.begin(), s.quarantine.end(), [](const State::Freed& x, const State::Freed& y) {
        return x.arena != y.arena ? std::less<Arena*>()(x.arena, y.arena) : x.unit < y.unit;
    });
    for (std::size_t i = 0; i < s.quarantine.size();) {
        std::size_t j = i + 1;
        std::size_t end = s.quarantine[i].unit + s.quarantine[i].units;
        while (j < s.quarantine.size() && s.quarantine[j].arena == s.quarantine[i].arena &&
               s.quarantine[j].unit == end) {
            end += s.quarantine[j].units;
            ++j;
        }
        Arena* a = s.quarantine[i].arena;
        const std::size_t first = s.quarantine[i].unit;
        if (fill_int3(a->fd, (end - first) * ExecMemory::kUnit, static_cast<off_t>(first * ExecMemory::kUnit)))
            for (std::size_t k = i; k < j; ++k) put_slot_locked(s, a, s.quarantine[k].unit, s.quarantine[k].units);
        i = j;
    }
    s.quarantine.clear();
    s.quarantine_units = 0;
}

/// A pooled fallback mapping of at least `need` bytes and at most twice that, or {nullptr, 0}.
std::pair<std::uint8_t*, std::size_t> take_from_pool(std::size_t need) {
    State& s = state();
    std::lock_guard lock(s.mu);
    std::size_t best = s.pool.size();
    for (std::size_t i = 0; i < s.pool.size(); ++i)
        if (s.pool[i].second >= need && s.pool[i].second / 2 <= need &&
            (best == s.pool.size() || s.pool[i].second < s.pool[best].second))
            best = i;
    if (best == s.pool.size()) return {nullptr, 0};
    const auto m = s.pool[best];
    s.pool[best] = s.pool.back();
    s.pool.pop_back();
    s.pool_bytes -= m.second;
    return m;
}

void release_mapping(std::uint8_t* base, std::size_t mapped, bool executable) {
    if (!executable || mprotect(base, mapped, PROT_READ | PROT_WRITE) == 0) {
        State& s = state();
        std::lock_guard lock(s.mu);
        if (s.pool.size() < kPoolMaxMappings && s.pool_bytes + mapped <= kPoolMaxBytes) {
            s.pool.emplace_back(base, mapped);
            s.pool_bytes += mapped;
            return;
        }
    }
    munmap(base, mapped);
}

}  // namespace

ExecMemory::ExecMemory(ExecMemory&& o) noexcept
    : base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      reserved_(std::exchange(o.reserved_, 0)),
      arena_(std::exchange(o.arena_, nullptr)),
      written_(std::exchange(o.written_, false)) {}

ExecMemory& ExecMemory::operator=(ExecMemory&& o) noexcept {
    if (this != &o) {
        release();
        base_ = std::exchange(o.base_, nullptr);
        size_ = std::exchange(o.size_, 0);
        reserved_ = std::exchange(o.reserved_, 0);
        arena_ = std::exchange(o.arena_, nullptr);
        written_ = std::exchange(o.written_, false);
    }
    return *this;
}

ExecMemory::~ExecMemory() { release(); }

void ExecMemory::release() noexcept {
    if (!base_) return;
    if (arena_) {
        // A slot of an arena inherited across fork() belongs to the parent: leave its bytes alone.
        if (arena_->owned.load(std::memory_order_relaxed)) {
            const std::size_t unit = static_cast<std::size_t>(base_ - arena_->base) / kUnit;
            State& s = state();
            std::lock_guard lock(s.mu);
            if (!written_) {
                put_slot_locked(s, arena_, unit, reserved_ / kUnit);  // never held code: int3 already
            } else {
                // Invalidated with int3 in a batch (flush_locked); not reusable before.
                s.quarantine.push_back({arena_, unit, reserved_ / kUnit});
                s.quarantine_units += reserved_ / kUnit;
                if (s.quarantine.size() >= kQuarantineSlots || s.quarantine_units >= kQuarantineUnits) flush_locked(s);
            }
        }
    } else {
        release_mapping(base_, reserved_, written_);
    }
    base_ = nullptr;
    arena_ = nullptr;
}

bool ExecMemory::set_packing(bool enabled) { return state().packing_enabled.exchange(enabled); }

void ExecMemory::invalidate_freed() {
    State& s = state();
    std::lock_guard lock(s.mu);
    flush_locked(s);
}

Result<ExecMemory> ExecMemory::allocate(std::size_t size) {
    ExecMemory m;
    m.size_ = size;
    if (size <= kMaxPacked && state().packing_enabled.load(std::memory_order_relaxed)) {
        const std::size_t units = std::max<std::size_t>(1, (size + kUnit - 1) / kUnit);
        if (auto [arena, unit] = take_slot(units); arena) {
            m.arena_ = arena;
            m.base_ = arena->base + unit * kUnit;
            m.reserved_ = units * kUnit;
            return m;
        }
    }
    const std::size_t page = page_size();
    const std::size_t mapped = size == 0 ? page : (size + page - 1) / page * page;
    if (auto [base, bytes] = take_from_pool(mapped); base) {
        m.base_ = base;
        m.reserved_ = bytes;
        return m;
    }
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return sys_error(fmt::format("mmap of {} bytes", size));
    m.base_ = static_cast<std::uint8_t*>(p);
    m.reserved_ = mapped;
    return m;
}

Result<void> ExecMemory::write(std::span<const std::uint8_t> bytes) {
    if (!base_ || written_) return make_error(ErrorCode::kRuntime, "jit: code memory written twice (or not allocated)");
    if (bytes.size() != size_)
        return make_error(ErrorCode::kRuntime,
                          fmt::format("jit: {} bytes of code for a reservation of {}", bytes.size(), size_));
    if (arena_) {
        if (!arena_->owned.load(std::memory_order_relaxed))
            return make_error(ErrorCode::kRuntime, "jit: code memory reserved before fork() cannot be written");
        written_ = true;  // from here on, release() invalidates the slot
        auto offset = static_cast<off_t>(base_ - arena_->base);
        std::size_t done = 0;
        while (done < bytes.size()) {
            const ssize_t n = pwrite(arena_->fd, bytes.data() + done, bytes.size() - done, offset);
            if (n < 0) {
                if (errno == EINTR) continue;
                return sys_error("pwrite of code");
            }
            done += static_cast<std::size_t>(n);
            offset += n;
        }
        return {};
    }
    // Fallback: the mapping is read-write until the mprotect. Old bytes past the code (a pooled mapping) become int3.
    std::memcpy(base_, bytes.data(), bytes.size());
    std::memset(base_ + size_, 0xcc, reserved_ - size_);
    if (mprotect(base_, reserved_, PROT_READ | PROT_EXEC) != 0) return sys_error("mprotect(PROT_READ|PROT_EXEC)");
    written_ = true;
    return {};
}

}  // namespace xbpf::jit
