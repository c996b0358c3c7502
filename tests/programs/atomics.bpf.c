// Atomic instructions (-mcpu=v3): fetch-add, or/and/xor, exchange and compare-exchange on a map value and on .bss.
#include "common.h"

struct counters {
    __u64 add;
    __u64 bits;
    __u32 small;
    __u32 swap;
    __u64 cas;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct counters);
} state SEC(".maps");

__u64 global_adds;

SEC("xdp")
int atomics(struct xdp_md *ctx) {
    __u32 zero = 0;
    struct counters *c = bpf_map_lookup_elem(&state, &zero);
    if (!c) return XDP_ABORTED;
    __u64 old = __sync_fetch_and_add(&c->add, 2);
    __sync_fetch_and_or(&c->bits, 0x10);
    __sync_fetch_and_and(&c->bits, ~0x1ull);
    __sync_fetch_and_xor(&c->bits, 0x100);
    __sync_fetch_and_add(&c->small, 1);
    __u32 prev = __sync_lock_test_and_set(&c->swap, 9);
    __u64 seen = __sync_val_compare_and_swap(&c->cas, old, old + 100);
    __sync_fetch_and_add(&global_adds, 1);
    return (prev + seen) & 1 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
