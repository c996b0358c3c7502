#include "verifier/btf_access.hpp"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

#include <memory>
#include <string_view>
#include <unordered_map>

namespace xbpf::verifier {

namespace {

/// Skips typedefs and qualifiers.
std::uint32_t resolve(const struct btf* b, std::uint32_t id) {
    for (int guard = 0; guard < 64 && id != 0; ++guard) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!t) return 0;
        switch (btf_kind(t)) {
            case BTF_KIND_TYPEDEF:
            case BTF_KIND_VOLATILE:
            case BTF_KIND_CONST:
            case BTF_KIND_RESTRICT:
            case BTF_KIND_TYPE_TAG: id = t->type; break;
            default: return id;
        }
    }
    return id;
}

/// For a pointer type: the struct or union it points to (after typedefs and qualifiers), else 0.
std::uint32_t pointee_struct(const struct btf* b, std::uint32_t id) {
    id = resolve(b, id);
    const btf_type* t = btf__type_by_id(b, id);
    if (!t || !btf_is_ptr(t)) return 0;
    std::uint32_t target = resolve(b, t->type);
    const btf_type* s = btf__type_by_id(b, target);
    return s && (btf_is_struct(s) || btf_is_union(s)) ? target : 0;
}

/// Name -> id of every FUNC and TYPEDEF of one BTF: what tracing_args looks up. libbpf's btf__find_by_name_kind
/// is a linear scan (vmlinux has ~127,000 types, the FUNCs near the end: 0.05-0.5 ms per lookup); the index is
/// built once per BTF (~10 ms for vmlinux) and answers in O(1). First occurrence wins, as in the linear scan.
class NameIndex {
  public:
    explicit NameIndex(const struct btf* b) {
        const std::uint32_t n = btf__type_cnt(b);
        for (std::uint32_t id = 1; id < n; ++id) {
            const btf_type* t = btf__type_by_id(b, id);
            const int kind = btf_kind(t);
            if (kind != BTF_KIND_FUNC && kind != BTF_KIND_TYPEDEF) continue;
            const char* name = btf__name_by_offset(b, t->name_off);
            if (!name || !*name) continue;
            (kind == BTF_KIND_FUNC ? funcs_ : typedefs_).try_emplace(std::string_view(name), id);
        }
    }
    /// The id of the FUNC or TYPEDEF called `name`, or 0.
    [[nodiscard]] std::uint32_t find(std::string_view name, int kind) const {
        const auto& m = kind == BTF_KIND_FUNC ? funcs_ : typedefs_;
        const auto it = m.find(name);
        return it == m.end() ? 0 : it->second;
    }

  private:
    // Views into the BTF's string section: valid while the BTF lives (vmlinux_btf() is never freed).
    std::unordered_map<std::string_view, std::uint32_t> funcs_;
    std::unordered_map<std::string_view, std::uint32_t> typedefs_;
};

struct Vmlinux {
    struct btf* btf = nullptr;
    std::unique_ptr<NameIndex> index;
};

const Vmlinux& vmlinux() {
    static const Vmlinux v = [] {
        Vmlinux out;
        struct btf* loaded = btf__load_vmlinux_btf();
        if (libbpf_get_error(loaded)) return out;
        out.btf = loaded;
        out.index = std::make_unique<NameIndex>(loaded);
        return out;
    }();
    return v;
}

/// btf__find_by_name_kind for FUNC and TYPEDEF (id, or 0), through the index when `b` is vmlinux_btf().
std::uint32_t find_by_name(const struct btf* b, const std::string& name, int kind) {
    const Vmlinux& v = vmlinux();
    if (b == v.btf && v.index) return v.index->find(name, kind);
    const int id = btf__find_by_name_kind(b, name.c_str(), static_cast<std::uint32_t>(kind));
    return id > 0 ? static_cast<std::uint32_t>(id) : 0;
}

}  // namespace

const struct btf* vmlinux_btf() { return vmlinux().btf; }

