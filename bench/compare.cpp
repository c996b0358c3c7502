// xbpf-compare-compute: one run, every engine side by side on the compute kernels (bench/README.md).
//
//   xbpf-compare-compute [--json] [--kernel NAME]... [--seed N] [--batch-ms N] [--reps N] [--keep-going]
//
//   xbpf-compare-compute --check [--kernel NAME]...
//
// For each kernel: the result is first checked to agree across engines on 16 seeds (exit 1 if not); then each
// engine is timed in `reps` interleaved batches of about `batch-ms` milliseconds of thread CPU time (the Linux
// kernel: its own BPF_PROG_TEST_RUN timer over `repeat` runs), and the fastest batch is kept (interference from
// other processes only ever adds time). Ratios compare figures from this same run.
#include <sys/utsname.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compute_common.hpp"
#include "switch_baseline.hpp"

namespace {

using xbpf::bench::ComputeKernel;
using xbpf::bench::KernelRunner;
using xbpf::bench::XbpfRunner;

struct Options {
    bool json = false;
    bool keep_going = false;
    bool check_only = false;
    std::vector<std::string> kernels;
    std::uint32_t seed = 0x12345678u;
    double batch_ms = 20;
    int reps = 5;
};

/// One kernel's figures; nullopt where an engine is unavailable or disagreed.
struct Row {
    std::string name;
    std::size_t program_slots = 0;
    std::uint64_t insns = 0;  ///< BPF instructions executed per run (checked-mode count)
    std::optional<std::uint64_t> verifier_insns;
    std::optional<double> native_ns, jit_ns, interp_ns, checked_ns, switch_ns;
    std::optional<double> xjit_ns, xjit_checked_ns;  ///< xbpf's JIT: from the verifier's facts, and checked
    std::string note;
};

[[noreturn]] void usage(int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: xbpf-compare-compute [--json] [--kernel NAME]... [--seed N] [--batch-ms N] [--reps N] "
                 "[--keep-going]\n"
                 "       xbpf-compare-compute --check [--kernel NAME]...   (cross-engine results only, no timing)\n");
    std::exit(code);
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage(2);
            return argv[++i];
        };
        try {
            if (a == "--json")
                o.json = true;
            else if (a == "--keep-going")
                o.keep_going = true;
            else if (a == "--check")
                o.check_only = true;
            else if (a == "--kernel")
                o.kernels.push_back(value());
            else if (a == "--seed")
                o.seed = static_cast<std::uint32_t>(std::stoul(value(), nullptr, 0));
            else if (a == "--batch-ms")
                o.batch_ms = std::stod(value());
            else if (a == "--reps")
                o.reps = std::max(1, std::stoi(value()));
            else if (a == "-h" || a == "--help")
                usage(0);
            else
                usage(2);
        } catch (const std::exception&) {
            usage(2);
        }
    }
    return o;
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(line.find_first_not_of(" \t", colon + 1));
        }
    return "unknown";
}

std::string kernel_release() {
    utsname u{};
    return uname(&u) == 0 ? u.release : "unknown";
}

std::string jit_setting() {
    std::ifstream in("/proc/sys/net/core/bpf_jit_enable");
    std::string v;
    return in >> v ? v : "unknown";
}

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

/// CPU ns per call of `fn(n)` (which runs the engine n times), fastest of `reps` batches of about
/// `batch_ms`. Batch sizes are calibrated once per engine.
class Timer {
  public:
    explicit Timer(const Options& o) : batch_ns_(o.batch_ms * 1e6) {}

    /// Iterations for one batch of `fn`.
    std::uint64_t calibrate(const std::function<void(std::uint64_t)>& fn) const {
        std::uint64_t n = 1;
        for (;;) {
            const double ns = elapsed(fn, n);
            if (ns >= batch_ns_ / 10 || n >= (1ull << 30)) {
                return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(n * batch_ns_ / std::max(ns, 1.0)));
            }
            n *= 4;
        }
    }

    /// This thread's CPU time for fn(n), in ns: time the scheduler gives to other processes is not counted,
    /// as the kernel's BPF_PROG_TEST_RUN timer does not count it either.
    static double elapsed(const std::function<void(std::uint64_t)>& fn, std::uint64_t n) {
        const double t0 = thread_cpu_ns();
        fn(n);
        return thread_cpu_ns() - t0;
    }

  private:
    double batch_ns_;
};

