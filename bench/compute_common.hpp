// The compute benchmark suite's shared pieces: the kernel table (BPF bytecode extracted at build time plus the
// native twin of each kernel) and one small runner per engine. Used by compute_bench.cpp (Google Benchmark)
// and compare.cpp (the side-by-side table).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"
#include "kernel/bpf_syscall.hpp"
#include "vm/vm.hpp"

namespace xbpf::bench {

/// One compute kernel (bench/kernels/compute_kernels.h): the same C source built three ways.
struct ComputeKernel {
    std::string_view name;
    std::vector<isa::RawInsn> raw;                     ///< xbpf raw-memory convention: r1 = memory, seed in bytes 0..3
    std::vector<isa::RawInsn> xdp;                     ///< Linux XDP program: seed in the packet's bytes 0..3
    std::uint32_t (*native)(std::uint32_t) = nullptr;  ///< host compiler, -O2
};

/// Every kernel, in the order of XBPF_COMPUTE_KERNELS. Aborts if the build's bytecode table and the native
/// table disagree, or if a program contains a call (both are build bugs, not input errors).
const std::vector<ComputeKernel>& compute_kernels();

/// The kernel named `name`, or nullptr.
const ComputeKernel* find_kernel(std::string_view name);

/// Seeds the cross-engine result check runs (the first is the one timed).
std::vector<std::uint32_t> check_seeds();

/// Calls the native kernel with a seed read through a volatile, so nothing can be folded at compile time.
std::uint32_t run_native(const ComputeKernel& kernel, std::uint32_t seed);

/// How xbpf runs a kernel.
enum class XbpfEngine : std::uint8_t {
    Interp,         ///< the interpreter, unchecked (as for a verified program)
    InterpChecked,  ///< the interpreter, checked mode (bounds + budget)
    Jit,            ///< JIT code built from the verifier's facts (the default for a verified program)
    JitChecked,     ///< JIT code with run-time checks (as for `--no-verify`)
};

/// The engine's name in tables ("xbpf JIT (checked)").
const char* engine_name(XbpfEngine engine);

/// xbpf on a kernel's raw program. The memory it gets is 64 bytes with the seed at offset 0, registered as the only
/// region (checked mode). The program is verified (raw memory of 64 bytes) and compiled twice by the JIT: from the
/// verifier's facts, and with run-time checks. Not movable: the run input points at its own memory.
class XbpfRunner {
  public:
    static Result<std::unique_ptr<XbpfRunner>> create(const ComputeKernel& kernel);

    /// One run. RunResult::insns counts instructions in the checked interpreter.
    Result<vm::RunResult> run(std::uint32_t seed, XbpfEngine engine);
    /// The interpreter, checked or not (the older form).
    Result<vm::RunResult> run(std::uint32_t seed, bool checked) {
        return run(seed, checked ? XbpfEngine::InterpChecked : XbpfEngine::Interp);
    }

    XbpfRunner(const XbpfRunner&) = delete;
    XbpfRunner& operator=(const XbpfRunner&) = delete;

  private:
    XbpfRunner(vm::Program program, vm::Program jit, vm::Program jit_checked);
    vm::Program program_;      // no native code: the interpreter
    vm::Program jit_;          // JIT code from the verifier's facts
    vm::Program jit_checked_;  // JIT code with run-time checks
    std::array<std::uint8_t, 64> mem_{};
    vm::RunInput input_;
};

/// The Linux kernel (verifier + JIT when net.core.bpf_jit_enable=1) on a kernel's XDP program through
/// BPF_PROG_TEST_RUN with a 64-byte packet.
/// Cost model: every XDP test-run call swaps the program into the XDP dispatcher and back, two RCU grace periods
/// (milliseconds); the kernel's reported duration excludes that. So time with few calls and a large `repeat`.
class KernelRunner {
  public:
    /// Loads the program. Fails when bpf() is unavailable or the verifier rejects it (the message has the log).
    /// `verifier_stats` loads it a second time if needed to learn verifier_insns() (costs one more verification).
    static Result<KernelRunner> create(const ComputeKernel& kernel, bool verifier_stats = false);

    /// `repeat` runs in the kernel; duration_ns is the kernel's per-run average.
    Result<kernel::TestRunResult> run(std::uint32_t seed, std::uint32_t repeat);

    /// Instructions the verifier processed to accept the program ("processed N insns"), if it said.
    [[nodiscard]] std::optional<std::uint64_t> verifier_insns() const { return verifier_insns_; }

  private:
    kernel::ProgFd fd_;
    std::array<std::uint8_t, 64> packet_{};
    std::optional<std::uint64_t> verifier_insns_;
};

/// True when the Linux back end can be used here; `why` gets the reason when not. Computed once.
bool kernel_available(std::string* why = nullptr);

/// What cross_check found: one line per disagreement or engine error, and which engines were at fault.
struct CheckReport {
    std::vector<std::string> problems;
    bool xbpf_ok = true;
    bool kernel_ok = true;
    [[nodiscard]] bool ok() const { return problems.empty(); }
};

/// Runs every engine given (null ones are skipped) on `seeds` and compares with the native result.
CheckReport cross_check(const ComputeKernel& kernel, XbpfRunner* xbpf, KernelRunner* linux_kernel,
                        const std::vector<std::uint32_t>& seeds);

}  // namespace xbpf::bench
