// Helper calls: the function type the interpreter and the JIT call, the per-run Context a helper sees, the packet a
// networking program works on, and the table of helpers keyed by the Linux kernel's helper id.
//
// Layering: helpers sit below the VM (src/vm includes this header, never the reverse). What a helper needs from the
// engine that runs it (making memory accessible to a checked run, running a BPF callback) comes through the function
// pointers in Context, which the engine fills in before the run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace xbpf::helpers {

struct Context;

/// A helper implementation as the interpreter and JIT code call it (System V: r1..r5 in the argument registers,
/// then the run's Context). The return value is r0.
using HelperFn = std::uint64_t (*)(std::uint64_t r1, std::uint64_t r2, std::uint64_t r3, std::uint64_t r4,
                                   std::uint64_t r5, Context* ctx);

/// One helper: kernel id, kernel name (bpf_map_lookup_elem ...) and implementation.
struct Helper {
    std::int32_t id = 0;
    std::string name;
    HelperFn fn = nullptr;
};

/// Helpers keyed by the Linux kernel's helper id (include/uapi/linux/bpf.h, `__BPF_FUNC_MAPPER`).
class HelperTable {
  public:
    /// Adds or replaces the helper with `helper.id`.
    void add(Helper helper);
    /// The helper with this id, or nullptr.
    [[nodiscard]] const Helper* find(std::int32_t id) const;
    /// The helper with this name (with or without the "bpf_" prefix), or nullptr.
    [[nodiscard]] const Helper* find(std::string_view name) const;
    [[nodiscard]] const std::vector<Helper>& all() const { return helpers_; }

  private:
    std::vector<Helper> helpers_;  // sorted by id
};

/// The packet of an XDP or socket-buffer program: one buffer with headroom before the data and tailroom after it,
/// as the kernel's xdp_buff / sk_buff. bpf_xdp_adjust_head/tail and bpf_skb_load_bytes work on it.
///
/// Addresses: the buffer lies below 4 GiB (allocated by the engine with MAP_32BIT), because struct xdp_md and
/// struct __sk_buff give programs `data` and `data_end` as 32-bit fields that programs turn into pointers
/// (`(void *)(long)ctx->data`). A helper that moves data/data_end/data_meta calls sync() so the context struct the
/// program reads shows the new values.
struct Packet {
    std::uint8_t* frame_start = nullptr;  ///< first byte of headroom
    std::uint8_t* frame_end = nullptr;    ///< one past the last byte of tailroom
    std::uint8_t* data_meta = nullptr;    ///< metadata start (== data when there is none)
    std::uint8_t* data = nullptr;         ///< first byte of the packet
    std::uint8_t* data_end = nullptr;     ///< one past the last byte of the packet

    /// Context fields mirroring the pointers above (u32 addresses), or null when the context has no such field.
    std::uint32_t* ctx_data = nullptr;
    std::uint32_t* ctx_data_end = nullptr;
    std::uint32_t* ctx_data_meta = nullptr;
    std::uint32_t* ctx_len = nullptr;  ///< __sk_buff::len (data_end - data)

    /// Writes the current pointers into the context fields that mirror them.
    void sync() const {
        if (ctx_data) *ctx_data = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(data));
        if (ctx_data_end) *ctx_data_end = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(data_end));
        if (ctx_data_meta) *ctx_data_meta = static_cast<std::uint32_t>(reinterpret_cast<std::uintptr_t>(data_meta));
        if (ctx_len) *ctx_len = static_cast<std::uint32_t>(data_end - data);
    }
    [[nodiscard]] std::size_t size() const { return static_cast<std::size_t>(data_end - data); }
};

/// The task a program sees as `current` (bpf_get_current_pid_tgid, _uid_gid, _comm), in the kernel's terms.
struct TaskIdentity {
    std::uint32_t pid = 0;   ///< thread id (the kernel's task->pid)
    std::uint32_t tgid = 0;  ///< process id (task->tgid)
    std::uint32_t uid = 0;   ///< real user id, as current_uid_gid() in init_user_ns
    std::uint32_t gid = 0;   ///< real group id
    char comm[16] = {};      ///< the thread's name (TASK_COMM_LEN), NUL-terminated
};

