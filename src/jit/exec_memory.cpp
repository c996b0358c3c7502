#include "jit/exec_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace xbpf::jit {

namespace {

// Mappings of freed code, kept read-write (never executable while here) for the next allocations: mmap, the first
// touch of each page and munmap (with its TLB shootdown) cost more than compiling a small program. A mapping
// enters only after its owner (the JitCode, whose code nobody runs any more) made it read-write again.
constexpr std::size_t kPoolMaxMappings = 32;
constexpr std::size_t kPoolMaxBytes = std::size_t{8} << 20;

struct Pool {
    std::mutex mu;
    std::vector<std::pair<std::uint8_t*, std::size_t>> free;  // base, bytes mapped
    std::size_t bytes = 0;
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: JitCode objects with static lifetime release into it at exit
    return *p;
}

std::size_t page_size() {
    static const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return page;
}

/// A pooled mapping of at least `need` bytes and at most twice that, or {nullptr, 0}.
std::pair<std::uint8_t*, std::size_t> take_from_pool(std::size_t need) {
    Pool& p = pool();
    std::lock_guard lock(p.mu);
    std::size_t best = p.free.size();
    for (std::size_t i = 0; i < p.free.size(); ++i)
        if (p.free[i].second >= need && p.free[i].second / 2 <= need &&
            (best == p.free.size() || p.free[i].second < p.free[best].second))
            best = i;
    if (best == p.free.size()) return {nullptr, 0};
    const auto m = p.free[best];
    p.free[best] = p.free.back();
    p.free.pop_back();
    p.bytes -= m.second;
    return m;
}

void release(std::uint8_t* base, std::size_t mapped, bool executable) {
    if (!base) return;
    if (!executable || mprotect(base, mapped, PROT_READ | PROT_WRITE) == 0) {
        Pool& p = pool();
        std::lock_guard lock(p.mu);
        if (p.free.size() < kPoolMaxMappings && p.bytes + mapped <= kPoolMaxBytes) {
            p.free.emplace_back(base, mapped);
            p.bytes += mapped;
            return;
        }
    }
    munmap(base, mapped);
}

}  // namespace

ExecMemory& ExecMemory::operator=(ExecMemory&& o) noexcept {
    if (this != &o) {
        release(base_, mapped_, sealed_);
        base_ = std::exchange(o.base_, nullptr);
        size_ = std::exchange(o.size_, 0);
        mapped_ = std::exchange(o.mapped_, 0);
        sealed_ = std::exchange(o.sealed_, false);
    }
    return *this;
}

ExecMemory::~ExecMemory() { release(base_, mapped_, sealed_); }

Result<ExecMemory> ExecMemory::allocate(std::size_t size) {
    const std::size_t page = page_size();
    const std::size_t mapped = size == 0 ? page : (size + page - 1) / page * page;
    ExecMemory m;
    m.size_ = size;
    m.mapped_ = mapped;
    if (auto [base, bytes] = take_from_pool(mapped); base) {
        // Old code bytes past the new code become int3 (they would be executable again after the seal).
        std::memset(base + size, 0xcc, bytes - size);
        m.base_ = base;
        m.mapped_ = bytes;
        return m;
    }
    void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return make_error(ErrorCode::kRuntime, fmt::format("jit: mmap of {} bytes failed: {}", size, strerror(errno)));
    m.base_ = static_cast<std::uint8_t*>(p);
    return m;
}

Result<void> ExecMemory::seal() {
    if (mprotect(base_, mapped_, PROT_READ | PROT_EXEC) != 0)
        return make_error(ErrorCode::kRuntime,
                          fmt::format("jit: mprotect(PROT_READ|PROT_EXEC) failed: {}", strerror(errno)));
    sealed_ = true;
    return {};
}

}  // namespace xbpf::jit
