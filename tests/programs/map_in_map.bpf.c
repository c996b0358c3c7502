// Maps of maps: an array_of_maps and a hash_of_maps whose slots are set statically (`.values = {...}`), looked up
// from the program, with the inner maps updated through the returned pointers.
#include "common.h"

struct inner_arr {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u32);
} inner_x SEC(".maps"), inner_z SEC(".maps");

struct inner_hash {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u32);
} inner_y SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 4);
    __type(key, __u32);
    __array(values, struct inner_arr);
} outer_arr SEC(".maps") = {
    .values = {[0] = &inner_x, [2] = &inner_z},
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 8);
    __type(key, __u32);
    __array(values, struct inner_hash);
} outer_hash SEC(".maps") = {
    .values = {[5] = &inner_y},
};

// inner_x[1] = 111, inner_z[3] = 333, inner_y = {2: 222}; slot 1 of outer_arr and key 6 of outer_hash are empty:
// returns 1 + 2 + 4 + 8 = 15.
SEC("xdp")
int map_in_map_ops(struct xdp_md *ctx) {
    __u32 k = 0, v = 111;
    int ret = 0;
    void *inner = bpf_map_lookup_elem(&outer_arr, &k);
    if (inner) {
        k = 1;
        bpf_map_update_elem(inner, &k, &v, BPF_ANY);
        ret |= 1;
    }
    k = 2;
    inner = bpf_map_lookup_elem(&outer_arr, &k);
    if (inner) {
        k = 3;
        v = 333;
        bpf_map_update_elem(inner, &k, &v, BPF_ANY);
        ret |= 2;
    }
    k = 5;
    inner = bpf_map_lookup_elem(&outer_hash, &k);
    if (inner) {
        k = 2;
        v = 222;
        bpf_map_update_elem(inner, &k, &v, BPF_ANY);
        ret |= 4;
    }
    k = 1;
    if (bpf_map_lookup_elem(&outer_arr, &k)) return ret;
    k = 6;
    if (bpf_map_lookup_elem(&outer_hash, &k)) return ret;
    return ret | 8;
}

char LICENSE[] SEC("license") = "GPL";
