// What a program's context (r1 at entry) is, per program type: its size and which fields may be read or written
// with which sizes, and what a load gives (a scalar, or a packet pointer). The kernel's per-type
// `is_valid_access` callbacks (net/core/filter.c: sk_filter_is_valid_access, tc_cls_act_is_valid_access,
// xdp_is_valid_access; kernel/trace/bpf_trace.c: kprobe_prog_is_valid_access, tp_prog_is_valid_access,
// raw_tp_prog_is_valid_access, pe_prog_is_valid_access, tracing_prog_is_valid_access), for the x86-64 layouts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "object/object_spec.hpp"

namespace xbpf::verifier {

/// What a load from a context field gives.
enum class CtxFieldType : std::uint8_t {
    Scalar,       ///< a number
    PacketStart,  ///< PTR_TO_PACKET (xdp_md.data, __sk_buff.data)
    PacketEnd,    ///< PTR_TO_PACKET_END (xdp_md.data_end, __sk_buff.data_end)
    PacketMeta,   ///< PTR_TO_PACKET_META (xdp_md.data_meta, __sk_buff.data_meta)
};

/// A program type's context.
struct ContextLayout {
    std::string_view struct_name;  ///< "xdp_md", "__sk_buff", "pt_regs", ... ("" when the type has no context)
    std::uint32_t size = 0;        ///< bytes the program may address (for tracepoints: the largest record)
    bool has_packet = false;       ///< data/data_end fields give packet pointers (direct packet access)
};

/// The context of `type` (attach type matters for a few, e.g. cgroup_skb vs sched_cls share __sk_buff but
/// allow different fields).
ContextLayout context_layout(object::ProgramType type, object::AttachType attach = object::AttachType::None);

/// Check a `size`-byte load (`is_write` false) or store at byte offset `off` of the context. On success, what a
/// load gives (stores give Scalar). Failure: ErrorCode::kVerify with the kernel's message
/// "invalid bpf_context access off=<off> size=<size>" followed by a plain reason, e.g.
/// "(xdp_md.data is read-only)" or "(__sk_buff.data must be read with a 4-byte load)".
Result<CtxFieldType> check_context_access(object::ProgramType type, object::AttachType attach, std::int64_t off,
                                          int size, bool is_write);

/// The field at byte `off` as source code would name it ("data_end", "cb[2]", "args[1]", "di"), or "" if none.
std::string context_field_name(object::ProgramType type, std::int64_t off);

}  // namespace xbpf::verifier
