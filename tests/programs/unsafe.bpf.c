// Programs with a classic mistake each: the verifier (xbpf's and the kernel's) must reject them, and xbpf's
// message must name the line. Used by the kernel verdict comparison and the diagnostics examples in docs/cli.md.
#include "common.h"
#include "packet.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} events SEC(".maps");

// The lookup may fail: the value is used without a NULL check.
SEC("xdp")
int no_null_check(struct xdp_md *ctx) {
    __u32 key = ctx->ingress_ifindex;
    __u64 *count = bpf_map_lookup_elem(&counts, &key);
    *count += 1;
    return XDP_PASS;
}

// The Ethernet header is read before the packet length is checked.
SEC("xdp")
int no_bounds_check(struct xdp_md *ctx) {
    struct ethhdr *eth = (void *)(long)ctx->data;
    return eth->h_proto == bpf_htons(ETH_P_IP) ? XDP_PASS : XDP_DROP;
}

// The reserved record is neither submitted nor discarded when the packet is short.
SEC("xdp")
int leaks_record(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 *len = bpf_ringbuf_reserve(&events, sizeof(*len), 0);
    if (!len) return XDP_PASS;
    if (data + 64 > data_end) return XDP_DROP;
    *len = data_end - data;
    bpf_ringbuf_submit(len, 0);
    return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
