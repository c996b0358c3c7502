#include "object/elf_file.hpp"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>

#include <cstring>
#include <mutex>
#include <unordered_map>

namespace xbpf::object::detail {

namespace {

constexpr std::uint16_t kEmBpf = 247;  // EM_BPF; older elf.h may lack it

void ensure_libelf() {
    static std::once_flag once;
    std::call_once(once, [] { elf_version(EV_CURRENT); });
}

std::string libelf_message() {
    const char* m = elf_errmsg(-1);
    return m != nullptr ? m : "unknown libelf error";
}

}  // namespace

struct ElfFile::Impl {
    std::vector<char> bytes;  // libelf reads in place; never resized after elf_memory
    Elf* elf = nullptr;
    std::vector<std::vector<ElfRelocation>> relocations;  // by target section index
    std::vector<std::size_t> relocation_section;          // by target section index
    std::vector<std::vector<std::size_t>> symbols_by_section;
    std::unordered_map<std::string, std::vector<std::size_t>> symbols_by_name;
    std::unordered_map<std::string, std::size_t> section_by_name;

    ~Impl() {
        if (elf != nullptr) elf_end(elf);
    }
};

Error section_error(const std::string& file, std::string_view section, std::uint64_t offset, std::string message) {
    Location where;
    where.file = file;
    where.byte_offset = static_cast<std::size_t>(offset);
    return Error{ErrorCode::kParse, fmt::format("section '{}': {}", section, message), std::move(where)};
}

std::uint16_t load_u16(std::span<const std::uint8_t> bytes, std::size_t offset) {
    std::uint16_t v = 0;
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

std::uint32_t load_u32(std::span<const std::uint8_t> bytes, std::size_t offset) {
    std::uint32_t v = 0;
    std::memcpy(&v, bytes.data() + offset, sizeof v);
    return v;
}

ElfFile::ElfFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ElfFile::ElfFile(ElfFile&&) noexcept = default;
ElfFile& ElfFile::operator=(ElfFile&&) noexcept = default;
ElfFile::~ElfFile() = default;

const ElfSection* ElfFile::section(std::size_t index) const {
    return index < sections_.size() ? &sections_[index] : nullptr;
}

const std::vector<ElfRelocation>& ElfFile::relocations_for(std::size_t index) const {
    static const std::vector<ElfRelocation> kNone;
    return index < impl_->relocations.size() ? impl_->relocations[index] : kNone;
}

std::size_t ElfFile::relocation_section_for(std::size_t index) const {
    return index < impl_->relocation_section.size() ? impl_->relocation_section[index] : 0;
}

const std::vector<std::size_t>& ElfFile::symbols_in(std::size_t index) const {
    static const std::vector<std::size_t> kNone;
    return index < impl_->symbols_by_section.size() ? impl_->symbols_by_section[index] : kNone;
}

const std::vector<std::size_t>& ElfFile::symbols_named(const std::string& name) const {
    static const std::vector<std::size_t> kNone;
    const auto it = impl_->symbols_by_name.find(name);
    return it == impl_->symbols_by_name.end() ? kNone : it->second;
}

std::size_t ElfFile::section_named(const std::string& name) const {
    const auto it = impl_->section_by_name.find(name);
    return it == impl_->section_by_name.end() ? 0 : it->second;
}

Result<ElfFile> ElfFile::open(std::span<const std::uint8_t> bytes, const std::string& file) {
    ensure_libelf();
    auto header_error = [&](std::uint64_t offset, std::string message) {
        return fail(file, "ELF header", offset, std::move(message));
    };
    if (bytes.size() < 64)
        return header_error(0, fmt::format("file of {} bytes is too short for an ELF header", bytes.size()));
    if (std::memcmp(bytes.data(),
                    "\x7f"
                    "ELF",
                    4) != 0)
        return header_error(0, "not an ELF file (bad magic)");
    if (bytes[EI_CLASS] != ELFCLASS64) return header_error(EI_CLASS, "not a 64-bit ELF object");
    if (bytes[EI_DATA] != ELFDATA2LSB)
        return std::unexpected(Error{ErrorCode::kUnsupported, "big-endian BPF objects are not supported", {}});

    auto impl = std::make_unique<Impl>();
    impl->bytes.assign(bytes.begin(), bytes.end());
    impl->elf = elf_memory(impl->bytes.data(), impl->bytes.size());
    if (impl->elf == nullptr || elf_kind(impl->elf) != ELF_K_ELF)
        return header_error(0, "libelf cannot read the object: " + libelf_message());

    GElf_Ehdr ehdr;
    if (gelf_getehdr(impl->elf, &ehdr) == nullptr) return header_error(0, "bad ELF header: " + libelf_message());
    if (ehdr.e_machine != kEmBpf)
        return header_error(18, fmt::format("e_machine is {}, not EM_BPF (247)", ehdr.e_machine));
    if (ehdr.e_type != ET_REL)
        return header_error(16, fmt::format("e_type is {}, not a relocatable object (ET_REL)", ehdr.e_type));

    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(impl->elf, &shstrndx) != 0)
        return header_error(62, "no section name table: " + libelf_message());
    std::size_t shnum = 0;
    if (elf_getshdrnum(impl->elf, &shnum) != 0) return header_error(60, "bad section count: " + libelf_message());

    ElfFile out(std::move(impl));
    Impl& im = *out.impl_;
    out.sections_.resize(shnum);
    im.relocations.resize(shnum);
    im.relocation_section.assign(shnum, 0);
    const std::uint64_t file_size = im.bytes.size();

    std::size_t symtab_index = 0;
    for (std::size_t i = 1; i < shnum; ++i) {
        Elf_Scn* scn = elf_getscn(im.elf, i);
        GElf_Shdr shdr;
        if (scn == nullptr || gelf_getshdr(scn, &shdr) == nullptr)
            return fail(file, fmt::format("#{}", i), 0, "bad section header: " + libelf_message());
        ElfSection& s = out.sections_[i];
        s.index = i;
        const char* name = elf_strptr(im.elf, shstrndx, shdr.sh_name);
        if (name == nullptr)
            return fail(file, fmt::format("#{}", i), 0,
                        fmt::format("section name offset {} is outside the section name table", shdr.sh_name));
        s.name = name;
        s.type = shdr.sh_type;
        s.flags = shdr.sh_flags;
        s.link = shdr.sh_link;
        s.info = shdr.sh_info;
        s.size = shdr.sh_size;
        s.entsize = shdr.sh_entsize;
        if (shdr.sh_type == SHT_NOBITS || shdr.sh_type == SHT_NULL) continue;
        if (shdr.sh_offset > file_size || shdr.sh_size > file_size - shdr.sh_offset)
            return fail(file, s.name, 0,
                        fmt::format("section data [{}, +{}) lies outside the {}-byte file", shdr.sh_offset,
                                    shdr.sh_size, file_size));
        if ((shdr.sh_flags & SHF_COMPRESSED) != 0) continue;  // debug info only; never needed here
        // Sections we never read (DWARF) are not handed to libelf, which would convert or decompress them.
        const bool wanted = shdr.sh_type == SHT_PROGBITS || shdr.sh_type == SHT_SYMTAB || shdr.sh_type == SHT_REL ||
                            shdr.sh_type == SHT_STRTAB;
        if (!wanted || s.name.starts_with(".debug") || s.name.starts_with(".rel.debug")) continue;
        Elf_Data* data = elf_getdata(scn, nullptr);
        if (data == nullptr) {
            if (shdr.sh_size == 0) continue;
            return fail(file, s.name, 0, "cannot read section data: " + libelf_message());
        }
        if (data->d_size > shdr.sh_size || (data->d_buf == nullptr && data->d_size != 0))
            return fail(file, s.name, 0, "libelf returned inconsistent section data");
        s.data = std::span<const std::uint8_t>(static_cast<const std::uint8_t*>(data->d_buf), data->d_size);
        if (shdr.sh_type == SHT_SYMTAB) {
            if (symtab_index != 0) return fail(file, s.name, 0, "more than one symbol table");
            symtab_index = i;
        }
    }
    if (symtab_index == 0) return fail(file, ".symtab", 0, "the object has no symbol table");
    for (std::size_t i = 1; i < shnum; ++i) im.section_by_name[out.sections_[i].name] = i;

    // Symbols: entries must be whole; names must lie inside the linked string table.
    const ElfSection& symtab = out.sections_[symtab_index];
    if (symtab.entsize != sizeof(Elf64_Sym))
        return fail(file, symtab.name, 0,
                    fmt::format("symbol entry size {} is not {}", symtab.entsize, sizeof(Elf64_Sym)));
    if (symtab.data.size() % sizeof(Elf64_Sym) != 0)
        return fail(file, symtab.name, symtab.data.size(), "symbol table size is not a multiple of the entry size");
    if (symtab.link == 0 || symtab.link >= shnum || out.sections_[symtab.link].type != SHT_STRTAB)
        return fail(file, symtab.name, 0, fmt::format("sh_link {} is not a string table", symtab.link));
    {
        Elf_Scn* scn = elf_getscn(im.elf, symtab_index);
        Elf_Data* data = elf_getdata(scn, nullptr);
        const std::size_t count = symtab.data.size() / sizeof(Elf64_Sym);
        out.symbols_.resize(count);
        for (std::size_t i = 0; i < count; ++i) {
            GElf_Sym sym;
            if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr)
                return fail(file, symtab.name, i * sizeof(Elf64_Sym), "cannot read symbol: " + libelf_message());
            ElfSymbol& s = out.symbols_[i];
            s.index = i;
            const char* name = elf_strptr(im.elf, symtab.link, sym.st_name);
            if (name == nullptr)
                return fail(file, symtab.name, i * sizeof(Elf64_Sym),
                            fmt::format("symbol {} name offset {} is outside the string table", i, sym.st_name));
            s.name = name;
            s.value = sym.st_value;
            s.size = sym.st_size;
            s.type = GELF_ST_TYPE(sym.st_info);
            s.bind = GELF_ST_BIND(sym.st_info);
            s.shndx = sym.st_shndx;
            if (s.type == STT_SECTION && s.name.empty() && s.shndx < shnum) s.name = out.sections_[s.shndx].name;
            if (s.shndx != SHN_UNDEF && s.shndx < SHN_LORESERVE && s.shndx >= shnum)
                return fail(file, symtab.name, i * sizeof(Elf64_Sym),
                            fmt::format("symbol '{}' refers to section {}, but there are {}", s.name, s.shndx, shnum));
        }
        im.symbols_by_section.resize(shnum);
        for (const ElfSymbol& s : out.symbols_) {
            if (s.index == 0) continue;
            if (s.shndx < shnum) im.symbols_by_section[s.shndx].push_back(s.index);
            im.symbols_by_name[s.name].push_back(s.index);
        }
    }

