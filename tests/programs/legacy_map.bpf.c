// A legacy map definition: struct bpf_map_def in the "maps" section (pre-BTF libbpf, iproute2 and cilium style),
// next to a BTF-defined map.
#include "common.h"

struct bpf_map_def {
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_counts = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 4,
};

struct bpf_map_def SEC("maps") legacy_hash = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__u64),
    .value_size = sizeof(__u32),
    .max_entries = 512,
    .map_flags = BPF_F_NO_PREALLOC,
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} modern SEC(".maps");

SEC("socket")
int count(struct __sk_buff *skb) {
    __u32 key = skb->protocol & 3;
    __u64 *v = bpf_map_lookup_elem(&legacy_counts, &key);
    if (v) *v += 1;
    __u64 hk = skb->hash;
    bpf_map_lookup_elem(&legacy_hash, &hk);
    bpf_map_lookup_elem(&modern, &key);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
