// Internal to the context checks (context.cpp dispatches, context_net.cpp and context_trace.cpp hold the per-family
// rules). Not part of the verifier's interface: include verifier/context.hpp instead.
//
// Every rule answers with a verdict: the field type on success, or the reason the access is invalid, as the plain
// text that goes inside the parentheses of "invalid bpf_context access off=<off> size=<size> (<reason>)". The accept
// or reject decision follows the kernel exactly (tests/unit/verifier/context_test.cpp compares it with the running
// kernel); the order in which the reasons are tried is chosen for the clearest message, which the kernel does not
// give.
#pragma once

#include <cstdint>
#include <expected>
#include <string>
#include <string_view>

#include "object/object_spec.hpp"
#include "verifier/context.hpp"

namespace xbpf::verifier::detail {

/// One context access as the per-family rules see it. `size` is 1, 2, 4 or 8 (context.cpp checks it first).
struct CtxAccess {
    std::int64_t off = 0;
    int size = 0;
    bool is_write = false;
};

/// A rule's answer: what a load gives, or why the access is invalid (the text inside the parentheses).
using CtxVerdict = std::expected<CtxFieldType, std::string>;

// ---- bytes the program may address (x86-64 layouts of include/uapi/linux/bpf.h and arch/x86 pt_regs) ----

/// sizeof(struct __sk_buff).
inline constexpr std::uint32_t kSkBuffSize = 192;
/// sizeof(struct xdp_md).
inline constexpr std::uint32_t kXdpMdSize = 24;
/// sizeof(struct pt_regs) on x86-64: 21 eight-byte registers.
inline constexpr std::uint32_t kPtRegsSize = 168;
/// sizeof(struct bpf_perf_event_data): pt_regs, sample_period, addr.
inline constexpr std::uint32_t kPerfEventDataSize = 184;
/// PERF_MAX_TRACE_SIZE (include/linux/trace_events.h): the largest tracepoint record a program may read. 8192 in
/// current kernels (checked against 6.18); older kernels had 2048 and refuse reads past it.
inline constexpr std::uint32_t kMaxTraceSize = 8192;
/// MAX_BPF_FUNC_ARGS u64 arguments: raw tracepoints and BTF-typed (fentry/fexit/tp_btf/lsm/iter) programs.
inline constexpr std::uint32_t kMaxFuncArgs = 12;
/// Bytes of the argument array of raw tracepoint and BTF-typed programs.
inline constexpr std::uint32_t kArgsSize = kMaxFuncArgs * 8;

// ---- reasons shared by the families (context.cpp) ----

/// "offset -8 is before the start of <what>".
std::string before_start(std::string_view what, std::int64_t off);
/// "offset 176 is past the end of <what>, 168 bytes".
std::string past_end(std::string_view what, std::int64_t off, std::uint32_t size);
/// "<field>: offset 9 is not a multiple of the 2-byte access size".
std::string misaligned(std::string_view field, std::int64_t off, int size);
/// "<field> must be read with a 4-byte load" (or "written with a 4-byte store").
std::string needs_size(std::string_view field, int size, bool is_write);

// ---- __sk_buff and xdp_md (context_net.cpp) ----

/// True when `type` (an skb type) may read __sk_buff.data/data_end as packet pointers.
bool skb_has_packet(object::ProgramType type);
/// The __sk_buff rules of `type` (an skb type): sk_filter_is_valid_access, tc_cls_act_is_valid_access,
/// cg_skb_is_valid_access, lwt_is_valid_access, sk_skb_is_valid_access, each over bpf_skb_is_valid_access.
CtxVerdict check_skb_access(object::ProgramType type, const CtxAccess& a);
/// The __sk_buff field at byte `off` ("cb[2]", "data_end"), or "".
std::string skb_field_name(std::int64_t off);

/// xdp_is_valid_access. `attach` matters: only BPF_XDP_DEVMAP programs see egress_ifindex.
CtxVerdict check_xdp_access(object::AttachType attach, const CtxAccess& a);
/// The xdp_md field at byte `off`, or "".
std::string xdp_field_name(std::int64_t off);

// ---- tracing families (context_trace.cpp) ----

/// kprobe_prog_is_valid_access: struct pt_regs, read-only, any aligned size.
CtxVerdict check_kprobe_access(const CtxAccess& a);
/// The x86-64 kernel name of the pt_regs register at byte `off` ("di", "ip"), or "".
std::string pt_regs_field_name(std::int64_t off);

/// tp_prog_is_valid_access: the raw tracepoint record past its 8 common bytes, read-only, aligned.
CtxVerdict check_tracepoint_access(const CtxAccess& a);
/// The common trace_entry field at byte `off` ("common_pid"), or "" (the rest depends on the tracepoint).
std::string tracepoint_field_name(std::int64_t off);

/// pe_prog_is_valid_access: struct bpf_perf_event_data, read-only; registers 8 bytes, the two u64s narrow too.
CtxVerdict check_perf_event_access(const CtxAccess& a);
/// The bpf_perf_event_data field at byte `off` ("regs.di", "sample_period"), or "".
std::string perf_event_field_name(std::int64_t off);

/// raw_tp_prog_is_valid_access (and raw_tp_writable_prog_is_valid_access when `writable`): u64 args[12].
CtxVerdict check_raw_tracepoint_access(const CtxAccess& a, bool writable);
/// tracing_prog_is_valid_access / btf_ctx_access without BTF: u64 args[12], 8-byte slots, read-only, scalars.
CtxVerdict check_btf_args_access(const CtxAccess& a);
/// "args[1]" for byte `off` of the u64 argument array, or "".
std::string args_field_name(std::int64_t off);

}  // namespace xbpf::verifier::detail
