// BTF-defined maps of many types, with every definition field libbpf accepts: __type keys and values, key_size and
// value_size, map_flags, pinning, map_extra, and an array of maps whose inner map is given through __array(values).
#include "common.h"

struct flow_key {
    __u32 saddr;
    __u32 daddr;
    __u16 sport;
    __u16 dport;
    __u8 proto;
};

struct flow_stats {
    __u64 packets;
    __u64 bytes;
};

struct lpm_key {
    __u32 prefixlen;
    __u32 addr;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 24);
} raw_array SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} per_cpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 128);
    __type(key, __u64);
    __type(value, __u32);
    __uint(pinning, LIBBPF_PIN_BY_NAME);
} lru SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 64);
    __type(key, struct lpm_key);
    __type(value, __u32);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 32);
    __type(value, __u32);
} queue SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 32);
    __type(value, __u64);
} stack SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 100);
    __type(value, __u32);
    __uint(map_extra, 3);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
    __uint(key_size, sizeof(int));
    __uint(value_size, sizeof(int));
} events SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK_TRACE);
    __uint(max_entries, 16);
    __uint(key_size, sizeof(__u32));
    __uint(value_size, 127 * sizeof(__u64));
} stacks SEC(".maps");

struct inner_array {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct inner_array);
} outer SEC(".maps") = {
    .values = {&inner_a, [1] = &inner_b},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 16);
        __type(key, __u32);
        __type(value, __u64);
    });
} outer_hash SEC(".maps");

SEC("tc")
int use_maps(struct __sk_buff *skb) {
    struct flow_key key = {.saddr = skb->remote_ip4, .proto = 6};
    struct flow_stats *stats = bpf_map_lookup_elem(&flows, &key);
    if (stats) {
        __sync_fetch_and_add(&stats->packets, 1);
        __sync_fetch_and_add(&stats->bytes, skb->len);
    }
    __u32 zero = 0;
    __u64 *pc = bpf_map_lookup_elem(&per_cpu, &zero);
    if (pc) *pc += 1;
    void *raw = bpf_map_lookup_elem(&raw_array, &zero);
    __u64 k = skb->hash;
    bpf_map_lookup_elem(&lru, &k);
    struct lpm_key lk = {32, skb->remote_ip4};
    __u32 *route = bpf_map_lookup_elem(&routes, &lk);
    __u32 v = skb->len;
    bpf_map_push_elem(&queue, &v, 0);
    bpf_map_push_elem(&stack, &k, 0);
    bpf_map_push_elem(&bloom, &v, 0);
    bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, &v, sizeof(v));
    void *inner = bpf_map_lookup_elem(&outer, &zero);
    if (inner) bpf_map_lookup_elem(inner, &zero);
    inner = bpf_map_lookup_elem(&outer_hash, &zero);
    if (inner) bpf_map_lookup_elem(inner, &zero);
    return (raw != 0) + (route ? *route : 0);
}

SEC("perf_event")
int sample(void *ctx) {
    bpf_get_stackid(ctx, &stacks, BPF_F_USER_STACK);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
