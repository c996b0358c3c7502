// xbpf-compare-jit-compile: JIT compile throughput (issue 5: "Compile throughput (instructions per second, programs
// of 100 to 100,000 instructions). Goal: >= 20 M instructions/s").
//
//   xbpf-compare-jit-compile [--json] [--reps N] [--blind]
//
// Programs: `r0 = 0; exit` (the fixed cost of a compile); tests/support/program_gen's generator (every ALU and JMP
// operation uniformly, so ~30% of the ALU operations are divisions; forward jumps, stack loads and stores, atomics,
// lddw, LD_ABS) with bodies sized to give about 100, 1,000, 10,000 and 100,000 instructions; every program of the
// tests/programs objects (real clang output, loaded with their maps; only the compile is timed there); the compute
// kernels of bench/kernels. For each set: jit::compile (asmjit lowering, writing the code read+execute)
// timed on the same programs as vm::Program::load (decode, checks, threaded code for the interpreter: the reference
// measured in the same run), fastest of `reps` passes; thread CPU time.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "compute_common.hpp"
#include "jit/jit.hpp"
#include "object/object_spec.hpp"
#include "support/program_gen.hpp"
#include "vm/object.hpp"
#include "vm/vm.hpp"

namespace {

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

[[noreturn]] void fatal(const std::string& what) {
    std::fprintf(stderr, "xbpf-compare-jit-compile: %s\n", what.c_str());
    std::exit(1);
}

struct Set {
    std::string name;
    std::vector<std::vector<xbpf::isa::RawInsn>> programs;
    std::size_t slots = 0;  ///< instruction slots in all programs
    /// Instead of `programs`: programs loaded from objects (maps, helpers), whose load is not timed.
    std::vector<const xbpf::vm::Program*> loaded;
    std::vector<std::unique_ptr<xbpf::vm::Object>> objects;  ///< owning them
};

/// Every program of the tests/programs objects (clang -O2 output: real instruction mixes), loaded with their maps
/// (verdicts reported, not required: the compile does not depend on them).
Set test_program_objects() {
    Set s;
    s.name = "tests/programs";
    if (!std::filesystem::exists(XBPF_TEST_PROGRAMS_DIR)) return s;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(XBPF_TEST_PROGRAMS_DIR))
        if (entry.path().string().ends_with(".bpf.o")) files.push_back(entry.path());
    std::ranges::sort(files);
    xbpf::vm::LoadOptions options;
    options.verify = xbpf::vm::LoadOptions::Verify::Report;
    for (const auto& f : files) {
        auto spec = xbpf::object::parse_object_file(f.string());
        if (!spec) continue;
        auto obj = xbpf::vm::Object::load(std::move(*spec), options);
        if (!obj) continue;
        for (const auto& p : (*obj)->programs()) {
            s.loaded.push_back(&p->program());
            s.slots += p->program().instructions().size();
        }
        s.objects.push_back(std::move(*obj));
    }
    return s;
}

/// A program of about `target` slots: program_gen programs of about 300 slots chained (each one's final exit
/// becomes `goto +0`, so the next one runs; jumps stay inside their piece, whose 16-bit offsets they fit).
std::vector<xbpf::isa::RawInsn> chained(std::size_t target, std::uint64_t seed) {
    xbpf::test::GenOptions options;
    options.body_items = target < 300 ? static_cast<std::uint32_t>(std::max<std::size_t>(1, target / 3)) : 100;
    std::vector<xbpf::isa::RawInsn> out;
    while (out.size() < target) {
        std::vector<xbpf::isa::RawInsn> piece = xbpf::test::generate_program(seed++, options);
        if (!out.empty()) out.back() = xbpf::isa::RawInsn{0x05, 0, 0, 0, 0};  // the previous exit: goto +0
        out.insert(out.end(), piece.begin(), piece.end());
    }
    return out;
}

Set generated(std::size_t target, std::size_t count) {
    Set s;
    s.name = fmt::format("generated ~{}", target);
    for (std::size_t i = 0; i < count; ++i) {
        s.programs.push_back(chained(target, 1000 + i * 1000));
        s.slots += s.programs.back().size();
    }
    return s;
}

