// xbpf prog show OBJECT: the programs a BPF ELF object declares, in bpftool's `prog show` layout (text and -j).
// The fields bpftool reads from a loaded program (id, tag, load time, jited size) have no meaning for an object
// on disk; what the object says instead (section, attach target, functions, maps, line info) takes their place.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <set>

#include "common.hpp"

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
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;
    return show(path, json || pretty, pretty);
}

}  // namespace xbpf::cli
