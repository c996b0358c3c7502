// ElfFile: a bounds-checked view of a BPF ELF object through libelf (internal to src/object).
// Everything libelf hands back is checked here once (section data inside the file, symbol and relocation entry
// sizes, string offsets), so the rest of the parser works on plain vectors and spans that are known to be in range.
// Symbols are indexed by section and by name, so that no later step is quadratic in a hostile symbol table.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace xbpf::object::detail {

/// One ELF section.
struct ElfSection {
    std::size_t index = 0;
    std::string name;
    std::uint32_t type = 0;   ///< sh_type
    std::uint64_t flags = 0;  ///< sh_flags
    std::uint32_t link = 0;   ///< sh_link
    std::uint32_t info = 0;   ///< sh_info
    std::uint64_t size = 0;   ///< sh_size (also for SHT_NOBITS, whose data is empty)
    std::uint64_t entsize = 0;
    std::span<const std::uint8_t> data;  ///< the section's bytes; empty for SHT_NOBITS
};

/// One symbol of .symtab.
struct ElfSymbol {
    std::size_t index = 0;
    std::string name;
    std::uint64_t value = 0;
    std::uint64_t size = 0;
    std::uint8_t type = 0;  ///< STT_*
    std::uint8_t bind = 0;  ///< STB_*
    std::uint16_t shndx = 0;
};

/// One SHT_REL entry.
struct ElfRelocation {
    std::uint64_t offset = 0;  ///< r_offset: byte offset in the target section
    std::uint32_t type = 0;    ///< R_BPF_*
    std::uint32_t symbol = 0;  ///< index into symbols(), checked to be in range
};

/// A parsed ELF object. Owns a copy of the bytes (libelf reads them in place).
class ElfFile {
  public:
    /// Parse `bytes`; `file` names the object in errors. Requires a 64-bit little-endian EM_BPF relocatable object.
    static Result<ElfFile> open(std::span<const std::uint8_t> bytes, const std::string& file);

    ElfFile(ElfFile&&) noexcept;
    ElfFile& operator=(ElfFile&&) noexcept;
    ~ElfFile();

    [[nodiscard]] const std::vector<ElfSection>& sections() const { return sections_; }
    [[nodiscard]] const std::vector<ElfSymbol>& symbols() const { return symbols_; }
    /// Section by index; nullptr when out of range.
    [[nodiscard]] const ElfSection* section(std::size_t index) const;
    /// Relocations (SHT_REL) that apply to section `index`, in file order.
    [[nodiscard]] const std::vector<ElfRelocation>& relocations_for(std::size_t index) const;
    /// Index of the SHT_REL section that applies to `index`, or 0.
    [[nodiscard]] std::size_t relocation_section_for(std::size_t index) const;
    /// Indexes of the symbols defined in section `index` (st_shndx == index), in table order.
    [[nodiscard]] const std::vector<std::size_t>& symbols_in(std::size_t index) const;
    /// Indexes of the symbols called `name`, in table order.
    [[nodiscard]] const std::vector<std::size_t>& symbols_named(const std::string& name) const;
    /// Index of the last section called `name`, or 0.
    [[nodiscard]] std::size_t section_named(const std::string& name) const;

  private:
    struct Impl;
    explicit ElfFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
    std::vector<ElfSection> sections_;
    std::vector<ElfSymbol> symbols_;
};

/// Error for malformed input at `offset` bytes into `section`: "section 'xdp': offset 24: <message>".
Error section_error(const std::string& file, std::string_view section, std::uint64_t offset, std::string message);
/// Same, as a Result.
inline std::unexpected<Error> fail(const std::string& file, std::string_view section, std::uint64_t offset,
                                   std::string message) {
    return std::unexpected<Error>(section_error(file, section, offset, std::move(message)));
}

/// Little-endian loads from a span, for callers that checked the bounds.
std::uint16_t load_u16(std::span<const std::uint8_t> bytes, std::size_t offset);
std::uint32_t load_u32(std::span<const std::uint8_t> bytes, std::size_t offset);

}  // namespace xbpf::object::detail
