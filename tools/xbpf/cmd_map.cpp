// xbpf map dump|show OBJECT: the maps a BPF ELF object declares, in bpftool's `map show` layout, with the initial
// contents of global data maps as `bpftool map dump` prints them: hex ("key: 00 00 00 00  value: 2a 00 ..."), and,
// when the object has BTF, the DATASEC's variables by name (`{"value": {".rodata": [{"threshold": 7}]}}`, bpftool's
// btf_dumper conventions: char arrays holding a string print as that string, enums by enumerator name, bool as
// true/false, 128-bit integers as hex strings). Static prog_array / map-in-map slots print as bpftool prints a
// prog_array entry ("key: 00 00 00 00  value: stage_one"), with the program or map name as the value.
#include <bpf/btf.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstring>

#include "common.hpp"

namespace xbpf::cli {

namespace {

using Json = nlohmann::ordered_json;

// Names come from the object, which may hold any bytes: invalid UTF-8 is replaced (U+FFFD), never thrown.
std::string dump_json(const Json& j, int indent = -1) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string_view origin_name(object::MapOrigin origin) {
    switch (origin) {
        case object::MapOrigin::BtfDefined: return "btf";
        case object::MapOrigin::Legacy: return "legacy";
        case object::MapOrigin::GlobalData: return "global_data";
        case object::MapOrigin::Kconfig: return "kconfig";
    }
    return "unknown";
}

// ---- BTF values as JSON, after bpftool's btf_dumper.c. Every read is bounded by the data span and the walk by a
// depth limit, so a hostile object cannot make it read out of bounds or recurse without end. ----

class BtfDumper {
  public:
    explicit BtfDumper(const struct btf* btf) : btf_(btf) {}

    /// The value of type `id` stored in `data` (at least the type's size), or null if it cannot be shown.
    Json dump(std::uint32_t id, std::span<const std::uint8_t> data, int depth = 0) const {
        if (depth > kMaxDepth) return nullptr;
        const btf_type* t = btf__type_by_id(btf_, id);
        if (t == nullptr) return nullptr;
        switch (btf_kind(t)) {
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_CONST:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG: return dump(t->type, data, depth + 1);
            case BTF_KIND_INT: return dump_int(t, data, 0);
            case BTF_KIND_PTR: return fits(data, 8) ? Json(load(data, 8)) : Json(nullptr);
            case BTF_KIND_ENUM:
            case BTF_KIND_ENUM64: return dump_enum(t, data);
            case BTF_KIND_FLOAT: return dump_float(t, data);
            case BTF_KIND_ARRAY: return dump_array(t, data, depth);
            case BTF_KIND_STRUCT:
            case BTF_KIND_UNION: {
                Json obj = Json::object();
                dump_members(t, data, depth, obj);
                return obj;
            }
            case BTF_KIND_VAR: {
                Json obj = Json::object();
                obj[name(t->name_off)] = dump(t->type, data, depth + 1);
                return obj;
            }
            case BTF_KIND_DATASEC: return dump_datasec(t, data, depth);
            default: return nullptr;  // void, fwd, func, func_proto, decl_tag: no value to show
        }
    }

  private:
    static constexpr int kMaxDepth = 32;

