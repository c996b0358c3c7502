// Tail calls through a prog_array with several targets, chosen by the first byte of the packet: slot 0 and slot 3
// return at once, slot 1 tail-calls slot 3 in turn, empty slots make bpf_tail_call return so the caller goes on.
// `visits` counts which programs ran (slot 7: the entry, slot 6: the entry's fall-through path).
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u64);
} visits SEC(".maps");

static __always_inline void visit(__u32 slot) {
    __u64 *v = bpf_map_lookup_elem(&visits, &slot);
    if (v) __sync_fetch_and_add(v, 1);
}

int tail_zero(struct xdp_md *ctx);
int tail_one(struct xdp_md *ctx);
int tail_three(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, 8);
    __uint(key_size, sizeof(__u32));
    __array(values, int(void *));
} targets SEC(".maps") = {
    .values = {[0] = (void *)&tail_zero, [1] = (void *)&tail_one, [3] = (void *)&tail_three},
};

SEC("xdp")
int tail_zero(struct xdp_md *ctx) {
    visit(0);
    return 10;
}

SEC("xdp")
int tail_one(struct xdp_md *ctx) {
    visit(1);
    bpf_tail_call(ctx, &targets, 3);
    return 11;
}

SEC("xdp")
int tail_three(struct xdp_md *ctx) {
    visit(3);
    return 13;
}

SEC("xdp")
int tail_entry(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    visit(7);
    __u8 *first = data;
    if ((void *)(first + 1) > data_end) return 99;
    bpf_tail_call(ctx, &targets, *first & 7);
    visit(6);
    return 100;
}

char LICENSE[] SEC("license") = "GPL";
