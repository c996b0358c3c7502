// Helper availability per program type against the running kernel: for every program type xbpf has context rules
// for (and the kernel can load without extra setup) and every helper xbpf knows, the program
//   call N; r0 = 0; exit
// is loaded with BPF_PROG_LOAD and verified by xbpf. The kernel's get_func_proto answers first in
// check_helper_call: "program of this type cannot use helper bpf_xxx#N" when the type is not offered the helper
// (later errors, such as uninitialised argument registers, mean it was). xbpf must refuse exactly the same pairs,
// with the same message. Loads run as root (CAP_PERFMON) and again from a forked child without CAP_SYS_ADMIN and
// CAP_PERFMON (xbpf's privileged = false), for the network types the child may still load.
// fentry/fexit/LSM programs cannot be loaded on the reference machine (EPERM before verification); they share
// tracing_prog_func_proto with tp_btf, which is compared. Skips, with the reason, when bpf() is unavailable.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "helpers/prototype.hpp"
#include "kernel/bpf_syscall.hpp"
#include "support/insn_builder.hpp"
#include "verifier/btf_access.hpp"
#include "verifier/verifier.hpp"

namespace xbpf::test {
namespace {

using object::AttachType;
using object::ProgramType;

struct Probe {
    ProgramType type;
    AttachType attach = AttachType::None;
    const char* target = nullptr;  ///< tp_btf: the tracepoint (attach_btf_id = btf_trace_<target>)
    bool unprivileged_loadable = false;
};

const std::vector<Probe>& probes() {
    static const std::vector<Probe> p = {
        {ProgramType::SocketFilter, AttachType::None, nullptr, true},
        {ProgramType::Kprobe},
        {ProgramType::SchedCls, AttachType::None, nullptr, true},
        {ProgramType::SchedAct, AttachType::None, nullptr, true},
        {ProgramType::Tracepoint},
        {ProgramType::Xdp, AttachType::None, nullptr, true},
        {ProgramType::PerfEvent},
        {ProgramType::CgroupSkb, AttachType::None, nullptr, true},
        {ProgramType::CgroupSkb, AttachType::CgroupInetEgress, nullptr, true},
        {ProgramType::LwtIn, AttachType::None, nullptr, true},
        {ProgramType::LwtOut, AttachType::None, nullptr, true},
        {ProgramType::LwtXmit, AttachType::None, nullptr, true},
        {ProgramType::SkSkb, AttachType::None, nullptr, true},
        {ProgramType::RawTracepoint},
        {ProgramType::LwtSeg6local, AttachType::None, nullptr, true},
        {ProgramType::RawTracepointWritable},
        {ProgramType::Tracing, AttachType::TraceRawTp, "sched_switch"},
    };
    return p;
}

std::vector<isa::RawInsn> call_program(std::int32_t id) { return {call_helper(id), mov64_imm(0, 0), exit_insn()}; }

/// '+' offered, '-' "cannot use helper", '?' the kernel refused before reaching the call (errno in `why`).
char kernel_offers(const Probe& p, std::int32_t id, std::string* why) {
    const auto insns = call_program(id);
    static char log[1 << 16];
    log[0] = 0;
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_size = sizeof log, .log_buf = log);
    opts.expected_attach_type = static_cast<bpf_attach_type>(p.attach);
    if (p.target) {
        const struct btf* vmlinux = verifier::vmlinux_btf();
        if (!vmlinux) return '?';
        const int btf_id =
            btf__find_by_name_kind(vmlinux, fmt::format("btf_trace_{}", p.target).c_str(), BTF_KIND_TYPEDEF);
        if (btf_id <= 0) return '?';
        opts.attach_btf_id = static_cast<std::uint32_t>(btf_id);
    }
    const int fd = bpf_prog_load(static_cast<bpf_prog_type>(p.type), "probe", "GPL",
                                 reinterpret_cast<const bpf_insn*>(insns.data()), insns.size(), &opts);
    const int err = errno;
    if (fd >= 0) {
        close(fd);
        return '+';
    }
    if (std::strstr(log, "cannot use helper")) return '-';
    if (std::strstr(log, "call ")) return '+';  // the verifier got past get_func_proto
    if (why) *why = fmt::format("errno {} ({})", err, std::strerror(err));
    return '?';
}

/// xbpf's answer: '-' when the leading finding is the kernel's "cannot use helper" message for this helper.
char xbpf_offers(const Probe& p, const helpers::Prototype& proto, bool privileged, std::string* message) {
    verifier::VerifyOptions o;
    o.type = p.type;
    o.attach = p.attach;
    o.privileged = privileged;
    if (p.target) o.attach_target = p.target;
    const auto insns = call_program(proto.id);
    const auto report = verifier::verify(insns, o);
    if (report.accepted || report.findings.empty()) return '+';
    *message = report.findings.front().message;
    return message->find("cannot use helper") != std::string::npos ? '-' : '+';
}

/// One row per probe: the kernel's answer for every known helper, as '+'/'-'/'?' characters.
std::vector<std::string> kernel_matrix() {
    std::vector<std::string> rows;
    for (const Probe& p : probes()) {
        std::string row;
        for (const auto& proto : helpers::all_prototypes()) row += kernel_offers(p, proto.id, nullptr);
        rows.push_back(std::move(row));
    }
    return rows;
}

/// Drops CAP_SYS_ADMIN and CAP_PERFMON, keeping CAP_BPF (perfmon_capable() becomes false).
bool drop_perfmon() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &header, data) != 0) return false;
    for (int cap : {CAP_SYS_ADMIN, CAP_PERFMON}) {
        data[cap / 32].effective &= ~(1u << (cap % 32));
        data[cap / 32].permitted &= ~(1u << (cap % 32));
    }
    return syscall(SYS_capset, &header, data) == 0;
}