    std::string name(std::uint32_t off) const {
        const char* n = btf__name_by_offset(btf_, off);
        return n == nullptr ? std::string() : std::string(n);
    }
    static bool fits(std::span<const std::uint8_t> data, std::size_t size) { return data.size() >= size; }
    // Little-endian load of up to 8 bytes (BPF objects are little-endian; parse_object refuses others).
    static std::uint64_t load(std::span<const std::uint8_t> data, std::size_t size) {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < size && i < 8; ++i) v |= static_cast<std::uint64_t>(data[i]) << (8 * i);
        return v;
    }
    static std::int64_t sign_extend(std::uint64_t v, unsigned bits) {
        if (bits == 0 || bits >= 64) return static_cast<std::int64_t>(v);
        const std::uint64_t m = 1ull << (bits - 1);
        v &= (1ull << bits) - 1;
        return static_cast<std::int64_t>((v ^ m) - m);
    }
    // `nr_bits` bits starting at bit `bit_off` of data (little-endian), nr_bits <= 64.
    static std::optional<std::uint64_t> bits(std::span<const std::uint8_t> data, std::uint32_t bit_off,
                                             std::uint32_t nr_bits) {
        if (nr_bits == 0 || nr_bits > 64 || (bit_off + nr_bits + 7) / 8 > data.size()) return std::nullopt;
        std::uint64_t v = 0;
        for (std::uint32_t i = 0; i < nr_bits; ++i) {
            const std::uint32_t b = bit_off + i;
            if ((data[b / 8] >> (b % 8)) & 1) v |= 1ull << i;
        }
        return v;
    }

    Json dump_int(const btf_type* t, std::span<const std::uint8_t> data, std::uint32_t extra_bit_off) const {
        const std::uint32_t nr_bits = btf_int_bits(t);
        const std::uint32_t bit_off = btf_int_offset(t) + extra_bit_off;
        const std::uint8_t enc = btf_int_encoding(t);
        if (nr_bits > 64) {  // __int128: bpftool prints a hex string
            if (!fits(data, 16) || bit_off != 0) return nullptr;
            const std::uint64_t lo = load(data, 8), hi = load(data.subspan(8), 8);
            return hi != 0 ? fmt::format("0x{:x}{:016x}", hi, lo) : fmt::format("0x{:x}", lo);
        }
        const auto v = bits(data, bit_off, nr_bits);
        if (!v) return nullptr;
        if ((enc & BTF_INT_BOOL) != 0) return *v != 0;
        if ((enc & BTF_INT_CHAR) != 0 && nr_bits == 8) {
            if (*v >= 0x20 && *v < 0x7f) return std::string(1, static_cast<char>(*v));
            return *v;
        }
        if ((enc & BTF_INT_SIGNED) != 0) return sign_extend(*v, nr_bits);
        return *v;
    }

    Json dump_enum(const btf_type* t, std::span<const std::uint8_t> data) const {
        const std::size_t size = t->size;
        if (size == 0 || size > 8 || !fits(data, size)) return nullptr;
        const std::uint64_t raw = load(data, size);
        const bool is_signed = btf_kflag(t);
        const std::uint16_t n = btf_vlen(t);
        for (std::uint16_t i = 0; i < n; ++i) {
            std::uint64_t value;
            std::uint32_t name_off;
            if (btf_is_enum(t)) {
                const struct btf_enum* e = btf_enum(t) + i;
                value = static_cast<std::uint32_t>(e->val);
                name_off = e->name_off;
            } else {
                const struct btf_enum64* e = btf_enum64(t) + i;
                value = btf_enum64_value(e);
                name_off = e->name_off;
            }
            const std::uint64_t mask = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
            if ((value & mask) == raw) return name(name_off);
        }
        if (is_signed) return sign_extend(raw, static_cast<unsigned>(8 * size));
        return raw;
    }

    Json dump_float(const btf_type* t, std::span<const std::uint8_t> data) const {
        if (t->size == 4 && fits(data, 4)) {
            float f;
            std::memcpy(&f, data.data(), 4);
            return static_cast<double>(f);
        }
        if (t->size == 8 && fits(data, 8)) {
            double d;
            std::memcpy(&d, data.data(), 8);
            return d;
        }
        return nullptr;
    }

    bool is_char(std::uint32_t id) const {
        const btf_type* t = btf__type_by_id(btf_, id);
        for (int i = 0; t != nullptr && btf_is_mod(t) && i < kMaxDepth; ++i) t = btf__type_by_id(btf_, t->type);
        if (t == nullptr || !btf_is_int(t) || t->size != 1) return false;
        return (btf_int_encoding(t) & BTF_INT_CHAR) != 0 || name(t->name_off) == "char";
    }

