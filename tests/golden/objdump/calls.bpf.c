// Helper calls, bpf-to-bpf calls through noinline functions (pc-relative call with src = 1, relocated), map
// lookups through lddw relocations, and string constants.
#include "golden_common.h"

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, u32);
    __type(value, u64);
} counts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, u32);
    __type(value, u64);
} config SEC(".maps");

static NOINLINE u64 mix(u64 a, u64 b) { return (a ^ (b << 7)) * 31 + (a >> 3); }

static NOINLINE u64 five_args(u64 a, u64 b, u64 c, u64 d, u64 e) { return mix(a, b) + mix(c, d) + e; }

NOINLINE int global_func(int x) { return x * x + 1; }

SEC("kprobe/sys_open") int trace_open(void* ctx) {
    u32 key = (u32)bpf_get_current_pid_tgid();
    u64* value = bpf_map_lookup_elem(&counts, &key);
    if (value) {
        __sync_fetch_and_add(value, 1);
    } else {
        u64 one = 1;
        bpf_map_update_elem(&counts, &key, &one, 0);
    }
    u32 zero = 0;
    u64* cfg = bpf_map_lookup_elem(&config, &zero);
    u64 t = bpf_ktime_get_ns();
    if (cfg && *cfg) {
        static const char fmt[] = "open %llu %llu\n";
        bpf_trace_printk(fmt, sizeof(fmt), t, mix(t, *cfg));
    }
    return (int)five_args(t, key, bpf_get_prandom_u32(), 4, 5) + global_func((int)t);
}

SEC("kprobe/sys_close") int trace_close(void* ctx) { return global_func((int)bpf_ktime_get_ns()) + (int)mix(1, 2); }
