// Programs: one per global FUNC symbol in an executable section other than .text. Each program is made
// self-contained the way libbpf's bpf_object__relocate does it: the sub-programs it calls (static functions in
// .text or in its own section, global functions anywhere) are appended after it, call and function-address
// immediates are rewritten to point at the appended copies, and lddw instructions that reference maps, global data
// or .kconfig externs become map-index pseudo loads. BTF.ext records follow the code they describe.
#include <bpf/btf.h>
#include <fmt/format.h>
#include <gelf.h>

#include <algorithm>
#include <limits>

#include "isa/opcodes.hpp"
#include "object/parse_context.hpp"

namespace xbpf::object::detail {

namespace {

constexpr std::uint8_t kOpLddw = 0x18;  // BPF_LD | BPF_IMM | BPF_DW
constexpr std::uint8_t kOpCall = 0x85;  // BPF_JMP | BPF_CALL
constexpr std::uint8_t kPseudoCall = 1;
constexpr std::uint8_t kPseudoKfuncCall = 2;
constexpr std::size_t kSlot = sizeof(isa::RawInsn);
/// Limits after linking: one program (the kernel's BPF_COMPLEXITY_LIMIT_INSNS), and all programs together. Each
/// program gets its own copy of every sub-program it calls, so a hostile object of N functions calling each other
/// in a chain would otherwise expand to N^2 instructions.
constexpr std::size_t kMaxProgramSlots = 1'000'000;
constexpr std::size_t kMaxTotalSlots = 16'000'000;

/// Relocations of each executable section, by byte offset, validated once.
using CodeRelocs = std::map<std::uint64_t, ElfRelocation>;

isa::RawInsn load_insn(std::span<const std::uint8_t> code, std::uint64_t slot) {
    isa::RawInsn insn;
    std::memcpy(&insn, code.data() + slot * kSlot, kSlot);
    return insn;
}

class Linker {
  public:
    Linker(ParseContext& ctx, std::map<std::size_t, CodeRelocs>& relocs) : ctx_(ctx), relocs_(relocs) {}

    Result<ProgramSpec> link(std::size_t section_index, const Function& entry);

  private:
    struct Placed {
        std::size_t section;
        Function function;
        std::size_t out_start;
    };

    /// Where `fn` of `section` starts in the program, appending it if needed.
    std::size_t place(std::size_t section, const Function& fn);
    /// The function of `section` starting at `slot`, or an error.
    Result<const Function*> function_at(std::size_t section, std::int64_t slot, std::string_view rel_section,
                                        std::uint64_t offset, std::string_view what) const;
    /// Out index of the function starting at slot `slot` of `section`, appending it if needed.
    Result<std::size_t> target_index(std::size_t section, std::int64_t slot, std::string_view err_section,
                                     std::uint64_t err_offset, std::string_view what);
    Result<void> relocate_lddw(const Placed& block, std::size_t i, const ElfRelocation& rel);
    Result<void> relocate_call(const Placed& block, std::size_t i, const ElfRelocation* rel);
    Result<void> attach_btf_ext();
    /// Name of the placed function containing out index `index`.
    [[nodiscard]] std::string function_name_at(std::size_t index) const;
    /// A pc-relative immediate from `pc` to `target`, checked to fit.
    Result<std::int32_t> relative(std::size_t pc, std::size_t target, std::string_view section, std::uint64_t offset);

