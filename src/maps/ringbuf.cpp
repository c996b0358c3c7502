#include "maps/ringbuf.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "maps/families.hpp"
#include "maps/memory.hpp"

namespace xbpf::maps {
namespace {

constexpr std::uint64_t kMaxRecordSize = UINT32_MAX / 4;  // RINGBUF_MAX_RECORD_SZ

std::atomic_ref<std::uint32_t> header_len(std::byte* hdr) {
    return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(hdr));
}

}  // namespace

namespace detail {

MakeResult make_ringbuf(const MapSpec& spec) {
    if (spec.flags & ~kFNumaNode)
        return refuse(-EINVAL, fmt::format("flags {:#x} not allowed for ring buffers", spec.flags & ~kFNumaNode));
    if (spec.key_size != 0 || spec.value_size != 0)
        return refuse(-EINVAL, "ring buffers have no keys or values (key_size and value_size must be 0)");
    if (!std::has_single_bit(spec.max_entries) || spec.max_entries % page_size() != 0)
        return refuse(-EINVAL, fmt::format("max_entries ({}) must be a power of two and a multiple of the page size",
                                           spec.max_entries));
    auto map = std::make_shared<RingbufMap>(spec);
    if (const int rc = map->init()) return refuse(rc, "cannot map the ring buffer");
    return map;
}

}  // namespace detail

RingbufMap::RingbufMap(const MapSpec& spec) : Map(spec), mask_(std::uint64_t{spec.max_entries} - 1) {}

int RingbufMap::init() {
    const std::size_t size = spec().max_entries;
    meta_size_ = page_size();
    mapping_size_ = meta_size_ + 2 * size;
    const int fd = ::memfd_create("xbpf-ringbuf", MFD_CLOEXEC);
    if (fd < 0) return -errno;
    if (::ftruncate(fd, static_cast<off_t>(size)) != 0) {
        const int err = errno;
        ::close(fd);
        return -err;
    }
    void* area = ::mmap(nullptr, mapping_size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED) {
        ::close(fd);
        return -ENOMEM;
    }
    base_ = static_cast<std::byte*>(area);
    const bool ok = ::mmap(base_, meta_size_, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) !=
                        MAP_FAILED &&
                    ::mmap(data(), size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0) != MAP_FAILED &&
                    ::mmap(data() + size, size, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_SHARED, fd, 0) != MAP_FAILED;
    ::close(fd);
    if (!ok) return -ENOMEM;
    RingbufMap* self = this;
    std::memcpy(base_, &self, sizeof self);
    return notifier_.init();
}

RingbufMap::~RingbufMap() {
    if (base_) ::munmap(base_, mapping_size_);
}

void* RingbufMap::reserve(std::uint64_t size, std::uint64_t flags) {
    if (flags != 0) return nullptr;
    return reserve_record(size);
}

void* RingbufMap::reserve_record(std::uint64_t size) {
    // __bpf_ringbuf_reserve.
    if (size > kMaxRecordSize) return nullptr;
    const std::uint64_t len = round_up8(size + kRingbufHdrSize);
    if (len > data_size()) return nullptr;
    const std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
    std::lock_guard lock(producer_lock_);
    std::uint64_t pend = pending_pos_;
    const std::uint64_t prod = producer_pos_.load(std::memory_order_relaxed);
    const std::uint64_t new_prod = prod + len;
    // Advance past records committed since: the oldest still-busy record bounds how far producers may run ahead.
    while (pend < prod) {
        const std::uint32_t hdr_len = header_len(data() + (pend & mask_)).load(std::memory_order_acquire);
        if (hdr_len & kRingbufBusyBit) break;
        pend += round_up8((hdr_len & ~kRingbufDiscardBit) + kRingbufHdrSize);
    }
    pending_pos_ = pend;
    if (new_prod - cons > mask_ || new_prod - pend > mask_) return nullptr;
    std::byte* hdr = data() + (prod & mask_);
    const auto pg_off = static_cast<std::uint32_t>((hdr - base_) / static_cast<std::ptrdiff_t>(page_size()));
    std::memcpy(hdr + 4, &pg_off, 4);
    header_len(hdr).store(static_cast<std::uint32_t>(size) | kRingbufBusyBit, std::memory_order_relaxed);
    producer_pos_.store(new_prod, std::memory_order_release);  // pairs with the consumer's acquire
    return hdr + kRingbufHdrSize;
}

RingbufMap* RingbufMap::from_sample(const void* sample) {
    const auto* hdr = static_cast<const std::byte*>(sample) - kRingbufHdrSize;
    std::uint32_t pg_off;
    std::memcpy(&pg_off, hdr + 4, 4);
    const std::uintptr_t page = reinterpret_cast<std::uintptr_t>(hdr) & ~(std::uintptr_t{page_size()} - 1);
    const auto* base = reinterpret_cast<const std::byte*>(page - std::uintptr_t{pg_off} * page_size());
    RingbufMap* rb;
    std::memcpy(&rb, base, sizeof rb);
    return rb;
}

