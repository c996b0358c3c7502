// Packet helpers (net/core/filter.c) on Context::packet: bpf_xdp_adjust_head, bpf_xdp_adjust_tail,
// bpf_skb_load_bytes.
//
// Bounds are the kernel's, with the packet laid out as an xdp_buff (see helpers::Packet):
// - adjust_head: data may move to any place in [frame_start + sizeof(struct xdp_frame) (40) + metadata length,
//   data_end - ETH_HLEN (14)]; the metadata moves with it (memmove). Otherwise -EINVAL.
// - adjust_tail: data_end may move to any place in [data + ETH_HLEN, frame_end - 320], where 320 is the tailroom
//   the kernel reserves for struct skb_shared_info (SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64,
//   xdp_data_hard_end); grown bytes are zeroed. Otherwise -EINVAL.
//   Packet::frame_end is therefore the end of the whole frame (data_hard_start + frame_sz), as the kernel's
//   test_run builds it: a 4096-byte frame with 256 bytes of headroom leaves room for 3520 data bytes.
// - skb_load_bytes: copies len bytes at data + offset; offset > INT_MAX or past the end: -EFAULT and the
//   destination is zeroed.
// After a move, Packet::sync() updates the context fields. Without a packet (not an xdp/skb run) the adjust
// helpers give -EINVAL and skb_load_bytes -EFAULT.
#include <climits>

#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

constexpr std::int64_t kEthHlen = 14;
constexpr std::int64_t kXdpFrameSize = 40;      // sizeof(struct xdp_frame)
constexpr std::int64_t kTailroomReserve = 320;  // SKB_DATA_ALIGN(sizeof(struct skb_shared_info))

std::int64_t addr(const void* p) { return static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(p)); }

u64 xdp_adjust_head(u64, u64 offset_arg, u64, u64, u64, Context* ctx) {
    Packet* p = ctx ? ctx->packet : nullptr;
    if (!p) return ret_err(-EINVAL);
    const auto offset = static_cast<std::int32_t>(offset_arg);
    const std::int64_t metalen = p->data_meta && p->data_meta <= p->data ? p->data - p->data_meta : 0;
    const std::int64_t data_start = addr(p->frame_start) + kXdpFrameSize + metalen;
    const std::int64_t data = addr(p->data) + offset;
    if (data < data_start || data > addr(p->data_end) - kEthHlen) return ret_err(-EINVAL);
    if (metalen) std::memmove(p->data_meta + offset, p->data_meta, static_cast<std::size_t>(metalen));
    p->data_meta = p->data + offset - metalen;
    p->data += offset;
    p->sync();
    return 0;
}

u64 xdp_adjust_tail(u64, u64 offset_arg, u64, u64, u64, Context* ctx) {
    Packet* p = ctx ? ctx->packet : nullptr;
    if (!p) return ret_err(-EINVAL);
    const auto offset = static_cast<std::int32_t>(offset_arg);
    const std::int64_t hard_end = addr(p->frame_end) - kTailroomReserve;
    const std::int64_t data_end = addr(p->data_end) + offset;
    if (data_end > hard_end) return ret_err(-EINVAL);
    if (data_end < addr(p->data) + kEthHlen) return ret_err(-EINVAL);
    if (offset > 0) std::memset(p->data_end, 0, static_cast<std::size_t>(offset));
    p->data_end += offset;
    p->sync();
    return 0;
}

u64 skb_load_bytes(u64, u64 offset_arg, u64 to, u64 len_arg, u64, Context* ctx) {
    const auto offset = static_cast<u32>(offset_arg);
    const auto len = static_cast<u32>(len_arg);
    Packet* p = ctx ? ctx->packet : nullptr;
    if (!p || offset > INT_MAX || static_cast<u64>(offset) + len > p->size()) {
        std::memset(as_ptr(to), 0, len);
        return ret_err(-EFAULT);
    }
    std::memcpy(as_ptr(to), p->data + offset, len);
    return 0;
}

}  // namespace

void register_packet_helpers(HelperTable& t) {
    t.add({26, "bpf_skb_load_bytes", skb_load_bytes});
    t.add({44, "bpf_xdp_adjust_head", xdp_adjust_head});
    t.add({65, "bpf_xdp_adjust_tail", xdp_adjust_tail});
}

}  // namespace xbpf::helpers::detail