std::optional<TracingArgs> tracing_args(const struct btf* kernel, object::ProgramType type, object::AttachType attach,
                                        std::string_view target) {
    using object::AttachType;
    if (!kernel || target.empty()) return std::nullopt;
    if (type != object::ProgramType::Tracing && type != object::ProgramType::Lsm) return std::nullopt;
    std::string name(target);
    std::uint32_t proto = 0;
    bool skip_first = false;
    if (attach == AttachType::TraceRawTp) {
        // typedef void (*btf_trace_<tp>)(void *__data, args...);
        const std::uint32_t id = find_by_name(kernel, "btf_trace_" + name, BTF_KIND_TYPEDEF);
        if (id == 0) return std::nullopt;
        const btf_type* t = btf__type_by_id(kernel, resolve(kernel, id));
        if (!t || !btf_is_ptr(t)) return std::nullopt;
        proto = resolve(kernel, t->type);
        skip_first = true;
    } else {
        if (attach == AttachType::LsmMac || attach == AttachType::LsmCgroup) name = "bpf_lsm_" + name;
        if (attach == AttachType::TraceIter) return std::nullopt;
        const std::uint32_t id = find_by_name(kernel, name, BTF_KIND_FUNC);
        if (id == 0) return std::nullopt;
        proto = btf__type_by_id(kernel, id)->type;
    }
    const btf_type* fp = btf__type_by_id(kernel, proto);
    if (!fp || !btf_is_func_proto(fp)) return std::nullopt;
    TracingArgs out;
    out.function = std::string(target);
    const btf_param* params = btf_params(fp);
    for (int i = skip_first ? 1 : 0; i < btf_vlen(fp); ++i) out.args.push_back(pointee_struct(kernel, params[i].type));
    if (attach == AttachType::TraceFexit || attach == AttachType::ModifyReturn) {
        out.has_return = true;
        out.return_struct = pointee_struct(kernel, fp->type);
    }
    return out;
}

std::optional<BtfLoad> btf_struct_load(const struct btf* kernel, std::uint32_t type_id, std::int64_t off, int size,
                                       std::string* error) {
    std::uint32_t id = resolve(kernel, type_id);
    const std::string outer = btf_struct_name(kernel, type_id);
    for (int depth = 0; depth < 32; ++depth) {
        const btf_type* t = btf__type_by_id(kernel, id);
        if (!t) break;
        if (btf_is_array(t)) {
            const struct btf_array* a = btf_array(t);
            std::uint32_t elem = resolve(kernel, a->type);
            const long long esz = btf__resolve_size(kernel, elem);
            if (esz <= 0) return BtfLoad{};
            if (off >= esz * a->nelems) break;
            off %= esz;
            id = elem;
            continue;
        }
        if (!btf_is_struct(t) && !btf_is_union(t)) {
            // A scalar (or a pointer not at its start): the bytes are a number.
            const long long tsz = btf__resolve_size(kernel, id);
            if (tsz > 0 && off + size > tsz) break;
            if (btf_is_ptr(t) && off == 0 && size == 8) return BtfLoad{pointee_struct(kernel, id)};
            return BtfLoad{};
        }
        if (off < 0 || off + size > static_cast<std::int64_t>(t->size)) break;
        // The innermost member containing [off, off + size).
        const btf_member* m = btf_members(t);
        bool found = false;
        for (int i = 0; i < btf_vlen(t); ++i) {
            const std::uint32_t bit_off = btf_member_bit_offset(t, static_cast<std::uint32_t>(i));
            if (btf_member_bitfield_size(t, static_cast<std::uint32_t>(i)) != 0) {
                // Bitfields: a load covering them gives a number.
                const std::int64_t byte = bit_off / 8;
                if (off >= byte && off < byte + 8) return BtfLoad{};
                continue;
            }
            const std::int64_t moff = bit_off / 8;
            const long long msz = btf__resolve_size(kernel, m[i].type);
            if (msz <= 0 || off < moff || off + size > moff + msz) continue;
            off -= moff;
            id = resolve(kernel, m[i].type);
            found = true;
            break;
        }
        if (!found) return BtfLoad{};  // padding or a load across members: a number, as the kernel gives
    }
    if (error) *error = fmt::format("access beyond struct {} at off {} size {}", outer, off, size);
    return std::nullopt;
}

std::string btf_struct_name(const struct btf* kernel, std::uint32_t type_id) {
    const btf_type* t = kernel ? btf__type_by_id(kernel, type_id) : nullptr;
    if (!t) return "?";
    const char* n = btf__name_by_offset(kernel, t->name_off);
    return n && *n ? n : "?";
}

}  // namespace xbpf::verifier
