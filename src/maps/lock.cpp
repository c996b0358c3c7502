#include "maps/lock.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace xbpf::maps {
namespace {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
              std::atomic<std::uint32_t>::is_always_lock_free);

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
    // Spurious returns (EINTR, EAGAIN when the word changed) are fine: the caller re-checks.
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

std::atomic<std::uint32_t>& as_word(void* lock) {
    // The value's lock word is only ever accessed through this view (and copied around as bytes when unlocked).
    return *reinterpret_cast<std::atomic<std::uint32_t>*>(lock);
}

}  // namespace

void FutexLock::lock_slow(std::atomic<std::uint32_t>& word) {
    // Spin a little first: map critical sections are a few dozen instructions.
    for (int i = 0; i < 100; ++i) {
        cpu_relax();
        std::uint32_t expected = 0;
        if (word.load(std::memory_order_relaxed) == 0 &&
            word.compare_exchange_weak(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
            return;
    }
    // Mark contended and sleep until we take it in the contended state.
    std::uint32_t c = word.exchange(2, std::memory_order_acquire);
    while (c != 0) {
        futex_wait(word, 2);
        c = word.exchange(2, std::memory_order_acquire);
    }
}

void FutexLock::wake_one(std::atomic<std::uint32_t>& word) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

void value_spin_lock(void* lock) {
    std::atomic<std::uint32_t>& word = as_word(lock);
    std::uint32_t expected = 0;
    if (!word.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
        FutexLock::lock_slow(word);
}

void value_spin_unlock(void* lock) {
    std::atomic<std::uint32_t>& word = as_word(lock);
    if (word.exchange(0, std::memory_order_release) == 2) FutexLock::wake_one(word);
}

}  // namespace xbpf::maps
