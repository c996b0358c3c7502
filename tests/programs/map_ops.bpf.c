// One program per map family, each doing a fixed sequence of element operations from the program side and
// returning a value derived from the results; the error codes of the operations that must fail are kept in
// `results` (as signed 64-bit values), so both the return value and the final map contents are checked.
#include "common.h"

struct lpm_v4_key {
    __u32 prefixlen;
    __u8 addr[4];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __s64);
} results SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);
    __type(value, __u64);
} arr SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} hmap SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u64);
} pcpu_arr SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} pcpu_hash SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} lru SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} lru_pcpu SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 16);
    __type(key, struct lpm_v4_key);
    __type(value, __u32);
    __uint(map_flags, BPF_F_NO_PREALLOC);
} lpm SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 8);
    __type(value, __u32);
} q SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 8);
    __type(value, __u32);
} stk SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
    __uint(max_entries, 16);
    __type(value, __u32);
    __uint(map_extra, 3);
} bloom SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 4096);
} rb SEC(".maps");

static __always_inline void result(__u32 slot, __s64 value) { bpf_map_update_elem(&results, &slot, &value, BPF_ANY); }

static __always_inline long put(void *map, __u32 key, __u64 value, __u64 flags) {
    return bpf_map_update_elem(map, &key, &value, flags);
}

static __always_inline __u64 get(void *map, __u32 key) {
    __u64 *v = bpf_map_lookup_elem(map, &key);
    return v ? *v : 0;
}

// arr = {0, 10, 5, 10}; hmap = {1: 100, 3: 300}; results = {-EINVAL, -EEXIST, -ENOENT, -E2BIG, -ENOENT}.
SEC("xdp")
int array_hash_ops(struct xdp_md *ctx) {
    put(&arr, 1, 10, BPF_ANY);
    __u32 k = 2;
    __u64 *p = bpf_map_lookup_elem(&arr, &k);
    if (p) *p += 5;
    put(&arr, 3, get(&arr, 1), BPF_ANY);
    k = 3;
    result(0, bpf_map_delete_elem(&arr, &k));  // arrays cannot delete: -EINVAL
    put(&hmap, 1, 100, BPF_ANY);
    put(&hmap, 2, 200, BPF_ANY);
    put(&hmap, 3, 300, BPF_NOEXIST);
    k = 2;
    bpf_map_delete_elem(&hmap, &k);
    result(1, put(&hmap, 1, 111, BPF_NOEXIST));  // -EEXIST
    result(2, put(&hmap, 4, 400, BPF_EXIST));    // -ENOENT
    result(3, put(&arr, 4, 1, BPF_ANY));         // index out of range: -E2BIG
    k = 2;
    result(4, bpf_map_delete_elem(&hmap, &k));  // already deleted: -ENOENT
    return get(&hmap, 3) + get(&arr, 2);        // 305
}

// pcpu_arr = {1, 7} on the running CPU; pcpu_hash = {5: 50}; lru = {1: 11, 2: 22, 4: 44}; lru_pcpu = {9: 90}.
SEC("xdp")
int percpu_lru_ops(struct xdp_md *ctx) {
    __u32 k = 0;
    __u64 *p = bpf_map_lookup_elem(&pcpu_arr, &k);
    if (p) *p += 1;
    put(&pcpu_arr, 1, 7, BPF_ANY);
    put(&pcpu_hash, 5, 50, BPF_ANY);
    put(&lru_pcpu, 9, 90, BPF_ANY);
    for (__u32 i = 1; i <= 4; i++) put(&lru, i, i * 11, BPF_ANY);
    k = 3;
    bpf_map_delete_elem(&lru, &k);
    return get(&pcpu_hash, 5) + get(&lru, 2) + get(&lru, 3) + get(&pcpu_arr, 0);  // 50 + 22 + 0 + 1 = 73
}

static __always_inline __u32 route(__u8 a, __u8 b, __u8 c, __u8 d) {
    struct lpm_v4_key key = {.prefixlen = 32, .addr = {a, b, c, d}};
    __u32 *v = bpf_map_lookup_elem(&lpm, &key);
    return v ? *v : 0;
}

// lpm = {10.0.0.0/8: 1, 10.1.0.0/16: 2, 192.168.1.0/24: 3}; returns 2*1000 + 1*100 + 3*10 + 0 = 2130.
SEC("xdp")
int lpm_ops(struct xdp_md *ctx) {
    struct lpm_v4_key key = {.prefixlen = 8, .addr = {10, 0, 0, 0}};
    __u32 v = 1;
    bpf_map_update_elem(&lpm, &key, &v, BPF_ANY);
    key.prefixlen = 16;
    key.addr[1] = 1;
    v = 2;
    bpf_map_update_elem(&lpm, &key, &v, BPF_ANY);
    struct lpm_v4_key k3 = {.prefixlen = 24, .addr = {192, 168, 1, 0}};
    v = 3;
    bpf_map_update_elem(&lpm, &k3, &v, BPF_ANY);
    return route(10, 1, 2, 3) * 1000 + route(10, 9, 9, 9) * 100 + route(192, 168, 1, 77) * 10 + route(8, 8, 8, 8);
}

// Pushes 1, 2, 3 to both: afterwards q pops 2, 3 and stk pops 2, 1; results[5] = peek(stk) = 2.
SEC("xdp")
int queue_stack_ops(struct xdp_md *ctx) {
    for (__u32 i = 1; i <= 3; i++) {
        bpf_map_push_elem(&q, &i, 0);
        bpf_map_push_elem(&stk, &i, 0);
    }
    __u32 pq = 0, ps = 0, kq = 0, ks = 0;
    bpf_map_pop_elem(&q, &pq);    // 1
    bpf_map_pop_elem(&stk, &ps);  // 3
    bpf_map_peek_elem(&q, &kq);   // 2
    bpf_map_peek_elem(&stk, &ks); // 2
    result(5, ks);
    return pq * 100 + ps * 10 + kq;  // 132
}

// Pushes 7, 42 and 1000; a bloom filter never gives a false negative, so both peeks succeed: returns 3.
SEC("xdp")
int bloom_ops(struct xdp_md *ctx) {
    __u32 v = 7;
    bpf_map_push_elem(&bloom, &v, 0);
    v = 42;
    bpf_map_push_elem(&bloom, &v, 0);
    v = 1000;
    bpf_map_push_elem(&bloom, &v, 0);
    v = 42;
    long a = bpf_map_peek_elem(&bloom, &v);
    v = 7;
    long b = bpf_map_peek_elem(&bloom, &v);
    return (a == 0) + (b == 0) * 2;
}

struct event {
    __u32 a;
    __u32 b;
    __u64 c;
};

// One submitted 16-byte record, one discarded 16-byte record, one 8-byte bpf_ringbuf_output record. Each record
// takes an 8-byte header plus its size rounded up to 8, and a discarded record keeps its space until the consumer
// passes it: available data = 24 + 24 + 16 = 64; the return value adds the ring size (4096) times 10.
SEC("xdp")
int ringbuf_ops(struct xdp_md *ctx) {
    struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e) return 1;
    e->a = 1;
    e->b = 2;
    e->c = 3;
    bpf_ringbuf_submit(e, 0);
    e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e) return 2;
    bpf_ringbuf_discard(e, 0);
    __u64 v = 0xabcd;
    if (bpf_ringbuf_output(&rb, &v, sizeof(v), 0)) return 3;
    return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) + 10 * bpf_ringbuf_query(&rb, BPF_RB_RING_SIZE);
}

char LICENSE[] SEC("license") = "GPL";
