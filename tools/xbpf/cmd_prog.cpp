// xbpf prog show OBJECT: the programs a BPF ELF object declares, in bpftool's `prog show` layout (text and -j).
// The fields bpftool reads from a loaded program (id, tag, load time, jited size) have no meaning for an object
// on disk; what the object says instead (section, attach target, functions, maps, line info) takes their place.
//
// xbpf prog dump jited OBJECT: each program loaded as `xbpf run` loads it (verified, then compiled by the JIT; a
// program the verifier rejects gets checked code, as `run --no-verify`), its machine code disassembled with Zydis
// in AT&T syntax as bpftool prints a loaded program's, each block headed by the BPF instruction it comes from and,
// with BTF line info, the source line.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <set>

#include "common.hpp"
#include "jit/jit.hpp"
#include "jit/listing.hpp"
#include "vm/object.hpp"

namespace xbpf::cli {

namespace {

// Maps a program uses, by name, in the order of first use (from its relocations).
std::vector<std::string> maps_used(const object::ObjectSpec& spec, const object::ProgramSpec& prog) {
    std::vector<std::string> names;
    std::set<std::uint32_t> seen;
    for (const object::Relocation& r : prog.relocations) {
        if (r.kind != object::RelocationKind::Map && r.kind != object::RelocationKind::MapValue) continue;
        if (r.map_index >= spec.maps.size() || !seen.insert(r.map_index).second) continue;
        names.push_back(spec.maps[r.map_index].name);
    }
    return names;
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const std::string& s : items) out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

nlohmann::ordered_json program_json(const object::ObjectSpec& spec, const object::ProgramSpec& p, std::size_t index) {
    nlohmann::ordered_json j;
    j["index"] = index;
    j["type"] = std::string(object::program_type_name(p.type));
    j["name"] = p.name;
    j["section"] = p.section;
    j["known_section"] = p.known_section;
    j["attach_target"] = p.attach_target;
    j["sleepable"] = (p.prog_flags & object::kProgFlagSleepable) != 0;
    j["gpl_compatible"] = object::license_is_gpl_compatible(spec.license);
    j["license"] = spec.license;
    j["insns"] = p.insns.size();
    j["bytes_xlated"] = p.insns.size() * sizeof(isa::RawInsn);
    auto functions = nlohmann::ordered_json::array();
    for (const object::FunctionRange& f : p.functions)
        functions.push_back({{"name", f.name}, {"section", f.section}, {"start", f.start}, {"insns", f.count}});
    j["functions"] = functions;
    j["maps"] = maps_used(spec, p);
    j["line_info"] = p.line_info.size();
    j["func_info"] = p.func_info.size();
    j["core_relocations"] = p.core_relocations.size();
    return j;
}

std::string program_text(const object::ObjectSpec& spec, const object::ProgramSpec& p, std::size_t index) {
    // bpftool: "12: xdp  name xdp_prog  tag ...  gpl" then tab-indented detail lines.
    std::string out =
        fmt::format("{}: {}  name {}  section {}", index, object::program_type_name(p.type), p.name, p.section);
    if (object::license_is_gpl_compatible(spec.license)) out += "  gpl";
    if ((p.prog_flags & object::kProgFlagSleepable) != 0) out += "  sleepable";
    out += '\n';
    if (!p.attach_target.empty()) out += fmt::format("\tattach_target {}\n", p.attach_target);
    out += fmt::format("\txlated {}B  insns {}  funcs {}", p.insns.size() * sizeof(isa::RawInsn), p.insns.size(),
                       p.functions.size());
    if (p.functions.size() > 1) {
        std::vector<std::string> subs;
        for (std::size_t i = 1; i < p.functions.size(); ++i) subs.push_back(p.functions[i].name);
        out += fmt::format(" ({})", join(subs, ","));
    }
    out += '\n';
    if (const auto maps = maps_used(spec, p); !maps.empty()) out += fmt::format("\tmaps {}\n", join(maps, ","));
    if (spec.btf)
        out += fmt::format("\tbtf  line_info {}  func_info {}  core_relos {}\n", p.line_info.size(), p.func_info.size(),
                           p.core_relocations.size());
    return out;
}

int show(const std::string& path, bool json, bool pretty) {
    auto spec = load_object_file(path);
    if (!spec) return report("prog", spec.error());
    if (json) {
        auto all = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < spec->programs.size(); ++i)
            all.push_back(program_json(*spec, spec->programs[i], i));
        fmt::print("{}\n", all.dump(pretty ? 4 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
        return 0;
    }
    std::string out;
    for (std::size_t i = 0; i < spec->programs.size(); ++i) out += program_text(*spec, spec->programs[i], i);
    fmt::print("{}", out);
    return 0;
}

// Source line per instruction (BTF line info), by pc.
std::map<std::size_t, std::string> source_lines(const object::ProgramSpec& p) {
    std::map<std::size_t, std::string> out;
    for (const auto& l : p.line_info)
        if (!l.source.empty()) out[l.insn] = l.source;
    return out;
}

// Splits AT&T operands at the commas outside parentheses: "0x8(%rdi,%rax,1),%rsi" -> 2 operands.
std::vector<std::string> operand_list(const std::string& operands) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    for (const char c : operands) {
        if (c == '(') ++depth;
        if (c == ')') --depth;
        if (c == ',' && depth == 0) {
            out.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
}

int dump_jited(const std::string& path, const std::string& only, bool opcodes, bool json, bool pretty, bool verify) {
    auto spec = load_object_file(path);
    if (!spec) return report("prog", spec.error());
    vm::LoadOptions lo;
    lo.verify = verify ? vm::LoadOptions::Verify::Report : vm::LoadOptions::Verify::Off;
    lo.compile_native = jit::native_compiler();
    auto obj = vm::Object::load(std::move(*spec), lo);
    if (!obj) return report("prog", obj.error());
    auto all = nlohmann::ordered_json::array();
    std::string text;
    bool found = false;
    for (const auto& loaded : (*obj)->programs()) {
        if (!only.empty() && loaded->name() != only) continue;
        found = true;
        const object::ProgramSpec& p = loaded->spec();
        const auto* code = dynamic_cast<const jit::JitCode*>(loaded->program().native());
        if (code == nullptr) {
            const std::string why = loaded->native_error().empty() ? "not compiled" : loaded->native_error();
            if (json)
                all.push_back({{"name", p.name}, {"error", why}});
            else
                text += fmt::format("{}: no machine code: {}\n\n", p.name, why);
            continue;
        }
        const auto lines_by_pc = source_lines(p);
        jit::ListingInput in;
        in.code = code->code();
        in.insn_offsets = code->insn_offsets();
        in.insns = loaded->program().instructions();
        in.source_line = [&](std::size_t pc) {
            const auto it = lines_by_pc.find(pc);
            return it == lines_by_pc.end() ? std::string() : it->second;
        };
        // Labels: each BPF function (main program and sub-programs). The entry trampoline is shared by all
        // programs (compiled once per process), so it is not part of a program's code.
        const auto base = reinterpret_cast<std::uint64_t>(code->code().data());
        for (const auto& f : p.functions) {
            if (const std::uint64_t addr = code->function_address(f.start); addr >= base)
                in.labels[static_cast<std::uint32_t>(addr - base)] = f.name;
        }
        auto lines = jit::disassemble_code(in);
        if (!lines) return report("prog", lines.error());
        const bool checked = code->checked();
        if (json) {
            auto insns = nlohmann::ordered_json::array();
            for (const jit::ListingLine& l : *lines) {
                nlohmann::ordered_json j;
                if (!l.label.empty()) j["label"] = l.label;
                if (l.bpf_first >= 0) {
                    auto bpf = nlohmann::ordered_json::array();
                    for (std::int64_t pc = l.bpf_first; pc <= l.bpf_last; ++pc)
                        if (!in.insns[static_cast<std::size_t>(pc)].is_lddw_tail) bpf.push_back(pc);
                    j["bpf_insns"] = bpf;
                    if (!l.source.empty()) j["src"] = l.source;
                }
                j["pc"] = fmt::format("{:#x}", l.offset);
                j["operation"] = l.operation;
                j["operands"] = operand_list(l.operands);
                if (opcodes) {
                    auto bytes = nlohmann::ordered_json::array();
                    for (const std::uint8_t b : l.bytes) bytes.push_back(fmt::format("{:#04x}", b));
                    j["opcodes"] = bytes;
                }
                insns.push_back(j);
            }
            all.push_back({{"name", p.name},
                           {"section", p.section},
                           {"verified", loaded->verified()},
                           {"checked", checked},
                           {"bytes_jited", code->code().size()},
                           {"insns", insns}});
            continue;
        }
        text += fmt::format("{}:  {} bytes jited from {} insns, {}\n", p.name, code->code().size(), p.insns.size(),
                            checked ? "checked (not verified: every access is checked at run time)" : "verified");
        text += jit::format_listing(*lines, loaded->program().instructions(), opcodes);
        text += '\n';
    }
    if (!found)
        return report("prog", make_error(ErrorCode::kNotFound, fmt::format("no program named '{}'", only)).error());
    if (json)
        fmt::print("{}\n", all.dump(pretty ? 4 : -1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
    else
        fmt::print("{}", text);
    return 0;
}

}  // namespace

int prog_main(int argc, char** argv) {
    CLI::App app("Inspect the programs of a BPF ELF object, as bpftool prog shows loaded ones.", "xbpf prog");
    app.require_subcommand(1);
    std::string path;
    bool json = false;
    bool pretty = false;
    CLI::App* show_cmd = app.add_subcommand("show", "list the programs: type, section, size, functions, maps");
    CLI::App* list_cmd = app.add_subcommand("list", "alias of show");
    for (CLI::App* sub : {show_cmd, list_cmd}) {
        sub->add_option("OBJECT", path, "BPF ELF object (clang -target bpf -c)")->required();
        sub->add_flag("-j,--json", json, "JSON output, an array of objects (bpftool -j)");
        sub->add_flag("-p,--pretty", pretty, "indented JSON (bpftool -p)");
    }
    CLI::App* dump_cmd = app.add_subcommand("dump", "print a program's machine code (bpftool prog dump jited)");
    dump_cmd->require_subcommand(1);
    CLI::App* jited_cmd =
        dump_cmd->add_subcommand("jited", "the JIT's x86-64 code, annotated with the BPF instructions");
    std::string program;
    bool opcodes = false;
    bool no_verify = false;
    jited_cmd->add_option("OBJECT", path, "BPF ELF object (clang -target bpf -c)")->required();
    jited_cmd->add_option("--program", program, "only this program (default: every program)");
    jited_cmd->add_flag("--opcodes", opcodes, "the bytes of each machine instruction (bpftool's `opcodes`)");
    jited_cmd->add_flag("--no-verify", no_verify, "skip the verifier: checked code, as `xbpf run --no-verify`");
    jited_cmd->add_flag("-j,--json", json, "JSON output, an array of objects (bpftool -j)");
    jited_cmd->add_flag("-p,--pretty", pretty, "indented JSON (bpftool -p)");
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;
    if (dump_cmd->parsed()) return dump_jited(path, program, opcodes, json || pretty, pretty, !no_verify);
    return show(path, json || pretty, pretty);
}

}  // namespace xbpf::cli
