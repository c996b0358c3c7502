// xbpf verify: run the verifier on the programs of an object (or on an assembly / raw program) and print each
// verdict; exit status 0 only when every program is accepted.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "verifier/verifier.hpp"
#include "vm/counterexample.hpp"
#include "vm/object.hpp"

namespace xbpf::cli {
namespace {

struct VerifyArgs {
    std::string path;
    std::string program;
    std::string type;
    std::uint32_t mem_size = 0;
    bool verbose = false;
    bool json = false;
    bool unprivileged = false;
    bool counterexamples = true;
};

struct Verdict {
    std::string name;
    std::string section;
    std::string type;
    verifier::VerifyReport report;
    /// For a rejection: an input that makes the checked interpreter fault at the finding (vm/counterexample.hpp).
    std::optional<vm::Counterexample> counterexample;
};

std::string hex(std::span<const std::uint8_t> bytes) {
    std::string s;
    for (std::uint8_t b : bytes) s += fmt::format("{:02x}", b);
    return s;
}

nlohmann::json to_json(const Verdict& v) {
    nlohmann::json j;
    j["name"] = v.name;
    if (!v.section.empty()) j["section"] = v.section;
    j["type"] = v.type;
    j["accepted"] = v.report.accepted;
    j["insns_processed"] = v.report.insns_processed;
    j["states"] = v.report.states_stored;
    j["peak_states"] = v.report.peak_states;
    j["pruned"] = v.report.states_pruned;
    j["stack_depth"] = v.report.max_stack_depth;
    j["time_ns"] = v.report.time_ns;
    if (!v.report.findings.empty()) {
        const auto& f = v.report.findings.front();
        nlohmann::json e;
        e["insn"] = f.insn;
        e["message"] = f.message;
        e["explanation"] = f.explanation;
        e["instruction"] = f.disasm;
        e["registers"] = f.registers;
        if (f.line) {
            e["file"] = f.line->file;
            e["line"] = f.line->line;
            e["source"] = f.line->source;
        }
        nlohmann::json path = nlohmann::json::array();
        for (const auto& [from, to] : f.path) path.push_back({from, to});
        e["path"] = path;
        if (v.counterexample) {
            const vm::Counterexample& cx = *v.counterexample;
            nlohmann::json c;
            c["summary"] = cx.summary;
            c["insn"] = cx.insn;
            c["size"] = cx.size;
            c["data_in"] = hex(cx.data_in);
            if (!cx.ctx_in.empty()) c["ctx_in"] = hex(cx.ctx_in);
            c["run_error"] = cx.error;
            c["tries"] = cx.tries;
            e["counterexample"] = c;
        }
        j["error"] = e;
    }
    if (!v.report.log.empty()) j["log"] = v.report.log;
    return j;
}

void print_text(const Verdict& v, bool verbose) {
    if (verbose && !v.report.log.empty()) std::fputs(v.report.log.c_str(), stdout);
    const auto& r = v.report;
    std::string stats =
        fmt::format("processed {} insns, {} states, peak {}, stack {} bytes, {:.3f} ms", r.insns_processed,
                    r.states_stored, r.peak_states, r.max_stack_depth, static_cast<double>(r.time_ns) / 1e6);
    if (r.accepted) {
        std::printf("%s: accepted (%s)\n", v.name.c_str(), stats.c_str());
        return;
    }
    std::printf("%s: rejected (%s)\n", v.name.c_str(), stats.c_str());
    const auto& f = r.findings.front();
    std::string text = f.to_string();
    // Indent the finding under the program line.
    std::string indented = "  ";
    for (char c : text) {
        indented += c;
        if (c == '\n') indented += "  ";
    }
    std::printf("%s\n", indented.c_str());
    if (v.counterexample)
        std::printf("  counterexample: %s\n    run: %s\n", v.counterexample->summary.c_str(),
                    v.counterexample->error.c_str());
}

/// Counterexamples for the rejected programs of an object: the object is loaded as the verifier saw it (maps
/// created empty, every program kept with its verdict) and each rejected program of a runnable type is searched.
/// Objects xbpf cannot load (maps it cannot create) get none.
void object_counterexamples(const object::ObjectSpec& spec, const VerifyArgs& args, std::vector<Verdict>& verdicts) {
    bool wanted = false;
    for (const Verdict& v : verdicts) wanted = wanted || (!v.report.accepted && !v.report.findings.empty());
    if (!wanted) return;
    vm::LoadOptions lo;
    lo.verify = vm::LoadOptions::Verify::Report;
    lo.unprivileged = args.unprivileged;
    auto loaded = vm::Object::load(spec, lo);
    if (!loaded) return;
    for (Verdict& v : verdicts) {
        if (v.report.accepted || v.report.findings.empty()) continue;
        const vm::LoadedProgram* p = (*loaded)->program(v.name);
        if (p == nullptr || !vm::counterexample_supported(p->type())) continue;
        vm::CounterexampleOptions co;
        co.maps = (*loaded)->maps();
        v.counterexample = vm::find_counterexample(*p, v.report.findings.front(), co);
    }
}

/// The counterexample for a rejected assembly or raw program (no maps: map references do not load).
std::optional<vm::Counterexample> raw_counterexample(const std::vector<isa::RawInsn>& insns,
                                                     const verifier::VerifyOptions& vo,
                                                     const verifier::VerifyReport& report) {
    if (report.accepted || report.findings.empty() || !vm::counterexample_supported(vo.type)) return std::nullopt;
    object::ProgramSpec spec;
    spec.name = "prog";
    spec.type = vo.type;
    spec.insns = insns;
    auto program =
        vm::Program::load(insns, vm::ProgramEnv{&vm::standard_helpers(), {}, static_cast<std::uint32_t>(vo.type)});
    if (!program) return std::nullopt;
    vm::LoadedProgram loaded(&spec, std::move(*program), 0, report);
    vm::CounterexampleOptions co;
    co.raw_memory_size = vo.raw_memory_size;
    return vm::find_counterexample(loaded, report.findings.front(), co);
}

int verify_object(const std::vector<std::uint8_t>& bytes, const VerifyArgs& args, std::vector<Verdict>& out) {
    auto spec = object::parse_object(bytes, args.path);
    if (!spec) return report("verify", spec.error());
    if (!args.program.empty() && !spec->find_program(args.program)) {
        std::string names;
        for (const auto& p : spec->programs) names += (names.empty() ? "" : ", ") + p.name;
        return report("verify", Error{ErrorCode::kNotFound,
                                      fmt::format("{}: no program '{}' (programs: {})", args.path, args.program, names),
                                      {}});
    }
    if (!args.program.empty())
        std::erase_if(spec->programs, [&](const object::ProgramSpec& p) { return p.name != args.program; });
    vm::LoadOptions lo;
    lo.unprivileged = args.unprivileged;
    lo.verifier_log = args.verbose;
    auto verdicts = vm::verify_object(*spec, lo);
    if (!verdicts) return report("verify", verdicts.error());
    for (auto& v : *verdicts) {
        if (!args.program.empty() && v.name != args.program) continue;
        out.push_back(Verdict{v.name, v.section, std::string(object::program_type_name(v.type)), std::move(v.report),
                              std::nullopt});
    }
    if (args.counterexamples) object_counterexamples(*spec, args, out);
    return -1;
}

}  // namespace

int verify_main(int argc, char** argv) {
    CLI::App app{"Verify eBPF programs: prove them safe or explain the first unsafe instruction", "xbpf verify"};
    VerifyArgs args;
    app.add_option("FILE", args.path, "BPF ELF object, assembly text or raw instruction bytes ('-' for stdin)")
        ->required();
    app.add_option("--program", args.program, "verify only this program of the object");
    app.add_option("--type", args.type,
                   "program type for assembly/raw input (xdp, socket_filter, sched_cls, kprobe, tracepoint, ...); "
                   "default: a raw memory program (r1 = memory, r2 = its size)");
    app.add_option("--mem-size", args.mem_size, "raw memory programs: bytes r1 points to (default 0)");
    app.add_flag("-v,--verbose", args.verbose, "print the verifier's log of every processed instruction");
    app.add_flag("-j,--json", args.json, "JSON output");
    app.add_flag("--unprivileged", args.unprivileged,
                 "verify as an unprivileged user: no pointer leaks, no reads of uninitialised stack");
    bool no_counterexample = false;
    app.add_flag("--no-counterexample", no_counterexample,
                 "do not search for an input that makes a rejected program fault (xdp, socket_filter, sched_cls, "
                 "sched_act and raw memory programs)");
    if (int rc = parse_args(app, argc, argv); rc >= 0) return rc;
    args.counterexamples = !no_counterexample;

    auto bytes = read_file(args.path);
    if (!bytes) return report("verify", bytes.error());
    std::vector<Verdict> verdicts;
    if (is_elf(*bytes)) {
        if (!args.type.empty())
            return report("verify", Error{ErrorCode::kInvalidArgument,
                                          "--type applies to assembly or raw input; objects name their program types "
                                          "in section names",
                                          {}});
        if (int rc = verify_object(*bytes, args, verdicts); rc >= 0) return rc;
    } else {
        auto insns = program_from_bytes(*bytes, args.path);
        if (!insns) return report("verify", insns.error());
        verifier::VerifyOptions vo;
        if (!args.type.empty()) {
            auto type = object::program_type_from_name(args.type);
            if (!type)
                return report("verify", Error{ErrorCode::kInvalidArgument,
                                              fmt::format("unknown program type '{}' (e.g. xdp, socket_filter, "
                                                          "sched_cls, kprobe, tracepoint, raw_tracepoint, "
                                                          "perf_event)",
                                                          args.type),
                                              {}});
            vo.type = *type;
        }
        vo.raw_memory_size = args.mem_size;
        vo.privileged = !args.unprivileged;
        vo.log = args.verbose;
        Verdict v{args.path, "", std::string(object::program_type_name(vo.type)), verifier::verify(*insns, vo),
                  std::nullopt};
        if (args.counterexamples) v.counterexample = raw_counterexample(*insns, vo, v.report);
        verdicts.push_back(std::move(v));
    }
    bool all = true;
    for (const auto& v : verdicts) all = all && v.report.accepted;
    if (args.json) {
        nlohmann::json j = nlohmann::json::array();
        for (const auto& v : verdicts) j.push_back(to_json(v));
        std::printf("%s\n", j.dump(2).c_str());
    } else {
        for (const auto& v : verdicts) print_text(v, args.verbose);
    }
    return all ? 0 : 1;
}

}  // namespace xbpf::cli
