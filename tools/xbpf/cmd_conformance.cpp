// xbpf conformance-plugin: the bpf_conformance plugin protocol. The runner passes the memory as hex bytes in the
// last argument and the program as hex bytes on standard input; the plugin prints r0 in hex, or an error on
// stderr with a non-zero exit.
#include <iostream>
#include <iterator>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common.hpp"
#include "jit/jit.hpp"
#include "vm/vm.hpp"

namespace xbpf::cli {

int conformance_main(int argc, char** argv) {
    CLI::App app(
        "bpf_conformance plugin: program as hex bytes on stdin, memory as hex bytes in MEMORY; prints r0 "
        "in hex.",
        "xbpf conformance-plugin");
    std::string memory_hex;
    std::string engine = "interp";
    app.add_option("MEMORY", memory_hex, "the program's memory as hex bytes (space-separated)");
    app.add_option("--engine", engine,
                   "execution engine: interp, or jit (checked JIT code: the programs are not verified); auto is "
                   "interp")
        ->check(CLI::IsMember({"auto", "jit", "interp"}));
    app.allow_extras();  // runners may pass options meant for other plugins
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;

    const std::string program_hex((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    auto program_bytes = parse_hex_bytes(program_hex);
    if (!program_bytes) return report("conformance-plugin", program_bytes.error());
    auto insns = isa::from_bytes(*program_bytes);
    if (!insns) return report("conformance-plugin", insns.error());
    auto memory = parse_hex_bytes(memory_hex);
    if (!memory) return report("conformance-plugin", memory.error());

    auto program = vm::Program::load(*insns);
    if (!program) return report("conformance-plugin", program.error());
    vm::RunOptions options;
    options.checked = true;
    if (engine == "jit") {
        auto code = jit::compile(
            *program, jit::JitOptions{.checked = true, .blind_constants = false, .facts = {}, .optimize = true});
        if (code)
            program->set_native(*code);
        else
            report_jit_fallback("conformance-plugin", code.error().message);
    }
    options.engine = engine == "jit" ? vm::EngineKind::Jit : vm::EngineKind::Interp;
    auto result = vm::run_raw(*program, *memory, options);
    if (!result) return report("conformance-plugin", result.error());
    fmt::print("{:x}\n", result->r0);
    return 0;
}

}  // namespace xbpf::cli