    // Relocations: SHT_REL against this symbol table; every symbol index is checked here.
    for (std::size_t i = 1; i < shnum; ++i) {
        const ElfSection& s = out.sections_[i];
        if (s.type == SHT_RELA && s.info < shnum && (out.sections_[s.info].flags & SHF_EXECINSTR) != 0)
            return std::unexpected(
                section_error(file, s.name, 0, "RELA relocations are not used by BPF; expected SHT_REL"));
        if (s.type != SHT_REL || s.name.starts_with(".rel.debug")) continue;
        if (s.info == 0 || s.info >= shnum)
            return fail(file, s.name, 0, fmt::format("sh_info {} is not a section", s.info));
        if (s.link != symtab_index) continue;  // relocations against another table are not ours to apply
        if (s.entsize != sizeof(Elf64_Rel))
            return fail(file, s.name, 0,
                        fmt::format("relocation entry size {} is not {}", s.entsize, sizeof(Elf64_Rel)));
        if (s.data.size() % sizeof(Elf64_Rel) != 0)
            return fail(file, s.name, s.data.size(), "relocation section size is not a multiple of the entry size");
        if (im.relocation_section[s.info] != 0)
            return fail(file, s.name, 0, fmt::format("second relocation section for '{}'", out.sections_[s.info].name));
        Elf_Data* data = elf_getdata(elf_getscn(im.elf, i), nullptr);
        const std::size_t count = s.data.size() / sizeof(Elf64_Rel);
        auto& list = im.relocations[s.info];
        list.reserve(count);
        for (std::size_t r = 0; r < count; ++r) {
            GElf_Rel rel;
            if (gelf_getrel(data, static_cast<int>(r), &rel) == nullptr)
                return fail(file, s.name, r * sizeof(Elf64_Rel), "cannot read relocation: " + libelf_message());
            ElfRelocation e;
            e.offset = rel.r_offset;
            e.type = static_cast<std::uint32_t>(GELF_R_TYPE(rel.r_info));
            const std::uint64_t sym = GELF_R_SYM(rel.r_info);
            if (sym >= out.symbols_.size())
                return fail(
                    file, s.name, r * sizeof(Elf64_Rel),
                    fmt::format("relocation symbol index {} is out of range ({} symbols)", sym, out.symbols_.size()));
            e.symbol = static_cast<std::uint32_t>(sym);
            list.push_back(e);
        }
        im.relocation_section[s.info] = i;
    }
    return out;
}

}  // namespace xbpf::object::detail
