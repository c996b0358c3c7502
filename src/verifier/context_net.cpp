// The networking contexts: struct __sk_buff (net/core/filter.c: bpf_skb_is_valid_access and the per-type callbacks
// sk_filter_, tc_cls_act_, cg_skb_, lwt_ and sk_skb_is_valid_access) and struct xdp_md (xdp_is_valid_access).
//
// The kernel's callbacks are switches over byte ranges (bpf_ctx_range(struct __sk_buff, mark) is every offset inside
// mark); here each offset is first mapped to its field, and the per-type differences are data (SkbPolicy): which
// fields a type may not touch at all, which it may write, and whether it may read tstamp_type. What stays common
// (sizes, alignment, the 4-byte rule for packet pointers) is bpf_skb_is_valid_access.
//
// Assumed: the program is loaded by a bpf_capable() user (cg_skb allows data, data_end and tstamp writes only then),
// and an XDP program is never bound to a device (only offloaded XDP programs may write rx_queue_index).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "verifier/context_rules.hpp"

namespace xbpf::verifier::detail {
namespace {

using object::AttachType;
using object::ProgramType;

// ---- struct __sk_buff ----

/// The fields of struct __sk_buff, in layout order.
enum class SkbField : std::uint8_t {
    Len,
    PktType,
    Mark,
    QueueMapping,
    Protocol,
    VlanPresent,
    VlanTci,
    VlanProto,
    Priority,
    IngressIfindex,
    Ifindex,
    TcIndex,
    Cb,
    Hash,
    TcClassid,
    Data,
    DataEnd,
    NapiId,
    Family,
    RemoteIp4,
    LocalIp4,
    RemoteIp6,
    LocalIp6,
    RemotePort,
    LocalPort,
    DataMeta,
    FlowKeys,
    Tstamp,
    WireLen,
    GsoSegs,
    Sk,
    GsoSize,
    TstampType,
    Padding,  ///< the 3 bytes after tstamp_type (`__u32 :24`)
    Hwtstamp,
};

/// Where a field is: its bytes, and the size of one element (cb[5], remote_ip6[4] and local_ip6[4] are arrays).
struct SkbFieldInfo {
    SkbField id;
    std::string_view name;
    std::uint32_t off;
    std::uint32_t size;
    std::uint32_t elem;
};

// x86-64 offsets of include/uapi/linux/bpf.h (tests/unit/verifier/context_test.cpp checks them against the header).
constexpr std::array<SkbFieldInfo, 35> kSkbFields = {{
    {SkbField::Len, "len", 0, 4, 4},
    {SkbField::PktType, "pkt_type", 4, 4, 4},
    {SkbField::Mark, "mark", 8, 4, 4},
    {SkbField::QueueMapping, "queue_mapping", 12, 4, 4},
    {SkbField::Protocol, "protocol", 16, 4, 4},
    {SkbField::VlanPresent, "vlan_present", 20, 4, 4},
    {SkbField::VlanTci, "vlan_tci", 24, 4, 4},
    {SkbField::VlanProto, "vlan_proto", 28, 4, 4},
    {SkbField::Priority, "priority", 32, 4, 4},
    {SkbField::IngressIfindex, "ingress_ifindex", 36, 4, 4},
    {SkbField::Ifindex, "ifindex", 40, 4, 4},
    {SkbField::TcIndex, "tc_index", 44, 4, 4},
    {SkbField::Cb, "cb", 48, 20, 4},
    {SkbField::Hash, "hash", 68, 4, 4},
    {SkbField::TcClassid, "tc_classid", 72, 4, 4},
    {SkbField::Data, "data", 76, 4, 4},
    {SkbField::DataEnd, "data_end", 80, 4, 4},
    {SkbField::NapiId, "napi_id", 84, 4, 4},
    {SkbField::Family, "family", 88, 4, 4},
    {SkbField::RemoteIp4, "remote_ip4", 92, 4, 4},
    {SkbField::LocalIp4, "local_ip4", 96, 4, 4},
    {SkbField::RemoteIp6, "remote_ip6", 100, 16, 4},
    {SkbField::LocalIp6, "local_ip6", 116, 16, 4},
    {SkbField::RemotePort, "remote_port", 132, 4, 4},
    {SkbField::LocalPort, "local_port", 136, 4, 4},
    {SkbField::DataMeta, "data_meta", 140, 4, 4},
    {SkbField::FlowKeys, "flow_keys", 144, 8, 8},
    {SkbField::Tstamp, "tstamp", 152, 8, 8},
    {SkbField::WireLen, "wire_len", 160, 4, 4},
    {SkbField::GsoSegs, "gso_segs", 164, 4, 4},
    {SkbField::Sk, "sk", 168, 8, 8},
    {SkbField::GsoSize, "gso_size", 176, 4, 4},
    {SkbField::TstampType, "tstamp_type", 180, 1, 1},
    {SkbField::Padding, "", 181, 3, 3},
    {SkbField::Hwtstamp, "hwtstamp", 184, 8, 8},
}};

constexpr bool skb_table_is_contiguous() {
    std::uint32_t next = 0;
    for (std::size_t i = 0; i < kSkbFields.size(); ++i) {
        if (kSkbFields[i].off != next || static_cast<std::size_t>(kSkbFields[i].id) != i) return false;
        if (kSkbFields[i].size % kSkbFields[i].elem != 0) return false;
        next += kSkbFields[i].size;
    }
    return next == kSkBuffSize;
}
static_assert(skb_table_is_contiguous(), "kSkbFields must tile struct __sk_buff in enum order");

/// The field holding byte `off` (0 <= off < kSkBuffSize).
const SkbFieldInfo& skb_field_at(std::int64_t off) {
    for (const SkbFieldInfo& f : kSkbFields)
        if (off < f.off + f.size) return f;
    return kSkbFields.back();  // unreachable for off < kSkBuffSize
}

/// "cb[2]" for an array element, the field name otherwise.
std::string element_name(const SkbFieldInfo& f, std::int64_t off) {
    if (f.elem == f.size) return std::string(f.name);
    return fmt::format("{}[{}]", f.name, (off - f.off) / f.elem);
}

/// A set of fields, one bit per SkbField.
using FieldSet = std::uint64_t;

constexpr FieldSet bit(SkbField f) { return FieldSet{1} << static_cast<unsigned>(f); }

/// bpf_ctx_range_till(struct __sk_buff, family, local_port): the socket fields meant for sk_skb programs.
constexpr FieldSet kSocketFields = bit(SkbField::Family) | bit(SkbField::RemoteIp4) | bit(SkbField::LocalIp4) |
                                   bit(SkbField::RemoteIp6) | bit(SkbField::LocalIp6) | bit(SkbField::RemotePort) |
                                   bit(SkbField::LocalPort);

/// What one program type may do with __sk_buff beyond bpf_skb_is_valid_access.
struct SkbPolicy {
    FieldSet denied = 0;                ///< not accessible at all (checked first, for reads and writes)
    FieldSet writable = 0;              ///< the only fields a store may touch
    bool tstamp_type_readable = false;  ///< tc: tstamp_type may be read with a 1-byte load
};

/// sk_filter_is_valid_access (socket_filter): no packet pointers, no tc or socket fields, no timestamps;
/// only cb[] is writable.
constexpr SkbPolicy kSocketFilterPolicy{
    .denied = bit(SkbField::TcClassid) | bit(SkbField::Data) | bit(SkbField::DataMeta) | bit(SkbField::DataEnd) |
              kSocketFields | bit(SkbField::Tstamp) | bit(SkbField::WireLen) | bit(SkbField::Hwtstamp),
    .writable = bit(SkbField::Cb),
};

/// tc_cls_act_is_valid_access (sched_cls, sched_act).
constexpr SkbPolicy kTcPolicy{
    .denied = kSocketFields,
    .writable = bit(SkbField::Mark) | bit(SkbField::TcIndex) | bit(SkbField::Priority) | bit(SkbField::TcClassid) |
                bit(SkbField::Cb) | bit(SkbField::Tstamp) | bit(SkbField::QueueMapping),
    .tstamp_type_readable = true,
};

/// cg_skb_is_valid_access (cgroup_skb), for a bpf_capable() loader.
constexpr SkbPolicy kCgroupSkbPolicy{
    .denied = bit(SkbField::TcClassid) | bit(SkbField::DataMeta) | bit(SkbField::WireLen),
    .writable = bit(SkbField::Mark) | bit(SkbField::Priority) | bit(SkbField::Cb) | bit(SkbField::Tstamp),
};

/// lwt_is_valid_access (lwt_in, lwt_out, lwt_xmit, lwt_seg6local).
constexpr SkbPolicy kLwtPolicy{
    .denied = bit(SkbField::TcClassid) | kSocketFields | bit(SkbField::DataMeta) | bit(SkbField::Tstamp) |
              bit(SkbField::WireLen) | bit(SkbField::Hwtstamp),
    .writable = bit(SkbField::Mark) | bit(SkbField::Priority) | bit(SkbField::Cb),
};

/// sk_skb_is_valid_access (sk_skb): mark is neither readable nor writable.
constexpr SkbPolicy kSkSkbPolicy{
    .denied = bit(SkbField::TcClassid) | bit(SkbField::DataMeta) | bit(SkbField::Tstamp) | bit(SkbField::WireLen) |
              bit(SkbField::Hwtstamp) | bit(SkbField::Mark),
    .writable = bit(SkbField::TcIndex) | bit(SkbField::Priority),
};

/// The policy of an __sk_buff program type; nullptr for the others (context.cpp dispatches only skb types here).
const SkbPolicy* skb_policy(ProgramType type) {
    switch (type) {
        case ProgramType::SocketFilter: return &kSocketFilterPolicy;
        case ProgramType::SchedCls:
        case ProgramType::SchedAct: return &kTcPolicy;
        case ProgramType::CgroupSkb: return &kCgroupSkbPolicy;
        case ProgramType::LwtIn:
        case ProgramType::LwtOut:
        case ProgramType::LwtXmit:
        case ProgramType::LwtSeg6local: return &kLwtPolicy;
        case ProgramType::SkSkb: return &kSkSkbPolicy;
        default: return nullptr;  // not an __sk_buff type: is_skb_type() answers false
    }
}

/// bpf_skb_is_valid_access: what every __sk_buff type shares, after its own policy has been applied.
CtxVerdict check_skb_common(const SkbFieldInfo& f, const std::string& field, const CtxAccess& a) {
    const auto reject = [](std::string reason) { return CtxVerdict(std::unexpected(std::move(reason))); };
    // The kernel rejects a misaligned access before anything else; it is tested here after the size rules so
    // that "an 8-byte load of data" is reported as a size problem rather than as a misaligned one.
    const bool aligned = a.off % a.size == 0;
    switch (f.id) {
        case SkbField::Cb:
            // Any size, reads and writes, as long as the access stays inside cb[0..4].
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            if (a.off + a.size > f.off + f.size)
                return reject(fmt::format("{}: the {}-byte access runs past the end of cb[4]", field, a.size));
            return CtxFieldType::Scalar;
        case SkbField::RemoteIp4:
        case SkbField::LocalIp4:
        case SkbField::RemoteIp6:
        case SkbField::LocalIp6:
            if (a.size != 4) return reject(needs_size(field, 4, a.is_write));
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            return CtxFieldType::Scalar;
        case SkbField::Data:
        case SkbField::DataEnd:
        case SkbField::DataMeta:
            // The kernel rewrites these 4-byte fields into 8-byte pointer loads; only the whole field may be read.
            if (a.size != 4) return reject(needs_size(field, 4, a.is_write));
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            return f.id == SkbField::Data      ? CtxFieldType::PacketStart
                   : f.id == SkbField::DataEnd ? CtxFieldType::PacketEnd
                                               : CtxFieldType::PacketMeta;
        case SkbField::FlowKeys: return reject(field + " is only for flow_dissector programs");
        case SkbField::Hwtstamp:
            if (a.is_write) return reject(field + " is read-only");
            if (a.size != 8) return reject(needs_size(field, 8, false));
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            return CtxFieldType::Scalar;
        case SkbField::Tstamp:
            if (a.size != 8) return reject(needs_size(field, 8, a.is_write));
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            return CtxFieldType::Scalar;
        case SkbField::Sk:
            // The kernel's check accepts 1-, 2- and 4-byte loads at 172..175 (they fall to its default case), but
            // the rewrite has no case for them and the load fails with EFAULT: rejected here directly.
            if (a.is_write) return reject(field + " is read-only");
            if (a.off != f.off || a.size != 8) return reject(needs_size(field, 8, false));
            // PTR_TO_SOCK_COMMON_OR_NULL in the kernel.
            return reject(field + " is a socket pointer (sock_common or NULL), which xbpf does not support yet");
        case SkbField::TstampType: return reject(field + " is only readable by sched_cls and sched_act programs");
        case SkbField::Padding: return reject(fmt::format("offset {} is padding after __sk_buff.tstamp_type", a.off));
        case SkbField::Len:
        case SkbField::PktType:
        case SkbField::Mark:
        case SkbField::QueueMapping:
        case SkbField::Protocol:
        case SkbField::VlanPresent:
        case SkbField::VlanTci:
        case SkbField::VlanProto:
        case SkbField::Priority:
        case SkbField::IngressIfindex:
        case SkbField::Ifindex:
        case SkbField::TcIndex:
        case SkbField::Hash:
        case SkbField::TcClassid:
        case SkbField::NapiId:
        case SkbField::Family:
        case SkbField::RemotePort:
        case SkbField::LocalPort:
        case SkbField::WireLen:
        case SkbField::GsoSegs:
        case SkbField::GsoSize:
            // u32 fields: whole-field stores; loads of 1, 2 or 4 bytes (bpf_ctx_narrow_access_ok).
            if (a.is_write && a.size != 4) return reject(needs_size(field, 4, true));
            if (a.size > 4) return reject(fmt::format("{} is 4 bytes: an {}-byte load is too wide", field, a.size));
            if (!aligned) return reject(misaligned(field, a.off, a.size));
            return CtxFieldType::Scalar;
    }
    return reject("unknown __sk_buff field");  // unreachable: the switch covers every SkbField
}

// ---- struct xdp_md ----

/// The fields of struct xdp_md, all u32.
constexpr std::array<std::string_view, 6> kXdpFields = {
    "data", "data_end", "data_meta", "ingress_ifindex", "rx_queue_index", "egress_ifindex"};
static_assert(kXdpFields.size() * 4 == kXdpMdSize);

/// Byte offset of xdp_md.egress_ifindex.
constexpr std::int64_t kXdpEgressIfindex = 20;

}  // namespace

bool skb_has_packet(ProgramType type) {
    const SkbPolicy* p = skb_policy(type);
    return p != nullptr && (p->denied & bit(SkbField::Data)) == 0;
}

CtxVerdict check_skb_access(ProgramType type, const CtxAccess& a) {
    const SkbPolicy* policy = skb_policy(type);
    if (policy == nullptr) return std::unexpected(std::string("not an __sk_buff program type"));
    if (a.off < 0) return std::unexpected(before_start("__sk_buff", a.off));
    if (a.off >= kSkBuffSize) return std::unexpected(past_end("__sk_buff", a.off, kSkBuffSize));

    const SkbFieldInfo& f = skb_field_at(a.off);
    if (f.id == SkbField::Padding)
        return std::unexpected(fmt::format("offset {} is padding after __sk_buff.tstamp_type", a.off));
    const std::string field = "__sk_buff." + element_name(f, a.off);
    const std::string_view prog = object::program_type_name(type);
    if ((policy->denied & bit(f.id)) != 0)
        return std::unexpected(fmt::format("{} is not accessible from {} programs", field, prog));
    if (a.is_write && (policy->writable & bit(f.id)) == 0)
        return std::unexpected(fmt::format("{} is read-only in {} programs", field, prog));
    if (f.id == SkbField::TstampType && policy->tstamp_type_readable) {
        // tc_cls_act_is_valid_access answers for this byte itself: a 1-byte load and nothing else.
        if (a.size != 1) return std::unexpected(needs_size(field, 1, false));
        return CtxFieldType::Scalar;
    }
    return check_skb_common(f, field, a);
}

std::string skb_field_name(std::int64_t off) {
    if (off < 0 || off >= kSkBuffSize) return "";
    return element_name(skb_field_at(off), off);
}

CtxVerdict check_xdp_access(AttachType attach, const CtxAccess& a) {
    if (a.off < 0) return std::unexpected(before_start("xdp_md", a.off));
    if (a.off >= kXdpMdSize) return std::unexpected(past_end("xdp_md", a.off, kXdpMdSize));
    const std::string field = "xdp_md." + std::string(kXdpFields[static_cast<std::size_t>(a.off / 4)]);
    // The kernel tests the exact offset; the other bytes of egress_ifindex fail the 4-byte rule below anyway.
    if (a.off == kXdpEgressIfindex && attach != AttachType::XdpDevmap)
        return std::unexpected(field + " is only available to programs attached to a devmap (BPF_XDP_DEVMAP)");
    // Only device-bound (offloaded) programs may write rx_queue_index; xbpf never binds a program to a device.
    if (a.is_write) return std::unexpected(field + " is read-only");
    if (a.size != 4) return std::unexpected(needs_size(field, 4, false));
    if (a.off % a.size != 0) return std::unexpected(misaligned(field, a.off, a.size));
    switch (a.off) {
        case 0: return CtxFieldType::PacketStart;
        case 4: return CtxFieldType::PacketEnd;
        case 8: return CtxFieldType::PacketMeta;
        default: return CtxFieldType::Scalar;
    }
}

std::string xdp_field_name(std::int64_t off) {
    if (off < 0 || off >= kXdpMdSize) return "";
    return std::string(kXdpFields[static_cast<std::size_t>(off / 4)]);
}

}  // namespace xbpf::verifier::detail
