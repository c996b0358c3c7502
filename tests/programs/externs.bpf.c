// Externs resolved by the loader: __kconfig values (laid out in the ".kconfig" map), a typed __ksym variable and
// __ksym kernel functions (kfuncs).
#include "common.h"

struct task_struct;

extern int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_JIT __kconfig __weak;
extern unsigned long CONFIG_HZ __kconfig __weak;
extern const int bpf_prog_active __ksym;
extern struct task_struct *bpf_task_acquire(struct task_struct *p) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tp_btf/task_newtask")
int use_externs(__u64 *ctx) {
    int total = 0;
    if (LINUX_KERNEL_VERSION > 0x050000 && CONFIG_BPF_JIT) total += CONFIG_HZ;
    const int *active = bpf_this_cpu_ptr(&bpf_prog_active);
    total += *active;
    struct task_struct *task = bpf_task_acquire((struct task_struct *)ctx[0]);
    if (task) bpf_task_release(task);
    return total;
}

char LICENSE[] SEC("license") = "GPL";
