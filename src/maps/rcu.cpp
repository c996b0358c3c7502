#include "maps/rcu.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace xbpf::maps {
namespace {

// Each thread that ever entered a section has a record; `epoch` is 0 outside a section, else the global epoch
// the thread read when it entered (a lower bound of when it may have loaded pointers).
struct ThreadRecord {
    std::atomic<std::uint64_t> epoch{0};
};

struct Retired {
    std::shared_ptr<const void> obj;
    std::uint64_t epoch;  // global epoch at retirement
};

struct State {
    std::atomic<std::uint64_t> global_epoch{1};
    std::mutex mu;
    std::vector<ThreadRecord*> threads;  // guarded by mu
    std::vector<Retired> retired;        // guarded by mu
};

State& state() {
    static State* s = new State;  // leaked on purpose: thread records may outlive static destruction order
    return *s;
}

struct ThreadSlot {
    ThreadRecord record;
    unsigned depth = 0;
    bool registered = false;

    void ensure_registered() {
        if (registered) return;
        State& s = state();
        std::lock_guard lock(s.mu);
        s.threads.push_back(&record);
        registered = true;
    }
    ~ThreadSlot() {
        if (!registered) return;
        State& s = state();
        std::lock_guard lock(s.mu);
        std::erase(s.threads, &record);
    }
};

thread_local ThreadSlot tls_slot;

// Moves out every retired object whose retirement epoch is older than every open section. Caller holds s.mu.
std::vector<Retired> collect_freeable(State& s) {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // unlink stores before reading the records
    std::uint64_t min_active = std::numeric_limits<std::uint64_t>::max();
    for (const ThreadRecord* t : s.threads) {
        const std::uint64_t e = t->epoch.load(std::memory_order_seq_cst);
        if (e != 0) min_active = std::min(min_active, e);
    }
    std::vector<Retired> out;
    auto keep =
        std::partition(s.retired.begin(), s.retired.end(), [&](const Retired& r) { return r.epoch >= min_active; });
    std::move(keep, s.retired.end(), std::back_inserter(out));
    s.retired.erase(keep, s.retired.end());
    return out;
}

}  // namespace

RcuReadLock::RcuReadLock() {
    ThreadSlot& slot = tls_slot;
    if (slot.depth++ == 0) {
        slot.ensure_registered();
        slot.record.epoch.store(state().global_epoch.load(std::memory_order_seq_cst), std::memory_order_seq_cst);
        std::atomic_thread_fence(std::memory_order_seq_cst);  // publish before any pointer load in the section
    }
}

RcuReadLock::~RcuReadLock() {
    ThreadSlot& slot = tls_slot;
    if (--slot.depth == 0) slot.record.epoch.store(0, std::memory_order_release);
}

void rcu_retire(std::shared_ptr<const void> obj) {
    if (!obj) return;
    State& s = state();
    std::vector<Retired> freeable;
    {
        std::lock_guard lock(s.mu);
        // Readers that entered at an epoch <= this one may hold the object; later ones cannot reach it.
        const std::uint64_t e = s.global_epoch.fetch_add(1, std::memory_order_seq_cst);
        s.retired.push_back({std::move(obj), e});
        freeable = collect_freeable(s);
    }
    // Dropped outside the lock: a destructor may retire more objects.
}

std::size_t rcu_reclaim() {
    State& s = state();
    std::vector<Retired> freeable;
    std::size_t waiting = 0;
    {
        std::lock_guard lock(s.mu);
        freeable = collect_freeable(s);
        waiting = s.retired.size();
    }
    return waiting;
}

void rcu_synchronize() {
    State& s = state();
    std::uint64_t target = 0;
    {
        std::lock_guard lock(s.mu);
        target = s.global_epoch.fetch_add(1, std::memory_order_seq_cst) + 1;
    }
    // Wait until no section that entered before `target` is still open.
    for (;;) {
        bool waiting = false;
        {
            std::lock_guard lock(s.mu);
            for (const ThreadRecord* t : s.threads) {
                const std::uint64_t e = t->epoch.load(std::memory_order_seq_cst);
                if (e != 0 && e < target) waiting = true;
            }
        }
        if (!waiting) break;
        std::this_thread::yield();
    }
    rcu_reclaim();
}

}  // namespace xbpf::maps