    Json dump_array(const btf_type* t, std::span<const std::uint8_t> data, int depth) const {
        const struct btf_array* a = btf_array(t);
        const long long elem_size = btf__resolve_size(btf_, a->type);
        if (elem_size <= 0) return Json::array();
        // bpftool's is_str_array: char elements, printable up to a NUL inside the array.
        if (is_char(a->type) && a->nelems > 0 && fits(data, a->nelems)) {
            for (std::uint32_t i = 0; i < a->nelems; ++i) {
                if (data[i] == 0) return std::string(reinterpret_cast<const char*>(data.data()), i);
                if (data[i] <= 0x1f || data[i] >= 0x7f) break;
            }
        }
        Json arr = Json::array();
        for (std::uint32_t i = 0; i < a->nelems; ++i) {
            const std::size_t off = static_cast<std::size_t>(elem_size) * i;
            if (off + static_cast<std::size_t>(elem_size) > data.size()) break;
            arr.push_back(dump(a->type, data.subspan(off), depth + 1));
        }
        return arr;
    }

    // Members into `obj`; the members of anonymous structs and unions are shown in place, as C names them.
    void dump_members(const btf_type* t, std::span<const std::uint8_t> data, int depth, Json& obj) const {
        if (depth > kMaxDepth) return;
        const btf_member* m = btf_members(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
            const std::uint32_t bit_off = btf_member_bit_offset(t, i);
            const std::uint32_t bitfield = btf_member_bitfield_size(t, i);
            const std::string member = name(m[i].name_off);
            Json value;
            if (bitfield != 0) {
                const auto v = bits(data, bit_off, bitfield);
                value = v ? Json(*v) : Json(nullptr);
            } else if (bit_off % 8 != 0 || bit_off / 8 > data.size()) {
                value = nullptr;
            } else {
                const auto inner = data.subspan(bit_off / 8);
                const btf_type* mt = btf__type_by_id(btf_, m[i].type);
                if (member.empty() && mt != nullptr && btf_is_composite(mt)) {
                    dump_members(mt, inner, depth + 1, obj);
                    continue;
                }
                const long long size = btf__resolve_size(btf_, m[i].type);
                value = size >= 0 && static_cast<std::size_t>(size) <= inner.size() ? dump(m[i].type, inner, depth + 1)
                                                                                    : Json(nullptr);
            }
            obj[member] = std::move(value);
        }
    }

    Json dump_datasec(const btf_type* t, std::span<const std::uint8_t> data, int depth) const {
        Json vars = Json::array();
        const btf_var_secinfo* v = btf_var_secinfos(t);
        for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
            if (v[i].offset > data.size() || v[i].size > data.size() - v[i].offset) continue;
            vars.push_back(dump(v[i].type, data.subspan(v[i].offset, v[i].size), depth + 1));
        }
        Json obj = Json::object();
        obj[name(t->name_off)] = std::move(vars);
        return obj;
    }

    const struct btf* btf_;
};

// ---- One map ----

struct MapView {
    const maps::MapSpec& spec;
    const object::MapInfo& info;
    const std::vector<std::uint8_t>& initial;  // global data: the value of key 0; empty otherwise
};

// The key of the single entry of a global data map (key 0, 4 bytes).
std::vector<std::uint8_t> zero_key(std::uint32_t size) { return std::vector<std::uint8_t>(size, 0); }

std::vector<std::uint8_t> u32_key(std::uint32_t index, std::uint32_t size) {
    std::vector<std::uint8_t> key(size, 0);
    for (std::uint32_t i = 0; i < size && i < 4; ++i) key[i] = static_cast<std::uint8_t>(index >> (8 * i));
    return key;
}

