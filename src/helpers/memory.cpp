// Safe reads of process memory for the probe helpers, the printf helpers' string arguments and stack walks.
//
// The own process is read with process_vm_readv(getpid()), which reports an unmapped or unreadable page as a short
// transfer instead of a fault. Partial transfers happen at iovec granularity, so the request is split at page
// boundaries: the count returned is then exactly the readable prefix. Where process_vm_readv is not allowed
// (seccomp, old kernels) a pipe is used instead: write(2) from an unreadable address fails with EFAULT.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "helpers/internal.hpp"

namespace xbpf::helpers {
namespace {

std::size_t page_size() {
    static const std::size_t size = [] {
        const long p = sysconf(_SC_PAGESIZE);
        return p > 0 ? static_cast<std::size_t>(p) : std::size_t{4096};
    }();
    return size;
}

std::atomic<bool> g_vm_readv_works{true};

// One page-bounded piece at a time through a pipe: slower, but needs no permission.
long read_via_pipe(void* dst, std::uint64_t src, std::size_t n) {
    struct Pipe {
        int fd[2] = {-1, -1};
        Pipe() {
            if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0) fd[0] = fd[1] = -1;
        }
        ~Pipe() {
            if (fd[0] >= 0) close(fd[0]);
            if (fd[1] >= 0) close(fd[1]);
        }
    };
    thread_local Pipe p;
    if (p.fd[0] < 0) return -EFAULT;
    std::size_t done = 0;
    while (done < n) {
        const std::uint64_t addr = src + done;
        const std::size_t chunk = std::min(page_size() - addr % page_size(), n - done);
        const ssize_t w = write(p.fd[1], reinterpret_cast<const void*>(addr), chunk);
        if (w <= 0) break;
        const ssize_t r = read(p.fd[0], static_cast<char*>(dst) + done, static_cast<std::size_t>(w));
        if (r != w) break;
        done += static_cast<std::size_t>(w);
        if (static_cast<std::size_t>(w) < chunk) break;
    }
    return done ? static_cast<long>(done) : -EFAULT;
}

}  // namespace

long read_own_memory(void* dst, std::uint64_t src, std::size_t n) {
    if (n == 0) return 0;
    if (src + n < src) n = static_cast<std::size_t>(0 - src);  // never wrap around the address space
    // Overlapping source and destination (a program copying its own memory onto itself): read everything first, as
    // memmove would. process_vm_readv copies page by page, so a direct overlapping read gives a result that depends
    // on where the buffers lie (found by fuzz_jit: the interpreter's and the JIT's runs disagreed).
    if (const auto d = reinterpret_cast<std::uint64_t>(dst); d < src + n && src < d + n) {
        std::vector<std::uint8_t> bounce(n);
        const long got = read_own_memory(bounce.data(), src, n);
        if (got > 0) std::memcpy(dst, bounce.data(), static_cast<std::size_t>(got));
        return got;
    }
    if (!g_vm_readv_works.load(std::memory_order_relaxed)) return read_via_pipe(dst, src, n);
    static const pid_t self = getpid();
    const pid_t pid = getpid() == self ? self : getpid();  // after fork, the child reads itself
    constexpr int kBatch = 64;
    std::size_t done = 0;
    while (done < n) {
        iovec local[kBatch];
        iovec remote[kBatch];
        int count = 0;
        std::size_t batch = 0;
        while (count < kBatch && done + batch < n) {
            const std::uint64_t addr = src + done + batch;
            const std::size_t chunk = std::min(page_size() - addr % page_size(), n - done - batch);
            remote[count] = iovec{reinterpret_cast<void*>(addr), chunk};
            local[count] = iovec{static_cast<char*>(dst) + done + batch, chunk};
            ++count;
            batch += chunk;
        }
        const ssize_t r = process_vm_readv(pid, local, static_cast<unsigned long>(count), remote,
                                           static_cast<unsigned long>(count), 0);
        if (r < 0) {
            if (errno == ENOSYS || errno == EPERM) {
                g_vm_readv_works.store(false, std::memory_order_relaxed);
                const long rest = read_via_pipe(static_cast<char*>(dst) + done, src + done, n - done);
                return rest > 0 ? static_cast<long>(done) + rest : (done ? static_cast<long>(done) : rest);
            }
            return done ? static_cast<long>(done) : -EFAULT;
        }
        done += static_cast<std::size_t>(r);
        if (static_cast<std::size_t>(r) < batch) break;
    }
    return done ? static_cast<long>(done) : -EFAULT;
}

namespace detail {

long read_user(const Context* ctx, void* dst, u64 src, std::size_t n) {
    const Environment& env = env_of(ctx);
    if (env.read_user) return env.read_user(dst, src, n);
    return read_own_memory(dst, src, n);
}

long read_host(const Context* ctx, void* dst, u64 src, std::size_t n) {
    if (!ctx || !ctx->owns) return -EFAULT;  // no engine: the run owns nothing
    if (!ctx->owns(ctx, src, n)) {
        // Only the leading bytes the run owns (a string may end just before the end of its region).
        std::size_t owned = 0;
        while (owned < n && ctx->owns(ctx, src, owned + 1)) ++owned;
        if (owned == 0) return -EFAULT;
        n = owned;
    }
    return read_own_memory(dst, src, n);
}

long copy_string(const Context* ctx, char* dst, u64 src, std::size_t size, bool user) {
    if (size == 0) return 0;
    constexpr std::size_t kChunk = 256;
    char buf[kChunk];
    std::size_t done = 0;
    while (done < size) {
        const u64 addr = src + done;
        if (addr < src) return -EFAULT;  // wrapped
        std::size_t want = std::min({kChunk, size - done, page_size() - addr % page_size()});
        const long got = user ? read_user(ctx, buf, addr, want) : read_host(ctx, buf, addr, want);
        if (got <= 0) return -EFAULT;
        const auto n = static_cast<std::size_t>(got);
        if (const void* nul = std::memchr(buf, 0, n)) {
            const std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nul) - buf);
            std::memcpy(dst + done, buf, len + 1);
            return static_cast<long>(done + len + 1);
        }
        std::memcpy(dst + done, buf, n);
        done += n;
        if (n < want) return -EFAULT;  // unreadable before the NUL
    }
    dst[size - 1] = '\0';  // truncated: the kernel terminates within size
    return static_cast<long>(size);
}

}  // namespace detail
}  // namespace xbpf::helpers
