// CO-RE relocation resolution, after libbpf's relo_core.c: parse the local access spec, find target candidates by
// essential name, match the spec against each candidate, compute the local and target values, patch the
// instruction. Deliberate simplifications are noted where they occur.
#include "object/core.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>

#include "object/parse_context.hpp"

namespace xbpf::object {

namespace {

using detail::skip_mods_and_typedefs;

constexpr int kMaxDepth = 32;
/// Steps one relocation may take through the type graphs. Depth alone does not bound the work on hostile BTF: a
/// struct whose members share one anonymous type, nested 32 deep, is exponential.
constexpr int kMaxSteps = 100000;
constexpr std::size_t kMaxSpecLen = 64;  // BPF_CORE_SPEC_MAX_LEN

bool is_field_kind(CoreRelocKind k) { return k <= CoreRelocKind::FieldRshiftU64; }
bool is_type_kind(CoreRelocKind k) {
    return k == CoreRelocKind::TypeIdLocal || k == CoreRelocKind::TypeIdTarget || k == CoreRelocKind::TypeExists ||
           k == CoreRelocKind::TypeSize || k == CoreRelocKind::TypeMatches;
}

std::string name_of(const struct btf* btf, std::uint32_t off) { return detail::btf_name(btf, off); }

/// One step of an access string: a member (by index, with its name) or an array element.
struct Accessor {
    std::uint32_t type_id = 0;  ///< the struct/union or array being accessed
    std::uint32_t index = 0;
    std::string name;  ///< member name; empty for array elements and anonymous members
    bool is_array = false;
};

/// A parsed (local) or matched (target) access spec.
struct Spec {
    const struct btf* btf = nullptr;
    std::uint32_t root_id = 0;
    std::vector<Accessor> raw;  ///< every step of the access string
    std::uint64_t bit_offset = 0;
    std::uint32_t field_type_id = 0;   ///< type of the accessed field (or the root)
    const btf_type* parent = nullptr;  ///< composite holding the last member, if the last step is a member
    std::uint32_t member_index = 0;
};

/// Kinds that CO-RE treats as the same (enum and enum64; struct and union are matched separately).
bool kinds_compatible(const btf_type* a, const btf_type* b) {
    if (btf_kind(a) == btf_kind(b)) return true;
    return btf_is_any_enum(a) && btf_is_any_enum(b);
}

bool names_match(const struct btf* a_btf, std::uint32_t a_off, const struct btf* b_btf, std::uint32_t b_off) {
    return core_essential_name(name_of(a_btf, a_off)) == core_essential_name(name_of(b_btf, b_off));
}

/// libbpf's bpf_core_fields_are_compat: may a local field of type `local_id` be read as target `targ_id`?
bool fields_compatible(const struct btf* local_btf, std::uint32_t local_id, const struct btf* targ_btf,
                       std::uint32_t targ_id, int& budget, int depth = 0) {
    if (depth > kMaxDepth || --budget < 0) return false;
    const btf_type* l = skip_mods_and_typedefs(local_btf, local_id, &local_id);
    const btf_type* t = skip_mods_and_typedefs(targ_btf, targ_id, &targ_id);
    if (l == nullptr || t == nullptr) return false;
    if (btf_is_composite(l) && btf_is_composite(t)) return true;
    if (!kinds_compatible(l, t)) return false;
    switch (btf_kind(l)) {
        case BTF_KIND_PTR:
        case BTF_KIND_FLOAT: return true;
        case BTF_KIND_FWD:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64: return names_match(local_btf, l->name_off, targ_btf, t->name_off);
        case BTF_KIND_INT: return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
        case BTF_KIND_ARRAY:
            return fields_compatible(local_btf, btf_array(l)->type, targ_btf, btf_array(t)->type, budget, depth + 1);
        default: return false;
    }
}

/// libbpf's bpf_core_types_are_compat (shallow where libbpf is shallow): same kind, pointers and arrays recurse,
/// function prototypes compare arity and argument types.
bool types_compatible(const struct btf* local_btf, std::uint32_t local_id, const struct btf* targ_btf,
                      std::uint32_t targ_id, int& budget, int depth = 0) {
    if (depth > kMaxDepth || --budget < 0) return false;
    const btf_type* l = skip_mods_and_typedefs(local_btf, local_id, &local_id);
    const btf_type* t = skip_mods_and_typedefs(targ_btf, targ_id, &targ_id);
    if (l == nullptr || t == nullptr) return false;
    if (!kinds_compatible(l, t)) return false;
    switch (btf_kind(l)) {
        case BTF_KIND_UNKN:
        case BTF_KIND_STRUCT:
        case BTF_KIND_UNION:
        case BTF_KIND_ENUM:
        case BTF_KIND_ENUM64:
        case BTF_KIND_FWD:
        case BTF_KIND_FLOAT: return true;
        case BTF_KIND_INT: return btf_int_offset(l) == 0 && btf_int_offset(t) == 0;
        case BTF_KIND_PTR: return types_compatible(local_btf, l->type, targ_btf, t->type, budget, depth + 1);
        case BTF_KIND_ARRAY:
            return types_compatible(local_btf, btf_array(l)->type, targ_btf, btf_array(t)->type, budget, depth + 1);
        case BTF_KIND_FUNC_PROTO: {
            if (btf_vlen(l) != btf_vlen(t)) return false;
            const btf_param* lp = btf_params(l);
            const btf_param* tp = btf_params(t);
            for (std::uint16_t i = 0; i < btf_vlen(l); ++i)
                if (!types_compatible(local_btf, lp[i].type, targ_btf, tp[i].type, budget, depth + 1)) return false;
            return types_compatible(local_btf, l->type, targ_btf, t->type, budget, depth + 1);
        }
        default: return false;
    }
}

/// TypeMatches (a stricter check than compatibility). Simplification of libbpf's bpf_core_types_match: compatible,
/// and every local struct/union member exists in the target under the same name with a compatible type.
bool types_match(const struct btf* local_btf, std::uint32_t local_id, const struct btf* targ_btf, std::uint32_t targ_id,
                 int& budget) {
    if (!types_compatible(local_btf, local_id, targ_btf, targ_id, budget)) return false;
    const btf_type* l = skip_mods_and_typedefs(local_btf, local_id);
    const btf_type* t = skip_mods_and_typedefs(targ_btf, targ_id);
    if (!btf_is_composite(l)) return true;
    if (btf_kind(l) != btf_kind(t)) return false;
    for (std::uint16_t i = 0; i < btf_vlen(l); ++i) {
        const btf_member& lm = btf_members(l)[i];
        bool found = false;
        for (std::uint16_t j = 0; j < btf_vlen(t) && !found; ++j) {
            const btf_member& tm = btf_members(t)[j];
            found = --budget >= 0 && name_of(local_btf, lm.name_off) == name_of(targ_btf, tm.name_off) &&
                    fields_compatible(local_btf, lm.type, targ_btf, tm.type, budget);
        }
        if (!found) return false;
    }
    return true;
}

Result<std::vector<std::uint32_t>> parse_access(const std::string& access) {
    std::vector<std::uint32_t> out;
    std::size_t pos = 0;
    while (pos <= access.size()) {
        const std::size_t end = std::min(access.find(':', pos), access.size());
        std::uint32_t v = 0;
        const auto [p, ec] = std::from_chars(access.data() + pos, access.data() + end, v);
        if (ec != std::errc() || p != access.data() + end || end == pos)
            return make_error(ErrorCode::kParse, fmt::format("bad CO-RE access string '{}'", access));
        out.push_back(v);
        if (out.size() > kMaxSpecLen)
            return make_error(ErrorCode::kParse, fmt::format("CO-RE access string '{}' is too long", access));
        pos = end + 1;
    }
    return out;
}

/// libbpf's bpf_core_parse_spec for field relocations: walk the local type along the access string.
Result<Spec> parse_field_spec(const struct btf* btf, std::uint32_t root_id, const std::vector<std::uint32_t>& idx) {
    Spec spec;
    spec.btf = btf;
    spec.root_id = root_id;
    std::uint32_t id = root_id;
    const btf_type* t = skip_mods_and_typedefs(btf, id, &id);
    if (t == nullptr) return make_error(ErrorCode::kParse, fmt::format("CO-RE root type {} does not exist", root_id));
    const std::int64_t root_size = btf__resolve_size(btf, id);
    if (root_size < 0) return make_error(ErrorCode::kParse, fmt::format("CO-RE root type {} has no size", root_id));
    spec.raw.push_back({id, idx[0], "", true});
    spec.bit_offset = static_cast<std::uint64_t>(idx[0]) * static_cast<std::uint64_t>(root_size) * 8;
    spec.field_type_id = id;
    for (std::size_t i = 1; i < idx.size(); ++i) {
        t = skip_mods_and_typedefs(btf, id, &id);
        if (t == nullptr) return make_error(ErrorCode::kParse, "CO-RE access through an unknown type");
        if (btf_is_composite(t)) {
            if (idx[i] >= btf_vlen(t))
                return make_error(ErrorCode::kParse, fmt::format("CO-RE member index {} out of range", idx[i]));
            const btf_member& m = btf_members(t)[idx[i]];
            spec.bit_offset += btf_member_bit_offset(t, idx[i]);
            spec.raw.push_back({id, idx[i], name_of(btf, m.name_off), false});
            spec.parent = t;
            spec.member_index = idx[i];
            id = m.type;
        } else if (btf_is_array(t)) {
            const struct btf_array* a = btf_array(t);
            const std::int64_t size = btf__resolve_size(btf, a->type);
            if (size < 0) return make_error(ErrorCode::kParse, "CO-RE array element without a size");
            spec.raw.push_back({id, idx[i], "", true});
            spec.bit_offset += static_cast<std::uint64_t>(idx[i]) * static_cast<std::uint64_t>(size) * 8;
            spec.parent = nullptr;
            id = a->type;
        } else {
            return make_error(ErrorCode::kParse, fmt::format("CO-RE access into a type of kind {}", btf_kind(t)));
        }
    }
    spec.field_type_id = id;
    return spec;
}

/// Find member `name` in target composite `id`, looking into anonymous struct/union members (libbpf's
/// bpf_core_match_member). On success extends `spec` with the steps and returns true.
bool match_member(const Spec& local, const Accessor& acc, std::uint32_t local_member_type, std::uint32_t id, Spec& spec,
                  int& budget, int depth) {
    if (depth > kMaxDepth || --budget < 0) return false;
    const btf_type* t = skip_mods_and_typedefs(spec.btf, id, &id);
    if (t == nullptr || !btf_is_composite(t)) return false;
    for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
        const btf_member& m = btf_members(t)[i];
        const std::string name = name_of(spec.btf, m.name_off);
        const std::uint64_t saved_offset = spec.bit_offset;
        spec.bit_offset += btf_member_bit_offset(t, i);
        if (name.empty()) {
            const btf_type* mt = skip_mods_and_typedefs(spec.btf, m.type);
            if (mt != nullptr && btf_is_composite(mt)) {
                spec.raw.push_back({id, i, "", false});
                if (match_member(local, acc, local_member_type, m.type, spec, budget, depth + 1)) return true;
                spec.raw.pop_back();
            }
        } else if (name == acc.name) {
            if (!fields_compatible(local.btf, local_member_type, spec.btf, m.type, budget)) return false;
            spec.raw.push_back({id, i, name, false});
            spec.parent = t;
            spec.member_index = i;
            spec.field_type_id = m.type;
            return true;
        }
        spec.bit_offset = saved_offset;
    }
    return false;
}

/// libbpf's bpf_core_spec_match for field relocations: follow the local spec's named members and array indexes
/// in target type `targ_id`. nullopt when the target has no such field.
std::optional<Spec> match_field_spec(const Spec& local, const struct btf* targ_btf, std::uint32_t targ_id,
                                     int& budget) {
    Spec spec;
    spec.btf = targ_btf;
    spec.root_id = targ_id;
    std::uint32_t id = targ_id;
    const btf_type* t = skip_mods_and_typedefs(targ_btf, id, &id);
    const std::int64_t root_size = t == nullptr ? -1 : btf__resolve_size(targ_btf, id);
    if (root_size < 0) return std::nullopt;
    spec.raw.push_back({id, local.raw[0].index, "", true});
    spec.bit_offset = static_cast<std::uint64_t>(local.raw[0].index) * static_cast<std::uint64_t>(root_size) * 8;
    spec.field_type_id = id;
    for (std::size_t i = 1; i < local.raw.size(); ++i) {
        const Accessor& acc = local.raw[i];
        if (!acc.is_array && acc.name.empty()) continue;  // anonymous local member: matched through named ones
        if (acc.is_array) {
            t = skip_mods_and_typedefs(targ_btf, id, &id);
            if (t == nullptr || !btf_is_array(t)) return std::nullopt;
            const struct btf_array* a = btf_array(t);
            if (a->nelems != 0 && acc.index >= a->nelems) return std::nullopt;  // nelems 0: flexible array
            const std::int64_t size = btf__resolve_size(targ_btf, a->type);
            if (size < 0) return std::nullopt;
            spec.raw.push_back({id, acc.index, "", true});
            spec.bit_offset += static_cast<std::uint64_t>(acc.index) * static_cast<std::uint64_t>(size) * 8;
            spec.parent = nullptr;
            id = a->type;
            spec.field_type_id = id;
        } else {
            // The local member's type: the container's member at acc.index.
            const btf_type* lc = btf__type_by_id(local.btf, acc.type_id);
            const std::uint32_t local_member_type = btf_members(lc)[acc.index].type;
            if (!match_member(local, acc, local_member_type, id, spec, budget, 0)) return std::nullopt;
            id = spec.field_type_id;
        }
    }
    return spec;
}

/// libbpf's bpf_core_calc_field_relo: the value of a field relocation for `spec`, the field's byte size
/// (non-bitfield byte offsets only, for load width adjustment), and whether the compiled instruction must hold the
/// local value (not for bitfields, where clang may pick another load unit than libbpf's formula).
struct FieldValue {
    std::uint64_t value = 0;
    std::uint32_t size = 0;
    bool validate = true;
};

Result<FieldValue> field_value(const Spec& spec, CoreRelocKind kind) {
    if (kind == CoreRelocKind::FieldExists) return FieldValue{1, 0, true};
    std::uint32_t field_id = spec.field_type_id;
    const btf_type* mt = skip_mods_and_typedefs(spec.btf, field_id, &field_id);
    if (mt == nullptr) return make_error(ErrorCode::kParse, "CO-RE field of unknown type");
    std::uint32_t bit_size = 0;
    if (spec.parent != nullptr) bit_size = btf_member_bitfield_size(spec.parent, spec.member_index);
    const bool bitfield = bit_size > 0;
    const std::uint64_t bit_off = spec.bit_offset;
    std::uint64_t byte_off = 0;
    std::uint64_t byte_size = 0;
    if (bitfield) {
        byte_size = mt->size;
        if (byte_size == 0) return make_error(ErrorCode::kParse, "CO-RE bitfield of size 0");
        byte_off = bit_off / 8 / byte_size * byte_size;
        while (bit_off + bit_size - byte_off * 8 > byte_size * 8) {  // smallest load that holds the bitfield
            if (byte_size >= 8)
                return make_error(ErrorCode::kUnsupported, "CO-RE bitfield cannot be read with 64 bits");
            byte_size *= 2;
            byte_off = bit_off / 8 / byte_size * byte_size;
        }
    } else {
        const std::int64_t size = btf__resolve_size(spec.btf, field_id);
        if (size < 0) return make_error(ErrorCode::kParse, "CO-RE field without a size");
        byte_size = static_cast<std::uint64_t>(size);
        byte_off = bit_off / 8;
        bit_size = static_cast<std::uint32_t>(byte_size * 8);
    }
    switch (kind) {
        case CoreRelocKind::FieldByteOffset:
            return FieldValue{byte_off, bitfield ? 0u : static_cast<std::uint32_t>(byte_size), !bitfield};
        case CoreRelocKind::FieldByteSize: return FieldValue{byte_size, 0, !bitfield};
        case CoreRelocKind::FieldSigned: {
            const bool is_signed = (btf_is_any_enum(mt) && btf_kflag(mt)) ||
                                   (btf_is_int(mt) && (btf_int_encoding(mt) & BTF_INT_SIGNED) != 0);
            return FieldValue{is_signed ? 1u : 0u, 0, true};
        }
        case CoreRelocKind::FieldLshiftU64:  // little-endian layout
            return FieldValue{64 - (bit_off + bit_size - byte_off * 8), 0, !bitfield};
        case CoreRelocKind::FieldRshiftU64: return FieldValue{std::uint64_t{64} - bit_size, 0, true};
        default: return make_error(ErrorCode::kParse, "not a field relocation");
    }
}

/// Enumerator `index` of local enum `id`: its name.
Result<std::string> local_enumerator(const struct btf* btf, std::uint32_t id, std::uint32_t index) {
    const btf_type* t = skip_mods_and_typedefs(btf, id);
    if (t == nullptr || !btf_is_any_enum(t))
        return make_error(ErrorCode::kParse, "CO-RE enum relocation on a non-enum");
    if (index >= btf_vlen(t)) return make_error(ErrorCode::kParse, "CO-RE enumerator index out of range");
    return name_of(btf, btf_is_enum(t) ? btf_enum(t)[index].name_off : btf_enum64(t)[index].name_off);
}

/// Value of enumerator `name` in enum `t`, if present (names compared by essential name).
std::optional<std::uint64_t> enumerator_value(const struct btf* btf, const btf_type* t, const std::string& name) {
    for (std::uint16_t i = 0; i < btf_vlen(t); ++i) {
        if (btf_is_enum(t)) {
            const struct btf_enum& e = btf_enum(t)[i];
            if (core_essential_name(name_of(btf, e.name_off)) == core_essential_name(name))
                return btf_kflag(t) ? static_cast<std::uint64_t>(static_cast<std::int64_t>(e.val))
                                    : static_cast<std::uint64_t>(static_cast<std::uint32_t>(e.val));
        } else {
            const struct btf_enum64& e = btf_enum64(t)[i];
            if (core_essential_name(name_of(btf, e.name_off)) == core_essential_name(name)) return btf_enum64_value(&e);
        }
    }
    return std::nullopt;
}

/// Value of a relocation for a (local or target) type `id` that matched; `local_btf` is for TypeMatches.
Result<CoreValue> compute(const CoreRelocation& relo, const struct btf* local, std::uint32_t local_root,
                          const CoreTarget& target) {
    CoreValue out;
    const std::string local_name = [&] {
        const btf_type* t = btf__type_by_id(local, local_root);
        return t == nullptr ? std::string() : name_of(local, t->name_off);
    }();
    const btf_type* local_type = btf__type_by_id(local, local_root);
    if (local_type == nullptr)
        return make_error(ErrorCode::kParse, fmt::format("CO-RE type {} does not exist", local_root));
    const std::string_view essential = core_essential_name(local_name);
    const struct btf* targ = target.btf();
    static const std::vector<std::uint32_t> kNoCandidates;  // anonymous local types match nothing
    // Resolving against the object's own BTF means "as compiled": the local type is its own only candidate (all
    // flavours of a name, task_struct___a and task_struct___b, would otherwise compete and be ambiguous).
    const std::vector<std::uint32_t> self{local_root};
    const std::vector<std::uint32_t>& cands = targ == local       ? self
                                              : essential.empty() ? kNoCandidates
                                                                  : target.candidates(essential);

    // Each candidate yields a target value; all matching candidates must agree.
    std::optional<std::uint64_t> value;
    std::uint32_t value_size = 0;
    int budget = kMaxSteps;
    auto agree = [&](std::uint64_t v, std::uint32_t size, std::uint32_t cand) -> Result<void> {
        if (value && *value != v)
            return make_error(
                ErrorCode::kUnsupported,
                fmt::format("CO-RE relocation {} of '{}' is ambiguous: candidates give {} and {} (type {})",
                            core_reloc_kind_name(relo.kind), local_name, *value, v, cand));
        value = v;
        value_size = size;
        return {};
    };

    if (is_field_kind(relo.kind)) {
        auto idx = parse_access(relo.access);
        if (!idx) return std::unexpected(idx.error());
        auto spec = parse_field_spec(local, local_root, *idx);
        if (!spec) return std::unexpected(spec.error());
        auto lv = field_value(*spec, relo.kind);
        if (!lv) return std::unexpected(lv.error());
        out.local = lv->value;
        out.local_size = lv->size;
        out.validate = lv->validate;
        for (const std::uint32_t cand : cands) {
            const btf_type* ct = btf__type_by_id(targ, cand);
            if (ct == nullptr || !kinds_compatible(local_type, ct)) continue;
            auto matched = match_field_spec(*spec, targ, cand, budget);
            if (!matched) continue;
            auto tv = field_value(*matched, relo.kind);
            if (!tv) return std::unexpected(tv.error());
            if (auto r = agree(tv->value, tv->size, cand); !r) return std::unexpected(r.error());
        }
        if (!value) {
            if (relo.kind != CoreRelocKind::FieldExists) out.poison = true;
            out.target = 0;
            return out;
        }
        out.target = *value;
        out.target_size = value_size;
        return out;
    }
    if (is_type_kind(relo.kind)) {
        if (relo.access != "0")
            return make_error(ErrorCode::kParse, fmt::format("type relocation with access '{}'", relo.access));
        switch (relo.kind) {
            case CoreRelocKind::TypeIdLocal: out.local = out.target = local_root; return out;
            case CoreRelocKind::TypeIdTarget:
            case CoreRelocKind::TypeExists:
            case CoreRelocKind::TypeMatches:
            case CoreRelocKind::TypeSize: {
                const std::int64_t local_size = btf__resolve_size(local, local_root);
                out.local = relo.kind == CoreRelocKind::TypeIdTarget ? local_root
                            : relo.kind == CoreRelocKind::TypeSize
                                ? static_cast<std::uint64_t>(std::max<std::int64_t>(local_size, 0))
                                : 1;
                for (const std::uint32_t cand : cands) {
                    const btf_type* ct = btf__type_by_id(targ, cand);
                    if (ct == nullptr || !kinds_compatible(local_type, ct)) continue;
                    const bool ok = relo.kind == CoreRelocKind::TypeMatches
                                        ? types_match(local, local_root, targ, cand, budget)
                                        : types_compatible(local, local_root, targ, cand, budget);
                    if (!ok) continue;
                    std::uint64_t v = 1;
                    if (relo.kind == CoreRelocKind::TypeIdTarget) v = cand;
                    if (relo.kind == CoreRelocKind::TypeSize) {
                        const std::int64_t s = btf__resolve_size(targ, cand);
                        if (s < 0) continue;
                        v = static_cast<std::uint64_t>(s);
                    }
                    // Several candidates are normal for type ids (libbpf keeps the first); sizes must agree.
                    if (relo.kind == CoreRelocKind::TypeIdTarget && value) continue;
                    if (auto r = agree(v, 0, cand); !r) return std::unexpected(r.error());
                }
                if (!value) {
                    out.target = 0;
                    out.poison = relo.kind == CoreRelocKind::TypeIdTarget || relo.kind == CoreRelocKind::TypeSize;
                    return out;
                }
                out.target = *value;
                return out;
            }
            default: break;
        }
    }
    // EnumvalExists, EnumvalValue: the access string is the enumerator's index in the local enum.
    auto idx = parse_access(relo.access);
    if (!idx) return std::unexpected(idx.error());
    if (idx->size() != 1)
        return make_error(ErrorCode::kParse, fmt::format("enum relocation with access '{}'", relo.access));
    auto name = local_enumerator(local, local_root, (*idx)[0]);
    if (!name) return std::unexpected(name.error());
    const btf_type* lt = skip_mods_and_typedefs(local, local_root);
    if (lt == nullptr) return make_error(ErrorCode::kParse, "CO-RE enum type does not exist");
    out.local = relo.kind == CoreRelocKind::EnumvalExists ? 1 : enumerator_value(local, lt, *name).value_or(0);
    for (const std::uint32_t cand : cands) {
        const btf_type* ct = btf__type_by_id(targ, cand);
        if (ct == nullptr || !btf_is_any_enum(ct)) continue;
        const auto v = enumerator_value(targ, ct, *name);
        if (!v) continue;
        if (auto r = agree(relo.kind == CoreRelocKind::EnumvalExists ? 1 : *v, 0, cand); !r)
            return std::unexpected(r.error());
    }
    if (!value) {
        out.poison = relo.kind == CoreRelocKind::EnumvalValue;
        out.target = 0;
        return out;
    }
    out.target = *value;
    return out;
}

/// BPF_SIZE bits for a load/store width in bytes.
std::optional<std::uint8_t> size_bits(std::uint32_t bytes) {
    switch (bytes) {
        case 1: return 0x10;
        case 2: return 0x08;
        case 4: return 0x00;
        case 8: return 0x18;
        default: return std::nullopt;
    }
}

std::uint32_t size_bytes(std::uint8_t opcode) {
    switch (opcode & 0x18) {
        case 0x10: return 1;
        case 0x08: return 2;
        case 0x00: return 4;
        default: return 8;
    }
}

}  // namespace

