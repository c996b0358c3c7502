// perf_event_array (kernel/bpf/arraymap.c + kernel/trace/bpf_trace.c bpf_perf_event_output): an array of
// max_entries slots, each empty or holding a record buffer bound to one CPU (in the kernel: a perf event fd of
// type PERF_COUNT_SW_BPF_OUTPUT, opened by the consumer, typically one per CPU at index = CPU, as libbpf's
// perf_buffer__new does). xbpf has no perf events: the host opens buffers with open_buffer()/open_all() instead
// of storing fds, and reads them back with consume()/poll().
//
// bpf_perf_event_output(flags, data): the slot is flags & BPF_F_INDEX_MASK, or the current CPU for
// BPF_F_CURRENT_CPU; errors are the kernel's: -E2BIG (index >= max_entries), -ENOENT (no buffer), -EOPNOTSUPP (the
// buffer belongs to another CPU), -ENOSPC (full: the record is lost and counted). Records use perf's framing: a
// PERF_RECORD_SAMPLE with PERF_SAMPLE_RAW ({ u32 size; u8 data[size]; } with size padded so the record is a
// multiple of 8 bytes, so consumers see the padded size, as with the kernel), and PERF_RECORD_LOST { u64 id;
// u64 lost; } written before the next sample once there is room. Every sample signals the consumer (libbpf sets
// wakeup_events = 1): an eventfd (notify_fd()) plus an optional callback.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "maps/lock.hpp"
#include "maps/map.hpp"
#include "maps/memory.hpp"
#include "maps/notifier.hpp"

namespace xbpf::maps {

/// BPF_F_INDEX_MASK, BPF_F_CURRENT_CPU and BPF_F_CTXLEN_MASK.
inline constexpr std::uint64_t kFIndexMask = 0xffffffffULL;
inline constexpr std::uint64_t kFCurrentCpu = kFIndexMask;
inline constexpr std::uint64_t kFCtxLenMask = 0xfffffULL << 32;
/// perf_event_header.type values used here.
inline constexpr std::uint32_t kPerfRecordLost = 2;
inline constexpr std::uint32_t kPerfRecordSample = 9;

/// BPF_MAP_TYPE_PERF_EVENT_ARRAY.
class PerfEventArrayMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared.
    PerfEventArrayMap(const MapSpec& spec, MapMemory slots);
    ~PerfEventArrayMap() override;
    int init();  // the eventfd

    /// Installs a buffer of `pages` pages (a power of two) bound to `cpu` in slot `index` (replacing one):
    /// 0, -E2BIG (index), -EINVAL (pages, cpu) or -ENOMEM.
    int open_buffer(std::uint32_t index, std::uint32_t cpu, std::size_t pages = 8);
    /// A buffer for every possible CPU c at index c (the slots that exist); 0 or the first error.
    int open_all(std::size_t pages = 8);

    /// bpf_perf_event_output (and the skb/xdp variants: `extra` is the context bytes BPF_F_CTXLEN_MASK asks to
    /// append). 0 or a negative errno as above; -EINVAL for flags outside BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK.
    int output(std::uint64_t flags, const void* data, std::uint64_t size, const void* extra = nullptr,
               std::uint64_t extra_size = 0);

    /// Receives one sample: the CPU its buffer is bound to and the raw data (padded size, see above).
    using SampleCallback = std::function<void(std::uint32_t cpu, std::span<const std::byte> data)>;
    /// Receives a count of samples lost on a CPU because its buffer was full.
    using LostCallback = std::function<void(std::uint32_t cpu, std::uint64_t lost)>;
    /// Drains every buffer in slot order (records of one buffer in order); the number of records read.
    int consume(const SampleCallback& sample, const LostCallback& lost = {});
    /// consume(), waiting up to timeout_ms (-1: forever) for a signal first when nothing is available.
    int poll(const SampleCallback& sample, const LostCallback& lost, int timeout_ms);
    [[nodiscard]] int notify_fd() const { return notifier_.fd(); }
    /// Called after each sample on the producer's thread (short, non-blocking).
    void set_wakeup_callback(std::function<void()> fn);

    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;

  private:
    struct Buffer {
        std::uint32_t cpu = 0;
        MapMemory ring;
        std::uint64_t mask = 0;
        FutexLock lock;                      // producers
        std::atomic<std::uint64_t> head{0};  // written by producers (under lock)
        std::atomic<std::uint64_t> tail{0};  // written by the consumer
        std::uint64_t lost = 0;              // guarded by lock
    };
    bool write_record(Buffer& b, std::span<const std::byte> a, std::span<const std::byte> c, std::uint32_t type);
    void signal();

    std::atomic<Buffer*>& slot(std::uint32_t index) const {
        return reinterpret_cast<std::atomic<Buffer*>*>(slots_.data())[index];
    }

    MapMemory slots_;  // max_entries atomic pointers, zero-filled (null) and committed lazily
    std::mutex owners_mu_;
    std::map<std::uint32_t, std::shared_ptr<Buffer>> owners_;  // guarded by owners_mu_; replaced ones go via RCU
    std::mutex consumer_mu_;
    std::vector<std::byte> scratch_;  // guarded by consumer_mu_
    Notifier notifier_;
};

}  // namespace xbpf::maps