/// Process-wide facts and output sinks of a runtime. Tests install their own; default_environment() writes
/// trace_printk lines to stderr. Every field but `trace` may be left empty: the helpers then use the calling
/// thread and process.
struct Environment {
    /// bpf_trace_printk / bpf_trace_vprintk: one formatted message (without the kernel's trace_pipe prefix).
    std::function<void(std::string_view message)> trace;
    /// "User memory" of the traced process (bpf_probe_read_user*, bpf_probe_read*, %us, user stack walks): copies
    /// the bytes at [src, src + n) to dst without ever faulting and returns how many leading bytes it could read
    /// (n on success, fewer at the first unreadable byte) or a negative errno. Empty: the own process, read with
    /// process_vm_readv (helpers::read_own_memory).
    std::function<long(void* dst, std::uint64_t src, std::size_t n)> read_user;
    /// The traced task; empty: the calling thread (gettid, getpid, getuid, getgid, PR_GET_NAME).
    std::function<TaskIdentity()> current_task;
    /// Clock source for the bpf_ktime_* / bpf_jiffies64 helpers: nanoseconds of the POSIX clock `clock_id`
    /// (CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_COARSE, CLOCK_TAI). Empty: clock_gettime.
    std::function<std::uint64_t(int clock_id)> clock;
};

/// Copies [src, src + n) of this process's memory to dst without faulting (process_vm_readv on the own pid, page
/// by page): the number of leading bytes copied, or a negative errno when nothing could be read.
long read_own_memory(void* dst, std::uint64_t src, std::size_t n);

/// The environment used when a run names none: trace output goes to stderr.
const Environment& default_environment();

/// Per-run state a helper sees (the engine fills it before the run; helpers may read every field).
struct Context {
    void* user = nullptr;              ///< the embedder's pointer (vm::RunInput::user), for its own helpers
    const Environment* env = nullptr;  ///< never null during a run
    std::uint64_t ctx = 0;             ///< the program's context pointer (r1 at entry)
    std::uint32_t prog_type = 0;       ///< enum bpf_prog_type of the running program (0: raw memory program)
    Packet* packet = nullptr;          ///< xdp and skb programs: their packet; null for others

    /// Checked mode: from now on the program may access [p, p + n) (map values, ring buffer samples, helper
    /// output). The engine's own bookkeeping; a no-op for unchecked (verified) runs. Never null during a run.
    void (*grant)(Context* self, const void* p, std::size_t n, bool writable) = nullptr;
    /// Runs the BPF function at code address `fn` (the value of an `lddw src=4` load, as bpf_loop and
    /// bpf_for_each_map_elem receive it) with r1..r5 = a1..a5 on a new frame and returns its r0. When the callback
    /// faults (checked mode) the engine sets `aborted` and returns 0; the helper must then return at once, and the
    /// engine ends the program with the callback's error. Never null during a run.
    std::uint64_t (*call)(Context* self, std::uint64_t fn, std::uint64_t a1, std::uint64_t a2, std::uint64_t a3,
                          std::uint64_t a4, std::uint64_t a5) = nullptr;
    /// Is [addr, addr + n) memory this run owns (its stack, context, packet, regions, global data, memory granted so
    /// far)? That is xbpf's analogue of kernel memory: what bpf_probe_read_kernel* and the printf helpers' %s may
    /// read. Null (a Context without an engine) means nothing.
    bool (*owns)(const Context* self, std::uint64_t addr, std::size_t n) = nullptr;
    void* engine = nullptr;  ///< the engine's own state for grant/call/owns
    bool aborted = false;    ///< set by `call` when a callback failed
};

}  // namespace xbpf::helpers
