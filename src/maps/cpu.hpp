// Per-CPU identity for per-CPU maps and helpers (bpf_get_smp_processor_id shares it).
//
// xbpf programs run on host threads, not CPUs, so the "current CPU" is a thread-local number that whoever runs a
// program sets for the run (CpuScope). Outside a CpuScope it is 0. It is always < num_possible_cpus(), so per-CPU
// slots are in range. Two threads that claim the same CPU share that CPU's per-CPU slots: still memory-safe (the
// slots are ordinary map memory), only their contents race, as values do for a non-per-CPU map.
#pragma once

#include <cstdint>

#include "maps/rcu.hpp"

namespace xbpf::maps {

/// Number of possible CPUs: /sys/devices/system/cpu/possible ("0-3", "0,2-5"), or
/// std::thread::hardware_concurrency() when that cannot be read; at least 1, fixed for the process.
std::uint32_t num_possible_cpus();

namespace detail {
inline thread_local std::uint32_t tls_current_cpu = 0;
}  // namespace detail

/// The CPU the calling thread runs programs as (see CpuScope); 0 outside any scope.
inline std::uint32_t current_cpu() { return detail::tls_current_cpu; }

/// Runs the enclosed code "on" a CPU: sets current_cpu() (taken modulo num_possible_cpus()) and holds an RCU
/// read-side section (maps/rcu.hpp), as the kernel runs programs with preemption and RCU held. Nestable; the
/// previous CPU is restored on exit. The VM holds one around each program run.
class CpuScope {
  public:
    explicit CpuScope(std::uint32_t cpu);
    ~CpuScope();
    CpuScope(const CpuScope&) = delete;
    CpuScope& operator=(const CpuScope&) = delete;

  private:
    std::uint32_t saved_;
    RcuReadLock rcu_;
};

}  // namespace xbpf::maps