// bpftool's print_entry_plain for a key and a hex value.
std::string plain_entry(const std::vector<std::uint8_t>& key, const std::vector<std::uint8_t>& value) {
    const bool break_names = key.size() > 16 || value.size() > 16;
    const bool single_line = key.size() + value.size() <= 24 && !break_names;
    std::string out;
    if (!key.empty())
        out += fmt::format("key:{}{}{}", break_names ? '\n' : ' ', bpftool_hex(key), single_line ? "  " : "\n");
    if (!value.empty()) out += fmt::format("value:{}{}", break_names ? '\n' : ' ', bpftool_hex(value));
    return out + '\n';
}

Json hex_json(const std::vector<std::uint8_t>& bytes) {
    Json arr = Json::array();
    for (std::uint8_t b : bytes) arr.push_back(fmt::format("0x{:02x}", b));
    return arr;
}

// JSON in the layout of bpftool's json_writer with pretty printing (what `bpftool map dump` prints for maps with
// BTF): one object member per line, arrays of scalars on one line, arrays of objects as "[{ ... },{ ... }\n]".
std::string bpftool_pretty(const Json& j, int indent) {
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    if (j.is_object()) {
        if (j.empty()) return "{}";
        std::string out = "{\n";
        bool first = true;
        for (auto it = j.begin(); it != j.end(); ++it) {
            out += fmt::format("{}{}    {}: {}", first ? "" : ",\n", pad, dump_json(Json(it.key())),
                               bpftool_pretty(it.value(), indent + 4));
            first = false;
        }
        return out + "\n" + pad + "}";
    }
    if (j.is_array()) {
        bool compound = false;
        for (const Json& e : j) compound = compound || e.is_structured();
        std::string out = "[";
        for (std::size_t i = 0; i < j.size(); ++i)
            out += (i == 0 ? "" : ",") + (compound ? bpftool_pretty(j[i], indent + 4) : dump_json(j[i]));
        return compound ? out + "\n" + pad + "]" : out + "]";
    }
    return dump_json(j);
}

// The BTF view of a global data map's value, {"value": {".rodata": [{"threshold": 7}, ...]}}, or null.
Json formatted_value(const object::ObjectSpec& spec, const MapView& m) {
    if (!spec.btf || m.info.btf_value_type_id == 0 || m.initial.empty()) return nullptr;
    BtfDumper dumper(spec.btf.get());
    Json value = dumper.dump(m.info.btf_value_type_id, m.initial);
    if (value.is_null()) return nullptr;
    Json j = Json::object();
    j["value"] = std::move(value);
    return j;
}

Json map_json(const object::ObjectSpec& spec, const MapView& m, std::size_t index) {
    Json j;
    j["index"] = index;
    j["type"] = std::string(maps::map_type_name(m.spec.type));
    j["name"] = m.spec.name;
    j["flags"] = m.spec.flags;
    j["bytes_key"] = m.spec.key_size;
    j["bytes_value"] = m.spec.value_size;
    j["max_entries"] = m.spec.max_entries;
    if (m.spec.map_extra != 0) j["map_extra"] = m.spec.map_extra;
    j["origin"] = std::string(origin_name(m.info.origin));
    j["section"] = m.info.section;
    j["pinning"] = m.info.pinning == object::Pinning::ByName ? "by_name" : "none";
    if (m.spec.inner)
        j["inner"] = {{"type", std::string(maps::map_type_name(m.spec.inner->type))},
                      {"bytes_key", m.spec.inner->key_size},
                      {"bytes_value", m.spec.inner->value_size},
                      {"max_entries", m.spec.inner->max_entries}};
    Json entries = Json::array();
    for (const object::MapSlot& slot : m.info.initial_slots) {
        Json e;
        e["key"] = hex_json(u32_key(slot.index, m.spec.key_size));
        e[slot.is_program ? "prog" : "map"] = slot.target;
        entries.push_back(std::move(e));
    }
    if (!m.initial.empty()) {
        Json e;
        e["key"] = hex_json(zero_key(m.spec.key_size));
        e["value"] = hex_json(m.initial);
        if (Json f = formatted_value(spec, m); !f.is_null()) e["formatted"] = std::move(f);
        entries.push_back(std::move(e));
    }
    j["entries"] = std::move(entries);
    return j;
}

