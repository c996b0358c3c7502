// CO-RE relocations against locally declared kernel types (preserve_access_index), so no vmlinux.h is needed:
// field offsets, existence, sizes, type existence and size, enum values, bitfields (shifts and signedness).
#include "common.h"
#include <bpf/bpf_core_read.h>

struct task_struct___local {
    int pid;
    int tgid;
    struct task_struct___local *real_parent;
    char comm[16];
} __attribute__((preserve_access_index));

struct task_struct___old {
    long state;
    int no_such_field;
} __attribute__((preserve_access_index));

enum pid_type___local { PIDTYPE_PID___local = 0, PIDTYPE_TGID___local = 1 };

struct flags___local {
    unsigned int low : 3;
    unsigned int mid : 5;
    int wide : 10;
} __attribute__((preserve_access_index));

__u64 results[10];

SEC("kprobe/do_exit")
int core_demo(void *ctx) {
    struct task_struct___local *task = (void *)bpf_get_current_task();
    results[0] = BPF_CORE_READ(task, real_parent, tgid);
    results[1] = bpf_core_field_exists(task->comm);
    results[2] = bpf_core_field_size(task->comm);
    results[3] = bpf_core_type_exists(struct task_struct___local);
    results[4] = bpf_core_type_size(struct task_struct___local);
    results[5] = bpf_core_field_exists(((struct task_struct___old *)task)->no_such_field);
    results[6] = bpf_core_enum_value(enum pid_type___local, PIDTYPE_TGID___local);
    results[7] = bpf_core_field_offset(task->comm);
    struct flags___local *flags = (void *)task;
    results[8] = BPF_CORE_READ_BITFIELD_PROBED(flags, mid);
    results[9] = BPF_CORE_READ_BITFIELD_PROBED(flags, wide);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
