// bpf_probe_read_user / _str, bpf_probe_read_kernel / _str and the legacy bpf_probe_read / _str
// (kernel/trace/bpf_trace.c).
//
// xbpf programs run in user space: "user memory" is the traced process's (Environment::read_user, by default this
// process, read with process_vm_readv), never dereferenced directly. "Kernel memory" is the run's own memory
// (Context::owns: its stack, context, packet, global data such as string literals in .rodata.str1.1, map values
// it was given); the _kernel variants read only that and fail with -EFAULT elsewhere (the kernel itself answers
// -ERANGE for a user address on x86; xbpf keeps one code). Every failure zero-fills the destination, as the kernel
// does. The legacy helpers pick user or kernel by
// address (below TASK_SIZE: user), as the kernel's bpf_probe_read_compat does.
#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

// x86-64 TASK_SIZE_MAX with 4-level page tables: the end of user addresses.
constexpr u64 kTaskSize = 0x00007ffffffff000ULL;

long read_user_full(Context* ctx, void* dst, u32 size, u64 src) {
    if (size == 0) return 0;
    const long got = read_user(ctx, dst, src, size);
    if (got == static_cast<long>(size)) return 0;
    std::memset(dst, 0, size);
    return -EFAULT;
}

long read_user_str(Context* ctx, void* dst, u32 size, u64 src) {
    const long ret = copy_string(ctx, static_cast<char*>(dst), src, size, true);
    if (ret < 0) std::memset(dst, 0, size);
    return ret;
}

u64 probe_read_user(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    return ret_err(read_user_full(ctx, as_ptr(dst), static_cast<u32>(size), src));
}

u64 probe_read_user_str(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    return ret_err(read_user_str(ctx, as_ptr(dst), static_cast<u32>(size), src));
}

u64 probe_read_kernel(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    const auto n = static_cast<u32>(size);
    if (n == 0) return 0;
    if (read_host(ctx, as_ptr(dst), src, n) == static_cast<long>(n)) return 0;
    std::memset(as_ptr(dst), 0, n);
    return ret_err(-EFAULT);
}

u64 probe_read_kernel_str(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    const auto n = static_cast<u32>(size);
    const long ret = copy_string(ctx, static_cast<char*>(as_ptr(dst)), src, n, false);
    if (ret < 0) std::memset(as_ptr(dst), 0, n);
    return ret_err(ret);
}

u64 probe_read(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    if (src < kTaskSize) return probe_read_user(dst, size, src, 0, 0, ctx);
    return probe_read_kernel(dst, size, src, 0, 0, ctx);
}

u64 probe_read_str(u64 dst, u64 size, u64 src, u64, u64, Context* ctx) {
    if (src < kTaskSize) return probe_read_user_str(dst, size, src, 0, 0, ctx);
    return probe_read_kernel_str(dst, size, src, 0, 0, ctx);
}

}  // namespace

void register_probe_helpers(HelperTable& t) {
    t.add({4, "bpf_probe_read", probe_read});
    t.add({45, "bpf_probe_read_str", probe_read_str});
    t.add({112, "bpf_probe_read_user", probe_read_user});
    t.add({113, "bpf_probe_read_kernel", probe_read_kernel});
    t.add({114, "bpf_probe_read_user_str", probe_read_user_str});
    t.add({115, "bpf_probe_read_kernel_str", probe_read_kernel_str});
}

}  // namespace xbpf::helpers::detail
