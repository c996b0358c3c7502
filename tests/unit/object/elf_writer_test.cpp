// write_elf_object: the objects it writes parse back (parse_object) to the same instructions, with the section's
// program type, the license, and local calls linked as clang's would be; programs that need relocations are refused.
#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

#include "isa/assembler.hpp"
#include "object/elf_writer.hpp"
#include "object/object_spec.hpp"

namespace xbpf::object {
namespace {

std::vector<isa::RawInsn> assemble(std::string_view text) {
    auto r = isa::assemble(text);
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? *r : std::vector<isa::RawInsn>{};
}

ElfProgramInput input(std::string section, std::string name, std::string_view text) {
    ElfProgramInput in;
    in.section = std::move(section);
    in.name = std::move(name);
    in.insns = assemble(text);
    return in;
}

TEST(ElfWriter, HeaderIsLittleEndianElf64BpfRelocatable) {
    auto bytes = write_elf_object(input("socket", "prog", "r0 = 0\nexit\n"));
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    ASSERT_GE(bytes->size(), sizeof(Elf64_Ehdr));
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes->data(), sizeof eh);
    EXPECT_EQ(0, std::memcmp(eh.e_ident, ELFMAG, SELFMAG));
    EXPECT_EQ(ELFCLASS64, eh.e_ident[EI_CLASS]);
    EXPECT_EQ(ELFDATA2LSB, eh.e_ident[EI_DATA]);
    EXPECT_EQ(ET_REL, eh.e_type);
    EXPECT_EQ(EM_BPF, eh.e_machine);
}

TEST(ElfWriter, RoundTripsThroughTheObjectParser) {
    const auto in = input("xdp", "pass_all", "r0 = 2\nr1 = 0x1122334455667788 ll\nexit\n");
    auto bytes = write_elf_object(in);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    auto spec = parse_object(*bytes, "pass_all.o");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    EXPECT_EQ("GPL", spec->license);
    EXPECT_TRUE(spec->maps.empty());
    ASSERT_EQ(1u, spec->programs.size());
    const ProgramSpec& p = spec->programs[0];
    EXPECT_EQ("pass_all", p.name);
    EXPECT_EQ("xdp", p.section);
    EXPECT_EQ(ProgramType::Xdp, p.type);
    EXPECT_EQ(in.insns, p.insns);  // 4 slots: mov, lddw (2), exit
    EXPECT_EQ(4u, p.insns.size());
    ASSERT_EQ(1u, p.functions.size());
    EXPECT_EQ(4u, p.functions[0].count);
}

TEST(ElfWriter, LocalCallTargetsBecomeFunctions) {
    // entry calls the function at slot 3 (pc 1 + 1 + imm 1); it must survive linking as a sub-program.
    const auto in = input("socket", "entry", "r1 = 5\ncall local +1\nexit\nr0 = r1\nr0 *= 3\nexit\n");
    auto bytes = write_elf_object(in);
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    auto spec = parse_object(*bytes, "calls.o");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    ASSERT_EQ(1u, spec->programs.size());
    const ProgramSpec& p = spec->programs[0];
    ASSERT_EQ(2u, p.functions.size());
    EXPECT_EQ("entry", p.functions[0].name);
    EXPECT_EQ(3u, p.functions[0].count);
    EXPECT_EQ("entry_3", p.functions[1].name);
    EXPECT_EQ(3u, p.functions[1].start);
    EXPECT_EQ(in.insns, p.insns);  // the sub-program lands where it was: the call's imm is unchanged
}

TEST(ElfWriter, TextSectionHoldsNoProgram) {
    // libbpf's convention, kept by parse_object: functions in .text are sub-programs only.
    auto bytes = write_elf_object(input(".text", "f", "r0 = 0\nexit\n"));
    ASSERT_TRUE(bytes.has_value()) << bytes.error().to_string();
    auto spec = parse_object(*bytes, "text.o");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    EXPECT_TRUE(spec->programs.empty());
}

TEST(ElfWriter, OtherLicenseAndNone) {
    auto in = input("socket", "p", "r0 = 0\nexit\n");
    in.license = "Dual BSD/GPL";
    auto bytes = write_elf_object(in);
    ASSERT_TRUE(bytes.has_value());
    auto spec = parse_object(*bytes, "l.o");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    EXPECT_EQ("Dual BSD/GPL", spec->license);
    in.license.clear();
    bytes = write_elf_object(in);
    ASSERT_TRUE(bytes.has_value());
    spec = parse_object(*bytes, "l.o");
    ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
    EXPECT_EQ("", spec->license);
}

TEST(ElfWriter, RefusesWhatNeedsRelocations) {
    for (const char* text :
         {"lddw %r1, map_fd 5\nmov %r0, 0\nexit\n", "lddw %r1, map_value 5, 8\nmov %r0, 0\nexit\n",
          "lddw %r1, map_idx 0\nmov %r0, 0\nexit\n", "lddw %r1, func +1\nexit\nexit\n", "call kfunc 17\nexit\n"}) {
        auto bytes = write_elf_object(input("socket", "p", text));
        ASSERT_FALSE(bytes.has_value()) << text;
        EXPECT_EQ(ErrorCode::kUnsupported, bytes.error().code) << text;
        EXPECT_EQ(0u, bytes.error().where.insn.value_or(99)) << text;
    }
}

TEST(ElfWriter, RefusesBadInput) {
    ElfProgramInput empty;
    empty.section = "socket";
    EXPECT_FALSE(write_elf_object(empty).has_value());
    EXPECT_FALSE(write_elf_object(input("", "p", "exit\n")).has_value());
    EXPECT_FALSE(write_elf_object(input("socket", "", "exit\n")).has_value());
    EXPECT_FALSE(write_elf_object(input("license", "p", "exit\n")).has_value());
    ElfProgramInput bad_opcode;
    bad_opcode.section = "socket";
    bad_opcode.insns = {isa::RawInsn{0xff, 0, 0, 0, 0}};
    auto r = write_elf_object(bad_opcode);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(0u, r.error().where.insn.value_or(99));
}

}  // namespace
}  // namespace xbpf::object
