#include "kernel/bpf_syscall.hpp"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace xbpf::kernel {

ProgFd& ProgFd::operator=(ProgFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        o.fd_ = -1;
    }
    return *this;
}

ProgFd::~ProgFd() {
    if (fd_ >= 0) ::close(fd_);
}

Result<ProgFd> load(std::span<const isa::RawInsn> insns, ProgType type, std::string* log) {
    static_assert(sizeof(isa::RawInsn) == sizeof(struct bpf_insn));
    std::string buf(1 << 20, '\0');
    LIBBPF_OPTS(bpf_prog_load_opts, opts);
    opts.log_buf = buf.data();
    opts.log_size = static_cast<__u32>(buf.size());
    opts.log_level = log ? 1 : 0;
    const int fd = bpf_prog_load(static_cast<enum bpf_prog_type>(type), nullptr, "GPL",
                                 reinterpret_cast<const struct bpf_insn*>(insns.data()), insns.size(), &opts);
    if (fd < 0 && log && errno == ENOSPC) {
        // The log did not fit: retry without it so the verdict is still known.
        opts.log_level = 0;
        opts.log_buf = nullptr;
        opts.log_size = 0;
        const int fd2 = bpf_prog_load(static_cast<enum bpf_prog_type>(type), nullptr, "GPL",
                                      reinterpret_cast<const struct bpf_insn*>(insns.data()), insns.size(), &opts);
        if (fd2 >= 0) return ProgFd(fd2);
    }
    if (log) *log = buf.c_str();
    if (fd < 0) {
        const int err = errno;
        return make_error(ErrorCode::kKernel,
                          fmt::format("BPF_PROG_LOAD: {}{}{}", std::strerror(err), buf[0] ? "\n" : "", buf.c_str()));
    }
    return ProgFd(fd);
}

bool available(std::string* why) {
    // r0 = 0; exit
    const isa::RawInsn prog[] = {{0xb7, 0, 0, 0, 0}, {0x95, 0, 0, 0, 0}};
    auto fd = load(prog, ProgType::SocketFilter);
    if (!fd) {
        if (why) *why = fd.error().message;
        return false;
    }
    return true;
}

Result<TestRunResult> test_run(const ProgFd& prog, std::span<const std::uint8_t> data, std::uint32_t repeat) {
    std::vector<std::uint8_t> in(data.begin(), data.end());
    std::vector<std::uint8_t> out(in.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts);
    opts.data_in = in.data();
    opts.data_size_in = static_cast<__u32>(in.size());
    opts.data_out = out.data();
    opts.data_size_out = static_cast<__u32>(out.size());
    opts.repeat = repeat;
    if (bpf_prog_test_run_opts(prog.get(), &opts) != 0) {
        const int err = errno;
        return make_error(ErrorCode::kKernel, fmt::format("BPF_PROG_TEST_RUN: {}", std::strerror(err)));
    }
    return TestRunResult{opts.retval, opts.duration};
}

}  // namespace xbpf::kernel
