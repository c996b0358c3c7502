// Maps declared by an object: BTF-defined (".maps"), legacy ("maps", struct bpf_map_def), global data sections,
// the ".kconfig" externs, and the static slots of prog_array / map-in-map definitions (".rel.maps").
// Conventions follow libbpf (libbpf.c: parse_btf_map_def, bpf_object__init_internal_map, bpf_object__collect_externs,
// bpf_object__collect_map_relos).
#include <bpf/btf.h>
#include <fmt/format.h>
#include <gelf.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "object/parse_context.hpp"

namespace xbpf::object::detail {

namespace {

/// Highest enum bpf_map_type value known (BPF_MAP_TYPE_ARENA, Linux 6.9). Larger values are rejected as unknown.
constexpr std::uint32_t kMaxMapType = 33;

constexpr std::uint32_t kMapTypeProgArray = 3;
constexpr std::uint32_t kMapTypeArrayOfMaps = 12;
constexpr std::uint32_t kMapTypeHashOfMaps = 13;

bool is_map_in_map(std::uint32_t type) { return type == kMapTypeArrayOfMaps || type == kMapTypeHashOfMaps; }

/// What a BTF map definition struct says.
struct BtfMapDef {
    maps::MapSpec spec;
    MapInfo info;
    bool has_values = false;
    std::uint64_t values_offset = 0;
};

/// Parse the members of a map definition struct (libbpf's parse_btf_map_def). `where` is the definition's offset
/// in .maps, for errors.
Result<BtfMapDef> parse_map_def(const ParseContext& ctx, const btf_type* def, const std::string& map_name,
                                bool is_inner, std::uint64_t where) {
    const struct btf* btf = ctx.btf;
    auto err = [&](std::string message) {
        return ctx.error(".maps", where, fmt::format("map '{}': {}", map_name, message));
    };

    BtfMapDef out;
    out.spec.name = map_name;
    bool have_type = false;
    const std::uint16_t vlen = btf_vlen(def);
    const btf_member* members = btf_members(def);

    // __uint(name, N) is `int (*name)[N]`: the value is the array's element count.
    auto get_uint = [&](const btf_member& m, const std::string& field) -> Result<std::uint32_t> {
        const btf_type* t = skip_mods_and_typedefs(btf, m.type);
        if (t == nullptr || !btf_is_ptr(t))
            return err(fmt::format("field '{}' is not __uint() (expected a pointer)", field));
        const btf_type* arr = btf__type_by_id(btf, t->type);
        if (arr == nullptr || !btf_is_array(arr))
            return err(fmt::format("field '{}' is not __uint() (expected a pointer to an array)", field));
        return btf_array(arr)->nelems;
    };
    // __type(name, T) is `T *name`: the size of T, and its type id.
    auto get_type = [&](const btf_member& m, const std::string& field,
                        std::uint32_t& type_id) -> Result<std::uint32_t> {
        const btf_type* t = btf__type_by_id(btf, m.type);
        if (t == nullptr || !btf_is_ptr(t))
            return err(fmt::format("field '{}' is not __type() (expected a pointer)", field));
        const std::int64_t size = btf__resolve_size(btf, t->type);
        if (size < 0 || size > 0xffffffffLL)
            return err(fmt::format("field '{}': cannot determine the size of type {}", field, t->type));
        type_id = t->type;
        return static_cast<std::uint32_t>(size);
    };

    for (std::uint16_t i = 0; i < vlen; ++i) {
        const btf_member& m = members[i];
        const std::string field = btf_name(btf, m.name_off);
        if (field == "type") {
            auto v = get_uint(m, field);
            if (!v) return std::unexpected(v.error());
            if (*v == 0 || *v > kMaxMapType) return err(fmt::format("unknown map type {}", *v));
            out.spec.type = static_cast<maps::MapType>(*v);
            have_type = true;
        } else if (field == "max_entries" || field == "map_flags" || field == "numa_node" || field == "pinning" ||
                   field == "map_extra" || field == "key_size" || field == "value_size") {
            auto v = get_uint(m, field);
            if (!v) return std::unexpected(v.error());
            if (field == "max_entries") out.spec.max_entries = *v;
            if (field == "map_flags") out.spec.flags = *v;
            if (field == "numa_node") out.info.numa_node = *v;
            if (field == "map_extra") out.spec.map_extra = *v;
            if (field == "pinning") {
                if (is_inner) return err("an inner map cannot be pinned");
                if (*v > 1) return err(fmt::format("unknown pinning value {} (0 none, 1 by name)", *v));
                out.info.pinning = static_cast<Pinning>(*v);
            }
            auto set_size = [&](std::uint32_t& size, std::uint32_t value) -> Result<void> {
                if (size != 0 && size != value)
                    return err(fmt::format("conflicting {} ({} and {})", field, size, value));
                size = value;
                return {};
            };
            if (field == "key_size")
                if (auto r = set_size(out.spec.key_size, *v); !r) return std::unexpected(r.error());
            if (field == "value_size")
                if (auto r = set_size(out.spec.value_size, *v); !r) return std::unexpected(r.error());
        } else if (field == "key" || field == "value") {
            std::uint32_t type_id = 0;
            auto size = get_type(m, field, type_id);
            if (!size) return std::unexpected(size.error());
            std::uint32_t& slot = field == "key" ? out.spec.key_size : out.spec.value_size;
            if (slot != 0 && slot != *size)
                return err(fmt::format("conflicting {} size ({} and {})", field, slot, *size));
            slot = *size;
            (field == "key" ? out.info.btf_key_type_id : out.info.btf_value_type_id) = type_id;
        } else if (field == "values") {
            const std::uint32_t type = static_cast<std::uint32_t>(out.spec.type);
            if (is_inner) return err("multi-level inner maps are not supported");
            if (i + 1 != vlen) return err("'values' must be the last field");
            if (!is_map_in_map(type) && type != kMapTypeProgArray)
                return err("'values' is only allowed in a map-in-map or prog_array (declare 'type' first)");
            if (out.spec.value_size != 0 && out.spec.value_size != 4)
                return err(fmt::format("value_size {} conflicts with 'values' (4)", out.spec.value_size));
            out.spec.value_size = 4;
            const btf_type* arr = btf__type_by_id(btf, m.type);
            if (arr == nullptr || !btf_is_array(arr) || btf_array(arr)->nelems != 0)
                return err("'values' must be a zero-length array (__array())");
            const btf_type* ptr = skip_mods_and_typedefs(btf, btf_array(arr)->type);
            if (ptr == nullptr || !btf_is_ptr(ptr)) return err("'values' must be an array of pointers");
            const btf_type* target = skip_mods_and_typedefs(btf, ptr->type);
            if (target == nullptr) return err("'values' points to an unknown type");
            out.has_values = true;
            out.values_offset = btf_member_bit_offset(def, i) / 8;
            if (type == kMapTypeProgArray) {
                if (!btf_is_func_proto(target)) return err("prog_array 'values' must point to a function type");
                continue;
            }
            if (!btf_is_struct(target)) return err("map-in-map 'values' must point to a map definition struct");
            auto inner = parse_map_def(ctx, target, map_name + ".inner", true, where);
            if (!inner) return std::unexpected(inner.error());
            out.spec.inner = std::make_shared<const maps::MapSpec>(std::move(inner->spec));
        } else {
            return err(fmt::format("unknown field '{}'", field));
        }
    }
    if (!have_type) return err("no 'type' field");
    if (is_map_in_map(static_cast<std::uint32_t>(out.spec.type)) && out.spec.inner == nullptr)
        return err("a map-in-map needs an inner map definition (__array(values, ...))");
    return out;
}

/// The ELF symbol that defines variable `name` in `section_index`, or nullptr.
const ElfSymbol* find_symbol_in(const ParseContext& ctx, std::size_t section_index, const std::string& name) {
    for (const std::size_t i : ctx.elf.symbols_named(name)) {
        const ElfSymbol& sym = ctx.elf.symbols()[i];
        if (sym.shndx == section_index && sym.type != STT_SECTION) return &sym;
    }
    return nullptr;
}

std::uint32_t add_map(ParseContext& ctx, maps::MapSpec spec, MapInfo info, std::vector<std::uint8_t> initial) {
    const auto index = static_cast<std::uint32_t>(ctx.spec.maps.size());
    ctx.spec.maps.push_back(std::move(spec));
    ctx.spec.map_info.push_back(std::move(info));
    ctx.spec.map_initial_data.push_back(std::move(initial));
    return index;
}

}  // namespace

Result<void> parse_btf_maps(ParseContext& ctx, std::size_t section_index) {
    const ElfSection& sec = ctx.section(section_index);
    if (ctx.btf == nullptr) return ctx.error(sec.name, 0, "BTF-defined maps need a .BTF section");
    const std::int32_t datasec_id = btf__find_by_name_kind(ctx.btf, sec.name.c_str(), BTF_KIND_DATASEC);
    if (datasec_id <= 0) return ctx.error(sec.name, 0, "no BTF DATASEC describes this section");
    const btf_type* datasec = btf__type_by_id(ctx.btf, static_cast<std::uint32_t>(datasec_id));
    const btf_var_secinfo* vars = btf_var_secinfos(datasec);
    for (std::uint16_t i = 0; i < btf_vlen(datasec); ++i) {
        const btf_type* var = btf__type_by_id(ctx.btf, vars[i].type);
        if (var == nullptr || !btf_is_var(var))
            return ctx.error(sec.name, 0, fmt::format("DATASEC entry {} (type {}) is not a variable", i, vars[i].type));
        const std::string name = btf_name(ctx.btf, var->name_off);
        const ElfSymbol* sym = find_symbol_in(ctx, section_index, name);
        if (name.empty() || sym == nullptr)
            return ctx.error(sec.name, 0, fmt::format("map variable '{}' has no ELF symbol in this section", name));
        const btf_type* def = skip_mods_and_typedefs(ctx.btf, var->type);
        if (def == nullptr || !btf_is_struct(def))
            return ctx.error(sec.name, sym->value, fmt::format("map '{}': definition is not a struct", name));
        // With `.values = {...}` the symbol is larger than the struct (whose `values` array has no length).
        std::int64_t def_size = btf__resolve_size(ctx.btf, var->type);
        if (def_size >= 0 && sym->size > static_cast<std::uint64_t>(def_size) && sym->size <= sec.size)
            def_size = static_cast<std::int64_t>(sym->size);
        if (def_size < 0 || sym->value > sec.size || static_cast<std::uint64_t>(def_size) > sec.size - sym->value)
            return ctx.error(sec.name, sym->value,
                             fmt::format("map '{}': definition of {} bytes does not fit in the {}-byte section", name,
                                         def_size, sec.size));
        if (ctx.map_at.contains({section_index, sym->value}))
            return ctx.error(sec.name, sym->value, fmt::format("map '{}' shares its offset with another map", name));
        auto parsed = parse_map_def(ctx, def, name, false, sym->value);
        if (!parsed) return std::unexpected(parsed.error());
        parsed->info.origin = MapOrigin::BtfDefined;
        parsed->info.section = sec.name;
        parsed->info.symbol = name;
        parsed->info.section_offset = sym->value;
        const std::uint32_t index = add_map(ctx, std::move(parsed->spec), std::move(parsed->info), {});
        ctx.map_at[{section_index, sym->value}] = index;
        ctx.map_extent[index] = {sym->value, static_cast<std::uint64_t>(def_size)};
        if (parsed->has_values) ctx.map_values_offset[index] = parsed->values_offset;
    }
    return {};
}

Result<void> parse_legacy_maps(ParseContext& ctx, std::size_t section_index) {
    // struct bpf_map_def { u32 type, key_size, value_size, max_entries, map_flags; } and longer variants
    // (iproute2's struct bpf_elf_map): every symbol in the section is one definition, all of the same size.
    constexpr std::uint64_t kDefSize = 20;
    const ElfSection& sec = ctx.section(section_index);
    std::vector<const ElfSymbol*> syms;
    for (const std::size_t i : ctx.elf.symbols_in(section_index)) {
        const ElfSymbol& sym = ctx.elf.symbols()[i];
        if (sym.type != STT_SECTION && sym.type != STT_FILE) syms.push_back(&sym);
    }
    if (syms.empty()) return {};
    if (sec.type == SHT_NOBITS) return ctx.error(sec.name, 0, "legacy map definitions cannot live in SHT_NOBITS");
    std::sort(syms.begin(), syms.end(), [](const ElfSymbol* a, const ElfSymbol* b) { return a->value < b->value; });
    const std::uint64_t def_size = sec.data.size() / syms.size();
    if (sec.data.size() % syms.size() != 0 || def_size < kDefSize)
        return ctx.error(sec.name, 0,
                         fmt::format("{} bytes do not hold {} map definitions of at least {} bytes each",
                                     sec.data.size(), syms.size(), kDefSize));
    for (const ElfSymbol* sym : syms) {
        if (sym->value % 4 != 0 || sym->value > sec.data.size() || def_size > sec.data.size() - sym->value)
            return ctx.error(sec.name, sym->value,
                             fmt::format("map '{}' definition lies outside the section", sym->name));
        const auto def = sec.data.subspan(sym->value, def_size);
        maps::MapSpec spec;
        spec.name = sym->name;
        const std::uint32_t type = load_u32(def, 0);
        if (type == 0 || type > kMaxMapType)
            return ctx.error(sec.name, sym->value, fmt::format("map '{}': unknown map type {}", sym->name, type));
        spec.type = static_cast<maps::MapType>(type);
        spec.key_size = load_u32(def, 4);
        spec.value_size = load_u32(def, 8);
        spec.max_entries = load_u32(def, 12);
        spec.flags = load_u32(def, 16);
        if (is_map_in_map(type))
            return ctx.error(sec.name, sym->value,
                             fmt::format("map '{}': legacy map-in-map definitions are not supported", sym->name));
        if (ctx.map_at.contains({section_index, sym->value}))
            return ctx.error(sec.name, sym->value,
                             fmt::format("map '{}' shares its offset with another map", sym->name));
        MapInfo info;
        info.origin = MapOrigin::Legacy;
        info.section = sec.name;
        info.symbol = sym->name;
        info.section_offset = sym->value;
        ctx.map_at[{section_index, sym->value}] = add_map(ctx, std::move(spec), std::move(info), {});
    }
    return {};
}

Result<void> add_data_map(ParseContext& ctx, std::size_t section_index) {
    const ElfSection& sec = ctx.section(section_index);
    // The kernel caps array values at KMALLOC_MAX_SIZE (4 MiB on x86-64); a far larger .bss (SHT_NOBITS, so no
    // bytes in the file back it) only comes from a corrupt header and must not make us allocate gigabytes.
    constexpr std::uint64_t kMaxGlobalData = 64ull << 20;
    if (sec.size > kMaxGlobalData)
        return ctx.error(
            sec.name, 0,
            fmt::format("global data section of {} bytes exceeds the {}-byte limit", sec.size, kMaxGlobalData));
    maps::MapSpec spec;
    spec.name = internal_map_name(ctx.spec.name, sec.name);
    spec.type = maps::MapType::Array;
    spec.key_size = 4;
    spec.value_size = static_cast<std::uint32_t>(sec.size);
    spec.max_entries = 1;
    spec.flags = maps::kFMmapable;
    if (sec.name.starts_with(".rodata")) spec.flags |= maps::kFRdonlyProg;
    MapInfo info;
    info.origin = MapOrigin::GlobalData;
    info.section = sec.name;
    info.symbol = sec.name;
    if (ctx.btf != nullptr) {
        const std::int32_t id = btf__find_by_name_kind(ctx.btf, sec.name.c_str(), BTF_KIND_DATASEC);
        if (id > 0) info.btf_value_type_id = static_cast<std::uint32_t>(id);
    }
    std::vector<std::uint8_t> initial(sec.size, 0);
    if (sec.type != SHT_NOBITS) {
        if (sec.data.size() != sec.size) return ctx.error(sec.name, 0, "section data is shorter than its header says");
        std::copy(sec.data.begin(), sec.data.end(), initial.begin());
    }
    ctx.data_map[section_index] = add_map(ctx, std::move(spec), std::move(info), std::move(initial));
    return {};
}

Result<void> collect_externs(ParseContext& ctx) {
    // An extern is an undefined global or weak symbol. BTF says which kind: a VAR in DATASEC ".kconfig" is a
    // kconfig value (laid out in the ".kconfig" map), anything else is a kernel symbol (__ksym).
    std::int32_t kconfig_sec = -1;
    if (ctx.btf != nullptr) kconfig_sec = btf__find_by_name_kind(ctx.btf, ".kconfig", BTF_KIND_DATASEC);
    struct Kcfg {
        std::size_t extern_index;
        std::uint32_t align;
    };
    std::vector<Kcfg> kconfig;
    // One pass over the BTF: the first VAR and FUNC of each name, and the VARs listed in DATASEC .kconfig.
    std::unordered_map<std::string, std::pair<std::uint32_t, std::uint32_t>> btf_by_name;  // name -> (VAR, FUNC)
    std::unordered_set<std::uint32_t> kconfig_vars;
    bool indexed = false;
    auto index_btf = [&] {
        indexed = true;
        const std::uint32_t count = btf__type_cnt(ctx.btf);
        for (std::uint32_t id = 1; id < count; ++id) {
            const btf_type* t = btf__type_by_id(ctx.btf, id);
            if (t == nullptr || (!btf_is_var(t) && !btf_is_func(t))) continue;
            auto& ids = btf_by_name[btf_name(ctx.btf, t->name_off)];
            std::uint32_t& slot = btf_is_var(t) ? ids.first : ids.second;
            if (slot == 0) slot = id;
        }
        if (kconfig_sec > 0) {
            const btf_type* sec = btf__type_by_id(ctx.btf, static_cast<std::uint32_t>(kconfig_sec));
            const btf_var_secinfo* vars = btf_var_secinfos(sec);
            for (std::uint16_t i = 0; i < btf_vlen(sec); ++i) kconfig_vars.insert(vars[i].type);
        }
    };
    for (const ElfSymbol& sym : ctx.elf.symbols()) {
        if (sym.index == 0 || sym.shndx != SHN_UNDEF || sym.name.empty()) continue;
        if (sym.bind != STB_GLOBAL && sym.bind != STB_WEAK) continue;
        ExternSpec ext;
        ext.name = sym.name;
        ext.weak = sym.bind == STB_WEAK;
        ext.is_function = sym.type == STT_FUNC;
        if (ctx.btf != nullptr) {
            if (!indexed) index_btf();
            const auto found = btf_by_name.find(sym.name);
            const std::uint32_t var_id = found == btf_by_name.end() ? 0 : found->second.first;
            const std::uint32_t func_id = found == btf_by_name.end() ? 0 : found->second.second;
            if (func_id > 0) {
                ext.is_function = true;
                ext.btf_type_id = func_id;
            } else if (var_id > 0) {
                ext.btf_type_id = var_id;
                if (kconfig_vars.contains(var_id)) ext.kind = ExternSpec::Kind::Kconfig;
            }
        }
        if (ctx.extern_index.contains(ext.name))
            return ctx.error(".symtab", sym.index * sizeof(Elf64_Sym),
                             fmt::format("extern '{}' declared twice", ext.name));
        ctx.extern_index[ext.name] = ctx.spec.externs.size();
        if (ext.kind == ExternSpec::Kind::Kconfig) {
            const btf_type* var = btf__type_by_id(ctx.btf, ext.btf_type_id);
            const std::int64_t size = btf__resolve_size(ctx.btf, var->type);
            const int align = btf_align_of(ctx.btf, var->type);
            if (size <= 0 || size > 4096 || align <= 0 || align > 8)
                return ctx.error(".kconfig", 0, fmt::format("extern '{}' has no usable size or alignment", sym.name));
            ext.size = static_cast<std::uint32_t>(size);
            kconfig.push_back({ctx.spec.externs.size(), static_cast<std::uint32_t>(align)});
        }
        ctx.spec.externs.push_back(std::move(ext));
    }
    if (kconfig.empty()) return {};
    // libbpf's layout (cmp_externs): larger alignment first, then smaller size, then name.
    std::sort(kconfig.begin(), kconfig.end(), [&](const Kcfg& a, const Kcfg& b) {
        const ExternSpec& ea = ctx.spec.externs[a.extern_index];
        const ExternSpec& eb = ctx.spec.externs[b.extern_index];
        if (a.align != b.align) return a.align > b.align;
        if (ea.size != eb.size) return ea.size < eb.size;
        return ea.name < eb.name;
    });
    std::uint32_t offset = 0;
    for (const Kcfg& k : kconfig) {
        offset = (offset + k.align - 1) / k.align * k.align;
        ctx.spec.externs[k.extern_index].offset = offset;
        offset += ctx.spec.externs[k.extern_index].size;
    }
    maps::MapSpec spec;
    spec.name = internal_map_name(ctx.spec.name, ".kconfig");
    spec.type = maps::MapType::Array;
    spec.key_size = 4;
    spec.value_size = offset;
    spec.max_entries = 1;
    spec.flags = maps::kFRdonlyProg | maps::kFMmapable;
    MapInfo info;
    info.origin = MapOrigin::Kconfig;
    info.section = ".kconfig";
    info.symbol = ".kconfig";
    if (kconfig_sec > 0) info.btf_value_type_id = static_cast<std::uint32_t>(kconfig_sec);
    ctx.kconfig_map = add_map(ctx, std::move(spec), std::move(info), std::vector<std::uint8_t>(offset, 0));
    return {};
}

Result<void> parse_map_slots(ParseContext& ctx, std::size_t section_index) {
    // `.values = { [i] = &target }` in a BTF map definition: one 8-byte relocation per initialised slot.
    const auto& relocs = ctx.elf.relocations_for(section_index);
    if (relocs.empty()) return {};
    const ElfSection& rel_sec = ctx.section(ctx.elf.relocation_section_for(section_index));
    for (std::size_t r = 0; r < relocs.size(); ++r) {
        const ElfRelocation& rel = relocs[r];
        const std::uint64_t where = r * sizeof(Elf64_Rel);
        const ElfSymbol& sym = ctx.elf.symbols()[rel.symbol];
        std::optional<std::uint32_t> owner;
        for (const auto& [index, extent] : ctx.map_extent)
            if (rel.offset >= extent.first && rel.offset - extent.first < extent.second) owner = index;
        if (!owner)
            return ctx.error(rel_sec.name, where,
                             fmt::format("relocation at offset {} is not inside a map definition", rel.offset));
        const maps::MapSpec& map = ctx.spec.maps[*owner];
        const auto values = ctx.map_values_offset.find(*owner);
        const std::uint64_t start = ctx.map_extent[*owner].first;
        if (values == ctx.map_values_offset.end() || rel.offset - start < values->second ||
            (rel.offset - start - values->second) % 8 != 0)
            return ctx.error(
                rel_sec.name, where,
                fmt::format("map '{}': relocation at offset {} is not a slot of 'values'", map.name, rel.offset));
        MapSlot slot;
        slot.index = static_cast<std::uint32_t>((rel.offset - start - values->second) / 8);
        if (map.type == maps::MapType::ProgArray) {
            const ElfSection* target = ctx.elf.section(sym.shndx);
            if (sym.type != STT_FUNC || target == nullptr || ctx.kinds[sym.shndx] != SectionKind::Program)
                return ctx.error(
                    rel_sec.name, where,
                    fmt::format("prog_array '{}' slot {}: '{}' is not a program", map.name, slot.index, sym.name));
            slot.target = sym.name;
            slot.is_program = true;
        } else {
            const auto target = ctx.map_at.find({sym.shndx, sym.value});
            if (target == ctx.map_at.end())
                return ctx.error(rel_sec.name, where,
                                 fmt::format("map '{}' slot {}: '{}' is not a map", map.name, slot.index, sym.name));
            slot.target = ctx.spec.maps[target->second].name;
        }
        if (map.max_entries != 0 && slot.index >= map.max_entries)
            return ctx.error(
                rel_sec.name, where,
                fmt::format("map '{}': slot {} is beyond max_entries {}", map.name, slot.index, map.max_entries));
        auto& slots = ctx.spec.map_info[*owner].initial_slots;
        for (const MapSlot& s : slots)
            if (s.index == slot.index)
                return ctx.error(rel_sec.name, where,
                                 fmt::format("map '{}': slot {} initialised twice", map.name, slot.index));
        slots.push_back(std::move(slot));
        std::sort(slots.begin(), slots.end(), [](const MapSlot& a, const MapSlot& b) { return a.index < b.index; });
    }
    return {};
}

}  // namespace xbpf::object::detail
