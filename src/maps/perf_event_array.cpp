#include "maps/perf_event_array.hpp"

#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include "maps/array_slots.hpp"
#include "maps/cpu.hpp"
#include "maps/families.hpp"
#include "maps/rcu.hpp"

namespace xbpf::maps {
namespace {

using detail::read_u32;

}  // namespace

namespace detail {

MakeResult make_perf_event_array(const MapSpec& spec) {
    if (spec.value_size != 4) return refuse(-EINVAL, "value_size must be 4 (a perf event fd)");
    if (spec.flags & (kFRdonlyProg | kFWronlyProg))
        return refuse(-EINVAL, "BPF_F_RDONLY_PROG/BPF_F_WRONLY_PROG are not supported for fd arrays");
    if (auto problem = check_array_attrs(spec)) return std::unexpected(std::move(*problem));
    MapMemory slots = MapMemory::allocate(std::size_t{spec.max_entries} * sizeof(void*));
    if (!slots) return refuse(-ENOMEM, "cannot allocate the buffer slots");
    auto map = std::make_shared<PerfEventArrayMap>(spec, std::move(slots));
    if (const int rc = map->init()) return refuse(rc, "cannot create the notification eventfd");
    return map;
}

}  // namespace detail

PerfEventArrayMap::PerfEventArrayMap(const MapSpec& spec, MapMemory slots) : Map(spec), slots_(std::move(slots)) {}

int PerfEventArrayMap::init() { return notifier_.init(); }

PerfEventArrayMap::~PerfEventArrayMap() = default;

int PerfEventArrayMap::open_buffer(std::uint32_t index, std::uint32_t cpu, std::size_t pages) {
    if (index >= spec().max_entries) return -E2BIG;
    if (pages == 0 || !std::has_single_bit(pages) || cpu >= num_possible_cpus()) return -EINVAL;
    auto buffer = std::make_shared<Buffer>();
    buffer->cpu = cpu;
    buffer->ring = MapMemory::allocate(pages * page_size());
    if (!buffer->ring) return -ENOMEM;
    buffer->mask = pages * page_size() - 1;
    std::shared_ptr<Buffer> old;
    {
        std::lock_guard lock(owners_mu_);
        slot(index).store(buffer.get(), std::memory_order_release);
        old = std::exchange(owners_[index], std::move(buffer));
    }
    rcu_retire(std::move(old));  // a producer may still be writing into it
    return 0;
}

int PerfEventArrayMap::open_all(std::size_t pages) {
    const std::uint32_t n = std::min(num_possible_cpus(), spec().max_entries);
    for (std::uint32_t cpu = 0; cpu < n; ++cpu)
        if (const int rc = open_buffer(cpu, cpu, pages)) return rc;
    return 0;
}

bool PerfEventArrayMap::write_record(Buffer& b, std::span<const std::byte> a, std::span<const std::byte> c,
                                     std::uint32_t type) {
    // Layout: perf_event_header { u32 type; u16 misc; u16 size; } then, for samples, u32 raw size + data +
    // padding; for lost records `a` is the body.
    const bool sample = type == kPerfRecordSample;
    const std::uint64_t body = sample ? round_up8(4 + a.size() + c.size()) : a.size();
    const std::uint64_t total = 8 + body;
    const std::uint64_t head = b.head.load(std::memory_order_relaxed);
    const std::uint64_t tail = b.tail.load(std::memory_order_acquire);
    if (total > b.mask + 1 - (head - tail)) return false;
    std::byte* ring = b.ring.data();
    std::uint64_t pos = head;
    auto put = [&](const void* src, std::size_t n) {
        const auto* s = static_cast<const std::byte*>(src);
        while (n > 0) {
            const std::size_t off = pos & b.mask;
            const std::size_t chunk = std::min<std::size_t>(n, b.mask + 1 - off);
            std::memcpy(ring + off, s, chunk);
            s += chunk;
            n -= chunk;
            pos += chunk;
        }
    };
    const std::uint32_t t = type;
    const std::uint16_t misc = 0, size16 = static_cast<std::uint16_t>(total);
    put(&t, 4);
    put(&misc, 2);
    put(&size16, 2);
    if (sample) {
        const auto raw = static_cast<std::uint32_t>(body - 4);
        put(&raw, 4);
        put(a.data(), a.size());
        put(c.data(), c.size());
        static constexpr std::byte zeros[8] = {};
        put(zeros, head + total - pos);
    } else {
        put(a.data(), a.size());
    }
    b.head.store(head + total, std::memory_order_release);
    return true;
}

int PerfEventArrayMap::output(std::uint64_t flags, const void* data, std::uint64_t size, const void* extra,
                              std::uint64_t extra_size) {
    if (flags & ~(kFIndexMask | kFCtxLenMask)) return -EINVAL;
    const std::uint32_t cpu = current_cpu();
    std::uint64_t index = flags & kFIndexMask;
    if (index == kFCurrentCpu) index = cpu;
    if (index >= spec().max_entries) return -E2BIG;
    RcuReadLock rcu;
    Buffer* b = slot(static_cast<std::uint32_t>(index)).load(std::memory_order_acquire);
    if (!b) return -ENOENT;
    if (b->cpu != cpu) return -EOPNOTSUPP;  // the event is active on another CPU
    // The record's size field is 16 bits.
    if (8 + round_up8(4 + size + extra_size) > 0xffff) return -E2BIG;
    {
        std::lock_guard lock(b->lock);
        if (b->lost > 0) {
            const std::uint64_t body[2] = {0, b->lost};
            if (write_record(*b, std::as_bytes(std::span(body)), {}, kPerfRecordLost)) b->lost = 0;
        }
        const bool ok =
            b->lost == 0 &&
            write_record(*b, std::span(static_cast<const std::byte*>(data), size),
                         std::span(static_cast<const std::byte*>(extra), extra ? extra_size : 0), kPerfRecordSample);
        if (!ok) {
            ++b->lost;
            return -ENOSPC;
        }
    }
    signal();
    return 0;
}

void PerfEventArrayMap::signal() { notifier_.signal(); }

void PerfEventArrayMap::set_wakeup_callback(std::function<void()> fn) { notifier_.set_callback(std::move(fn)); }

int PerfEventArrayMap::consume(const SampleCallback& sample, const LostCallback& lost) {
    std::lock_guard consumer(consumer_mu_);
    std::vector<std::shared_ptr<Buffer>> buffers;  // in slot order; keeps each buffer alive while it is read
    {
        std::lock_guard lock(owners_mu_);
        for (const auto& [index, b] : owners_) buffers.push_back(b);
    }
    int count = 0;
    for (const auto& b : buffers) {
        if (!b) continue;
        std::uint64_t tail = b->tail.load(std::memory_order_relaxed);
        const std::uint64_t head = b->head.load(std::memory_order_acquire);
        while (tail < head) {
            const std::byte* ring = b->ring.data();
            auto get = [&](std::uint64_t pos, std::size_t n, std::byte* out) {
                for (std::size_t done = 0; done < n;) {
                    const std::size_t off = (pos + done) & b->mask;
                    const std::size_t chunk = std::min<std::size_t>(n - done, b->mask + 1 - off);
                    std::memcpy(out + done, ring + off, chunk);
                    done += chunk;
                }
            };
            std::byte header[8];
            get(tail, 8, header);
            std::uint32_t type;
            std::uint16_t size;
            std::memcpy(&type, header, 4);
            std::memcpy(&size, header + 6, 2);
            scratch_.resize(size);
            get(tail, size, scratch_.data());
            if (type == kPerfRecordSample && sample) {
                std::uint32_t raw;
                std::memcpy(&raw, scratch_.data() + 8, 4);
                sample(b->cpu, std::span<const std::byte>(scratch_.data() + 12, raw));
            } else if (type == kPerfRecordLost && lost) {
                std::uint64_t n;
                std::memcpy(&n, scratch_.data() + 16, 8);
                lost(b->cpu, n);
            }
            ++count;
            tail += size;
            b->tail.store(tail, std::memory_order_release);
        }
    }
    return count;
}

int PerfEventArrayMap::poll(const SampleCallback& sample, const LostCallback& lost, int timeout_ms) {
    return notifier_.poll([&] { return consume(sample, lost); }, timeout_ms);
}

void* PerfEventArrayMap::lookup(const void*) { return nullptr; }  // programs cannot look up (-EOPNOTSUPP)
int PerfEventArrayMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }

int PerfEventArrayMap::erase(const void* key) {
    const std::uint32_t index = read_u32(key);
    if (index >= spec().max_entries) return -E2BIG;
    return detail::erase_owned_slot(slot(index), owners_mu_, owners_, index);
}

int PerfEventArrayMap::get_next_key(const void* key, void* next_key) {
    return detail::array_next_key(key, next_key, spec().max_entries);
}

// The syscall stores perf event fds, which xbpf does not have (open_buffer instead), and cannot read them back.
int PerfEventArrayMap::sys_lookup(const void*, void*, std::uint64_t) { return -kENOTSUPP; }

int PerfEventArrayMap::sys_update(const void* key, const void*, std::uint64_t flags) {
    if (flags != kAny) return -EINVAL;
    if (read_u32(key) >= spec().max_entries) return -E2BIG;
    return -EBADF;  // no perf event fd can be valid here
}

}  // namespace xbpf::maps
