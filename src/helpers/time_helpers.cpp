// Clock and CPU helpers (kernel/bpf/helpers.c): bpf_ktime_get_ns (CLOCK_MONOTONIC), _boot_ns (CLOCK_BOOTTIME),
// _coarse_ns (CLOCK_MONOTONIC_COARSE), _tai_ns (CLOCK_TAI), bpf_jiffies64, bpf_get_prandom_u32,
// bpf_get_smp_processor_id and bpf_get_numa_node_id.
//
// bpf_jiffies64 is derived from CLOCK_MONOTONIC: jiffies = INITIAL_JIFFIES + monotonic_ns * HZ / 1e9, where
// INITIAL_JIFFIES = (u32)(-300 * HZ) as in include/linux/jiffies.h (64-bit jiffies start 5 minutes before a
// 32-bit wrap). HZ is the running kernel's CONFIG_HZ: read from /boot/config-$(uname -r) when present, otherwise
// inferred from /proc/timer_list ("now at N nsecs" and "jiffies: J": the candidate of 100/250/300/1000 that
// best fits J), otherwise 250. Suspended time and NO_HZ drift make this an approximation of the kernel's value.
#include <sched.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <string>

#include "helpers/internal.hpp"
#include "maps/cpu.hpp"

namespace xbpf::helpers::detail {
namespace {

u64 clock_ns(const Context* ctx, clockid_t id) {
    const Environment& env = env_of(ctx);
    if (env.clock) return env.clock(id);
    timespec ts{};
    clock_gettime(id, &ts);
    return static_cast<u64>(ts.tv_sec) * 1'000'000'000ULL + static_cast<u64>(ts.tv_nsec);
}

u64 hz_from_boot_config() {
    utsname u{};
    if (uname(&u) != 0) return 0;
    std::ifstream in(std::string("/boot/config-") + u.release);
    std::string line;
    while (std::getline(in, line))
        if (line.starts_with("CONFIG_HZ=")) return std::stoull(line.substr(10));
    return 0;
}

u64 hz_from_timer_list() {
    std::ifstream in("/proc/timer_list");
    std::string line;
    long double now_ns = -1;
    long double jiffies = -1;
    while (std::getline(in, line) && (now_ns < 0 || jiffies < 0)) {
        if (line.starts_with("now at ")) now_ns = std::stold(line.substr(7));
        if (line.starts_with("jiffies: ")) jiffies = std::stold(line.substr(9));
    }
    if (now_ns <= 0 || jiffies < 0) return 0;
    u64 best = 0;
    long double best_err = 0;
    for (const u64 hz : {100, 250, 300, 1000}) {
        const long double initial = 4294967296.0L - 300.0L * static_cast<long double>(hz);
        const long double err = std::fabs(jiffies - initial - now_ns * static_cast<long double>(hz) / 1e9L);
        if (best == 0 || err < best_err) {
            best = hz;
            best_err = err;
        }
    }
    return best;
}

u64 kernel_hz() {
    static const u64 hz = [] {
        try {
            if (const u64 h = hz_from_boot_config()) return h;
            if (const u64 h = hz_from_timer_list()) return h;
        } catch (...) {  // a malformed file: fall back
        }
        return u64{250};
    }();
    return hz;
}

u64 ktime_get_ns(u64, u64, u64, u64, u64, Context* ctx) { return clock_ns(ctx, CLOCK_MONOTONIC); }
u64 ktime_get_boot_ns(u64, u64, u64, u64, u64, Context* ctx) { return clock_ns(ctx, CLOCK_BOOTTIME); }
u64 ktime_get_coarse_ns(u64, u64, u64, u64, u64, Context* ctx) { return clock_ns(ctx, CLOCK_MONOTONIC_COARSE); }
u64 ktime_get_tai_ns(u64, u64, u64, u64, u64, Context* ctx) { return clock_ns(ctx, CLOCK_TAI); }

u64 jiffies64(u64, u64, u64, u64, u64, Context* ctx) {
    const u64 hz = kernel_hz();
    const u64 initial = static_cast<u64>(static_cast<u32>(-300 * static_cast<std::int64_t>(hz)));
    const u64 ns = clock_ns(ctx, CLOCK_MONOTONIC);
    // ns * hz overflows after ~2 years at HZ=1000: split the division.
    const u64 per_tick = 1'000'000'000ULL / hz;
    return initial + ns / per_tick;
}

// xoshiro128** (Blackman & Vigna, 2018), one state per thread, seeded from std::random_device.
struct Prng {
    u32 s[4];
    Prng() {
        std::random_device rd;
        for (u32& w : s) w = rd();
        if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
    }
    static u32 rotl(u32 x, int k) { return (x << k) | (x >> (32 - k)); }
    u32 next() {
        const u32 result = rotl(s[1] * 5, 7) * 9;
        const u32 t = s[1] << 9;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 11);
        return result;
    }
};

u64 get_prandom_u32(u64, u64, u64, u64, u64, Context*) {
    thread_local Prng prng;
    return prng.next();
}

u64 get_smp_processor_id(u64, u64, u64, u64, u64, Context*) { return maps::current_cpu(); }

// The NUMA node of the host CPU the thread runs on (programs' CPU numbers are virtual; see maps/cpu.hpp).
u64 get_numa_node_id(u64, u64, u64, u64, u64, Context*) {
    unsigned cpu = 0;
    unsigned node = 0;
    if (syscall(SYS_getcpu, &cpu, &node, nullptr) != 0) return 0;
    return node;
}

}  // namespace

void register_time_helpers(HelperTable& t) {
    t.add({5, "bpf_ktime_get_ns", ktime_get_ns});
    t.add({7, "bpf_get_prandom_u32", get_prandom_u32});
    t.add({8, "bpf_get_smp_processor_id", get_smp_processor_id});
    t.add({42, "bpf_get_numa_node_id", get_numa_node_id});
    t.add({118, "bpf_jiffies64", jiffies64});
    t.add({125, "bpf_ktime_get_boot_ns", ktime_get_boot_ns});
    t.add({160, "bpf_ktime_get_coarse_ns", ktime_get_coarse_ns});
    t.add({208, "bpf_ktime_get_tai_ns", ktime_get_tai_ns});
}

/// For tests: the HZ bpf_jiffies64 assumes.
u64 jiffies_hz() { return kernel_hz(); }

}  // namespace xbpf::helpers::detail
