// xbpf run: run a program once or many times and report r0 and the average run time, like `bpftool prog run`.
#include <chrono>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "vm/vm.hpp"

namespace xbpf::cli {

int run_main(int argc, char** argv) {
    CLI::App app(
        "Run an eBPF program. FILE is assembly text or raw instruction bytes; r1 points to the memory buffer "
        "(--mem) and r2 holds its length, as in uBPF and bpf_conformance.",
        "xbpf run");
    std::string input;
    std::string mem_file;
    std::uint32_t repeat = 1;
    std::string engine = "interp";
    bool json = false;
    std::uint64_t budget = 1ull << 32;
    app.add_option("FILE", input, "program: assembly text or raw instruction bytes ('-' for standard input)")
        ->required();
    app.add_option("--mem", mem_file, "file whose bytes are the program's memory buffer (r1, r2)");
    app.add_option("--repeat", repeat, "run this many times and report the average duration")
        ->check(CLI::Range(1u, 1000000000u));
    app.add_option("--engine", engine, "execution engine")->check(CLI::IsMember({"interp"}));
    app.add_option("--budget", budget, "instruction budget per run (the program is stopped past it)")
        ->check(CLI::PositiveNumber);
    app.add_flag("-j,--json", json, "print JSON");
    CLI11_PARSE(app, argc, argv);

    auto insns = load_program_file(input);
    if (!insns) return report("run", insns.error());
    auto program = vm::Program::load(*insns);
    if (!program) return report("run", program.error());

    std::vector<std::uint8_t> mem;
    if (!mem_file.empty()) {
        auto bytes = read_file(mem_file);
        if (!bytes) return report("run", bytes.error());
        mem = std::move(*bytes);
    }

    // No verifier has looked at this program: run it in checked mode (every access bounds-checked, bounded time).
    vm::RunOptions options;
    options.checked = true;
    options.insn_budget = budget;
    vm::RunResult result;
    const auto start = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < repeat; ++i) {
        auto r = vm::run_raw(*program, mem, options);
        if (!r) return report("run", r.error());
        result = *r;
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto duration_ns =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()) / repeat;

    if (json) {
        nlohmann::json j;
        j["retval"] = result.r0;
        j["duration_ns"] = duration_ns;
        j["insns"] = result.insns;
        j["engine"] = engine;
        j["repeat"] = repeat;
        fmt::print("{}\n", j.dump());
    } else {
        fmt::print("Return value: {} ({:#x}), duration (average): {}ns, instructions: {}\n", result.r0, result.r0,
                   duration_ns, result.insns);
    }
    return 0;
}

}  // namespace xbpf::cli
