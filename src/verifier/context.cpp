// Dispatch of the context checks by program type, the shared reasons, and the types without rules (unspec has no
// context; the others are not supported yet). The per-family rules are in context_net.cpp and context_trace.cpp.
#include "verifier/context.hpp"

#include <fmt/format.h>

#include "verifier/context_rules.hpp"

namespace xbpf::verifier {
namespace {

using object::ProgramType;

/// Which rules a program type's context follows.
enum class Family : std::uint8_t {
    None,           ///< no context at all (unspec: xbpf's raw memory programs)
    Skb,            ///< __sk_buff (socket_filter, tc, cgroup_skb, lwt, sk_skb)
    Xdp,            ///< xdp_md
    Kprobe,         ///< pt_regs
    Tracepoint,     ///< the tracepoint's record
    PerfEvent,      ///< bpf_perf_event_data
    RawTp,          ///< u64 args[12]
    RawTpWritable,  ///< u64 args[12], args[0] the writable buffer
    BtfArgs,        ///< u64 args[12] typed by BTF (fentry, fexit, tp_btf, lsm, iter)
    Unsupported,    ///< a context xbpf has no rules for yet
};

/// The family of every program type; a new ProgramType does not compile here (-Wswitch) until it is placed.
Family family_of(ProgramType type) {
    switch (type) {
        case ProgramType::Unspec: return Family::None;
        case ProgramType::SocketFilter:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct:
        case ProgramType::CgroupSkb:
        case ProgramType::LwtIn:
        case ProgramType::LwtOut:
        case ProgramType::LwtXmit:
        case ProgramType::LwtSeg6local:
        case ProgramType::SkSkb: return Family::Skb;
        case ProgramType::Xdp: return Family::Xdp;
        case ProgramType::Kprobe: return Family::Kprobe;
        case ProgramType::Tracepoint: return Family::Tracepoint;
        case ProgramType::PerfEvent: return Family::PerfEvent;
        case ProgramType::RawTracepoint: return Family::RawTp;
        case ProgramType::RawTracepointWritable: return Family::RawTpWritable;
        case ProgramType::Tracing:
        case ProgramType::Lsm: return Family::BtfArgs;
        case ProgramType::CgroupSock:
        case ProgramType::SockOps:
        case ProgramType::CgroupDevice:
        case ProgramType::SkMsg:
        case ProgramType::CgroupSockAddr:
        case ProgramType::LircMode2:
        case ProgramType::SkReuseport:
        case ProgramType::FlowDissector:
        case ProgramType::CgroupSysctl:
        case ProgramType::CgroupSockopt:
        case ProgramType::StructOps:
        case ProgramType::Ext:
        case ProgramType::SkLookup:
        case ProgramType::Syscall:
        case ProgramType::Netfilter: return Family::Unsupported;
    }
    return Family::Unsupported;  // a value outside the enum (a bad cast)
}

}  // namespace

namespace detail {

std::string before_start(std::string_view what, std::int64_t off) {
    return fmt::format("offset {} is before the start of {}", off, what);
}

std::string past_end(std::string_view what, std::int64_t off, std::uint32_t size) {
    return fmt::format("offset {} is past the end of {}, {} bytes", off, what, size);
}

std::string misaligned(std::string_view field, std::int64_t off, int size) {
    return fmt::format("{}: offset {} is not a multiple of the {}-byte access size", field, off, size);
}

std::string needs_size(std::string_view field, int size, bool is_write) {
    if (is_write) return fmt::format("{} must be written with {} {}-byte store", field, size == 8 ? "an" : "a", size);
    return fmt::format("{} must be read with {} {}-byte load", field, size == 8 ? "an" : "a", size);
}

}  // namespace detail

ContextLayout context_layout(ProgramType type, object::AttachType /*attach*/) {
    switch (family_of(type)) {
        case Family::None: return {};
        case Family::Skb: return {"__sk_buff", detail::kSkBuffSize, detail::skb_has_packet(type)};
        case Family::Xdp: return {"xdp_md", detail::kXdpMdSize, true};
        case Family::Kprobe: return {"pt_regs", detail::kPtRegsSize, false};
        case Family::Tracepoint: return {"trace_entry", detail::kMaxTraceSize, false};
        case Family::PerfEvent: return {"bpf_perf_event_data", detail::kPerfEventDataSize, false};
        case Family::RawTp:
        case Family::RawTpWritable: return {"bpf_raw_tracepoint_args", detail::kArgsSize, false};
        case Family::BtfArgs: return {"args", detail::kArgsSize, false};
        case Family::Unsupported: return {};
    }
    return {};
}

Result<CtxFieldType> check_context_access(ProgramType type, object::AttachType attach, std::int64_t off, int size,
                                          bool is_write) {
    const Family family = family_of(type);
    if (family == Family::Unsupported)
        return make_error(
            ErrorCode::kUnsupported,
            fmt::format("program type {}: context access is not supported by xbpf", object::program_type_name(type)));
    const auto fail = [&](std::string_view reason) {
        return make_error(ErrorCode::kVerify,
                          fmt::format("invalid bpf_context access off={} size={} ({})", off, size, reason));
    };
    if (size != 1 && size != 2 && size != 4 && size != 8) return fail("an access is 1, 2, 4 or 8 bytes");

    const detail::CtxAccess a{off, size, is_write};
    detail::CtxVerdict v;
    switch (family) {
        case Family::None: v = std::unexpected(std::string("unspec programs have no context")); break;
        case Family::Skb: v = detail::check_skb_access(type, a); break;
        case Family::Xdp: v = detail::check_xdp_access(attach, a); break;
        case Family::Kprobe: v = detail::check_kprobe_access(a); break;
        case Family::Tracepoint: v = detail::check_tracepoint_access(a); break;
        case Family::PerfEvent: v = detail::check_perf_event_access(a); break;
        case Family::RawTp: v = detail::check_raw_tracepoint_access(a, false); break;
        case Family::RawTpWritable: v = detail::check_raw_tracepoint_access(a, true); break;
        case Family::BtfArgs: v = detail::check_btf_args_access(a); break;
        case Family::Unsupported: break;  // answered above
    }
    if (!v) return fail(v.error());
    return *v;
}

std::string context_field_name(ProgramType type, std::int64_t off) {
    switch (family_of(type)) {
        case Family::None: return "";
        case Family::Skb: return detail::skb_field_name(off);
        case Family::Xdp: return detail::xdp_field_name(off);
        case Family::Kprobe: return detail::pt_regs_field_name(off);
        case Family::Tracepoint: return detail::tracepoint_field_name(off);
        case Family::PerfEvent: return detail::perf_event_field_name(off);
        case Family::RawTp:
        case Family::RawTpWritable:
        case Family::BtfArgs: return detail::args_field_name(off);
        case Family::Unsupported: return "";
    }
    return "";
}

}  // namespace xbpf::verifier
