// ringbuf (kernel/bpf/ringbuf.c): a multi-producer, single-consumer byte ring of max_entries bytes (a power of two,
// a multiple of the page size). Records are framed like the kernel's: an 8-byte header { u32 len; u32 pg_off; }
// where len carries BPF_RINGBUF_BUSY_BIT (1 << 31) while reserved and BPF_RINGBUF_DISCARD_BIT (1 << 30) once
// discarded, then the sample, then padding to 8 bytes. Producer and consumer positions only grow; a record lives
// at position & (size - 1). The data pages are mapped twice back to back, as the kernel does, so a record that
// wraps past the end is still contiguous in memory.
//
// Producers (reserve/output) serialize on one lock; submit/discard are lock-free (an atomic exchange of the
// header). The consumer reads records in order, stops at the first busy one, skips discarded ones and publishes its
// position. Wake-up: after a commit, the consumer is notified if it had caught up with this record (or with
// BPF_RB_FORCE_WAKEUP, and never with BPF_RB_NO_WAKEUP), through an eventfd (notify_fd(), for epoll) and an
// optional callback. The callback runs on the producer's thread: it must be short and must not block.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>

#include "maps/lock.hpp"
#include "maps/map.hpp"
#include "maps/notifier.hpp"

namespace xbpf::maps {

/// bpf_ringbuf_* flags and constants (include/uapi/linux/bpf.h).
inline constexpr std::uint64_t kRbNoWakeup = 1;
inline constexpr std::uint64_t kRbForceWakeup = 2;
inline constexpr std::uint64_t kRbAvailData = 0;
inline constexpr std::uint64_t kRbRingSize = 1;
inline constexpr std::uint64_t kRbConsPos = 2;
inline constexpr std::uint64_t kRbProdPos = 3;
inline constexpr std::uint32_t kRingbufBusyBit = 1u << 31;
inline constexpr std::uint32_t kRingbufDiscardBit = 1u << 30;
inline constexpr std::uint32_t kRingbufHdrSize = 8;

/// BPF_MAP_TYPE_RINGBUF.
class RingbufMap final : public Map {
  public:
    /// Use make_map; public for std::make_shared. Call init() before use.
    explicit RingbufMap(const MapSpec& spec);
    ~RingbufMap() override;
    /// Maps the memory and creates the eventfd; 0 or a negative errno.
    int init();

    /// Element operations do not exist for ring buffers: -ENOTSUPP (lookup: nullptr).
    void* lookup(const void* key) override;
    int update(const void* key, const void* value, std::uint64_t flags) override;
    int erase(const void* key) override;
    int get_next_key(const void* key, void* next_key) override;

    // ---- program side (helpers) ----
    /// bpf_ringbuf_reserve: a sample of `size` bytes to fill then submit or discard; nullptr when flags != 0, the
    /// size is too large, or there is no room.
    void* reserve(std::uint64_t size, std::uint64_t flags);
    /// bpf_ringbuf_submit for a sample from reserve (of any ring buffer: it finds its map from the header).
    static void submit(void* sample, std::uint64_t flags);
    /// bpf_ringbuf_discard.
    static void discard(void* sample, std::uint64_t flags);
    /// bpf_ringbuf_output: reserve + copy + submit; 0, -EINVAL (flags) or -EAGAIN (no room).
    int output(const void* data, std::uint64_t size, std::uint64_t flags);
    /// bpf_ringbuf_query: BPF_RB_AVAIL_DATA, BPF_RB_RING_SIZE, BPF_RB_CONS_POS, BPF_RB_PROD_POS; 0 otherwise.
    [[nodiscard]] std::uint64_t query(std::uint64_t flags) const;
    /// The ring buffer a sample returned by reserve belongs to (from the header's page offset, as the kernel).
    static RingbufMap* from_sample(const void* sample);
    /// True if [p, p + n) lies in this ring buffer's data pages (both mappings); for checking helper arguments.
    [[nodiscard]] bool contains(const void* p, std::size_t n) const;

    // ---- host side: the consumer ----
    /// Called with each record's sample, in order; a negative return stops consume() with that value.
    using RecordCallback = std::function<int(std::span<const std::byte> sample)>;
    /// Reads every committed record available (as libbpf's ring_buffer__consume): the number of records passed to
    /// the callback, or the callback's negative return. Consumers are serialized.
    int consume(const RecordCallback& fn);
    /// consume(), but waits up to timeout_ms (-1: forever) for a wake-up first when nothing is available.
    int poll(const RecordCallback& fn, int timeout_ms);
    /// An eventfd that becomes readable on wake-up.
    [[nodiscard]] int notify_fd() const { return notifier_.fd(); }
    /// Called on each wake-up, on the producer's thread (replaces the previous callback; empty to remove).
    void set_wakeup_callback(std::function<void()> fn);
    /// Data size in bytes (max_entries).
    [[nodiscard]] std::uint64_t data_size() const { return mask_ + 1; }
    [[nodiscard]] std::uint64_t consumer_pos() const { return consumer_pos_.load(std::memory_order_acquire); }
    [[nodiscard]] std::uint64_t producer_pos() const { return producer_pos_.load(std::memory_order_acquire); }

  protected:
    int sys_lookup(const void* key, void* value_out, std::uint64_t flags) override;
    int sys_update(const void* key, const void* value, std::uint64_t flags) override;
    int sys_erase(const void* key) override;

  private:
    void* reserve_record(std::uint64_t size);
    void commit(void* sample, std::uint64_t flags, bool discard);
    void wake();
    std::byte* data() const { return base_ + meta_size_; }

    std::byte* base_ = nullptr;  // meta page (back-pointer to this map), then the data pages twice
    std::size_t meta_size_ = 0;
    std::size_t mapping_size_ = 0;
    std::uint64_t mask_;
    Notifier notifier_;
    FutexLock producer_lock_;
    std::uint64_t pending_pos_ = 0;  // guarded by producer_lock_
    alignas(64) std::atomic<std::uint64_t> consumer_pos_{0};
    alignas(64) std::atomic<std::uint64_t> producer_pos_{0};
    std::mutex consumer_mu_;
};

}  // namespace xbpf::maps
