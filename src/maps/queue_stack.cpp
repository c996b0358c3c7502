#include "maps/queue_stack.hpp"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "maps/families.hpp"

namespace xbpf::maps {

namespace detail {

MakeResult make_queue_stack(const MapSpec& spec) {
    constexpr std::uint32_t kAllowed = kFNumaNode | kFAccessMask;
    if (spec.max_entries == 0 || spec.key_size != 0 || spec.value_size == 0 || (spec.flags & ~kAllowed) ||
        !flags_access_ok(spec.flags))
        return refuse(-EINVAL, spec.key_size != 0      ? "key_size must be 0 (queue and stack maps have no keys)"
                               : spec.value_size == 0  ? "value_size must be > 0"
                               : spec.max_entries == 0 ? "max_entries must be > 0"
                                                       : fmt::format("flags {:#x} not allowed", spec.flags));
    if (spec.value_size > (std::uint64_t{1} << 22)) return refuse(-E2BIG, "value_size above KMALLOC_MAX_SIZE");
    std::uint64_t bytes = 0;
    if (!checked_mul(std::uint64_t{spec.max_entries} + 1, spec.value_size, bytes))
        return refuse(-ENOMEM, "queue too large");
    MapMemory slots = MapMemory::allocate(bytes);
    if (!slots) return refuse(-ENOMEM, fmt::format("cannot allocate {} bytes", bytes));
    return std::make_shared<QueueStackMap>(spec, std::move(slots));
}

}  // namespace detail

QueueStackMap::QueueStackMap(const MapSpec& spec, MapMemory slots)
    : Map(spec),
      slots_(std::move(slots)),
      size_(std::uint64_t{spec.max_entries} + 1),
      stack_(spec.type == MapType::Stack) {}

std::uint32_t QueueStackMap::size() const {
    std::lock_guard lock(lock_);
    return static_cast<std::uint32_t>(head_ >= tail_ ? head_ - tail_ : head_ + size_ - tail_);
}

int QueueStackMap::push(const void* value, std::uint64_t flags) {
    // queue_stack_map_push_elem: BPF_EXIST makes room by dropping the oldest value.
    if ((flags & kNoExist) || flags > kExist) return -EINVAL;
    std::lock_guard lock(lock_);
    const std::uint64_t next = head_ + 1 == size_ ? 0 : head_ + 1;
    if (next == tail_) {  // full
        if (!(flags & kExist)) return -E2BIG;
        tail_ = tail_ + 1 == size_ ? 0 : tail_ + 1;
    }
    std::memcpy(slot(head_), value, spec().value_size);
    head_ = next;
    return 0;
}

int QueueStackMap::take(void* value, bool remove) {
    std::lock_guard lock(lock_);
    if (head_ == tail_) return -ENOENT;
    if (stack_) {
        const std::uint64_t top = head_ == 0 ? size_ - 1 : head_ - 1;
        std::memcpy(value, slot(top), spec().value_size);
        if (remove) head_ = top;
    } else {
        std::memcpy(value, slot(tail_), spec().value_size);
        if (remove) tail_ = tail_ + 1 == size_ ? 0 : tail_ + 1;
    }
    return 0;
}

int QueueStackMap::pop(void* value) { return take(value, true); }
int QueueStackMap::peek(void* value) { return take(value, false); }

int QueueStackMap::update(const void*, const void*, std::uint64_t) { return -EINVAL; }
int QueueStackMap::erase(const void*) { return -EINVAL; }
int QueueStackMap::get_next_key(const void*, void*) { return -EINVAL; }

int QueueStackMap::sys_lookup(const void*, void* value_out, std::uint64_t) { return peek(value_out); }
int QueueStackMap::sys_update(const void*, const void* value, std::uint64_t flags) { return push(value, flags); }
int QueueStackMap::sys_lookup_and_delete(const void*, void* value_out, std::uint64_t) { return pop(value_out); }

std::vector<MapEntry> QueueStackMap::dump() {
    std::vector<MapEntry> out;
    std::lock_guard lock(lock_);
    const std::size_t vs = spec().value_size;
    auto add = [&](std::uint64_t i) {
        const auto* p = reinterpret_cast<const std::uint8_t*>(slot(i));
        out.push_back({{}, std::vector<std::uint8_t>(p, p + vs)});
    };
    if (stack_) {
        for (std::uint64_t i = head_; i != tail_;) {
            i = i == 0 ? size_ - 1 : i - 1;
            add(i);
        }
    } else {
        for (std::uint64_t i = tail_; i != head_; i = i + 1 == size_ ? 0 : i + 1) add(i);
    }
    return out;
}

}  // namespace xbpf::maps
