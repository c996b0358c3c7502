// parse_object: ELF bytes -> ObjectSpec, in the order libbpf's bpf_object_open does it: sections, BTF, maps,
// externs, programs. Each step lives in its own file (object_maps.cpp, object_programs.cpp, btf_ext.cpp).
#include "object/object_spec.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>
#include <gelf.h>
#include <sys/utsname.h>
#include <algorithm>
#include <cstdio>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "object/parse_context.hpp"

namespace xbpf::object {

namespace detail {

const struct btf_type* skip_mods_and_typedefs(const struct btf* btf, std::uint32_t id, std::uint32_t* id_out) {
    for (int depth = 0; depth < 32; ++depth) {
        const btf_type* t = btf__type_by_id(btf, id);
        if (t == nullptr) return nullptr;
        if (!btf_is_mod(t) && !btf_is_typedef(t)) {
            if (id_out != nullptr) *id_out = id;
            return t;
        }
        id = t->type;
    }
    return nullptr;
}

namespace {

int align_of(const struct btf* btf, std::uint32_t id, int depth, int& budget) {
    if (depth > 32 || --budget < 0) return -1;
    const btf_type* t = btf__type_by_id(btf, id);
    if (t == nullptr) return -1;
    switch (btf_kind(t)) {
        case BTF_KIND_INT:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_FLOAT: return t->size == 0 ? -1 : static_cast<int>(std::min<std::uint32_t>(t->size, 8));
        case BTF_KIND_PTR: return 8;
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG: return align_of(btf, t->type, depth + 1, budget);
        case BTF_KIND_ARRAY: return align_of(btf, btf_array(t)->type, depth + 1, budget);
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION: {
            int align = 1;
            for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
                const int a = align_of(btf, btf_members(t)[i].type, depth + 1, budget);
                if (a < 0) return -1;
                align = std::max(align, a);
            }
            return align;
        }
        default: return -1;
    }
}

}  // namespace

int btf_align_of(const struct btf* btf, std::uint32_t id, int budget) { return align_of(btf, id, 0, budget); }

std::string btf_name(const struct btf* btf, std::uint32_t name_off) {
    const char* s = btf__name_by_offset(btf, name_off);
    return s != nullptr ? s : "";
}

namespace {

bool is_data_section(const ElfSection& s) {
    if (s.size == 0 || (s.flags & SHF_EXECINSTR) != 0) return false;
    if (s.type == SHT_PROGBITS)
        return s.name == ".data" || s.name == ".rodata" || s.name.starts_with(".data.") ||
               s.name.starts_with(".rodata.");
    if (s.type == SHT_NOBITS) return s.name == ".bss" || s.name.starts_with(".bss.");
    return false;
}

// libbpf's btf_fixup_datasec: clang leaves DATASEC sizes (and global variables' offsets) zero; the kernel needs
// them. Sizes come from the ELF sections, offsets from the symbols. Entries that cannot be matched are left alone:
// this only prepares the BTF for a loader and never rejects an object.
void fixup_datasecs(ParseContext& ctx) {
    const std::uint32_t count = btf__type_cnt(ctx.btf);
    for (std::uint32_t id = 1; id < count; ++id) {
        auto* t = const_cast<btf_type*>(btf__type_by_id(ctx.btf, id));
        if (t == nullptr || !btf_is_datasec(t)) continue;
        const std::string name = btf_name(ctx.btf, t->name_off);
        const std::size_t sec_index = ctx.elf.section_named(name);
        const ElfSection* sec = sec_index == 0 ? nullptr : ctx.elf.section(sec_index);
        if (sec == nullptr || sec->size > 0xffffffffULL) continue;
        if (t->size == 0) t->size = static_cast<std::uint32_t>(sec->size);
        btf_var_secinfo* vars = btf_var_secinfos(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
            const btf_type* var = btf__type_by_id(ctx.btf, vars[i].type);
            if (var == nullptr || !btf_is_var(var) || btf_var(var)->linkage == BTF_VAR_STATIC) continue;
            const std::string var_name = btf_name(ctx.btf, var->name_off);
            for (const std::size_t s : ctx.elf.symbols_named(var_name)) {
                const ElfSymbol& sym = ctx.elf.symbols()[s];
                if (sym.shndx == sec->index && sym.type == STT_OBJECT && sym.value <= 0xffffffffULL)
                    vars[i].offset = static_cast<std::uint32_t>(sym.value);
            }
        }
    }
}

std::string object_name_of(const std::string& file) {
    // libbpf: the file's base name, at most 15 characters, cut at the first '.'.
    std::string base = file.substr(file.find_last_of('/') == std::string::npos ? 0 : file.find_last_of('/') + 1);
    if (base.size() > 15) base.resize(15);
    if (const auto dot = base.find('.'); dot != std::string::npos) base.resize(dot);
    return base;
}

Result<ObjectSpec> parse(std::span<const std::uint8_t> bytes, std::string file) {
    auto elf = ElfFile::open(bytes, file);
    if (!elf) return std::unexpected(elf.error());
    ParseContext ctx(std::move(file), std::move(*elf));
    ctx.spec.name = object_name_of(ctx.file);
    const auto& sections = ctx.elf.sections();
    ctx.kinds.assign(sections.size(), SectionKind::Other);

    const ElfSection* btf_ext_sec = nullptr;
    for (const ElfSection& s : sections) {
        if (s.index == 0) continue;
        if (s.name == "license" && s.type == SHT_PROGBITS) {
            const auto end = std::find(s.data.begin(), s.data.end(), std::uint8_t{0});
            ctx.spec.license.assign(s.data.begin(), end);
        } else if (s.name == "version" && s.type == SHT_PROGBITS) {
            if (s.data.size() != 4)
                return ctx.error(s.name, 0,
                                 fmt::format("expected 4 bytes (a u32 kernel version), got {}", s.data.size()));
            ctx.spec.kernel_version = load_u32(s.data, 0);
        } else if (s.name == ".BTF" && s.type == SHT_PROGBITS) {
            if (s.data.size() > 0xffffffffULL) return ctx.error(s.name, 0, "BTF larger than 4 GiB");
            errno = 0;
            struct btf* btf = btf__new(s.data.data(), static_cast<std::uint32_t>(s.data.size()));
            if (btf == nullptr)
                return ctx.error(s.name, 0,
                                 fmt::format("libbpf rejects the BTF: {}", std::strerror(errno != 0 ? errno : EINVAL)));
            ctx.spec.btf = std::shared_ptr<const struct btf>(
                btf, [](const struct btf* b) { btf__free(const_cast<struct btf*>(b)); });
            ctx.btf = btf;
        } else if (s.name == ".BTF.ext" && s.type == SHT_PROGBITS) {
            btf_ext_sec = &s;
        } else if (s.type == SHT_PROGBITS && (s.flags & SHF_EXECINSTR) != 0) {
            if (s.data.size() % 8 != 0)
                return ctx.error(s.name, s.data.size() - s.data.size() % 8,
                                 fmt::format("program section size {} is not a multiple of 8", s.data.size()));
            if (!s.data.empty()) ctx.kinds[s.index] = SectionKind::Program;
        } else if (s.name == ".maps" && (s.type == SHT_PROGBITS || s.type == SHT_NOBITS)) {
            ctx.kinds[s.index] = SectionKind::BtfMaps;
        } else if (s.name == "maps" && (s.type == SHT_PROGBITS || s.type == SHT_NOBITS)) {
            ctx.kinds[s.index] = SectionKind::LegacyMaps;
        } else if (is_data_section(s)) {
            ctx.kinds[s.index] = SectionKind::Data;
        }
    }
    if (btf_ext_sec != nullptr && ctx.btf != nullptr) {
        auto ext = parse_btf_ext(btf_ext_sec->data, ctx.btf, ctx.file);
        if (!ext) return std::unexpected(ext.error());
        ctx.btf_ext = std::move(*ext);
    }
    if (ctx.btf != nullptr) fixup_datasecs(ctx);

    for (const ElfSection& s : sections)
        if (ctx.kinds[s.index] == SectionKind::BtfMaps)
            if (auto r = parse_btf_maps(ctx, s.index); !r) return std::unexpected(r.error());
    for (const ElfSection& s : sections)
        if (ctx.kinds[s.index] == SectionKind::LegacyMaps)
            if (auto r = parse_legacy_maps(ctx, s.index); !r) return std::unexpected(r.error());
    for (const ElfSection& s : sections)
        if (ctx.kinds[s.index] == SectionKind::Data)
            if (auto r = add_data_map(ctx, s.index); !r) return std::unexpected(r.error());
    if (auto r = collect_externs(ctx); !r) return std::unexpected(r.error());
    for (const ElfSection& s : sections)
        if (ctx.kinds[s.index] == SectionKind::BtfMaps)
            if (auto r = parse_map_slots(ctx, s.index); !r) return std::unexpected(r.error());

    for (const ElfSection& s : sections)
        if (ctx.kinds[s.index] == SectionKind::Program)
            if (auto r = collect_functions(ctx, s.index); !r) return std::unexpected(r.error());
    if (auto r = build_programs(ctx); !r) return std::unexpected(r.error());
    return std::move(ctx.spec);
}

}  // namespace
}  // namespace detail

