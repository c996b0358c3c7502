// Writing a relocatable BPF ELF object (the inverse of parse_object for the simplest objects): one program in one
// executable section, a global FUNC symbol for it, local FUNC symbols for the functions it calls, and a "license"
// section — what `clang -target bpf -c` emits for a map-free program, so llvm-objdump, libbpf and parse_object all
// read it. Built through libelf (elfutils), which lays out the headers and section table.
//
// Out of scope: maps, global data, BTF. An lddw with a pseudo source (map_fd, map_value, btf_id, func, map_idx,
// map_idx_value) would need a relocation against a map or function symbol, so it is refused (kUnsupported) rather
// than written as an object that no loader would relocate correctly; so is callx and a kfunc call.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "isa/instruction.hpp"

namespace xbpf::object {

/// What write_elf_object puts in the object.
struct ElfProgramInput {
    std::string section = ".text";  ///< the program's section; libbpf's naming ("xdp", "socket", ...) sets its type
    std::string name = "prog";      ///< the global FUNC symbol of the entry function (at offset 0)
    std::string license = "GPL";    ///< contents of the "license" section (written NUL-terminated); "" for none
    std::vector<isa::RawInsn> insns;
};

/// The bytes of a little-endian ELF64 EM_BPF ET_REL object holding `input`. Local calls (`call src=1`) stay
/// pc-relative, as clang leaves calls to static functions in the same section; each call target gets a local FUNC
/// symbol "<name>_<slot>" so that it is a function of its own (and the entry symbol's size ends before it).
/// Errors: empty or undecodable program (kInvalidInstruction, naming the instruction), a call target outside the
/// program, a pseudo lddw / callx / kfunc call (kUnsupported), an empty or over-long section or symbol name
/// (kInvalidArgument), libelf failures (kIo).
Result<std::vector<std::uint8_t>> write_elf_object(const ElfProgramInput& input);

}  // namespace xbpf::object
