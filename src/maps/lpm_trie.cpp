#include "maps/lpm_trie.hpp"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "maps/families.hpp"

namespace xbpf::maps {
namespace {

constexpr std::uint32_t kDataSizeMin = 1;
constexpr std::uint32_t kDataSizeMax = 256;
constexpr std::uint64_t kValSizeMax = (std::uint64_t{1} << 22) - kDataSizeMax - 24;  // KMALLOC_MAX_SIZE - ...

/// extract_bit: bit `index` of `data`, counting from the high bit of data[0].
std::uint32_t extract_bit(const std::uint8_t* data, std::uint32_t index) {
    return (data[index / 8] >> (7 - index % 8)) & 1;
}

std::uint32_t read_prefixlen(const void* key) {
    std::uint32_t p;
    std::memcpy(&p, key, sizeof p);
    return p;
}

const std::uint8_t* key_data(const void* key) { return static_cast<const std::uint8_t*>(key) + 4; }

}  // namespace

namespace detail {

MakeResult make_lpm_trie(const MapSpec& spec) {
    constexpr std::uint32_t kAllowed = kFNoPrealloc | kFNumaNode | kFAccessMask;
    if (spec.max_entries == 0) return refuse(-EINVAL, "max_entries must be > 0");
    if (!(spec.flags & kFNoPrealloc)) return refuse(-EINVAL, "LPM tries require BPF_F_NO_PREALLOC");
    if ((spec.flags & ~kAllowed) || !flags_access_ok(spec.flags))
        return refuse(-EINVAL, fmt::format("flags {:#x} not allowed for LPM tries", spec.flags));
    if (spec.key_size < 4 + kDataSizeMin || spec.key_size > 4 + kDataSizeMax)
        return refuse(
            -EINVAL, fmt::format("key_size must be 5..260 (u32 prefixlen + 1..256 data bytes), not {}", spec.key_size));
    if (spec.value_size < 1 || spec.value_size > kValSizeMax)
        return refuse(-EINVAL, fmt::format("value_size {} out of range", spec.value_size));
    return std::make_shared<LpmTrieMap>(spec);
}

}  // namespace detail

LpmTrieMap::LpmTrieMap(const MapSpec& spec)
    : Map(spec),
      data_size_(spec.key_size - 4),
      data_stride_(static_cast<std::uint32_t>(round_up8(spec.key_size - 4))),
      node_stride_(sizeof(Node) + round_up8(spec.key_size - 4) + round_up8(spec.value_size)),
      chunk_nodes_(static_cast<std::uint32_t>(std::max<std::size_t>(1, (64 << 10) / node_stride_))),
      max_prefixlen_((spec.key_size - 4) * 8) {}

LpmTrieMap::Node* LpmTrieMap::node(std::uint32_t link) const {
    const std::uint32_t i = link - 1;
    return reinterpret_cast<Node*>(chunks_[i / chunk_nodes_].data() + (i % chunk_nodes_) * node_stride_);
}

std::uint32_t LpmTrieMap::alloc_node() {
    std::uint32_t link;
    if (free_head_ != 0) {
        link = free_head_;
        free_head_ = node(link)->child[0];
    } else {
        if (allocated_ % chunk_nodes_ == 0) {
            MapMemory chunk = MapMemory::allocate(chunk_nodes_ * node_stride_);
            if (!chunk) return 0;
            chunks_.push_back(std::move(chunk));
        }
        link = ++allocated_;
    }
    Node* n = node(link);
    n->child[0] = n->child[1] = 0;
    n->prefixlen = 0;
    n->flags = 0;
    return link;
}

void LpmTrieMap::free_node(std::uint32_t link) {
    node(link)->child[0] = free_head_;
    free_head_ = link;
}

std::uint32_t LpmTrieMap::match_len(std::uint32_t link, std::uint32_t key_prefixlen, const std::uint8_t* kd) const {
    // longest_prefix_match: leading bits equal in node and key, at most min(both prefix lengths).
    const std::uint32_t limit = std::min(node(link)->prefixlen, key_prefixlen);
    const std::uint8_t* nd = data_of(link);
    std::uint32_t len = 0;
    for (std::uint32_t i = 0; i < data_size_ && len < limit; ++i) {
        const std::uint8_t diff = nd[i] ^ kd[i];
        if (diff) {
            len += static_cast<std::uint32_t>(std::countl_zero(diff));
            break;
        }
        len += 8;
    }
    return std::min(len, limit);
}

std::uint32_t LpmTrieMap::count() const {
    std::shared_lock lock(lock_);
    return n_entries_;
}

void* LpmTrieMap::lookup(const void* key) {
    const std::uint32_t prefixlen = read_prefixlen(key);
    const std::uint8_t* kd = key_data(key);
    if (prefixlen > max_prefixlen_) return nullptr;
    std::shared_lock lock(lock_);
    std::uint32_t found = 0;
    for (std::uint32_t n = root_; n != 0;) {
        const std::uint32_t matchlen = match_len(n, prefixlen, kd);
        if (matchlen == max_prefixlen_) {
            found = n;
            break;
        }
        if (matchlen < node(n)->prefixlen) break;
        if (!(node(n)->flags & kImFlag)) found = n;
        n = node(n)->child[extract_bit(kd, node(n)->prefixlen)];
    }
    return found ? value_of(found) : nullptr;
}

int LpmTrieMap::update(const void* key, const void* value, std::uint64_t flags) {
    if (flags > kExist) return -EINVAL;
    const std::uint32_t prefixlen = read_prefixlen(key);
    const std::uint8_t* kd = key_data(key);
    if (prefixlen > max_prefixlen_) return -EINVAL;
    std::unique_lock lock(lock_);

    auto check_add = [&]() -> int {  // trie_check_add_elem
        if (flags == kExist) return -ENOENT;
        if (n_entries_ == spec().max_entries) return -ENOSPC;
        ++n_entries_;
        return 0;
    };
    auto fill = [&](std::uint32_t n) {
        node(n)->prefixlen = prefixlen;
        std::memcpy(data_of(n), kd, data_size_);
        std::memcpy(value_of(n), value, spec().value_size);
    };

    std::uint32_t* slot = &root_;
    std::uint32_t n = 0;
    std::uint32_t matchlen = 0;
    while ((n = *slot) != 0) {
        matchlen = match_len(n, prefixlen, kd);
        if (node(n)->prefixlen != matchlen || node(n)->prefixlen == prefixlen) break;
        slot = &node(n)->child[extract_bit(kd, node(n)->prefixlen)];
    }
    if (n == 0) {  // an empty slot: attach a new leaf
        if (const int rc = check_add()) return rc;
        const std::uint32_t fresh = alloc_node();
        if (!fresh) {
            --n_entries_;
            return -ENOMEM;
        }
        fill(fresh);
        *slot = fresh;
        return 0;
    }
    if (node(n)->prefixlen == matchlen) {  // the exact prefix: replace (the kernel swaps in a new node)
        if (!(node(n)->flags & kImFlag)) {
            if (flags == kNoExist) return -EEXIST;
        } else if (const int rc = check_add()) {
            return rc;
        }
        fill(n);
        node(n)->flags = 0;
        return 0;
    }
    if (const int rc = check_add()) return rc;
    const std::uint32_t fresh = alloc_node();
    if (!fresh) {
        --n_entries_;
        return -ENOMEM;
    }
    fill(fresh);
    if (matchlen == prefixlen) {  // the new prefix covers the node: insert it as the parent
        node(fresh)->child[extract_bit(data_of(n), matchlen)] = n;
        *slot = fresh;
        return 0;
    }
    const std::uint32_t im = alloc_node();  // they diverge at bit matchlen: an intermediate node joins them
    if (!im) {
        free_node(fresh);
        --n_entries_;
        return -ENOMEM;
    }
    node(im)->prefixlen = matchlen;
    node(im)->flags = kImFlag;
    std::memcpy(data_of(im), data_of(n), data_size_);
    if (extract_bit(kd, matchlen)) {
        node(im)->child[0] = n;
        node(im)->child[1] = fresh;
    } else {
        node(im)->child[0] = fresh;
        node(im)->child[1] = n;
    }
    *slot = im;
    return 0;
}

int LpmTrieMap::erase(const void* key) {
    const std::uint32_t prefixlen = read_prefixlen(key);
    const std::uint8_t* kd = key_data(key);
    if (prefixlen > max_prefixlen_) return -EINVAL;
    std::unique_lock lock(lock_);
    std::uint32_t* trim = &root_;
    std::uint32_t* trim2 = trim;
    std::uint32_t parent = 0;
    std::uint32_t n = 0;
    std::uint32_t matchlen = 0;
    while ((n = *trim) != 0) {
        matchlen = match_len(n, prefixlen, kd);
        if (node(n)->prefixlen != matchlen || node(n)->prefixlen == prefixlen) break;
        parent = n;
        trim2 = trim;
        trim = &node(n)->child[extract_bit(kd, node(n)->prefixlen)];
    }
    if (n == 0 || node(n)->prefixlen != prefixlen || node(n)->prefixlen != matchlen || (node(n)->flags & kImFlag))
        return -ENOENT;
    --n_entries_;
    Node* victim = node(n);
    if (victim->child[0] && victim->child[1]) {  // two children: it becomes an intermediate node
        victim->flags |= kImFlag;
        return 0;
    }
    if (parent && (node(parent)->flags & kImFlag) && !victim->child[0] && !victim->child[1]) {
        // A leaf under an intermediate node: the intermediate goes too and the sibling moves up.
        *trim2 = node(parent)->child[0] == n ? node(parent)->child[1] : node(parent)->child[0];
        free_node(parent);
        free_node(n);
        return 0;
    }
    *trim = victim->child[0] ? victim->child[0] : victim->child[1];
    free_node(n);
    return 0;
}

std::uint32_t LpmTrieMap::leftmost(std::uint32_t n) const {
    // The leftmost non-intermediate node in post-order: intermediate nodes always have two children.
    std::uint32_t next = 0;
    while (n != 0) {
        if (node(n)->flags & kImFlag) {
            n = node(n)->child[0];
        } else {
            next = n;
            n = node(n)->child[0] ? node(n)->child[0] : node(next)->child[1];
        }
    }
    return next;
}

void LpmTrieMap::copy_key_out(std::uint32_t n, void* out) const {
    const std::uint32_t p = node(n)->prefixlen;
    std::memcpy(out, &p, 4);
    std::memcpy(static_cast<std::uint8_t*>(out) + 4, data_of(n), data_size_);
}

int LpmTrieMap::get_next_key(const void* key, void* next_key) {
    std::shared_lock lock(lock_);
    if (root_ == 0) return -ENOENT;
    if (!key || read_prefixlen(key) > max_prefixlen_) {
        copy_key_out(leftmost(root_), next_key);
        return 0;
    }
    const std::uint32_t prefixlen = read_prefixlen(key);
    const std::uint8_t* kd = key_data(key);
    std::vector<std::uint32_t> stack;
    std::uint32_t n = root_;
    std::uint32_t matchlen = 0;
    while (n != 0) {
        stack.push_back(n);
        matchlen = match_len(n, prefixlen, kd);
        if (node(n)->prefixlen != matchlen || node(n)->prefixlen == prefixlen) break;
        n = node(n)->child[extract_bit(kd, node(n)->prefixlen)];
    }
    if (n == 0 || node(n)->prefixlen != matchlen || (node(n)->flags & kImFlag)) {
        copy_key_out(leftmost(root_), next_key);
        return 0;
    }
    // Found: the next node in post-order is the leftmost of the right sibling subtree, else the first
    // non-intermediate ancestor.
    n = stack.back();
    for (std::size_t sp = stack.size() - 1; sp > 0; --sp) {
        const std::uint32_t parent = stack[sp - 1];
        if (node(parent)->child[0] == n && node(parent)->child[1] != 0) {
            copy_key_out(leftmost(node(parent)->child[1]), next_key);
            return 0;
        }
        if (!(node(parent)->flags & kImFlag)) {
            copy_key_out(parent, next_key);
            return 0;
        }
        n = parent;
    }
    return -ENOENT;
}

}  // namespace xbpf::maps