namespace {

/// KERNEL_VERSION(a, b, c) of the running kernel (uname), as libbpf's get_kernel_version; 0 if unreadable.
std::uint32_t running_kernel_version() {
    utsname u{};
    if (uname(&u) != 0) return 0;
    unsigned a = 0, b = 0, c = 0;
    if (std::sscanf(u.release, "%u.%u.%u", &a, &b, &c) < 2) return 0;
    return (a << 16) + (b << 8) + (c > 255 ? 255 : c);
}

}  // namespace

std::vector<std::uint8_t> map_initial_value(const ObjectSpec& spec, std::size_t index) {
    std::vector<std::uint8_t> value =
        index < spec.map_initial_data.size() ? spec.map_initial_data[index] : std::vector<std::uint8_t>{};
    const MapInfo* info = index < spec.map_info.size() ? &spec.map_info[index] : nullptr;
    if (info && info->origin == MapOrigin::Kconfig) {
        value.resize(spec.maps[index].value_size, 0);
        for (const ExternSpec& ext : spec.externs) {
            if (ext.kind != ExternSpec::Kind::Kconfig) continue;
            if (ext.offset > value.size() || value.size() - ext.offset < ext.size) continue;
            std::uint64_t v = 0;
            if (ext.name == "LINUX_KERNEL_VERSION") v = running_kernel_version();
            std::memset(value.data() + ext.offset, 0, ext.size);
            std::memcpy(value.data() + ext.offset, &v, std::min<std::size_t>(ext.size, sizeof(v)));
        }
    }
    if (!value.empty()) value.resize(spec.maps[index].value_size, 0);
    return value;
}