/// kernel_matrix() computed in a child without CAP_PERFMON; rows of probes the child cannot load are empty.
std::vector<std::string> kernel_matrix_unprivileged(std::string* error) {
    int fds[2];
    if (pipe(fds) != 0) return {};
    const pid_t pid = fork();
    if (pid < 0) return {};
    if (pid == 0) {
        close(fds[0]);
        std::string out;
        if (!drop_perfmon()) {
            out = "!capset";
        } else {
            for (const Probe& p : probes()) {
                if (p.unprivileged_loadable)
                    for (const auto& proto : helpers::all_prototypes()) out += kernel_offers(p, proto.id, nullptr);
                out += '\n';
            }
        }
        std::size_t done = 0;
        while (done < out.size()) {
            const ssize_t n = write(fds[1], out.data() + done, out.size() - done);
            if (n <= 0) break;
            done += static_cast<std::size_t>(n);
        }
        _exit(0);
    }
    close(fds[1]);
    std::string all;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) all.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (all.starts_with("!")) {
        *error = all.substr(1);
        return {};
    }
    std::vector<std::string> rows;
    std::size_t start = 0;
    for (std::size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
        rows.push_back(all.substr(start, nl - start));
    return rows;
}

void compare(const std::vector<std::string>& kernel, bool privileged, int& compared, int& refused) {
    ASSERT_EQ(kernel.size(), probes().size());
    const auto protos = helpers::all_prototypes();
    for (std::size_t i = 0; i < probes().size(); ++i) {
        const Probe& p = probes()[i];
        if (kernel[i].empty()) continue;
        ASSERT_EQ(kernel[i].size(), protos.size());
        for (std::size_t h = 0; h < protos.size(); ++h) {
            const char k = kernel[i][h];
            std::string why;
            if (k == '?') {
                kernel_offers(p, protos[h].id, &why);
                ADD_FAILURE() << fmt::format(
                    "{} (attach {}) with bpf_{}: the kernel refused the probe before its "
                    "verifier ran: {}",
                    object::program_type_name(p.type), static_cast<int>(p.attach), protos[h].name, why);
                continue;
            }
            std::string message;
            const char x = xbpf_offers(p, protos[h], privileged, &message);
            ++compared;
            if (k == '-') ++refused;
            EXPECT_EQ(x, k) << fmt::format(
                "{}{} (attach {}) calling bpf_{}#{}: the kernel {} it, xbpf {}", privileged ? "" : "unprivileged ",
                object::program_type_name(p.type), static_cast<int>(p.attach), protos[h].name, protos[h].id,
                k == '-' ? "refuses" : "offers",
                x == '-' ? "refuses it" : "offers it" + (message.empty() ? std::string() : " (then: " + message + ")"));
            if (k == '-' && x == '-') {
                EXPECT_EQ(message, fmt::format("program of this type cannot use helper bpf_{}#{}", protos[h].name,
                                               protos[h].id));
            }
        }
    }
}

TEST(VerifierHelperAvailability, EveryTypeAndHelperAgreesWithKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << "bpf() unavailable: " << why;
    int compared = 0;
    int refused = 0;
    compare(kernel_matrix(), true, compared, refused);
    std::cout << fmt::format(
        "helper availability (privileged): {} (type, helper) pairs compared, {} refused by "
        "the kernel\n",
        compared, refused);
    // The table must not be trivially permissive: the kernel refuses some pairs of every family.
    EXPECT_GT(refused, 50);
}

TEST(VerifierHelperAvailability, UnprivilegedAgreesWithKernel) {
    std::string why;
    if (!kernel::available(&why)) GTEST_SKIP() << "bpf() unavailable: " << why;
    std::string error;
    const auto rows = kernel_matrix_unprivileged(&error);
    if (!error.empty()) GTEST_SKIP() << "cannot drop CAP_PERFMON: " << error;
    int compared = 0;
    int refused = 0;
    compare(rows, false, compared, refused);
    std::cout << fmt::format("helper availability (without CAP_PERFMON): {} pairs compared, {} refused\n", compared,
                             refused);
    EXPECT_GT(compared, 0);
}

/// Without the kernel: the table's shape on pairs the kernel documents (net/core/filter.c, kernel/trace/bpf_trace.c).
TEST(VerifierHelperAvailability, Table) {
    const auto t = [](ProgramType type) { return static_cast<std::uint32_t>(type); };
    EXPECT_FALSE(helpers::offered_to(44, t(ProgramType::SocketFilter), true));  // xdp_adjust_head
    EXPECT_TRUE(helpers::offered_to(44, t(ProgramType::Xdp), true));
    EXPECT_FALSE(helpers::offered_to(26, t(ProgramType::Xdp), true));  // skb_load_bytes
    EXPECT_TRUE(helpers::offered_to(26, t(ProgramType::SchedCls), true));
    EXPECT_FALSE(helpers::offered_to(4, t(ProgramType::SchedCls), true));  // probe_read: tracing only
    EXPECT_TRUE(helpers::offered_to(4, t(ProgramType::Kprobe), true));
    EXPECT_FALSE(helpers::offered_to(113, t(ProgramType::SocketFilter), false));  // probe_read_kernel needs perfmon
    EXPECT_TRUE(helpers::offered_to(113, t(ProgramType::SocketFilter), true));
    EXPECT_TRUE(helpers::offered_to(1, t(ProgramType::Unspec), true));  // raw programs: everything
    EXPECT_TRUE(helpers::offered_to(44, t(ProgramType::Unspec), false));
}

}  // namespace
}  // namespace xbpf::test