double geomean(const std::vector<double>& v) {
    double s = 0;
    for (const double x : v) s += std::log(x);
    return v.empty() ? 0 : std::exp(s / static_cast<double>(v.size()));
}

std::string fmt_ns(const std::optional<double>& v) { return v ? fmt::format("{:.0f}", *v) : "n/a"; }
std::string fmt_ratio(const std::optional<double>& a, const std::optional<double>& b) {
    return a && b && *b > 0 ? fmt::format("{:.1f}x", *a / *b) : "n/a";
}
std::string fmt_ratio2(const std::optional<double>& a, const std::optional<double>& b) {
    return a && b && *b > 0 ? fmt::format("{:.2f}x", *a / *b) : "n/a";
}
std::string fmt_per(const std::optional<double>& ns, std::uint64_t insns) {
    return ns && insns ? fmt::format("{:.2f}", *ns / static_cast<double>(insns)) : "n/a";
}

[[noreturn]] void fatal(const std::string& what) {
    std::fprintf(stderr, "xbpf-compare-compute: %s\n", what.c_str());
    std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
    const Options opt = parse(argc, argv);

    std::vector<const ComputeKernel*> kernels;
    if (opt.kernels.empty()) {
        for (const auto& k : xbpf::bench::compute_kernels()) kernels.push_back(&k);
    } else {
        for (const auto& name : opt.kernels) {
            const auto* k = xbpf::bench::find_kernel(name);
            if (!k) fatal("no kernel named " + name);
            kernels.push_back(k);
        }
    }

    std::string no_kernel_why;
    const bool have_kernel = xbpf::bench::kernel_available(&no_kernel_why);
    if (!have_kernel)
        std::fprintf(stderr, "xbpf-compare-compute: Linux kernel column n/a: %s\n", no_kernel_why.c_str());

    const Timer timer(opt);
    std::vector<Row> rows;
    bool mismatch = false;
    int passed = 0;
    int failed = 0;
    for (const ComputeKernel* k : kernels) {
        Row row;
        row.name = std::string(k->name);
        row.program_slots = k->raw.size();

        auto interp = XbpfRunner::create(*k);
        if (!interp) fatal(fmt::format("{}: xbpf cannot load the program: {}", k->name, interp.error().to_string()));
        std::optional<KernelRunner> kern;
        if (have_kernel) {
            auto r = KernelRunner::create(*k, /*verifier_stats=*/!opt.check_only);
            if (!r) fatal(fmt::format("{}: the Linux kernel rejected the program: {}", k->name, r.error().message));
            row.verifier_insns = r->verifier_insns();
            kern = std::move(*r);
        }

        // Same answer from every engine before anything is timed.
        const auto check =
            xbpf::bench::cross_check(*k, interp->get(), kern ? &*kern : nullptr, xbpf::bench::check_seeds());
        const bool interp_ok = check.xbpf_ok;
        if (opt.check_only) {
            for (const auto& p : check.problems) std::fprintf(stderr, "MISMATCH %s\n", p.c_str());
            fmt::print("{:<9} {} ({} seeds; native, xbpf interpreter and JIT, checked + unchecked{})\n", k->name,
                       check.ok() ? "ok" : "FAILED", xbpf::bench::check_seeds().size(), kern ? ", Linux kernel" : "");
            ++(check.ok() ? passed : failed);
            continue;
        }
        if (!check.ok()) {
            mismatch = true;
            for (const auto& p : check.problems) std::fprintf(stderr, "MISMATCH %s\n", p.c_str());
            if (!opt.keep_going)
                fatal(fmt::format("{}: engines disagree; not timing (--keep-going times the engines that agree)",
                                  k->name));
            if (!check.xbpf_ok) row.note = "xbpf disagrees with native";
            if (!check.kernel_ok) {
                row.note += row.note.empty() ? "kernel disagrees with native" : "; kernel too";
                kern.reset();
            }
        }
        if (interp_ok) {
            auto counted = (*interp)->run(opt.seed, true);
            if (!counted) fatal(fmt::format("{}: {}", k->name, counted.error().to_string()));
            row.insns = counted->insns;
        }

        // Calibrate each engine, then interleave the timed batches.
        const std::uint32_t seed = opt.seed;
        std::uint32_t sink = 0;
        auto native_fn = [&](std::uint64_t n) {
            for (std::uint64_t i = 0; i < n; ++i) sink ^= xbpf::bench::run_native(*k, seed);
        };
        auto interp_fn = [&](xbpf::bench::XbpfEngine engine) {
            return [&, engine](std::uint64_t n) {
                for (std::uint64_t i = 0; i < n; ++i) {
                    auto r = (*interp)->run(seed, engine);
                    if (!r) fatal(fmt::format("{}: {}", k->name, r.error().to_string()));
                    sink ^= static_cast<std::uint32_t>(r->r0);
                }
            };
        };
        // The uBPF-style switch loop (bench/switch_baseline.hpp), checked against native first.
        std::array<std::uint8_t, 64> baseline_mem{};
        auto baseline_once = [&]() {
            baseline_mem.fill(0);
            std::memcpy(baseline_mem.data(), &seed, sizeof(seed));
            return xbpf::bench::run_switch_baseline(k->raw, baseline_mem);
        };
        const auto baseline_result = baseline_once();
        const bool baseline_ok =
            baseline_result && static_cast<std::uint32_t>(*baseline_result) == xbpf::bench::run_native(*k, seed);
        if (!baseline_ok)
            std::fprintf(stderr, "%s: switch baseline disagrees with native; not timed\n", row.name.c_str());
        auto baseline_fn = [&](std::uint64_t n) {
            for (std::uint64_t i = 0; i < n; ++i) sink ^= static_cast<std::uint32_t>(baseline_once().value_or(0));
        };
        const std::uint64_t n_baseline = baseline_ok ? timer.calibrate(baseline_fn) : 0;
        using xbpf::bench::XbpfEngine;
        const auto unchecked_fn = interp_fn(XbpfEngine::Interp);
        const auto checked_fn = interp_fn(XbpfEngine::InterpChecked);
        const auto xjit_fn = interp_fn(XbpfEngine::Jit);
        const auto xjit_checked_fn = interp_fn(XbpfEngine::JitChecked);
        const std::uint64_t n_native = timer.calibrate(native_fn);
        const std::uint64_t n_unchecked = interp_ok ? timer.calibrate(unchecked_fn) : 0;
        const std::uint64_t n_checked = interp_ok ? timer.calibrate(checked_fn) : 0;
        const std::uint64_t n_xjit = interp_ok ? timer.calibrate(xjit_fn) : 0;
        const std::uint64_t n_xjit_checked = interp_ok ? timer.calibrate(xjit_checked_fn) : 0;
        std::uint32_t repeat = 1;
        if (kern) {
            auto once = kern->run(seed, 64);
            if (!once) fatal(fmt::format("{}: {}", k->name, once.error().to_string()));
            const double per = std::max<double>(1, once->duration_ns);
            repeat = static_cast<std::uint32_t>(std::clamp(opt.batch_ms * 1e6 / per, 1.0, 1e7));
        }

        for (int rep = 0; rep < opt.reps; ++rep) {
            auto keep_min = [](std::optional<double>& best, double v) { best = best ? std::min(*best, v) : v; };
            keep_min(row.native_ns, Timer::elapsed(native_fn, n_native) / static_cast<double>(n_native));
            if (kern) {
                auto r = kern->run(seed, repeat);
                if (!r) fatal(fmt::format("{}: {}", k->name, r.error().to_string()));
                keep_min(row.jit_ns, r->duration_ns);
            }
            if (interp_ok) {
                keep_min(row.interp_ns, Timer::elapsed(unchecked_fn, n_unchecked) / static_cast<double>(n_unchecked));
                keep_min(row.checked_ns, Timer::elapsed(checked_fn, n_checked) / static_cast<double>(n_checked));
                keep_min(row.xjit_ns, Timer::elapsed(xjit_fn, n_xjit) / static_cast<double>(n_xjit));
                keep_min(row.xjit_checked_ns,
                         Timer::elapsed(xjit_checked_fn, n_xjit_checked) / static_cast<double>(n_xjit_checked));
            }
            if (baseline_ok)
                keep_min(row.switch_ns, Timer::elapsed(baseline_fn, n_baseline) / static_cast<double>(n_baseline));
        }
        if (sink == 0x5eed5eedu) std::fprintf(stderr, " ");  // keeps `sink` alive
        rows.push_back(std::move(row));
    }

    if (opt.check_only) {
        fmt::print("{} passed, {} failed\n", passed, failed);
        return failed ? 1 : 0;
    }

    // Geometric means of the ratios over kernels that have both figures.
    std::vector<double> r_native, r_jit, r_checked, r_switch, x_native, x_kjit, x_checked, x_interp;
    for (const auto& r : rows) {
        if (r.xjit_ns && r.native_ns) x_native.push_back(*r.xjit_ns / *r.native_ns);
        if (r.xjit_ns && r.jit_ns) x_kjit.push_back(*r.xjit_ns / *r.jit_ns);
        if (r.xjit_ns && r.xjit_checked_ns) x_checked.push_back(*r.xjit_checked_ns / *r.xjit_ns);
        if (r.xjit_ns && r.interp_ns) x_interp.push_back(*r.interp_ns / *r.xjit_ns);
        if (r.switch_ns && r.checked_ns) r_switch.push_back(*r.switch_ns / *r.checked_ns);
        if (r.interp_ns && r.native_ns) r_native.push_back(*r.interp_ns / *r.native_ns);
        if (r.interp_ns && r.jit_ns) r_jit.push_back(*r.interp_ns / *r.jit_ns);
        if (r.interp_ns && r.checked_ns) r_checked.push_back(*r.checked_ns / *r.interp_ns);
    }

    if (opt.json) {
        nlohmann::json j;
        j["machine"] = {{"cpu", cpu_model()},
                        {"nproc", std::thread::hardware_concurrency()},
                        {"kernel", kernel_release()},
                        {"bpf_jit_enable", jit_setting()}};
        j["method"] = {{"seed", opt.seed},
                       {"batch_ms", opt.batch_ms},
                       {"reps", opt.reps},
                       {"statistic", "min"},
                       {"clock", "thread CPU time; kernel: BPF_PROG_TEST_RUN duration"}};
        auto opt_num = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
        auto ratio = [](const std::optional<double>& a, const std::optional<double>& b) {
            return a && b && *b > 0 ? nlohmann::json(*a / *b) : nlohmann::json(nullptr);
        };
        j["kernels"] = nlohmann::json::array();
        for (const auto& r : rows) {
            nlohmann::json e = {
                {"name", r.name},
                {"program_slots", r.program_slots},
                {"insns_per_run", r.insns},
                {"kernel_verifier_processed_insns", r.verifier_insns ? nlohmann::json(*r.verifier_insns) : nullptr},
                {"native_ns", opt_num(r.native_ns)},
                {"kernel_jit_ns", opt_num(r.jit_ns)},
                {"xbpf_jit_ns", opt_num(r.xjit_ns)},
                {"xbpf_jit_checked_ns", opt_num(r.xjit_checked_ns)},
                {"xbpf_jit_over_native", ratio(r.xjit_ns, r.native_ns)},
                {"xbpf_jit_over_kernel_jit", ratio(r.xjit_ns, r.jit_ns)},
                {"xbpf_jit_checked_over_jit", ratio(r.xjit_checked_ns, r.xjit_ns)},
                {"interp_over_xbpf_jit", ratio(r.interp_ns, r.xjit_ns)},
                {"interp_ns", opt_num(r.interp_ns)},
                {"interp_checked_ns", opt_num(r.checked_ns)},
                {"interp_ns_per_insn", r.interp_ns && r.insns ? nlohmann::json(*r.interp_ns / r.insns) : nullptr},
                {"interp_checked_ns_per_insn",
                 r.checked_ns && r.insns ? nlohmann::json(*r.checked_ns / r.insns) : nullptr},
                {"interp_over_native", ratio(r.interp_ns, r.native_ns)},
                {"interp_over_kernel_jit", ratio(r.interp_ns, r.jit_ns)},
                {"checked_over_unchecked", ratio(r.checked_ns, r.interp_ns)},
                {"switch_baseline_ns", opt_num(r.switch_ns)},
                {"switch_baseline_over_checked", ratio(r.switch_ns, r.checked_ns)},
            };
            if (!r.note.empty()) e["note"] = r.note;
            j["kernels"].push_back(std::move(e));
        }
        auto gm = [](const std::vector<double>& v) {
            return v.empty() ? nlohmann::json(nullptr) : nlohmann::json(geomean(v));
        };
        j["geomean"] = {{"xbpf_jit_over_native", gm(x_native)},       {"xbpf_jit_over_kernel_jit", gm(x_kjit)},
                        {"xbpf_jit_checked_over_jit", gm(x_checked)}, {"interp_over_xbpf_jit", gm(x_interp)},
                        {"interp_over_native", gm(r_native)},         {"interp_over_kernel_jit", gm(r_jit)},
                        {"checked_over_unchecked", gm(r_checked)},    {"switch_baseline_over_checked", gm(r_switch)}};
        std::cout << j.dump(2) << "\n";
        return mismatch ? 1 : 0;
    }

    fmt::print("xbpf compute comparison: {} ({} cpus), Linux {}, bpf_jit_enable={}\n", cpu_model(),
               std::thread::hardware_concurrency(), kernel_release(), jit_setting());
    fmt::print("seed {:#x}; ns per run, fastest of {} interleaved batches of ~{} ms CPU time per engine\n\n", opt.seed,
               opt.reps, opt.batch_ms);
    auto gm_text = [](const std::vector<double>& v) {
        return v.empty() ? std::string("n/a") : fmt::format("{:.2f}x", geomean(v));
    };
    // The JIT first: xbpf's JIT against native code and the kernel's JIT.
    const auto jit_line =
        fmt::format("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>9} {:>10} {:>10}\n", "kernel", "insns/run", "native",
                    "kernel-JIT", "xbpf-JIT", "ns/insn", "JIT/nat", "JIT/kJIT", "JIT-chk", "chk/JIT");
    fmt::print("{}", jit_line);
    fmt::print("{}\n", std::string(jit_line.size() - 1, '-'));
    for (const auto& r : rows) {
        fmt::print("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>9} {:>10} {:>10}\n", r.name,
                   r.insns ? std::to_string(r.insns) : "n/a", fmt_ns(r.native_ns), fmt_ns(r.jit_ns), fmt_ns(r.xjit_ns),
                   fmt_per(r.xjit_ns, r.insns), fmt_ratio2(r.xjit_ns, r.native_ns), fmt_ratio2(r.xjit_ns, r.jit_ns),
                   fmt_ns(r.xjit_checked_ns), fmt_ratio2(r.xjit_checked_ns, r.xjit_ns));
    }
    fmt::print("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>9} {:>10} {:>10}\n\n", "geomean", "", "", "", "", "",
               gm_text(x_native), gm_text(x_kjit), "", gm_text(x_checked));
    const auto line = fmt::format("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>8} {:>10} {:>10} {:>9} {:>9} {:>10}\n",
                                  "kernel", "insns/run", "native", "kernel-JIT", "interp", "ns/insn", "checked",
                                  "ns/insn", "interp/nat", "interp/JIT", "chk/unchk", "switch", "switch/chk");
    fmt::print("{}", line);
    fmt::print("{}\n", std::string(line.size() - 1, '-'));
    for (const auto& r : rows) {
        fmt::print("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>8} {:>10} {:>10} {:>9} {:>9} {:>10}{}\n", r.name,
                   r.insns ? std::to_string(r.insns) : "n/a", fmt_ns(r.native_ns), fmt_ns(r.jit_ns),
                   fmt_ns(r.interp_ns), fmt_per(r.interp_ns, r.insns), fmt_ns(r.checked_ns),
                   fmt_per(r.checked_ns, r.insns), fmt_ratio(r.interp_ns, r.native_ns),
                   fmt_ratio(r.interp_ns, r.jit_ns), fmt_ratio(r.checked_ns, r.interp_ns), fmt_ns(r.switch_ns),
                   fmt_ratio(r.switch_ns, r.checked_ns), r.note.empty() ? "" : "  (" + r.note + ")");
    }
    fmt::print("{:<9} {:>9} {:>9} {:>10} {:>9} {:>8} {:>9} {:>8} {:>10} {:>10} {:>9} {:>9} {:>10}\n", "geomean", "", "",
               "", "", "", "", "", gm_text(r_native), gm_text(r_jit), gm_text(r_checked), "", gm_text(r_switch));
    return mismatch ? 1 : 0;
}
