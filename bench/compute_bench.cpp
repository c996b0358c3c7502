// xbpf-bench-compute: Google Benchmark over the compute kernels (bench/README.md). Per kernel:
//   compute/NAME/native             the kernel compiled by the host compiler at -O2
//   compute/NAME/xbpf_jit           xbpf's JIT, code built from the verifier's facts
//   compute/NAME/xbpf_jit_checked   xbpf's JIT with run-time checks (bounds + budget)
//   compute/NAME/xbpf_interp        the xbpf interpreter, unchecked mode
//   compute/NAME/xbpf_interp_checked  the xbpf interpreter, checked mode (bounds + budget)
//   compute/NAME/kernel_jit         the Linux kernel through BPF_PROG_TEST_RUN: each iteration is one test run of
//                                   about kKernelBatchNs of program time (`repeat` runs); its manual time is the
//                                   kernel's own per-run average. A fixed, small iteration count: every XDP test
//                                   run call costs two RCU grace periods that the kernel's figure leaves out.
// Time is per kernel run for all of them. Every engine's result is checked against the native one on 16 seeds
// before any benchmark runs; the binary aborts on a disagreement.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "compute_common.hpp"

namespace {

using xbpf::bench::ComputeKernel;
using xbpf::bench::KernelRunner;
using xbpf::bench::XbpfRunner;

constexpr std::uint32_t kSeed = 0x12345678u;
constexpr double kKernelBatchNs = 20e6;
constexpr int kKernelIterations = 5;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "xbpf-bench-compute: %s\n", what.c_str());
    std::abort();
}

void bm_native(benchmark::State& state, const ComputeKernel* k) {
    for (auto _ : state) benchmark::DoNotOptimize(xbpf::bench::run_native(*k, kSeed));
}

void bm_xbpf(benchmark::State& state, const ComputeKernel* k, xbpf::bench::XbpfEngine engine) {
    auto runner = XbpfRunner::create(*k);
    if (!runner) return state.SkipWithError(runner.error().to_string().c_str());
    std::uint64_t insns = 0;
    if (auto counted = (*runner)->run(kSeed, true)) insns = counted->insns;
    for (auto _ : state) {
        auto r = (*runner)->run(kSeed, engine);
        if (!r) return state.SkipWithError(r.error().to_string().c_str());
        benchmark::DoNotOptimize(r->r0);
    }
    // BPF instructions executed per second (checked-mode count), shown as bpf_insns=...
    state.counters["bpf_insns"] =
        benchmark::Counter(static_cast<double>(insns), benchmark::Counter::kIsIterationInvariantRate);
}

void bm_kernel_jit(benchmark::State& state, const ComputeKernel* k) {
    std::string why;
    if (!xbpf::bench::kernel_available(&why)) return state.SkipWithError(("bpf() unavailable: " + why).c_str());
    auto runner = KernelRunner::create(*k);
    if (!runner) return state.SkipWithError(runner.error().message.c_str());
    auto probe = runner->run(kSeed, 64);
    if (!probe) return state.SkipWithError(probe.error().to_string().c_str());
    const double per_run = std::max(1.0, static_cast<double>(probe->duration_ns));
    const auto repeat = static_cast<std::uint32_t>(std::clamp(kKernelBatchNs / per_run, 1.0, 1e7));
    for (auto _ : state) {
        auto r = runner->run(kSeed, repeat);
        if (!r) return state.SkipWithError(r.error().to_string().c_str());
        state.SetIterationTime(static_cast<double>(r->duration_ns) * 1e-9);
    }
    state.counters["repeat"] = repeat;
}

/// Every engine must agree with native code before anything is timed.
void check_all() {
    bool bad = false;
    for (const auto& k : xbpf::bench::compute_kernels()) {
        auto interp = XbpfRunner::create(k);
        if (!interp) die(fmt::format("{}: xbpf cannot load the program: {}", k.name, interp.error().to_string()));
        std::unique_ptr<KernelRunner> kern;
        if (xbpf::bench::kernel_available()) {
            auto r = KernelRunner::create(k);
            if (!r) die(fmt::format("{}: the Linux kernel rejected the program: {}", k.name, r.error().message));
            kern = std::make_unique<KernelRunner>(std::move(*r));
        }
        const auto report = xbpf::bench::cross_check(k, interp->get(), kern.get(), xbpf::bench::check_seeds());
        for (const auto& p : report.problems) std::fprintf(stderr, "MISMATCH %s\n", p.c_str());
        bad = bad || !report.ok();
    }
    if (bad) die("engines disagree on the results above; refusing to time them");
}

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    check_all();
    for (const auto& k : xbpf::bench::compute_kernels()) {
        const std::string base = fmt::format("compute/{}/", k.name);
        benchmark::RegisterBenchmark((base + "native").c_str(), bm_native, &k);
        using xbpf::bench::XbpfEngine;
        benchmark::RegisterBenchmark((base + "xbpf_jit").c_str(), bm_xbpf, &k, XbpfEngine::Jit);
        benchmark::RegisterBenchmark((base + "xbpf_jit_checked").c_str(), bm_xbpf, &k, XbpfEngine::JitChecked);
        benchmark::RegisterBenchmark((base + "xbpf_interp").c_str(), bm_xbpf, &k, XbpfEngine::Interp);
        benchmark::RegisterBenchmark((base + "xbpf_interp_checked").c_str(), bm_xbpf, &k, XbpfEngine::InterpChecked);
        benchmark::RegisterBenchmark((base + "kernel_jit").c_str(), bm_kernel_jit, &k)
            ->UseManualTime()
            ->Iterations(kKernelIterations);
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
