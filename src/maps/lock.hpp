// Locks for map internals and for bpf_spin_lock inside map values.
//
// FutexLock is a 4-byte mutex (Drepper, "Futexes Are Tricky", mutex #3): an uncontended lock/unlock is one atomic
// exchange each; a waiter spins briefly, then sleeps in futex(2), so a lock holder that the scheduler preempts
// (user-space threads can be, kernel spinlock holders cannot) does not make others burn their time slice. Four bytes
// keep a hash bucket (lock + chain head) at 8 bytes.
#pragma once

#include <atomic>
#include <cstdint>

namespace xbpf::maps {

/// A 4-byte futex-based mutex. Not recursive. Satisfies Lockable (usable with std::lock_guard).
class FutexLock {
  public:
    void lock() {
        std::uint32_t expected = 0;
        if (!word_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed))
            lock_slow(word_);
    }
    bool try_lock() {
        std::uint32_t expected = 0;
        return word_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
    }
    void unlock() {
        if (word_.exchange(0, std::memory_order_release) == 2) wake_one(word_);
    }

    /// The contended path, shared with the in-value spin lock (word states: 0 free, 1 held, 2 held + waiters).
    static void lock_slow(std::atomic<std::uint32_t>& word);
    /// Wakes one sleeper on `word`.
    static void wake_one(std::atomic<std::uint32_t>& word);

  private:
    std::atomic<std::uint32_t> word_{0};
};
static_assert(sizeof(FutexLock) == 4);

/// bpf_spin_lock on the 4-byte `struct bpf_spin_lock` at `lock` (inside a map value, 4-byte aligned; the verifier
/// guarantees alignment for programs, map code for itself). Same protocol as FutexLock.
void value_spin_lock(void* lock);
/// bpf_spin_unlock.
void value_spin_unlock(void* lock);

}  // namespace xbpf::maps