bool RingbufMap::contains(const void* p, std::size_t n) const {
    const auto* b = static_cast<const std::byte*>(p);
    return b >= data() && n <= 2 * data_size() && b + n <= data() + 2 * data_size();
}

void RingbufMap::submit(void* sample, std::uint64_t flags) { from_sample(sample)->commit(sample, flags, false); }
void RingbufMap::discard(void* sample, std::uint64_t flags) { from_sample(sample)->commit(sample, flags, true); }

void RingbufMap::commit(void* sample, std::uint64_t flags, bool discard) {
    // bpf_ringbuf_commit: clear busy (and set discard) with a full barrier, then wake the consumer if it was
    // waiting for exactly this record.
    std::byte* hdr = static_cast<std::byte*>(sample) - kRingbufHdrSize;
    std::atomic_ref<std::uint32_t> len = header_len(hdr);
    std::uint32_t new_len = len.load(std::memory_order_relaxed) ^ kRingbufBusyBit;
    if (discard) new_len |= kRingbufDiscardBit;
    len.exchange(new_len, std::memory_order_seq_cst);
    const auto rec_pos = static_cast<std::uint64_t>(hdr - data());
    const std::uint64_t cons_pos = consumer_pos_.load(std::memory_order_seq_cst) & mask_;
    if (flags & kRbForceWakeup)
        wake();
    else if (cons_pos == rec_pos && !(flags & kRbNoWakeup))
        wake();
}

int RingbufMap::output(const void* data_in, std::uint64_t size, std::uint64_t flags) {
    if (flags & ~(kRbNoWakeup | kRbForceWakeup)) return -EINVAL;
    void* rec = reserve_record(size);
    if (!rec) return -EAGAIN;
    std::memcpy(rec, data_in, size);
    commit(rec, flags, false);
    return 0;
}

std::uint64_t RingbufMap::query(std::uint64_t flags) const {
    switch (flags) {
        case kRbAvailData: return producer_pos() - consumer_pos();
        case kRbRingSize: return data_size();
        case kRbConsPos: return consumer_pos();
        case kRbProdPos: return producer_pos();
        default: return 0;
    }
}

void RingbufMap::wake() { notifier_.signal(); }

void RingbufMap::set_wakeup_callback(std::function<void()> fn) { notifier_.set_callback(std::move(fn)); }

int RingbufMap::consume(const RecordCallback& fn) {
    std::lock_guard lock(consumer_mu_);
    std::uint64_t cons = consumer_pos_.load(std::memory_order_acquire);
    int count = 0;
    for (;;) {
        bool got_new_data = false;
        const std::uint64_t prod = producer_pos_.load(std::memory_order_acquire);
        while (cons < prod) {
            std::byte* hdr = data() + (cons & mask_);
            const std::uint32_t len = header_len(hdr).load(std::memory_order_seq_cst);
            if (len & kRingbufBusyBit) return count;  // not committed yet: stop here, in order
            got_new_data = true;
            const std::uint32_t size = len & ~(kRingbufBusyBit | kRingbufDiscardBit);
            cons += round_up8(size + kRingbufHdrSize);
            if (!(len & kRingbufDiscardBit)) {
                const int rc = fn(std::span<const std::byte>(hdr + kRingbufHdrSize, size));
                if (count < INT32_MAX) ++count;
                if (rc < 0) {
                    consumer_pos_.store(cons, std::memory_order_seq_cst);
                    return rc;
                }
            }
            consumer_pos_.store(cons, std::memory_order_seq_cst);
        }
        if (!got_new_data) return count;
    }
}

int RingbufMap::poll(const RecordCallback& fn, int timeout_ms) {
    return notifier_.poll([&] { return consume(fn); }, timeout_ms);
}

// Element operations do not exist for ring buffers (-ENOTSUPP, as ringbuf_map_*_elem).
void* RingbufMap::lookup(const void*) { return nullptr; }
int RingbufMap::update(const void*, const void*, std::uint64_t) { return -kENOTSUPP; }
int RingbufMap::erase(const void*) { return -kENOTSUPP; }
int RingbufMap::get_next_key(const void*, void*) { return -kENOTSUPP; }
int RingbufMap::sys_lookup(const void*, void*, std::uint64_t) { return -kENOTSUPP; }
int RingbufMap::sys_update(const void*, const void*, std::uint64_t) { return -kENOTSUPP; }
int RingbufMap::sys_erase(const void*) { return -kENOTSUPP; }

}  // namespace xbpf::maps
