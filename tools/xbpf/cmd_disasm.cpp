// xbpf disasm: instruction bytes -> text, in llvm-objdump's layout. Raw bytes and assembly text print one listing;
// an ELF object prints each program (entry function, then its appended sub-programs) as `llvm-objdump -d -r [-S]`
// prints a section: function headers, relocation lines after the instructions they apply to, and source lines.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>

#include "common.hpp"
#include "isa/disassembler.hpp"

namespace xbpf::cli {

namespace {

constexpr std::size_t kSlot = sizeof(isa::RawInsn);

// The ELF relocation type clang emits for what the parser recorded: R_BPF_64_64 on lddw, R_BPF_64_32 on calls.
std::string_view elf_relocation_type(object::RelocationKind kind) {
    switch (kind) {
        case object::RelocationKind::Map:
        case object::RelocationKind::MapValue:
        case object::RelocationKind::FuncAddress:
        case object::RelocationKind::Ksym: return "R_BPF_64_64";
        case object::RelocationKind::Call:
        case object::RelocationKind::KfuncCall: return "R_BPF_64_32";
    }
    return "R_BPF_NONE";
}

struct ObjectListingOptions {
    isa::Syntax syntax = isa::Syntax::PseudoC;
    bool show_bytes = true;
    bool source = false;
};

void append_bytes(std::string& out, std::span<const isa::RawInsn> slots) {
    const auto bytes = isa::to_bytes(slots);
    for (std::size_t i = 0; i < bytes.size(); ++i) out += fmt::format("{}{:02x}", i == 0 ? "" : " ", bytes[i]);
}

// One program in llvm-objdump's layout. Addresses and relocation offsets are in the linked program's numbering
// (byte offset = slot * 8), which for the entry function is its offset in the section minus section_offset.
std::string list_program(const object::ProgramSpec& prog, const ObjectListingOptions& options) {
    isa::Labels labels;
    for (const object::FunctionRange& f : prog.functions) labels.emplace(f.start, f.name);
    isa::FormatOptions with_labels;
    with_labels.syntax = options.syntax;
    with_labels.labels = &labels;

    std::string out = fmt::format("\nDisassembly of section {}:\n", prog.section);
    auto reloc = prog.relocations.begin();
    auto line = prog.line_info.begin();
    const object::LineInfo* last_line = nullptr;
    const std::span<const isa::RawInsn> insns(prog.insns);
    for (std::size_t pc = 0; pc < insns.size();) {
        if (const auto f = labels.find(pc); f != labels.end()) {
            out += fmt::format("\n{:016x} <{}>:\n", pc * kSlot, f->second);
            last_line = nullptr;  // llvm-objdump -S repeats the source line after each symbol
        }
        if (options.source) {
            while (line != prog.line_info.end() && line->insn < pc) ++line;
            if (line != prog.line_info.end() && line->insn == pc && !line->source.empty() &&
                (last_line == nullptr || last_line->line != line->line || last_line->file != line->file)) {
                out += fmt::format("; {}\n", line->source);
                last_line = &*line;
            }
        }
        const Result<isa::Instruction> insn = isa::decode_at(insns, pc);
        const std::size_t slots = insn && insn->op == isa::Op::Lddw ? 2 : 1;
        out += fmt::format("{:>8}:\t", pc);
        if (options.show_bytes) {
            append_bytes(out, insns.subspan(pc, slots));
            out += '\t';
        }
        // Jumps get llvm-objdump's " <function+0x..>" suffix (the ELF's local LBB labels are not kept in the spec,
        // so clang objects that have them show function-relative targets instead); calls get none, as in LLVM.
        out += insn ? isa::format_instruction(*insn, pc, with_labels) : std::string("<unknown>");
        out += '\n';
        for (; reloc != prog.relocations.end() && reloc->insn < pc + slots; ++reloc)
            if (reloc->insn >= pc)
                out += fmt::format("\t\t{:016x}:  {}\t{}\n", reloc->insn * kSlot, elf_relocation_type(reloc->kind),
                                   reloc->symbol);
        pc += slots;
    }
    return out;
}

std::string program_names(const object::ObjectSpec& spec) {
    std::string names;
    for (const object::ProgramSpec& p : spec.programs) names += (names.empty() ? "" : ", ") + p.name;
    return names.empty() ? "none" : names;
}

int disasm_object(const std::string& path, const std::string& section, const std::string& program,
                  const ObjectListingOptions& options) {
    auto spec = load_object_file(path);
    if (!spec) return report("disasm", spec.error());
    std::vector<const object::ProgramSpec*> selected;
    for (const object::ProgramSpec& p : spec->programs)
        if ((section.empty() || p.section == section) && (program.empty() || p.name == program)) selected.push_back(&p);
    if (selected.empty()) {
        Location where;
        where.file = path;
        const std::string what = !program.empty()   ? fmt::format("no program named '{}'", program)
                                 : !section.empty() ? fmt::format("no program in section '{}'", section)
                                                    : std::string("no programs (functions in .text are sub-programs)");
        return report("disasm", Error{ErrorCode::kInvalidArgument,
                                      fmt::format("{} (programs: {})", what, program_names(*spec)), where});
    }
    std::string out = fmt::format("\n{}:\tfile format elf64-bpf\n", path);
    for (const object::ProgramSpec* p : selected) out += list_program(*p, options);
    fmt::print("{}", out);
    return 0;
}

}  // namespace

int disasm_main(int argc, char** argv) {
    CLI::App app("Disassemble eBPF instructions, printed as llvm-objdump -d prints them.", "xbpf disasm");
    std::string input;
    bool mnemonic = false;
    bool no_raw = false;
    bool source = false;
    std::string section;
    std::string program;
    app.add_option("FILE", input, "raw instruction bytes, assembly text, or a BPF ELF object ('-' for standard input)")
        ->required();
    app.add_flag("--mnemonic", mnemonic, "print the uBPF/bpf_conformance mnemonic syntax instead of pseudo-C");
    app.add_flag("--no-show-raw-insn", no_raw, "do not print the instruction bytes");
    auto* section_opt =
        app.add_option("--section", section, "ELF object: only the programs in this section (e.g. xdp, socket)");
    app.add_option("--program", program, "ELF object: only the program with this name")->excludes(section_opt);
    app.add_flag("-g,-S,--source", source,
                 "ELF object: interleave the source lines recorded in the BTF line info (as llvm-objdump -S)");
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;

    auto bytes = read_file(input);
    if (!bytes) return report("disasm", bytes.error());
    if (is_elf(*bytes)) {
        ObjectListingOptions options;
        options.syntax = mnemonic ? isa::Syntax::Mnemonic : isa::Syntax::PseudoC;
        options.show_bytes = !no_raw;
        options.source = source;
        return disasm_object(input, section, program, options);
    }
    if (!section.empty() || !program.empty() || source) {
        std::fprintf(stderr, "xbpf disasm: --section, --program and -g need an ELF object; %s is not one\n",
                     input.c_str());
        return 2;
    }

    auto program_insns = program_from_bytes(*bytes, input);
    if (!program_insns) return report("disasm", program_insns.error());
    isa::DisasmOptions options;
    options.syntax = mnemonic ? isa::Syntax::Mnemonic : isa::Syntax::PseudoC;
    options.show_bytes = !no_raw;
    fmt::print("{}", isa::disassemble(*program_insns, options));
    return 0;
}

}  // namespace xbpf::cli
