// vm::Object::load: the live side of an ObjectSpec, as libbpf's bpf_object__load does for the kernel: create the
// maps, write global data (and freeze .rodata/.kconfig from the host side), fill .kconfig externs, load every
// program against the map table and the helpers, then fill static prog_array and map-in-map slots.
#include "vm/object.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "maps/cpu.hpp"
#include "maps/map_in_map.hpp"

namespace xbpf::vm {
namespace {

std::atomic<std::uint32_t> next_program_id{1};

/// The spec with its CO-RE relocations applied (LoadOptions::core_target, else the kernel's BTF, else the object's
/// own), or nullopt when no program has any.
Result<std::optional<object::ObjectSpec>> relocate_core(const object::ObjectSpec& spec, const LoadOptions& options) {
    bool any = false;
    for (const object::ProgramSpec& p : spec.programs) any = any || !p.core_relocations.empty();
    if (!any) return std::optional<object::ObjectSpec>();
    if (spec.btf == nullptr) return make_error(ErrorCode::kInvalidArgument, "CO-RE relocations without BTF");
    auto apply = [&](const object::CoreTarget& target) -> Result<std::optional<object::ObjectSpec>> {
        auto applied = object::apply_core_relocations(spec, target);
        if (!applied) return std::unexpected(applied.error());
        return std::optional<object::ObjectSpec>(std::move(*applied));
    };
    if (options.core_target != nullptr) return apply(*options.core_target);
    static const Result<object::CoreTarget> kernel = object::CoreTarget::kernel();
    if (kernel) return apply(*kernel);
    return apply(object::CoreTarget(spec.btf));
}

/// The verifier's options for `ps`, with `frozen(i)` giving the contents of read-only map i as programs see it.
template <class Frozen>
verifier::VerifyOptions verify_options(const object::ObjectSpec& s, const object::ProgramSpec& ps,
                                       const LoadOptions& options, Frozen&& frozen) {
    verifier::VerifyOptions vo = verifier::options_for(s, ps);
    vo.privileged = !options.unprivileged;
    vo.log = options.verifier_log;
    for (std::size_t i = 0; i < vo.maps.size(); ++i) {
        if (!(s.maps[i].flags & maps::kFRdonlyProg) || s.maps[i].type != maps::MapType::Array) continue;
        vo.maps[i].frozen_value = frozen(i);
    }
    return vo;
}

}  // namespace

Result<std::vector<ProgramVerdict>> verify_object(const object::ObjectSpec& original, const LoadOptions& options) {
    auto relocated = relocate_core(original, options);
    if (!relocated) return std::unexpected(relocated.error());
    const object::ObjectSpec& s = *relocated ? **relocated : original;
    std::vector<ProgramVerdict> out;
    for (const object::ProgramSpec& ps : s.programs) {
        auto vo = verify_options(s, ps, options, [&](std::size_t i) { return object::map_initial_value(s, i); });
        out.push_back(ProgramVerdict{ps.name, ps.section, ps.type, verifier::verify(ps.insns, vo)});
    }
    return out;
}

LoadedProgram::LoadedProgram(const object::ProgramSpec* spec, Program program, std::uint32_t id,
                             std::optional<verifier::VerifyReport> report)
    : spec_(spec), program_(std::move(program)), id_(id), report_(std::move(report)) {}

bool LoadedProgram::runs_unchecked() const {
    if (!verified()) return false;
    for (const auto& f : report_->facts)
        if (f.probe_mem) return false;
    return true;
}

Object::~Object() {
    // Like closing the last user reference of a prog_array in the kernel (bpf_fd_array_map_clear): empty the
    // tail-call slots, which also breaks the ownership cycle program -> map -> program.
    for (const auto& m : maps_) {
        if (!m || m->type() != maps::MapType::ProgArray) continue;
        auto* pa = static_cast<maps::ProgArrayMap*>(m.get());
        for (std::uint32_t i = 0; i < m->spec().max_entries; ++i)
            if (pa->tail_call_target(i)) (void)pa->erase(&i);
    }
}

std::shared_ptr<maps::Map> Object::map(std::string_view name) const {
    for (std::size_t i = 0; i < maps_.size(); ++i)
        if (spec_.maps[i].name == name) return maps_[i];
    return nullptr;
}

const LoadedProgram* Object::program(std::string_view name) const {
    for (const auto& p : programs_)
        if (p->name() == name) return p.get();
    return nullptr;
}

Result<std::unique_ptr<Object>> Object::load(object::ObjectSpec spec, const LoadOptions& options) {
    std::unique_ptr<Object> obj(new Object());
    if (auto relocated = relocate_core(spec, options); !relocated)
        return std::unexpected(relocated.error());
    else if (*relocated)
        spec = std::move(**relocated);
    obj->spec_ = std::move(spec);
    const object::ObjectSpec& s = obj->spec_;

    // Maps, with their initial data.
    for (std::size_t i = 0; i < s.maps.size(); ++i) {
        maps::MapSpec ms = s.maps[i];
        // libbpf sizes a perf_event_array declared without max_entries to the possible CPUs (one ring per CPU).
        if (ms.type == maps::MapType::PerfEventArray && ms.max_entries == 0) ms.max_entries = maps::num_possible_cpus();
        auto created = maps::create_map(ms);
        if (!created) return std::unexpected(created.error());
        std::shared_ptr<maps::Map> m = std::move(*created);
        const object::MapInfo* info = i < s.map_info.size() ? &s.map_info[i] : nullptr;
        std::vector<std::uint8_t> initial = object::map_initial_value(s, i);
        if (!initial.empty()) {
            const std::uint32_t zero = 0;
            if (const int err = m->update_host(&zero, initial.data(), maps::kAny); err != 0)
                return make_error(
                    ErrorCode::kInvalidArgument,
                    fmt::format("map '{}': writing its initial data failed ({})", ms.name, maps::errno_name(err)));
        }
        // libbpf freezes read-only global data (.rodata*, .kconfig) after writing it.
        if (info && (info->origin == object::MapOrigin::Kconfig ||
                     (info->origin == object::MapOrigin::GlobalData && (ms.flags & maps::kFRdonlyProg) != 0))) {
            if (const int err = m->freeze(); err != 0)
                return make_error(ErrorCode::kInvalidArgument,
                                  fmt::format("map '{}': freeze failed ({})", ms.name, maps::errno_name(err)));
        }
        obj->maps_.push_back(std::move(m));
    }

    // Kernel symbols cannot be resolved outside the kernel.
    for (const object::ProgramSpec& ps : s.programs) {
        for (const object::Relocation& r : ps.relocations) {
            if (r.kind != object::RelocationKind::Ksym && r.kind != object::RelocationKind::KfuncCall) continue;
            bool weak = false;
            for (const object::ExternSpec& ext : s.externs)
                if (ext.name == r.symbol) weak = ext.weak;
            if (weak && r.kind == object::RelocationKind::Ksym) continue;  // an unresolved weak ksym reads as 0
            return make_error(
                ErrorCode::kUnsupported,
                fmt::format("program '{}': refers to the kernel {} '{}' (__ksym), which only the "
                            "Linux kernel can resolve",
                            ps.name, r.kind == object::RelocationKind::KfuncCall ? "function" : "symbol", r.symbol),
                at_insn(r.insn));
        }
    }

    // Programs.
    const HelperTable* helpers = options.helpers ? options.helpers : &standard_helpers();
    for (const object::ProgramSpec& ps : s.programs) {
        ProgramEnv env;
        env.helpers = helpers;
        env.maps = obj->maps_;
        env.prog_type = static_cast<std::uint32_t>(ps.type);
        auto program = Program::load(ps.insns, env);
        if (!program) {
            Error err = program.error();
            err.message = fmt::format("program '{}': {}", ps.name, err.message);
            return std::unexpected(std::move(err));
        }
        std::optional<verifier::VerifyReport> report;
        if (options.verify != LoadOptions::Verify::Off) {
            // Read-only maps as the program will see them (frozen after their initial data was written).
            auto vo = verify_options(s, ps, options, [&](std::size_t i) {
                const auto& m = obj->maps_[i];
                std::vector<std::uint8_t> value(m->spec().value_size);
                const std::uint32_t zero = 0;
                if (m->lookup_copy(&zero, value.data()) != 0) value.clear();
                return value;
            });
            report = verifier::verify(ps.insns, vo);
            if (!report->accepted && options.verify == LoadOptions::Verify::Required) {
                const verifier::Finding& f = report->findings.front();
                Error err{ErrorCode::kVerify, fmt::format("program '{}': verifier: {}", ps.name, f.to_string()),
                          at_insn(f.insn)};
                return std::unexpected(std::move(err));
            }
        }
        // Native code (LoadOptions::compile_native): checked code unless the verifier proved the program safe
        // without kernel-pointer loads (LoadedProgram::runs_unchecked).
        std::string native_error;
        if (options.compile_native) {
            bool unchecked = report && report->accepted;
            if (unchecked)
                for (const auto& f : report->facts) unchecked = unchecked && !f.probe_mem;
            auto code = options.compile_native(*program, report && report->accepted ? &*report : nullptr, !unchecked,
                                               options.unprivileged);
            if (code)
                program->set_native(std::move(*code));
            else
                native_error = code.error().message;
        }
        auto loaded =
            std::make_shared<LoadedProgram>(&ps, std::move(*program), next_program_id.fetch_add(1), std::move(report));
        loaded->native_error_ = std::move(native_error);
        obj->programs_.push_back(std::move(loaded));
    }

    // Static slots: `.values = { [i] = &prog_or_map }`.
    for (std::size_t i = 0; i < s.maps.size() && i < s.map_info.size(); ++i) {
        for (const object::MapSlot& slot : s.map_info[i].initial_slots) {
            const std::string& name = s.maps[i].name;
            if (slot.is_program) {
                if (s.maps[i].type != maps::MapType::ProgArray)
                    return make_error(ErrorCode::kInvalidArgument,
                                      fmt::format("map '{}': program slots need a prog_array", name));
                std::shared_ptr<LoadedProgram> target;
                for (const auto& p : obj->programs_)
                    if (p->name() == slot.target) target = p;
                if (!target)
                    return make_error(ErrorCode::kNotFound,
                                      fmt::format("map '{}': slot {} names program '{}', which the object does not "
                                                  "define",
                                                  name, slot.index, slot.target));
                auto* pa = static_cast<maps::ProgArrayMap*>(obj->maps_[i].get());
                if (const int err = pa->set(slot.index, target); err != 0)
                    return make_error(ErrorCode::kInvalidArgument,
                                      fmt::format("map '{}': storing program '{}' in slot {} failed ({})", name,
                                                  slot.target, slot.index, maps::errno_name(err)));
            } else {
                const auto inner_index = s.find_map(slot.target);
                if (!inner_index)
                    return make_error(ErrorCode::kNotFound,
                                      fmt::format("map '{}': slot {} names map '{}', which the object does not define",
                                                  name, slot.index, slot.target));
                auto* outer = dynamic_cast<maps::MapInMap*>(obj->maps_[i].get());
                if (!outer || s.maps[i].key_size != sizeof(std::uint32_t))
                    return make_error(ErrorCode::kInvalidArgument,
                                      fmt::format("map '{}': map slots need an array_of_maps or hash_of_maps with "
                                                  "4-byte keys",
                                                  name));
                const std::uint32_t key = slot.index;
                if (const int err = outer->set_inner(&key, obj->maps_[*inner_index]); err != 0)
                    return make_error(ErrorCode::kInvalidArgument,
                                      fmt::format("map '{}': storing map '{}' in slot {} failed ({})", name,
                                                  slot.target, slot.index, maps::errno_name(err)));
            }
        }
    }
    return obj;
}

}  // namespace xbpf::vm
