// Nested fixed-count loops over a packet prefix, more than the kernel's verifier can follow: ROUNDS passes over the
// first PREFIX bytes, each pass mixing every byte (xored with the pass number) into a running hash. The kernel's walk
// follows every iteration (ROUNDS * PREFIX * ~10 instructions) and rejects the program as too complex; xbpf
// summarises both loops (src/verifier/analyzer/widening.cpp) and accepts it. The result is stored in `rounds_out`
// and returned; tests/unit/verifier/summarised_loops_test.cpp runs it on a packet and checks it by hand.
#include "common.h"

#define PREFIX 32
#define ROUNDS 4000

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} rounds_out SEC(".maps");

SEC("xdp")
int prefix_rounds(struct xdp_md* ctx) {
    void* data = (void*)(long)ctx->data;
    void* data_end = (void*)(long)ctx->data_end;
    __u64 h = 0;
    for (__u64 r = 0; r < ROUNDS; r++) {
        for (__u64 i = 0; i < PREFIX; i++) {
            __u8* p = data + i;
            if ((void*)(p + 1) > data_end) break;
            h = h * 31 + (*p ^ (r & 0xff));
        }
    }
    __u32 key = 0;
    bpf_map_update_elem(&rounds_out, &key, &h, BPF_ANY);
    return (int)(h & 0xffff);
}

char LICENSE[] SEC("license") = "GPL";