bool license_is_gpl_compatible(std::string_view license) {
    return license == "GPL" || license == "GPL v2" || license == "GPL and additional rights" ||
           license == "Dual BSD/GPL" || license == "Dual MIT/GPL" || license == "Dual MPL/GPL";
}

const LineInfo* ProgramSpec::line_at(std::size_t insn) const {
    const LineInfo* best = nullptr;
    for (const LineInfo& li : line_info) {
        if (li.insn > insn) break;
        best = &li;
    }
    return best;
}

std::optional<std::size_t> ObjectSpec::find_map(std::string_view name) const {
    for (std::size_t i = 0; i < maps.size(); ++i)
        if (maps[i].name == name) return i;
    return std::nullopt;
}

const ProgramSpec* ObjectSpec::find_program(std::string_view name) const {
    for (const ProgramSpec& p : programs)
        if (p.name == name) return &p;
    return nullptr;
}

std::string internal_map_name(std::string_view object_name, std::string_view section_name) {
    constexpr std::size_t kObjNameLen = 16;  // BPF_OBJ_NAME_LEN, including the terminating NUL
    std::size_t sfx_len = std::max<std::size_t>(7, section_name.size());
    if (sfx_len >= kObjNameLen) sfx_len = kObjNameLen - 1;
    // A section name with a second '.' (".rodata.str1.1", ".data.custom") is used as is, without the prefix.
    const bool custom = section_name.size() > 1 && section_name.substr(1).find('.') != std::string_view::npos;
    const std::size_t pfx_len = custom ? 0 : std::min(kObjNameLen - sfx_len - 1, object_name.size());
    std::string name(object_name.substr(0, pfx_len));
    name += section_name.substr(0, sfx_len);
    for (char& c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_' && c != '.') c = '_';
    return name;
}

Result<ObjectSpec> parse_object(std::span<const std::uint8_t> elf_bytes, std::string name) {
    return detail::parse(elf_bytes, std::move(name));
}

Result<ObjectSpec> parse_object_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        Location where;
        where.file = path;
        return make_error(ErrorCode::kIo, fmt::format("cannot open: {}", std::strerror(errno)), std::move(where));
    }
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_object(bytes, path);
}

}  // namespace xbpf::object
