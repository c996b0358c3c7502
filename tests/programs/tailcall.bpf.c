// Tail calls through a prog_array whose slots are initialised statically (values = { [i] = &prog }).
#include "common.h"

int stage_reached;

SEC("xdp")
int stage_one(struct xdp_md *ctx) {
    stage_reached = 1;
    return XDP_PASS;
}

SEC("xdp")
int stage_two(struct xdp_md *ctx) {
    stage_reached = 2;
    return XDP_DROP;
}

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 4);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} jump_table SEC(".maps") = {
    .values = {[0] = (void *)&stage_one, [2] = (void *)&stage_two},
};

SEC("xdp")
int dispatcher(struct xdp_md *ctx) {
    __u32 slot = ctx->ingress_ifindex & 3;
    bpf_tail_call(ctx, &jump_table, slot);
    return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
