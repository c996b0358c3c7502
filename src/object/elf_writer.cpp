#include "object/elf_writer.hpp"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>

namespace xbpf::object {

namespace {

constexpr std::size_t kSlot = sizeof(isa::RawInsn);
constexpr std::size_t kMaxName = 4096;

Error libelf_error(const char* what) {
    return Error{ErrorCode::kIo, fmt::format("libelf: {}: {}", what, elf_errmsg(-1)), {}};
}

// A string table under construction: offset 0 is the empty string, as ELF requires.
class StringTable {
  public:
    StringTable() { bytes_.push_back('\0'); }
    std::uint32_t add(const std::string& s) {
        const auto off = static_cast<std::uint32_t>(bytes_.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
        bytes_.push_back('\0');
        return off;
    }
    std::vector<char>& bytes() { return bytes_; }

  private:
    std::vector<char> bytes_;
};

// Checks the program and returns the start slots of the functions: 0, then every local call target.
Result<std::set<std::size_t>> function_starts(std::span<const isa::RawInsn> insns) {
    if (insns.empty()) return make_error(ErrorCode::kInvalidInstruction, "empty program");
    std::set<std::size_t> starts{0};
    for (std::size_t pc = 0; pc < insns.size();) {
        auto insn = isa::decode_at(insns, pc);
        if (!insn) return std::unexpected(insn.error());
        switch (insn->op) {
            case isa::Op::Lddw:
                if (insn->src != isa::kPseudoImm64)
                    return make_error(ErrorCode::kUnsupported,
                                      fmt::format("lddw with pseudo source {} (a map, BTF or function reference) needs "
                                                  "a relocation; ELF output supports map-free programs only",
                                                  static_cast<int>(insn->src)),
                                      at_insn(pc));
                break;
            case isa::Op::Callx:
                return make_error(ErrorCode::kUnsupported,
                                  "callx needs a function address relocation; not supported in ELF output",
                                  at_insn(pc));
            case isa::Op::CallKfunc:
                return make_error(ErrorCode::kUnsupported,
                                  "a kfunc call needs an extern symbol relocation; not supported in ELF output",
                                  at_insn(pc));
            case isa::Op::CallLocal: {
                const std::int64_t target = insn->target(pc);
                if (target <= 0 || static_cast<std::size_t>(target) >= insns.size())
                    return make_error(ErrorCode::kInvalidInstruction,
                                      fmt::format("local call target {} is outside the program", target), at_insn(pc));
                starts.insert(static_cast<std::size_t>(target));
                break;
            }
            default: break;
        }
        pc += insn->op == isa::Op::Lddw ? 2 : 1;
    }
    return starts;
}

Result<void> check_name(const std::string& name, const char* what) {
    if (name.empty()) return make_error(ErrorCode::kInvalidArgument, fmt::format("empty {} name", what));
    if (name.size() > kMaxName || name.find('\0') != std::string::npos)
        return make_error(ErrorCode::kInvalidArgument, fmt::format("invalid {} name", what));
    return {};
}

struct ElfDeleter {
    void operator()(Elf* e) const { elf_end(e); }
};
struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

// Adds a section with one data block; `data` must outlive elf_update.
Result<Elf_Scn*> add_section(Elf* elf, std::uint32_t name, std::uint32_t type, std::uint64_t flags, void* data,
                             std::size_t size, Elf_Type data_type, std::uint64_t align, std::uint64_t entsize = 0) {
    Elf_Scn* scn = elf_newscn(elf);
    if (scn == nullptr) return std::unexpected(libelf_error("elf_newscn"));
    Elf_Data* d = elf_newdata(scn);
    if (d == nullptr) return std::unexpected(libelf_error("elf_newdata"));
    d->d_buf = data;
    d->d_size = size;
    d->d_type = data_type;
    d->d_align = align;
    d->d_version = EV_CURRENT;
    Elf64_Shdr* sh = elf64_getshdr(scn);
    if (sh == nullptr) return std::unexpected(libelf_error("elf64_getshdr"));
    sh->sh_name = name;
    sh->sh_type = type;
    sh->sh_flags = flags;
    sh->sh_addralign = align;
    sh->sh_entsize = entsize;
    return scn;
}

}  // namespace

Result<std::vector<std::uint8_t>> write_elf_object(const ElfProgramInput& input) {
    if (auto r = check_name(input.section, "section"); !r) return std::unexpected(r.error());
    if (auto r = check_name(input.name, "symbol"); !r) return std::unexpected(r.error());
    if (input.section == "license" || input.section == ".strtab" || input.section == ".symtab")
        return make_error(ErrorCode::kInvalidArgument,
                          fmt::format("section name '{}' is reserved for the object's own tables", input.section));
    auto starts = function_starts(input.insns);
    if (!starts) return std::unexpected(starts.error());

    static std::once_flag version_once;
    std::call_once(version_once, [] { elf_version(EV_CURRENT); });

    // libelf writes to a file descriptor; an anonymous temporary file gives the bytes back.
    std::unique_ptr<std::FILE, FileCloser> file(std::tmpfile());
    if (!file)
        return make_error(ErrorCode::kIo, fmt::format("cannot create a temporary file: {}", std::strerror(errno)));
    const int fd = fileno(file.get());

    // Everything libelf points at must live until elf_update.
    std::vector<std::uint8_t> code = isa::to_bytes(input.insns);
    std::vector<char> license(input.license.begin(), input.license.end());
    license.push_back('\0');
    StringTable strtab;  // section and symbol names in one table, as clang/llvm-mc emit it
    const std::uint32_t strtab_name = strtab.add(".strtab");
    const std::uint32_t code_name = strtab.add(input.section);
    const std::uint32_t license_name = input.license.empty() ? 0 : strtab.add("license");
    const std::uint32_t symtab_name = strtab.add(".symtab");

    std::unique_ptr<Elf, ElfDeleter> elf(elf_begin(fd, ELF_C_WRITE, nullptr));
    if (!elf) return std::unexpected(libelf_error("elf_begin"));
    Elf64_Ehdr* eh = elf64_newehdr(elf.get());
    if (eh == nullptr) return std::unexpected(libelf_error("elf64_newehdr"));
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
    eh->e_type = ET_REL;
    eh->e_machine = EM_BPF;
    eh->e_version = EV_CURRENT;

    // Section order as clang emits it: .strtab, code, license, .symtab.
    auto strtab_scn = add_section(elf.get(), strtab_name, SHT_STRTAB, 0, nullptr, 0, ELF_T_BYTE, 1);
    if (!strtab_scn) return std::unexpected(strtab_scn.error());
    auto code_scn = add_section(elf.get(), code_name, SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, code.data(), code.size(),
                                ELF_T_BYTE, kSlot);
    if (!code_scn) return std::unexpected(code_scn.error());
    Elf_Scn* license_scn = nullptr;
    if (!input.license.empty()) {
        auto s = add_section(elf.get(), license_name, SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, license.data(),
                             license.size(), ELF_T_BYTE, 1);
        if (!s) return std::unexpected(s.error());
        license_scn = *s;
    }
    const auto code_index = static_cast<std::uint16_t>(elf_ndxscn(*code_scn));

    // Symbols: null, the local functions (call targets), then the globals (entry function, LICENSE).
    std::vector<Elf64_Sym> symbols(1);
    auto add_symbol = [&](const std::string& name, unsigned bind, unsigned type, std::uint16_t shndx,
                          std::uint64_t value, std::uint64_t size) {
        Elf64_Sym s{};
        s.st_name = strtab.add(name);
        s.st_info = static_cast<unsigned char>(ELF64_ST_INFO(bind, type));
        s.st_other = STV_DEFAULT;
        s.st_shndx = shndx;
        s.st_value = value;
        s.st_size = size;
        symbols.push_back(s);
    };
    const std::vector<std::size_t> start_list(starts->begin(), starts->end());
    auto function_end = [&](std::size_t i) {
        return i + 1 < start_list.size() ? start_list[i + 1] : input.insns.size();
    };
    for (std::size_t i = 1; i < start_list.size(); ++i)
        add_symbol(fmt::format("{}_{}", input.name, start_list[i]), STB_LOCAL, STT_FUNC, code_index,
                   start_list[i] * kSlot, (function_end(i) - start_list[i]) * kSlot);
    const auto first_global = static_cast<std::uint32_t>(symbols.size());
    add_symbol(input.name, STB_GLOBAL, STT_FUNC, code_index, 0, function_end(0) * kSlot);
    if (license_scn != nullptr)
        add_symbol("LICENSE", STB_GLOBAL, STT_OBJECT, static_cast<std::uint16_t>(elf_ndxscn(license_scn)), 0,
                   license.size());

    auto symtab_scn = add_section(elf.get(), symtab_name, SHT_SYMTAB, 0, symbols.data(),
                                  symbols.size() * sizeof(Elf64_Sym), ELF_T_SYM, 8, sizeof(Elf64_Sym));
    if (!symtab_scn) return std::unexpected(symtab_scn.error());
    Elf64_Shdr* symtab_hdr = elf64_getshdr(*symtab_scn);
    symtab_hdr->sh_link = static_cast<std::uint32_t>(elf_ndxscn(*strtab_scn));
    symtab_hdr->sh_info = first_global;

    // The string table is complete only now (symbol names were added above).
    Elf_Data* strtab_data = elf_getdata(*strtab_scn, nullptr);
    strtab_data->d_buf = strtab.bytes().data();
    strtab_data->d_size = strtab.bytes().size();
    eh->e_shstrndx = static_cast<std::uint16_t>(elf_ndxscn(*strtab_scn));

    if (elf_update(elf.get(), ELF_C_WRITE) < 0) return std::unexpected(libelf_error("elf_update"));
    elf.reset();

    // Read the file back.
    std::vector<std::uint8_t> bytes;
    if (std::fseek(file.get(), 0, SEEK_SET) != 0)
        return make_error(ErrorCode::kIo, fmt::format("cannot read back the object: {}", std::strerror(errno)));
    std::uint8_t buf[4096];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file.get())) > 0;) bytes.insert(bytes.end(), buf, buf + n);
    if (std::ferror(file.get()) != 0) return make_error(ErrorCode::kIo, "cannot read back the object");
    return bytes;
}

}  // namespace xbpf::object
