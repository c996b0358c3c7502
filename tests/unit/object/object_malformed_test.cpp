// Malformed and hostile objects: each targeted corruption gives a clear error naming the section and byte offset;
// truncation and byte corruption at many offsets never crash (run under ASan/UBSan in CI) and never read outside
// the input.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <fstream>

#include "object/object_spec.hpp"
#include "object_test_support.hpp"

namespace xbpf::object {
namespace {

using testing::ElfPatcher;

// libbpf warns on stderr about every BTF it rejects; expected here, so silenced while a test runs.
class QuietLibbpf {
  public:
    QuietLibbpf() : previous_(libbpf_set_print(nullptr)) {}
    ~QuietLibbpf() { libbpf_set_print(previous_); }
    QuietLibbpf(const QuietLibbpf&) = delete;
    QuietLibbpf& operator=(const QuietLibbpf&) = delete;

  private:
    libbpf_print_fn_t previous_;
};

// Parses `bytes` and expects an error whose message mentions `section` and `needle`, at `offset` (if given).
void expect_error(const std::vector<std::uint8_t>& bytes, const std::string& section, const std::string& needle,
                  std::optional<std::size_t> offset = std::nullopt) {
    auto r = parse_object(bytes, "bad.bpf.o");
    ASSERT_FALSE(r.has_value()) << "expected an error mentioning '" << needle << "'";
    const Error& e = r.error();
    EXPECT_NE(e.message.find("section '" + section + "'"), std::string::npos) << e.to_string();
    EXPECT_NE(e.message.find(needle), std::string::npos) << e.to_string();
    EXPECT_EQ(e.where.file, "bad.bpf.o");
    ASSERT_TRUE(e.where.byte_offset.has_value()) << e.to_string();
    if (offset) {
        EXPECT_EQ(*e.where.byte_offset, *offset) << e.to_string();
    }
}

#define XBPF_LOAD_BYTES(var, name)                          \
    auto var = ::xbpf::object::testing::read_program(name); \
    if (var.empty()) GTEST_SKIP() << "tests/programs were not built (clang missing?): " << name

TEST(ObjectMalformed, NotAnObject) {
    auto empty = parse_object({}, "empty.o");
    ASSERT_FALSE(empty.has_value());
    EXPECT_EQ(empty.error().code, ErrorCode::kParse);
    std::vector<std::uint8_t> junk(200, 0x41);
    auto j = parse_object(junk, "junk.o");
    ASSERT_FALSE(j.has_value());
    EXPECT_NE(j.error().message.find("not an ELF file"), std::string::npos) << j.error().to_string();

    // A host ELF (this test binary) is not EM_BPF.
    std::ifstream in("/proc/self/exe", std::ios::binary);
    std::vector<std::uint8_t> self((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    self.resize(std::min<std::size_t>(self.size(), 4096));
    auto host = parse_object(self, "self");
    ASSERT_FALSE(host.has_value());
    EXPECT_NE(host.error().message.find("EM_BPF"), std::string::npos) << host.error().to_string();
}

TEST(ObjectMalformed, ProgramSectionSizeNotMultipleOf8) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto sh = elf.shdr(elf.find("xdp"));
    const std::uint64_t size = sh.sh_size;
    sh.sh_size -= 4;
    elf.set_shdr(elf.find("xdp"), sh);
    expect_error(elf.bytes(), "xdp", "not a multiple of 8", size - 8);
}

TEST(ObjectMalformed, SectionDataOutsideTheFile) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto sh = elf.shdr(elf.find(".BTF"));
    sh.sh_size = 1u << 30;
    elf.set_shdr(elf.find(".BTF"), sh);
    expect_error(elf.bytes(), ".BTF", "outside");
}

TEST(ObjectMalformed, RelocationOffsetOutsideTheProgram) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto rel = elf.rel(".relxdp", 1);
    rel.r_offset = 0x100000;
    elf.set_rel(".relxdp", 1, rel);
    expect_error(elf.bytes(), ".relxdp", "relocation offset 1048576 is not an instruction", 16);
    rel.r_offset = 3;  // inside, but not at an instruction boundary
    elf.set_rel(".relxdp", 1, rel);
    expect_error(elf.bytes(), ".relxdp", "relocation offset 3 is not an instruction", 16);
}

TEST(ObjectMalformed, RelocationSymbolOutOfRange) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto rel = elf.rel(".relxdp", 0);
    rel.r_info = ELF64_R_INFO(9999, ELF64_R_TYPE(rel.r_info));
    elf.set_rel(".relxdp", 0, rel);
    expect_error(elf.bytes(), ".relxdp", "symbol index 9999 is out of range", 0);
}

TEST(ObjectMalformed, RelocationAtNonLddwInstruction) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto rel = elf.rel(".relxdp", 0);
    rel.r_offset = 8;  // r6 = *(u32 *)(r1 + 4)
    elf.set_rel(".relxdp", 0, rel);
    expect_error(elf.bytes(), ".relxdp", "targets opcode 0x61, not lddw or call", 0);
}

