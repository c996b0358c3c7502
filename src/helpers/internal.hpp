// Shared pieces of the helper implementations (src/helpers/*.cpp): return-value encoding, argument decoding, the
// safe memory readers, and the per-family registration functions that registry.cpp calls. Not a public header.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "helpers/helper.hpp"
#include "maps/map.hpp"

namespace xbpf::helpers::detail {

using u64 = std::uint64_t;
using u32 = std::uint32_t;
using s64 = std::int64_t;

/// r0 for a negative errno (`err` is already negative, e.g. -EINVAL), as the kernel returns it: sign-extended.
constexpr u64 ret_err(long err) { return static_cast<u64>(static_cast<s64>(err)); }
/// r0 for a host pointer (0 for nullptr).
inline u64 ret_ptr(const void* p) { return reinterpret_cast<u64>(p); }

/// A map argument: the VM passes r1 = the address of the maps::Map object (the value of `lddw src=1`).
inline maps::Map* as_map(u64 r) { return reinterpret_cast<maps::Map*>(r); }
/// A pointer argument: programs pass host addresses.
template <class T = void>
T* as_ptr(u64 r) {
    return reinterpret_cast<T*>(r);
}

/// The environment of a run (never null during a run; tests may leave it null).
inline const Environment& env_of(const Context* ctx) { return ctx && ctx->env ? *ctx->env : default_environment(); }

/// Makes [p, p + n) accessible to a checked run (a no-op when the engine gave no grant function).
inline void grant(Context* ctx, const void* p, std::size_t n, bool writable) {
    if (ctx && ctx->grant && p && n) ctx->grant(ctx, p, n, writable);
}

/// Reads [src, src + n) of the traced process's user memory (Environment::read_user, or the own process):
/// the number of leading bytes read, or a negative errno.
long read_user(const Context* ctx, void* dst, u64 src, std::size_t n);
/// The same for the run's own memory (program stacks, map values, global data: the analogue of kernel memory for
/// bpf_probe_read_kernel* and the printf helpers' %s, %pi4, ... arguments): only what Context::owns confirms, so a
/// program never reads host memory it was not given.
long read_host(const Context* ctx, void* dst, u64 src, std::size_t n);

/// The kernel's strncpy_from_{user,kernel}_nofault: copies the NUL-terminated string at src into dst (at most
/// `size` bytes including the NUL, truncating and terminating when longer). Returns the bytes written including
/// the NUL, 0 for size 0, or -EFAULT when a byte before the NUL (within size) cannot be read. `user` selects
/// the traced process's memory (read_user) or the host's (read_host).
long copy_string(const Context* ctx, char* dst, u64 src, std::size_t size, bool user);

/// The current task (Environment::current_task or the calling thread).
TaskIdentity current_task(const Context* ctx);

/// bpf_bprintf_prepare + bstr_printf (kernel/bpf/helpers.c, lib/vsprintf.c): checks `fmt` (NUL-terminated within
/// fmt_size bytes) with the kernel's rules against `num_args` u64 arguments, then formats it. On success returns
/// the full formatted length (what bstr_printf returns) and stores at most `cap` characters of the text in
/// `out`; otherwise a negative errno (-EINVAL for a bad format or too few arguments, -ENOSPC when the arguments
/// overflow the kernel's 512-byte argument buffer).
long bprintf(const Context* ctx, const char* fmt, std::size_t fmt_size, const u64* args, u32 num_args, std::size_t cap,
             std::string& out);

/// The HZ that bpf_jiffies64 assumes (time_helpers.cpp).
u64 jiffies_hz();

/// MAX_BPRINTF_VARARGS: at most 12 arguments for bpf_snprintf / bpf_trace_vprintk.
inline constexpr u32 kMaxBprintfVarargs = 12;

// Per-family registration (one .cpp each), called by kernel_helpers().
void register_map_helpers(HelperTable& t);
void register_time_helpers(HelperTable& t);
void register_task_helpers(HelperTable& t);
void register_string_helpers(HelperTable& t);
void register_printk_helpers(HelperTable& t);
void register_probe_helpers(HelperTable& t);
void register_output_helpers(HelperTable& t);
void register_stack_helpers(HelperTable& t);
void register_packet_helpers(HelperTable& t);
void register_checksum_helpers(HelperTable& t);

}  // namespace xbpf::helpers::detail
