// The current task (kernel/bpf/helpers.c, kernel/trace/bpf_trace.c): bpf_get_current_pid_tgid,
// bpf_get_current_uid_gid, bpf_get_current_comm, bpf_get_current_task.
//
// "Current" is Environment::current_task when an event source presents another process's task, else the calling
// thread. The thread's ids are cached per thread and refreshed after fork (pthread_atfork), so the common call is
// two loads; uid, gid and comm are read each time (they can change at run time).
//
// bpf_get_current_task returns the kernel's task_struct pointer; there is none in user space, so it returns 0
// (programs that read through it with bpf_probe_read_kernel get -EFAULT, as for any kernel address here).
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

#include "helpers/internal.hpp"

namespace xbpf::helpers::detail {
namespace {

std::atomic<u32> g_fork_epoch{1};

struct ThreadIds {
    u32 epoch = 0;
    u32 pid = 0;
    u32 tgid = 0;
};

const ThreadIds& thread_ids() {
    static const bool registered = [] {
        pthread_atfork(nullptr, nullptr, [] { g_fork_epoch.fetch_add(1, std::memory_order_relaxed); });
        return true;
    }();
    (void)registered;
    thread_local ThreadIds ids;
    const u32 epoch = g_fork_epoch.load(std::memory_order_relaxed);
    if (ids.epoch != epoch) {
        ids.pid = static_cast<u32>(syscall(SYS_gettid));
        ids.tgid = static_cast<u32>(getpid());
        ids.epoch = epoch;
    }
    return ids;
}

u64 get_current_pid_tgid(u64, u64, u64, u64, u64, Context* ctx) {
    const Environment& env = env_of(ctx);
    if (env.current_task) {
        const TaskIdentity t = env.current_task();
        return static_cast<u64>(t.tgid) << 32 | t.pid;
    }
    const ThreadIds& ids = thread_ids();
    return static_cast<u64>(ids.tgid) << 32 | ids.pid;
}

u64 get_current_uid_gid(u64, u64, u64, u64, u64, Context* ctx) {
    const Environment& env = env_of(ctx);
    if (env.current_task) {
        const TaskIdentity t = env.current_task();
        return static_cast<u64>(t.gid) << 32 | t.uid;
    }
    return static_cast<u64>(getgid()) << 32 | getuid();
}

// strscpy_pad(buf, comm, size): at most size - 1 characters, then NUL padding to size. The kernel returns 0 (the
// verifier guarantees size > 0; size 0 writes nothing).
u64 get_current_comm(u64 buf, u64 size, u64, u64, u64, Context* ctx) {
    const u32 n = static_cast<u32>(size);
    if (n == 0) return 0;
    const TaskIdentity t = current_task(ctx);
    const std::size_t len = strnlen(t.comm, sizeof t.comm);
    const std::size_t copy = len < n - 1 ? len : n - 1;
    char* dst = as_ptr<char>(buf);
    std::memcpy(dst, t.comm, copy);
    std::memset(dst + copy, 0, n - copy);
    return 0;
}

u64 get_current_task(u64, u64, u64, u64, u64, Context*) { return 0; }

}  // namespace

TaskIdentity current_task(const Context* ctx) {
    const Environment& env = env_of(ctx);
    if (env.current_task) return env.current_task();
    TaskIdentity t;
    const ThreadIds& ids = thread_ids();
    t.pid = ids.pid;
    t.tgid = ids.tgid;
    t.uid = getuid();
    t.gid = getgid();
    char name[17] = {};
    if (prctl(PR_GET_NAME, name, 0, 0, 0) == 0) std::memcpy(t.comm, name, sizeof t.comm - 1);
    return t;
}

void register_task_helpers(HelperTable& t) {
    t.add({14, "bpf_get_current_pid_tgid", get_current_pid_tgid});
    t.add({15, "bpf_get_current_uid_gid", get_current_uid_gid});
    t.add({16, "bpf_get_current_comm", get_current_comm});
    t.add({35, "bpf_get_current_task", get_current_task});
}

}  // namespace xbpf::helpers::detail