TEST(ObjectMalformed, LddwRelocationAgainstANonMapSymbol) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    const auto license = elf.find_symbol("LICENSE");
    ASSERT_TRUE(license.has_value());
    auto rel = elf.rel(".relxdp", 0);
    const std::uint64_t at = rel.r_offset;
    rel.r_info = ELF64_R_INFO(*license, ELF64_R_TYPE(rel.r_info));
    elf.set_rel(".relxdp", 0, rel);
    expect_error(elf.bytes(), "xdp", "'LICENSE' in section 'license', which is not a map", at);
}

TEST(ObjectMalformed, SymbolInANonexistentSection) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    const auto index = elf.find_symbol("proto_count");
    ASSERT_TRUE(index.has_value());
    auto sym = elf.symbol(*index);
    sym.st_shndx = 500;
    elf.set_symbol(*index, sym);
    expect_error(elf.bytes(), ".symtab", "refers to section 500", *index * sizeof(Elf64_Sym));
}

TEST(ObjectMalformed, FunctionCrossingTheSectionEnd) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    const auto index = elf.find_symbol("xdp_parse");
    ASSERT_TRUE(index.has_value());
    auto sym = elf.symbol(*index);
    sym.st_size += 8;
    elf.set_symbol(*index, sym);
    expect_error(elf.bytes(), "xdp", "crosses the end", 0);
}

TEST(ObjectMalformed, UnknownLegacyMapType) {
    XBPF_LOAD_BYTES(bytes, "legacy_map");
    ElfPatcher elf(bytes);
    const auto sh = elf.shdr(elf.find("maps"));
    elf.put<std::uint32_t>(sh.sh_offset + 20, 99);  // legacy_hash.type
    expect_error(elf.bytes(), "maps", "map 'legacy_hash': unknown map type 99", 20);
}

TEST(ObjectMalformed, UnknownBtfMapType) {
    // __uint(type, BPF_MAP_TYPE_HASH) is a pointer to an ARRAY of 1 element: make every such array 200 long (only
    // __uint() fields use one-element arrays in this object).
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    std::size_t patched = 0;
    elf.for_each_btf_type([&](std::size_t pos, std::uint32_t kind, std::uint32_t, const std::string&) {
        if (kind == 3 && elf.get<std::uint32_t>(pos + 12 + 8) == 1) {
            elf.put<std::uint32_t>(pos + 12 + 8, 200);
            ++patched;
        }
    });
    ASSERT_GE(patched, 1u);
    expect_error(elf.bytes(), ".maps", "map 'proto_count': unknown map type 200", 0);
}

// Fuzzer finding: a kconfig extern whose BTF type is missing made libbpf's btf__align_of dereference null (libbpf
// 1.1 does not validate type references). Now: an error naming .kconfig.
TEST(ObjectMalformed, KconfigExternOfAMissingType) {
    XBPF_LOAD_BYTES(bytes, "externs");
    ElfPatcher elf(bytes);
    std::size_t patched = 0;
    elf.for_each_btf_type([&](std::size_t pos, std::uint32_t kind, std::uint32_t, const std::string& name) {
        if (kind == 14 && name == "LINUX_KERNEL_VERSION") {  // VAR: its type is at offset 8
            elf.put<std::uint32_t>(pos + 8, 0x7ffffff0);
            ++patched;
        }
    });
    ASSERT_EQ(patched, 1u);
    expect_error(elf.bytes(), ".kconfig", "extern 'LINUX_KERNEL_VERSION' has no usable size or alignment", 0);
}

// Fuzzer finding: an addend moved a .kconfig reference past the end of the .kconfig map.
TEST(ObjectMalformed, KconfigOffsetOutsideTheMap) {
    XBPF_LOAD_BYTES(bytes, "externs");
    ElfPatcher elf(bytes);
    const auto sh = elf.shdr(elf.find("tp_btf/task_newtask"));
    const auto rel = elf.rel(".reltp_btf/task_newtask", 0);  // LINUX_KERNEL_VERSION
    auto insn = elf.get<isa::RawInsn>(sh.sh_offset + rel.r_offset);
    insn.imm = 1 << 20;
    elf.put(sh.sh_offset + rel.r_offset, insn);
    expect_error(elf.bytes(), "tp_btf/task_newtask", "is outside .kconfig (13 bytes)", rel.r_offset);
}

// Fuzzer finding: a function address (lddw src=4) whose addend pointed into the middle of a function.
TEST(ObjectMalformed, FunctionAddressIntoTheMiddleOfAFunction) {
    XBPF_LOAD_BYTES(bytes, "subprogs");
    ElfPatcher elf(bytes);
    const auto sh = elf.shdr(elf.find("xdp"));
    std::optional<std::size_t> at;
    for (std::size_t r = 0; r < elf.shdr(elf.find(".relxdp")).sh_size / sizeof(Elf64_Rel); ++r) {
        const auto rel = elf.rel(".relxdp", r);
        if (elf.get<isa::RawInsn>(sh.sh_offset + rel.r_offset).opcode == 0x18) at = rel.r_offset;
    }
    ASSERT_TRUE(at.has_value());
    auto insn = elf.get<isa::RawInsn>(sh.sh_offset + *at);
    insn.imm += 8;
    elf.put(sh.sh_offset + *at, insn);
    expect_error(elf.bytes(), "xdp", "function address targets instruction", *at);
}

