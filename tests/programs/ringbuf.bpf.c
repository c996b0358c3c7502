// A ring buffer: reserve, fill and submit (or discard) one event per openat.
#include "common.h"

struct event {
    __u32 pid;
    __u32 flags;
    char comm[16];
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 256 * 1024);
} rb SEC(".maps");

const volatile __u32 target_pid = 0;

SEC("tracepoint/syscalls/sys_enter_openat")
int on_openat(void *ctx) {
    __u32 pid = bpf_get_current_pid_tgid() >> 32;
    struct event *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
    if (!e) return 0;
    if (target_pid && pid != target_pid) {
        bpf_ringbuf_discard(e, 0);
        return 0;
    }
    e->pid = pid;
    e->flags = 0;
    bpf_get_current_comm(e->comm, sizeof(e->comm));
    bpf_ringbuf_submit(e, 0);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
