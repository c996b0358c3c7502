// xbpf disasm: instruction bytes -> text, in llvm-objdump's layout.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common.hpp"
#include "isa/disassembler.hpp"

namespace xbpf::cli {

int disasm_main(int argc, char** argv) {
    CLI::App app("Disassemble eBPF instructions, printed as llvm-objdump -d prints them.", "xbpf disasm");
    std::string input;
    bool mnemonic = false;
    bool no_raw = false;
    app.add_option("FILE", input, "raw instruction bytes or assembly text ('-' for standard input)")->required();
    app.add_flag("--mnemonic", mnemonic, "print the uBPF/bpf_conformance mnemonic syntax instead of pseudo-C");
    app.add_flag("--no-show-raw-insn", no_raw, "do not print the instruction bytes");
    CLI11_PARSE(app, argc, argv);

    auto program = load_program_file(input);
    if (!program) return report("disasm", program.error());
    isa::DisasmOptions options;
    options.syntax = mnemonic ? isa::Syntax::Mnemonic : isa::Syntax::PseudoC;
    options.show_bytes = !no_raw;
    fmt::print("{}", isa::disassemble(*program, options));
    return 0;
}

}  // namespace xbpf::cli
