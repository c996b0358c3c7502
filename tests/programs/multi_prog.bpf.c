// Several programs in one object, one per libbpf section kind, and two programs sharing the "xdp" section.
#include "common.h"

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 slot) {
    __u64 *v = bpf_map_lookup_elem(&hits, &slot);
    if (v) __sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_first(struct xdp_md *ctx) {
    hit(0);
    return XDP_PASS;
}

SEC("xdp")
int xdp_second(struct xdp_md *ctx) {
    hit(1);
    return XDP_DROP;
}

SEC("socket")
int sock_filter(struct __sk_buff *skb) {
    hit(2);
    return skb->len;
}

SEC("tc")
int tc_ingress(struct __sk_buff *skb) {
    hit(3);
    return 0;
}

SEC("classifier/legacy")
int tc_legacy(struct __sk_buff *skb) { return 0; }

SEC("tracepoint/syscalls/sys_enter_openat")
int tp_openat(void *ctx) {
    hit(4);
    return 0;
}

SEC("tp/sched/sched_switch")
int tp_switch(void *ctx) { return 0; }

SEC("raw_tp/sched_wakeup")
int raw_wakeup(void *ctx) { return 0; }

SEC("kprobe/do_unlinkat")
int kp_unlink(void *ctx) {
    hit(5);
    return 0;
}

SEC("kretprobe/do_unlinkat")
int krp_unlink(void *ctx) { return 0; }

SEC("uprobe/libc.so.6:malloc")
int up_malloc(void *ctx) {
    hit(6);
    return 0;
}

SEC("uretprobe/libc.so.6:malloc")
int urp_malloc(void *ctx) { return 0; }

SEC("usdt/libc.so.6:libc:setjmp")
int usdt_setjmp(void *ctx) { return 0; }

SEC("perf_event")
int on_sample(void *ctx) { return 0; }

SEC("fentry/do_unlinkat")
int fentry_unlink(void *ctx) { return 0; }

SEC("fexit/do_unlinkat")
int fexit_unlink(void *ctx) { return 0; }

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb) { return 1; }

SEC("lsm.s/file_open")
int lsm_open(void *ctx) { return 0; }

SEC("my_custom_section")
int custom(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060100;
