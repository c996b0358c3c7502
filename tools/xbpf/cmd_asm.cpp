// xbpf asm: assembly text (either syntax) -> raw instruction bytes.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common.hpp"

namespace xbpf::cli {

int asm_main(int argc, char** argv) {
    CLI::App app("Assemble eBPF assembly (LLVM pseudo-C or uBPF mnemonic syntax) into instruction bytes.", "xbpf asm");
    std::string input;
    std::string output;
    app.add_option("FILE", input, "assembly file ('-' for standard input)")->required();
    app.add_option("-o,--output", output,
                   "write raw instruction bytes here ('-' for standard output); "
                   "without it, print one instruction per line in hex");
    CLI11_PARSE(app, argc, argv);

    auto program = load_program_file(input);
    if (!program) return report("asm", program.error());
    const auto bytes = isa::to_bytes(*program);
    if (!output.empty()) {
        if (auto w = write_file(output, bytes); !w) return report("asm", w.error());
        return 0;
    }
    for (std::size_t i = 0; i < bytes.size(); i += 8)
        fmt::print("{:02x} {:02x} {:02x} {:02x} {:02x} {:02x} {:02x} {:02x}\n", bytes[i], bytes[i + 1], bytes[i + 2],
                   bytes[i + 3], bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]);
    return 0;
}

}  // namespace xbpf::cli
