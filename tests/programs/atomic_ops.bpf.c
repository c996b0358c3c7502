// Atomic read-modify-write on a map value and on global data (-mcpu=v3): fetch-add, fetch-sub, or, fetch-and,
// fetch-xor, compare-and-swap (succeeding and failing), exchange, 32- and 64-bit.
#include "common.h"

struct vals {
    __u64 a;
    __u64 b;
    __u32 c;
    __u32 d;
    __u64 e;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct vals);
} avals SEC(".maps");

__u64 g_counter = 5;  // .data
__u32 g_flag;         // .bss

// From a zeroed value: a = 14, b = 0xcf, c = 77, d = 1234, e = 0xdeadbeefcafe; g_counter = 8, g_flag = 1.
// Returns the sum of the fetched old values: 0 + 10 + 0xf0 + 0x30 + 0 + 77 + 0 + 0 + 5 + 0 = 380.
SEC("xdp")
int atomic_ops(struct xdp_md *ctx) {
    __u32 zero = 0;
    struct vals *v = bpf_map_lookup_elem(&avals, &zero);
    if (!v) return 0;
    __u64 o1 = __sync_fetch_and_add(&v->a, 10);
    __u64 o2 = __sync_fetch_and_add(&v->a, 5);
    __sync_fetch_and_or(&v->b, 0xf0);
    __u64 o3 = __sync_fetch_and_and(&v->b, 0x3c);
    __u64 o4 = __sync_fetch_and_xor(&v->b, 0xff);
    __u32 o5 = __sync_val_compare_and_swap(&v->c, 0, 77);
    __u32 o6 = __sync_val_compare_and_swap(&v->c, 5, 99);
    __u32 o7 = __sync_lock_test_and_set(&v->d, 1234);
    __u64 o8 = __sync_lock_test_and_set(&v->e, 0xdeadbeefcafeull);
    __u64 o9 = __sync_fetch_and_add(&g_counter, 3);
    __u32 o10 = __sync_val_compare_and_swap(&g_flag, 0, 1);
    __sync_fetch_and_sub(&v->a, 1);
    return o1 + o2 + o3 + o4 + o5 + o6 + o7 + o8 + o9 + o10;
}

char LICENSE[] SEC("license") = "GPL";
