// Hashing loops over the packet. fnv1a: 32-bit FNV-1a over up to 256 bytes, a bounded loop with a bounds check per
// byte. oaat: Bob Jenkins' one-at-a-time hash over the first 64 bytes, copied into a map value by a bounded loop and
// then hashed by a bpf_loop callback. Both store their hash in `hashes` and return it.
#include "common.h"

#define FNV_MAX_BYTES 256
#define OAAT_BYTES 64

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);
    __type(value, __u32);
} hashes SEC(".maps");

struct window {
    __u32 len;
    __u8 bytes[OAAT_BYTES];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct window);
} scratch SEC(".maps");

SEC("xdp")
int fnv1a(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 h = 2166136261u;
    for (int i = 0; i < FNV_MAX_BYTES; i++) {
        __u8 *p = data + i;
        if ((void *)(p + 1) > data_end) break;
        h ^= *p;
        h *= 16777619u;
    }
    __u32 key = 0;
    bpf_map_update_elem(&hashes, &key, &h, BPF_ANY);
    return h;
}

static long oaat_step(__u32 index, void *arg) {
    __u32 *h = arg;
    __u32 zero = 0;
    struct window *w = bpf_map_lookup_elem(&scratch, &zero);
    if (!w || index >= w->len) return 1;
    *h += w->bytes[index & (OAAT_BYTES - 1)];
    *h += *h << 10;
    *h ^= *h >> 6;
    return 0;
}

SEC("xdp")
int oaat(struct xdp_md *ctx) {
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u32 zero = 0;
    struct window *w = bpf_map_lookup_elem(&scratch, &zero);
    if (!w) return 0;
    __u32 n = 0;
    for (; n < OAAT_BYTES; n++) {
        __u8 *p = data + n;
        if ((void *)(p + 1) > data_end) break;
        w->bytes[n] = *p;
    }
    w->len = n;
    __u32 h = 0;
    bpf_loop(OAAT_BYTES, oaat_step, &h, 0);
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    __u32 key = 1;
    bpf_map_update_elem(&hashes, &key, &h, BPF_ANY);
    return h;
}

char LICENSE[] SEC("license") = "GPL";
