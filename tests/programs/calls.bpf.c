// Sub-programs: a recursion-free call chain of static noinline functions (chain1 -> chain2 -> chain3 -> mix), a
// global function (verified on its own by the kernel, with BTF), a static function writing through a pointer into
// its caller's stack, and five-argument calls.
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} call_out SEC(".maps");

static __noinline __u32 mix(__u32 a, __u32 b) { return (a * 31) ^ b; }

static __noinline __u32 chain3(__u32 x) { return mix(x, 7) + 1; }

static __noinline __u32 chain2(__u32 x) { return chain3(x + 1) * 2; }

__noinline __u32 global_scale(__u32 x) { return x * 3 + 1; }

static __noinline __u32 chain1(__u32 x) { return chain2(x) + global_scale(x); }

static __noinline void accumulate(__u64 *acc, __u32 a, __u32 b, __u32 c, __u32 d) { *acc += a + 2 * b + 3 * c + 4 * d; }

// For a packet of len bytes: call_out[0] = chain1(len) = 2 * ((((len + 1) * 31) ^ 7) + 1) + 3 * len + 1;
// call_out[1] = 10 + (len + 2*1 + 3*2 + 4*3) = len + 30. Returns call_out[0] + call_out[1].
SEC("xdp")
int calls(struct xdp_md *ctx) {
    __u32 len = ctx->data_end - ctx->data;
    __u64 r = chain1(len);
    __u64 acc = 10;
    accumulate(&acc, len, 1, 2, 3);
    __u32 k = 0;
    bpf_map_update_elem(&call_out, &k, &r, BPF_ANY);
    k = 1;
    bpf_map_update_elem(&call_out, &k, &acc, BPF_ANY);
    return r + acc;
}

char LICENSE[] SEC("license") = "GPL";
