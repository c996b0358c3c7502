// State shared by the steps of parse_object (internal to src/object): the ELF view, the BTF, the .BTF.ext records,
// what each section is, and where each map was defined. Each step reads the context and fills part of the spec.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "object/btf_ext.hpp"
#include "object/elf_file.hpp"
#include "object/object_spec.hpp"

struct btf_type;

namespace xbpf::object::detail {

/// What a section holds, as far as the parser is concerned.
enum class SectionKind : std::uint8_t { Other, Program, Data, LegacyMaps, BtfMaps };

/// One function (FUNC symbol) in an executable section, in slots.
struct Function {
    std::size_t symbol = 0;   ///< index into ElfFile::symbols()
    std::uint64_t start = 0;  ///< first slot in the section
    std::uint64_t count = 0;  ///< slots
};

struct ParseContext {
    ParseContext(std::string file_name, ElfFile elf_file) : file(std::move(file_name)), elf(std::move(elf_file)) {}

    std::string file;  ///< for error locations
    ElfFile elf;
    const struct btf* btf = nullptr;  ///< owned by spec.btf
    BtfExt btf_ext;
    ObjectSpec spec;

    std::vector<SectionKind> kinds;  ///< by section index
    /// Maps defined in map sections, by (section index, offset of the definition).
    std::map<std::pair<std::size_t, std::uint64_t>, std::uint32_t> map_at;
    /// BTF-defined maps: definition size, to attribute .rel.maps entries (by map index).
    std::map<std::uint32_t, std::pair<std::uint64_t, std::uint64_t>> map_extent;  ///< index -> (offset, size)
    std::map<std::uint32_t, std::uint64_t> map_values_offset;  ///< index -> byte offset of the `values` member
    /// Global data map of each data section.
    std::map<std::size_t, std::uint32_t> data_map;
    /// Index into spec.externs by name.
    std::unordered_map<std::string, std::size_t> extern_index;
    /// The .kconfig map, if any externs are kconfig.
    std::optional<std::uint32_t> kconfig_map;
    /// Functions of each executable section, sorted by start.
    std::map<std::size_t, std::vector<Function>> functions;

    [[nodiscard]] const ElfSection& section(std::size_t index) const { return *elf.section(index); }
    [[nodiscard]] std::unexpected<Error> error(std::string_view section, std::uint64_t offset,
                                               std::string message) const {
        return fail(file, section, offset, std::move(message));
    }
};

/// A BTF type by id, following typedefs and modifiers (const, volatile, restrict, type tags); nullptr when an id
/// is out of range or the chain is longer than 32 (a loop in hostile BTF). `id_out` receives the final id.
const struct btf_type* skip_mods_and_typedefs(const struct btf* btf, std::uint32_t id, std::uint32_t* id_out = nullptr);

/// Alignment of a BTF type, like libbpf's btf__align_of but safe on unvalidated BTF (libbpf 1.1 does not check
/// type references when parsing, and its btf__align_of dereferences missing types and recurses without a bound):
/// -1 for missing types, loops, or more than `budget` steps.
int btf_align_of(const struct btf* btf, std::uint32_t id, int budget = 4096);

/// Name of a BTF type or member name offset; "" when absent or out of range.
std::string btf_name(const struct btf* btf, std::uint32_t name_off);

// Steps of parse_object, in order. Each returns an error naming the section and offset.
Result<void> parse_btf_maps(ParseContext& ctx, std::size_t section_index);
Result<void> parse_legacy_maps(ParseContext& ctx, std::size_t section_index);
Result<void> add_data_map(ParseContext& ctx, std::size_t section_index);
Result<void> collect_externs(ParseContext& ctx);
Result<void> parse_map_slots(ParseContext& ctx, std::size_t section_index);
Result<void> collect_functions(ParseContext& ctx, std::size_t section_index);
Result<void> build_programs(ParseContext& ctx);

}  // namespace xbpf::object::detail
