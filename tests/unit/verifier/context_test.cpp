// Context access rules (src/verifier/context.hpp): a table of accesses per program type, each checked by hand
// against the kernel's is_valid_access callbacks (net/core/filter.c, kernel/trace/bpf_trace.c, kernel/bpf/btf.c) and
// asserting the field type or the exact message; the field names; and the layouts against include/uapi/linux/bpf.h.
// context_kernel_test.cpp compares every offset and size with the running kernel.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/bpf_perf_event.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "verifier/context.hpp"

namespace xbpf::verifier {
namespace {

using object::AttachType;
using object::ProgramType;
using T = CtxFieldType;

/// One access and what must come of it: a field type, or the reason inside the message's parentheses.
struct Case {
    ProgramType type;
    std::int64_t off;
    int size;
    bool write;
    std::optional<CtxFieldType> want;  ///< nullopt: rejected with `reason`
    std::string reason;
    AttachType attach = AttachType::None;
};

constexpr bool kLoad = false;
constexpr bool kStore = true;

Case ok(ProgramType type, std::int64_t off, int size, bool write, CtxFieldType t,
        AttachType attach = AttachType::None) {
    return Case{type, off, size, write, t, "", attach};
}
Case bad(ProgramType type, std::int64_t off, int size, bool write, std::string reason,
         AttachType attach = AttachType::None) {
    return Case{type, off, size, write, std::nullopt, std::move(reason), attach};
}

std::string describe(const Case& c) {
    return fmt::format("{} off={} size={} {}", object::program_type_name(c.type), c.off, c.size,
                       c.write ? "store" : "load");
}

void check_cases(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
        SCOPED_TRACE(describe(c));
        const auto r = check_context_access(c.type, c.attach, c.off, c.size, c.write);
        if (c.want) {
            ASSERT_TRUE(r.has_value()) << r.error().message;
            EXPECT_EQ(*r, *c.want);
        } else {
            ASSERT_FALSE(r.has_value()) << "accepted, as " << static_cast<int>(*r);
            EXPECT_EQ(r.error().code, ErrorCode::kVerify);
            EXPECT_EQ(r.error().message,
                      fmt::format("invalid bpf_context access off={} size={} ({})", c.off, c.size, c.reason));
        }
    }
}

constexpr ProgramType kSf = ProgramType::SocketFilter;
constexpr ProgramType kTc = ProgramType::SchedCls;

// sk_filter_is_valid_access, then bpf_skb_is_valid_access.
TEST(ContextSkb, SocketFilter) {
    check_cases({
        ok(kSf, 0, 4, kLoad, T::Scalar),    // len
        ok(kSf, 0, 1, kLoad, T::Scalar),    // narrow: bpf_ctx_narrow_access_ok
        ok(kSf, 18, 2, kLoad, T::Scalar),   // upper half of protocol
        ok(kSf, 84, 4, kLoad, T::Scalar),   // napi_id
        ok(kSf, 176, 4, kLoad, T::Scalar),  // gso_size
        ok(kSf, 164, 2, kLoad, T::Scalar),  // gso_segs
        bad(kSf, 0, 8, kLoad, "__sk_buff.len is 4 bytes: an 8-byte load is too wide"),
        bad(kSf, 9, 2, kLoad, "__sk_buff.mark: offset 9 is not a multiple of the 2-byte access size"),
        // No direct packet access, no tc or socket fields, no timestamps.
        bad(kSf, 76, 4, kLoad, "__sk_buff.data is not accessible from socket_filter programs"),
        bad(kSf, 80, 4, kLoad, "__sk_buff.data_end is not accessible from socket_filter programs"),
        bad(kSf, 140, 4, kLoad, "__sk_buff.data_meta is not accessible from socket_filter programs"),
        bad(kSf, 72, 4, kLoad, "__sk_buff.tc_classid is not accessible from socket_filter programs"),
        bad(kSf, 88, 4, kLoad, "__sk_buff.family is not accessible from socket_filter programs"),
        bad(kSf, 136, 4, kLoad, "__sk_buff.local_port is not accessible from socket_filter programs"),
        bad(kSf, 152, 8, kLoad, "__sk_buff.tstamp is not accessible from socket_filter programs"),
        bad(kSf, 160, 4, kLoad, "__sk_buff.wire_len is not accessible from socket_filter programs"),
        bad(kSf, 184, 8, kLoad, "__sk_buff.hwtstamp is not accessible from socket_filter programs"),
        // Stores: cb[0..4] only, any size that stays inside cb.
        ok(kSf, 48, 4, kStore, T::Scalar),
        ok(kSf, 56, 8, kStore, T::Scalar),
        ok(kSf, 67, 1, kStore, T::Scalar),
        ok(kSf, 56, 8, kLoad, T::Scalar),
        bad(kSf, 64, 8, kLoad, "__sk_buff.cb[4]: the 8-byte access runs past the end of cb[4]"),
        bad(kSf, 52, 8, kStore, "__sk_buff.cb[1]: offset 52 is not a multiple of the 8-byte access size"),
        bad(kSf, 8, 4, kStore, "__sk_buff.mark is read-only in socket_filter programs"),
        bad(kSf, 32, 4, kStore, "__sk_buff.priority is read-only in socket_filter programs"),
        // The end of the structure.
        bad(kSf, 180, 1, kLoad, "__sk_buff.tstamp_type is only readable by sched_cls and sched_act programs"),
        bad(kSf, 181, 1, kLoad, "offset 181 is padding after __sk_buff.tstamp_type"),
        bad(kSf, 192, 4, kLoad, "offset 192 is past the end of __sk_buff, 192 bytes"),
        bad(kSf, -4, 4, kLoad, "offset -4 is before the start of __sk_buff"),
        bad(kSf, 144, 8, kLoad, "__sk_buff.flow_keys is only for flow_dissector programs"),
        // skb->sk is PTR_TO_SOCK_COMMON_OR_NULL in the kernel; xbpf has no socket pointers yet.
        bad(kSf, 168, 8, kLoad,
            "__sk_buff.sk is a socket pointer (sock_common or NULL), which xbpf does not support yet"),
        bad(kSf, 172, 4, kLoad, "__sk_buff.sk must be read with an 8-byte load"),
        bad(kSf, 168, 8, kStore, "__sk_buff.sk is read-only in socket_filter programs"),
    });
}

// tc_cls_act_is_valid_access (sched_cls and sched_act share it), then bpf_skb_is_valid_access.
TEST(ContextSkb, Tc) {
    check_cases({
        ok(kTc, 76, 4, kLoad, T::PacketStart), ok(kTc, 80, 4, kLoad, T::PacketEnd),
        ok(kTc, 140, 4, kLoad, T::PacketMeta), ok(ProgramType::SchedAct, 76, 4, kLoad, T::PacketStart),
        bad(kTc, 76, 2, kLoad, "__sk_buff.data must be read with a 4-byte load"),
        bad(kTc, 80, 8, kLoad, "__sk_buff.data_end must be read with a 4-byte load"),
        bad(kTc, 77, 1, kLoad, "__sk_buff.data must be read with a 4-byte load"),
        bad(kTc, 76, 4, kStore, "__sk_buff.data is read-only in sched_cls programs"),
        // Writable: mark, tc_index, priority, tc_classid, cb, tstamp, queue_mapping (4-byte stores; tstamp 8).
        ok(kTc, 8, 4, kStore, T::Scalar), ok(kTc, 44, 4, kStore, T::Scalar), ok(kTc, 32, 4, kStore, T::Scalar),
        ok(kTc, 72, 4, kStore, T::Scalar), ok(kTc, 12, 4, kStore, T::Scalar), ok(kTc, 152, 8, kStore, T::Scalar),
        ok(kTc, 152, 8, kLoad, T::Scalar), bad(kTc, 8, 2, kStore, "__sk_buff.mark must be written with a 4-byte store"),
        bad(kTc, 152, 4, kStore, "__sk_buff.tstamp must be written with an 8-byte store"),
        bad(kTc, 156, 4, kLoad, "__sk_buff.tstamp must be read with an 8-byte load"),
        bad(kTc, 0, 4, kStore, "__sk_buff.len is read-only in sched_cls programs"),
        bad(kTc, 68, 4, kStore, "__sk_buff.hash is read-only in sched_cls programs"),
        // tstamp_type: a 1-byte load, nothing else.
        ok(kTc, 180, 1, kLoad, T::Scalar),
        bad(kTc, 180, 2, kLoad, "__sk_buff.tstamp_type must be read with a 1-byte load"),
        bad(kTc, 180, 1, kStore, "__sk_buff.tstamp_type is read-only in sched_cls programs"),
        bad(kTc, 182, 2, kLoad, "offset 182 is padding after __sk_buff.tstamp_type"),
        // Socket fields are for sk_skb.
        bad(kTc, 92, 4, kLoad, "__sk_buff.remote_ip4 is not accessible from sched_cls programs"),
        bad(ProgramType::SchedAct, 100, 4, kLoad, "__sk_buff.remote_ip6[0] is not accessible from sched_act programs"),
        // Timestamps and the rest are readable.
        ok(kTc, 184, 8, kLoad, T::Scalar),
        bad(kTc, 184, 4, kLoad, "__sk_buff.hwtstamp must be read with an 8-byte load"),
        bad(kTc, 184, 8, kStore, "__sk_buff.hwtstamp is read-only in sched_cls programs"),
        ok(kTc, 160, 4, kLoad, T::Scalar),  // wire_len
        ok(kTc, 72, 2, kLoad, T::Scalar),   // tc_classid, narrow
    });
}

// cg_skb_is_valid_access, for a bpf_capable() loader.
TEST(ContextSkb, CgroupSkb) {
    constexpr ProgramType kCg = ProgramType::CgroupSkb;
    check_cases({
        ok(kCg, 76, 4, kLoad, T::PacketStart),
        ok(kCg, 80, 4, kLoad, T::PacketEnd),
        bad(kCg, 140, 4, kLoad, "__sk_buff.data_meta is not accessible from cgroup_skb programs"),
        bad(kCg, 72, 4, kLoad, "__sk_buff.tc_classid is not accessible from cgroup_skb programs"),
        bad(kCg, 160, 4, kLoad, "__sk_buff.wire_len is not accessible from cgroup_skb programs"),
        // Socket fields are readable here; the addresses only as whole u32s.
        ok(kCg, 108, 4, kLoad, T::Scalar),
        bad(kCg, 108, 2, kLoad, "__sk_buff.remote_ip6[2] must be read with a 4-byte load"),
        ok(kCg, 132, 2, kLoad, T::Scalar),  // remote_port, narrow
        ok(kCg, 8, 4, kStore, T::Scalar),
        ok(kCg, 32, 4, kStore, T::Scalar),
        ok(kCg, 152, 8, kStore, T::Scalar),
        ok(kCg, 60, 4, kStore, T::Scalar),
        bad(kCg, 44, 4, kStore, "__sk_buff.tc_index is read-only in cgroup_skb programs"),
        ok(kCg, 184, 8, kLoad, T::Scalar),
    });
}

// lwt_is_valid_access and sk_skb_is_valid_access.
TEST(ContextSkb, LwtAndSkSkb) {
    check_cases({
        ok(ProgramType::LwtIn, 76, 4, kLoad, T::PacketStart),
        ok(ProgramType::LwtXmit, 80, 4, kLoad, T::PacketEnd),
        bad(ProgramType::LwtOut, 140, 4, kLoad, "__sk_buff.data_meta is not accessible from lwt_out programs"),
        bad(ProgramType::LwtIn, 88, 4, kLoad, "__sk_buff.family is not accessible from lwt_in programs"),
        ok(ProgramType::LwtIn, 8, 4, kStore, T::Scalar),
        bad(ProgramType::LwtIn, 44, 4, kStore, "__sk_buff.tc_index is read-only in lwt_in programs"),
        ok(ProgramType::SkSkb, 76, 4, kLoad, T::PacketStart),
        ok(ProgramType::SkSkb, 88, 4, kLoad, T::Scalar),  // family
        ok(ProgramType::SkSkb, 92, 4, kLoad, T::Scalar),  // remote_ip4
        ok(ProgramType::SkSkb, 44, 4, kStore, T::Scalar),
        bad(ProgramType::SkSkb, 8, 4, kLoad, "__sk_buff.mark is not accessible from sk_skb programs"),
        bad(ProgramType::SkSkb, 140, 4, kLoad, "__sk_buff.data_meta is not accessible from sk_skb programs"),
        bad(ProgramType::SkSkb, 48, 4, kStore, "__sk_buff.cb[0] is read-only in sk_skb programs"),
    });
}

// xdp_is_valid_access: every field a whole u32, nothing writable.
TEST(ContextXdp, Fields) {
    constexpr ProgramType kXdp = ProgramType::Xdp;
    check_cases({
        ok(kXdp, 0, 4, kLoad, T::PacketStart),
        ok(kXdp, 4, 4, kLoad, T::PacketEnd),
        ok(kXdp, 8, 4, kLoad, T::PacketMeta),
        ok(kXdp, 12, 4, kLoad, T::Scalar),
        ok(kXdp, 16, 4, kLoad, T::Scalar),
        bad(kXdp, 0, 8, kLoad, "xdp_md.data must be read with a 4-byte load"),
        bad(kXdp, 12, 2, kLoad, "xdp_md.ingress_ifindex must be read with a 4-byte load"),
        bad(kXdp, 2, 4, kLoad, "xdp_md.data: offset 2 is not a multiple of the 4-byte access size"),
        bad(kXdp, 0, 4, kStore, "xdp_md.data is read-only"),
        bad(kXdp, 16, 4, kStore, "xdp_md.rx_queue_index is read-only"),
        bad(kXdp, 20, 4, kLoad,
            "xdp_md.egress_ifindex is only available to programs attached to a devmap (BPF_XDP_DEVMAP)"),
        ok(kXdp, 20, 4, kLoad, T::Scalar, AttachType::XdpDevmap),
        bad(kXdp, 24, 4, kLoad, "offset 24 is past the end of xdp_md, 24 bytes"),
        bad(kXdp, -4, 4, kLoad, "offset -4 is before the start of xdp_md"),
    });
}

// kprobe_prog_is_valid_access: x86-64 struct pt_regs, read-only, any aligned size.
TEST(ContextTrace, Kprobe) {
    constexpr ProgramType kKp = ProgramType::Kprobe;
    check_cases({
        ok(kKp, 112, 8, kLoad, T::Scalar),  // di
        ok(kKp, 112, 4, kLoad, T::Scalar),
        ok(kKp, 113, 1, kLoad, T::Scalar),
        ok(kKp, 160, 8, kLoad, T::Scalar),  // ss, the last register
        bad(kKp, 116, 8, kLoad, "pt_regs.di: offset 116 is not a multiple of the 8-byte access size"),
        bad(kKp, 112, 8, kStore, "pt_regs.di is read-only"),
        bad(kKp, 168, 1, kLoad, "offset 168 is past the end of pt_regs, 168 bytes"),
        bad(kKp, 176, 8, kLoad, "offset 176 is past the end of pt_regs, 168 bytes"),
        bad(kKp, -8, 8, kLoad, "offset -8 is before the start of pt_regs"),
    });
}

// tp_prog_is_valid_access: the record after its 8 common bytes, up to PERF_MAX_TRACE_SIZE, read-only, aligned.
TEST(ContextTrace, Tracepoint) {
    constexpr ProgramType kTp = ProgramType::Tracepoint;
    const std::string hidden =
        "tracepoint records start at offset 8: the first 8 bytes are the common fields the kernel hides";
    check_cases({
        ok(kTp, 8, 8, kLoad, T::Scalar),
        ok(kTp, 16, 4, kLoad, T::Scalar),
        ok(kTp, 2048, 8, kLoad, T::Scalar),  // PERF_MAX_TRACE_SIZE was 2048 in older kernels
        ok(kTp, 8191, 1, kLoad, T::Scalar),
        ok(kTp, 8184, 8, kLoad, T::Scalar),
        bad(kTp, 0, 4, kLoad, hidden),
        bad(kTp, 4, 4, kLoad, hidden),
        bad(kTp, 7, 1, kLoad, hidden),
        bad(kTp, 12, 8, kLoad, "tracepoint record: offset 12 is not a multiple of the 8-byte access size"),
        bad(kTp, 16, 8, kStore, "tracepoint records are read-only"),
        bad(kTp, 8192, 1, kLoad,
            "offset 8192 is past the end of the largest tracepoint record, 8192 bytes (PERF_MAX_TRACE_SIZE)"),
        // The kernel accepts this one (its `off < sizeof(void *)` compares unsigned); xbpf does not.
        bad(kTp, -8, 8, kLoad, "offset -8 is before the start of the tracepoint record"),
    });
}

// pe_prog_is_valid_access: registers as whole longs, sample_period and addr narrow too.
TEST(ContextTrace, PerfEvent) {
    constexpr ProgramType kPe = ProgramType::PerfEvent;
    check_cases({
        ok(kPe, 112, 8, kLoad, T::Scalar),
        ok(kPe, 168, 8, kLoad, T::Scalar),  // sample_period
        ok(kPe, 172, 4, kLoad, T::Scalar),
        ok(kPe, 169, 1, kLoad, T::Scalar),
        ok(kPe, 176, 2, kLoad, T::Scalar),  // addr
        bad(kPe, 112, 4, kLoad, "bpf_perf_event_data.regs.di must be read with an 8-byte load"),
        bad(kPe, 116, 8, kLoad, "bpf_perf_event_data.regs.di: offset 116 is not a multiple of the 8-byte access size"),
        bad(kPe, 170, 4, kLoad,
            "bpf_perf_event_data.sample_period: offset 170 is not a multiple of the 4-byte access size"),
        bad(kPe, 168, 8, kStore, "bpf_perf_event_data.sample_period is read-only"),
        bad(kPe, 184, 8, kLoad, "offset 184 is past the end of bpf_perf_event_data, 184 bytes"),
    });
}

// raw_tp_prog_is_valid_access and raw_tp_writable_prog_is_valid_access: u64 args[12].
TEST(ContextTrace, RawTracepoint) {
    constexpr ProgramType kRaw = ProgramType::RawTracepoint;
    constexpr ProgramType kRawW = ProgramType::RawTracepointWritable;
    check_cases({
        ok(kRaw, 0, 8, kLoad, T::Scalar),
        ok(kRaw, 12, 4, kLoad, T::Scalar),  // upper half of args[1]
        ok(kRaw, 90, 2, kLoad, T::Scalar),
        ok(kRaw, 88, 8, kLoad, T::Scalar),  // args[11]
        bad(kRaw, 96, 8, kLoad, "offset 96 is past the end of the raw tracepoint arguments, 12 u64s (96 bytes)"),
        bad(kRaw, 6, 4, kLoad, "args[0]: offset 6 is not a multiple of the 4-byte access size"),
        bad(kRaw, 8, 8, kStore, "args[1] is read-only"),
        // args[0] of a writable raw tracepoint is PTR_TO_TP_BUFFER in the kernel: not modelled yet.
        bad(kRawW, 0, 8, kLoad,
            "args[0] is the writable tracepoint buffer (PTR_TO_TP_BUFFER), which xbpf does not support yet"),
        bad(kRawW, 0, 4, kLoad, "args[0] must be read with an 8-byte load"),
        bad(kRawW, 0, 8, kStore, "args[0] is read-only"),
        ok(kRawW, 4, 4, kLoad, T::Scalar),
        ok(kRawW, 8, 8, kLoad, T::Scalar),
    });
}

// tracing_prog_is_valid_access / btf_ctx_access (lsm: btf_ctx_access), without BTF: 12 u64 slots of scalars.
TEST(ContextTrace, BtfArgs) {
    constexpr ProgramType kTr = ProgramType::Tracing;
    check_cases({
        ok(kTr, 0, 8, kLoad, T::Scalar, AttachType::TraceFentry),
        ok(kTr, 8, 4, kLoad, T::Scalar, AttachType::TraceFexit),  // selftests: "btf_ctx_access accept"
        ok(kTr, 88, 8, kLoad, T::Scalar, AttachType::TraceRawTp),
        ok(ProgramType::Lsm, 16, 8, kLoad, T::Scalar, AttachType::LsmMac),
        bad(kTr, 4, 4, kLoad, "args[0]: offset 4 is not at the start of an 8-byte argument slot"),
        bad(kTr, 0, 8, kStore, "args[0] is read-only"),
        bad(ProgramType::Lsm, 0, 8, kStore, "args[0] is read-only"),
        bad(kTr, 96, 8, kLoad,
            "offset 96 is past the end of the traced function's arguments, at most 12 u64s (96 bytes)"),
        bad(kTr, -8, 8, kLoad, "offset -8 is before the start of the traced function's arguments"),
    });
}

TEST(ContextOther, UnspecHasNoContext) {
    check_cases({
        bad(ProgramType::Unspec, 0, 4, kLoad, "unspec programs have no context"),
        bad(ProgramType::Unspec, 0, 8, kStore, "unspec programs have no context"),
    });
    const ContextLayout l = context_layout(ProgramType::Unspec);
    EXPECT_EQ(l.size, 0u);
    EXPECT_EQ(l.struct_name, "");
    EXPECT_EQ(context_field_name(ProgramType::Unspec, 0), "");
}

TEST(ContextOther, UnsupportedTypesSaySo) {
    for (const ProgramType t : {ProgramType::CgroupSock, ProgramType::SockOps, ProgramType::SkMsg,
                                ProgramType::FlowDissector, ProgramType::Syscall, ProgramType::Netfilter}) {
        const auto r = check_context_access(t, AttachType::None, 0, 4, false);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
        EXPECT_EQ(r.error().message, fmt::format("program type {}: context access is not supported by xbpf",
                                                 object::program_type_name(t)));
    }
}

TEST(ContextOther, AccessSizeMustBeAnInstructionSize) {
    check_cases({bad(kTc, 0, 3, kLoad, "an access is 1, 2, 4 or 8 bytes"),
                 bad(kTc, 0, 16, kLoad, "an access is 1, 2, 4 or 8 bytes")});
}

TEST(ContextLayouts, SizesAndPacketAccess) {
    struct Want {
        ProgramType type;
        std::string_view name;
        std::uint32_t size;
        bool packet;
    };
    for (const Want& w : {
             Want{kSf, "__sk_buff", sizeof(struct __sk_buff), false},
             Want{kTc, "__sk_buff", sizeof(struct __sk_buff), true},
             Want{ProgramType::SchedAct, "__sk_buff", sizeof(struct __sk_buff), true},
             Want{ProgramType::CgroupSkb, "__sk_buff", sizeof(struct __sk_buff), true},
             Want{ProgramType::Xdp, "xdp_md", sizeof(struct xdp_md), true},
             Want{ProgramType::Kprobe, "pt_regs", 168, false},
             Want{ProgramType::Tracepoint, "trace_entry", 8192, false},
             Want{ProgramType::PerfEvent, "bpf_perf_event_data", sizeof(struct bpf_perf_event_data), false},
             Want{ProgramType::RawTracepoint, "bpf_raw_tracepoint_args", 96, false},
             Want{ProgramType::RawTracepointWritable, "bpf_raw_tracepoint_args", 96, false},
             Want{ProgramType::Tracing, "args", 96, false},
             Want{ProgramType::Lsm, "args", 96, false},
         }) {
        SCOPED_TRACE(object::program_type_name(w.type));
        const ContextLayout l = context_layout(w.type);
        EXPECT_EQ(l.struct_name, w.name);
        EXPECT_EQ(l.size, w.size);
        EXPECT_EQ(l.has_packet, w.packet);
    }
}

// The field table against the uapi header's offsets: each field's first and last byte carry its name.
TEST(ContextLayouts, SkBuffOffsetsMatchTheUapiHeader) {
    struct F {
        std::size_t off, size;
        std::string_view name;
    };
#define XBPF_F(field) \
    F { offsetof(struct __sk_buff, field), sizeof(((struct __sk_buff*)nullptr)->field), #field }
    const F fields[] = {
        XBPF_F(len),          XBPF_F(pkt_type),   XBPF_F(mark),       XBPF_F(queue_mapping), XBPF_F(protocol),
        XBPF_F(vlan_present), XBPF_F(vlan_tci),   XBPF_F(vlan_proto), XBPF_F(priority),      XBPF_F(ingress_ifindex),
        XBPF_F(ifindex),      XBPF_F(tc_index),   XBPF_F(hash),       XBPF_F(tc_classid),    XBPF_F(data),
        XBPF_F(data_end),     XBPF_F(napi_id),    XBPF_F(family),     XBPF_F(remote_ip4),    XBPF_F(local_ip4),
        XBPF_F(remote_port),  XBPF_F(local_port), XBPF_F(data_meta),  XBPF_F(flow_keys),     XBPF_F(tstamp),
        XBPF_F(wire_len),     XBPF_F(gso_segs),   XBPF_F(sk),         XBPF_F(gso_size),      XBPF_F(tstamp_type),
        XBPF_F(hwtstamp),
    };
#undef XBPF_F
    for (const F& f : fields) {
        SCOPED_TRACE(f.name);
        EXPECT_EQ(context_field_name(kTc, static_cast<std::int64_t>(f.off)), f.name);
        EXPECT_EQ(context_field_name(kTc, static_cast<std::int64_t>(f.off + f.size - 1)), f.name);
    }
    for (int i = 0; i < 5; ++i)
        EXPECT_EQ(context_field_name(kTc, offsetof(struct __sk_buff, cb) + 4 * i), fmt::format("cb[{}]", i));
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(context_field_name(kTc, offsetof(struct __sk_buff, remote_ip6) + 4 * i + 3),
                  fmt::format("remote_ip6[{}]", i));
        EXPECT_EQ(context_field_name(kTc, offsetof(struct __sk_buff, local_ip6) + 4 * i),
                  fmt::format("local_ip6[{}]", i));
    }
    EXPECT_EQ(context_field_name(kTc, 181), "");  // padding
    EXPECT_EQ(context_field_name(kTc, sizeof(struct __sk_buff)), "");
    EXPECT_EQ(context_field_name(kTc, -1), "");
}

TEST(ContextLayouts, OtherFieldNames) {
    EXPECT_EQ(context_field_name(ProgramType::Xdp, offsetof(struct xdp_md, data_end)), "data_end");
    EXPECT_EQ(context_field_name(ProgramType::Xdp, offsetof(struct xdp_md, egress_ifindex) + 3), "egress_ifindex");
    EXPECT_EQ(context_field_name(ProgramType::Xdp, sizeof(struct xdp_md)), "");
    // x86-64 pt_regs, kernel names (arch/x86/include/asm/ptrace.h).
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 0), "r15");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 80), "ax");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 104), "si");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 112), "di");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 119), "di");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 120), "orig_ax");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 128), "ip");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 152), "sp");
    EXPECT_EQ(context_field_name(ProgramType::Kprobe, 168), "");
    EXPECT_EQ(context_field_name(ProgramType::PerfEvent, 112), "regs.di");
    EXPECT_EQ(context_field_name(ProgramType::PerfEvent, offsetof(struct bpf_perf_event_data, sample_period)),
              "sample_period");
    EXPECT_EQ(context_field_name(ProgramType::PerfEvent, offsetof(struct bpf_perf_event_data, addr) + 7), "addr");
    EXPECT_EQ(context_field_name(ProgramType::Tracepoint, 4), "common_pid");
    EXPECT_EQ(context_field_name(ProgramType::Tracepoint, 0), "common_type");
    EXPECT_EQ(context_field_name(ProgramType::Tracepoint, 8), "");
    EXPECT_EQ(context_field_name(ProgramType::RawTracepoint, 8), "args[1]");
    EXPECT_EQ(context_field_name(ProgramType::Tracing, 95), "args[11]");
    EXPECT_EQ(context_field_name(ProgramType::Lsm, 96), "");
    EXPECT_EQ(context_field_name(ProgramType::CgroupSock, 0), "");
}

}  // namespace
}  // namespace xbpf::verifier