std::string_view core_essential_name(std::string_view name) {
    // The last "___" flavour separator that is not part of a longer run of underscores (libbpf's
    // bpf_core_essential_name_len).
    if (name.size() >= 5)
        for (std::size_t i = name.size() - 5 + 1; i-- > 0;)
            if (name[i] != '_' && name.substr(i + 1, 3) == "___" && name[i + 4] != '_') return name.substr(0, i + 1);
    return name;
}

CoreTarget::CoreTarget(std::shared_ptr<const struct btf> btf) : btf_(std::move(btf)) {
    if (btf_ == nullptr) return;
    const std::uint32_t count = btf__type_cnt(btf_.get());
    for (std::uint32_t id = 1; id < count; ++id) {
        const btf_type* t = btf__type_by_id(btf_.get(), id);
        if (t == nullptr) continue;
        const char* name = btf__name_by_offset(btf_.get(), t->name_off);
        if (name == nullptr || *name == '\0') continue;
        by_name_[std::string(core_essential_name(name))].push_back(id);
    }
}

const std::vector<std::uint32_t>& CoreTarget::candidates(std::string_view name) const {
    static const std::vector<std::uint32_t> kNone;
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? kNone : it->second;
}

Result<CoreTarget> CoreTarget::kernel() {
    errno = 0;
    struct btf* btf = btf__load_vmlinux_btf();
    if (btf == nullptr)
        return make_error(ErrorCode::kNotFound, fmt::format("no kernel BTF (/sys/kernel/btf/vmlinux): {}",
                                                            std::strerror(errno != 0 ? errno : ENOENT)));
    return CoreTarget(
        std::shared_ptr<const struct btf>(btf, [](const struct btf* b) { btf__free(const_cast<struct btf*>(b)); }));
}

