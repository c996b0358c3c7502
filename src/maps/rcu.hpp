// Deferred release for objects programs may still be using: a small epoch-based RCU.
//
// The kernel frees an inner map removed from a map-in-map, or a program removed from a prog_array, only after an
// RCU grace period, because a program running on another CPU may still hold the pointer it looked up. xbpf does the
// same: program runs hold a read-side section (CpuScope takes one), and writers hand the last reference of what they
// unlinked to rcu_retire(), which drops it once every section that was open at retirement has closed.
//
// Contract: a reader may use a pointer it loaded inside a section until the section ends. Writers must unlink
// (make the object unreachable) before calling rcu_retire.
#pragma once

#include <cstdint>
#include <memory>

namespace xbpf::maps {

/// A read-side critical section (rcu_read_lock/rcu_read_unlock). Nestable, per thread; cheap (two stores and a
/// fence at the outermost level).
class RcuReadLock {
  public:
    RcuReadLock();
    ~RcuReadLock();
    RcuReadLock(const RcuReadLock&) = delete;
    RcuReadLock& operator=(const RcuReadLock&) = delete;
};

/// Drops `obj` (its last reference, typically) after every read-side section open now has ended. Never blocks.
void rcu_retire(std::shared_ptr<const void> obj);

/// Frees what can be freed now; returns how many retired objects are still waiting.
std::size_t rcu_reclaim();

/// Waits until every read-side section open at the call has ended, then reclaims (synchronize_rcu). Must not be
/// called inside a read-side section.
void rcu_synchronize();

}  // namespace xbpf::maps