struct Row {
    std::string name;
    std::size_t programs = 0;
    double avg_slots = 0;
    double load_ns = 0;  ///< vm::Program::load, all programs of the set
    double jit_ns = 0;   ///< jit::compile, all programs of the set
    std::size_t code_bytes = 0;
};

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    bool blind = false;
    int reps = 5;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json")
            json = true;
        else if (a == "--blind")
            blind = true;
        else if (a == "--reps" && i + 1 < argc)
            reps = std::max(1, std::atoi(argv[++i]));
        else {
            std::fprintf(stderr, "usage: xbpf-compare-jit-compile [--json] [--reps N] [--blind]\n");
            return 2;
        }
    }

    // The fixed cost of a compile: `r0 = 0; exit`.
    Set tiny;
    tiny.name = "r0 = 0; exit";
    for (int i = 0; i < 2000; ++i) {
        tiny.programs.push_back({xbpf::isa::RawInsn{0xb7, 0, 0, 0, 0}, xbpf::isa::RawInsn{0x95, 0, 0, 0, 0}});
        tiny.slots += 2;
    }
    std::vector<Set> sets;
    sets.push_back(std::move(tiny));
    sets.push_back(generated(100, 400));
    sets.push_back(generated(1'000, 100));
    sets.push_back(generated(10'000, 12));
    sets.push_back(generated(100'000, 2));
    if (Set objects = test_program_objects(); !objects.loaded.empty()) sets.push_back(std::move(objects));
    Set compute;
    compute.name = "compute kernels";
    for (const auto& k : xbpf::bench::compute_kernels()) {
        compute.programs.push_back(k.raw);
        compute.slots += k.raw.size();
    }
    sets.push_back(std::move(compute));

    std::vector<Row> rows;
    for (const Set& set : sets) {
        Row row;
        row.name = set.name;
        row.programs = set.loaded.empty() ? set.programs.size() : set.loaded.size();
        row.avg_slots = static_cast<double>(set.slots) / static_cast<double>(row.programs);
        std::vector<xbpf::vm::Program> owned;
        std::vector<const xbpf::vm::Program*> loaded = set.loaded;
        row.load_ns = set.loaded.empty() ? 1e300 : std::numeric_limits<double>::quiet_NaN();
        row.jit_ns = 1e300;
        for (int rep = 0; rep < reps; ++rep) {
            if (set.loaded.empty()) {
                owned.clear();
                loaded.clear();
                const double t0 = thread_cpu_ns();
                for (const auto& p : set.programs) {
                    auto program = xbpf::vm::Program::load(p);
                    if (!program) fatal(set.name + ": " + program.error().to_string());
                    owned.push_back(std::move(*program));
                }
                row.load_ns = std::min(row.load_ns, thread_cpu_ns() - t0);
                for (const auto& p : owned) loaded.push_back(&p);
            }

            xbpf::jit::JitOptions options;
            options.checked = false;
            options.blind_constants = blind;
            std::size_t bytes = 0;
            const double t0 = thread_cpu_ns();
            for (const xbpf::vm::Program* program : loaded) {
                auto code = xbpf::jit::compile(*program, options);
                if (!code) fatal(set.name + ": the JIT refused a program: " + code.error().to_string());
                bytes += (*code)->code().size();
            }
            row.jit_ns = std::min(row.jit_ns, thread_cpu_ns() - t0);
            row.code_bytes = bytes;
        }
        rows.push_back(row);
    }

    if (json) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const Row& r : rows)
            out.push_back({{"set", r.name},
                           {"programs", r.programs},
                           {"avg_slots", r.avg_slots},
                           {"jit_ns_per_insn", r.jit_ns / (r.avg_slots * static_cast<double>(r.programs))},
                           {"jit_minsn_per_s", r.avg_slots * static_cast<double>(r.programs) / r.jit_ns * 1e3},
                           {"load_ns_per_insn",
                            std::isnan(r.load_ns)
                                ? nlohmann::ordered_json(nullptr)
                                : nlohmann::ordered_json(r.load_ns / (r.avg_slots * static_cast<double>(r.programs)))},
                           {"code_bytes_per_insn",
                            static_cast<double>(r.code_bytes) / (r.avg_slots * static_cast<double>(r.programs))}});
        fmt::print("{}\n", out.dump(2));
        return 0;
    }
    fmt::print("JIT compile throughput{} (fastest of {} passes, thread CPU time)\n", blind ? ", constants blinded" : "",
               reps);
    fmt::print("{:<18} {:>8} {:>9} {:>12} {:>11} {:>12} {:>10} {:>11}\n", "programs", "count", "avg insns",
               "jit us/prog", "jit M ins/s", "load M ins/s", "jit/load", "code B/ins");
    for (const Row& r : rows) {
        const double insns = r.avg_slots * static_cast<double>(r.programs);
        const bool timed_load = !std::isnan(r.load_ns);  // (object sets: loaded once, not timed)
        fmt::print("{:<18} {:>8} {:>9.0f} {:>12.1f} {:>11.1f} {:>12} {:>10} {:>11.1f}\n", r.name, r.programs,
                   r.avg_slots, r.jit_ns / static_cast<double>(r.programs) / 1e3, insns / r.jit_ns * 1e3,
                   timed_load ? fmt::format("{:.1f}", insns / r.load_ns * 1e3) : "-",
                   timed_load ? fmt::format("{:.1f}x", r.jit_ns / r.load_ns) : "-",
                   static_cast<double>(r.code_bytes) / insns);
    }
    return 0;
}
