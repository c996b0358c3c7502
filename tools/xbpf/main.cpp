// xbpf: the single command-line tool. Each subcommand lives in its own cmd_*.cpp and is listed in kCommands.
#include <cstdio>
#include <cstring>
#include <span>
#include <string>

#include "common.hpp"

namespace xbpf::cli {
int asm_main(int argc, char** argv);
int disasm_main(int argc, char** argv);
int run_main(int argc, char** argv);
int conformance_main(int argc, char** argv);
int prog_main(int argc, char** argv);
int map_main(int argc, char** argv);
int verify_main(int argc, char** argv);
}  // namespace xbpf::cli

namespace {

using xbpf::cli::Command;

constexpr Command kCommands[] = {
    {"asm", "assemble eBPF assembly (pseudo-C or mnemonic syntax) into instruction bytes", xbpf::cli::asm_main},
    {"disasm", "disassemble instruction bytes as llvm-objdump does", xbpf::cli::disasm_main},
    {"verify", "verify programs (object, assembly or raw bytes): accept, or explain the first unsafe instruction",
     xbpf::cli::verify_main},
    {"run", "run a program (assembly or raw bytes) and print its return value and run time", xbpf::cli::run_main},
    {"prog", "show the programs of a BPF ELF object (bpftool prog show layout)", xbpf::cli::prog_main},
    {"map", "show the maps of a BPF ELF object and their initial contents (bpftool map dump layout)",
     xbpf::cli::map_main},
    {"conformance-plugin", "run one program for the bpf_conformance suite (program hex on stdin)",
     xbpf::cli::conformance_main},
};

void usage(std::FILE* out) {
    std::fprintf(out, "usage: xbpf <command> [options]\n\ncommands:\n");
    for (const Command& c : kCommands) std::fprintf(out, "  %-20s %s\n", c.name, c.summary);
    std::fprintf(out, "\nRun 'xbpf <command> --help' for a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char* name = argv[1];
    if (std::strcmp(name, "-h") == 0 || std::strcmp(name, "--help") == 0 || std::strcmp(name, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (std::strcmp(name, "--version") == 0) {
        std::printf("xbpf 0.1.0\n");
        return 0;
    }
    for (const Command& c : kCommands)
        if (std::strcmp(name, c.name) == 0) return c.main(argc - 1, argv + 1);
    std::string names;
    for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
    std::fprintf(stderr, "xbpf: unknown command '%s' (commands: %s)\n", name, names.c_str());
    return 2;
}
