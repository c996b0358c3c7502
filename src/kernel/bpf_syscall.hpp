// The Linux back end's lowest layer: the bpf() syscall for loading and test-running raw programs.
// Used by the kernel differential tests and the benchmarks; a fuller back end (maps, attach) builds on it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::kernel {

/// Linux program types used here (include/uapi/linux/bpf.h, enum bpf_prog_type).
enum class ProgType : std::uint32_t {
    SocketFilter = 1,
    SchedCls = 3,
    Xdp = 6,
};

/// An owned file descriptor of a loaded kernel program.
class ProgFd {
  public:
    ProgFd() = default;
    explicit ProgFd(int fd) : fd_(fd) {}
    ProgFd(ProgFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    ProgFd& operator=(ProgFd&& o) noexcept;
    ProgFd(const ProgFd&) = delete;
    ProgFd& operator=(const ProgFd&) = delete;
    ~ProgFd();
    [[nodiscard]] int get() const { return fd_; }

  private:
    int fd_ = -1;
};

/// Why the kernel did not accept a program: errno plus the verifier log.
struct LoadFailure {
    int err = 0;
    std::string log;
};

/// True when bpf() works here (a trivial socket filter loads). `why` receives the reason when not.
bool available(std::string* why = nullptr);

/// BPF_PROG_LOAD. On rejection the Error message holds errno's text and the verifier log.
Result<ProgFd> load(std::span<const isa::RawInsn> insns, ProgType type, std::string* log = nullptr);

/// Result of BPF_PROG_TEST_RUN.
struct TestRunResult {
    std::uint32_t retval = 0;       ///< the kernel reports r0 truncated to 32 bits
    std::uint32_t duration_ns = 0;  ///< average per run, measured by the kernel
};

/// BPF_PROG_TEST_RUN with `data` as the packet, repeated `repeat` times.
Result<TestRunResult> test_run(const ProgFd& prog, std::span<const std::uint8_t> data, std::uint32_t repeat = 1);

}  // namespace xbpf::kernel
