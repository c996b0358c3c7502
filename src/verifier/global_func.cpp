// Global function signatures from BTF: the kernel's btf_prepare_func_args (kernel/bpf/btf.c) for the argument kinds
// xbpf models (scalars, the context, sized memory), with its messages for the rest.
#include "verifier/global_func.hpp"

#include <bpf/btf.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace xbpf::verifier {

namespace {

constexpr std::size_t kMaxArgs = 5;  // MAX_BPF_FUNC_REG_ARGS

bool is_modifier(const btf_type* t) {
    switch (btf_kind(t)) {
        case BTF_KIND_TYPEDEF:
        case BTF_KIND_VOLATILE:
        case BTF_KIND_CONST:
        case BTF_KIND_RESTRICT:
        case BTF_KIND_TYPE_TAG: return true;
        default: return false;
    }
}

/// btf_type_skip_modifiers: the id after typedefs and qualifiers (0 = void).
std::uint32_t skip_modifiers(const struct btf* b, std::uint32_t id) {
    for (int guard = 0; guard < 64 && id != 0; ++guard) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!t || !is_modifier(t)) return id;
        id = t->type;
    }
    return id;
}

/// The kernel's btf_type_str: "STRUCT", "UNION", "PTR", ...
const char* kind_str(const btf_type* t) {
    if (!t) return "UNKN";
    switch (btf_kind(t)) {
        case BTF_KIND_INT: return "INT";
        case BTF_KIND_PTR: return "PTR";
        case BTF_KIND_ARRAY: return "ARRAY";
        case BTF_KIND_STRUCT: return "STRUCT";
        case BTF_KIND_UNION: return "UNION";
        case BTF_KIND_ENUM: return "ENUM";
        case BTF_KIND_FWD: return "FWD";
        case BTF_KIND_FUNC_PROTO: return "FUNC_PROTO";
        case BTF_KIND_FLOAT: return "FLOAT";
        case BTF_KIND_ENUM64: return "ENUM64";
        default: return "UNKN";
    }
}

/// The context struct names the kernel accepts for a pointer argument of a global function of this program type
/// (btf_is_prog_ctx_type: the type's user-visible context, plus the per-type aliases it lists).
std::vector<const char*> ctx_struct_names(object::ProgramType type) {
    using object::ProgramType;
    switch (type) {
        case ProgramType::SocketFilter:
        case ProgramType::SchedCls:
        case ProgramType::SchedAct:
        case ProgramType::CgroupSkb:
        case ProgramType::LwtIn:
        case ProgramType::LwtOut:
        case ProgramType::LwtXmit:
        case ProgramType::LwtSeg6local:
        case ProgramType::SkSkb: return {"__sk_buff"};
        case ProgramType::Xdp: return {"xdp_md"};
        case ProgramType::Kprobe: return {"pt_regs"};
        case ProgramType::PerfEvent: return {"bpf_perf_event_data"};
        case ProgramType::RawTracepoint:
        case ProgramType::RawTracepointWritable: return {"bpf_raw_tracepoint_args"};
        default: return {};
    }
}

/// btf_is_prog_ctx_type for a pointer type `ptr`.
bool is_ctx_pointer(const struct btf* b, const btf_type* ptr, object::ProgramType type) {
    std::uint32_t id = ptr->type;
    if (type == object::ProgramType::Kprobe) {
        // bpf_user_pt_regs_t is checked before typedefs are skipped.
        for (int guard = 0; guard < 64 && id != 0; ++guard) {
            const btf_type* t = btf__type_by_id(b, id);
            if (!t || !is_modifier(t)) break;
            if (btf_is_typedef(t)) {
                const char* n = btf__name_by_offset(b, t->name_off);
                if (n && std::strcmp(n, "bpf_user_pt_regs_t") == 0) return true;
            }
            id = t->type;
        }
    }
    const btf_type* t = btf__type_by_id(b, skip_modifiers(b, ptr->type));
    if (!t || !btf_is_struct(t)) return false;
    const char* name = btf__name_by_offset(b, t->name_off);
    if (!name) return false;
    const auto names = ctx_struct_names(type);
    return std::any_of(names.begin(), names.end(), [&](const char* n) { return std::strcmp(n, name) == 0; });
}

