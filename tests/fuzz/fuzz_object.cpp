// Fuzz target: bytes -> object::parse_object (the ELF/BTF object loader).
//
// Seeds: the clang-built objects of tests/programs (build/tests/programs/*.bpf.o) and any libbpf-tools object.
// The parser reads hostile input through libelf and libbpf's BTF parser and checks everything they hand back.
// Properties:
//  1. parse_object returns: no crash, no sanitizer report, no read outside the input.
//  2. An error is kParse (malformed) or kUnsupported (valid but not handled), has a message, names the input and,
//     for kParse, a byte offset.
//  3. A success is consistent: maps, map_info and map_initial_data are parallel; every program's functions tile its
//     instructions; every relocation, line, func and CO-RE record points inside the program; map pseudo loads name
//     an existing map, map-value loads an offset inside the value; local calls and function addresses land on the
//     start of a placed function.
//  4. CO-RE resolution of a successfully parsed object against its own BTF (hostile local types on both sides)
//     returns, and keeps every program's length.
#include <bpf/libbpf.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_support.hpp"
#include "object/core.hpp"
#include "object/object_spec.hpp"

namespace {

using namespace xbpf;

// libbpf prints a warning for every BTF it rejects; that is expected here.
int quiet(enum libbpf_print_level, const char*, va_list) { return 0; }
const bool kQuiet = [] {
    libbpf_set_print(quiet);
    return true;
}();

void check_program(const object::ObjectSpec& spec, const object::ProgramSpec& p) {
    const std::size_t n = p.insns.size();
    XBPF_FUZZ_CHECK(n > 0, "program {} is empty", p.name);
    std::size_t covered = 0;
    for (const object::FunctionRange& f : p.functions) {
        XBPF_FUZZ_CHECK(f.start == covered && f.count > 0, "{}: function {} at {} (+{}), expected at {}", p.name,
                        f.name, f.start, f.count, covered);
        covered += f.count;
    }
    XBPF_FUZZ_CHECK(covered == n, "{}: functions cover {} of {} slots", p.name, covered, n);
    auto is_function_start = [&](std::int64_t t) {
        for (const object::FunctionRange& f : p.functions)
            if (static_cast<std::int64_t>(f.start) == t) return true;
        return false;
    };
    for (const object::Relocation& r : p.relocations) {
        XBPF_FUZZ_CHECK(r.insn < n, "{}: relocation at {} of {}", p.name, r.insn, n);
        const isa::RawInsn& insn = p.insns[r.insn];
        switch (r.kind) {
            case object::RelocationKind::Map:
            case object::RelocationKind::MapValue: {
                XBPF_FUZZ_CHECK(r.insn + 1 < n && insn.opcode == 0x18, "{}: map relocation at {} is no lddw", p.name,
                                r.insn);
                XBPF_FUZZ_CHECK(r.map_index < spec.maps.size() && insn.imm == static_cast<std::int32_t>(r.map_index),
                                "{}: map index {} of {}", p.name, r.map_index, spec.maps.size());
                if (r.kind == object::RelocationKind::MapValue) {
                    XBPF_FUZZ_CHECK(insn.src == isa::kPseudoMapIdxValue, "{}: map value src {}", p.name, insn.src);
                    XBPF_FUZZ_CHECK(r.offset <= spec.maps[r.map_index].value_size, "{}: offset {} past value size {}",
                                    p.name, r.offset, spec.maps[r.map_index].value_size);
                } else {
                    XBPF_FUZZ_CHECK(insn.src == isa::kPseudoMapIdx, "{}: map src {}", p.name, insn.src);
                }
                break;
            }
            case object::RelocationKind::Call:
            case object::RelocationKind::FuncAddress: {
                const std::int64_t target = static_cast<std::int64_t>(r.insn) + insn.imm + 1;
                XBPF_FUZZ_CHECK(target == static_cast<std::int64_t>(r.target) && r.target < n,
                                "{}: call at {} goes to {}, recorded {}", p.name, r.insn, target, r.target);
                XBPF_FUZZ_CHECK(is_function_start(target), "{}: call or function address {} is not a function start",
                                p.name, target);
                break;
            }
            case object::RelocationKind::Ksym:
            case object::RelocationKind::KfuncCall: break;
        }
    }
    for (const object::LineInfo& li : p.line_info) XBPF_FUZZ_CHECK(li.insn < n, "{}: line info at {}", p.name, li.insn);
    for (const object::FuncInfo& fi : p.func_info) XBPF_FUZZ_CHECK(fi.insn < n, "{}: func info at {}", p.name, fi.insn);
    for (const object::CoreRelocation& c : p.core_relocations)
        XBPF_FUZZ_CHECK(c.insn < n, "{}: CO-RE relocation at {}", p.name, c.insn);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    (void)kQuiet;
    auto spec = object::parse_object(std::span<const std::uint8_t>(data, size), "fuzz.o");
    if (!spec) {
        const Error& e = spec.error();
        XBPF_FUZZ_CHECK(e.code == ErrorCode::kParse || e.code == ErrorCode::kUnsupported, "error code {}: {}",
                        static_cast<int>(e.code), e.to_string());
        XBPF_FUZZ_CHECK(!e.message.empty(), "error without a message");
        if (e.code == ErrorCode::kParse)
            XBPF_FUZZ_CHECK(e.where.file == "fuzz.o" && e.where.byte_offset.has_value(),
                            "parse error without file and offset: {}", e.to_string());
        return 0;
    }
    XBPF_FUZZ_CHECK(spec->maps.size() == spec->map_info.size() && spec->maps.size() == spec->map_initial_data.size(),
                    "maps {}, map_info {}, map_initial_data {}", spec->maps.size(), spec->map_info.size(),
                    spec->map_initial_data.size());
    for (const object::ProgramSpec& p : spec->programs) check_program(*spec, p);

    if (spec->btf != nullptr) {
        const object::CoreTarget self(spec->btf);
        auto applied = object::apply_core_relocations(*spec, self);
        if (applied) {
            for (std::size_t i = 0; i < spec->programs.size(); ++i)
                XBPF_FUZZ_CHECK(applied->programs[i].insns.size() == spec->programs[i].insns.size(),
                                "CO-RE changed the length of {}", spec->programs[i].name);
        } else {
            XBPF_FUZZ_CHECK(!applied.error().message.empty(), "CO-RE error without a message");
        }
    }
    return 0;
}