TEST(ObjectMalformed, TruncatedBtfExt) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    auto sh = elf.shdr(elf.find(".BTF.ext"));
    sh.sh_size = 30;
    elf.set_shdr(elf.find(".BTF.ext"), sh);
    expect_error(elf.bytes(), ".BTF.ext", "header length 32 is invalid", 4);
    sh.sh_size = 100;  // header intact, records cut
    elf.set_shdr(elf.find(".BTF.ext"), sh);
    expect_error(elf.bytes(), ".BTF.ext", "outside the section");
}

TEST(ObjectMalformed, CallIntoNowhere) {
    XBPF_LOAD_BYTES(bytes, "subprogs");
    ElfPatcher elf(bytes);
    // entry_one calls in_section_helper without a relocation (pc-relative). Find that call in section "socket".
    const auto sh = elf.shdr(elf.find("socket"));
    std::optional<std::size_t> at;
    for (std::size_t off = 0; off + 8 <= sh.sh_size; off += 8) {
        const auto insn = elf.get<isa::RawInsn>(sh.sh_offset + off);
        if (insn.opcode == 0x85 && insn.src == 1 && insn.imm > 0) at = off;
    }
    ASSERT_TRUE(at.has_value());
    auto insn = elf.get<isa::RawInsn>(sh.sh_offset + *at);
    insn.imm = 100000;
    elf.put(sh.sh_offset + *at, insn);
    expect_error(elf.bytes(), "socket", "not the start of a function", *at);
}

TEST(ObjectMalformed, LddwAtTheEndOfAFunction) {
    XBPF_LOAD_BYTES(bytes, "xdp_parser");
    ElfPatcher elf(bytes);
    // Shrink xdp_parse so that it ends between the two slots of its first map lddw.
    const auto first = elf.rel(".relxdp", 0);
    const auto index = elf.find_symbol("xdp_parse");
    auto sym = elf.symbol(*index);
    sym.st_size = first.r_offset + 8;
    elf.set_symbol(*index, sym);
    expect_error(elf.bytes(), "xdp", "has no second slot", first.r_offset);
}

// Every truncation is an error (the section header table is at the end of clang's output), never a crash.
TEST(ObjectMalformed, TruncationAtManyOffsets) {
    const QuietLibbpf quiet;
    for (const char* name : {"xdp_parser", "subprogs", "maps", "globals", "core"}) {
        XBPF_LOAD_BYTES(bytes, name);
        std::size_t errors = 0;
        const std::size_t step = std::max<std::size_t>(1, bytes.size() / 300);
        for (std::size_t len = 0; len < bytes.size(); len += step) {
            std::vector<std::uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(len));
            auto r = parse_object(cut, "cut.o");
            EXPECT_FALSE(r.has_value()) << name << " cut at " << len;
            if (!r) {
                ++errors;
                EXPECT_FALSE(r.error().message.empty());
            }
        }
        EXPECT_GT(errors, 0u);
    }
}

// Overwrite single bytes across whole objects: the parser must return (a value or an error) every time. Headers,
// symbol tables, relocations, BTF and BTF.ext are all hit; under ASan this checks every read stays in bounds.
TEST(ObjectMalformed, ByteCorruptionNeverCrashes) {
    const QuietLibbpf quiet;
    for (const char* name : {"xdp_parser", "subprogs", "maps", "globals", "tailcall", "core"}) {
        XBPF_LOAD_BYTES(bytes, name);
        std::size_t errors = 0;
        std::size_t runs = 0;
        for (std::size_t pos = 0; pos < bytes.size(); pos += 3) {
            for (std::uint8_t value : {std::uint8_t{0xff}, std::uint8_t{0x00}, std::uint8_t{0x80}}) {
                if (bytes[pos] == value) continue;
                std::vector<std::uint8_t> bad = bytes;
                bad[pos] = value;
                auto r = parse_object(bad, "bad.o");
                ++runs;
                if (!r) {
                    ++errors;
                    EXPECT_FALSE(r.error().message.empty());
                } else {
                    for (const ProgramSpec& p : r->programs) {
                        EXPECT_FALSE(p.insns.empty());
                        for (const LineInfo& li : p.line_info) EXPECT_LT(li.insn, p.insns.size());
                    }
                }
            }
        }
        EXPECT_GT(errors, 0u) << name;
        RecordProperty(std::string("corruptions_") + name, static_cast<int>(runs));
    }
}

}  // namespace
}  // namespace xbpf::object
