// CO-RE (compile once, run everywhere): resolving a program's CO-RE relocation records (ProgramSpec::
// core_relocations, from .BTF.ext) against a target BTF, the running kernel's (/sys/kernel/btf/vmlinux) or any
// other, and patching the instructions. Semantics follow libbpf's relo_core.c (bpf_core_calc_relo_insn,
// bpf_core_patch_insn): candidates are the target types of the same kind whose name matches the local type's
// "essential" name (the part before "___"), fields are matched by name along the access string, and a relocation
// that has no match poisons its instruction (a call to helper 0xbad2310, which no kernel or xbpf defines), except
// for the *_exists kinds, which become 0.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "object/object_spec.hpp"

namespace xbpf::object {

/// The helper id libbpf writes into an instruction whose CO-RE relocation cannot be resolved (0xbad2310).
inline constexpr std::int32_t kCorePoisonHelper = 0xbad2310;

/// A target BTF prepared for CO-RE: types indexed by essential name. Immutable once built. When it is the object's
/// own BTF (the same pointer as the local one), each local type resolves to itself: the compiled values.
class CoreTarget {
  public:
    /// Index `btf` (any BTF: the kernel's, or an object's own).
    explicit CoreTarget(std::shared_ptr<const struct btf> btf);
    /// The running kernel's BTF (/sys/kernel/btf/vmlinux); kNotFound when the kernel has none.
    static Result<CoreTarget> kernel();

    [[nodiscard]] const struct btf* btf() const { return btf_.get(); }
    /// Type ids whose essential name is `name` (any kind), in id order.
    [[nodiscard]] const std::vector<std::uint32_t>& candidates(std::string_view name) const;

  private:
    std::shared_ptr<const struct btf> btf_;
    std::map<std::string, std::vector<std::uint32_t>, std::less<>> by_name_;
};

/// The outcome of one CO-RE relocation.
struct CoreValue {
    bool poison = false;            ///< no target matched (and the kind is not an *_exists check)
    std::uint64_t local = 0;        ///< the value for the local (compile-time) BTF: what the instruction holds now
    std::uint64_t target = 0;       ///< the value for the target BTF: what the instruction gets
    std::uint32_t local_size = 0;   ///< FieldByteOffset on a non-bitfield: the field's size locally ...
    std::uint32_t target_size = 0;  ///< ... and in the target, to adjust the width of a load or store
    bool validate = true;  ///< the instruction must hold `local` before patching (not for bitfield offsets/sizes)
};

/// Compute one relocation. Errors: malformed records (bad access string, type id), ambiguous matches.
Result<CoreValue> resolve_core_relocation(const CoreRelocation& relo, const struct btf* local,
                                          const CoreTarget& target);

/// A copy of `program` with every CO-RE relocation applied (immediates, offsets, load widths, or poison).
/// The records stay in the result, for diagnostics. Errors name the program and instruction.
Result<ProgramSpec> apply_core_relocations(const ProgramSpec& program, const struct btf* local,
                                           const CoreTarget& target);

/// apply_core_relocations on every program of `spec`, with the object's own BTF as the local one.
Result<ObjectSpec> apply_core_relocations(const ObjectSpec& spec, const CoreTarget& target);

/// The part of a type or field name before "___" (libbpf's flavours: "task_struct___old" -> "task_struct").
std::string_view core_essential_name(std::string_view name);

}  // namespace xbpf::object