Result<CoreValue> resolve_core_relocation(const CoreRelocation& relo, const struct btf* local,
                                          const CoreTarget& target) {
    if (local == nullptr || target.btf() == nullptr)
        return make_error(ErrorCode::kInvalidArgument, "CO-RE relocation needs a local and a target BTF");
    return compute(relo, local, relo.type_id, target);
}

Result<ProgramSpec> apply_core_relocations(const ProgramSpec& program, const struct btf* local,
                                           const CoreTarget& target) {
    ProgramSpec out = program;
    for (const CoreRelocation& relo : program.core_relocations) {
        auto fail = [&](const std::string& why) {
            return make_error(ErrorCode::kInvalidInstruction,
                              fmt::format("program '{}': CO-RE relocation {} of type {} ('{}'): {}", program.name,
                                          core_reloc_kind_name(relo.kind), relo.type_id, relo.access, why),
                              at_insn(relo.insn));
        };
        if (relo.insn >= out.insns.size()) return fail("instruction outside the program");
        auto v = resolve_core_relocation(relo, local, target);
        if (!v) return fail(v.error().message);
        isa::RawInsn& insn = out.insns[relo.insn];
        const std::uint8_t cls = insn.opcode & 0x07;
        const bool is_lddw = insn.opcode == 0x18;
        if (v->poison) {
            // libbpf's bpf_core_poison_insn: a call to a helper that does not exist; reached only if not dead code.
            auto poison = [](isa::RawInsn& i) { i = isa::RawInsn{0x85, 0, 0, 0, kCorePoisonHelper}; };
            if (is_lddw && relo.insn + 1 < out.insns.size()) poison(out.insns[relo.insn + 1]);
            poison(insn);
            continue;
        }
        if ((cls == 0x04 || cls == 0x07) && (insn.opcode & 0x08) == 0) {  // ALU/ALU64 with an immediate
            if (v->validate && static_cast<std::uint32_t>(insn.imm) != static_cast<std::uint32_t>(v->local))
                return fail(fmt::format("instruction has {}, expected the local value {}", insn.imm, v->local));
            if (v->target > 0xffffffffULL) return fail(fmt::format("value {} does not fit an immediate", v->target));
            insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(v->target));
        } else if (cls == 0x01 || cls == 0x02 || cls == 0x03) {  // LDX, ST, STX: the offset
            if (v->validate && insn.off != static_cast<std::int64_t>(v->local))
                return fail(fmt::format("instruction offset {}, expected the local value {}", insn.off, v->local));
            if (v->target > 0x7fff) return fail(fmt::format("offset {} does not fit 16 bits", v->target));
            insn.off = static_cast<std::int16_t>(v->target);
            const bool mem = (insn.opcode & 0xe0) == 0x60;
            if (relo.kind == CoreRelocKind::FieldByteOffset && mem && v->local_size != 0 &&
                v->local_size != v->target_size) {
                if (size_bytes(insn.opcode) != v->local_size)
                    return fail(fmt::format("access width {} is not the field's size {}", size_bytes(insn.opcode),
                                            v->local_size));
                const auto bits = size_bits(v->target_size);
                if (!bits) return fail(fmt::format("target field size {} cannot be loaded", v->target_size));
                insn.opcode = static_cast<std::uint8_t>((insn.opcode & ~0x18) | *bits);
            }
        } else if (is_lddw && relo.insn + 1 < out.insns.size()) {
            insn.imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(v->target));
            out.insns[relo.insn + 1].imm = static_cast<std::int32_t>(static_cast<std::uint32_t>(v->target >> 32));
        } else {
            return fail(fmt::format("cannot patch opcode {:#04x}", insn.opcode));
        }
    }
    return out;
}

Result<ObjectSpec> apply_core_relocations(const ObjectSpec& spec, const CoreTarget& target) {
    ObjectSpec out = spec;
    for (ProgramSpec& p : out.programs) {
        if (p.core_relocations.empty()) continue;
        if (spec.btf == nullptr) return make_error(ErrorCode::kInvalidArgument, "CO-RE relocations without object BTF");
        auto applied = apply_core_relocations(p, spec.btf.get(), target);
        if (!applied) return std::unexpected(applied.error());
        p = std::move(*applied);
    }
    return out;
}

}  // namespace xbpf::object
