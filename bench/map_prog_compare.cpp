// Map operations from a program, xbpf next to the Linux kernel in the same run (bench/RESULTS.md, "Maps from a
// program"). The programs of bench/kernels/map_ops.bpf.c each do 256 map operations per run; both engines load the
// same parsed object (vm::Object::load / kernel::Object::load), get the same 1,024 keys written from the host, and run
// each program with BPF_PROG_TEST_RUN semantics and `repeat`. ns/op = run time / 256; "net" subtracts the run time
// of `loop_only` (the same loop and key arithmetic without the helper call) measured on the same engine.
//
// xbpf runs the programs in unchecked mode: the kernel's verifier accepted every one of them (xbpf's own verifier
// is not there yet); checked mode is reported too.
//
//   xbpf-compare-map-prog            the table
//   xbpf-compare-map-prog --check    run each program once on both engines; exit 1 if any return value differs
#include <bpf/bpf.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "kernel/bpf_syscall.hpp"
#include "kernel/object_loader.hpp"
#include "maps/cpu.hpp"
#include "object/object_spec.hpp"
#include "vm/object.hpp"

namespace {

using namespace xbpf;

constexpr std::uint32_t kKeys = 1024;
constexpr double kOps = 256;

struct Row {
    const char* map;
    const char* op;
    const char* program;
};

constexpr Row kRows[] = {
    {"hash", "lookup", "lookup_hash"},
    {"hash", "update", "update_hash"},
    {"hash", "delete+insert", "delete_hash"},
    {"array", "lookup", "lookup_array"},
    {"array", "update", "update_array"},
    {"lru_hash", "lookup", "lookup_lru_hash"},
    {"lru_hash", "update", "update_lru_hash"},
    {"lru_hash", "delete+insert", "delete_lru_hash"},
    {"percpu_array", "lookup", "lookup_percpu_array"},
    {"percpu_array", "update", "update_percpu_array"},
    {"percpu_hash", "lookup", "lookup_percpu_hash"},
    {"percpu_hash", "update", "update_percpu_hash"},
    {"percpu_hash", "delete+insert", "delete_percpu_hash"},
};

/// The host-side value of key k: k + 1 in every CPU slot for per-CPU maps.
std::vector<std::uint8_t> value_for(std::uint32_t key, std::size_t bytes) {
    std::vector<std::uint8_t> v(bytes);
    const std::uint64_t x = key + 1;
    for (std::size_t off = 0; off + 8 <= bytes; off += 8) std::memcpy(v.data() + off, &x, 8);
    return v;
}

bool fill_xbpf(const vm::Object& obj) {
    for (const auto& m : obj.maps()) {
        if (m->spec().name.starts_with(".")) continue;  // no global data in this object, but be safe
        for (std::uint32_t k = 0; k < kKeys; ++k) {
            const auto v = value_for(k, m->host_value_size());
            if (m->update_host(&k, v.data(), 0) != 0) return false;
        }
    }
    return true;
}

bool fill_kernel(const kernel::Object& obj) {
    for (const maps::MapSpec& spec : obj.spec().maps) {
        const int fd = obj.map_fd(spec.name);
        const bool percpu = spec.type == maps::MapType::PercpuArray || spec.type == maps::MapType::PercpuHash;
        const std::size_t bytes = percpu ? 8 * maps::num_possible_cpus() : 8;
        for (std::uint32_t k = 0; k < kKeys; ++k) {
            const auto v = value_for(k, bytes);
            if (bpf_map_update_elem(fd, &k, v.data(), 0) != 0) return false;
        }
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const bool check = argc > 1 && std::string_view(argv[1]) == "--check";
    auto spec = object::parse_object_file(XBPF_MAP_OPS_OBJECT);
    if (!spec) {
        std::fprintf(stderr, "%s\n", spec.error().to_string().c_str());
        return 2;
    }
    auto xobj = vm::Object::load(*spec);
    if (!xobj) {
        std::fprintf(stderr, "xbpf: %s\n", xobj.error().to_string().c_str());
        return 2;
    }
    if (!fill_xbpf(**xobj)) {
        std::fprintf(stderr, "xbpf: filling the maps failed\n");
        return 2;
    }
    std::string why;
    std::unique_ptr<kernel::Object> kobj;
    if (kernel::available(&why)) {
        auto loaded = kernel::Object::load(*spec);
        if (!loaded) {
            std::fprintf(stderr, "kernel: %s\n", loaded.error().to_string().c_str());
            return 2;
        }
        kobj = std::move(*loaded);
        if (!fill_kernel(*kobj)) {
            std::fprintf(stderr, "kernel: filling the maps failed\n");
            return 2;
        }
    } else {
        std::printf("kernel column skipped: bpf() unavailable (%s)\n", why.c_str());
    }

    const std::uint32_t repeat = check ? 1 : 2000;
    vm::TestRunInput in;
    in.data_in.assign(64, 0);
    in.repeat = repeat;

    auto run_xbpf = [&](const char* name, bool checked) -> vm::TestRunOutput {
        vm::TestRunInput i = in;
        i.checked = checked;
        auto out = vm::test_run(*(*xobj)->program(name), i);
        if (!out) {
            std::fprintf(stderr, "xbpf %s: %s\n", name, out.error().to_string().c_str());
            std::exit(2);
        }
        return *out;
    };
    auto run_kernel = [&](const char* name) -> vm::TestRunOutput {
        auto out = kobj->test_run(name, in);
        if (!out) {
            std::fprintf(stderr, "kernel %s: %s\n", name, out.error().to_string().c_str());
            std::exit(2);
        }
        return *out;
    };

    if (check) {
        int bad = 0;
        std::vector<const char*> names{"loop_only"};
        for (const Row& r : kRows) names.push_back(r.program);
        for (const char* name : names) {
            const auto x = run_xbpf(name, true);
            const auto u = run_xbpf(name, false);
            if (x.retval != u.retval) {
                std::printf("%s: xbpf checked %llu, unchecked %llu\n", name, (unsigned long long)x.retval,
                            (unsigned long long)u.retval);
                ++bad;
            }
            if (kobj) {
                const auto k = run_kernel(name);
                if (static_cast<std::uint32_t>(x.retval) != static_cast<std::uint32_t>(k.retval)) {
                    std::printf("%s: xbpf %llu, kernel %llu\n", name, (unsigned long long)x.retval,
                                (unsigned long long)k.retval);
                    ++bad;
                }
            }
        }
        std::printf("map programs: %zu checked, %d mismatches%s\n", names.size(), bad,
                    kobj ? "" : " (xbpf modes only: no kernel)");
        return bad == 0 ? 0 : 1;
    }

    // Fastest of 5 batches per engine, interleaved, to ride out a shared machine.
    auto best = [&](auto&& fn) {
        double b = 1e300;
        for (int i = 0; i < 5; ++i) b = std::min(b, static_cast<double>(fn().duration_ns));
        return b;
    };
    const double xloop = best([&] { return run_xbpf("loop_only", false); });
    const double kloop = kobj ? best([&] { return run_kernel("loop_only"); }) : 0;
    std::printf("ns per operation (%u runs x 256 ops; net = minus the loop alone: xbpf %.1f, kernel %.1f ns/iter)\n",
                repeat, xloop / kOps, kloop / kOps);
    std::printf("%-13s %-14s %9s %9s %9s %10s %10s %10s\n", "map", "op", "xbpf", "checked", "kernel", "xbpf net",
                "kernel net", "xbpf/kern");
    std::printf("%s\n", std::string(90, '-').c_str());
    for (const Row& r : kRows) {
        const double x = best([&] { return run_xbpf(r.program, false); });
        const double c = best([&] { return run_xbpf(r.program, true); });
        const double k = kobj ? best([&] { return run_kernel(r.program); }) : 0;
        const double xn = (x - xloop) / kOps;
        const double kn = (k - kloop) / kOps;
        std::printf("%-13s %-14s %9.1f %9.1f %9s %10.1f %10s %10s\n", r.map, r.op, x / kOps, c / kOps,
                    kobj ? fmt::format("{:.1f}", k / kOps).c_str() : "-", xn,
                    kobj ? fmt::format("{:.1f}", kn).c_str() : "-", kobj ? fmt::format("{:.2f}x", x / k).c_str() : "-");
    }
    return 0;
}
