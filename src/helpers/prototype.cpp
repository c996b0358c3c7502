#include "helpers/prototype.hpp"

#include <algorithm>

namespace xbpf::helpers {
namespace {

// Shorthands for the table; the names follow the kernel's ARG_* spelling.
constexpr Arg kAnything{ArgType::Anything};
constexpr Arg kMap{ArgType::ConstMapPtr};
constexpr Arg kKey{ArgType::PtrToMapKey};
constexpr Arg kValue{ArgType::PtrToMapValue};
constexpr Arg kValueUninit{ArgType::PtrToMapValue, kUninit};
constexpr Arg kCtx{ArgType::PtrToCtx};
constexpr Arg kMemRead{ArgType::PtrToMem, kRdonly};
constexpr Arg kMemReadOrNull{ArgType::PtrToMem, kRdonly | kMaybeNull};
constexpr Arg kMemWrite{ArgType::PtrToMem, kUninit};
constexpr Arg kMemWriteOrNull{ArgType::PtrToMem, kUninit | kMaybeNull};
constexpr Arg kSize{ArgType::ConstSize};
constexpr Arg kSizeOrZero{ArgType::ConstSizeOrZero};
constexpr Arg kAllocSize{ArgType::ConstAllocSizeOrZero};
constexpr Arg kAllocMemRelease{ArgType::PtrToAllocMem, kRelease};
constexpr Arg kFunc{ArgType::PtrToFunc};
constexpr Arg kStackOrNull{ArgType::PtrToStack, kMaybeNull};
constexpr Arg kConstStr{ArgType::PtrToConstStr};
constexpr Arg kSpinLock{ArgType::PtrToSpinLock};
constexpr Arg kLong{ArgType::PtrToLong};

using R = RetType;

// Sorted by id. Sources: the kernel's bpf_*_proto definitions (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c,
// net/core/filter.c, kernel/bpf/ringbuf.c, kernel/bpf/stackmap.c, kernel/bpf/bpf_iter.c).
constexpr Prototype kPrototypes[] = {
    {1, "map_lookup_elem", R::PtrToMapValueOrNull, {kMap, kKey}, false, true},
    {2, "map_update_elem", R::Integer, {kMap, kKey, kValue, kAnything}, false, true},
    {3, "map_delete_elem", R::Integer, {kMap, kKey}, false, true},
    {4, "probe_read", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {5, "ktime_get_ns", R::Integer, {}, false, false},
    {6, "trace_printk", R::Integer, {kMemRead, kSize, kAnything, kAnything, kAnything}, true, false},
    {7, "get_prandom_u32", R::Integer, {}, false, false},
    {8, "get_smp_processor_id", R::Integer, {}, false, false},
    {12, "tail_call", R::Void, {kCtx, kMap, kAnything}, false, false},
    {14, "get_current_pid_tgid", R::Integer, {}, false, false},
    {15, "get_current_uid_gid", R::Integer, {}, false, false},
    {16, "get_current_comm", R::Integer, {kMemWrite, kSize}, false, false},
    {25, "perf_event_output", R::Integer, {kCtx, kMap, kAnything, kMemRead, kSizeOrZero}, true, false},
    {26, "skb_load_bytes", R::Integer, {kCtx, kAnything, kMemWrite, kSize}, false, false},
    {27, "get_stackid", R::Integer, {kCtx, kMap, kAnything}, true, false},
    {28, "csum_diff", R::Integer, {kMemReadOrNull, kSizeOrZero, kMemReadOrNull, kSizeOrZero, kAnything}, false, true},
    {35, "get_current_task", R::Integer, {}, true, false},
    // Known to the verifier only: it needs a cgroup_array map, which xbpf cannot create (no cgroups in user space).
    {37, "current_task_under_cgroup", R::Integer, {kMap, kAnything}, false, false},
    {42, "get_numa_node_id", R::Integer, {}, false, false},
    {44, "xdp_adjust_head", R::Integer, {kCtx, kAnything}, false, false},
    {45, "probe_read_str", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {65, "xdp_adjust_tail", R::Integer, {kCtx, kAnything}, false, false},
    {67, "get_stack", R::Integer, {kCtx, kMemWrite, kSizeOrZero, kAnything}, true, false},
    {80, "get_current_cgroup_id", R::Integer, {}, false, false},
    {87, "map_push_elem", R::Integer, {kMap, kValue, kAnything}, false, true},
    {88, "map_pop_elem", R::Integer, {kMap, kValueUninit}, false, false},
    {89, "map_peek_elem", R::Integer, {kMap, kValueUninit}, false, false},
    {93, "spin_lock", R::Void, {kSpinLock}, false, false},
    {94, "spin_unlock", R::Void, {kSpinLock}, false, false},
    {105, "strtol", R::Integer, {kMemRead, kSize, kAnything, kLong}, false, false},
    {106, "strtoul", R::Integer, {kMemRead, kSize, kAnything, kLong}, false, false},
    {112, "probe_read_user", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {113, "probe_read_kernel", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {114, "probe_read_user_str", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {115, "probe_read_kernel_str", R::Integer, {kMemWrite, kSizeOrZero, kAnything}, true, false},
    {118, "jiffies64", R::Integer, {}, false, false},
    {125, "ktime_get_boot_ns", R::Integer, {}, false, false},
    {130, "ringbuf_output", R::Integer, {kMap, kMemRead, kSizeOrZero, kAnything}, false, false},
    {131, "ringbuf_reserve", R::PtrToAllocMemOrNull, {kMap, kAllocSize, kAnything}, false, false},
    {132, "ringbuf_submit", R::Void, {kAllocMemRelease, kAnything}, false, false},
    {133, "ringbuf_discard", R::Void, {kAllocMemRelease, kAnything}, false, false},
    {134, "ringbuf_query", R::Integer, {kMap, kAnything}, false, false},
    {160, "ktime_get_coarse_ns", R::Integer, {}, false, false},
    {164, "for_each_map_elem", R::Integer, {kMap, kFunc, kStackOrNull, kAnything}, false, false},
    {165, "snprintf", R::Integer, {kMemWriteOrNull, kSizeOrZero, kConstStr, kMemReadOrNull, kSizeOrZero}, true, false},
    {177, "trace_vprintk", R::Integer, {kMemRead, kSize, kMemReadOrNull, kSizeOrZero}, true, false},
    {181, "loop", R::Integer, {kAnything, kFunc, kStackOrNull, kAnything}, false, false},
    {182, "strncmp", R::Integer, {kMemRead, kSize, kConstStr}, false, false},
    {195, "map_lookup_percpu_elem", R::PtrToMapValueOrNull, {kMap, kKey, kAnything}, false, false},
    {208, "ktime_get_tai_ns", R::Integer, {}, false, false},
};

constexpr bool sorted_by_id() {
    for (std::size_t i = 1; i < std::size(kPrototypes); ++i)
        if (kPrototypes[i - 1].id >= kPrototypes[i].id) return false;
    return true;
}
static_assert(sorted_by_id(), "kPrototypes must be sorted by id");

}  // namespace

std::optional<Prototype> prototype(std::int32_t id) {
    const auto* end = std::end(kPrototypes);
    const auto* it =
        std::lower_bound(std::begin(kPrototypes), end, id, [](const Prototype& p, std::int32_t i) { return p.id < i; });
    if (it == end || it->id != id) return std::nullopt;
    return *it;
}

std::span<const Prototype> all_prototypes() { return kPrototypes; }

namespace {

constexpr std::uint64_t type_bit(std::uint32_t t) { return std::uint64_t{1} << t; }
// Families of program types with the same helper set (enum bpf_prog_type numbers).
// sk_filter_func_proto (socket_filter 1), cg_skb_func_proto (cgroup_skb 8), sk_skb_func_proto (sk_skb 14).
constexpr std::uint64_t kSkbReadOnly = type_bit(1) | type_bit(8) | type_bit(14);
// tc_cls_act_func_proto (sched_cls 3, sched_act 4), lwt_*_func_proto (lwt_in 10, lwt_out 11, lwt_xmit 12,
// lwt_seg6local 19).
constexpr std::uint64_t kTcLwt = type_bit(3) | type_bit(4) | type_bit(10) | type_bit(11) | type_bit(12) | type_bit(19);
// xdp_func_proto (xdp 6).
constexpr std::uint64_t kXdp = type_bit(6);
constexpr std::uint64_t kNet = kSkbReadOnly | kTcLwt | kXdp;
// bpf_tracing_func_proto users: kprobe 2, tracepoint 5, perf_event 7, raw_tracepoint 17, raw_tracepoint_writable
// 24, tracing 26 (tracing_prog_func_proto), lsm 29 (bpf_lsm_func_proto falls back to tracing_prog_func_proto).
constexpr std::uint64_t kTrace =
    type_bit(2) | type_bit(5) | type_bit(7) | type_bit(17) | type_bit(24) | type_bit(26) | type_bit(29);
constexpr std::uint64_t kKnownTypes = kNet | kTrace;

/// The program types offered helper `id`, and whether the network types need CAP_PERFMON for it.
struct Offer {
    std::uint64_t types = kKnownTypes;
    bool perfmon = false;
};

constexpr Offer offer(std::int32_t id) {
    switch (id) {
        case 4:   // probe_read
        case 45:  // probe_read_str
        case 27:  // get_stackid
        case 67:  // get_stack
            return {kTrace, false};
        case 26: return {kSkbReadOnly | kTcLwt, false};  // skb_load_bytes
        case 28: return {kTcLwt | kXdp, false};          // csum_diff
        case 44:                                         // xdp_adjust_head
        case 65:                                         // xdp_adjust_tail
            return {kXdp, false};
        case 160:
            return {kNet, false};  // ktime_get_coarse_ns: bpf_tracing_func_proto refuses it
        // bpf_base_func_proto offers these only when the loader is perfmon_capable().
        case 6:    // trace_printk
        case 16:   // get_current_comm
        case 35:   // get_current_task
        case 112:  // probe_read_user
        case 113:  // probe_read_kernel
        case 114:  // probe_read_user_str
        case 115:  // probe_read_kernel_str
        case 165:  // snprintf
        case 177:  // trace_vprintk
            return {kKnownTypes, true};
        default: return {};
    }
}

}  // namespace

bool availability_known(std::uint32_t prog_type) { return prog_type < 64 && (kKnownTypes & type_bit(prog_type)) != 0; }

bool offered_to(std::int32_t id, std::uint32_t prog_type, bool perfmon) {
    if (!availability_known(prog_type)) return true;
    const Offer o = offer(id);
    if ((o.types & type_bit(prog_type)) == 0) return false;
    if (o.perfmon && !perfmon && (kTrace & type_bit(prog_type)) == 0) return false;
    return true;
}

int arg_count(const Prototype& proto) {
    int n = 0;
    while (n < 5 && proto.args[static_cast<std::size_t>(n)].type != ArgType::DontCare) ++n;
    return n;
}

}  // namespace xbpf::helpers
