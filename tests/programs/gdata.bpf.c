// Global data as counters: .bss (zero-initialised state), .data (an initialised counter), .rodata (constants the
// loader freezes). The maps are "gdata.bss", "gdata.data" and "gdata.rodata".
#include "common.h"

struct state {
    __u64 pkt_bytes;
    __u32 last_scaled;
    __u32 runs_seen;
};

struct state bss_state;                           // .bss
__u32 runs = 100;                                 // .data
const volatile __u32 factor = 3;                  // .rodata
const volatile __u8 tag[4] = {1, 2, 3, 4};        // .rodata

// After n runs on a packet of len bytes: bss_state = {n * len, len * 3, n}, runs = 100 + n; returns runs + tag[2].
SEC("xdp")
int gdata_count(struct xdp_md *ctx) {
    __u32 len = ctx->data_end - ctx->data;
    bss_state.pkt_bytes += len;
    bss_state.last_scaled = len * factor;
    bss_state.runs_seen += 1;
    runs += 1;
    return runs + tag[2];
}

char LICENSE[] SEC("license") = "GPL";
