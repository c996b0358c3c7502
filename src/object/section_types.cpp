// Section name -> program type, expected attach type and attach target, following libbpf's section_defs table
// (libbpf.c, v1.x). Matching: an entry "kprobe+" matches "kprobe" and "kprobe/<target>"; an entry without '+'
// matches the name exactly and, as pre-1.0 libbpf and iproute2 did, also "<name>/<anything>" (e.g. "xdp/foo",
// "classifier/ingress"), the remainder becoming the attach target. The first matching entry wins, so the more
// specific names ("xdp/devmap", "cgroup/sock_create") come before their prefixes.
#include <array>

#include "object/object_spec.hpp"

namespace xbpf::object {

namespace {

struct SectionDef {
    std::string_view prefix;
    bool takes_target;  // libbpf's '+': the attach target follows after '/'
    ProgramType type;
    AttachType attach;
    std::uint32_t flags;
};

using P = ProgramType;
using A = AttachType;
constexpr std::uint32_t kSleep = kProgFlagSleepable;
constexpr std::uint32_t kFrags = kProgFlagXdpHasFrags;

constexpr std::array kSectionDefs = {
    SectionDef{"socket", false, P::SocketFilter, A::None, 0},
    SectionDef{"sk_reuseport/migrate", false, P::SkReuseport, A::SkReuseportSelectOrMigrate, 0},
    SectionDef{"sk_reuseport", false, P::SkReuseport, A::SkReuseportSelect, 0},
    SectionDef{"kprobe.multi", true, P::Kprobe, A::TraceKprobeMulti, 0},
    SectionDef{"kretprobe.multi", true, P::Kprobe, A::TraceKprobeMulti, 0},
    SectionDef{"kprobe", true, P::Kprobe, A::None, 0},
    SectionDef{"uprobe.s", true, P::Kprobe, A::None, kSleep},
    SectionDef{"uprobe", true, P::Kprobe, A::None, 0},
    SectionDef{"kretprobe", true, P::Kprobe, A::None, 0},
    SectionDef{"uretprobe.s", true, P::Kprobe, A::None, kSleep},
    SectionDef{"uretprobe", true, P::Kprobe, A::None, 0},
    SectionDef{"ksyscall", true, P::Kprobe, A::None, 0},
    SectionDef{"kretsyscall", true, P::Kprobe, A::None, 0},
    SectionDef{"usdt", true, P::Kprobe, A::None, 0},
    SectionDef{"tc", false, P::SchedCls, A::None, 0},
    SectionDef{"classifier", false, P::SchedCls, A::None, 0},
    SectionDef{"action", false, P::SchedAct, A::None, 0},
    SectionDef{"tracepoint", true, P::Tracepoint, A::None, 0},
    SectionDef{"tp_btf", true, P::Tracing, A::TraceRawTp, 0},
    SectionDef{"tp", true, P::Tracepoint, A::None, 0},
    SectionDef{"raw_tracepoint.w", true, P::RawTracepointWritable, A::None, 0},
    SectionDef{"raw_tp.w", true, P::RawTracepointWritable, A::None, 0},
    SectionDef{"raw_tracepoint", true, P::RawTracepoint, A::None, 0},
    SectionDef{"raw_tp", true, P::RawTracepoint, A::None, 0},
    SectionDef{"fentry.s", true, P::Tracing, A::TraceFentry, kSleep},
    SectionDef{"fmod_ret.s", true, P::Tracing, A::ModifyReturn, kSleep},
    SectionDef{"fexit.s", true, P::Tracing, A::TraceFexit, kSleep},
    SectionDef{"fentry", true, P::Tracing, A::TraceFentry, 0},
    SectionDef{"fmod_ret", true, P::Tracing, A::ModifyReturn, 0},
    SectionDef{"fexit", true, P::Tracing, A::TraceFexit, 0},
    SectionDef{"freplace", true, P::Ext, A::None, 0},
    SectionDef{"lsm.s", true, P::Lsm, A::LsmMac, kSleep},
    SectionDef{"lsm_cgroup", true, P::Lsm, A::LsmCgroup, 0},
    SectionDef{"lsm", true, P::Lsm, A::LsmMac, 0},
    SectionDef{"iter.s", true, P::Tracing, A::TraceIter, kSleep},
    SectionDef{"iter", true, P::Tracing, A::TraceIter, 0},
    SectionDef{"syscall", false, P::Syscall, A::None, kSleep},
    SectionDef{"xdp.frags/devmap", false, P::Xdp, A::XdpDevmap, kFrags},
    SectionDef{"xdp/devmap", false, P::Xdp, A::XdpDevmap, 0},
    SectionDef{"xdp.frags/cpumap", false, P::Xdp, A::XdpCpumap, kFrags},
    SectionDef{"xdp/cpumap", false, P::Xdp, A::XdpCpumap, 0},
    SectionDef{"xdp.frags", false, P::Xdp, A::Xdp, kFrags},
    SectionDef{"xdp", false, P::Xdp, A::Xdp, 0},
    SectionDef{"perf_event", false, P::PerfEvent, A::None, 0},
    SectionDef{"lwt_in", false, P::LwtIn, A::None, 0},
    SectionDef{"lwt_out", false, P::LwtOut, A::None, 0},
    SectionDef{"lwt_xmit", false, P::LwtXmit, A::None, 0},
    SectionDef{"lwt_seg6local", false, P::LwtSeg6local, A::None, 0},
    SectionDef{"sockops", false, P::SockOps, A::CgroupSockOps, 0},
    SectionDef{"sk_skb/stream_parser", false, P::SkSkb, A::SkSkbStreamParser, 0},
    SectionDef{"sk_skb/stream_verdict", false, P::SkSkb, A::SkSkbStreamVerdict, 0},
    SectionDef{"sk_skb", false, P::SkSkb, A::None, 0},
    SectionDef{"sk_msg", false, P::SkMsg, A::SkMsgVerdict, 0},
    SectionDef{"lirc_mode2", false, P::LircMode2, A::LircMode2, 0},
    SectionDef{"flow_dissector", false, P::FlowDissector, A::FlowDissector, 0},
    SectionDef{"cgroup_skb/ingress", false, P::CgroupSkb, A::CgroupInetIngress, 0},
    SectionDef{"cgroup_skb/egress", false, P::CgroupSkb, A::CgroupInetEgress, 0},
    SectionDef{"cgroup/skb", false, P::CgroupSkb, A::None, 0},
    SectionDef{"cgroup/sock_create", false, P::CgroupSock, A::CgroupInetSockCreate, 0},
    SectionDef{"cgroup/sock_release", false, P::CgroupSock, A::CgroupInetSockRelease, 0},
    SectionDef{"cgroup/sock", false, P::CgroupSock, A::CgroupInetSockCreate, 0},
    SectionDef{"cgroup/post_bind4", false, P::CgroupSock, A::CgroupInet4PostBind, 0},
    SectionDef{"cgroup/post_bind6", false, P::CgroupSock, A::CgroupInet6PostBind, 0},
    SectionDef{"cgroup/bind4", false, P::CgroupSockAddr, A::CgroupInet4Bind, 0},
    SectionDef{"cgroup/bind6", false, P::CgroupSockAddr, A::CgroupInet6Bind, 0},
    SectionDef{"cgroup/connect4", false, P::CgroupSockAddr, A::CgroupInet4Connect, 0},
    SectionDef{"cgroup/connect6", false, P::CgroupSockAddr, A::CgroupInet6Connect, 0},
    SectionDef{"cgroup/sendmsg4", false, P::CgroupSockAddr, A::CgroupUdp4Sendmsg, 0},
    SectionDef{"cgroup/sendmsg6", false, P::CgroupSockAddr, A::CgroupUdp6Sendmsg, 0},
    SectionDef{"cgroup/recvmsg4", false, P::CgroupSockAddr, A::CgroupUdp4Recvmsg, 0},
    SectionDef{"cgroup/recvmsg6", false, P::CgroupSockAddr, A::CgroupUdp6Recvmsg, 0},
    SectionDef{"cgroup/getpeername4", false, P::CgroupSockAddr, A::CgroupInet4Getpeername, 0},
    SectionDef{"cgroup/getpeername6", false, P::CgroupSockAddr, A::CgroupInet6Getpeername, 0},
    SectionDef{"cgroup/getsockname4", false, P::CgroupSockAddr, A::CgroupInet4Getsockname, 0},
    SectionDef{"cgroup/getsockname6", false, P::CgroupSockAddr, A::CgroupInet6Getsockname, 0},
    SectionDef{"cgroup/sysctl", false, P::CgroupSysctl, A::CgroupSysctl, 0},
    SectionDef{"cgroup/getsockopt", false, P::CgroupSockopt, A::CgroupGetsockopt, 0},
    SectionDef{"cgroup/setsockopt", false, P::CgroupSockopt, A::CgroupSetsockopt, 0},
    SectionDef{"cgroup/dev", false, P::CgroupDevice, A::CgroupDevice, 0},
    SectionDef{"struct_ops.s", true, P::StructOps, A::None, kSleep},
    SectionDef{"struct_ops", true, P::StructOps, A::None, 0},
    SectionDef{"sk_lookup", false, P::SkLookup, A::SkLookup, 0},
    SectionDef{"netfilter", false, P::Netfilter, A::None, 0},
};

}  // namespace

SectionInfo classify_section(std::string_view section) {
    SectionInfo info;
    for (const SectionDef& def : kSectionDefs) {
        if (!section.starts_with(def.prefix)) continue;
        const std::string_view rest = section.substr(def.prefix.size());
        if (!rest.empty() && rest.front() != '/') continue;  // "tpx" is not "tp"
        info.type = def.type;
        info.expected_attach_type = def.attach;
        info.prog_flags = def.flags;
        info.known = true;
        if (!rest.empty()) info.attach_target = std::string(rest.substr(1));
        return info;
    }
    return info;
}

std::string_view program_type_name(ProgramType type) {
    switch (type) {
        case ProgramType::Unspec: return "unspec";
        case ProgramType::SocketFilter: return "socket_filter";
        case ProgramType::Kprobe: return "kprobe";
        case ProgramType::SchedCls: return "sched_cls";
        case ProgramType::SchedAct: return "sched_act";
        case ProgramType::Tracepoint: return "tracepoint";
        case ProgramType::Xdp: return "xdp";
        case ProgramType::PerfEvent: return "perf_event";
        case ProgramType::CgroupSkb: return "cgroup_skb";
        case ProgramType::CgroupSock: return "cgroup_sock";
        case ProgramType::LwtIn: return "lwt_in";
        case ProgramType::LwtOut: return "lwt_out";
        case ProgramType::LwtXmit: return "lwt_xmit";
        case ProgramType::SockOps: return "sock_ops";
        case ProgramType::SkSkb: return "sk_skb";
        case ProgramType::CgroupDevice: return "cgroup_device";
        case ProgramType::SkMsg: return "sk_msg";
        case ProgramType::RawTracepoint: return "raw_tracepoint";
        case ProgramType::CgroupSockAddr: return "cgroup_sock_addr";
        case ProgramType::LwtSeg6local: return "lwt_seg6local";
        case ProgramType::LircMode2: return "lirc_mode2";
        case ProgramType::SkReuseport: return "sk_reuseport";
        case ProgramType::FlowDissector: return "flow_dissector";
        case ProgramType::CgroupSysctl: return "cgroup_sysctl";
        case ProgramType::RawTracepointWritable: return "raw_tracepoint_writable";
        case ProgramType::CgroupSockopt: return "cgroup_sockopt";
        case ProgramType::Tracing: return "tracing";
        case ProgramType::StructOps: return "struct_ops";
        case ProgramType::Ext: return "ext";
        case ProgramType::Lsm: return "lsm";
        case ProgramType::SkLookup: return "sk_lookup";
        case ProgramType::Syscall: return "syscall";
        case ProgramType::Netfilter: return "netfilter";
    }
    return "unknown";
}

std::optional<ProgramType> program_type_from_name(std::string_view name) {
    for (std::uint32_t t = 0; t <= static_cast<std::uint32_t>(ProgramType::Netfilter); ++t) {
        auto type = static_cast<ProgramType>(t);
        if (program_type_name(type) == name) return type;
    }
    return std::nullopt;
}

std::string_view core_reloc_kind_name(CoreRelocKind kind) {
    switch (kind) {
        case CoreRelocKind::FieldByteOffset: return "byte_off";
        case CoreRelocKind::FieldByteSize: return "byte_sz";
        case CoreRelocKind::FieldExists: return "field_exists";
        case CoreRelocKind::FieldSigned: return "signed";
        case CoreRelocKind::FieldLshiftU64: return "lshift_u64";
        case CoreRelocKind::FieldRshiftU64: return "rshift_u64";
        case CoreRelocKind::TypeIdLocal: return "local_type_id";
        case CoreRelocKind::TypeIdTarget: return "target_type_id";
        case CoreRelocKind::TypeExists: return "type_exists";
        case CoreRelocKind::TypeSize: return "type_size";
        case CoreRelocKind::EnumvalExists: return "enumval_exists";
        case CoreRelocKind::EnumvalValue: return "enumval_value";
        case CoreRelocKind::TypeMatches: return "type_matches";
    }
    return "unknown";
}

}  // namespace xbpf::object