/// "arg:..." declaration tags on argument `arg` of FUNC `func_id`.
std::vector<std::string> arg_tags(const struct btf* b, std::uint32_t func_id, int arg) {
    std::vector<std::string> tags;
    const std::uint32_t n = btf__type_cnt(b);
    for (std::uint32_t id = 1; id < n; ++id) {
        const btf_type* t = btf__type_by_id(b, id);
        if (!btf_is_decl_tag(t) || t->type != func_id || btf_decl_tag(t)->component_idx != arg) continue;
        const char* s = btf__name_by_offset(b, t->name_off);
        if (s && std::strncmp(s, "arg:", 4) == 0) tags.emplace_back(s + 4);
    }
    return tags;
}

}  // namespace

GlobalFunc global_function(const struct btf* b, const object::ProgramSpec& program, std::size_t start,
                           object::ProgramType type) {
    GlobalFunc g;
    if (!b || start == 0) return g;
    const auto fi = std::find_if(program.func_info.begin(), program.func_info.end(),
                                 [&](const object::FuncInfo& f) { return f.insn == start; });
    if (fi == program.func_info.end()) return g;
    const btf_type* func = btf__type_by_id(b, fi->type_id);
    // A FUNC's linkage is its vlen (enum btf_func_linkage).
    if (!func || !btf_is_func(func) || btf_vlen(func) != BTF_FUNC_GLOBAL) return g;
    g.is_global = true;
    const char* fname = btf__name_by_offset(b, func->name_off);
    g.name = fname ? fname : fi->name;
    const btf_type* proto = btf__type_by_id(b, func->type);
    if (!proto || !btf_is_func_proto(proto)) {
        g.error = fmt::format("Invalid type of function {}()", g.name);
        return g;
    }
    const std::size_t nargs = btf_vlen(proto);
    if (nargs > kMaxArgs) {
        g.error = fmt::format("Global function {}() with {} > {} args. Buggy compiler.", g.name, nargs, kMaxArgs);
        return g;
    }
    const std::uint32_t ret_id = skip_modifiers(b, proto->type);
    const btf_type* ret = ret_id ? btf__type_by_id(b, ret_id) : nullptr;
    if (!ret || !(btf_is_int(ret) || btf_is_any_enum(ret))) {  // void included, as in Linux 6.18
        g.error = fmt::format("Global function {}() doesn't return scalar. Only those are supported.", g.name);
        return g;
    }
    const btf_param* params = btf_params(proto);
    for (std::size_t i = 0; i < nargs; ++i) {
        const auto tags = arg_tags(b, fi->type_id, static_cast<int>(i));
        bool tag_ctx = false;
        bool tag_nonnull = false;
        for (const auto& tag : tags) {
            if (tag == "ctx")
                tag_ctx = true;
            else if (tag == "nonnull")
                tag_nonnull = true;
            else if (tag != "nullable") {
                g.error = fmt::format("arg#{} has unsupported set of tags", i);
                return g;
            }
        }
        const std::uint32_t id = skip_modifiers(b, params[i].type);
        const btf_type* t = id ? btf__type_by_id(b, id) : nullptr;
        GlobalArg a;
        if (t && btf_is_ptr(t) && (tag_ctx || is_ctx_pointer(b, t, type))) {
            if (tag_nonnull) {
                g.error = fmt::format("arg#{} has invalid combination of tags", i);
                return g;
            }
            a.kind = GlobalArg::Kind::Ctx;
        } else if (t && btf_is_ptr(t)) {
            const std::uint32_t pointee = skip_modifiers(b, t->type);
            const long long size = pointee ? btf__resolve_size(b, pointee) : -1;
            if (size <= 0) {
                const btf_type* pt = pointee ? btf__type_by_id(b, pointee) : nullptr;
                const char* pname = pt ? btf__name_by_offset(b, pt->name_off) : "void";
                g.error = fmt::format("arg#{} reference type('{} {}') size cannot be determined: -22", i,
                                      pt ? kind_str(pt) : "UNKNOWN", pname ? pname : "");
                return g;
            }
            a.kind = GlobalArg::Kind::Mem;
            a.size = static_cast<std::uint32_t>(size);
            a.nullable = !tag_nonnull;
        } else if (t && (btf_is_int(t) || btf_is_any_enum(t)) && !tag_ctx && !tag_nonnull) {
            a.kind = GlobalArg::Kind::Scalar;
        } else {
            g.error = fmt::format("Arg#{} type {} in {}() is not supported yet.", i, id ? kind_str(t) : "VOID", g.name);
            return g;
        }
        g.args.push_back(a);
    }
    return g;
}

}  // namespace xbpf::verifier