std::string map_text(const object::ObjectSpec& spec, const MapView& m, std::size_t index) {
    std::string out = fmt::format("{}: {}  name {}  flags {:#x}\n", index, maps::map_type_name(m.spec.type),
                                  m.spec.name, m.spec.flags);
    out += fmt::format("\tkey {}B  value {}B  max_entries {}", m.spec.key_size, m.spec.value_size, m.spec.max_entries);
    if (m.spec.map_extra != 0) out += fmt::format("  map_extra {:#x}", m.spec.map_extra);
    out += '\n';
    out += fmt::format("\torigin {}  section {}", origin_name(m.info.origin), m.info.section);
    if (m.info.pinning == object::Pinning::ByName) out += "  pinned by_name";
    out += '\n';
    if (m.spec.inner)
        out += fmt::format("\tinner {}  key {}B  value {}B  max_entries {}\n", maps::map_type_name(m.spec.inner->type),
                           m.spec.inner->key_size, m.spec.inner->value_size, m.spec.inner->max_entries);
    for (const object::MapSlot& slot : m.info.initial_slots)
        out += fmt::format("key: {}  value: {}\n", bpftool_hex(u32_key(slot.index, m.spec.key_size)), slot.target);
    if (!m.initial.empty()) {
        out += plain_entry(zero_key(m.spec.key_size), m.initial);
        if (Json f = formatted_value(spec, m); !f.is_null()) out += bpftool_pretty(Json::array({f}), 0) + '\n';
    }
    return out;
}

int dump(const char* command, const std::string& path, bool json, bool pretty) {
    auto spec = load_object_file(path);
    if (!spec) return report(command, spec.error());
    static const std::vector<std::uint8_t> kNone;
    auto view = [&](std::size_t i) {
        return MapView{spec->maps[i], spec->map_info[i],
                       i < spec->map_initial_data.size() ? spec->map_initial_data[i] : kNone};
    };
    if (json) {
        Json all = Json::array();
        for (std::size_t i = 0; i < spec->maps.size() && i < spec->map_info.size(); ++i)
            all.push_back(map_json(*spec, view(i), i));
        fmt::print("{}\n", dump_json(all, pretty ? 4 : -1));
        return 0;
    }
    std::string out;
    for (std::size_t i = 0; i < spec->maps.size() && i < spec->map_info.size(); ++i)
        out += (i == 0 ? "" : "\n") + map_text(*spec, view(i), i);
    fmt::print("{}", out);
    return 0;
}

}  // namespace

int map_main(int argc, char** argv) {
    CLI::App app("Inspect the maps of a BPF ELF object, as bpftool map show / dump shows loaded ones.", "xbpf map");
    app.require_subcommand(1);
    std::string path;
    bool json = false;
    bool pretty = false;
    CLI::App* dump_cmd =
        app.add_subcommand("dump", "list the maps and their initial contents (global data, static slots)");
    CLI::App* show_cmd = app.add_subcommand("show", "alias of dump");
    for (CLI::App* sub : {dump_cmd, show_cmd}) {
        sub->add_option("OBJECT", path, "BPF ELF object (clang -target bpf -c)")->required();
        sub->add_flag("-j,--json", json, "JSON output, an array of objects (bpftool -j)");
        sub->add_flag("-p,--pretty", pretty, "indented JSON (bpftool -p)");
    }
    if (const int rc = cli::parse_args(app, argc, argv); rc >= 0) return rc;
    return dump("map", path, json || pretty, pretty);
}

}  // namespace xbpf::cli
