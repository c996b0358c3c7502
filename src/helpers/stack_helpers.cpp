// bpf_get_stackid and bpf_get_stack (kernel/bpf/stackmap.c) for user stacks.
//
// The stack is walked the way the kernel's x86 perf_callchain_user does: the instruction pointer of the
// registers, then the return address of each frame-pointer frame ({ next_bp, return_address } at bp), until the
// chain ends (bp 0 or outside user space), a frame cannot be read (Environment::read_user, by default this
// process), or the depth reaches max(value_size / entry size, buffer entries) + skip, capped at
// perf_event_max_stack (127). Code built without frame pointers gives short stacks, as with the kernel.
//
// The registers come from the program's context, which must be a struct pt_regs (x86-64 layout: bp at 32, ip at
// 128, sp at 152) for kprobe (uprobe) and perf_event programs (struct bpf_perf_event_data starts with the
// registers). Other program types, and kernel stacks (no BPF_F_USER_STACK: user-space programs run on user-mode
// registers, for which the kernel finds no kernel frames), have no frames: get_stackid gives -EFAULT and get_stack
// 0 bytes, as the kernel does for user-mode registers. Build-id stacks (BPF_F_STACK_BUILD_ID maps,
// BPF_F_USER_BUILD_ID) use the kernel's fallback entry: status BPF_STACK_BUILD_ID_IP with the raw address.
#include <vector>

#include "helpers/internal.hpp"
#include "maps/stack_trace.hpp"

namespace xbpf::helpers::detail {
namespace {

constexpr u32 kProgTypeKprobe = 2;      // BPF_PROG_TYPE_KPROBE (also uprobes)
constexpr u32 kProgTypePerfEvent = 7;   // BPF_PROG_TYPE_PERF_EVENT
constexpr u32 kMaxStack = 127;          // sysctl_perf_event_max_stack default (PERF_MAX_STACK_DEPTH)
constexpr u64 kUserBuildId = 1u << 11;  // BPF_F_USER_BUILD_ID
constexpr u64 kTaskSize = 0x00007ffffffff000ULL;
constexpr std::size_t kRegsBp = 32;
constexpr std::size_t kRegsIp = 128;
constexpr std::size_t kBuildIdEntry = 32;     // struct bpf_stack_build_id
constexpr std::int32_t kBuildIdStatusIp = 2;  // BPF_STACK_BUILD_ID_IP

// The user call chain, innermost first; empty when the context has no registers.
std::vector<u64> user_callchain(const Context* ctx, u32 max_depth) {
    std::vector<u64> ips;
    if (!ctx || (ctx->prog_type != kProgTypeKprobe && ctx->prog_type != kProgTypePerfEvent) || !ctx->ctx) return ips;
    u64 ip = 0;
    u64 bp = 0;
    if (read_host(ctx, &ip, ctx->ctx + kRegsIp, 8) != 8 || read_host(ctx, &bp, ctx->ctx + kRegsBp, 8) != 8) return ips;
    if (max_depth == 0) return ips;
    ips.push_back(ip);
    while (ips.size() < max_depth) {
        if (bp == 0 || bp >= kTaskSize - 16) break;
        u64 frame[2];
        if (read_user(ctx, frame, bp, sizeof frame) != static_cast<long>(sizeof frame)) break;
        ips.push_back(frame[1]);
        bp = frame[0];
    }
    return ips;
}

// struct bpf_stack_build_id entries for raw addresses (the kernel's fallback when no build id is found).
std::vector<unsigned char> build_id_entries(const u64* ips, std::size_t n) {
    std::vector<unsigned char> out(n * kBuildIdEntry, 0);
    for (std::size_t i = 0; i < n; ++i) {
        std::memcpy(&out[i * kBuildIdEntry], &kBuildIdStatusIp, 4);
        std::memcpy(&out[i * kBuildIdEntry + 24], &ips[i], 8);
    }
    return out;
}

u64 get_stackid(u64, u64 map, u64 flags, u64, u64, Context* ctx) {
    if (flags & ~(maps::kFSkipFieldMask | maps::kFUserStack | maps::kFFastStackCmp | maps::kFReuseStackId))
        return ret_err(-EINVAL);
    maps::Map* m = as_map(map);
    if (m->type() != maps::MapType::StackTrace) return ret_err(-EINVAL);
    auto* st = static_cast<maps::StackTraceMap*>(m);
    if (!(flags & maps::kFUserStack)) return ret_err(-EFAULT);
    const u32 skip = static_cast<u32>(flags & maps::kFSkipFieldMask);
    u32 max_depth = static_cast<u32>(m->spec().value_size / st->entry_size()) + skip;
    if (max_depth > kMaxStack) max_depth = kMaxStack;
    const std::vector<u64> ips = user_callchain(ctx, max_depth);
    if (ips.size() <= skip) return ret_err(-EFAULT);
    const auto nr = static_cast<u32>(ips.size());
    if (st->entry_size() == kBuildIdEntry) {
        const std::vector<unsigned char> entries = build_id_entries(ips.data(), ips.size());
        return ret_err(st->get_stackid(entries.data(), nr, flags));
    }
    return ret_err(st->get_stackid(ips.data(), nr, flags));
}

u64 get_stack(u64, u64 buf, u64 size, u64 flags, u64, Context* ctx) {
    const u32 n = static_cast<u32>(size);
    auto* dst = as_ptr<unsigned char>(buf);
    const auto fail = [&](long err) {
        if (n) std::memset(dst, 0, n);
        return ret_err(err);
    };
    if (flags & ~(maps::kFSkipFieldMask | maps::kFUserStack | kUserBuildId)) return fail(-EINVAL);
    const bool user = flags & maps::kFUserStack;
    const bool build_id = flags & kUserBuildId;
    if (!user && build_id) return fail(-EINVAL);
    const std::size_t elem = build_id ? kBuildIdEntry : 8;
    if (n % elem) return fail(-EINVAL);
    const u32 skip = static_cast<u32>(flags & maps::kFSkipFieldMask);
    const u32 num_elem = static_cast<u32>(n / elem);
    u32 max_depth = num_elem + skip;
    if (max_depth > kMaxStack) max_depth = kMaxStack;
    const std::vector<u64> ips = user ? user_callchain(ctx, max_depth) : std::vector<u64>{};
    if (ips.size() < skip) return fail(-EFAULT);
    std::size_t nr = ips.size() - skip;
    if (nr > num_elem) nr = num_elem;
    const std::size_t copy_len = nr * elem;
    if (build_id) {
        const std::vector<unsigned char> entries = build_id_entries(ips.data() + skip, nr);
        if (copy_len) std::memcpy(dst, entries.data(), copy_len);
    } else if (copy_len) {
        std::memcpy(dst, ips.data() + skip, copy_len);
    }
    if (n > copy_len) std::memset(dst + copy_len, 0, n - copy_len);
    return static_cast<u64>(copy_len);
}

}  // namespace

void register_stack_helpers(HelperTable& t) {
    t.add({27, "bpf_get_stackid", get_stackid});
    t.add({67, "bpf_get_stack", get_stack});
}

}  // namespace xbpf::helpers::detail
