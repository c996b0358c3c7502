// xbpf asm: assembly text (either syntax) -> raw instruction bytes, or (--elf) a relocatable BPF ELF object.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common.hpp"
#include "object/elf_writer.hpp"

namespace xbpf::cli {

int asm_main(int argc, char** argv) {
    CLI::App app("Assemble eBPF assembly (LLVM pseudo-C or uBPF mnemonic syntax) into instruction bytes.", "xbpf asm");
    std::string input;
    std::string output;
    bool elf = false;
    object::ElfProgramInput elf_input;
    app.add_option("FILE", input, "assembly file ('-' for standard input)")->required();
    app.add_option("-o,--output", output,
                   "write raw instruction bytes here ('-' for standard output); "
                   "without it, print one instruction per line in hex");
    app.add_flag("--elf", elf,
                 "write a relocatable BPF ELF object (EM_BPF, as clang -target bpf -c) instead of raw bytes; "
                 "needs -o; programs that reference maps are refused");
    app.add_option("--section", elf_input.section,
                   "with --elf: the program's section, e.g. xdp, socket, tracepoint/syscalls/sys_enter_openat "
                   "(libbpf's naming gives the program type; .text holds sub-programs only)")
        ->capture_default_str();
    app.add_option("--name", elf_input.name, "with --elf: the program's global function symbol")->capture_default_str();
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;

    if (!elf && (app.count("--section") > 0 || app.count("--name") > 0)) {
        std::fprintf(stderr, "xbpf asm: --section and --name need --elf\n");
        return 2;
    }
    if (elf && output.empty()) {
        std::fprintf(stderr, "xbpf asm: --elf needs -o OUT.o\n");
        return 2;
    }

    auto program = load_program_file(input);
    if (!program) return report("asm", program.error());
    if (elf) {
        elf_input.insns = std::move(*program);
        auto bytes = object::write_elf_object(elf_input);
        if (!bytes) {
            Error e = bytes.error();
            if (e.where.file.empty()) e.where.file = input;
            return report("asm", e);
        }
        if (auto w = write_file(output, *bytes); !w) return report("asm", w.error());
        if (elf_input.section == ".text")
            std::fprintf(stderr,
                         "xbpf asm: note: functions in .text are sub-programs only; give --section (socket, xdp, ...) "
                         "for a loadable program\n");
        return 0;
    }
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