    ParseContext& ctx_;
    std::map<std::size_t, CodeRelocs>& relocs_;
    ProgramSpec prog_;
    std::vector<Placed> placed_;
    std::map<std::pair<std::size_t, std::uint64_t>, std::size_t> where_;  // (section, start slot) -> out start
};

std::size_t Linker::place(std::size_t section, const Function& fn) {
    const auto key = std::make_pair(section, fn.start);
    if (auto it = where_.find(key); it != where_.end()) return it->second;
    const std::size_t out_start = prog_.insns.size();
    const auto code = ctx_.section(section).data;
    for (std::uint64_t s = 0; s < fn.count; ++s) prog_.insns.push_back(load_insn(code, fn.start + s));
    where_[key] = out_start;
    placed_.push_back({section, fn, out_start});
    prog_.functions.push_back({ctx_.elf.symbols()[fn.symbol].name, ctx_.section(section).name, out_start,
                               static_cast<std::size_t>(fn.count)});
    return out_start;
}

Result<const Function*> Linker::function_at(std::size_t section, std::int64_t slot, std::string_view err_section,
                                            std::uint64_t offset, std::string_view what) const {
    // Calls and function addresses must name the first instruction of a function, as clang emits them (the
    // kernel would otherwise split the function into two sub-programs).
    const auto it = ctx_.functions.find(section);
    if (it != ctx_.functions.end() && slot >= 0) {
        const auto s = static_cast<std::uint64_t>(slot);
        const auto& fns = it->second;  // sorted by start
        const auto fn = std::lower_bound(fns.begin(), fns.end(), s,
                                         [](const Function& f, std::uint64_t start) { return f.start < start; });
        if (fn != fns.end() && fn->start == s) return &*fn;
    }
    return ctx_.error(err_section, offset,
                      fmt::format("{} targets instruction {} of '{}', which is not the start of a function", what, slot,
                                  ctx_.section(section).name));
}

Result<std::size_t> Linker::target_index(std::size_t section, std::int64_t slot, std::string_view err_section,
                                         std::uint64_t err_offset, std::string_view what) {
    auto fn = function_at(section, slot, err_section, err_offset, what);
    if (!fn) return std::unexpected(fn.error());
    const Function target = **fn;
    const std::size_t at = place(section, target);
    if (prog_.insns.size() > kMaxProgramSlots)
        return ctx_.error(
            err_section, err_offset,
            fmt::format("program '{}' exceeds {} instructions with its sub-programs", prog_.name, kMaxProgramSlots));
    return at;
}

std::string Linker::function_name_at(std::size_t index) const {
    for (const FunctionRange& f : prog_.functions)
        if (index >= f.start && index - f.start < f.count) return f.name;
    return {};
}

Result<std::int32_t> Linker::relative(std::size_t pc, std::size_t target, std::string_view section,
                                      std::uint64_t offset) {
    const std::int64_t rel = static_cast<std::int64_t>(target) - static_cast<std::int64_t>(pc) - 1;
    if (rel < std::numeric_limits<std::int32_t>::min() || rel > std::numeric_limits<std::int32_t>::max())
        return ctx_.error(section, offset, "program too large for a 32-bit call offset");
    return static_cast<std::int32_t>(rel);
}

Result<void> Linker::relocate_lddw(const Placed& block, std::size_t i, const ElfRelocation& rel) {
    const ElfSection& sec = ctx_.section(block.section);
    const std::uint64_t byte = (block.function.start + i) * kSlot;
    const std::size_t pc = block.out_start + i;
    const ElfSymbol& sym = ctx_.elf.symbols()[rel.symbol];
    const std::int32_t addend = prog_.insns[pc].imm;
    Relocation r;
    r.insn = pc;
    r.symbol = sym.name;

    if (sym.shndx == SHN_UNDEF) {
        const auto found = ctx_.extern_index.find(sym.name);
        if (sym.index == 0 || found == ctx_.extern_index.end())
            return ctx_.error(sec.name, byte,
                              fmt::format("lddw relocation against undefined local symbol '{}'", sym.name));
        const ExternSpec& ext = ctx_.spec.externs[found->second];
        if (ext.kind == ExternSpec::Kind::Kconfig) {
            const std::int64_t offset = static_cast<std::int64_t>(ext.offset) + addend;
            const std::uint32_t value_size = ctx_.spec.maps[*ctx_.kconfig_map].value_size;
            if (offset < 0 || offset > static_cast<std::int64_t>(value_size))
                return ctx_.error(sec.name, byte,
                                  fmt::format("lddw relocation against '{}': offset {} is outside .kconfig ({} bytes)",
                                              sym.name, offset, value_size));
            r.kind = RelocationKind::MapValue;
            r.map_index = *ctx_.kconfig_map;
            r.offset = static_cast<std::uint64_t>(offset);
            prog_.insns[pc].src = isa::kPseudoMapIdxValue;
            prog_.insns[pc].imm = static_cast<std::int32_t>(r.map_index);
            prog_.insns[pc + 1].imm = static_cast<std::int32_t>(r.offset);
        } else {
            r.kind = RelocationKind::Ksym;  // resolved by the loader (kallsyms address or kernel BTF id)
        }
        prog_.relocations.push_back(std::move(r));
        return {};
    }
    if (sym.shndx >= SHN_LORESERVE)
        return ctx_.error(sec.name, byte,
                          fmt::format("lddw relocation against '{}' in special section {:#x}", sym.name, sym.shndx));
    const ElfSection& target = ctx_.section(sym.shndx);
    const std::int64_t offset = static_cast<std::int64_t>(sym.value) + addend;
    switch (ctx_.kinds[sym.shndx]) {
        case SectionKind::Program: {
            if (sym.value % kSlot != 0 || addend % static_cast<std::int32_t>(kSlot) != 0)
                return ctx_.error(sec.name, byte,
                                  fmt::format("function address of '{}' is not instruction-aligned", sym.name));
            auto t =
                target_index(sym.shndx, offset / static_cast<std::int64_t>(kSlot), sec.name, byte, "function address");
            if (!t) return std::unexpected(t.error());
            auto imm = relative(pc, *t, sec.name, byte);
            if (!imm) return std::unexpected(imm.error());
            prog_.insns[pc].src = isa::kPseudoFunc;
            prog_.insns[pc].imm = *imm;
            prog_.insns[pc + 1].imm = 0;
            r.kind = RelocationKind::FuncAddress;
            r.target = *t;
            r.symbol = function_name_at(*t);
            break;
        }
        case SectionKind::LegacyMaps:
        case SectionKind::BtfMaps: {
            const auto map = ctx_.map_at.find({sym.shndx, static_cast<std::uint64_t>(offset)});
            if (offset < 0 || map == ctx_.map_at.end())
                return ctx_.error(sec.name, byte,
                                  fmt::format("lddw relocation against '{}': no map is defined at offset {} of '{}'",
                                              sym.name, offset, target.name));
            prog_.insns[pc].src = isa::kPseudoMapIdx;
            prog_.insns[pc].imm = static_cast<std::int32_t>(map->second);
            prog_.insns[pc + 1].imm = 0;
            r.kind = RelocationKind::Map;
            r.map_index = map->second;
            break;
        }
        case SectionKind::Data: {
            if (offset < 0 || static_cast<std::uint64_t>(offset) > target.size)
                return ctx_.error(sec.name, byte,
                                  fmt::format("lddw relocation against '{}': offset {} is outside '{}' ({} bytes)",
                                              sym.name, offset, target.name, target.size));
            const std::uint32_t map = ctx_.data_map.at(sym.shndx);
            prog_.insns[pc].src = isa::kPseudoMapIdxValue;
            prog_.insns[pc].imm = static_cast<std::int32_t>(map);
            prog_.insns[pc + 1].imm = static_cast<std::int32_t>(offset);
            r.kind = RelocationKind::MapValue;
            r.map_index = map;
            r.offset = static_cast<std::uint64_t>(offset);
            break;
        }
        case SectionKind::Other:
            return ctx_.error(sec.name, byte,
                              fmt::format("lddw relocation against '{}' in section '{}', which is not a map, global "
                                          "data or program section",
                                          sym.name, target.name));
    }
    prog_.relocations.push_back(std::move(r));
    return {};
}

Result<void> Linker::relocate_call(const Placed& block, std::size_t i, const ElfRelocation* rel) {
    const ElfSection& sec = ctx_.section(block.section);
    const std::uint64_t slot = block.function.start + i;
    const std::uint64_t byte = slot * kSlot;
    const std::size_t pc = block.out_start + i;
    const isa::RawInsn insn = prog_.insns[pc];
    Relocation r;
    r.insn = pc;

    if (rel != nullptr) {
        const ElfSymbol& sym = ctx_.elf.symbols()[rel->symbol];
        r.symbol = sym.name;
        if (sym.shndx == SHN_UNDEF) {  // a kernel function (kfunc) declared extern __ksym
            if (sym.index == 0) return ctx_.error(sec.name, byte, "call relocation against the null symbol");
            prog_.insns[pc].src = kPseudoKfuncCall;
            r.kind = RelocationKind::KfuncCall;
            prog_.relocations.push_back(std::move(r));
            return {};
        }
        if (insn.src != kPseudoCall)
            return ctx_.error(sec.name, byte,
                              fmt::format("relocation against '{}' at a helper call (src {}), not a bpf-to-bpf call",
                                          sym.name, static_cast<int>(insn.src)));
        if (sym.shndx >= SHN_LORESERVE || ctx_.kinds[sym.shndx] != SectionKind::Program)
            return ctx_.error(sec.name, byte,
                              fmt::format("call relocation against '{}', which is not in a program section", sym.name));
        if (sym.value % kSlot != 0)
            return ctx_.error(sec.name, byte, fmt::format("call target '{}' is not instruction-aligned", sym.name));
        // For global functions imm is -1 and the symbol is the callee; for static ones the symbol is the section
        // and imm + 1 is the callee's slot (libbpf: sub_insn_idx = sym_off / 8 + imm + 1).
        const std::int64_t target_slot = static_cast<std::int64_t>(sym.value / kSlot) + insn.imm + 1;
        auto t = target_index(sym.shndx, target_slot, sec.name, byte, "call");
        if (!t) return std::unexpected(t.error());
        auto imm = relative(pc, *t, sec.name, byte);
        if (!imm) return std::unexpected(imm.error());
        prog_.insns[pc].imm = *imm;
        r.target = *t;
    } else {
        // A call to a static function in the same section needs no relocation: imm is already pc-relative.
        const std::int64_t target_slot = static_cast<std::int64_t>(slot) + insn.imm + 1;
        auto t = target_index(block.section, target_slot, sec.name, byte, "call");
        if (!t) return std::unexpected(t.error());
        auto imm = relative(pc, *t, sec.name, byte);
        if (!imm) return std::unexpected(imm.error());
        prog_.insns[pc].imm = *imm;
        r.target = *t;
    }
    r.kind = RelocationKind::Call;
    r.symbol = function_name_at(r.target);
    prog_.relocations.push_back(std::move(r));
    return {};
}

Result<void> Linker::attach_btf_ext() {
    const struct btf* btf = ctx_.btf;
    if (btf == nullptr) return {};
    for (const Placed& block : placed_) {
        const ElfSection& sec = ctx_.section(block.section);
        const auto ext = ctx_.btf_ext.find(sec.name);
        if (ext == ctx_.btf_ext.end()) continue;
        // Maps a byte offset in the section to an index in the program, if the block covers it.
        auto to_insn = [&](std::uint32_t insn_off) -> std::optional<std::size_t> {
            const std::uint64_t slot = insn_off / kSlot;
            if (slot < block.function.start || slot - block.function.start >= block.function.count) return std::nullopt;
            return block.out_start + static_cast<std::size_t>(slot - block.function.start);
        };
        for (const RawFuncInfo& fi : ext->second.func_info) {
            const auto insn = to_insn(fi.insn_off);
            if (!insn) continue;
            const btf_type* t = btf__type_by_id(btf, fi.type_id);
            if (t == nullptr || !btf_is_func(t))
                return ctx_.error(".BTF.ext", 0,
                                  fmt::format("func info for '{}' offset {}: type {} is not a BTF FUNC", sec.name,
                                              fi.insn_off, fi.type_id));
            prog_.func_info.push_back({*insn, fi.type_id, btf_name(btf, t->name_off)});
        }
        for (const RawLineInfo& li : ext->second.line_info) {
            const auto insn = to_insn(li.insn_off);
            if (!insn) continue;
            const char* file = btf__name_by_offset(btf, li.file_name_off);
            const char* line = btf__name_by_offset(btf, li.line_off);
            if (file == nullptr || line == nullptr)
                return ctx_.error(
                    ".BTF.ext", 0,
                    fmt::format("line info for '{}' offset {}: string offset out of range", sec.name, li.insn_off));
            prog_.line_info.push_back(
                {*insn, li.file_name_off, li.line_off, li.line_col >> 10, li.line_col & 0x3ff, file, line});
        }
        for (const RawCoreRelo& cr : ext->second.core_relos) {
            const auto insn = to_insn(cr.insn_off);
            if (!insn) continue;
            const char* access = btf__name_by_offset(btf, cr.access_str_off);
            if (access == nullptr || cr.kind > static_cast<std::uint32_t>(CoreRelocKind::TypeMatches) ||
                btf__type_by_id(btf, cr.type_id) == nullptr)
                return ctx_.error(".BTF.ext", 0,
                                  fmt::format("CO-RE relocation for '{}' offset {}: bad kind {}, type {} or access "
                                              "string offset {}",
                                              sec.name, cr.insn_off, cr.kind, cr.type_id, cr.access_str_off));
            prog_.core_relocations.push_back({*insn, static_cast<CoreRelocKind>(cr.kind), cr.type_id, access});
        }
    }
    auto by_insn = [](const auto& a, const auto& b) { return a.insn < b.insn; };
    std::stable_sort(prog_.func_info.begin(), prog_.func_info.end(), by_insn);
    std::stable_sort(prog_.line_info.begin(), prog_.line_info.end(), by_insn);
    std::stable_sort(prog_.core_relocations.begin(), prog_.core_relocations.end(), by_insn);
    return {};
}

Result<ProgramSpec> Linker::link(std::size_t section_index, const Function& entry) {
    const ElfSection& entry_sec = ctx_.section(section_index);
    const ElfSymbol& entry_sym = ctx_.elf.symbols()[entry.symbol];
    prog_.name = entry_sym.name;
    prog_.section = entry_sec.name;
    const SectionInfo info = classify_section(entry_sec.name);
    prog_.type = info.type;
    prog_.expected_attach_type = info.expected_attach_type;
    prog_.attach_target = info.attach_target;
    prog_.prog_flags = info.prog_flags;
    prog_.known_section = info.known;
    prog_.section_offset = entry.start * kSlot;
    place(section_index, entry);

    // placed_ grows while we walk it: every appended function is relocated in turn.
    for (std::size_t b = 0; b < placed_.size(); ++b) {
        const Placed block = placed_[b];
        const ElfSection& sec = ctx_.section(block.section);
        const CodeRelocs& relocs = relocs_[block.section];
        auto reloc_at = [&](std::uint64_t slot) -> const ElfRelocation* {
            const auto it = relocs.find(slot * kSlot);
            return it == relocs.end() ? nullptr : &it->second;
        };
        for (std::size_t i = 0; i < block.function.count; ++i) {
            const std::uint64_t slot = block.function.start + i;
            const isa::RawInsn insn = prog_.insns[block.out_start + i];
            const ElfRelocation* rel = reloc_at(slot);
            if (insn.opcode == kOpLddw) {
                if (i + 1 >= block.function.count)
                    return ctx_.error(sec.name, slot * kSlot,
                                      fmt::format("lddw at the end of function '{}' has no second slot",
                                                  ctx_.elf.symbols()[block.function.symbol].name));
                if (reloc_at(slot + 1) != nullptr)
                    return ctx_.error(sec.name, (slot + 1) * kSlot, "relocation at the second slot of an lddw");
                if (rel != nullptr)
                    if (auto r = relocate_lddw(block, i, *rel); !r) return std::unexpected(r.error());
                ++i;
                continue;
            }
            if (insn.opcode == kOpCall && (insn.src == kPseudoCall || rel != nullptr)) {
                if (auto r = relocate_call(block, i, rel); !r) return std::unexpected(r.error());
                continue;
            }
            if (rel != nullptr)
                return ctx_.error(sec.name, slot * kSlot,
                                  fmt::format("relocation against '{}' at an instruction that is neither lddw nor call "
                                              "(opcode {:#04x})",
                                              ctx_.elf.symbols()[rel->symbol].name, insn.opcode));
        }
    }
    std::stable_sort(prog_.relocations.begin(), prog_.relocations.end(),
                     [](const Relocation& a, const Relocation& b) { return a.insn < b.insn; });
    if (auto r = attach_btf_ext(); !r) return std::unexpected(r.error());
    return std::move(prog_);
}

}  // namespace

Result<void> collect_functions(ParseContext& ctx, std::size_t section_index) {
    const ElfSection& sec = ctx.section(section_index);
    const std::uint64_t slots = sec.data.size() / kSlot;
    std::vector<Function> fns;
    for (const std::size_t i : ctx.elf.symbols_in(section_index)) {
        const ElfSymbol& sym = ctx.elf.symbols()[i];
        if (sym.type != STT_FUNC) continue;
        if (sym.value % kSlot != 0 || sym.size % kSlot != 0 || sym.value >= sec.data.size() ||
            sym.size > sec.data.size() - sym.value)
            return ctx.error(sec.name, sym.value,
                             fmt::format("function '{}' [{}, +{}) is misaligned or crosses the end of the {}-byte "
                                         "section",
                                         sym.name, sym.value, sym.size, sec.data.size()));
        fns.push_back({sym.index, sym.value / kSlot, sym.size / kSlot});
    }
    std::sort(fns.begin(), fns.end(), [](const Function& a, const Function& b) {
        return a.start != b.start ? a.start < b.start : a.symbol < b.symbol;
    });
    // A zero-size symbol (hand-written assembly) extends to the next function or the section end.
    for (std::size_t i = 0; i < fns.size(); ++i) {
        if (fns[i].count != 0) continue;
        std::uint64_t end = slots;
        for (std::size_t j = i + 1; j < fns.size(); ++j)
            if (fns[j].start > fns[i].start) {
                end = fns[j].start;
                break;
            }
        fns[i].count = end - fns[i].start;
    }
    for (std::size_t i = 1; i < fns.size(); ++i) {
        const Function& a = fns[i - 1];
        const Function& b = fns[i];
        const bool alias = a.start == b.start && a.count == b.count;
        if (!alias && a.start + a.count > b.start)
            return ctx.error(sec.name, b.start * kSlot,
                             fmt::format("functions '{}' and '{}' overlap", ctx.elf.symbols()[a.symbol].name,
                                         ctx.elf.symbols()[b.symbol].name));
    }
    ctx.functions[section_index] = std::move(fns);
    return {};
}

Result<void> build_programs(ParseContext& ctx) {
    // Validate every code relocation once: inside the section, at an instruction boundary, at most one per slot,
    // and at an lddw (with room for its second slot) or a call.
    std::map<std::size_t, CodeRelocs> relocs;
    for (const auto& [index, fns] : ctx.functions) {
        const ElfSection& sec = ctx.section(index);
        const auto& list = ctx.elf.relocations_for(index);
        if (list.empty()) continue;
        const std::string& rel_name = ctx.section(ctx.elf.relocation_section_for(index)).name;
        CodeRelocs& out = relocs[index];
        for (std::size_t r = 0; r < list.size(); ++r) {
            const ElfRelocation& rel = list[r];
            const std::uint64_t where = r * sizeof(Elf64_Rel);
            if (rel.offset % kSlot != 0 || rel.offset >= sec.data.size())
                return ctx.error(rel_name, where,
                                 fmt::format("relocation offset {} is not an instruction of '{}' ({} bytes)",
                                             rel.offset, sec.name, sec.data.size()));
            const isa::RawInsn insn = load_insn(sec.data, rel.offset / kSlot);
            if (insn.opcode != kOpLddw && insn.opcode != kOpCall)
                return ctx.error(rel_name, where,
                                 fmt::format("relocation at offset {} of '{}' targets opcode {:#04x}, not lddw or call",
                                             rel.offset, sec.name, insn.opcode));
            if (insn.opcode == kOpLddw && sec.data.size() - rel.offset < 2 * kSlot)
                return ctx.error(
                    rel_name, where,
                    fmt::format("relocation at offset {} of '{}' targets a truncated lddw", rel.offset, sec.name));
            if (!out.emplace(rel.offset, rel).second)
                return ctx.error(rel_name, where,
                                 fmt::format("two relocations at offset {} of '{}'", rel.offset, sec.name));
        }
    }
    std::size_t total = 0;
    for (const auto& [index, fns] : ctx.functions) {
        const ElfSection& sec = ctx.section(index);
        if (sec.name == ".text") continue;  // .text holds sub-programs only
        for (const Function& fn : fns) {
            const ElfSymbol& sym = ctx.elf.symbols()[fn.symbol];
            if (sym.bind != STB_GLOBAL && sym.bind != STB_WEAK) continue;  // static: a sub-program
            Linker linker(ctx, relocs);
            auto prog = linker.link(index, fn);
            if (!prog) return std::unexpected(prog.error());
            total += prog->insns.size();
            if (total > kMaxTotalSlots)
                return ctx.error(sec.name, fn.start * kSlot,
                                 fmt::format("the programs exceed {} instructions in total with their sub-programs",
                                             kMaxTotalSlots));
            ctx.spec.programs.push_back(std::move(*prog));
        }
    }
    return {};
}

}  // namespace xbpf::object::detail
