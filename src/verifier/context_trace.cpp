// The tracing contexts (kernel/trace/bpf_trace.c, kernel/bpf/btf.c), for x86-64:
//   kprobe          struct pt_regs (168 bytes), any aligned read          kprobe_prog_is_valid_access
//   tracepoint      the raw record, bytes 8..8191, any aligned read       tp_prog_is_valid_access
//   perf_event      struct bpf_perf_event_data (184 bytes)                pe_prog_is_valid_access
//   raw_tracepoint  u64 args[12], any aligned read                        raw_tp_prog_is_valid_access
//   raw_tracepoint_writable  the same, args[0] the writable buffer        raw_tp_writable_prog_is_valid_access
//   tracing, lsm    u64 args[12] typed by BTF, reads at 8-byte slots      tracing_prog_is_valid_access, btf_ctx_access
// All are read-only.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "verifier/context_rules.hpp"

namespace xbpf::verifier::detail {
namespace {

/// The registers of x86-64 struct pt_regs (arch/x86/include/asm/ptrace.h), in layout order, 8 bytes each.
constexpr std::array<std::string_view, 21> kPtRegs = {"r15", "r14",     "r13", "r12", "bp",    "bx", "r11",
                                                      "r10", "r9",      "r8",  "ax",  "cx",    "dx", "si",
                                                      "di",  "orig_ax", "ip",  "cs",  "flags", "sp", "ss"};
static_assert(kPtRegs.size() * 8 == kPtRegsSize);

/// Byte offsets of bpf_perf_event_data.sample_period and .addr (both u64, after the registers).
constexpr std::int64_t kSamplePeriod = kPtRegsSize;
constexpr std::int64_t kAddr = kPtRegsSize + 8;
static_assert(kAddr + 8 == kPerfEventDataSize);

/// The first 8 bytes of every tracepoint record: struct trace_entry (include/linux/trace_events.h).
struct TraceEntryField {
    std::string_view name;
    std::int64_t off;
    std::int64_t size;
};
constexpr std::array<TraceEntryField, 4> kTraceEntry = {{
    {"common_type", 0, 2},
    {"common_flags", 2, 1},
    {"common_preempt_count", 3, 1},
    {"common_pid", 4, 4},
}};
/// Bytes of struct trace_entry, which programs may not read (the kernel stores the pt_regs pointer there).
constexpr std::int64_t kTraceEntrySize = 8;

CtxVerdict reject(std::string reason) { return std::unexpected(std::move(reason)); }

}  // namespace

CtxVerdict check_kprobe_access(const CtxAccess& a) {
    if (a.off < 0) return reject(before_start("pt_regs", a.off));
    if (a.off >= kPtRegsSize) return reject(past_end("pt_regs", a.off, kPtRegsSize));
    const std::string field = "pt_regs." + pt_regs_field_name(a.off);
    if (a.is_write) return reject(field + " is read-only");
    if (a.off % a.size != 0) return reject(misaligned(field, a.off, a.size));
    // An aligned access cannot cross the end of pt_regs (its size is a multiple of 8): the kernel's extra
    // off + size check is for 32-bit layouts.
    return CtxFieldType::Scalar;
}

std::string pt_regs_field_name(std::int64_t off) {
    if (off < 0 || off >= kPtRegsSize) return "";
    return std::string(kPtRegs[static_cast<std::size_t>(off / 8)]);
}

CtxVerdict check_tracepoint_access(const CtxAccess& a) {
    if (a.off < 0) return reject(before_start("the tracepoint record", a.off));
    if (a.off < kTraceEntrySize)
        return reject("tracepoint records start at offset 8: the first 8 bytes are the common fields the kernel hides");
    if (a.off >= kMaxTraceSize)
        return reject(
            fmt::format("offset {} is past the end of the largest tracepoint record, {} bytes "
                        "(PERF_MAX_TRACE_SIZE)",
                        a.off, kMaxTraceSize));
    if (a.is_write) return reject("tracepoint records are read-only");
    if (a.off % a.size != 0) return reject(misaligned("tracepoint record", a.off, a.size));
    // Aligned and below PERF_MAX_TRACE_SIZE, a multiple of 8, so the access ends inside it too.
    return CtxFieldType::Scalar;
}

std::string tracepoint_field_name(std::int64_t off) {
    for (const TraceEntryField& f : kTraceEntry)
        if (off >= f.off && off < f.off + f.size) return std::string(f.name);
    return "";
}

CtxVerdict check_perf_event_access(const CtxAccess& a) {
    if (a.off < 0) return reject(before_start("bpf_perf_event_data", a.off));
    if (a.off >= kPerfEventDataSize) return reject(past_end("bpf_perf_event_data", a.off, kPerfEventDataSize));
    const std::string field = "bpf_perf_event_data." + perf_event_field_name(a.off);
    if (a.is_write) return reject(field + " is read-only");
    // sample_period and addr are u64s read through the kernel's rewrite, which allows narrow loads
    // (bpf_ctx_narrow_access_ok); the registers are read directly and only as whole longs.
    if (a.off < kSamplePeriod && a.size != 8) return reject(needs_size(field, 8, false));
    if (a.off % a.size != 0) return reject(misaligned(field, a.off, a.size));
    return CtxFieldType::Scalar;
}

std::string perf_event_field_name(std::int64_t off) {
    if (off < 0 || off >= kPerfEventDataSize) return "";
    if (off >= kAddr) return "addr";
    if (off >= kSamplePeriod) return "sample_period";
    return "regs." + pt_regs_field_name(off);
}

CtxVerdict check_raw_tracepoint_access(const CtxAccess& a, bool writable) {
    if (a.off < 0) return reject(before_start("the raw tracepoint arguments", a.off));
    if (a.off >= kArgsSize)
        return reject(fmt::format("offset {} is past the end of the raw tracepoint arguments, {} u64s ({} bytes)",
                                  a.off, kMaxFuncArgs, kArgsSize));
    const std::string field = args_field_name(a.off);
    if (writable && a.off == 0) {
        // raw_tp_writable_prog_is_valid_access: args[0] is the tracepoint's writable buffer (PTR_TO_TP_BUFFER),
        // only as a whole 8-byte read.
        if (a.is_write) return reject(field + " is read-only");
        if (a.size != 8) return reject(needs_size(field, 8, false));
        return reject(field + " is the writable tracepoint buffer (PTR_TO_TP_BUFFER), which xbpf does not support yet");
    }
    if (a.is_write) return reject(field + " is read-only");
    if (a.off % a.size != 0) return reject(misaligned(field, a.off, a.size));
    return CtxFieldType::Scalar;
}

CtxVerdict check_btf_args_access(const CtxAccess& a) {
    if (a.off < 0) return reject(before_start("the traced function's arguments", a.off));
    if (a.off >= kArgsSize)
        return reject(
            fmt::format("offset {} is past the end of the traced function's arguments, at most {} u64s "
                        "({} bytes)",
                        a.off, kMaxFuncArgs, kArgsSize));
    const std::string field = args_field_name(a.off);
    if (a.is_write) return reject(field + " is read-only");
    // btf_ctx_access: every argument has its own u64 slot, read from its start (a narrower load reads its low
    // bytes on little-endian x86-64).
    if (a.off % 8 != 0)
        return reject(fmt::format("{}: offset {} is not at the start of an 8-byte argument slot", field, a.off));
    // Without BTF the argument's type is unknown: a scalar. Pointer arguments (PTR_TO_BTF_ID) come with BTF.
    return CtxFieldType::Scalar;
}

std::string args_field_name(std::int64_t off) {
    if (off < 0 || off >= kArgsSize) return "";
    return fmt::format("args[{}]", off / 8);
}

}  // namespace xbpf::verifier::detail
