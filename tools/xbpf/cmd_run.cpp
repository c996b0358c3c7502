// xbpf run: run a program once or many times and report r0 and the average run time, like `bpftool prog run`.
// FILE is assembly text or raw instruction bytes (r1 = memory buffer, r2 = its size, as uBPF and bpf_conformance),
// or a clang-built BPF ELF object (detected by its magic), whose program runs as BPF_PROG_TEST_RUN runs it in the
// kernel (vm::test_run): XDP and skb programs get a packet and context, tracing programs their ctx.
#include <chrono>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "jit/jit.hpp"
#include "verifier/verifier.hpp"
#include "vm/object.hpp"
#include "vm/vm.hpp"

namespace xbpf::cli {
namespace {

std::string hex_string(std::span<const std::uint8_t> bytes) {
    std::string out;
    out.reserve(bytes.size() * 2);
    for (std::uint8_t b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

nlohmann::json hex_array(std::span<const std::uint8_t> bytes) {
    nlohmann::json a = nlohmann::json::array();
    for (std::uint8_t b : bytes) a.push_back(fmt::format("0x{:02x}", b));
    return a;
}

struct ObjectRunArgs {
    std::string path;
    std::string program;
    std::string data_in;
    std::string ctx_in;
    std::string data_out;
    std::string ctx_out;
    std::uint32_t repeat = 1;
    std::uint64_t budget = 1ull << 32;
    bool dump_maps = false;
    bool json = false;
    bool no_verify = false;
    std::string engine = "auto";
};

/// Whether to compile: "jit" always, "auto" for verified programs.
bool wants_jit(const std::string& engine, bool verified) { return engine == "jit" || (engine == "auto" && verified); }

int run_object(const std::vector<std::uint8_t>& bytes, const ObjectRunArgs& args) {
    auto spec = object::parse_object(bytes, args.path);
    if (!spec) return report("run", spec.error());
    if (spec->programs.empty())
        return report("run", Error{ErrorCode::kNotFound, fmt::format("{}: the object has no programs", args.path), {}});
    const object::ProgramSpec* chosen = nullptr;
    if (!args.program.empty()) {
        chosen = spec->find_program(args.program);
        if (!chosen) {
            std::string names;
            for (const auto& p : spec->programs) names += (names.empty() ? "" : ", ") + p.name;
            return report("run",
                          Error{ErrorCode::kNotFound,
                                fmt::format("{}: no program '{}' (programs: {})", args.path, args.program, names),
                                {}});
        }
    } else if (spec->programs.size() == 1) {
        chosen = &spec->programs[0];
    } else {
        std::string names;
        for (const auto& p : spec->programs) names += (names.empty() ? "" : ", ") + p.name;
        return report("run", Error{ErrorCode::kInvalidArgument,
                                   fmt::format("{}: the object has {} programs, choose one with --program: {}",
                                               args.path, spec->programs.size(), names),
                                   {}});
    }
    const std::string name = chosen->name;
    vm::LoadOptions lo;
    lo.verify = args.no_verify ? vm::LoadOptions::Verify::Off : vm::LoadOptions::Verify::Required;
    if (wants_jit(args.engine, !args.no_verify)) lo.compile_native = jit::native_compiler();
    auto obj = vm::Object::load(std::move(*spec), lo);
    if (!obj) return report("run", obj.error());
    const vm::LoadedProgram* program = (*obj)->program(name);
    if (!program->native_error().empty()) report_jit_fallback("run", program->native_error());

    vm::TestRunInput in;
    if (!args.data_in.empty()) {
        auto d = read_file(args.data_in);
        if (!d) return report("run", d.error());
        in.data_in = std::move(*d);
    }
    if (!args.ctx_in.empty()) {
        auto c = read_file(args.ctx_in);
        if (!c) return report("run", c.error());
        in.ctx_in = std::move(*c);
    }
    in.repeat = args.repeat;
    in.insn_budget = args.budget;
    // Verified programs run unchecked; with --no-verify every access is checked and the budget applies.
    in.checked = !program->runs_unchecked();
    in.engine = args.engine == "interp" ? vm::EngineKind::Interp : vm::EngineKind::Auto;
    auto out = vm::test_run(*program, in);
    if (!out) return report("run", out.error());

    if (!args.data_out.empty())
        if (auto w = write_file(args.data_out, out->data_out); !w) return report("run", w.error());
    if (!args.ctx_out.empty())
        if (auto w = write_file(args.ctx_out, out->ctx_out); !w) return report("run", w.error());

    if (args.json) {
        nlohmann::json j;
        j["program"] = name;
        j["type"] = std::string(object::program_type_name(program->type()));
        j["retval"] = out->retval;
        j["duration_ns"] = out->duration_ns;
        j["engine"] = out->native ? "jit" : "interp";
        j["repeat"] = args.repeat;
        j["data_out"] = hex_string(out->data_out);
        if (!out->ctx_out.empty()) j["ctx_out"] = hex_string(out->ctx_out);
        if (args.dump_maps) {
            nlohmann::json maps = nlohmann::json::array();
            const auto& specs = (*obj)->spec().maps;
            for (std::size_t i = 0; i < specs.size(); ++i) {
                nlohmann::json m;
                m["name"] = specs[i].name;
                m["type"] = std::string(maps::map_type_name(specs[i].type));
                nlohmann::json entries = nlohmann::json::array();
                for (const maps::MapEntry& e : (*obj)->maps()[i]->dump())
                    entries.push_back({{"key", hex_array(e.key)}, {"value", hex_array(e.value)}});
                m["entries"] = std::move(entries);
                maps.push_back(std::move(m));
            }
            j["maps"] = std::move(maps);
        }
        fmt::print("{}\n", j.dump());
        return 0;
    }
    fmt::print("retval: {}\n", out->retval);
    fmt::print("duration: {} ns\n", out->duration_ns);
    fmt::print("data_out: {} bytes\n", out->data_out.size());
    if (!out->ctx_out.empty()) fmt::print("ctx_out: {} bytes\n", out->ctx_out.size());
    if (args.dump_maps) {
        const auto& specs = (*obj)->spec().maps;
        for (std::size_t i = 0; i < specs.size(); ++i) {
            const auto entries = (*obj)->maps()[i]->dump();
            fmt::print("\nmap '{}' ({}):\n", specs[i].name, maps::map_type_name(specs[i].type));
            for (const maps::MapEntry& e : entries) {
                if (e.key.empty())
                    fmt::print("value: {}\n", bpftool_hex(e.value));
                else
                    fmt::print("key: {}  value: {}\n", bpftool_hex(e.key), bpftool_hex(e.value));
            }
            fmt::print("Found {} element{}\n", entries.size(), entries.size() == 1 ? "" : "s");
        }
    }
    return 0;
}

}  // namespace

int run_main(int argc, char** argv) {
    CLI::App app(
        "Run an eBPF program. FILE is assembly text or raw instruction bytes (r1 points to the memory buffer "
        "(--mem) and r2 holds its length, as in uBPF and bpf_conformance), or a BPF ELF object, whose program runs "
        "as the kernel's BPF_PROG_TEST_RUN runs it (packet from --data-in, context from --ctx-in).",
        "xbpf run");
    std::string input;
    std::string mem_file;
    bool json = false;
    ObjectRunArgs obj_args;
    app.add_option("FILE", input, "program: assembly text, raw instruction bytes or an ELF object ('-' for stdin)")
        ->required();
    app.add_option("--mem", mem_file, "file whose bytes are the program's memory buffer (r1, r2)");
    app.add_option("--program", obj_args.program, "ELF object: the program to run (needed when there are several)");
    app.add_option("--data-in", obj_args.data_in, "ELF object: the packet (xdp, skb) or memory buffer (raw programs)");
    app.add_option("--ctx-in", obj_args.ctx_in, "ELF object: the context (struct xdp_md, __sk_buff, tracing ctx)");
    app.add_option("--data-out", obj_args.data_out, "ELF object: write the packet after the run to this file");
    app.add_option("--ctx-out", obj_args.ctx_out, "ELF object: write the context after the run to this file");
    app.add_flag("--dump-maps", obj_args.dump_maps, "ELF object: print every map's entries after the run");
    app.add_option("--repeat", obj_args.repeat, "run this many times and report the average duration")
        ->check(CLI::Range(1u, 1000000000u));
    app.add_option("--engine", obj_args.engine, kEngineHelp)->check(CLI::IsMember({"auto", "jit", "interp"}));
    app.add_option("--budget", obj_args.budget, "instruction budget per run (the program is stopped past it)")
        ->check(CLI::PositiveNumber);
    app.add_flag("-j,--json", json, "print JSON");
    app.add_flag("--no-verify", obj_args.no_verify,
                 "do not verify: run checked (every access bounds-checked, --budget applies), in the interpreter "
                 "unless --engine jit");
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;

    auto bytes = read_file(input);
    if (!bytes) return report("run", bytes.error());
    if (is_elf(*bytes)) {
        obj_args.path = input;
        obj_args.json = json;
        if (obj_args.data_in.empty()) obj_args.data_in = mem_file;
        return run_object(*bytes, obj_args);
    }
    auto insns = program_from_bytes(*bytes, input);
    if (!insns) return report("run", insns.error());
    auto program = vm::Program::load(*insns);
    if (!program) return report("run", program.error());
    const std::string& engine = obj_args.engine;

    if (mem_file.empty()) mem_file = obj_args.data_in;
    std::vector<std::uint8_t> mem;
    if (!mem_file.empty()) {
        auto m = read_file(mem_file);
        if (!m) return report("run", m.error());
        mem = std::move(*m);
    }

    // Verified (r1 = the memory, r2 = its size): unchecked. With --no-verify: checked mode (every access
    // bounds-checked, bounded time).
    vm::RunOptions options;
    options.checked = obj_args.no_verify;
    std::optional<verifier::VerifyReport> verdict;
    if (!obj_args.no_verify) {
        verifier::VerifyOptions vo;
        vo.raw_memory_size = static_cast<std::uint32_t>(mem.size());
        verdict = verifier::verify(*insns, vo);
        if (!verdict->accepted)
            return report("run", Error{ErrorCode::kVerify,
                                       fmt::format("{} (rejected by the verifier: see 'xbpf verify'; --no-verify runs "
                                                   "it checked)",
                                                   verdict->summary()),
                                       {}});
        for (const auto& f : verdict->facts) options.checked = options.checked || f.probe_mem;
    }
    if (wants_jit(engine, !obj_args.no_verify)) {
        jit::JitOptions jo;
        jo.checked = options.checked;
        if (verdict && !options.checked) jo.facts = verdict->facts;
        auto code = jit::compile(*program, jo);
        if (code)
            program->set_native(*code);
        else
            report_jit_fallback("run", code.error().message);
    }
    options.engine = engine == "interp" ? vm::EngineKind::Interp : vm::EngineKind::Auto;
    options.insn_budget = obj_args.budget;
    const std::uint32_t repeat = obj_args.repeat;
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
        if (options.checked) j["insns"] = result.insns;
        j["verified"] = !options.checked;
        j["engine"] = result.native ? "jit" : "interp";
        j["repeat"] = repeat;
        fmt::print("{}\n", j.dump());
    } else {
        fmt::print(
            "Return value: {} ({:#x}), duration (average): {}ns{}\n", result.r0, result.r0, duration_ns,
            options.checked ? fmt::format(", instructions: {} (checked)", result.insns) : std::string(", verified"));
    }
    return 0;
}

}  // namespace xbpf::cli
